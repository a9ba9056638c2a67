"""``View``: the ipywidgets frame every interactive view of the course uses -- controls
on top, the figure below as an ``ipywidgets.Image`` redrawn when a control changes. The
factories in :mod:`nnlib.viz.widgets` and the chapter view modules build on it.
ipywidgets is imported only when a view is made (it is a course extra)."""

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
    """Controls plus a figure that redraws when any control changes."""

    def __init__(self, draw, controls, *, nrows=1, ncols=1, width=9.0, height=None, title=""):
        w = _widgets()
        self.draw, self.controls = draw, controls
        self.layout = (nrows, ncols, width, height)
        self.image = w.Image(format="png")
        self.artists, self.redraws, self.error = [], 0, None
        header = [w.HTML(f"<b>{title}</b>")] if title else []
        self.widget = w.VBox([*header, w.HBox(list(controls.values()),
                                              layout=w.Layout(flex_flow="row wrap")),
                              self.image])
        for control in controls.values():
            control.observe(lambda change: self.update(), names="value")
        self.update()

    def values(self):
        return {name: control.value for name, control in self.controls.items()}

    def update(self):
        nrows, ncols, width, height = self.layout
        fig, axes = new_figure(nrows, ncols, width=width, height=height)
        try:
            self.artists = self.draw(fig, axes, **self.values())
            self.error = None
        except ValueError as e:  # e.g. a kernel larger than the image in 'valid' mode
            self.error = str(e)
            fig.clear()
            fig.text(0.5, 0.5, str(e), ha="center", va="center", wrap=True)
            self.artists = []
        self.image.value = to_png(fig)
        self.redraws += 1

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def _slider(w, value, lo, hi, step, description):
    return w.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                         continuous_update=False, readout_format=".3g")
