"""The grader's agent inside a notebook's kernel (``python -m nnlib.checks grade``).

Before the notebook runs, :func:`install` notes which function each ``check`` call was
given and takes a snapshot of the checker's modules. After the notebook ran,
:func:`report` says which function answers each exercise and what the notebook did to the
checker, and :func:`serve` forks a child that connects to the grader and serves calls of
one function. Nothing here decides a grade: the grader compares, in its own process, the
values that come back (as plain data) with its own oracles, so whatever the notebook did
to this kernel can change only what its functions return.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time

import nnlib.checks as checks

from . import core, isolation

_STATE = {"seen": {}, "snapshot": {}, "check": None, "resolved": {}, "pids": []}


def _modules():
    # by sys.modules: the package's attribute `progress` is the function, not the module
    names = ("nnlib.checks", "nnlib.checks.core", "nnlib.checks.progress",
             "nnlib.checks.isolation")
    return {name: sys.modules[name] for name in names if name in sys.modules}


def _snapshot():
    snap = {}
    for name, module in _modules().items():
        for key, value in vars(module).items():
            if not key.startswith("__"):
                snap[f"{name}.{key}"] = value
    for cls in (core.Tester, core.CheckResult):
        for key, value in vars(cls).items():
            snap[f"{cls.__module__}.{cls.__name__}.{key}"] = value
    for exercise_id, ex in core.EXERCISES.items():
        snap[f"oracle of {exercise_id}"] = ex.oracle
    for name in _modules():
        snap[f"sys.modules[{name!r}]"] = sys.modules.get(name)
    return snap


def install():
    checks._HOOKS.append(_on_check)
    _STATE["check"] = checks.check
    _STATE["snapshot"] = _snapshot()


def _on_check(exercise_id, fn, result):
    _STATE["seen"][exercise_id] = fn


def _names(fn):
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    names, stack = set(), [code]
    while stack:
        c = stack.pop()
        names |= set(c.co_names)
        stack += [k for k in c.co_consts if hasattr(k, "co_names")]
    return sorted(n for n in names if isinstance(n, str))[:200]


def report(path, exercise_ids):
    """Write what the grader needs to know, as JSON, to ``path``."""
    main = vars(sys.modules["__main__"])
    functions = {}
    for exercise_id in exercise_ids:
        ex = core.EXERCISES[exercise_id]
        fn, source = _STATE["seen"].get(exercise_id), "check"
        if fn is None:
            source = "name"
            fn = next((main[n] for n in ex.function_names if callable(main.get(n))), None)
        _STATE["resolved"][exercise_id] = fn
        functions[exercise_id] = {"found": fn is not None, "source": source,
                                  "name": str(getattr(fn, "__name__", ""))[:80],
                                  "refs": _names(fn) if fn is not None else []}
    now = _snapshot() if _STATE["snapshot"] else {}
    patched = sorted(k for k, v in _STATE["snapshot"].items() if now.get(k) is not v)
    patched += sorted(set(now) - set(_STATE["snapshot"]))
    check = main.get("check")
    info = {"functions": functions,
            "check_redefined": check is not None and check is not _STATE["check"],
            "patched": patched[:20]}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(info, f)


def serve(exercise_id, address, token):
    """Fork a child that connects to the grader at ``address`` and serves calls of the
    function resolved for ``exercise_id``."""
    fn = _STATE["resolved"].get(exercise_id)
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET

    def connect(pid):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.connect(address)
        isolation.send_msg(sock, json.dumps({"token": token, "pid": pid}).encode())
        return sock

    for pid in list(_STATE["pids"]):
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0]:
                _STATE["pids"].remove(pid)
    if isolation.fork_available():
        _STATE["pids"].append(isolation.fork_server(fn, connect=connect))
    else:  # pragma: no cover - Windows / macOS: serve from a thread of this kernel
        threading.Thread(target=_serve_thread, args=(fn, connect), daemon=True).start()
        time.sleep(0.01)


def _serve_thread(fn, connect):  # pragma: no cover - platforms without fork
    import pickle

    sock = connect(None)
    while True:
        data = isolation.recv_msg(sock)
        if data is None:
            return
        args, kwargs, options = isolation._unpack_call(pickle.loads(data))
        isolation.send_msg(sock, pickle.dumps(isolation.call_once(fn, args, kwargs,
                                                                  **options), 4))
