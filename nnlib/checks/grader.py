"""Grade exercise notebooks headless: ``python -m nnlib.checks grade PATH... [--json]``.

For each notebook the grader

1. runs it top to bottom in a fresh kernel (a time limit per cell; a cell that raises does
   not stop the next; a cell that runs past the limit is interrupted, and if it cannot be
   interrupted -- a long C-level call -- or it kills the kernel, the kernel is restarted
   and the notebook re-run without that cell);
2. then judges every exercise of the notebook's chapter by re-checking the learner's
   function itself: the kernel only *runs* the function (in a child process) and sends
   back what it returned as plain data, and the grader compares that, in its own process,
   with its own oracles. The grader never runs learner code and imported its checker
   before any notebook ran, so a notebook that redefines ``check``, patches
   ``nnlib.checks`` or writes the progress file cannot change a grade -- and the
   scorecard says what it tried.

A notebook that cannot be read or run, or that belongs to no chapter, is a row of the
scorecard like any other; the others are graded all the same. The exit code is 0 only
if every exercise of every notebook passed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import re
import secrets
import shutil
import socket
import sys
import tempfile
import time
import warnings
from pathlib import Path

from . import isolation
from .core import EXERCISES, CheckResult, run_check, time_limit
from .markers import check_ids
from .progress import MARKS, _parse

__all__ = ["grade_notebook", "scorecard", "main"]

KERNEL_START = 60.0


# ------------------------------------------------------------------ which exercises

def _notebooks(paths):
    """(path, problem) for every notebook named or found in a folder."""
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.ipynb")
                           if ".ipynb_checkpoints" not in p.parts)
            if not found:
                yield path, "no notebooks in this folder"
            for p in found:
                yield p, None
        elif not path.exists():
            yield path, "no such file or folder"
        else:
            yield path, None


def _code_cells(nb):
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def chapter_ids(path, nb=None):
    """The exercises a notebook answers: its chapter by file-name number (03_... ->
    chapter 03), and the chapters of every exercise id its ``check`` calls name."""
    chapters = set()
    prefix = Path(path).stem.split("_", 1)[0]
    chapters |= {e.chapter for e in EXERCISES.values() if e.chapter.split("_", 1)[0] == prefix}
    if nb is not None:
        for _, cell in _code_cells(nb):
            for exercise_id in check_ids(cell.source):
                if exercise_id in EXERCISES:
                    chapters.add(EXERCISES[exercise_id].chapter)
    return [e.id for e in EXERCISES.values() if e.chapter in chapters]


_TAMPER_PATTERNS = [
    (re.compile(r"^\s*(def\s+check\s*\(|check\s*=[^=]|from\s+\S+\s+import\s+.*\bas\s+check\b)",
                re.M), "redefines check()"),
    (re.compile(r"nnlib\.checks[\w.]*\.\w+\s*=[^=]|setattr\(\s*(nnlib|core|checks|progress)\b"
                r"|\b(core|checks|progress|isolation)\.(run_check|Tester|CheckResult|record|"
                r"EXERCISES|strict|time_limit|check)\b[\w.]*\s*=[^=]"),
     "patches the checker"),
    (re.compile(r"NNLIB_PROGRESS|nnlib_progress"), "touches the progress record"),
]


def _static_tampering(nb):
    found = []
    for _, cell in _code_cells(nb):
        for pattern, what in _TAMPER_PATTERNS:
            if what not in found and pattern.search(cell.source):
                found.append(what)
    return found


# ------------------------------------------------------------------ the kernel

class KernelSession:
    """A kernel for one notebook: start, run code with a deadline, interrupt, kill."""

    def __init__(self, folder, env, log):
        self.folder, self.env, self.log = folder, env, log
        self.km = self.kc = None

    def start(self):
        from jupyter_client import KernelManager

        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(cwd=str(self.folder), env=self.env, stdout=self.log,
                             stderr=self.log)
        _announce("K", self.pid)
        self.kc = self.km.blocking_client()
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=KERNEL_START)
        except RuntimeError as e:
            raise RuntimeError(f"the kernel did not start ({e})") from None

    @property
    def pid(self):
        return getattr(getattr(self.km, "provisioner", None), "pid", None)

    def alive(self):
        try:
            return self.km is not None and self.km.is_alive()
        except Exception:
            return False

    def run(self, code, timeout):
        """``{"status": "ok" | "error" | "timeout" | "stuck" | "dead", "ename", "evalue"}``:
        "timeout" = stopped by an interrupt, "stuck" = did not stop (kernel killed)."""
        msg_id = self.kc.execute(code, store_history=False, allow_stdin=False,
                                 stop_on_error=False)
        status = self._wait(msg_id, time.monotonic() + timeout)
        if status["status"] != "timeout":
            return status
        with contextlib.suppress(Exception):
            self.km.interrupt_kernel()
        after = self._wait(msg_id, time.monotonic() + 5)
        if after["status"] in ("ok", "error"):
            return {"status": "timeout"}
        self.kill()
        return {"status": "stuck" if after["status"] == "timeout" else "dead"}

    def _wait(self, msg_id, deadline):
        result = {"status": "ok"}
        while True:
            if not self.alive():
                return {"status": "dead"}
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return {"status": "timeout"}
            try:
                msg = self.kc.get_iopub_msg(timeout=min(0.2, remaining))
            except queue.Empty:
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            content = msg.get("content", {})
            if msg["msg_type"] == "error":
                result = {"status": "error", "ename": str(content.get("ename", "")),
                          "evalue": str(content.get("evalue", ""))}
            elif msg["msg_type"] == "status" and content.get("execution_state") == "idle":
                with contextlib.suppress(Exception):
                    while True:
                        self.kc.get_shell_msg(timeout=0)
                return result

    def kill(self):
        if self.kc is not None:
            with contextlib.suppress(Exception):
                self.kc.stop_channels()
        if self.km is not None:
            with contextlib.suppress(Exception):
                self.km.shutdown_kernel(now=True)
        self.km = self.kc = None


# ------------------------------------------------------------------ judging

class _Remote:
    """Stands for the learner's function in the grader: calls go through a channel."""

    def __init__(self, name):
        self.__name__ = name or "function"

    def __call__(self, *args, **kwargs):  # pragma: no cover - never called directly
        raise RuntimeError("a remote function is called through its runner")


