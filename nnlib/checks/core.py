"""The checking machinery: run a learner's function on oracle cases and explain failures.

An exercise is a function ``oracle(t)`` registered with :func:`exercise`. It calls the
learner's code through ``t.call(...)`` -- in a child process with a hard time limit (see
``isolation``), on copies of the arguments, checked for in-place changes -- and compares
with ``t.expect(...)`` (type, shape, dtype, NaN, values, and hints for known mistakes).
The first failed expectation ends the check with a verdict of a few lines that says where
the answer is wrong and by how much.
"""

from __future__ import annotations

import math
import os
import re
import sys
import types
import warnings
from dataclasses import dataclass, field

import numpy as np

from .isolation import Opaque, fork_available, make_runner

__all__ = ["exercise", "EXERCISES", "Tester", "CheckResult", "ExerciseFailed", "run_check",
           "time_limit", "strict", "CheckerSettingWarning"]

#: id -> Exercise, in registration order (chapter order).
EXERCISES = {}

DEFAULT_TIME_LIMIT = 10.0
MAX_TIME_LIMIT = 600.0


# ------------------------------------------------------------------ settings

class CheckerSettingWarning(UserWarning):
    """An NNLIB_* environment setting was not understood; the default applies."""


_warned = set()


def _warn_once(message):
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, CheckerSettingWarning, stacklevel=3)


def time_limit():
    """Seconds one call of a learner's function may take: ``$NNLIB_CHECK_TIMEOUT``
    (a number in (0, 600]; anything else warns and uses 10)."""
    raw = os.environ.get("NNLIB_CHECK_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_TIME_LIMIT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        _warn_once(f"NNLIB_CHECK_TIMEOUT={raw!r} is not a positive number of seconds "
                   f"(0 does not switch the limit off): using {DEFAULT_TIME_LIMIT:g} s.")
        return DEFAULT_TIME_LIMIT
    if value > MAX_TIME_LIMIT:
        _warn_once(f"NNLIB_CHECK_TIMEOUT={raw!r} is above the {MAX_TIME_LIMIT:g} s maximum: "
                   f"using {MAX_TIME_LIMIT:g} s.")
        return MAX_TIME_LIMIT
    return max(value, 0.05)


def isolation():
    """How a learner's function runs: "process" (a forked child with a hard kill; the
    default on Linux) or "thread" (a worker thread, abandoned when it overruns; the
    default elsewhere). ``$NNLIB_CHECK_ISOLATION`` chooses; "process" falls back to
    threads where fork is not available."""
    raw = os.environ.get("NNLIB_CHECK_ISOLATION", "").strip().lower()
    if raw not in ("", "process", "thread"):
        _warn_once(f"NNLIB_CHECK_ISOLATION={raw!r} is not 'process' or 'thread': using the "
                   f"default.")
        raw = ""
    if raw == "thread" or not fork_available():
        return "thread"
    return "fork"


_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"", "0", "false", "no", "off", "n"}


def strict():
    """Whether a check that does not pass raises: ``NNLIB_STRICT`` = 1/true/yes/on (0,
    false, no, off or empty: not strict; anything else warns and counts as strict), or
    nbgrader executing the notebook (autograde / validate), so a failing check fails its
    cell."""
    if os.environ.get("NBGRADER_EXECUTION"):
        return True
    raw = os.environ.get("NNLIB_STRICT", "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    _warn_once(f"NNLIB_STRICT={os.environ['NNLIB_STRICT']!r} is not one of 1/0, "
               f"true/false, yes/no, on/off: treated as strict.")
    return True


# ------------------------------------------------------------------ registry

@dataclass
class Exercise:
    id: str
    chapter: str
    signature: str
    oracle: object
    names: tuple = ()

    @property
    def parameters(self):
        """Argument names from the signature: 'f(dout, x, W)' -> ['dout', 'x', 'W']."""
        inside = self.signature[self.signature.find("(") + 1:self.signature.rfind(")")]
        return [p.split("=")[0].strip() for p in inside.split(",") if p.strip()]

    @property
    def function_names(self):
        """Names a learner's function for this exercise usually has."""
        return self.names or (self.id.split(".", 1)[1],)


def exercise(exercise_id, *, chapter, signature, names=()):
    """Register ``oracle(t)`` as the checker of ``exercise_id``."""
    def register(oracle):
        EXERCISES[exercise_id] = Exercise(exercise_id, chapter, signature, oracle, tuple(names))
        return oracle
    return register


