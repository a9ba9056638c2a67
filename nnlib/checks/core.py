"""The checking machinery: run a learner's function on oracle cases and explain failures.

An exercise is a function ``oracle(t)`` registered with :func:`exercise`. It calls the
learner's code through ``t.call(...)`` (copies of the arguments, a time limit, exceptions
contained, inputs checked for in-place changes) and compares with ``t.expect(...)``
(type, shape, dtype, NaN, values, and hints for known mistakes). The first failed
expectation ends the check with a verdict of a few lines.
"""

from __future__ import annotations

import copy
import os
import signal
import sys
import threading
import traceback
from dataclasses import dataclass, field

import numpy as np

__all__ = ["exercise", "EXERCISES", "Tester", "CheckResult", "ExerciseFailed", "run_check"]

#: id -> Exercise, in registration order (chapter order).
EXERCISES = {}

TIME_LIMIT = float(os.environ.get("NNLIB_CHECK_TIMEOUT", "10"))


@dataclass
class Exercise:
    id: str
    chapter: str
    signature: str
    oracle: object


def exercise(exercise_id, *, chapter, signature):
    """Register ``oracle(t)`` as the checker of ``exercise_id``."""
    def register(oracle):
        EXERCISES[exercise_id] = Exercise(exercise_id, chapter, signature, oracle)
        return oracle
    return register


class ExerciseFailed(AssertionError):
    """Raised by ``check`` under ``NNLIB_STRICT=1`` when an exercise does not pass."""


class _Fail(Exception):
    """Ends a check: ``lines`` explain what went wrong."""

    def __init__(self, title, lines=()):
        super().__init__(title)
        self.title, self.lines = title, list(lines)


class _NotAttempted(Exception):
    pass


class _Timeout(Exception):
    pass


@dataclass
class CheckResult:
    """What ``check`` found. ``passed`` is True only if every case passed."""

    exercise: str
    status: str            # "passed", "failed" or "not attempted"
    title: str = ""
    lines: list = field(default_factory=list)
    checked: list = field(default_factory=list)

    @property
    def passed(self):
        return self.status == "passed"

    @property
    def message(self):
        if self.passed:
            what = "; ".join(self.checked)
            return f"✓ {self.exercise}: passed ({what})" if what else f"✓ {self.exercise}: passed"
        if self.status == "not attempted":
            return (f"· {self.exercise}: not attempted yet. Replace the `raise "
                    f"NotImplementedError` with your code, run the cell, then check again.")
        return "\n".join([f"✗ {self.exercise}: {self.title}", *("  " + ln for ln in self.lines)])

    def __str__(self):
        return self.message

    def __repr__(self):
        return f"<CheckResult {self.exercise}: {self.status}>"

    def _ipython_display_(self):
        # check() already printed the verdict; showing it again as the cell's value would
        # repeat it. Displayed later on its own (``result`` in a new cell), it prints.
        if getattr(self, "_shown", False):
            print(self.message)
        self._shown = True


def _fmt(value, limit=6):
    """A short, readable rendering of a small value for a verdict."""
    if isinstance(value, np.ndarray):
        if value.size > 36:
            return f"array of shape {value.shape}, dtype {value.dtype}"
        with np.printoptions(precision=4, suppress=True, threshold=36, linewidth=80):
            text = np.array2string(value, separator=", ")
        return text if "\n" not in text else text.replace("\n", "\n            ")
    if isinstance(value, (list, tuple)) and len(value) > limit:
        return f"{type(value).__name__} of length {len(value)}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def _learner_line(tb):
    """The last traceback frame outside nnlib: the learner's line that raised."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frames = [f for f in traceback.extract_tb(tb)
              if not os.path.abspath(f.filename).startswith(here)]
    if not frames:
        return None
    f = frames[-1]
    return f"line {f.lineno}: {f.line}" if f.line else f"line {f.lineno} of {f.filename}"


class _time_limit:
    """Stop runaway learner code after ``seconds`` (SIGALRM; main thread on Unix only,
    which is where notebook cells run; elsewhere no limit applies)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.active = (hasattr(signal, "setitimer")
                       and threading.current_thread() is threading.main_thread())

    def _handler(self, signum, frame):
        raise _Timeout()

    def __enter__(self):
        if self.active:
            self.old = signal.signal(signal.SIGALRM, self._handler)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.old)


