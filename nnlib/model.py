"""``Sequential``: layers applied in order, with a training loop (``fit``), ``evaluate``,
``predict``, ``summary`` and ``save``/``load``. Built in chapters/07_training.ipynb.
"""

from __future__ import annotations

import numpy as np

from . import losses as losses_mod
from ._validation import (
    ShapeError,
    check_array,
    check_finite,
    check_int,
    reject_unknown_kwargs,
    shape_str,
)
from .callbacks import Callback, History, ProgressBar
from .layers import Container
from .optim import Optimizer
from .serialization import load_model, save_model

__all__ = ["Sequential", "accuracy"]


_CLASSIFICATION = (losses_mod.CrossEntropyLoss, losses_mod.BCEWithLogitsLoss, losses_mod.BCELoss)


def accuracy(loss, pred, y):
    """Fraction of correct predictions for a classification loss, or None (regression)."""
    if isinstance(loss, losses_mod.CrossEntropyLoss):
        labels = y if y.ndim == 1 else y.argmax(axis=1)
        return float(np.mean(pred.argmax(axis=1) == labels))
    if isinstance(loss, losses_mod.BCEWithLogitsLoss):
        return float(np.mean((pred > 0) == (y > 0.5)))
    if isinstance(loss, losses_mod.BCELoss):
        return float(np.mean((pred > 0.5) == (y > 0.5)))
    return None