class _ChannelRunner:
    def __init__(self, channel):
        self.channel = channel

    def call(self, args, kwargs, limit, trace=False):
        return self.channel.call(args, kwargs, limit, trace)

    def close(self):
        self.channel.close()


class _RemoteChannel(isolation.Channel):
    """A channel to a child of the notebook's kernel: killed by pid only once the pid is
    known to be that kernel's child (never a process group the grader is in)."""

    def __init__(self, sock, pid, kernel_pid):
        super().__init__(sock, pid if _is_child_of(pid, kernel_pid) else None)

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()
        if self.pid is not None:
            with contextlib.suppress(OSError):
                if os.getpgid(self.pid) == self.pid != os.getpgrp():
                    os.killpg(self.pid, 9)
            with contextlib.suppress(OSError):
                os.kill(self.pid, 9)
            self.pid = None

    def _reap(self):
        return ""


def _is_child_of(pid, parent):
    if not isinstance(pid, int) or pid <= 1 or pid == os.getpid() or parent is None:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[1]) == parent
    except (OSError, ValueError, IndexError):
        return False


def _connect_server(listener, token, deadline):
    listener.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        sock, _ = listener.accept()
    except (TimeoutError, OSError):
        return None, None
    try:
        hello = json.loads(isolation.recv_msg(sock, deadline, limit=4096) or b"{}")
    except (TimeoutError, ValueError, OSError):
        sock.close()
        return None, None
    if not isinstance(hello, dict) or hello.get("token") != token:
        sock.close()
        return None, None
    return sock, hello.get("pid")