class Tester:
    """Handed to an oracle: runs the learner's ``fn`` and compares its answers."""

    def __init__(self, fn, exercise_id):
        self.fn = fn
        self.exercise_id = exercise_id
        self.checked = []

    # --- running the learner's code --------------------------------------------------------
    def call(self, *args, **kwargs):
        """``fn(*args, **kwargs)`` on copies; fails if it raised, ran too long or changed
        its arguments."""
        given = copy.deepcopy((args, kwargs))
        try:
            with _time_limit(TIME_LIMIT):
                out = self.fn(*given[0], **given[1])
        except NotImplementedError:
            raise _NotAttempted() from None
        except _Timeout:
            raise _Fail(f"stopped after {TIME_LIMIT:g} s", [
                f"input: {self._describe(args, kwargs)}",
                "Your function did not return in time: an infinite loop, or a Python loop "
                "over every element of a large array?"]) from None
        except Exception as e:  # the learner's bug: contain it and explain it
            where = _learner_line(e.__traceback__)
            raise _Fail(f"your function raised {type(e).__name__}", [
                f"input: {self._describe(args, kwargs)}",
                f"{type(e).__name__}: {e}",
                *([f"at {where}"] if where else [])]) from None
        for name, original, after in self._argument_pairs(args, kwargs, given):
            if isinstance(original, np.ndarray) and not np.array_equal(original, after,
                                                                       equal_nan=True):
                raise _Fail("your function changed its input", [
                    f"argument {name} was modified in place.",
                    "hint: work on a copy (x.copy(), or np.maximum(x, 0) instead of "
                    "x[x < 0] = 0) so the caller's array stays as it was."])
        return out

    @staticmethod
    def _argument_pairs(args, kwargs, given):
        for i, (a, b) in enumerate(zip(args, given[0], strict=True)):
            yield f"#{i + 1}", a, b
        for k in kwargs:
            yield k, kwargs[k], given[1][k]

    def _describe(self, args, kwargs):
        parts = [_fmt(a) for a in args] + [f"{k}={_fmt(v)}" for k, v in kwargs.items()]
        return ", ".join(parts)

    # --- comparing -----------------------------------------------------------------------
    def fail(self, title, *lines):
        raise _Fail(title, lines)

    def ok(self, what):
        """Record a verified property for the ✓ line."""
        if what not in self.checked:
            self.checked.append(what)

    def expect(self, got, expected, *, inputs="", what="values", rtol=1e-6, atol=1e-9,
               hints=(), dtype=None, nan_hint=None):
        """Compare an answer with the expected array or number.

        ``hints`` are ``(wrong_answer, message)`` pairs: when ``got`` matches a known
        wrong answer, its message is shown. ``dtype``, if given, must match exactly.
        ``nan_hint`` explains a NaN/inf result (the usual cause for this exercise).
        """
        context = [f"input: {inputs}"] if inputs else []
        if np.isscalar(expected) or (isinstance(expected, np.ndarray) and expected.ndim == 0):
            if isinstance(got, np.ndarray) and got.size == 1 and got.ndim <= 1:
                got = got.reshape(())
            if not (isinstance(got, (int, float, np.number)) or
                    (isinstance(got, np.ndarray) and got.ndim == 0)):
                self.fail("wrong type", *context, f"expected a number, got "
                          f"{type(got).__name__}" + (f" of shape {got.shape}"
                                                     if isinstance(got, np.ndarray) else ""))
        else:
            if not isinstance(got, np.ndarray):
                self.fail("wrong type", *context, f"expected a NumPy array of shape "
                          f"{np.shape(expected)}, got {type(got).__name__}",
                          *(["hint: return an array, e.g. np.asarray(result)"]
                            if isinstance(got, (list, tuple)) else []))
            if got.shape != np.shape(expected):
                self.fail("wrong shape", *context, f"expected shape {np.shape(expected)}, "
                          f"got {got.shape}", *self._hint(got, hints, shape_only=True))
            if dtype is not None and got.dtype != dtype:
                self.fail("wrong dtype", *context, f"expected dtype {np.dtype(dtype)}, got "
                          f"{got.dtype}", "hint: keep the input's dtype (avoid np.float64 "
                          "literals and .astype(float)).")
        got_arr = np.asarray(got, dtype=np.float64)
        bad = ~np.isfinite(got_arr)
        if bad.any() and not (~np.isfinite(np.asarray(expected, dtype=np.float64))).any():
            where = tuple(int(i) for i in np.argwhere(bad)[0]) if got_arr.ndim else ()
            value = got_arr[where] if got_arr.ndim else got_arr
            value = "NaN" if np.isnan(value) else str(value)
            self.fail(f"{value} in your result", *context,
                      f"{value} at index {where}" if where else f"returned {value}",
                      f"hint: {nan_hint or 'look for exp() of a large number, log(0) or 0/0.'}")
        err = np.abs(got_arr - expected)
        tol = atol + rtol * np.abs(np.asarray(expected, dtype=np.float64))
        if not np.all(err <= tol):  # written so that NaN fails too
            self.fail(f"wrong {what}", *context, f"expected: {_fmt(np.asarray(expected))}",
                      f"returned: {_fmt(got)}", *self._hint(got, hints))
        self.ok(what)

    @staticmethod
    def _hint(got, hints, shape_only=False):
        for wrong, message in hints:
            wrong = np.asarray(wrong)
            if np.shape(got) != wrong.shape:
                continue
            if shape_only or np.allclose(np.asarray(got, dtype=np.float64), wrong,
                                         rtol=1e-5, atol=1e-8, equal_nan=False):
                return [f"hint: {message}"]
        return []

    def unpack(self, got, n, names):
        """Check that ``got`` is a tuple of ``n`` items (e.g. ``(loss, grad)``)."""
        if not isinstance(got, (tuple, list)) or len(got) != n:
            kind = f"a {type(got).__name__}" + (f" of length {len(got)}" if isinstance(
                got, (tuple, list)) else "")
            self.fail("wrong return value", f"expected a tuple ({', '.join(names)}), got {kind}",
                      f"hint: end with `return {', '.join(names)}`")
        return got


