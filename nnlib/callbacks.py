"""Callbacks hook into ``fit``: ``History`` records metrics, ``EarlyStopping`` stops when
a monitored metric stops improving, ``ProgressBar`` shows progress in a terminal or a
notebook. Early stopping is motivated in chapters/08_generalization.ipynb.

Protocol (every method optional; ``self.model`` is set before training starts):
``on_train_begin(logs)`` with ``logs["metrics"]`` the keys each epoch will report,
``on_epoch_begin(epoch)``, ``on_batch_end(batch, logs)`` with the batch ``loss``,
``on_epoch_end(epoch, logs)`` with the epoch's metrics, ``on_train_end(logs)``.
Setting ``self.model.stop_training = True`` ends training after the current epoch.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from ._validation import check_float, check_int, reject_unknown_kwargs

__all__ = ["Callback", "History", "EarlyStopping", "LearningRateScheduler", "ProgressBar"]


class Callback:
    """Base class with no-op hooks; override the ones you need. ``fit`` calls them in
    this order: ``set_model``, ``on_train_begin``, then per epoch ``on_epoch_begin``,
    ``on_batch_end`` after every batch and ``on_epoch_end``, and ``on_train_end``."""

    model = None

    def set_model(self, model):
        """Called first: ``self.model`` is the model being trained (its ``optimizer``
        attribute is the optimizer given to ``fit``)."""
        self.model = model

    def on_train_begin(self, logs):
        """Before the first epoch.

        Parameters
        ----------
        logs : dict with ``"metrics"`` (list of str, the keys every ``on_epoch_end`` will
            report: ``"loss"``, ``"accuracy"``, ``"val_loss"``, ...), ``"epochs"`` (int)
            and ``"num_batches"`` (int, batches per epoch)
        """

    def on_epoch_begin(self, epoch):
        """Before epoch ``epoch`` (int, 0-based)."""

    def on_batch_end(self, batch, logs):
        """After the optimizer step of batch ``batch`` (int, 0-based within the epoch);
        ``logs["loss"]`` is that batch's loss (float)."""

    def on_epoch_end(self, epoch, logs):
        """After epoch ``epoch`` (0-based); ``logs`` maps every metric of
        ``on_train_begin``'s list to its value (float) for this epoch: training metrics
        averaged over the epoch's samples, validation metrics over the validation set.
        Setting ``self.model.stop_training = True`` here ends training."""

    def on_train_end(self, logs):
        """After the last epoch (``logs`` is an empty dict)."""


class History(Callback):
    """Per-epoch metrics: ``history["loss"]``, ``history["val_accuracy"]``, ...

    Attributes
    ----------
    history : dict[str, list[float]]
    epoch : list[int], 0-based epoch numbers
    """

    def __init__(self):
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs):
        self.history = {key: [] for key in logs["metrics"]}
        self.epoch = []

    def on_epoch_end(self, epoch, logs):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key):
        return self.history[key]

    def __contains__(self, key):
        return key in self.history

    def __iter__(self):
        return iter(self.history)

    def keys(self):
        return self.history.keys()

    def __repr__(self):
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        return f"History({len(self.epoch)} epochs: {last})"


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs.

    The best epoch is the one with the lowest value so far (highest for accuracies); a
    tie is not an improvement, nor is a gain smaller than ``min_delta``. Training stops at
    the first epoch e that brings no new best with e - best_epoch >= patience.

    Parameters
    ----------
    patience : int >= 0
    restore_best : bool, default True
        At the end of training, put back the parameters of the best epoch.
    monitor : str, default "val_loss"
    min_delta : float >= 0

    Attributes
    ----------
    best_epoch, stopped_epoch : int or None (0-based)
    best : float
    """

    @reject_unknown_kwargs
    def __init__(self, patience=5, restore_best=True, *, monitor="val_loss", min_delta=0.0):
        self.patience = check_int("EarlyStopping", "patience", patience, low=0)
        self.restore_best = bool(restore_best)
        self.monitor = monitor
        self.min_delta = check_float("EarlyStopping", "min_delta", min_delta, low=0)
        self._sign = -1.0 if "acc" in monitor else 1.0  # minimise sign * value

    def on_train_begin(self, logs):
        metrics = logs["metrics"]
        if self.monitor not in metrics:
            fix = (" Pass validation_data=(x_val, y_val) to fit, or use "
                   "EarlyStopping(monitor='loss')." if self.monitor.startswith("val_") else "")
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, but fit reports only "
                             f"{', '.join(metrics)}.{fix}")
        self.best = np.inf
        self.best_epoch = None
        self.stopped_epoch = None
        self._best_params = None

    def on_epoch_end(self, epoch, logs):
        value = self._sign * logs[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch = value, epoch
            if self.restore_best:
                self._best_params = {k: p.data.copy()
                                     for k, p in self.model.parameters().items()}
        elif epoch - self.best_epoch >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs):
        if self.restore_best and self._best_params is not None:
            for key, p in self.model.parameters().items():
                p.data[...] = self._best_params[key]
        self.best = self._sign * self.best

    def __repr__(self):
        return (f"EarlyStopping(patience={self.patience}, restore_best={self.restore_best}, "
                f"monitor={self.monitor!r})")


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate at the start of every epoch.

    Parameters
    ----------
    schedule : callable, ``schedule(epoch, lr) -> new lr`` with ``epoch`` 0-based and
        ``lr`` the current rate. E.g. a decay by 0.3 after every epoch:
        ``LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr * 0.3)``.
    """

    def __init__(self, schedule):
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler expected a function (epoch, lr) -> lr, "
                            f"got {type(schedule).__name__}.")
        self.schedule = schedule

    def on_epoch_begin(self, epoch):
        opt = self.model.optimizer
        opt.lr = check_float("LearningRateScheduler", "lr", self.schedule(epoch, opt.lr),
                             low=0, low_open=True)


def _format_logs(logs):
    return "  ".join(f"{k} {v:.4f}" for k, v in logs.items())


class ProgressBar(Callback):
    """One progress bar for the whole of ``fit``: tqdm's (a widget in a notebook, text in
    a terminal) when tqdm is installed, else one plain line per epoch. tqdm is a course
    extra, imported only here, so the core library does not need it."""

    def __init__(self, *, file=None):
        self.file = file

    def on_train_begin(self, logs):
        self.epochs, self.num_batches = logs["epochs"], logs["num_batches"]
        self._start = time.perf_counter()
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self._bar = None
            return
        self._bar = tqdm(total=self.epochs * self.num_batches, unit="batch",
                         file=self.file, leave=True, mininterval=0.25)

    def on_epoch_begin(self, epoch):
        self._epoch = epoch
        if self._bar is not None:
            # refresh=False: tqdm redraws at most every mininterval, not on every call
            self._bar.set_description(f"epoch {epoch + 1}/{self.epochs}", refresh=False)

    def on_batch_end(self, batch, logs):
        if self._bar is not None:
            self._bar.update(1)
            if batch % 10 == 0:
                self._bar.set_postfix(loss=f"{logs['loss']:.4f}", refresh=False)

    def on_epoch_end(self, epoch, logs):
        if self._bar is not None:
            self._bar.set_postfix_str(_format_logs(logs), refresh=False)
        else:
            elapsed = time.perf_counter() - self._start
            print(f"epoch {epoch + 1}/{self.epochs}  {_format_logs(logs)}  ({elapsed:.1f} s)",
                  file=self.file or sys.stdout, flush=True)

    def on_train_end(self, logs):
        if self._bar is not None:
            self._bar.close()