class _Judge:
    """Runs one notebook in a kernel and re-checks its functions."""

    def __init__(self, path, nb, ids, cell_timeout, workdir):
        self.path, self.nb, self.ids = path, nb, ids
        self.cell_timeout, self.workdir = cell_timeout, workdir
        self.progress_file = workdir / "progress.json"
        self.log = open(workdir / "kernel.log", "w")  # noqa: SIM115 - closed in close()
        self.session = None
        self.skipped, self.stopped, self.errors, self.cell_notes = {}, {}, {}, []

    def close(self):
        if self.session is not None:
            self.session.kill()
        self.log.close()

    def _env(self):
        env = dict(os.environ)
        for key in ("NNLIB_STRICT", "NBGRADER_EXECUTION", "NBGRADER_VALIDATING"):
            env.pop(key, None)
        env.update(NNLIB_PROGRESS=str(self.progress_file), MPLBACKEND="Agg",
                   PYDEVD_DISABLE_FILE_VALIDATION="1")
        return env

    def run_notebook(self):
        """Run every code cell, restarting without a cell that hangs or kills the
        kernel (at most three times). Returns False if the kernel cannot run at all."""
        cells = _code_cells(self.nb)
        for _attempt in range(4):
            if self.session is not None:
                self.session.kill()
            self.session = KernelSession(self.path.parent, self._env(), self.log)
            try:
                self.session.start()
            except Exception as e:
                self.cell_notes.append(f"the kernel did not start: {e}")
                return False
            setup = self.session.run("import nnlib.checks._bridge as _nnlib_bridge\n"
                                     "_nnlib_bridge.install()", KERNEL_START)
            if setup["status"] != "ok":
                self.cell_notes.append("the kernel could not import nnlib.checks")
                return False
            self.errors, self.stopped = {}, {}
            restart = False
            for index, cell in cells:
                if index in self.skipped or not cell.source.strip():
                    continue
                _announce("C", index + 1)
                out = self.session.run(cell.source, self.cell_timeout)
                if out["status"] == "error" and out.get("ename") != "NotImplementedError":
                    self.errors[index] = _one_line(f"{out['ename']}: {out['evalue']}")[:160]
                elif out["status"] == "timeout":
                    self.stopped[index] = f"still running after {self.cell_timeout:g} s " \
                                          f"(interrupted)"
                elif out["status"] in ("stuck", "dead"):
                    self.skipped[index] = (
                        f"still running after {self.cell_timeout:g} s and it did not stop "
                        f"when interrupted" if out["status"] == "stuck" else
                        "it ended the kernel (os._exit or a crash)")
                    restart = True
                    break
            if not restart:
                _announce("C", 0)
                return True
        self.cell_notes.append("the notebook kept stopping its kernel; gave up")
        return False

    def bridge_report(self):
        path = self.workdir / "report.json"
        out = self.session.run(f"_nnlib_bridge.report({str(path)!r}, {self.ids!r})", 60)
        try:
            info = json.loads(path.read_text()) if out["status"] == "ok" else {}
        except (OSError, ValueError):
            info = {}
        return info if isinstance(info, dict) else {}

    def judge(self, exercise_id, name, listener):
        """Re-check one exercise; a CheckResult (the kernel serves, the grader compares)."""
        token = secrets.token_hex(16)
        out = self.session.run(f"_nnlib_bridge.serve({exercise_id!r}, "
                               f"{listener.getsockname()!r}, {token!r})", 30)
        if out["status"] != "ok":
            return CheckResult(exercise_id, "failed", "could not be re-checked",
                               [f"the notebook's kernel did not start serving it "
                                f"({out.get('ename', out['status'])})."])
        sock, pid = _connect_server(listener, token, time.monotonic() + 30)
        if sock is None:
            return CheckResult(exercise_id, "failed", "could not be re-checked",
                               ["the notebook's kernel did not answer."])
        channel = _RemoteChannel(sock, pid, self.session.pid)
        return run_check(exercise_id, _Remote(name), runner=_ChannelRunner(channel),
                         helpers=False)


def _one_line(text):
    return " ".join(str(text).split())


def _listener(workdir):
    if hasattr(socket, "AF_UNIX"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(workdir / "judge.sock"))
    else:  # pragma: no cover - Windows
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    return sock


def _read_notebook(path):
    import nbformat

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read it ({type(e).__name__}: {e})") from None
    try:
        raw = json.loads(text)
    except ValueError as e:
        raise ValueError(f"not a notebook (invalid JSON: {e})") from None
    try:
        with warnings.catch_warnings():      # nbformat's own notes on old or odd files
            warnings.simplefilter("ignore")
            nb = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ValueError(f"not a notebook ({first[:120]})") from None
    if not isinstance(nb.get("cells"), list):
        raise ValueError("not a notebook (no cells)")
    for number, cell in enumerate(nb.cells, start=1):    # what grading relies on, leniently
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown",
                                                                       "raw"):
            raise ValueError(f"not a notebook (cell {number} is not a code, markdown or raw "
                             f"cell)")
        if not isinstance(cell.get("source"), str):
            raise ValueError(f"not a notebook (cell {number} has no text source)")
    return nb


