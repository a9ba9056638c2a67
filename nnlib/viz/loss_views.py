"""Pictures of chapter 04 (losses as maximum likelihood): MSE and binary cross-entropy of
one prediction with their gradients, seen against the probability p or the logit z; the
gradient magnitudes that make MSE + sigmoid learn slowly; training runs side by side;
and the loss explorer that puts the first of these behind sliders.

Every function draws on the Axes it is given and returns the artists it drew.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .style import COLORS, PALETTE
from .widgets import View, _slider, _widgets

__all__ = ["BINARY_LOSSES", "binary_losses", "plot_binary_losses", "plot_gradient_magnitudes",
           "plot_runs", "loss_explorer"]

#: loss key -> (display name, colour)
BINARY_LOSSES = {"mse": ("MSE", COLORS["blue"]), "bce": ("BCE", COLORS["orange"])}

_SPACES = {"probability p": "probability", "logit z": "logit"}
_SHOW = {"MSE and BCE": ("mse", "bce"), "MSE": ("mse",), "BCE": ("bce",)}


def _logit(p):
    return np.log(p) - np.log1p(-p)


def binary_losses(x, target, space="probability"):
    """Per-element loss and gradient of MSE and BCE for one prediction each.

    Parameters
    ----------
    x : ndarray of any shape, float
        Probabilities in (0, 1) when ``space="probability"``, logits when ``"logit"``
        (then p = sigmoid(x)).
    target : float in [0, 1]
    space : "probability" or "logit": the variable the gradient is taken with respect to

    Returns
    -------
    dict "mse" / "bce" -> (loss, gradient), arrays shaped like ``x``. No mean is taken
    (n = 1): the loss of a batch divides both by the number of elements.
    """
    x = np.asarray(x, dtype=np.float64)
    y = float(target)
    if space == "probability":
        if np.any((x <= 0) | (x >= 1)):
            raise ValueError("binary_losses takes probabilities strictly inside (0, 1) in "
                             "probability space: log(0) is -inf. Use space='logit' for logits.")
        p = x
        bce = -(y * np.log(p) + (1 - y) * np.log1p(-p))
        return {"mse": ((p - y) ** 2, 2 * (p - y)),
                "bce": (bce, (p - y) / (p * (1 - p)))}
    if space == "logit":
        p = F.sigmoid(x)
        bce = np.logaddexp(0.0, x) - y * x   # log(1 + e^z) - y z, finite for any z
        return {"mse": ((p - y) ** 2, 2 * (p - y) * p * (1 - p)),
                "bce": (bce, p - y)}
    raise ValueError(f"space must be 'probability' or 'logit', got {space!r}.")


def plot_binary_losses(ax_loss, ax_grad, prediction, target, space="probability",
                       show=("mse", "bce"), clip=10.0):
    """Losses (left) and gradients (right) of one prediction against a target in [0, 1],
    with the current prediction marked and its values in the legend.

    Parameters
    ----------
    prediction : float in (0, 1), the predicted probability p (at z = logit(p) in logit
        space)
    space : "probability" (x axis p, gradients dL/dp) or "logit" (x axis z, dL/dz)
    show : the losses to draw, keys of ``BINARY_LOSSES``
    clip : the gradient axis is cut at +-clip (said in its title when a curve leaves it)
    """
    if not 0 < prediction < 1:
        raise ValueError(f"prediction must be a probability in (0, 1), got {prediction}.")
    if space == "probability":
        grid = np.linspace(1e-3, 1 - 1e-3, 999)
        x0 = float(prediction)
        xlabel, dname = "predicted probability p", "dL/dp"
    else:
        grid = np.linspace(-8.0, 8.0, 801)
        x0 = float(_logit(prediction))
        xlabel, dname = "logit z   (p = sigmoid(z))", "dL/dz"
    curves = binary_losses(grid, target, space)
    at = binary_losses(np.array([x0]), target, space)
    artists, clipped = [], False
    for key in show:
        name, color = BINARY_LOSSES[key]
        loss, grad = curves[key]
        (l0,), (g0,) = at[key]
        artists += ax_loss.plot(grid, loss, color=color, lw=2, label=f"{name}: L = {l0:.3f}")
        artists += ax_grad.plot(grid, grad, color=color, lw=2,
                                label=f"{name}: {dname} = {g0:+.3f}")
        artists += ax_loss.plot([x0], [l0], "o", ms=8, color=color, mec="black")
        artists += ax_grad.plot([x0], [np.clip(g0, -clip, clip)], "o", ms=8, color=color,
                                mec="black")
        clipped |= bool(np.abs(grad).max() > clip)
    if 0 < target < 1 or space == "probability":
        best = target if space == "probability" else float(_logit(target))
        for ax in (ax_loss, ax_grad):
            artists.append(ax.axvline(best, color=COLORS["grey"], ls=":", lw=1.2))
    ax_grad.axhline(0, color="black", lw=0.6)
    if clipped:
        ax_grad.set_ylim(-clip * 1.05, clip * 1.05)
    where = f"p = {prediction:.3g}" + (f", z = {x0:.3g}" if space == "logit" else "")
    ax_loss.set(title=f"loss of one prediction ({where}), target y = {target:g}",
                xlabel=xlabel, ylabel="loss L")
    ax_grad.set(title=f"gradient {dname}" + (f" (axis cut at +-{clip:g})" if clipped else ""),
                xlabel=xlabel, ylabel=dname)
    for ax in (ax_loss, ax_grad):
        ax.legend(loc="upper center", fontsize=8)
    return artists


def plot_gradient_magnitudes(ax, target=1.0, lim=10.0):
    """|dL/dz| of MSE and BCE through a sigmoid, p = sigmoid(z), on a log axis: where the
    prediction is confidently wrong, BCE's gradient tends to 1 and MSE's to 0."""
    if target not in (0.0, 1.0):
        raise ValueError(f"target must be 0 or 1, got {target}.")
    z = np.linspace(-lim, lim, 801)
    curves = binary_losses(z, target, "logit")
    artists = []
    for key in ("mse", "bce"):
        name, color = BINARY_LOSSES[key]
        artists += ax.semilogy(z, np.abs(curves[key][1]), color=color, lw=2,
                               label=f"{name} + sigmoid: |dL/dz|")
    wrong = "z < 0" if target == 1 else "z > 0"
    artists.append(ax.axvspan(-lim if target == 1 else 0, 0 if target == 1 else lim,
                              color=COLORS["grey"], alpha=0.15,
                              label=f"wrong side ({wrong}) for target {target:g}"))
    ax.set(title=f"gradient reaching the logit, target y = {target:g}", xlabel="logit z",
           ylabel="|dL/dz| (log scale)")
    ax.legend(loc="lower center", fontsize=8)
    return artists


def plot_runs(axes, runs, metrics):
    """Training runs side by side: one panel per metric, one line per run.

    Parameters
    ----------
    axes : sequence of Axes, one per metric
    runs : dict label -> dict metric key -> sequence of per-step values
    metrics : sequence of (key, y label, log scale?)
    """
    artists = []
    for ax, (key, ylabel, log) in zip(axes, metrics, strict=True):
        for (label, run), color in zip(runs.items(), PALETTE, strict=False):
            values = np.asarray(run[key], dtype=float)
            draw = ax.semilogy if log else ax.plot
            artists += draw(np.arange(len(values)), values, color=color, lw=2, label=label)
        ax.set(title=ylabel, xlabel="gradient-descent step", ylabel=ylabel)
        ax.legend(fontsize=8)
    return artists


def loss_explorer(prediction=0.2, target=1.0, space="probability p", losses="MSE and BCE"):
    """Move the prediction and the target; see MSE and BCE and their gradients, against
    the probability p or against the logit z behind a sigmoid."""
    w = _widgets()
    controls = {
        "prediction": w.FloatSlider(value=prediction, min=0.001, max=0.999, step=0.001,
                                    description="prediction p", continuous_update=False,
                                    readout_format=".3f"),
        "target": _slider(w, target, 0.0, 1.0, 0.05, "target y"),
        "space": w.ToggleButtons(options=list(_SPACES), value=space,
                                 description="plot against"),
        "losses": w.ToggleButtons(options=list(_SHOW), value=losses, description="losses"),
    }
    for control in controls.values():
        control.style.description_width = "initial"

    def draw(fig, axes, prediction, target, space, losses):
        return plot_binary_losses(axes[0], axes[1], prediction, target, _SPACES[space],
                                  _SHOW[losses])

    return View(draw, controls, ncols=2, width=11, height=3.8, title="Loss explorer")
