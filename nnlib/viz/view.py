"""``View``: the ipywidgets frame every interactive view of the course uses -- controls
beside or above the figure, the figure as an ``ipywidgets.Image`` redrawn when a control
changes. The factories in :mod:`nnlib.viz.widgets` and the chapter view modules build on
it. ipywidgets is imported only when a view is made (it is a course extra)."""

from __future__ import annotations

from .style import new_figure, to_png

__all__ = ["View"]


def _widgets():
    try:
        import ipywidgets
    except ImportError as e:
        raise ImportError("The interactive views need ipywidgets: pip install -e '.[course]'.") \
            from e
    return ipywidgets


class View:
    """Controls plus a figure that redraws when any control changes.

    Parameters
    ----------
    draw : callable(fig, axes, **values) -> list of artists
    controls : dict name -> ipywidgets control; ``draw`` receives their values by name
    applies : dict name -> callable(values) -> bool, optional
        When a control does not apply to the current selection (``alpha`` for sigmoid),
        it is disabled, so every enabled control changes the picture.
    side : bool
        Controls in a column left of the figure instead of above it (views with many
        sliders stay within one screen).
    nrows, ncols, width, height : the figure's grid and size in inches (at 90 dpi the
        image is shown at its natural pixel size, never stretched).
    figure_kw : dict, optional, more keywords for ``new_figure`` (``width_ratios``).

    In the page, the view carries the CSS class ``nnlib-view`` and each control
    ``nnlib-control-<name>``, which is how the browser test finds them.
    """

    DPI = 90

    def __init__(self, draw, controls, *, nrows=1, ncols=1, width=9.0, height=None, title="",
                 applies=None, side=False, figure_kw=None):
        w = _widgets()
        self.draw, self.controls, self.applies = draw, controls, dict(applies or {})
        unknown = set(self.applies) - set(controls)
        if unknown:
            raise ValueError(f"applies names controls that do not exist: {sorted(unknown)}.")
        self.layout = (nrows, ncols, width, height)
        self.figure_kw = dict(figure_kw or {})
        self.image = w.Image(format="png", layout=w.Layout(
            width=f"{round(width * self.DPI)}px", max_width="100%", height="auto",
            object_fit="contain"))
        self.image.add_class("nnlib-view-image")
        self.artists, self.redraws, self.error = [], 0, None
        for name, control in controls.items():
            control.style.description_width = "initial"   # labels are never cut off
            control.add_class(f"nnlib-control-{name}")
        header = [w.HTML(f"<b>{title}</b>")] if title else []
        if side:
            panel = w.HBox([w.VBox(list(controls.values()),
                                   layout=w.Layout(min_width="290px", align_items="flex-end")),
                            self.image], layout=w.Layout(align_items="flex-start"))
        else:
            panel = w.VBox([w.HBox(list(controls.values()),
                                   layout=w.Layout(flex_flow="row wrap")), self.image])
        self.widget = w.VBox([*header, panel])
        self.widget.add_class("nnlib-view")
        for control in controls.values():
            control.observe(lambda change: self.update(), names="value")
        self.update()

    def values(self):
        return {name: control.value for name, control in self.controls.items()}

    def active(self):
        """Names of the controls that apply to the current selection (enabled)."""
        return [name for name, control in self.controls.items() if not control.disabled]

    def update(self):
        values = self.values()
        for name, applies in self.applies.items():
            self.controls[name].disabled = not applies(values)
        nrows, ncols, width, height = self.layout
        fig, axes = new_figure(nrows, ncols, width=width, height=height, **self.figure_kw)
        try:
            self.artists = self.draw(fig, axes, **values)
            self.error = None
        except ValueError as e:  # e.g. a kernel larger than the image in 'valid' mode
            self.error = str(e)
            fig.clear()
            fig.text(0.5, 0.5, str(e), ha="center", va="center", wrap=True)
            self.artists = []
        self.image.value = to_png(fig, dpi=self.DPI)
        self.redraws += 1

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def _slider(w, value, lo, hi, step, description):
    return w.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                         continuous_update=False, readout_format=".3g")