def grade_notebook(path, timeout=120):
    """Run and judge one notebook. Returns a report dict (see ``--json``)."""
    path = Path(path)
    report = {"notebook": str(path), "status": "graded", "reason": "", "exercises": {},
              "reasons": {}, "errors": [], "notes": [], "passed": 0, "total": 0}
    try:
        nb = _read_notebook(path)
    except ValueError as e:
        return {**report, "status": "could not run", "reason": str(e)}
    ids = chapter_ids(path, nb)
    if not ids:
        return {**report, "status": "no exercises",
                "reason": "it belongs to no chapter: its name does not start with the "
                          "number of a chapter with exercises (e.g. 03_activations.ipynb) "
                          "and it checks no known exercise id"}
    workdir = Path(tempfile.mkdtemp(prefix="nnlib-grade-"))
    judge = _Judge(path.resolve(), nb, ids, timeout, workdir)
    results = {}
    try:
        ran = judge.run_notebook()
        if not ran:
            report.update(status="could not run", reason="; ".join(judge.cell_notes))
        else:
            info = judge.bridge_report()
            functions = info.get("functions") if isinstance(info.get("functions"), dict) \
                else {}
            listener = _listener(workdir)
            try:
                for exercise_id in ids:
                    found = functions.get(exercise_id) or {}
                    if not functions:
                        results[exercise_id] = CheckResult(
                            exercise_id, "failed", "could not be re-checked",
                            ["the notebook's kernel did not answer the grader (did the "
                             "notebook remove or break _nnlib_bridge?)"])
                        continue
                    if not found.get("found"):
                        results[exercise_id] = _missing(exercise_id)
                        continue
                    results[exercise_id] = judge.judge(exercise_id, found.get("name"), listener)
                    if not judge.session.alive():   # its function took the kernel down
                        results[exercise_id].lines.append(
                            "note: the notebook's kernel died while checking it.")
                        if not judge.run_notebook():
                            break
                        info = judge.bridge_report()
                        functions = info.get("functions") if isinstance(
                            info.get("functions"), dict) else {}
            finally:
                listener.close()
            report["notes"] += _tamper_notes(nb, info, judge.progress_file, results)
            report["notes"] += _helper_notes(functions, results)
    finally:
        judge.close()
        shutil.rmtree(workdir, ignore_errors=True)
    for exercise_id in ids:
        result = results.get(exercise_id)
        status = result.status if result is not None else "not attempted"
        report["exercises"][exercise_id] = status
        if result is not None and status != "passed":
            report["reasons"][exercise_id] = _one_line(
                result.reason if status == "failed" else (result.title or "not attempted"))
        elif result is None:
            report["reasons"][exercise_id] = "not graded: the notebook could not run"
    report["errors"] = [f"cell {i + 1}: {e}" for i, e in sorted(judge.errors.items())]
    lost = {**judge.skipped, **judge.stopped}
    if lost and report["status"] == "graded":
        report["reason"] = "could not run " + "; ".join(
            f"cell {i + 1}: {why}" for i, why in sorted(lost.items())) + \
            "; the rest was graded without it"
    report["passed"] = sum(s == "passed" for s in report["exercises"].values())
    report["total"] = len(ids)
    return report


def _missing(exercise_id):
    names = " or ".join(EXERCISES[exercise_id].function_names)
    return CheckResult(exercise_id, "not attempted",
                       f"not attempted (no function {names} in the notebook)")


