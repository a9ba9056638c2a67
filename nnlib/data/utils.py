"""Data utilities: splits, one-hot labels, scaling, random shifts (augmentation) and a
seeded mini-batch iterator."""

from __future__ import annotations

import numpy as np

from .._validation import ShapeError, check_float, check_int
from ..functional.losses import one_hot
from ..utils import as_rng

__all__ = ["train_test_split", "one_hot", "standardize", "normalize", "random_shift",
           "minibatches"]


def _same_length(owner, *arrays):
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ShapeError(f"{owner} needs arrays with the same number of rows (samples), got "
                         f"{', '.join(str(len(a)) for a in arrays)}.")
    return lengths.pop()


def train_test_split(*arrays, test_size=0.2, rng=None, stratify=None):
    """Shuffle and split arrays with the same first dimension.

    Parameters
    ----------
    *arrays : ndarrays of shape (N, ...)
    test_size : float in (0, 1) (a fraction) or int (a count)
    rng : None, int or Generator
    stratify : None or integer labels (N,)
        Keep each class's proportion in both parts (important for class-sorted data
        such as :func:`load_mnist_sample`).

    Returns
    -------
    list: ``train, test`` for each array in turn, e.g. ``x_tr, x_te, y_tr, y_te``.
    """
    n = _same_length("train_test_split", *arrays)
    if isinstance(test_size, float):
        n_test = int(round(check_float("train_test_split", "test_size", test_size, low=0,
                                       high=1, low_open=True, high_open=True) * n))
    else:
        n_test = check_int("train_test_split", "test_size", test_size, low=1, high=n - 1)
    rng = as_rng(rng)
    if stratify is None:
        order = rng.permutation(n)
        test, train = order[:n_test], order[n_test:]
    else:
        classes, counts = np.unique(stratify, return_counts=True)
        per_class = np.floor(counts * n_test / n).astype(int)
        # hand out what rounding left over to the largest remainders
        remainder = counts * n_test / n - per_class
        per_class[np.argsort(-remainder)[:n_test - per_class.sum()]] += 1
        test_parts, train_parts = [], []
        for c, k in zip(classes, per_class, strict=True):
            idx = rng.permutation(np.flatnonzero(stratify == c))
            test_parts.append(idx[:k])
            train_parts.append(idx[k:])
        test = rng.permutation(np.concatenate(test_parts))
        train = rng.permutation(np.concatenate(train_parts))
    out = []
    for a in arrays:
        out += [a[train], a[test]]
    return out


def standardize(x, mean=None, std=None):
    """Columns (axis 0) to mean 0 and std 1; returns ``(x_std, mean, std)``.

    Pass the training set's ``mean`` and ``std`` to scale validation and test data the
    same way. A constant column (max == min) becomes 0 instead of NaN, and its ``std`` is
    returned as exactly 0: rounding can make the std of a constant column 1e-17 rather
    than 0 (six 0.1s), and dividing by it would turn rounding noise into +-1. Columns
    whose given ``std`` is 0 become 0 as well. Derived in
    chapters/01_numpy_for_neural_nets.ipynb, "Standardising features".

    >>> z, mean, std = standardize(np.array([[1.0, 0.1], [3.0, 0.1], [5.0, 0.1]]))
    >>> z[:, 1].tolist(), float(std[1])
    ([0.0, 0.0, 0.0], 0.0)
    """
    mean = x.mean(axis=0) if mean is None else mean
    if std is None:
        std = x.std(axis=0)
        std = np.where(x.max(axis=0) == x.min(axis=0), 0, std).astype(std.dtype, copy=False)
    constant = np.asarray(std) == 0
    scaled = np.where(constant, 0, (x - mean) / np.where(constant, 1, std))
    return scaled.astype(x.dtype, copy=False), mean, std


def normalize(x, low=None, high=None):
    """Rescale to [0, 1] with the global min and max (or the given ``low``/``high``)."""
    low = x.min() if low is None else low
    high = x.max() if high is None else high
    span = high - low if high > low else 1
    return ((x - low) / span).astype(x.dtype, copy=False)


def random_shift(x, max_shift, rng=None):
    """Each image moved by its own random whole-pixel offset, zeros filling in at the edge.

    The offsets (dy, dx) are drawn uniformly from the integers in [-max_shift, max_shift]
    for each image; what moves past the border is lost. Used to augment images that
    were all centred the same way (MNIST's digits), as in chapters/10_pooling_cnns.ipynb,
    "More digits for free: shifts" and chapters/12_capstone.ipynb, "More digits for free:
    shifts".

    Parameters
    ----------
    x : ndarray of shape (N, ..., H, W)
        Images; the last two axes are moved, the others are kept.
    max_shift : int >= 0
    rng : None, int or Generator

    Returns
    -------
    ndarray of the shape and dtype of ``x`` (a new array; ``x`` is not changed)

    >>> x = np.zeros((1, 3, 3)); x[0, 1, 1] = 1
    >>> random_shift(x, 0).tolist() == x.tolist()
    True
    """
    x = np.asarray(x)
    if x.ndim < 3:
        raise ShapeError(f"random_shift expected images (N, ..., H, W) with at least 3 axes, got "
                         f"shape {x.shape}. One image? Pass x[None].")
    max_shift = check_int("random_shift", "max_shift", max_shift, low=0)
    k = 2 * max_shift + 1
    h, w = x.shape[-2:]
    pad = [(0, 0)] * (x.ndim - 2) + [(max_shift, max_shift)] * 2
    padded = np.pad(x, pad)
    top, left = as_rng(rng).integers(0, k, (2, len(x)))    # window corner in padded image
    out = np.empty_like(x)
    # one slice per distinct offset ((2 max_shift + 1)^2 of them), not one per image
    for a in range(k):
        for b in range(k):
            chosen = (top == a) & (left == b)
            out[chosen] = padded[chosen, ..., a:a + h, b:b + w]
    return out


def minibatches(*arrays, batch_size=32, shuffle=True, rng=None, drop_last=False):
    """Yield tuples of aligned mini-batches, reshuffled on every call when ``shuffle``.

    The last batch may be smaller, unless ``drop_last`` is True.

    >>> x = np.arange(10); y = np.arange(10) * 2
    >>> [len(xb) for xb, yb in minibatches(x, y, batch_size=4, shuffle=False)]
    [4, 4, 2]
    """
    n = _same_length("minibatches", *arrays)
    batch_size = check_int("minibatches", "batch_size", batch_size, low=1)
    order = as_rng(rng).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        yield tuple(a[idx] for a in arrays)