def run_check(exercise_id, fn):
    """Run the oracle of ``exercise_id`` on ``fn`` and return a :class:`CheckResult`."""
    if exercise_id not in EXERCISES:
        import difflib

        close = difflib.get_close_matches(exercise_id, EXERCISES, n=1)
        raise KeyError(f"Unknown exercise {exercise_id!r}."
                       + (f" Did you mean {close[0]!r}?" if close else "")
                       + f" Valid ids: {', '.join(EXERCISES)}.")
    if not callable(fn):
        return CheckResult(exercise_id, "failed", "that is not a function", [
            f"check({exercise_id!r}, fn) needs your function itself, got "
            f"{type(fn).__name__}.", "hint: pass the name without calling it: "
            "check('...', relu), not check('...', relu(x))."])
    tester = Tester(fn, exercise_id)
    try:
        with np.errstate(all="ignore"):  # the learner's overflow is judged by the result
            EXERCISES[exercise_id].oracle(tester)
    except _NotAttempted:
        return CheckResult(exercise_id, "not attempted")
    except _Fail as f:
        return CheckResult(exercise_id, "failed", f.title, f.lines, tester.checked)
    return CheckResult(exercise_id, "passed", checked=tester.checked)


def strict():
    return os.environ.get("NNLIB_STRICT", "") not in ("", "0")


def emit(result, file=None):
    print(result.message, file=file or sys.stdout)
