"""Run a learner's function where it can neither hang, crash nor fool the checker.

On Linux every check forks one child process that *serves calls*: the checker (the
parent) sends the arguments, the child runs the learner's function and sends back, as
plain data, what it returned, what it printed and what its array arguments look like
afterwards. The parent alone compares; it waits with a deadline and kills the child
(``SIGKILL``, the whole process group) when the deadline passes, so no ``try/except``,
long C-level call (``sum(range(10**12))``), worker thread, ``sys.exit`` or ``os._exit``
in learner code can escape the limit or end the caller. What the child sends is decoded
by a loader that builds only numbers, strings, containers and plain NumPy arrays:
anything else arrives as an :class:`Opaque` description (type name, shape, a short repr),
so no learner object -- and no learner code -- ever runs in the checker's process.

Where ``fork`` is not available (Windows, macOS, Pyodide) a call runs in a worker
thread that is abandoned, after an asynchronous ``_Timeout``, when the limit passes; the
values are sanitised the same way.

The grader reuses :func:`serve` inside a notebook's kernel (see ``_bridge``) and the
parent side, :class:`Channel`, over a Unix socket.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import ctypes
import io
import math
import os
import pickle
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import warnings

import numpy as np

__all__ = ["Opaque", "Outcome", "make_runner", "serve", "Channel", "encode", "decode"]

#: Largest array (bytes) sent back whole; larger ones arrive as their shape and dtype.
ARRAY_BYTES = 32 * 2**20
#: Largest message accepted from a child.
MESSAGE_BYTES = 160 * 2**20
#: Printed output kept per call (the rest is counted, not kept).
PRINT_CHARS = 2000
_HEADER = struct.Struct("!Q")
_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # .../nnlib


class _Timeout(BaseException):
    """Injected into a runaway worker thread (fallback runner). A BaseException, so a
    learner's ``except Exception`` does not swallow it."""


# ------------------------------------------------------------------ values as plain data

class Opaque:
    """A learner value that is not a number, string, container or plain array: only its
    description crosses over (``type_name``, ``text``, and ``shape`` / ``dtype`` /
    ``length`` where the child could tell)."""

    def __init__(self, type_name, text="", shape=None, dtype=None, length=None, why=""):
        self.type_name, self.text = str(type_name)[:80], str(text)[:200]
        self.shape, self.dtype, self.length, self.why = shape, dtype, length, str(why)[:80]

    def __repr__(self):
        return self.text or f"<{self.type_name}>"

    def describe(self):
        """'a generator', 'an array of shape (3000, 3000), dtype float64 (too large)'..."""
        bits = [_article("array" if self.type_name == "ndarray" else self.type_name)]
        if self.shape is not None:
            bits.append(f"of shape {self.shape}")
        if self.dtype:
            try:
                bits.append(f"dtype {np.dtype(self.dtype).name}")
            except TypeError:
                bits.append(f"dtype {self.dtype}")
        if self.length is not None and self.shape is None:
            bits.append(f"of length {self.length}")
        text = " ".join(bits[:2]) + (", " + ", ".join(bits[2:]) if bits[2:] else "")
        return text + (f" ({self.why})" if self.why else "")


def _article(name):
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name


def _type_name(value):
    try:
        return type.__dict__["__name__"].__get__(type(value))
    except Exception:  # pragma: no cover - exotic metaclasses
        return "object"


def _short_repr(value, limit=80):
    try:
        text = repr(value)
    except BaseException:
        text = f"<{_type_name(value)}>"
    text = str(text) if isinstance(text, str) else f"<{_type_name(value)}>"
    return text if len(text) <= limit else text[:limit - 1] + "…"


_SCALAR_KINDS = "biufc"
_ARRAY_KINDS = "biufcUSmM"


