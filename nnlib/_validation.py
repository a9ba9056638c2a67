"""Input and hyperparameter validation shared by every nnlib object.

One message template everywhere (after scikit-learn): say which parameter of which
object, what was expected, what came, and the fix. Real exceptions, never asserts.
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
import functools
import inspect
import math
import numbers

import numpy as np

__all__ = [
    "ShapeError",
    "check_float",
    "check_int",
    "check_choice",
    "check_array",
    "check_finite",
    "check_dtype",
    "check_size",
    "allocation_budget",
    "MAX_ARRAY_BYTES",
    "float_dtype",
    "reject_unknown_kwargs",
    "shape_str",
]


class ShapeError(ValueError):
    """An array had the wrong shape. A ``ValueError``, so ``except ValueError`` catches it."""


def shape_str(shape) -> str:
    """``(32, 784)`` for a tuple; ``(N, 784)`` style strings pass through."""
    if isinstance(shape, str):
        return shape
    return "(" + ", ".join(str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


def _number_kind(kind) -> str:
    return "an int" if kind is int else "a float"


def _range_text(low, high, low_open, high_open) -> str:
    if low is not None and high is not None:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        return f"in {left}{low}, {high}{right}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high}"
    return ""


def _check_number(owner, name, value, kind, low, high, low_open, high_open):
    valid_type = isinstance(value, numbers.Integral if kind is int else numbers.Real)
    if isinstance(value, bool):
        valid_type = False
    in_range = valid_type and np.isfinite(value)
    if in_range and low is not None:
        in_range = value > low if low_open else value >= low
    if in_range and high is not None:
        in_range = value < high if high_open else value <= high
    if not in_range:
        rng = _range_text(low, high, low_open, high_open)
        raise ValueError(
            f"The {name!r} parameter of {owner} must be {_number_kind(kind)}"
            f"{' ' + rng if rng else ''}. Got {value!r} instead."
        )
    return kind(value)


def check_float(owner, name, value, *, low=None, high=None, low_open=False, high_open=False):
    """Return ``float(value)`` or raise a ``ValueError`` in the house template.

    >>> check_float("SGD", "lr", -1, low=0, low_open=True)
    Traceback (most recent call last):
    ValueError: The 'lr' parameter of SGD must be a float > 0. Got -1 instead.
    """
    return _check_number(owner, name, value, float, low, high, low_open, high_open)


def check_int(owner, name, value, *, low=None, high=None):
    """Return ``int(value)`` or raise a ``ValueError`` in the house template."""
    return _check_number(owner, name, value, int, low, high, False, False)


def check_choice(owner, name, value, choices):
    """Return ``value`` if it is one of ``choices``, else raise with the valid ones listed."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(
            f"The {name!r} parameter of {owner} must be one of {listed}. Got {value!r} instead."
        )
    return value


def float_dtype(owner, dtype) -> np.dtype:
    """Normalise a ``dtype=`` argument: float32 or float64 only."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(
            f"The 'dtype' parameter of {owner} must be np.float32 or np.float64. "
            f"Got {dtype!r} instead."
        )
    return dt


def check_array(owner, x, *, name="input", expected=None, ndim=None):
    """Check that ``x`` is a real-valued ndarray with ``ndim`` dimensions.

    ``expected`` is the shape to show in the message, e.g. ``"(N, 784)"``.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"{owner} expected its {name} to be a NumPy array, got {type(x).__name__}. "
            f"Convert it first: np.asarray(x, dtype=np.float32)."
        )
    if x.dtype.kind == "c":  # complex (np.iscomplexobj costs 10x more per call)
        raise TypeError(
            f"{owner} expected real numbers in its {name}, got complex values ({x.dtype}). "
            f"nnlib works with real arrays: pass x.real, np.abs(x) or both parts as "
            f"separate features, whichever your problem means."
        )
    if ndim is not None and x.ndim != ndim:
        raise ShapeError(
            f"{owner} expected {name} {expected or f'with {ndim} dimensions'}, "
            f"got {shape_str(x.shape)}."
        )
    return x


#: The largest array (parameter or workspace) a layer may ask for, in bytes: 4 GiB.
#: Larger requests are almost always a slip (the number of samples passed as a
#: feature count, padding=10**4) and would otherwise make NumPy try to allocate TiBs.
MAX_ARRAY_BYTES = 4 * 1024**3

# While a model file is being loaded, how many bytes its layers may still allocate (the
# stored arrays' size); None otherwise. See allocation_budget.
_BUDGET = contextvars.ContextVar("nnlib_allocation_budget", default=None)


