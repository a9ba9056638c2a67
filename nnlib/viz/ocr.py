"""The capstone's views (chapters/12_capstone.ipynb): a drawing pad that shows what a
trained character recogniser reads in your own drawing or picture file, and the pictures
of its mistakes.

The pad is built from standard ipywidgets only -- a grid of toggle cells, buttons and a
file chooser -- so it works in JupyterLab and Jupyter Notebook without extensions. Run
headless (nbval, a script), it shows a drawing made in code (``EXAMPLES``), and code can
draw on it, load a file into it and read its model input.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib import image as mpimg
from scipy import ndimage

from .images import _grid
from .style import COLORS
from .view import View, _widgets

__all__ = ["GRID", "EXAMPLES", "FIELDS", "strokes_to_grid", "read_image", "thicken",
           "field_probabilities", "plot_reading", "DrawingPad", "drawing_pad_view",
           "find_mistakes", "plot_worst_mistakes", "mistake_explorer"]

#: cells per side of the drawing pad
GRID = 16

#: drawings made in code: strokes through (row, column) points of the 16 x 16 pad
EXAMPLES = {
    "A": [[(14, 2), (1, 7), (1, 8), (14, 13)], [(9, 4), (9, 11)]],
    "4": [[(1, 9), (10, 2), (10, 13)], [(5, 10), (14, 10)]],
    "K": [[(1, 3), (14, 3)], [(1, 12), (8, 4), (14, 12)]],
    "7": [[(2, 3), (2, 12), (14, 6)]],
    "scribble": [[(2, 2), (12, 13), (3, 12), (13, 3), (8, 1), (6, 14)]],
}

#: which class names a form field accepts (a postcode box takes digits only)
FIELDS = {"any": lambda name: True, "digits": str.isdigit, "letters": str.isalpha}


def strokes_to_grid(strokes, size=GRID):
    """A boolean (size, size) drawing: the cells on straight lines between consecutive
    (row, column) points of each stroke."""
    grid = np.zeros((size, size), dtype=bool)
    for stroke in strokes:
        points = np.asarray(stroke, dtype=float)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"A stroke is a list of (row, column) points, got {stroke!r}.")
        if points.min() < 0 or points.max() > size - 1:
            raise ValueError(f"Stroke points must lie on the {size}x{size} grid (0 .. "
                             f"{size - 1}), got {stroke!r}.")
        for p0, p1 in zip(points[:-1], points[1:], strict=True):
            steps = 2 * int(np.abs(p1 - p0).max()) + 1
            cells = np.round(p0 + np.linspace(0, 1, steps)[:, None] * (p1 - p0)).astype(int)
            grid[cells[:, 0], cells[:, 1]] = True
    return grid


def read_image(source):
    """A picture file as a 2-D ink image in [0, 1] (ink = 1, paper = 0), like the
    training images.

    ``source``: a path, or the bytes of a PNG or JPEG file. Colour becomes grey
    (luminance), transparent pixels count as white paper, and a picture with dark ink on
    light paper (the usual kind: its median pixel is light) is inverted. The result is
    stretched so the darkest ink is 1.
    """
    try:
        data = mpimg.imread(io.BytesIO(source) if isinstance(source, (bytes, bytearray,
                                                                      memoryview))
                            else source)
    except FileNotFoundError:
        raise
    except Exception as e:  # Pillow's errors for files that are not pictures
        raise ValueError(f"Could not read a picture from {_name(source)}: {e}. Use a PNG "
                         f"or JPEG file.") from None
    if np.issubdtype(data.dtype, np.integer):                 # JPEG: 0 .. 255
        data = data / np.iinfo(data.dtype).max
    data = np.asarray(data, dtype=float)
    if data.ndim == 3:                        # grey or RGB, with or without alpha
        has_alpha = data.shape[2] in (2, 4)
        colour = data[..., :data.shape[2] - has_alpha]
        grey = colour @ np.array([0.299, 0.587, 0.114]) if colour.shape[2] == 3 \
            else colour[..., 0]
        if has_alpha:                         # transparent pixels are white paper
            grey = grey * data[..., -1] + (1 - data[..., -1])
        data = grey
    ink = 1.0 - data if np.median(data) > 0.5 else data
    ink = ink - ink.min()
    return (ink / ink.max() if ink.max() > 0 else ink).astype(np.float32)


def _name(source):
    return "the uploaded bytes" if isinstance(source, (bytes, bytearray, memoryview)) \
        else repr(str(source))


def thicken(x, width):
    """Strokes widened by ``width`` pixels: the largest value in each (width + 1)-square
    window (grey dilation). ``width = 0`` returns ``x`` unchanged."""
    return x if width == 0 else ndimage.grey_dilation(x, size=(width + 1, width + 1))


def field_probabilities(logits, names, field="any"):
    """Softmax over the classes a field accepts; the others get probability 0.

    For a model whose probabilities are right, this is exactly p(class | image, the
    class is one the field accepts): the accepted classes' probabilities renormalised.
    """
    allowed = np.array([FIELDS[field](name) for name in names])
    z = np.where(allowed, np.asarray(logits, dtype=float), -np.inf)
    e = np.exp(z - z.max())
    return e / e.sum()


def plot_reading(ax_raw, ax_x, ax_top, ax_yes, raw, x, probs, names, p_char=None,
                 threshold=0.5, top=5, source="your drawing"):
    """What the model reads: the drawing (or file), the model's input, the ``top``
    most probable characters and, for a model with an "is it a character?" head, that
    probability against the threshold. Both images on the scale 0 (white) to 1 (black)."""
    artists = []
    for ax, image, title in ((ax_raw, raw, f"{source}\n{raw.shape[0]}x{raw.shape[1]}"),
                             (ax_x, x, f"model input\n{x.shape[0]}x{x.shape[1]}")):
        ax.grid(False)
        artists.append(ax.imshow(image, cmap="gray_r", vmin=0, vmax=1))
        ax.set(xticks=[], yticks=[])
        ax.set_title(title, fontsize=9)
    ax_x.set_xlabel("ink 0 (white) .. 1 (black)", fontsize=8)
    top = min(top, len(probs))
    order = np.argsort(-probs, kind="stable")[:top]
    best = order[0]
    rejected = p_char is not None and p_char < threshold
    colors = [COLORS["grey"] if rejected else COLORS["blue"]] + [COLORS["sky"]] * (top - 1)
    artists += list(ax_top.barh(range(top)[::-1], probs[order], color=colors[:len(order)]))
    ax_top.set(yticks=range(top)[::-1], yticklabels=[names[i] for i in order], xlim=(0, 1),
               xlabel="probability")
    verdict = (f"no character ({p_char:.2f} < {threshold:.2f})" if rejected
               else f"reads {names[best]!r} ({probs[best]:.0%})")
    ax_top.set_title(verdict, fontsize=10)
    if p_char is None:
        ax_yes.axis("off")
        artists.append(ax_yes.text(0.5, 0.5, "no 'is it a\ncharacter?'\nhead", ha="center",
                                   va="center", fontsize=8))
        return artists
    artists += list(ax_yes.bar([0], [p_char], color=COLORS["grey"] if rejected
                               else COLORS["green"], width=0.6))
    artists.append(ax_yes.axhline(threshold, color=COLORS["vermillion"], lw=2,
                                  label="threshold"))
    ax_yes.set(xticks=[], ylim=(0, 1), xlim=(-0.6, 0.6), ylabel="p(a character)")
    ax_yes.set_title("character?", fontsize=9)
    return artists


class DrawingPad(View):
    """A view with a drawing pad: click cells to draw (a second click erases), *clear*,
    *next example* (drawings made in code), or choose a picture file. The figure shows
    the drawing, the model's input made from it by ``prepare``, and what the model reads.

    Attributes and methods for code: ``grid`` (the pad's cells), ``set_grid(cells)``,
    ``load_file(path_or_bytes)``, ``drawing()`` (the pad or the file, as a float image),
    ``model_input()`` (what the model gets), ``cells``, ``clear``, ``example``, ``upload``.
    """

    def __init__(self, model, names, prepare, *, example="A", field="any", thickness=1,
                 threshold=0.5, size=GRID):
        w = _widgets()
        if example not in EXAMPLES:
            raise ValueError(f"example must be one of {list(EXAMPLES)}, got {example!r}.")
        self.model, self.names, self.prepare = model, list(names), prepare
        self.heads = getattr(model, "n_outputs", 1)
        if self.heads not in (1, 2):
            raise ValueError(f"DrawingPad reads a model with one output (class scores) or "
                             f"two (class scores, 'is it a character?' score), got "
                             f"{self.heads}.")
        self.size, self.source, self.file_image, self._bulk = size, "pad", None, False
        self._example = example
        # one Layout and one Style shared by all cells: each is a widget model of its
        # own, and 2 x 256 of them would make the saved notebook's widget state large
        layout = w.Layout(width="20px", height="20px", padding="0", margin="0")
        self.cells = []
        for r in range(size):
            for c in range(size):
                shared = {"style": self.cells[0].style} if self.cells else {}
                self.cells.append(w.ToggleButton(value=False, tooltip=f"row {r}, column {c}",
                                                 layout=layout, **shared))
        for cell in self.cells:
            cell.add_class("nnlib-pad-cell")
            cell.observe(self._cell_changed, names="value")
        self.set_grid(strokes_to_grid(EXAMPLES[example], size), redraw=False)
        controls = {"field": w.ToggleButtons(options=list(FIELDS), value=field,
                                             description="field"),
                    "thickness": w.IntSlider(value=thickness, min=0, max=3,
                                             description="pen +px", continuous_update=False)}
        if self.heads == 2:
            controls["threshold"] = w.FloatSlider(
                value=threshold, min=0.05, max=0.95, step=0.05, description="threshold",
                continuous_update=False)
        super().__init__(self._draw, controls, ncols=4, width=8.6, height=3.1,
                         title="Drawing pad: what the model reads",
                         figure_kw={"width_ratios": [1, 1, 1.5, 0.45]})
        self.clear = w.Button(description="clear", tooltip="erase the pad")
        self.example = w.Button(description="next example", tooltip="a drawing made in code")
        self.upload = w.FileUpload(accept="image/*", multiple=False,
                                   description="picture file")
        self.status = w.HTML()
        for name in ("clear", "example", "upload"):
            getattr(self, name).add_class(f"nnlib-pad-{name}")
        self.clear.on_click(lambda _: self.set_grid(np.zeros((size, size), dtype=bool)))
        self.example.on_click(lambda _: self._next_example())
        self.upload.observe(self._uploaded, names="value")
        pad = w.GridBox(self.cells, layout=w.Layout(
            grid_template_columns=f"repeat({size}, 20px)", grid_gap="1px", width="max-content"))
        column = w.VBox([w.HTML("click cells to draw, click again to erase"), pad,
                         w.HBox([self.clear, self.example]), self.upload, self.status],
                        layout=w.Layout(min_width=f"{21 * size + 10}px", margin="0 12px 0 0"))
        *header, panel = self.widget.children
        self.widget.children = (*header, w.HBox([column, panel]))
        self._say()

    # --- the drawing --------------------------------------------------------------------------
    @property
    def grid(self):
        """The pad's cells as a boolean (size, size) array."""
        return np.array([c.value for c in self.cells]).reshape(self.size, self.size)

    def set_grid(self, cells, redraw=True):
        """Draw ``cells`` (a boolean (size, size) array) on the pad and show it."""
        cells = np.asarray(cells, dtype=bool)
        if cells.shape != (self.size, self.size):
            raise ValueError(f"The pad has {self.size}x{self.size} cells, got an array of "
                             f"shape {cells.shape}.")
        self._bulk = True
        try:
            for cell, value in zip(self.cells, cells.ravel(), strict=True):
                cell.value = bool(value)
        finally:
            self._bulk = False
        self.source = "pad"
        if redraw:
            self.update()
            self._say()

    def load_file(self, source, name=None):
        """Read a picture (a path, or a PNG/JPEG file's bytes) and show what the model reads
        in it. A click on the pad goes back to the drawing."""
        self.file_image = read_image(source)
        self.file_name = name or (str(source) if not isinstance(
            source, (bytes, bytearray, memoryview)) else "uploaded file")
        self.source = "file"
        self.update()
        self._say()

    def drawing(self):
        """What is shown as the input: the pad's cells (0 or 1) or the file's ink image."""
        return self.file_image if self.source == "file" else self.grid.astype(np.float32)

    def model_input(self, thickness=None):
        """The (32, 32) image the model reads: ``prepare(drawing())``, its strokes widened
        by ``thickness`` pixels (default: the slider's)."""
        x = np.asarray(self.prepare(self.drawing()), dtype=np.float32)
        return thicken(x, self.controls["thickness"].value if thickness is None else thickness)

    def read(self, field=None, thickness=None):
        """(class probabilities for the field, p(a character) or None for a one-output
        model); the field and thickness default to the controls' values."""
        out = self.model.predict(self.model_input(thickness)[None, None])
        logits, yes = (out[0][0], out[1][0, 0]) if self.heads == 2 else (out[0], None)
        p_char = None if yes is None else float(1 / (1 + np.exp(-yes)))
        field = self.controls["field"].value if field is None else field
        return field_probabilities(logits, self.names, field), p_char

    # --- events ----------------------------------------------------------------------------
    def _cell_changed(self, change):
        change["owner"].button_style = "primary" if change["new"] else ""
        if not self._bulk:
            self.source = "pad"
            self.update()
            self._say()

    def _next_example(self):
        names = list(EXAMPLES)
        self._example = names[(names.index(self._example) + 1) % len(names)]
        self.set_grid(strokes_to_grid(EXAMPLES[self._example], self.size))

    def _uploaded(self, change):
        files = change["new"]
        if not files:
            return
        item = files[-1] if isinstance(files, (tuple, list)) else list(files.values())[-1]
        try:
            self.load_file(bytes(item["content"]), name=item.get("name", "uploaded file"))
        except ValueError as e:
            self.status.value = f"<span style='color:{COLORS['vermillion']}'>{e}</span>"

    def _say(self):
        if hasattr(self, "status"):
            self.status.value = (f"showing the file {self.file_name}" if self.source == "file"
                                 else "showing the pad")

    def _draw(self, fig, axes, field, thickness, threshold=0.5):
        probs, p_char = self.read(field, thickness)
        source = f"file {self.file_name}" if self.source == "file" else "your drawing"
        return plot_reading(*axes, self.drawing(), self.model_input(thickness), probs,
                            self.names, p_char, threshold, top=5, source=source)


def drawing_pad_view(model, names, prepare, *, example="A", field="any", thickness=1,
                     threshold=0.5):
    """A drawing pad for a trained character model (see :class:`DrawingPad`).

    Parameters
    ----------
    model : a trained model whose ``predict`` takes (N, 1, 32, 32) images and returns class
        scores (N, K), or a list [class scores (N, K), "is it a character?" score (N, 1)]
    names : K class names ("0", ..., "9", "A", ..., "Z")
    prepare : function from a 2-D ink image of any size to the model's (32, 32) input
    example : the drawing shown first (a key of ``EXAMPLES``)
    field : "any", "digits" or "letters": the classes the answer may be
    thickness : pixels added to the strokes of the model input
    threshold : below this p(a character), the pad says "no character" (two-output models)
    """
    return DrawingPad(model, names, prepare, example=example, field=field,
                      thickness=thickness, threshold=threshold)


def find_mistakes(y_true, probs, *, true=None, read_as=None, order="worst"):
    """Indices of the misread samples, optionally only those of class ``true`` and/or
    read as ``read_as``: ``order="worst"`` puts the largest loss -log p(true class) first,
    ``"closest"`` the smallest margin p(read) - p(true) first."""
    y_true, probs = np.asarray(y_true), np.asarray(probs)
    pred = probs.argmax(axis=1)
    idx = np.flatnonzero(pred != y_true)
    if true is not None:
        idx = idx[y_true[idx] == true]
    if read_as is not None:
        idx = idx[pred[idx] == read_as]
    p_true, p_read = probs[idx, y_true[idx]], probs[idx, pred[idx]]
    key = p_true if order == "worst" else p_read - p_true
    return idx[np.argsort(key, kind="stable")]


def _no_mistakes(y_true, pred, names, true, read_as):
    """The text shown when no mistake matches: which kind was asked for, and which of its
    neighbours exist (so a learner sees what to pick instead)."""
    wrong = y_true != pred
    if true is None and read_as is None:
        return "no mistakes: every image was read right"
    asked = (f"{names[true]!r} read as {names[read_as]!r}" if true is not None and
             read_as is not None else f"{names[true]!r} read as anything else"
             if true is not None else f"other class read as {names[read_as]!r}")
    lines = [f"no {asked} among the {int(wrong.sum())} mistakes"]
    for given, label, other, how in ((true, y_true, pred, "{} is misread as: "),
                                     (read_as, pred, y_true, "misread as {}: ")):
        if given is None:
            continue
        found = np.bincount(other[wrong & (label == given)], minlength=len(names))
        kinds = [f"{names[k]!r} ({found[k]})" for k in np.argsort(-found, kind="stable")
                 if found[k]][:6]
        lines.append(how.format(repr(names[given])) + (", ".join(kinds) or "none"))
    return "\n".join(lines)


def plot_worst_mistakes(fig, images, y_true, probs, names, max_n=16, ncols=8, *, true=None,
                        read_as=None, order="worst"):
    """The misread images (see :func:`find_mistakes`), titled "true -> read" with the
    probabilities of both; all on the scale 0 (white) .. 1 (black)."""
    y_true, probs = np.asarray(y_true), np.asarray(probs)
    idx = find_mistakes(y_true, probs, true=true, read_as=read_as, order=order)
    shown = idx[:max_n]
    pred = probs.argmax(axis=1)
    if len(shown) == 0:
        ax = fig.subplots()
        ax.axis("off")
        return [ax.text(0.5, 0.5, _no_mistakes(y_true, pred, names, true, read_as),
                        ha="center", va="center", fontsize=11)]
    artists = []
    for i, ax in zip(shown, _grid(fig, len(shown), ncols), strict=True):
        ax.grid(False)
        image = np.asarray(images[i])
        artists.append(ax.imshow(image.reshape(image.shape[-2:]), cmap="gray_r", vmin=0,
                                 vmax=1))
        ax.set(xticks=[], yticks=[])
        ax.set_title(f"{names[y_true[i]]} -> {names[pred[i]]}\n"
                     f"{probs[i, pred[i]]:.2f} vs {probs[i, y_true[i]]:.2f}", fontsize=8)
    fig.suptitle(f"{len(idx)} such mistakes, {len(shown)} shown "
                 f"({'largest loss' if order == 'worst' else 'closest call'} first); "
                 f"title: true -> read, p(read) vs p(true)", fontsize=9)
    return artists


def mistake_explorer(images, y_true, probs, names, *, true="any", read_as="any",
                     order="worst"):
    """Browse a model's mistakes: the true class, what it was read as, and the order
    (largest loss first, or the closest calls first)."""
    w = _widgets()
    choices = ["any", *names]
    controls = {"true": w.Dropdown(options=choices, value=true, description="true class"),
                "read_as": w.Dropdown(options=choices, value=read_as, description="read as"),
                "order": w.ToggleButtons(options=["worst", "closest"], value=order,
                                         description="first")}

    def draw(fig, axes, true, read_as, order):
        fig.clear()
        pick = {name: None if value == "any" else choices.index(value) - 1
                for name, value in (("true", true), ("read_as", read_as))}
        return plot_worst_mistakes(fig, images, y_true, probs, names, max_n=16, ncols=8,
                                   order=order, **pick)

    return View(draw, controls, width=9, height=3.3, title="The model's mistakes")
