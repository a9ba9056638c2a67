"""Small helpers every part of nnlib may use: the seeded random source, the relative
error that every comparison in the course reports, and the plain-text table that
``summary()`` prints. This module imports NumPy only (it sits at the bottom of the
house; see nnlib/README.md)."""

from __future__ import annotations

import numpy as np

__all__ = ["as_rng", "relative_error", "Text", "table"]


def as_rng(rng):
    """``None`` -> a fresh ``default_rng()``; an int -> ``default_rng(seed)``; a Generator
    passes through. The only source of randomness in nnlib: no global state.

    >>> as_rng(0).integers(10) == as_rng(0).integers(10)
    True
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(
        f"rng must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}. "
        f"Try rng=np.random.default_rng(0)."
    )


def relative_error(a, b, floor=1e-8):
    """Elementwise relative error ``|a - b| / max(floor, |a| + |b|)``, in float64.

    The one formula behind ``gradcheck.rel_error``, the gradient-check report and
    ``Pointwise``'s derivative check. ``floor`` keeps two tiny values from looking far
    apart. NaN stays NaN (callers decide what it means).

    Parameters
    ----------
    a, b : array_like of one shape

    Returns
    -------
    ndarray of float64, the shape of ``a``
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error needs arrays of one shape, got {a.shape} and "
                         f"{b.shape}.")
    return np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b))


class Text(str):
    """A string that a notebook shows as itself: no quotes, real line breaks. What
    ``summary()`` and tables return, so the last line of a cell displays them."""

    def __repr__(self):
        return str(self)


def table(rows, *, title=None, footer=None, right=()):
    """A plain-text table between rules, as ``summary()`` prints it.

    Parameters
    ----------
    rows : sequence of sequences of str, the first row the header
    title, footer : str or None, lines above and below the table
    right : column indices to right-align (numbers)

    Returns
    -------
    Text

    >>> print(table([("layer", "params"), ("Dense(2, 3)", "9")], right=(1,)))
    -------------------
    layer        params
    -------------------
    Dense(2, 3)       9
    -------------------
    """
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) if c in right else cell.ljust(w)
                       for c, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
             for row in rows]
    rule = "-" * max(len(line) for line in lines)
    body = [rule, lines[0], rule, *lines[1:], rule]
    return Text("\n".join(([title] if title else []) + body + ([footer] if footer else [])))