def _human_bytes(n) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def check_size(owner, what, shape, dtype, *, fix="Check the sizes you passed.", budgeted=True):
    """Refuse an array of ``shape`` and ``dtype`` before it is allocated when it would
    exceed :data:`MAX_ARRAY_BYTES` (or, while a model file loads, what the file holds).

    Layers call this in ``__init__`` for every parameter and in ``forward`` for large
    workspaces (``budgeted=False``: they are not part of a saved model); ``what`` names
    the array ("weight matrix W"), ``fix`` says what to do. The sizes are Python ints, so
    a product of huge dimensions cannot overflow.
    """
    count = math.prod(int(s) for s in shape)
    nbytes = count * np.dtype(dtype).itemsize
    if nbytes > MAX_ARRAY_BYTES:
        raise ValueError(
            f"{owner} would need {what} of shape {shape_str(tuple(shape))}: {count:,} values, "
            f"{_human_bytes(nbytes)} as {np.dtype(dtype).name}, more than nnlib's bound of "
            f"{_human_bytes(MAX_ARRAY_BYTES)} per array. {fix}"
        )
    budget = _BUDGET.get() if budgeted else None
    if budget is not None:
        if nbytes > budget[0]:
            raise ValueError(
                f"{owner} would need {what} of shape {shape_str(tuple(shape))} "
                f"({_human_bytes(nbytes)}), more than the {_human_bytes(budget[1])} of arrays "
                f"{budget[2]} holds: its architecture description does not match its arrays."
            )
        budget[0] -= nbytes


@contextlib.contextmanager
def allocation_budget(nbytes, stored, source):
    """Within this block, layers built may allocate at most ``nbytes`` in total through
    :func:`check_size`: a model file cannot make ``load`` allocate much more than the
    ``stored`` bytes of arrays it holds. ``source`` names the file in the message."""
    token = _BUDGET.set([int(nbytes), int(stored), str(source)])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def check_dtype(owner, x, dtype, *, name="input"):
    """Require ``x.dtype == dtype`` exactly: a silent upcast would double the cost of
    every GEMM (float64) or truncate values (ints)."""
    if x.dtype != dtype:
        if np.issubdtype(x.dtype, np.floating):
            fix = (
                f"Convert the data with x.astype(np.{dtype.name}), or build the layer "
                f"with dtype=np.{x.dtype.name}."
            )
        else:
            fix = f"Convert it with x.astype(np.{dtype.name}) (scale images to [0, 1] first)."
        raise TypeError(f"{owner} expected {name} of dtype {dtype.name}, got {x.dtype}. {fix}")


def check_finite(owner, x, *, name="input"):
    """Raise if ``x`` holds NaN or inf, naming the first bad index."""
    # One BLAS pass, no temporary: a NaN or inf anywhere makes x . x non-finite. Only
    # then (or if huge finite values overflow it) do we pay for the elementwise search.
    if x.dtype.kind == "f" and np.isfinite(np.vdot(x, x)):
        return
    if not np.isfinite(x).all():
        bad = np.argwhere(~np.isfinite(x))[0]
        value = x[tuple(bad)]
        raise ValueError(
            f"{owner} got {value} in its {name} at index {tuple(int(i) for i in bad)}. "
            f"Clean the data first (np.isfinite(x).all() must hold), e.g. drop or impute "
            f"missing values."
        )


# Names learners bring from other libraries, mapped to ours.
_SYNONYMS = {"learning_rate": "lr", "units": "out_features", "rate": "p",
             "n_epochs": "epochs", "num_epochs": "epochs", "validation_split": "validation_data",
             "beta_1": "beta1", "beta_2": "beta2", "epsilon": "eps", "decay": "weight_decay",
             "input_dim": "in_features", "output_dim": "out_features"}


def reject_unknown_kwargs(func):
    """Decorator: an unknown keyword argument raises a TypeError that lists the valid ones
    and suggests the nearest, instead of Python's bare "unexpected keyword argument"."""
    sig = inspect.signature(func)
    accepts_var_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    valid = [n for n, p in sig.parameters.items()
             if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if not accepts_var_kw:
            unknown = [k for k in kwargs if k not in sig.parameters]
            if unknown:
                owner = (type(args[0]).__name__ if func.__name__ == "__init__"
                         else func.__qualname__)
                bad = unknown[0]
                close = ([_SYNONYMS[bad]] if _SYNONYMS.get(bad) in valid
                         else difflib.get_close_matches(bad, valid, n=1))
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise TypeError(
                    f"{owner} got an unexpected keyword argument {bad!r}.{hint} "
                    f"Valid keywords: {', '.join(valid)}."
                )
        return func(*args, **kwargs)

    return wrapper