def _tamper_notes(nb, info, progress_file, results):
    notes, what = [], _static_tampering(nb)
    if info.get("check_redefined") and "redefines check()" not in what:
        what.insert(0, "redefines check()")
    patched = [p for p in info.get("patched") or [] if isinstance(p, str)]
    if patched and "patches the checker" not in what:
        what.append("patches the checker")
    try:
        claims = _parse(progress_file.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        claims = {}
    false_claims = sorted(i for i, v in claims.items()
                          if v.get("status") == "passed" and
                          (i not in results or not results[i].passed))
    for item in what:
        detail = f" ({', '.join(patched[:3])})" if item == "patches the checker" and patched \
            else ""
        notes.append(f"tampering: the notebook {item}{detail} — ignored: every exercise was "
                     f"re-checked by the grader, no credit from it")
    if false_claims:
        notes.append(f"the notebook's own record claims {len(false_claims)} exercise(s) passed "
                     f"that the grader's re-check did not pass ({', '.join(false_claims[:4])}"
                     f"{', …' if len(false_claims) > 4 else ''}): no credit for the claim")
    return notes


def _helper_notes(functions, results):
    """'conv.conv2d_forward fails, and it calls im2col, which fails its own check'."""
    by_name = {}
    for exercise_id, found in functions.items():
        if isinstance(found, dict) and exercise_id in results:
            for name in EXERCISES[exercise_id].function_names:
                by_name[name] = exercise_id
    notes = []
    for exercise_id, result in results.items():
        if result.status != "failed":
            continue
        refs = (functions.get(exercise_id) or {}).get("refs") or []
        for name in refs:
            helper = by_name.get(name)
            if helper and helper != exercise_id and not results[helper].passed:
                notes.append(f"{exercise_id} calls {name}, which does not pass its own "
                             f"check ({helper}): fix {name} first")
    return notes


# ------------------------------------------------------------------ the scorecard

def scorecard(reports):
    lines = []
    for report in reports:
        head = f"{report['notebook']}: "
        if report["status"] == "could not run" and not report["exercises"]:
            lines.append(head + "could not run: " + report["reason"])
            continue
        if report["status"] == "no exercises":
            lines.append(head + "no exercises: " + report["reason"])
            continue
        if report["status"] == "could not run":
            lines.append(head + f"could not run: {report['reason']}; "
                                f"{report['passed']}/{report['total']} passed")
        else:
            lines.append(head + f"{report['passed']}/{report['total']} passed"
                         + (f" — {report['reason']}" if report["reason"] else ""))
        for exercise_id, status in report["exercises"].items():
            reason = report["reasons"].get(exercise_id, status)
            lines.append(f"  {MARKS.get(status, '?')} {exercise_id:<32} {reason}")
        lines += [f"  ! {e}" for e in report["errors"]]
        lines += [f"  ! {n}" for n in report["notes"]]
    graded = [r for r in reports if r["status"] == "graded"]
    passed = sum(r["passed"] for r in reports)
    total = sum(r["total"] for r in reports)
    others = len(reports) - len(graded)
    lines.append(f"{len(reports)} notebook(s): {passed}/{total} exercises passed"
                 + (f"; {others} not fully graded (see above)" if others else ""))
    return "\n".join(lines)


def _grade_here(path, problem, timeout):
    if problem:
        return _unrun(path, problem)
    try:
        return grade_notebook(path, timeout)
    except Exception as e:  # one notebook never hides the others
        return _unrun(path, f"{type(e).__name__}: {e}"[:200])


#: In a grading worker: the pipe to the supervisor (kernel pids are announced on it).
_WORKER_FD = None


def _announce(kind, number):
    """Tell the supervisor a kernel's pid ("K") or the cell about to run ("C")."""
    if _WORKER_FD is not None and number is not None:
        with contextlib.suppress(OSError):
            os.write(_WORKER_FD, f"{kind}{int(number)}\n".encode())


def _grade_in_workers(items, timeout, budget, jobs):
    """Grade each notebook in a forked worker process, ``jobs`` at a time.

    The supervisor (this process) never talks to a kernel: a notebook that kills its
    kernel's parent, or hangs its worker past ``budget`` seconds, takes down only its own
    worker (its kernels are then killed by pid) and becomes a "could not run" row.
    """
    import select

    global _WORKER_FD
    reports = [None] * len(items)
    queue_ = list(enumerate(items))
    running = {}                       # fd -> state
    while queue_ or running:
        while queue_ and len(running) < jobs:
            index, (path, problem) = queue_.pop(0)
            if problem:
                reports[index] = _unrun(path, problem)
                continue
            r, w = os.pipe()
            sys.stdout.flush()
            with warnings.catch_warnings():   # 3.12+: fork() with BLAS threads around
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
            if pid == 0:  # the worker
                try:
                    os.close(r)
                    _WORKER_FD = w
                    report = _grade_here(path, None, timeout)
                    data = ("R" + json.dumps(report, ensure_ascii=False) + "\n").encode()
                    view = memoryview(data)
                    while view:
                        view = view[os.write(w, view):]
                finally:
                    os._exit(0)
            os.close(w)
            running[r] = {"index": index, "path": path, "pid": pid, "buffer": b"",
                          "kernels": set(), "deadline": time.monotonic() + budget}
        ready, _, _ = select.select(list(running), [], [], 0.5)
        for fd in ready:
            state = running[fd]
            chunk = os.read(fd, 1 << 16)
            state["buffer"] += chunk
            *lines, state["buffer"] = state["buffer"].split(b"\n")
            for line in lines:
                if line.startswith(b"K"):
                    state["kernels"].add(int(line[1:]))
                elif line.startswith(b"C"):
                    state["cell"] = int(line[1:])
                elif line.startswith(b"R"):
                    with contextlib.suppress(ValueError):
                        state["report"] = json.loads(line[1:].decode())
            if not chunk:
                reports[state["index"]] = _finish_worker(state, "")
                os.close(fd)
                del running[fd]
        for fd, state in list(running.items()):
            if time.monotonic() > state["deadline"]:
                reports[state["index"]] = _finish_worker(
                    state, f"grading it took more than {budget:g} s (stopped)")
                os.close(fd)
                del running[fd]
    return reports


def _finish_worker(state, why):
    pid = state["pid"]
    if why:
        with contextlib.suppress(OSError):
            os.kill(pid, 9)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
    finished = isinstance(state.get("report"), dict) and not why
    for kernel in () if finished else state["kernels"]:   # a dead worker leaves its kernel
        if kernel not in (os.getpid(), 0, 1):
            with contextlib.suppress(OSError):
                os.killpg(kernel, 9)
            with contextlib.suppress(OSError):
                os.kill(kernel, 9)
    report = state.get("report")
    if isinstance(report, dict) and not why:
        return report
    cell = f" while cell {state['cell']} ran" if state.get("cell") else ""
    return _unrun(state["path"], (why or "grading it ended the grader's worker process (does "
                                         "the notebook kill its kernel's parent process?)")
                  .replace(" (", f"{cell} (", 1))


def _unrun(path, reason):
    return {"notebook": str(path), "status": "could not run", "reason": reason,
            "exercises": {}, "reasons": {}, "errors": [], "notes": [], "passed": 0, "total": 0}


def all_passed(reports):
    return bool(reports) and all(
        r["status"] == "graded" and not r["reason"] and r["total"] > 0
        and r["passed"] == r["total"] for r in reports)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m nnlib.checks",
                                     description="Grade exercise notebooks headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("grade", help="execute notebooks and print a scorecard")
    grade.add_argument("paths", nargs="+", help="notebooks or folders of submissions")
    grade.add_argument("--json", action="store_true", help="machine-readable output")
    grade.add_argument("--timeout", type=float, default=120, help="seconds per cell")
    grade.add_argument("--jobs", type=int, default=1,
                       help="notebooks graded at once (each in its own kernel)")
    grade.add_argument("--notebook-timeout", type=float, default=None,
                       help="seconds for one whole notebook (default: 10 x --timeout, at "
                            "least 900)")
    args = parser.parse_args(argv)
    if not args.timeout > 0:
        parser.error("--timeout must be a positive number of seconds")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    time_limit()  # validate NNLIB_CHECK_TIMEOUT once, before any notebook runs
    items = list(_notebooks(args.paths))
    budget = args.notebook_timeout or max(900.0, 10 * args.timeout)
    if isolation.fork_available():
        reports = _grade_in_workers(items, args.timeout, budget, args.jobs)
    else:  # pragma: no cover - one notebook after the other, in this process
        reports = [_grade_here(path, problem, args.timeout) for path, problem in items]
    print(json.dumps(reports, indent=2, ensure_ascii=False) if args.json
          else scorecard(reports))
    sys.stdout.flush()
    return 0 if all_passed(reports) else 1