def exercise_for_name(name, chapter=None):
    """The exercise whose function is usually called ``name`` (e.g. 'im2col')."""
    for ex in EXERCISES.values():
        if name in ex.function_names and (chapter is None or ex.chapter == chapter):
            return ex
    return None


class ExerciseFailed(AssertionError):
    """Raised by ``check`` in strict mode when an exercise does not pass."""


class _Fail(Exception):
    """Ends a check: ``lines`` explain what went wrong."""

    def __init__(self, title, lines=()):
        super().__init__(title)
        self.title, self.lines = title, [str(ln) for ln in lines]


class _NotAttempted(Exception):
    pass


@dataclass
class CheckResult:
    """What ``check`` found. ``passed`` is True only if every case passed."""

    exercise: str
    status: str            # "passed", "failed" or "not attempted"
    title: str = ""
    lines: list = field(default_factory=list)
    checked: list = field(default_factory=list)
    printed: str = ""

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

    @property
    def reason(self):
        """The verdict in one line (the grader's scorecard)."""
        if self.passed:
            return "passed"
        if self.status == "not attempted":
            return "not attempted"
        hint = next((ln for ln in self.lines if ln.startswith("hint:")), "")
        where = next((ln for ln in self.lines if ln.startswith(("largest error", "expected ",
                                                                 "NaN at", "inf at"))), "")
        if not where and self.title.startswith("your function raised"):
            where = next((ln for ln in self.lines if ln.startswith(self.title[21:].strip())),
                         "")
        parts = [self.title] + [p for p in (where, hint) if p]
        text = " — ".join(parts)
        return text if len(text) <= 200 else text[:199] + "…"

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


# ------------------------------------------------------------------ formatting

def _fmt(value, limit=6):
    """A short, readable rendering of a small value for a verdict."""
    if isinstance(value, Opaque):
        return value.describe()
    if isinstance(value, np.ndarray):
        if value.size > 36 or value.ndim > 2 or value.dtype == object:
            return f"array of shape {value.shape}, dtype {value.dtype}"
        with np.printoptions(precision=4, suppress=True, threshold=36, linewidth=80):
            text = np.array2string(value, separator=", ")
        return text if "\n" not in text else text.replace("\n", "\n            ")
    if isinstance(value, (list, tuple)) and len(value) > limit:
        return f"{type(value).__name__} of length {len(value)}"
    if isinstance(value, float):
        return repr(value) if len(repr(value)) <= 10 else f"{value:.6g}"
    text = repr(value)
    return text if len(text) <= 120 else text[:119] + "…"


def _arg(name, value):
    """One argument for an 'input:' line: small values inline, arrays by shape."""
    if isinstance(value, np.ndarray):
        text = str(value.tolist()) if value.size <= 12 else ""
        if text and len(text) <= 60:
            return f"{name} = {text}"
        dtype = "" if value.dtype == np.float64 else f" {value.dtype}"
        return f"{name} {value.shape}{dtype}"
    if callable(value) and hasattr(value, "__name__"):
        return f"{name} = {value.__name__}"
    return f"{name} = {_fmt(value)}"


def _num(v):
    v = float(v)
    return f"{v:.6g}" if math.isfinite(v) else str(v)


def _kind(value):
    """'None', 'a list of length 3', 'a generator', 'a bool array of shape (2, 3)'..."""
    if value is None:
        return "None"
    if isinstance(value, Opaque):
        return value.describe()
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    if isinstance(value, (list, tuple, dict, set)):
        return f"a {type(value).__name__} of length {len(value)}"
    name = type(value).__name__
    return ("an " if name[:1] in "aeiou" else "a ") + f"{name} ({_fmt(value)})"


def _float_dtype(args, kwargs):
    """The float dtype of a call's array arguments (None if it has none): what every
    array it returns should have."""
    dtypes = []
    for value in [*args, *kwargs.values()]:
        items = value if isinstance(value, (list, tuple)) else (value,)
        dtypes += [a.dtype for a in items if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    return np.result_type(*dtypes) if dtypes else None


def _is_number(value):
    if isinstance(value, np.ndarray):
        return value.size == 1 and value.ndim <= 1 and value.dtype.kind in "iuf"
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))