def encode(value, budget=None):
    """``value`` as a tree of primitives (runs in the child: may call learner code)."""
    state = {"budget": MESSAGE_BYTES // 2 if budget is None else budget, "seen": set()}
    return _enc(value, 0, state)


def _enc(v, depth, state):
    t = type(v)
    if v is None or t in (bool, float, str, bytes) or t is int:
        if t is int and v.bit_length() > 4096:
            return ("o", "int", "a very large int", None, None, None, "")
        if t in (str, bytes) and len(v) > 2000:
            return v[:2000]
        return v
    if t is complex:
        return ("c", v.real, v.imag)
    if depth > 24:
        return ("o", _type_name(v), "", None, None, None, "nested too deeply")
    try:
        if isinstance(v, np.generic):
            dt = v.dtype
            if dt.kind in _SCALAR_KINDS:
                return ("g", dt.str, np.asarray(v).tobytes())
            return ("o", _type_name(v), _short_repr(v), None, dt.str, None, "")
        if isinstance(v, np.ndarray):
            return _enc_array(v, depth, state)
        if isinstance(v, (bool, int, float, str, complex)):     # subclasses: their base value
            for base in (bool, int, float, str, complex):
                if isinstance(v, base):
                    return _enc(base(v) if base is not str else str.__str__(v), depth, state)
        if t in (list, tuple, set, frozenset, dict):
            if id(v) in state["seen"]:
                return ("o", t.__name__, "", None, None, None, "it contains itself")
            if len(v) > 100_000:
                return ("o", t.__name__, "", None, None, len(v), "too long")
            state["seen"].add(id(v))
            try:
                if t is dict:
                    return ("d", [(_enc(k, depth + 1, state), _enc(x, depth + 1, state))
                                  for k, x in list(dict.items(v))])
                tag = {list: "l", tuple: "t", set: "s", frozenset: "s"}[t]
                return (tag, [_enc(x, depth + 1, state) for x in list(v)])
            finally:
                state["seen"].discard(id(v))
        shape = getattr(v, "shape", None)
        shape = tuple(int(s) for s in shape) if isinstance(shape, tuple) and all(
            type(s) is int for s in shape) else None
        try:
            length = len(v) if hasattr(type(v), "__len__") else None
            length = length if type(length) is int else None
        except BaseException:
            length = None
        return ("o", _type_name(v), _short_repr(v), shape, None, length, "")
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # a learner's __len__ or __repr__ that raises
        return ("o", _type_name(v), "", None, None, None, f"unreadable: {_type_name(e)}")


def _enc_array(v, depth, state):
    a = np.ndarray.view(v, np.ndarray)
    dt, shape = a.dtype, tuple(int(s) for s in a.shape)
    if dt.kind in _ARRAY_KINDS and dt.fields is None:
        if a.nbytes > min(ARRAY_BYTES, state["budget"]):
            return ("o", "ndarray", "", shape, dt.str, None, "too large to compare")
        state["budget"] -= a.nbytes
        return ("a", dt.str, shape, np.ascontiguousarray(a).tobytes())
    if dt.kind == "O":
        if a.size > 10_000:
            return ("o", "ndarray", "", shape, "object", None, "too large to compare")
        return ("ao", shape, [_enc(x, depth + 1, state) for x in a.reshape(-1).tolist()])
    return ("o", "ndarray", "", shape, str(dt), None, "")


def decode(tree):
    """The value a tree stands for (runs in the checker: builds only plain values)."""
    try:
        return _dec(tree, 0)
    except Exception:
        return Opaque("value", why="unreadable")


def _dec(x, depth):
    if depth > 40:
        return Opaque("value", why="nested too deeply")
    if x is None or type(x) in (bool, int, float, str, bytes):
        return x
    if type(x) is not tuple or not x or type(x[0]) is not str:
        return Opaque("value", why="unreadable")
    tag = x[0]
    if tag == "c":
        return complex(float(x[1]), float(x[2]))
    if tag == "g":
        dt = np.dtype(str(x[1]))
        if dt.kind not in _SCALAR_KINDS or len(x[2]) != dt.itemsize:
            return Opaque("value", why="unreadable")
        return np.frombuffer(bytes(x[2]), dtype=dt)[0]
    if tag == "a":
        dt, shape = np.dtype(str(x[1])), _shape(x[2])
        if dt.kind not in _ARRAY_KINDS or dt.fields is not None or \
                len(x[3]) != math.prod(shape) * dt.itemsize:
            return Opaque("value", why="unreadable")
        return np.frombuffer(bytes(x[3]), dtype=dt).reshape(shape).copy()
    if tag == "ao":
        shape = _shape(x[1])
        items = [_dec(i, depth + 1) for i in x[2]]
        if len(items) != math.prod(shape):
            return Opaque("value", why="unreadable")
        out = np.empty(len(items), dtype=object)
        out[:] = items
        return out.reshape(shape)
    if tag in ("l", "t", "s"):
        items = [_dec(i, depth + 1) for i in x[1]]
        if tag == "s":
            return {i for i in items if _hashable(i)}
        return items if tag == "l" else tuple(items)
    if tag == "d":
        out = {}
        for k, v in x[1]:
            k = _dec(k, depth + 1)
            if _hashable(k):
                out[k] = _dec(v, depth + 1)
        return out
    if tag == "o":
        shape = _shape(x[3]) if x[3] is not None else None
        return Opaque(x[1], x[2], shape, x[4], x[5] if type(x[5]) is int else None, x[6])
    return Opaque("value", why="unreadable")


def _shape(s):
    if type(s) is not tuple or len(s) > 32 or not all(type(d) is int and d >= 0 for d in s):
        raise ValueError("bad shape")
    return s


def _hashable(v):
    try:
        hash(v)
    except TypeError:
        return False
    return True


class _NoGlobals(pickle.Unpickler):
    """Loads numbers, strings, bytes and containers; refuses every class and function."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"refused {module}.{name}")


def _loads_plain(data):
    return _NoGlobals(io.BytesIO(data)).load()


# ------------------------------------------------------------------ one call

class Outcome:
    """What one call of the learner's function did.

    ``kind``: "returned", "not attempted" (NotImplementedError), "raised", "exit"
    (SystemExit), "timeout", "died" (the process ended without an answer), "interrupted".
    ``steps``: for a traced call, how many Python lines and calls it ran (else None).
    """

    def __init__(self, kind, value=None, after=None, printed="", printed_total=0,
                 error=None, detail="", steps=None):
        self.kind, self.value, self.after = kind, value, after
        self.printed, self.printed_total = printed, printed_total
        self.error = error or {}
        self.detail = detail
        self.steps = steps

    @classmethod
    def from_tree(cls, tree):
        if type(tree) is not dict:
            return cls("died", detail="it sent an unreadable answer")
        kind = tree.get("kind")
        if kind not in ("returned", "not attempted", "raised", "exit", "interrupted"):
            return cls("died", detail="it sent an unreadable answer")
        error = tree.get("error") if type(tree.get("error")) is dict else {}
        error = {k: str(error.get(k, ""))[:400] for k in ("type", "message", "line")}
        printed = tree.get("printed") if type(tree.get("printed")) is str else ""
        total = tree.get("printed_total") if type(tree.get("printed_total")) is int else 0
        steps = tree.get("steps") if type(tree.get("steps")) is int else None
        return cls(kind, decode(tree.get("value")), decode(tree.get("after")),
                   printed[:PRINT_CHARS], total, error, str(tree.get("detail", ""))[:200],
                   steps)


class _Capture(io.TextIOBase):
    """A stdout that keeps the first PRINT_CHARS characters and counts the rest."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.parts, self.kept, self.total = [], 0, 0

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        self.total += len(s)
        if self.kept < PRINT_CHARS:
            piece = s[:PRINT_CHARS - self.kept]
            self.parts.append(piece)
            self.kept += len(piece)
        return len(s)

    def text(self):
        return "".join(self.parts)


def _learner_line(tb):
    """The last traceback frame outside nnlib: the learner's line that raised."""
    try:
        frames = [f for f in traceback.extract_tb(tb)
                  if not os.path.abspath(f.filename).startswith(_HERE)]
    except Exception:
        return ""
    if not frames:
        return ""
    f = frames[-1]
    return f"line {f.lineno}: {f.line}" if f.line else f"line {f.lineno} of {f.filename}"


def _exception_text(e):
    try:
        text = str(e)
    except BaseException:
        text = ""
    text = " ".join(text.split()) if isinstance(text, str) else ""
    return text if len(text) <= 300 else text[:299] + "…"


def _step_counter():
    """A trace function that counts the Python lines and calls it sees, and its count.

    A Python loop over the rows of an array runs at least one line per row, so the count
    grows with the number of rows; vectorised NumPy code runs the same few lines whatever
    the size. Unlike a timing, the count does not depend on how loaded the machine is.
    """
    count = [0]

    def tracer(frame, event, arg):
        count[0] += 1
        return tracer

    return count, tracer


def call_once(fn, args, kwargs, capture=None, trace=False):
    """Run ``fn`` on (already private copies of) the arguments; an outcome tree. With
    ``trace``, the tree's "steps" counts the Python lines and calls the call ran."""
    if capture is not None:
        capture.reset()
    tree = {"kind": "returned"}
    count, tracer = _step_counter()
    try:
        previous = sys.gettrace()
        if trace:
            sys.settrace(tracer)
        try:
            value = fn(*args, **kwargs)
        finally:
            if trace:
                sys.settrace(previous)
        if trace:
            tree["steps"] = count[0]
        tree["value"] = encode(value)
    except NotImplementedError:
        tree = {"kind": "not attempted"}
    except SystemExit as e:
        tree = {"kind": "exit", "error": {"type": "SystemExit",
                                          "message": _short_repr(e.code, 40)}}
    except KeyboardInterrupt:
        tree = {"kind": "interrupted"}
    except _Timeout:
        raise
    except BaseException as e:  # the learner's bug: contained, described
        tree = {"kind": "raised", "error": {"type": _type_name(e),
                                            "message": _exception_text(e),
                                            "line": _learner_line(e.__traceback__)}}
    try:
        tree["after"] = encode([args, kwargs])
    except BaseException:
        tree["after"] = None
    if capture is not None:
        tree["printed"], tree["printed_total"] = capture.text(), capture.total
    return tree


# ------------------------------------------------------------------ framing

def send_msg(sock, payload):
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def recv_msg(sock, deadline=None, limit=MESSAGE_BYTES):
    """One framed message, or None at end of stream. Raises TimeoutError after
    ``deadline`` (a ``time.monotonic()`` value) and ValueError for an oversized one."""
    header = _recv_exact(sock, _HEADER.size, deadline)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > limit:
        raise ValueError(f"message of {size} bytes")
    body = _recv_exact(sock, size, deadline)
    if body is None:
        return None
    return body


def _recv_exact(sock, n, deadline):
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            sock.settimeout(remaining)
        else:
            sock.settimeout(None)
        try:
            chunk = sock.recv(min(n - got, 1 << 20))
        except TimeoutError:
            raise TimeoutError from None
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


# ------------------------------------------------------------------ the child's side

def _quiet_child(capture):
    """In a forked child: private stdout/stderr, no stdin, no notebook display."""
    sys.stdout = sys.stderr = capture
    with contextlib.suppress(Exception):   # a crash is reported by the verdict, not dumped
        import faulthandler
        faulthandler.disable()

    def no_input(*args, **kwargs):
        raise RuntimeError("input() cannot be used while your function is checked")

    builtins.input = no_input
    sys.stdin = io.StringIO()
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, signal.default_int_handler)
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.show = lambda *a, **k: None
    ipython = sys.modules.get("IPython")
    try:
        shell = ipython.get_ipython() if ipython is not None else None
        if shell is not None:
            shell.display_pub.publish = lambda *a, **k: None
    except Exception:
        pass


