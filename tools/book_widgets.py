"""Saved ipywidgets views as static HTML, for the book (``tools/build_book.py``).

A notebook saved from JupyterLab keeps every widget's last state in its metadata
(``application/vnd.jupyter.widget-state+json``): the views of ``nnlib.viz`` are boxes of
controls around an ``Image`` whose PNG is one of those saved buffers. A static page has
no kernel to move a control, so the book shows each view as it was saved: the title, every
visible control with its value (disabled ones dimmed), the picture, and a note that the
view responds in JupyterLab. A view whose state was not saved becomes that note alone:
never an empty box.
"""

from __future__ import annotations

import base64
import html
import json

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

BOXES = {"VBoxModel": "column", "HBoxModel": "row", "BoxModel": "row", "GridBoxModel": "row",
         "AccordionModel": "column", "TabModel": "column", "StackModel": "column"}
SLIDERS = {"IntSliderModel", "FloatSliderModel", "FloatLogSliderModel",
           "IntRangeSliderModel", "FloatRangeSliderModel", "SelectionSliderModel",
           "SelectionRangeSliderModel"}
CHOICES = {"ToggleButtonsModel", "RadioButtonsModel", "SelectMultipleModel"}
SELECTS = {"DropdownModel", "SelectModel", "ComboboxModel"}
TEXTS = {"TextModel", "TextareaModel", "IntTextModel", "FloatTextModel", "BoundedIntTextModel",
         "BoundedFloatTextModel", "PasswordModel", "DatePickerModel", "ColorPickerModel"}
BOOLEANS = {"CheckboxModel", "ToggleButtonModel", "ValidModel"}
IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "gif": "image/gif",
               "svg+xml": "image/svg+xml", "webp": "image/webp"}