def _fits(item, want):
    """Whether ``item`` has the form of ``want`` (an array's shape, a number, a dict...)."""
    if isinstance(want, np.ndarray) and want.ndim > 0:
        return isinstance(item, np.ndarray) and item.shape == want.shape
    if _is_number(want):
        return _is_number(item)
    return isinstance(item, type(want))


def _same_value(item, want):
    """Whether two numbers or same-shape float arrays are equal (to 1e-5)."""
    if not (_fits(item, want) and (_is_number(want) or isinstance(want, np.ndarray))):
        return False
    a, b = np.asarray(item), np.asarray(want)
    if a.dtype.kind not in "iuf" or b.dtype.kind not in "iuf":
        return False
    return bool(np.allclose(a.astype(np.float64), b.astype(np.float64), rtol=1e-5,
                            atol=1e-8))


def _looks(want):
    if isinstance(want, np.ndarray) and want.ndim > 0:
        return str(want.shape)
    if _is_number(want):
        return "(a number)"
    return f"(a {type(want).__name__})"


def _title(problem, what, note):
    """'wrong shape' for a single result, 'wrong shape for dW (element 2 of ...)'."""
    return problem if what == "values" and not note else f"{problem} for {what}{note}"


def _type_hint(got):
    if got is None:
        return ["hint: your function returned None: did you forget `return`?"]
    if isinstance(got, Opaque) and got.type_name == "generator":
        return ["hint: `yield` makes a generator: build the whole result and `return` it."]
    if isinstance(got, (list, tuple)):
        return ["hint: return a NumPy array, e.g. np.asarray(result)."]
    return []


def _region(index, shape):
    """A small window of the last two axes (one axis for 1-D) around ``index``."""
    sl = []
    for axis, (i, n) in enumerate(zip(index, shape, strict=True)):
        if axis < len(shape) - 2:
            sl.append(slice(i, i + 1))
        else:
            half = 2 if axis == len(shape) - 1 else 1
            lo = max(0, min(i - half, n - (2 * half + 1)))
            sl.append(slice(lo, min(n, lo + 2 * half + 1)))
    label = ", ".join(str(s.start) if s.stop - s.start == 1 and k < len(shape) - 2
                      else f"{s.start}:{s.stop}" for k, s in enumerate(sl))
    return tuple(sl), f"[{label}]"


def _array_text(a, indent):
    with np.printoptions(precision=4, suppress=True, linewidth=90, threshold=50):
        text = np.array2string(np.squeeze(a, axis=tuple(range(max(0, a.ndim - 2)))),
                               separator=", ")
    return text.replace("\n", "\n" + " " * indent)


def _locate(got, expected, err, wrong, window):
    """Where and how much: lines for a value mismatch of two same-shape arrays (and, with
    ``window``, the expected and returned values around the largest error)."""
    n, n_wrong = wrong.size, int(wrong.sum())
    score = np.where(wrong, np.nan_to_num(err, nan=np.inf), -1.0)
    index = np.unravel_index(int(np.argmax(score)), err.shape)
    e, g = expected[index], got[index]
    lines = [f"{n_wrong} of {n} entries wrong ({n_wrong / n:.0%})" if n > 1 else None,
             f"largest error {_num(err[index])} at index {tuple(int(i) for i in index)}: "
             f"expected {_num(e)}, returned {_num(g)}"]
    lines = [ln for ln in lines if ln]
    if window and got.ndim >= 1:
        sl, label = _region(index, err.shape)
        for name, values in (("expected", expected), ("returned", got)):
            prefix = f"{name}{label}: "
            lines.append(prefix + _array_text(values[sl], 2 + len(prefix)))
    return lines


# ------------------------------------------------------------------ the tester