class Sequential(Container):
    """Layers applied one after the other: ``Sequential(Dense(2, 16), ReLU(), Dense(16, 3))``.

    ``forward``/``backward`` run the chain; ``parameters()`` names each parameter by the
    layer's position (``"0.W"``). Training, evaluation and saving are methods below.
    """

    def __init__(self, *layers):
        super().__init__(*layers)
        dtypes = {(i, layer.dtype) for i, layer in enumerate(self.layers)
                  if layer.dtype is not None}
        if len({dt for _, dt in dtypes}) > 1:
            listed = ", ".join(f"layer {i} is {dt.name}" for i, dt in sorted(dtypes))
            raise TypeError(f"Sequential layers must share one dtype, but {listed}. Pass the "
                            f"same dtype= to every layer (np.float32 is the default).")
        self.dtype = next((dt for _, dt in sorted(dtypes)), None)
        self.stop_training = False
        self.optimizer = None
        self._input_shape = None

    # --- forward / backward ---------------------------------------------------------------
    def forward(self, x):
        """Run every layer in order. ``x`` must be finite: NaN stops here, not 5 layers on."""
        check_array("Sequential", x)
        check_finite("Sequential", x)
        self._input_shape = x.shape[1:]
        return self._forward_chain(x)

    def backward(self, dout, *, input_grad=True):
        """Backpropagate ``dout`` through every layer in reverse; returns dx.

        ``input_grad=False`` (what ``fit`` uses) skips the gradient with respect to the
        input, which training never needs, and returns None: for an MLP on MNIST that
        saves the largest GEMM of the backward pass.
        """
        return self._backward_chain(dout, input_grad)

    # --- training ---------------------------------------------------------------------------
    def _as_data(self, a, what, *, labels=False):
        """Arrays in, converted once: numbers to the model's dtype (integer labels stay)."""
        a = np.asarray(a)
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise TypeError(f"Sequential expected numeric {what}, got dtype {a.dtype}.")
        if not (labels and np.issubdtype(a.dtype, np.integer)):
            a = a.astype(self.dtype or np.float32, copy=False)
        check_finite("Sequential", a, name=what)
        return a

    @reject_unknown_kwargs
    def fit(self, x, y, *, loss, optimizer, epochs=1, batch_size=32, validation_data=None,
            callbacks=(), shuffle=True, seed=None, verbose=True):
        """Train with mini-batch gradient descent.

        Parameters
        ----------
        x : ndarray of shape (N, ...), converted to the model's dtype
        y : ndarray of shape (N, ...), targets (integer labels for cross-entropy)
        loss : Loss or str ("cross_entropy", "mse", "bce", "bce_with_logits")
        optimizer : Optimizer built on ``self.parameters()``
        epochs, batch_size : int >= 1 (the last batch of an epoch may be smaller)
        validation_data : (x_val, y_val) or None, evaluated after every epoch
        callbacks : sequence of Callback (e.g. ``EarlyStopping``)
        shuffle : bool, reshuffle the samples every epoch
        seed : int or None, seeds the shuffling
        verbose : bool, show a progress bar

        Returns
        -------
        History with per-epoch ``loss``, ``accuracy`` (classification losses) and ``val_*``.
        """
        loss = losses_mod.get(loss)
        epochs = check_int("fit", "epochs", epochs, low=1)
        batch_size = check_int("fit", "batch_size", batch_size, low=1)
        self._check_optimizer(optimizer)
        self.optimizer = optimizer  # callbacks such as LearningRateScheduler reach it here
        x = self._as_data(x, "inputs")
        y = self._as_data(y, "targets", labels=True)
        if len(x) != len(y):
            raise ShapeError(f"fit got {len(x)} inputs but {len(y)} targets; they must have "
                             f"the same first dimension (rows are samples).")
        val = None
        if validation_data is not None:
            if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
                raise TypeError("validation_data must be a pair (x_val, y_val).")
            val = (self._as_data(validation_data[0], "validation inputs"),
                   self._as_data(validation_data[1], "validation targets", labels=True))

        self._input_shape = x.shape[1:]
        num_batches = -(-len(x) // batch_size)
        rng = np.random.default_rng(seed)
        history = History()
        cbs = [history, *callbacks] + ([ProgressBar()] if verbose else [])
        metrics = ["loss"] + (["accuracy"] if isinstance(loss, _CLASSIFICATION) else [])
        if val is not None:
            metrics += [f"val_{m}" for m in metrics]
        self.stop_training = False
        for cb in cbs:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be Callback objects, got {cb!r}.")
            cb.set_model(self)
            cb.on_train_begin({"metrics": metrics, "epochs": epochs, "num_batches": num_batches})

        self.train()
        # Overflow and NaN are not warned about batch by batch: a non-finite loss stops
        # training below with an explanation instead.
        with np.errstate(over="ignore", invalid="ignore"):
            self._train_epochs(x, y, loss, optimizer, epochs, batch_size, shuffle, rng,
                               val, metrics, cbs)
        for cb in cbs:
            cb.on_train_end({})
        return history

    def _train_epochs(self, x, y, loss, optimizer, epochs, batch_size, shuffle, rng, val,
                      metrics, cbs):
        n = len(x)
        num_batches = -(-n // batch_size)
        for epoch in range(epochs):
            for cb in cbs:
                cb.on_epoch_begin(epoch)
            order = rng.permutation(n) if shuffle else np.arange(n)
            total_loss = total_correct = 0.0
            for b in range(num_batches):
                idx = order[b * batch_size:(b + 1) * batch_size]
                xb, yb = x[idx], y[idx]
                pred = self._forward_chain(xb)  # x was checked once, in fit
                batch_loss = self._loss_or_explain(loss, pred, yb, optimizer, epoch, epochs, b,
                                                   num_batches)
                optimizer.zero_grad()
                self.backward(loss.backward(), input_grad=False)
                optimizer.step()
                total_loss += batch_loss * len(idx)
                if "accuracy" in metrics:
                    total_correct += accuracy(loss, pred, yb) * len(idx)
                for cb in cbs:
                    cb.on_batch_end(b, {"loss": batch_loss})
            logs = {"loss": total_loss / n}
            if "accuracy" in metrics:
                logs["accuracy"] = total_correct / n
            if val is not None:
                scores = self.evaluate(*val, loss=loss)
                logs.update({f"val_{k}": v for k, v in scores.items()})
            for cb in cbs:
                cb.on_epoch_end(epoch, logs)
            if self.stop_training:
                break

    def _check_optimizer(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"fit expected an Optimizer such as nl.SGD(model.parameters(), "
                            f"lr=0.1), got {type(optimizer).__name__}.")
        own = {id(p) for p in self.parameters().values()}
        if not all(id(p) in own for p in optimizer.params.values()):
            raise ValueError("The optimizer was built for other parameters than this model's. "
                             "Build it from this model: nl.SGD(model.parameters(), lr=...).")

    def _loss_or_explain(self, loss, pred, yb, optimizer, epoch, epochs, b, num_batches):
        try:
            return loss.forward(pred, yb)
        except (FloatingPointError, ValueError) as e:
            if np.isfinite(pred).all() and not isinstance(e, FloatingPointError):
                raise
            raise FloatingPointError(
                f"Training diverged: the loss became NaN/inf at epoch {epoch + 1} of {epochs}, "
                f"batch {b + 1} of {num_batches}. The learning rate (lr={optimizer.lr:g}) is "
                f"probably too large: try lr={optimizer.lr / 10:g}. Also check that the inputs "
                f"are scaled (e.g. pixels to [0, 1]). ({e})") from None

    # --- inference ------------------------------------------------------------------------
    def _batched_forward(self, x, batch_size):
        was_training = self.training
        self.eval()
        try:
            outs = [self.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
        finally:
            if was_training:
                self.train()
        return np.concatenate(outs) if outs else self.forward(x)

    @reject_unknown_kwargs
    def predict(self, x, *, batch_size=256):
        """Outputs for ``x`` in evaluation mode (dropout off), computed in batches."""
        batch_size = check_int("predict", "batch_size", batch_size, low=1)
        return self._batched_forward(self._as_data(x, "inputs"), batch_size)

    @reject_unknown_kwargs
    def evaluate(self, x, y, *, loss, batch_size=256):
        """Mean loss (and accuracy for classification) over ``(x, y)`` in evaluation mode.

        Returns
        -------
        dict with ``"loss"`` and, for classification losses, ``"accuracy"``.
        """
        loss = losses_mod.get(loss)
        x = self._as_data(x, "inputs")
        y = self._as_data(y, "targets", labels=True)
        pred = self._batched_forward(x, check_int("evaluate", "batch_size", batch_size, low=1))
        result = {"loss": loss.forward(pred, y)}
        acc = accuracy(loss, pred, y)
        if acc is not None:
            result["accuracy"] = acc
        return result

    # --- inspection and files ---------------------------------------------------------------
    def summary(self, input_shape=None):
        """A table of layers, per-sample output shapes and parameter counts.

        ``input_shape`` is per sample (no batch axis), e.g. ``(784,)`` or ``(1, 28, 28)``;
        by default the shape of the last input seen, or the first Dense layer's.
        """
        in_shape = tuple(input_shape or self._input_shape or self._guess_input_shape())
        shape = in_shape
        rows = [("#", "layer", "output shape", "params")]
        total = 0
        for i, layer in enumerate(self.layers):
            shape = layer.output_shape(shape)
            count = sum(p.size for p in layer.parameters().values())
            total += count
            rows.append((str(i), repr(layer), shape_str(("N", *shape)), f"{count:,}"))
        widths = [max(len(r[c]) for r in rows) for c in range(4)]
        lines = ["  ".join(cell.ljust(w) if c < 3 else cell.rjust(w)
                           for c, (cell, w) in enumerate(zip(row, widths, strict=True)))
                 for row in rows]
        rule = "-" * len(lines[0])
        dtype = self.dtype.name if self.dtype is not None else "float32"
        header = f"Sequential, input {shape_str(('N', *in_shape))}"
        text = "\n".join([header, rule, lines[0], rule, *lines[1:], rule,
                          f"total parameters: {total:,} ({dtype})"])
        return _Text(text)

    def _guess_input_shape(self):
        first = self.layers[0] if self.layers else None
        if first is not None and hasattr(first, "in_features"):
            return (first.in_features,)
        raise ValueError("summary() needs the per-sample input shape: call "
                         "model.summary(input_shape=(784,)) or run the model once first.")

    def save(self, path):
        """Write the architecture and parameters to ``path`` (.npz, no pickle), atomically."""
        save_model(self, path)

    @classmethod
    def load(cls, path):
        """Rebuild a model saved by ``save``. Raises ValueError for any other file."""
        return load_model(path, expected=cls)


class _Text(str):
    """A string that shows as itself in a notebook (no quotes, real newlines)."""

    def __repr__(self):
        return str(self)