def saved_models(metadata):
    """The saved widget models of a notebook: ``{model_id: model}``, each ``model`` a dict
    with ``model_name`` and ``state`` (binary buffers decoded into the state as bytes)."""
    state = (metadata or {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    models = {}
    for model_id, model in state.items():
        values = dict(model.get("state", {}))
        for buffer in model.get("buffers") or ():
            if buffer.get("encoding") == "base64" and buffer.get("path"):
                _set_path(values, buffer["path"], base64.b64decode(buffer["data"]))
        models[model_id] = {"model_name": model.get("model_name", ""), "state": values}
    return models


def _set_path(values, path, data):
    target = values
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = data


def _ref(value):
    """The model id an ``IPY_MODEL_<id>`` reference names, else None."""
    if isinstance(value, str) and value.startswith("IPY_MODEL_"):
        return value[len("IPY_MODEL_"):]
    return None


class StaticView:
    """Renders one saved widget tree as HTML.

    Parameters
    ----------
    models : dict, from :func:`saved_models`
    save_image : callable(data: bytes, mime: str) -> str
        Stores a picture and returns the ``src`` that shows it.
    source : str
        The notebook's path as the learner opens it, named in the note.
    """

    def __init__(self, models, save_image, source):
        self.models, self.save_image, self.source = models, save_image, source
        self.controls = self.images = 0

    def hidden(self, model_id):
        """True when the notebook hid the view itself (a live dashboard hides its frame
        once training ends and shows the final figure as an ordinary output): the page
        shows nothing for it either, as JupyterLab does."""
        model = self.models.get(model_id)
        if model is None:
            return False
        layout = self.models.get(_ref(model["state"].get("layout")), {}).get("state", {})
        return layout.get("display") == "none" or layout.get("visibility") == "hidden"

    def render(self, model_id):
        """The view's HTML: its widgets and the note; the note alone when not saved."""
        self.controls = self.images = 0
        body = self._widget(model_id) if model_id in self.models else ""
        if not body or not self.images:
            return (f'<div class="book-view book-view-missing">{self._note(saved=False)}'
                    f'</div>')
        return (f'<figure class="book-view">\n<div class="book-view-body">{body}</div>\n'
                f'<figcaption class="book-view-note">{self._note(saved=True)}</figcaption>'
                f'\n</figure>')

    def _note(self, saved):
        where = (f"open <code>{html.escape(self.source)}</code> in JupyterLab "
                 "(<code>make lab</code>)")
        if not saved:
            return (f'<span class="book-view-badge">interactive view</span> Run this notebook '
                    f"in JupyterLab to interact: {where} and run its cells.")
        what = "move its controls and the picture redraws" if self.controls else "run it live"
        return (f'<span class="book-view-badge">interactive view</span> Shown as saved '
                f"after a clean run. To interact, {where}: {what}.")

    # -- the widget tree -------------------------------------------------------------
    def _widget(self, model_id, seen=()):
        model = self.models.get(model_id)
        if model is None or model_id in seen:
            return ""
        name, state = model["model_name"], model["state"]
        layout = self.models.get(_ref(state.get("layout")), {}).get("state", {})
        if layout.get("display") == "none" or layout.get("visibility") == "hidden":
            return ""
        classes = " ".join(html.escape(c) for c in state.get("_dom_classes", ()))
        seen = (*seen, model_id)
        if name in BOXES:
            return self._box(name, state, layout, classes, seen)
        if name == "ImageModel":
            return self._image(state, layout, classes)
        if name in ("HTMLModel", "HTMLMathModel"):
            return f'<div class="book-w-html {classes}">{state.get("value", "")}</div>'
        if name == "LabelModel":
            text = html.escape(str(state.get("value", "")))
            return f'<div class="book-w-label {classes}">{text}</div>'
        if name == "OutputModel":
            return self._output(state, classes)
        if name in ("IntProgressModel", "FloatProgressModel"):
            return self._control(state, classes, (
                f'<progress max="{_num(state.get("max", 100))}" '
                f'value="{_num(state.get("value", 0))}"></progress>'))
        if name in ("ButtonModel", "PlayModel"):
            label = state.get("description") or ("play" if name == "PlayModel" else "button")
            self.controls += 1
            return (f'<span class="book-w-button {classes}" aria-disabled="true">'
                    f"{html.escape(str(label))}</span>")
        if "description" in state or "value" in state or "index" in state:
            return self._control(state, classes, self._value(name, state))
        return ""

    def _box(self, name, state, layout, classes, seen):
        children = [self._widget(_ref(c), seen) for c in state.get("children", ())]
        titles = state.get("titles") or state.get("_titles") or ()
        if isinstance(titles, dict):  # ipywidgets 7 saved titles as {"0": "title"}
            titles = [titles.get(str(i), "") for i in range(len(children))]
        if name in ("AccordionModel", "TabModel"):
            titles = [*titles, *[""] * len(children)][:len(children)]
            children = [(f'<div class="book-w-title">{html.escape(str(t))}</div>' if t else "")
                        + c for c, t in zip(children, titles, strict=True)]
        direction = BOXES[name]
        if layout.get("flex_flow", "") and "column" in layout["flex_flow"]:
            direction = "column"
        wrap = " book-w-wrap" if "wrap" in (layout.get("flex_flow") or "") else ""
        inner = "\n".join(c for c in children if c)
        return (f'<div class="book-w-box book-w-{direction}{wrap} {classes}">{inner}</div>'
                if inner else "")

    def _image(self, state, layout, classes):
        data = state.get("value")
        if not isinstance(data, bytes) or not data:
            return ""
        mime = IMAGE_TYPES.get(str(state.get("format", "png")).lower(), "image/png")
        self.images += 1
        src = html.escape(self.save_image(data, mime))
        # the size the view asked for (its natural pixel size), never wider than the page
        sizes = {"width": state.get("width") or layout.get("width"),
                 "height": state.get("height") or layout.get("height")}
        style = "".join(f"{key}: {html.escape(str(value))}; " for key, value in sizes.items()
                        if value)
        attr = f' style="{style.strip()}"' if style else ""
        return (f'<img class="book-w-image {classes}" src="{src}" '
                f'alt="the view as saved"{attr}>')

    def _output(self, state, classes):
        parts = []
        for out in state.get("outputs", ()):
            data = out.get("data", {})
            if out.get("output_type") == "stream":
                parts.append(f'<pre>{html.escape(_text(out.get("text", "")))}</pre>')
            elif "image/png" in data:
                self.images += 1
                src = self.save_image(base64.b64decode(_text(data["image/png"])), "image/png")
                parts.append(f'<img class="book-w-image" src="{html.escape(src)}" alt="output">')
            elif "text/html" in data:
                parts.append(_text(data["text/html"]))
            elif "text/plain" in data:
                parts.append(f'<pre>{html.escape(_text(data["text/plain"]))}</pre>')
        return f'<div class="book-w-output {classes}">{"".join(parts)}</div>' if parts else ""

    def _control(self, state, classes, value_html):
        self.controls += 1
        disabled = " book-w-disabled" if state.get("disabled") else ""
        label = state.get("description", "")
        label = str(label) if state.get("description_allow_html") else html.escape(str(label))
        label_html = f'<span class="book-w-desc">{label}</span>' if label else ""
        tip = ' title="not used for the current selection"' if disabled else ""
        return (f'<span class="book-w-control{disabled} {classes}"{tip}>{label_html}'
                f"{value_html}</span>")

    def _value(self, name, state):
        if name in CHOICES or (name not in SELECTS | SLIDERS and "_options_labels" in state):
            # one chosen (toggle and radio buttons) or several (SelectMultiple): each
            # option shown, the chosen ones marked
            labels = state.get("_options_labels", ())
            index = state.get("index")
            chosen = set(index) if isinstance(index, (list, tuple)) else {index}
            marked = ' book-w-selected" aria-current="true'
            return "".join(
                f'<span class="book-w-choice{marked if i in chosen else ""}">'
                f"{html.escape(str(label))}</span>" for i, label in enumerate(labels))
        if name in SELECTS:
            labels = list(state.get("_options_labels", ()))
            index = state.get("index")
            if isinstance(index, int) and 0 <= index < len(labels):
                shown = labels[index]
            else:
                shown = state.get("value", "")
            options = html.escape(", ".join(map(str, labels)))
            return (f'<span class="book-w-value book-w-select" title="options: {options}">'
                    f"{html.escape(str(shown))}</span>")
        if name in BOOLEANS:
            mark = "on" if state.get("value") else "off"
            return f'<span class="book-w-value">{mark}</span>'
        if name in SLIDERS:
            return self._slider(name, state)
        if name == "FileUploadModel":  # on a page there is no file to choose: say so
            accept = state.get("accept") or "any file"
            return (f'<span class="book-w-value">choose a file ({html.escape(str(accept))}) '
                    f"when the notebook runs in JupyterLab</span>")
        value = state.get("value", "")
        return f'<span class="book-w-value">{html.escape(_text(value))}</span>'

    def _slider(self, name, state):
        fmt = state.get("readout_format", "")
        if name.startswith("Selection"):
            labels = state.get("_options_labels", ())
            index = state.get("index")
            indices = index if isinstance(index, (list, tuple)) else [index]
            shown = " – ".join(str(labels[i]) for i in indices
                               if isinstance(i, int) and 0 <= i < len(labels))
            position = None
        else:
            value = state.get("value")
            values = value if isinstance(value, (list, tuple)) else [value]
            shown = " – ".join(_format(v, fmt) for v in values)
            position = _position(name, state, values[0])
        track = ""
        if position is not None:
            track = (f'<span class="book-w-track" aria-hidden="true"><span style="left: '
                     f'{position:.0f}%"></span></span>')
        return f'{track}<span class="book-w-value">{html.escape(shown)}</span>'


def _position(name, state, value):
    """Where the handle sits on the track, in percent, or None."""
    try:
        low, high, value = float(state["min"]), float(state["max"]), float(value)
        if name == "FloatLogSliderModel":
            import math
            value = math.log(value, float(state.get("base", 10)))
    except (KeyError, TypeError, ValueError):
        return None
    if high <= low:
        return None
    return min(max((value - low) / (high - low) * 100, 0), 100)


def _format(value, fmt):
    """A slider's readout: ipywidgets' d3 format is Python's for the usual specs."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and fmt:
        try:
            return format(value, fmt)
        except (ValueError, TypeError):
            pass
    if isinstance(value, float):
        return format(value, ".4g")
    return str(value)


def _num(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _text(value):
    if isinstance(value, list):
        return "".join(map(str, value))
    if isinstance(value, (dict, tuple)):
        return json.dumps(value)
    return str(value)