class Tester:
    """Handed to an oracle: runs the learner's ``fn`` and compares its answers."""

    def __init__(self, fn, exercise_id, runner=None):
        self.fn = fn
        self.exercise_id = exercise_id
        self.exercise = EXERCISES[exercise_id]
        self.checked = []
        self.printed, self.printed_total = [], 0
        self.runner = runner
        self._own_runner = runner is None
        # "unchanged up to rounding" (numerical gradients restore x[i] with += / -=)
        self.inplace_rtol = self.inplace_atol = 0.0
        #: an exercise's own in-place hint (default: work on a copy)
        self.inplace_hint = None
        self.limit = time_limit()
        self._elements = ()
        self._input_dtype = None

    def close(self):
        if self._own_runner and self.runner is not None:
            self.runner.close()

    # --- running the learner's code --------------------------------------------------------
    def call(self, *args, **kwargs):
        """``fn(*args, **kwargs)`` in isolation; fails if it raised, ran too long, ended
        the process or changed its arguments."""
        return self._call(args, kwargs).value

    def steps(self, *args):
        """``(value, steps)`` of one traced call: ``steps`` counts the Python lines and
        calls it ran (None where the runner cannot count). A loop over rows makes it grow
        with the number of rows; it does not depend on the machine's load."""
        out = self._call(args, {}, trace=True)
        return out.value, out.steps

    def _call(self, args, kwargs, trace=False):
        if self.runner is None:
            self.runner = make_runner(self.fn, isolation())
        out = self.runner.call(args, kwargs, self.limit, trace) if trace else \
            self.runner.call(args, kwargs, self.limit)
        self._input_dtype = _float_dtype(args, kwargs)
        if out.printed_total:
            self._keep_printed(out.printed, out.printed_total)
        described = self._describe(args, kwargs)
        if out.kind == "not attempted":
            raise _NotAttempted()
        if out.kind == "interrupted":
            raise KeyboardInterrupt
        if out.kind == "timeout":
            raise _Fail(f"stopped after {self.limit:g} s", [
                f"input: {described}",
                "Your function did not return in time: an infinite loop, or a Python loop "
                "over every element of a large array?"])
        if out.kind == "exit":
            raise _Fail("your function called sys.exit()", [
                f"input: {described}", f"SystemExit: {out.error.get('message', '')}",
                "hint: a function answers with `return`; exit() / sys.exit() end the program "
                "and count as a failed check."])
        if out.kind == "died":
            raise _Fail("your function ended the Python process", [
                f"input: {described}", f"{out.detail}.",
                "hint: look for os._exit, os.kill or a crash in a C extension."])
        if out.kind == "raised":
            raise _Fail(f"your function raised {out.error['type']}", [
                f"input: {described}",
                f"{out.error['type']}: {out.error['message']}".rstrip(": "),
                *([f"at {out.error['line']}"] if out.error.get("line") else []),
                *self._raise_hint(out.error)])
        self._check_untouched(args, kwargs, out.after)
        return out

    def _keep_printed(self, text, total):
        kept = sum(len(p) for p in self.printed)
        if kept < 2000:
            self.printed.append(text[:2000 - kept])
        self.printed_total += total

    def _raise_hint(self, error):
        message = error.get("message", "")
        if error.get("type") == "TypeError" and re.search(
                r"positional argument|keyword argument|takes \d+|missing \d+ required", message):
            return [f"hint: the checker calls your function as {self.exercise.signature}: "
                    f"give it exactly those parameters."]
        if error.get("type") == "RecursionError":
            return ["hint: a function that calls itself without end?"]
        if error.get("type") == "ValueError" and "could not be broadcast" in message:
            return ["hint: the shapes do not broadcast: a sum or max over an axis keeps that "
                    "axis with keepdims=True (or index it back with [:, None])."]
        return []

    def _check_untouched(self, args, kwargs, after):
        if not (isinstance(after, list) and len(after) == 2):
            return
        names = self.exercise.parameters
        after_args, after_kwargs = after
        after_args = after_args if isinstance(after_args, (list, tuple)) else ()
        after_kwargs = after_kwargs if isinstance(after_kwargs, dict) else {}
        pairs = [(names[i] if i < len(names) else f"#{i + 1}", a, b)
                 for i, (a, b) in enumerate(zip(args, after_args, strict=False))]
        pairs += [(k, kwargs[k], after_kwargs.get(k)) for k in kwargs]
        for name, original, now in pairs:
            if self._changed(original, now):
                position = names.index(name) + 1 if name in names else None
                raise _Fail(f"your function changed its input {name} in place", [
                    f"`{name}` (argument {position} of {self.exercise.signature}) was "
                    f"different after the call." if position else
                    f"argument {name} was different after the call.",
                    "hint: " + (self.inplace_hint or
                                f"leave `{name}` as it was: work on a copy ({name} = "
                                f"{name}.copy()) or build a new array instead of assigning "
                                f"into {name}[...] or using {name} += ...")])

    def _changed(self, original, now):
        if isinstance(original, np.ndarray):
            if not isinstance(now, np.ndarray) or now.shape != original.shape:
                return True
            if original.dtype.kind not in "fc" or not (self.inplace_rtol or self.inplace_atol):
                return not np.array_equal(original, now, equal_nan=original.dtype.kind in "fc")
            if now.dtype.kind not in "fc":
                return True
            return not np.allclose(original, now, rtol=self.inplace_rtol,
                                   atol=self.inplace_atol, equal_nan=True)
        if isinstance(original, (list, tuple)) and isinstance(now, (list, tuple)):
            return any(self._changed(a, b) for a, b in zip(original, now, strict=False))
        return False

    def _describe(self, args, kwargs):
        names = self.exercise.parameters
        parts = [_arg(names[i] if i < len(names) else f"#{i + 1}", a)
                 for i, a in enumerate(args)]
        parts += [_arg(k, v) for k, v in kwargs.items()]
        text = ", ".join(parts)
        return text if len(text) <= 300 else text[:299] + "…"

    # --- comparing -----------------------------------------------------------------------
    def fail(self, title, *lines):
        raise _Fail(title, lines)

    def ok(self, what):
        """Record a verified property for the ✓ line."""
        if what not in self.checked:
            self.checked.append(what)

    def _element_note(self, what):
        if what in self._elements and len(self._elements) > 1:
            k = self._elements.index(what) + 1
            return f" (element {k} of the ({', '.join(self._elements)}) you returned)"
        return ""

    def expect(self, got, expected, *, inputs="", what="values", rtol=1e-6, atol=1e-9,
               hints=(), dtype=None, nan_hint=None):
        """Compare an answer with the expected array or number.

        ``hints`` are ``(wrong_answer, message)`` pairs: when ``got`` matches a known
        wrong answer, its message is shown. ``dtype``, if given, must match exactly.
        ``nan_hint`` explains a NaN/inf result (the usual cause for this exercise).
        """
        context = [f"input: {inputs}"] if inputs else []
        note = self._element_note(what)
        expected = np.asarray(expected)
        if expected.ndim == 0:
            got = self._as_number(got, context, what, note)
        else:
            got = self._as_array(got, expected, context, what, note, hints, dtype)
        got_arr = np.asarray(got, dtype=np.float64)
        exp_arr = np.asarray(expected, dtype=np.float64)
        bad = ~np.isfinite(got_arr)
        if bad.any() and not (~np.isfinite(exp_arr)).any():
            where = tuple(int(i) for i in np.argwhere(bad)[0]) if got_arr.ndim else ()
            value = got_arr[where] if got_arr.ndim else got_arr
            value = "NaN" if np.isnan(value) else str(value)
            self.fail(f"{value} in your {what}{note}", *context,
                      f"{value} at index {where} ({int(bad.sum())} of {bad.size} entries)"
                      if where else f"returned {value}",
                      f"hint: {nan_hint or 'look for exp() of a large number, log(0) or 0/0.'}")
        err = np.abs(got_arr - exp_arr)
        tol = atol + rtol * np.abs(exp_arr)
        wrong = ~(err <= tol)  # written so that NaN counts as wrong
        if wrong.any():
            if got_arr.ndim == 0:
                ratio = (f" ({got_arr / exp_arr:.3g}x the expected)"
                         if exp_arr != 0 and got_arr != 0 else "")
                lines = [f"expected {_num(exp_arr)}, returned {_num(got_arr)}{ratio}"]
            elif got_arr.size <= 36 and (got_arr.ndim < 2 or got_arr.shape[-2] <= 3):
                lines = [f"expected: {_fmt(expected)}", f"returned: {_fmt(got)}",
                         *_locate(got_arr, exp_arr, err, wrong, window=False)]
            else:   # too many lines to print whole: a window around the largest error
                lines = _locate(got_arr, exp_arr, err, wrong, window=True)
            self.fail(f"wrong {what}{note}", *context, *lines, *self._hint(got, hints))
        self.ok(what)

    def _as_number(self, got, context, what, note):
        if isinstance(got, np.ndarray) and got.size == 1 and got.ndim <= 1 and \
                got.dtype.kind in "iuf":
            got = got.reshape(())
        if isinstance(got, np.ndarray) and got.ndim == 0 and got.dtype.kind in "iuf":
            return got
        if isinstance(got, (int, float, np.integer, np.floating)) and not isinstance(
                got, (bool, np.bool_)):
            return got
        self.fail(_title("wrong type", what, note), *context,
                  f"expected a number, got {_kind(got)}",
                  *(["hint: return a float, e.g. float(loss)."] if isinstance(
                      got, (np.ndarray, list, tuple, bool, np.bool_)) else _type_hint(got)))

    def _as_array(self, got, expected, context, what, note, hints, dtype):
        if not isinstance(got, np.ndarray):
            self.fail(_title("wrong type", what, note), *context,
                      f"expected a NumPy array of shape {expected.shape}, got {_kind(got)}",
                      *_type_hint(got))
        if got.dtype.kind not in "biuf":
            extra = {"O": "an object array holds Python objects (often a list of arrays of "
                          "different shapes): build the result with NumPy operations.",
                     "c": "complex numbers: take the real part or avoid the complex step."}
            self.fail(_title("wrong dtype", what, note), *context,
                      f"expected a float array of shape {expected.shape}, got {got.dtype}",
                      *([f"hint: {extra[got.dtype.kind]}"] if got.dtype.kind in extra else []))
        if got.shape != expected.shape:
            self.fail(_title("wrong shape", what, note), *context,
                      f"expected shape {expected.shape}, got {got.shape}",
                      *self._hint(got, hints, shape_only=True))
        if expected.dtype.kind == "f" and got.dtype.kind in "biu":
            kind = "a bool" if got.dtype.kind == "b" else "an integer"
            self.fail(_title("wrong dtype", what, note), *context,
                      f"returned {kind} array ({got.dtype}); expected floats of the input's "
                      f"dtype", "hint: values such as (x > 0) are bools: convert with "
                      ".astype(x.dtype), or multiply by 1.0 in the input's dtype.")
        if dtype is not None and got.dtype != dtype:
            self.fail(_title("wrong dtype", what, note), *context,
                      f"expected dtype {np.dtype(dtype)}, got {got.dtype}",
                      "hint: keep the input's dtype (avoid np.float64 literals and "
                      ".astype(float)).")
        wanted = self._input_dtype
        if dtype is None and wanted is not None and expected.dtype.kind == "f" and \
                got.dtype.kind == "f" and got.dtype != wanted:
            self.fail(_title("wrong dtype", what, note), *context,
                      f"returned {got.dtype} from {wanted} inputs; every array you return "
                      f"is a float array of the input's dtype ({wanted} in, {wanted} out)",
                      f"hint: a cast to {got.dtype} (.astype, dtype=, a {got.dtype} "
                      f"constant) changes it: drop the cast.")
        return got

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

    def unpack(self, got, n, names, like=None, inputs=""):
        """Check that ``got`` is a tuple of ``n`` items (e.g. ``(loss, grad)``).

        ``like`` holds what each item should be (an array, a number, a dict or list, or
        None: not known yet): items returned in the wrong order are then named ("element
        1 should be dx (4, 3), got something shaped like dW").
        """
        if not isinstance(got, (tuple, list)) or len(got) != n:
            self.fail("wrong return value", f"expected a tuple ({', '.join(names)}), got "
                      f"{_kind(got)}", f"hint: end with `return {', '.join(names)}`")
        self._elements = tuple(names)
        if like is not None:
            self._check_order(got, tuple(names), like, inputs)
        return got

    def _check_order(self, got, names, like, inputs):
        for k, (item, want) in enumerate(zip(got, like, strict=True)):
            if want is None or _same_value(item, want):
                continue
            found = None
            for j, other in enumerate(like):
                if j == k or other is None:
                    continue
                if not _fits(item, want) and _fits(item, other):
                    found = f"got something shaped like {names[j]} {_looks(other)}"
                elif _fits(item, want) and _fits(other, want) and _same_value(item, other) \
                        and not _same_value(other, want):
                    found = f"got {names[j]}'s value" + ("" if _is_number(other) else "s")
                if found:
                    break
            if found:
                self.fail("elements in the wrong order",
                          *([f"input: {inputs}"] if inputs else []),
                          f"element {k + 1} of the ({', '.join(names)}) you returned should "
                          f"be {names[k]} {_looks(want)}, {found}",
                          f"hint: return {', '.join(names)}, in that order.")

    def keeps_dtype(self, args, names, inputs, which=None):
        """One more call with float32 inputs: every output in ``which`` (default: all)
        must be float32 too (gradients are floats of the input's dtype)."""
        got = self.call(*args)
        outputs = self.unpack(got, len(names), names) if len(names) > 1 else (got,)
        for name, out in zip(names, outputs, strict=True):
            if which is not None and name not in which:
                continue
            if not isinstance(out, np.ndarray):
                self.fail(f"wrong type for {name}", f"input: {inputs}",
                          f"expected a float32 array, got {_kind(out)}")
            if out.dtype != np.float32:
                title = f"dtype changed: {name}{self._element_note(name)}" if len(names) > 1 \
                    else "dtype changed"
                self.fail(title,
                          f"input: {inputs}", f"returned {out.dtype}; keep the input's dtype "
                          "(float32 in, float32 out).",
                          "hint: avoid .astype(float) and np.float64 constants; bools from "
                          "comparisons (x > 0) need .astype(x.dtype).")
        self.ok("float32 kept")


