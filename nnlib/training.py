"""The training loop shared by ``Sequential`` and graph ``Model``s: ``fit``, ``evaluate``
and ``predict`` over lists of inputs and outputs. A model plugs in by providing
``_forward_many(xs) -> list``, ``_backward_many(douts)``, ``parameters()``, ``train()``,
``eval()``, ``dtype`` and ``n_inputs`` / ``n_outputs``. Built in chapters/07_training.ipynb.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from . import losses as losses_mod
from ._validation import ShapeError, check_finite, check_float, check_int, reject_unknown_kwargs
from .callbacks import Callback, History, ProgressBar
from .optim import Optimizer

__all__ = ["Trainable", "TrainingRun"]


@dataclass
class TrainingRun:
    """Everything one call of ``fit`` works with, and where it is: the data (lists in
    input and output order), the losses with their weights, the optimizer, the schedule
    and the callbacks. ``epoch`` and ``batch`` (0-based) say where training is, for the
    error message when it diverges."""

    xs: list
    ys: list
    losses: list
    weights: list
    optimizer: Optimizer
    epochs: int
    batch_size: int
    shuffle: bool
    rng: np.random.Generator
    validation: tuple | None
    callbacks: list
    epoch: int = 0
    batch: int = 0

    @property
    def num_samples(self):
        return len(self.xs[0])

    @property
    def num_batches(self):
        return -(-self.num_samples // self.batch_size)


class Trainable:
    """Mixin: mini-batch training, evaluation and prediction for any model."""

    n_inputs = 1
    n_outputs = 1
    stop_training = False
    optimizer = None

    # --- data in ---------------------------------------------------------------------------
    def _as_data(self, a, what, *, labels=False):
        """Arrays in, converted once: numbers to the model's dtype (integer labels stay)."""
        name = type(self).__name__
        a = np.asarray(a)
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise TypeError(f"{name} expected numeric {what}, got dtype {a.dtype}.")
        if not (labels and np.issubdtype(a.dtype, np.integer)):
            a = a.astype(self.dtype or np.float32, copy=False)
        check_finite(name, a, name=what)
        return a

    def _as_list(self, a, n, what, labels=False):
        """One array per input (or output), in order: a bare array when there is one."""
        is_list_of_arrays = isinstance(a, (list, tuple)) and all(
            isinstance(v, np.ndarray) for v in a)
        if n == 1 and not (is_list_of_arrays and len(a) == 1):
            items = [a]  # one array, or nested Python lists that make one array
        else:
            items = list(a) if isinstance(a, (list, tuple)) else [a]
        if len(items) != n:
            kind = "inputs" if "input" in what else "outputs"
            raise ValueError(f"{type(self).__name__} has {n} {kind} but got {len(items)} "
                             f"arrays of {what}. Pass a list of {n} arrays, in the order of "
                             f"the model's {kind}.")
        arrays = [self._as_data(v, what, labels=labels) for v in items]
        lengths = {len(v) for v in arrays}
        if len(lengths) != 1:
            raise ShapeError(f"the {what} arrays have different numbers of rows: "
                             f"{[len(v) for v in arrays]}; rows are samples.")
        return arrays

    def _losses(self, loss, loss_weights):
        items = list(loss) if isinstance(loss, (list, tuple)) else [loss] * self.n_outputs
        if len(items) != self.n_outputs:
            raise ValueError(f"{type(self).__name__} has {self.n_outputs} outputs but got "
                             f"{len(items)} losses: give one loss per output (or a single "
                             f"loss used for every output).")
        losses = [losses_mod.get(item) for item in items]
        if len({id(L) for L in losses}) < len(losses):  # one instance reused: copy it,
            losses = [copy.deepcopy(L) for L in losses]  # configuration included
        weights = [1.0] * self.n_outputs if loss_weights is None else list(loss_weights)
        if len(weights) != self.n_outputs:
            raise ValueError(f"loss_weights needs {self.n_outputs} numbers, got {len(weights)}.")
        weights = [check_float("fit", "loss_weights", w, low=0) for w in weights]
        return losses, weights

    def _metric_names(self, losses):
        if self.n_outputs == 1:
            return ["loss"] + (["accuracy"] if losses[0].has_accuracy else [])
        names = ["loss"]
        for i, L in enumerate(losses):
            names.append(f"out{i}_loss")
            if L.has_accuracy:
                names.append(f"out{i}_accuracy")
        return names

    # --- fit -------------------------------------------------------------------------------
    @reject_unknown_kwargs
    def fit(self, x, y, *, loss, optimizer, epochs=1, batch_size=32, validation_data=None,
            callbacks=(), shuffle=True, seed=None, verbose=True, loss_weights=None):
        """Train with mini-batch gradient descent.

        Parameters
        ----------
        x : ndarray (N, ...), or a list of them in input order for several inputs
        y : ndarray (N, ...), or a list in output order; integer labels for cross-entropy
        loss : Loss or str ("cross_entropy", "mse", "bce", "bce_with_logits"), or one per
            output
        optimizer : Optimizer built on ``self.parameters()``
        epochs, batch_size : int >= 1 (the last batch of an epoch may be smaller)
        validation_data : (x_val, y_val) or None, evaluated after every epoch
        callbacks : sequence of Callback (e.g. ``EarlyStopping``)
        shuffle : bool, reshuffle the samples every epoch
        seed : int or None, seeds the shuffling
        verbose : bool, show a progress bar
        loss_weights : one float per output (default 1): the total loss is their
            weighted sum

        Returns
        -------
        History with per-epoch ``loss``, ``accuracy`` (classification) and ``val_*``;
        with several outputs also ``out0_loss``, ``out0_accuracy``, ...
        """
        losses, weights = self._losses(loss, loss_weights)
        epochs = check_int("fit", "epochs", epochs, low=1)
        batch_size = check_int("fit", "batch_size", batch_size, low=1)
        self._check_optimizer(optimizer)
        self.optimizer = optimizer  # callbacks such as LearningRateScheduler reach it here
        xs = self._as_list(x, self.n_inputs, "inputs")
        ys = self._as_list(y, self.n_outputs, "targets", labels=True)
        if len(xs[0]) != len(ys[0]):
            raise ShapeError(f"fit got {len(xs[0])} inputs but {len(ys[0])} targets; they must "
                             f"have the same first dimension (rows are samples).")
        val = None
        if validation_data is not None:
            if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
                raise TypeError("validation_data must be a pair (x_val, y_val).")
            val = (self._as_list(validation_data[0], self.n_inputs, "validation inputs"),
                   self._as_list(validation_data[1], self.n_outputs, "validation targets",
                                 labels=True))
        self._remember_input_shapes(xs)
        run = TrainingRun(xs, ys, losses, weights, optimizer, epochs, batch_size, bool(shuffle),
                          np.random.default_rng(seed), val,
                          [History(), *callbacks] + ([ProgressBar()] if verbose else []))
        metrics = self._metric_names(losses)
        if val is not None:
            metrics += [f"val_{m}" for m in metrics]
        self.stop_training = False
        for cb in run.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be Callback objects, got {cb!r}.")
            cb.set_model(self)
            cb.on_train_begin({"metrics": metrics, "epochs": epochs,
                               "num_batches": run.num_batches})
        self.train()
        # Overflow and NaN are not warned about batch by batch: a non-finite loss stops
        # training below with an explanation instead.
        with np.errstate(over="ignore", invalid="ignore"):
            self._train_epochs(run)
        for cb in run.callbacks:
            cb.on_train_end({})
        return run.callbacks[0]  # the History

    def _remember_input_shapes(self, xs):
        """Hook: Sequential remembers the input shape for ``summary()``."""

    def _train_epochs(self, run):
        n = run.num_samples
        for epoch in range(run.epochs):
            run.epoch = epoch
            for cb in run.callbacks:
                cb.on_epoch_begin(epoch)
            order = run.rng.permutation(n) if run.shuffle else np.arange(n)
            totals = {}
            for batch in range(run.num_batches):
                run.batch = batch
                idx = order[batch * run.batch_size:(batch + 1) * run.batch_size]
                xb, yb = [v[idx] for v in run.xs], [v[idx] for v in run.ys]
                preds = self._forward_many(xb)  # the data were checked once, in fit
                scores = self._score(run.losses, run.weights, preds, yb, run)
                run.optimizer.zero_grad()
                self._backward_many([w * L.backward()
                                     for L, w in zip(run.losses, run.weights, strict=True)])
                run.optimizer.step()
                for key, value in scores.items():
                    totals[key] = totals.get(key, 0.0) + value * len(idx)
                for cb in run.callbacks:
                    cb.on_batch_end(batch, {"loss": scores["loss"]})
            logs = {key: value / n for key, value in totals.items()}
            if run.validation is not None:
                logs.update({f"val_{k}": v for k, v in self._evaluate_lists(
                    *run.validation, run.losses, run.weights).items()})
            for cb in run.callbacks:
                cb.on_epoch_end(epoch, logs)
            if self.stop_training:
                break

    def _score(self, losses, weights, preds, ys, run=None):
        """Loss (weighted total), per-output losses and accuracies for one batch. During
        ``fit`` (``run`` given), a loss that turns NaN/inf says where and what to try."""
        scores, total = {}, 0.0
        for i, (L, w, pred, y) in enumerate(zip(losses, weights, preds, ys, strict=True)):
            value = L.forward(pred, y) if run is None else self._loss_or_explain(L, pred, y, run)
            total += w * value
            prefix = "" if self.n_outputs == 1 else f"out{i}_"
            if self.n_outputs > 1:
                scores[f"{prefix}loss"] = value
            if L.has_accuracy:
                scores[f"{prefix}accuracy"] = L.accuracy(pred, y)
        return {"loss": total, **scores}

    def _check_optimizer(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"fit expected an Optimizer such as nl.SGD(model.parameters(), "
                            f"lr=0.1), got {type(optimizer).__name__}.")
        own = {id(p) for p in self.parameters().values()}
        if not all(id(p) in own for p in optimizer.params.values()):
            raise ValueError("The optimizer was built for other parameters than this model's. "
                             "Build it from this model: nl.SGD(model.parameters(), lr=...).")

    @staticmethod
    def _loss_or_explain(loss, pred, yb, run):
        try:
            return loss.forward(pred, yb)
        except (FloatingPointError, ValueError) as e:
            if np.isfinite(pred).all() and not isinstance(e, FloatingPointError):
                raise
            lr = run.optimizer.lr
            raise FloatingPointError(
                f"Training diverged: the loss became NaN/inf at epoch {run.epoch + 1} of "
                f"{run.epochs}, batch {run.batch + 1} of {run.num_batches}. The learning rate "
                f"(lr={lr:g}) is probably too large: try lr={lr / 10:g}. Also check that the "
                f"inputs are scaled (e.g. pixels to [0, 1]). ({e})") from None

    # --- inference ------------------------------------------------------------------------
    def _predict_lists(self, xs, batch_size):
        was_training = self.training
        self.eval()
        try:
            n = len(xs[0])
            chunks = [self._forward_many([v[i:i + batch_size] for v in xs])
                      for i in range(0, max(n, 1), batch_size)]
        finally:
            if was_training:
                self.train()
        return [np.concatenate([c[k] for c in chunks]) for k in range(self.n_outputs)]

    @reject_unknown_kwargs
    def predict(self, x, *, batch_size=256):
        """Outputs for ``x`` in evaluation mode (dropout off), computed in batches; a list
        for several outputs."""
        batch_size = check_int("predict", "batch_size", batch_size, low=1)
        outs = self._predict_lists(self._as_list(x, self.n_inputs, "inputs"), batch_size)
        return outs[0] if self.n_outputs == 1 else outs

    def _evaluate_lists(self, xs, ys, losses, weights, batch_size=256):
        preds = self._predict_lists(xs, batch_size)
        return self._score(losses, weights, preds, ys)

    @reject_unknown_kwargs
    def evaluate(self, x, y, *, loss, batch_size=256, loss_weights=None):
        """Mean loss (and accuracy for classification) over ``(x, y)`` in evaluation mode.

        Returns
        -------
        dict with ``"loss"`` and, for classification losses, ``"accuracy"`` (per output
        ``out0_loss``, ... with several outputs).
        """
        losses, weights = self._losses(loss, loss_weights)
        xs = self._as_list(x, self.n_inputs, "inputs")
        ys = self._as_list(y, self.n_outputs, "targets", labels=True)
        return self._evaluate_lists(xs, ys, losses, weights,
                                    check_int("evaluate", "batch_size", batch_size, low=1))
