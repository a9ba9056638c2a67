"""Losses: ``loss = L.forward(pred, target)`` returns a float, ``L.backward()`` returns
dloss/dpred. ``MSELoss``, ``BCELoss`` and ``BCEWithLogitsLoss`` average over all elements
(as PyTorch); ``CrossEntropyLoss`` averages over the batch. Derived in
chapters/04_losses.ipynb, "MSE from a Gaussian likelihood", "BCE from a Bernoulli likelihood"
and "BCE through a sigmoid: the gradient collapses to $p - y$", and in
chapters/05_softmax_cross_entropy.ipynb, "The gradient through both: $p - y$".

Shapes are never broadcast: a (N, 1) prediction against a (N,) target is the classic
silent bug (it compares every pair and averages N^2 numbers), so it raises instead.
"""

from __future__ import annotations

import numpy as np

from ._validation import ShapeError, check_array, check_choice, check_finite, shape_str
from .functional import losses as F

__all__ = ["Loss", "MSELoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "get"]


class Loss:
    """Base class: subclasses implement ``_compute(pred, target) -> (loss, dpred)``, and
    the classification losses ``accuracy``.

    A loss's hyperparameters are its constructor keywords, returned by ``get_config``;
    ``fit`` copies a loss instance given for several outputs, configuration included.
    """

    #: True when :meth:`accuracy` means something for this loss (classification);
    #: ``fit`` then reports an ``accuracy`` metric.
    has_accuracy = False

    def __init__(self):
        self._dpred = None

    def forward(self, pred, target) -> float:
        """The loss of a batch, as a float.

        Parameters
        ----------
        pred : ndarray of shape (N, ...), float: the model's output
        target : ndarray, the shape of ``pred`` (integer labels (N,) for
            ``CrossEntropyLoss``); never broadcast

        Returns
        -------
        float. Stores dloss/dpred for :meth:`backward`.
        """
        name = type(self).__name__
        check_array(name, pred, name="predictions")
        check_array(name, target, name="targets")
        if pred.dtype.kind != "f":  # not a float dtype
            raise TypeError(f"{name} expected float predictions, got {pred.dtype}. The model "
                            f"output should be float; convert with pred.astype(np.float32).")
        if pred.size == 0:
            raise ValueError(f"{name} got an empty batch: predictions {shape_str(pred.shape)}, "
                             f"targets {shape_str(target.shape)}. A mean over no samples is "
                             f"undefined; pass at least one sample (check the slicing that "
                             f"made the batch).")
        self._check_target(pred, target)
        loss, dpred = self._compute(pred, target)
        if not np.isfinite(loss):
            check_finite(name, pred, name="predictions")
            raise FloatingPointError(f"{name} overflowed to {loss}: the predictions are too "
                                     f"large (max |pred| = {np.abs(pred).max():.3g}).")
        self._dpred = dpred.astype(pred.dtype, copy=False)
        return loss

    __call__ = forward

    def backward(self):
        """dloss/dpred of the last :meth:`forward`.

        Returns
        -------
        ndarray, same shape and dtype as the last ``pred``
        """
        if self._dpred is None:
            raise RuntimeError(f"{type(self).__name__}.backward was called before forward. "
                               f"Call loss.forward(pred, target) first.")
        return self._dpred

    def _check_target(self, pred, target):
        name = type(self).__name__
        if pred.shape != target.shape:
            fix = (" Try target.reshape(-1, 1)." if pred.ndim == 2 and pred.shape[1] == 1
                   and target.shape == pred.shape[:1] else "")
            raise ShapeError(f"{name} needs predictions and targets of the same shape, got "
                             f"predictions {shape_str(pred.shape)} and targets "
                             f"{shape_str(target.shape)} (nothing is broadcast).{fix}")
        check_finite(name, target, name="targets")

    def accuracy(self, pred, target):
        """Fraction of correct predictions (a float in [0, 1]) for classification
        losses (``has_accuracy``); None for the others."""
        return None

    def get_config(self) -> dict:
        """Constructor keywords that rebuild this loss: ``type(loss)(**config)``."""
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MSELoss(Loss):
    """Mean squared error over all elements: mean((pred - target)^2); dpred =
    2 (pred - target) / size.

    Shapes
    ------
    pred, target : (N, ...) of one shape -> a float
    """

    def _compute(self, pred, target):
        return F.mse(pred, target)


def _check_unit_interval(owner, a, what, fix):
    lo, hi = float(a.min()), float(a.max())
    if lo < 0 or hi > 1:
        raise ValueError(f"{owner} takes {what} in [0, 1], got values in [{lo:.3g}, {hi:.3g}]. "
                         f"{fix}")


class BCELoss(Loss):
    """Binary cross-entropy on probabilities p in [0, 1]; mean over all elements.
    p is clipped away from 0 and 1 so the loss stays finite. Prefer ``BCEWithLogitsLoss``
    on raw scores: it is exact where the sigmoid saturates.

    Shapes
    ------
    pred : (N, ...) probabilities (e.g. after a Sigmoid), target : the same shape, labels
    0/1 or soft labels in [0, 1] -> a float. Accuracy: p > 0.5 against target > 0.5.
    """

    has_accuracy = True

    def accuracy(self, pred, target):
        return float(np.mean((pred > 0.5) == (target > 0.5)))

    def _check_target(self, pred, target):
        super()._check_target(pred, target)
        _check_unit_interval("BCELoss", target, "targets", "Labels must be 0/1 (or soft).")
        if not np.isnan(pred).any():
            _check_unit_interval("BCELoss", pred, "probabilities",
                                 "Add a Sigmoid layer, or use BCEWithLogitsLoss on raw scores.")

    def _compute(self, pred, target):
        return F.binary_cross_entropy(pred, target)


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy on logits z (sigmoid fused in); mean over all elements.
    dz = (sigmoid(z) - y) / size. Exact and finite for any finite z.

    Shapes
    ------
    pred : (N, ...) raw scores (logits), target : the same shape, in [0, 1] -> a float.
    Accuracy: z > 0 against target > 0.5.
    """

    has_accuracy = True

    def accuracy(self, pred, target):
        return float(np.mean((pred > 0) == (target > 0.5)))

    def _check_target(self, pred, target):
        super()._check_target(pred, target)
        _check_unit_interval("BCEWithLogitsLoss", target, "targets",
                             "Labels must be 0/1 (or soft).")

    def _compute(self, pred, target):
        return F.binary_cross_entropy_with_logits(pred, target)


def _check_rows_sum_to_one(owner, target):
    """Probability targets (N, C), or (N, T, C) for sequences: every row (the last axis)
    must sum to 1, within the rounding of its dtype. A row of zeros (a missing label) or
    of two ones would train silently wrong."""
    sums = target.sum(axis=-1, dtype=np.float64).reshape(-1)   # rows in C order
    tol = max(1e-6, 10 * target.shape[-1] * np.finfo(target.dtype).eps)
    bad = np.flatnonzero(np.abs(sums - 1) > tol)
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{owner} takes one-hot or probability rows that sum to 1, but "
                         f"{bad.size} of {len(sums)} rows do not: row {i} sums to "
                         f"{sums[i]:.6g}. Use integer labels (N,), or normalise the rows: "
                         f"y / y.sum(axis=1, keepdims=True).")


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy on logits ``(N, C)``; mean over the batch.

    Targets are integer class labels ``(N,)`` in [0, C) or probability rows ``(N, C)``
    (one-hot or soft) that each sum to 1. The softmax is fused in, so dlogits =
    (p - y) / N, derived in chapters/05_softmax_cross_entropy.ipynb, "The gradient through
    both: $p - y$". Do not put a Softmax layer before it.
    Accuracy: the arg-max of the logits against the label (or the target's arg-max).

    Sequences: logits ``(N, T, C)`` with labels ``(N, T)`` (or probabilities ``(N, T,
    C)``) score every position, the mean over all N T positions (as PyTorch's
    cross-entropy with the classes on axis 1); accuracy is then per position. This is
    the loss of a language model, chapters/13_attention_transformers.ipynb, "A
    character-level language model".
    """

    has_accuracy = True

    def accuracy(self, pred, target):
        labels = target if target.ndim == pred.ndim - 1 else target.argmax(axis=-1)
        return float(np.mean(pred.argmax(axis=-1) == labels))

    def _check_target(self, pred, target):
        name = "CrossEntropyLoss"
        if pred.ndim not in (2, 3):
            raise ShapeError(f"{name} expected logits (N, C), or (N, T, C) for sequences, got "
                             f"{shape_str(pred.shape)}. The last layer should output one "
                             f"score per class.")
        c = pred.shape[-1]
        lead = pred.shape[:-1]                       # (N,) or (N, T)
        if target.ndim == pred.ndim:
            super()._check_target(pred, target)
            if not np.issubdtype(target.dtype, np.floating):
                target = target.astype(pred.dtype)
            _check_unit_interval(name, target, "one-hot/probability targets",
                                 "Rows must be probability vectors.")
            _check_rows_sum_to_one(name, target)
            return
        if target.shape != lead:
            raise ShapeError(f"{name} expected integer labels of shape {shape_str(lead)} or "
                             f"one-hot targets {shape_str(pred.shape)}, got "
                             f"{shape_str(target.shape)}.")
        if not np.issubdtype(target.dtype, np.integer):
            whole = (np.issubdtype(target.dtype, np.floating)
                     and np.all(np.isfinite(target)) and np.all(target == np.round(target)))
            fix = (" They are whole numbers: pass y.astype(np.int64)." if whole else
                   " Class labels must be integers 0 .. C-1.")
            raise TypeError(f"{name} expected integer class labels, got {target.dtype} labels."
                            f"{fix}")
        lo, hi = int(target.min()), int(target.max())
        if lo < 0 or hi >= c:
            raise ValueError(f"{name} got labels in [{lo}, {hi}] but the logits have {c} "
                             f"classes, so labels must be in [0, {c - 1}]. Give the last layer "
                             f"{hi + 1} outputs, or relabel the classes to 0 .. {c - 1}.")

    def _compute(self, pred, target):
        if target.ndim == pred.ndim and target.dtype != pred.dtype:
            target = target.astype(pred.dtype)
        if pred.ndim == 2:
            return F.cross_entropy(pred, target)
        c = pred.shape[-1]                           # every position is one row
        rows = target.reshape(-1, c) if target.ndim == 3 else target.reshape(-1)
        loss, dlogits = F.cross_entropy(pred.reshape(-1, c), rows)
        return loss, dlogits.reshape(pred.shape)


_BY_NAME = {"mse": MSELoss, "bce": BCELoss, "bce_with_logits": BCEWithLogitsLoss,
            "cross_entropy": CrossEntropyLoss}


def get(loss):
    """A loss instance from a name (``"cross_entropy"``, ``"mse"``, ...) or as it is."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, type) and issubclass(loss, Loss):
        return loss()
    return _BY_NAME[check_choice("fit", "loss", loss, tuple(_BY_NAME))]()