# ------------------------------------------------------------------ running a check

def _unknown(exercise_id):
    import difflib

    close = difflib.get_close_matches(str(exercise_id), EXERCISES, n=1)
    return (f"Unknown exercise {exercise_id!r}." + (f" Did you mean {close[0]!r}?" if close
                                                    else "")
            + f" Valid ids: {', '.join(EXERCISES)}.")


def run_check(exercise_id, fn, *, runner=None, helpers=True):
    """Run the oracle of ``exercise_id`` on ``fn`` and return a :class:`CheckResult`.

    ``runner`` (the grader's) runs the calls elsewhere; ``helpers`` adds a note when the
    function calls another exercise's function of the learner's that fails its own check.
    """
    if not isinstance(exercise_id, str) or exercise_id not in EXERCISES:
        raise KeyError(_unknown(exercise_id))
    if not callable(fn):
        return CheckResult(exercise_id, "failed", "that is not a function", [
            f"check({exercise_id!r}, fn) needs your function itself, got {_kind(fn)}.",
            "hint: pass the name without calling it: check('...', relu), not "
            "check('...', relu(x))."])
    tester = Tester(fn, exercise_id, runner)
    try:
        with np.errstate(all="ignore"):  # the learner's overflow is judged by the result
            EXERCISES[exercise_id].oracle(tester)
    except _NotAttempted:
        result = CheckResult(exercise_id, "not attempted")
    except _Fail as f:
        result = CheckResult(exercise_id, "failed", f.title, f.lines, tester.checked)
    except KeyboardInterrupt:
        raise
    except Exception as e:  # a checker bug must still end in a verdict
        result = CheckResult(exercise_id, "failed", "the checker could not judge this answer",
                             [f"internal error: {type(e).__name__}: {e}"[:200],
                              "Please report this (with your function) to the course."])
    else:
        result = CheckResult(exercise_id, "passed", checked=tester.checked)
    finally:
        tester.close()
    if tester.printed_total:
        kept = "".join(tester.printed)
        cut = tester.printed_total - len(kept)
        result.printed = kept + (f"\n… ({cut:,} more characters printed by your function "
                                 f"cut)" if cut > 0 else "")
    if helpers and result.status == "failed":
        result.lines += _helper_notes(exercise_id, fn)
    return result