def _unpack_call(message):
    """(args, kwargs[, options]) as sent by :meth:`Channel.call`."""
    args, kwargs = message[0], message[1]
    options = message[2] if len(message) > 2 else {}
    return args, kwargs, {"trace": bool(options.get("trace", False))}


def serve(sock, fn):
    """Answer calls on ``sock`` until it closes (runs in the child). Never returns."""
    capture = _Capture()
    try:
        _quiet_child(capture)
        while True:
            data = recv_msg(sock)
            if data is None:
                break
            args, kwargs, options = _unpack_call(pickle.loads(data))  # from the checker
            tree = call_once(fn, args, kwargs, capture, **options)
            send_msg(sock, pickle.dumps(tree, protocol=4))
    except BaseException:
        pass
    finally:
        os._exit(0)


# ------------------------------------------------------------------ the checker's side

class Channel:
    """The checker's end of a serving child: send a call, wait for its outcome with a
    deadline, kill the child's process group."""

    def __init__(self, sock, pid):
        self.sock, self.pid = sock, pid

    def call(self, args, kwargs, limit, trace=False):
        try:
            send_msg(self.sock, pickle.dumps((args, kwargs, {"trace": trace}), protocol=4))
        except OSError:
            return self._ended("before the call")
        deadline = time.monotonic() + limit
        try:
            data = recv_msg(self.sock, deadline)
        except TimeoutError:
            self.close()
            return Outcome("timeout")
        except (ValueError, OSError):
            self.close()
            return Outcome("died", detail="it sent more than the checker accepts")
        if data is None:
            return self._ended("during the call")
        try:
            tree = _loads_plain(data)
        except Exception:
            self.close()
            return Outcome("died", detail="it sent an unreadable answer")
        return Outcome.from_tree(tree)

    def _ended(self, when):
        status = self._reap()
        self.close()
        return Outcome("died", detail=status or f"the process ended {when}")

    def _reap(self):
        if self.pid is None:
            return ""
        for _ in range(50):
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return ""
            if pid:
                self.pid = None
                if os.WIFSIGNALED(status):
                    sig = os.WTERMSIG(status)
                    try:
                        name = signal.Signals(sig).name
                    except ValueError:
                        name = str(sig)
                    return f"the process was killed by {name}"
                return f"the process exited with code {os.WEXITSTATUS(status)} " \
                       f"(os._exit or a crash)"
            time.sleep(0.01)
        return ""

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()
        if self.pid is not None:
            _kill_group(self.pid)
            _reap_later(self.pid)
            self.pid = None