def _referenced_names(code, depth=0):
    names = set(code.co_names)
    if depth < 3:
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                names |= _referenced_names(const, depth + 1)
    return names


def _helper_notes(exercise_id, fn):
    """'your conv2d_forward calls your im2col, which fails its own check' -- for plain
    functions only (no learner code runs to find out)."""
    if not isinstance(fn, types.FunctionType):
        return []
    ex = EXERCISES[exercise_id]
    notes = []
    for name in sorted(_referenced_names(fn.__code__)):
        helper_ex = exercise_for_name(name, ex.chapter)
        if helper_ex is None or helper_ex.id == exercise_id:
            continue
        helper = dict.get(fn.__globals__, name)
        if not isinstance(helper, types.FunctionType):
            continue
        verdict = run_check(helper_ex.id, helper, helpers=False)
        if verdict.status == "failed":
            notes.append(f"note: your {fn.__name__} calls your {name}, which fails its own "
                         f"check ({verdict.title}): fix {name} first "
                         f"(check({helper_ex.id!r}, {name})).")
        elif verdict.status == "not attempted":
            notes.append(f"note: your {fn.__name__} calls your {name}, which is not written "
                         f"yet.")
    return notes


def emit(result, file=None):
    out = file or sys.stdout
    if result.printed:
        print("[printed by your function]\n" + result.printed.rstrip("\n"), file=out)
    print(result.message, file=out)