#: Killed children not reaped yet: tearing a process down takes a few milliseconds, so
#: a check does not wait for it; the next check (or interpreter exit) collects them.
_PENDING = []


def _reap_later(pid):
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return
    if not done:
        _PENDING.append(pid)


def _reap_pending(block=False):
    for pid in list(_PENDING):
        try:
            done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            done = True
        if done:
            with contextlib.suppress(ValueError):   # another thread reaped it
                _PENDING.remove(pid)


atexit.register(_reap_pending, True)


def _kill_group(pid):
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            kill()


def fork_available():
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def fork_server(fn, connect=None):
    """Fork a child serving ``fn``. Without ``connect`` the child is wired to a socket
    pair and a :class:`Channel` is returned; with ``connect(child_pid) -> socket`` the
    child builds its own connection (the grader's bridge) and its pid is returned."""
    _reap_pending()
    if connect is None:
        parent_sock, child_sock = socket.socketpair()
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() in a multi-threaded process (a notebook
        # kernel always is); the child only runs the learner's function and _exits.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: never returns to the caller's stack
        try:
            with contextlib.suppress(OSError):
                os.setpgid(0, 0)
            if connect is None:
                parent_sock.close()
                sock = child_sock
            else:
                sock = connect(os.getpid())
            serve(sock, fn)
        finally:
            os._exit(0)
    if connect is not None:
        return pid
    child_sock.close()
    return Channel(parent_sock, pid)


class ForkRunner:
    """Each check: one child serving the learner's function (started on first call)."""

    def __init__(self, fn):
        self.fn, self.channel = fn, None

    def call(self, args, kwargs, limit, trace=False):
        if self.channel is None or self.channel.pid is None:
            self.channel = fork_server(self.fn)
        return self.channel.call(args, kwargs, limit, trace)

    def close(self):
        if self.channel is not None:
            self.channel.close()


class ThreadRunner:
    """Fallback where fork is not available: a worker thread per call, abandoned (after
    an asynchronous ``_Timeout``) when the limit passes."""

    def __init__(self, fn):
        self.fn = fn

    def call(self, args, kwargs, limit, trace=False):
        args, kwargs = pickle.loads(pickle.dumps((args, kwargs), protocol=4))
        box = {}

        def target():
            with contextlib.suppress(_Timeout):
                box["tree"] = call_once(self.fn, args, kwargs, trace=trace)

        worker = threading.Thread(target=target, daemon=True, name="nnlib-check")
        try:
            worker.start()
        except RuntimeError:  # no threads (Pyodide): no limit can apply
            target()
        worker.join(limit)
        if worker.is_alive():
            _async_raise(worker, _Timeout)
            worker.join(0.2)
            return Outcome("timeout")
        if "tree" not in box:
            return Outcome("died", detail="the call ended without an answer")
        try:
            tree = _loads_plain(pickle.dumps(box["tree"], protocol=4))
        except Exception:
            return Outcome("died", detail="its answer could not be read")
        return Outcome.from_tree(tree)

    def close(self):
        pass


def _async_raise(thread, exc_type):
    with contextlib.suppress(Exception):  # not CPython: no way to stop the thread
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                                   ctypes.py_object(exc_type))


def make_runner(fn, isolation=None):
    """The runner for this platform: fork where possible, else threads."""
    isolation = isolation or ("fork" if fork_available() else "thread")
    return ForkRunner(fn) if isolation == "fork" else ThreadRunner(fn)
