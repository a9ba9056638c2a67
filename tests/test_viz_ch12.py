"""The pictures and views of chapter 12 (the capstone: a character recogniser), under the
Agg backend: the drawing pad responds to every control, every button, a click on a cell
and a picture file; the mistake explorer to every control; and every helper computes
what its docstring says."""

import datetime
import io
import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("ipywidgets")
os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib.pyplot as plt  # noqa: E402

import nnlib as nl  # noqa: E402
from nnlib import viz  # noqa: E402

NAMES = list("0123456789") + list(nl.data.LETTERS)
SAMPLE_PICTURE = Path(__file__).resolve().parents[1] / "chapters" / "images" / "handwritten_3.png"


def two_head_model(seed=0):
    """A small untrained graph model: (N, 1, 32, 32) -> [36 class scores, 1 yes/no score]."""
    r = np.random.default_rng(seed)
    image = nl.Input((1, 32, 32))
    h = nl.Flatten()(nl.MaxPool2D(4)(nl.ReLU()(nl.Conv2D(1, 3, 5, rng=r)(image))))
    chars = nl.Dense(3 * 7 * 7, 36, rng=r)(h)
    yes = nl.Dense(3 * 7 * 7, 1, rng=r)(h)
    return nl.Model(inputs=[image], outputs=[chars, yes])


def one_head_model(seed=0):
    r = np.random.default_rng(seed)
    return nl.Sequential(nl.Flatten(), nl.Dense(32 * 32, 36, rng=r))


def prepare(drawing):
    """16 x 16 (the pad) or any size -> 32 x 32, nearest neighbour: enough for the tests."""
    drawing = np.asarray(drawing, dtype=np.float32)
    rows = np.linspace(0, drawing.shape[0] - 1, 32).round().astype(int)
    cols = np.linspace(0, drawing.shape[1] - 1, 32).round().astype(int)
    return drawing[np.ix_(rows, cols)]


def png_bytes(rgb):
    buffer = io.BytesIO()
    plt.imsave(buffer, rgb, format="png")
    return buffer.getvalue()


def uploaded(name, content, kind="image/png"):
    """The value a FileUpload holds after the learner chose one file (ipywidgets 8)."""
    return ({"name": name, "type": kind, "size": len(content),
             "last_modified": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
             "content": memoryview(content)},)


def other_value(control):
    if hasattr(control, "options"):
        labels = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return next(v for v in labels if v != control.value)
    return control.min if control.value != control.min else control.max


def mistakes_data():
    rng = np.random.default_rng(0)
    images = rng.random((60, 1, 8, 8))
    y_true = np.arange(60) % 4
    probs = rng.dirichlet(np.ones(4), 60)
    return images, y_true, probs, list("abcd")


VIEWS = {
    "drawing_pad_view": lambda: viz.drawing_pad_view(two_head_model(), NAMES, prepare),
    "mistake_explorer": lambda: viz.mistake_explorer(*mistakes_data()),
}
CONTROLS = {
    "drawing_pad_view": ["field", "thickness", "threshold"],
    "mistake_explorer": ["true", "read_as", "order"],
}


@pytest.mark.parametrize("factory, control",
                         [(f, c) for f, names in CONTROLS.items() for c in names])
def test_every_control_changes_the_picture(factory, control):
    view = VIEWS[factory]()
    assert set(view.controls) == set(CONTROLS[factory])      # no control left untested
    before, redraws = bytes(view.image.value), view.redraws
    assert before.startswith(b"\x89PNG") and view.error is None and view.artists
    view.controls[control].value = other_value(view.controls[control])
    assert view.redraws == redraws + 1 and view.error is None
    assert bytes(view.image.value) != before


def test_a_click_on_a_cell_the_buttons_and_a_file_each_change_the_pad():
    pad = viz.drawing_pad_view(two_head_model(), NAMES, prepare, example="A")
    np.testing.assert_array_equal(pad.grid, viz.strokes_to_grid(viz.EXAMPLES["A"]))
    pictures = [bytes(pad.image.value)]
    cell = pad.cells[0]                                      # row 0, column 0: empty in "A"
    assert not cell.value
    cell.value = True                                        # a click
    assert pad.grid[0, 0] and cell.button_style == "primary"
    pictures.append(bytes(pad.image.value))
    pad.example.click()                                      # the next example drawing
    np.testing.assert_array_equal(pad.grid, viz.strokes_to_grid(viz.EXAMPLES["4"]))
    pictures.append(bytes(pad.image.value))
    pad.clear.click()
    assert not pad.grid.any() and not pad.model_input().any()
    pictures.append(bytes(pad.image.value))
    rgb = np.ones((40, 30, 3))
    rgb[10:30, 12:16] = 0.1                                  # a dark bar on white paper
    pad.upload.value = uploaded("bar.png", png_bytes(rgb))
    assert pad.source == "file" and "bar.png" in pad.status.value
    assert pad.drawing().shape == (40, 30)
    pictures.append(bytes(pad.image.value))
    assert len(set(pictures)) == len(pictures)               # every action redrew differently
    pad.cells[5].value = True                                # a click goes back to the pad
    assert pad.source == "pad" and "pad" in pad.status.value


def test_an_upload_that_is_not_a_picture_is_explained_and_the_pad_keeps_working():
    pad = viz.drawing_pad_view(two_head_model(), NAMES, prepare)
    before = bytes(pad.image.value)
    pad.upload.value = uploaded("notes.txt", b"not a picture", "text/plain")
    assert "PNG or JPEG" in pad.status.value and pad.source == "pad"
    assert bytes(pad.image.value) == before


def test_the_pad_reads_what_the_model_says_for_its_model_input():
    model = two_head_model()
    pad = viz.drawing_pad_view(model, NAMES, prepare, thickness=0, threshold=0.5)
    x = prepare(pad.grid.astype(np.float32))
    np.testing.assert_array_equal(pad.model_input(), x)
    chars, yes = model.predict(x[None, None])
    probs, p_char = pad.read()
    np.testing.assert_allclose(probs, nl.functional.softmax(chars.astype(np.float64))[0],
                               rtol=1e-6)
    assert p_char == pytest.approx(1 / (1 + np.exp(-float(yes[0, 0]))))
    digits, _ = pad.read(field="digits")
    assert digits[10:].sum() == 0 and digits.sum() == pytest.approx(1)
    best = probs.argmax()
    assert f"{NAMES[best]!r}" in pad.artists[-1].axes.figure.axes[2].get_title() \
        or "no character" in pad.artists[-1].axes.figure.axes[2].get_title()
    thick = pad.model_input(thickness=2)
    assert thick.sum() > x.sum() and (thick >= x).all()


def test_a_one_output_model_has_no_threshold_and_a_three_output_model_is_refused():
    pad = viz.drawing_pad_view(one_head_model(), NAMES, prepare)
    assert "threshold" not in pad.controls and pad.read()[1] is None
    image = nl.Input((1, 32, 32))
    h = nl.Flatten()(image)
    three = nl.Model(inputs=[image], outputs=[nl.Dense(1024, 36)(h), nl.Dense(1024, 1)(h),
                                              nl.Dense(1024, 2)(h)])
    with pytest.raises(ValueError, match="one output .* or two .* got 3"):
        viz.drawing_pad_view(three, NAMES, prepare)
    with pytest.raises(ValueError, match="example must be one of"):
        viz.drawing_pad_view(one_head_model(), NAMES, prepare, example="Q")
    with pytest.raises(ValueError, match="16x16 cells, got an array of shape \\(3, 3\\)"):
        pad.set_grid(np.ones((3, 3)))


def test_strokes_to_grid_draws_lines_between_points():
    grid = viz.strokes_to_grid([[(0, 0), (0, 5)], [(2, 2), (6, 6)]], size=8)
    assert grid[0, :6].all() and not grid[0, 6:].any()
    assert all(grid[i, i] for i in range(2, 7))
    assert grid.sum() == 6 + 5
    with pytest.raises(ValueError, match="on the 8x8 grid"):
        viz.strokes_to_grid([[(0, 0), (0, 9)]], size=8)


def test_read_image_turns_dark_ink_on_light_paper_into_the_training_images_form():
    rgb = np.full((20, 10, 3), 0.9)
    rgb[5:15, 4:6] = [0.1, 0.1, 0.4]                          # blue ink on light paper
    ink = viz.read_image(png_bytes(rgb))
    assert ink.shape == (20, 10) and ink.dtype == np.float32
    assert ink[5:15, 4:6].min() == pytest.approx(1.0) and ink.max() == 1.0
    assert ink[0].max() == pytest.approx(0.0, abs=1e-6)      # paper becomes 0
    light_on_dark = viz.read_image(png_bytes(1 - rgb))       # already ink = light: kept
    np.testing.assert_allclose(light_on_dark, ink, atol=0.02)
    rgba = np.zeros((8, 8, 4))                                # transparent = paper
    rgba[2:6, 3, 3] = 1                                       # an opaque black stroke
    transparent = viz.read_image(png_bytes(rgba))
    assert transparent[2:6, 3].min() == 1.0 and transparent.sum() == pytest.approx(4)
    with pytest.raises(ValueError, match="Could not read a picture .* PNG or JPEG"):
        viz.read_image(b"plain text")


def test_the_chapter_s_sample_picture_is_a_character_on_paper():
    ink = viz.read_image(SAMPLE_PICTURE)
    assert ink.ndim == 2 and 0.02 < (ink > 0.5).mean() < 0.3  # some ink, mostly paper


def test_thicken_widens_strokes_and_width_zero_changes_nothing():
    x = np.zeros((7, 7), dtype=np.float32)
    x[3, 3] = 1
    assert viz.thicken(x, 0) is x
    assert viz.thicken(x, 1).sum() == 4 and viz.thicken(x, 2).sum() == 9


def test_field_probabilities_are_the_conditional_probabilities_of_the_allowed_classes():
    logits = np.random.default_rng(0).standard_normal(36)
    p = nl.functional.softmax(logits[None])[0]
    digits = viz.field_probabilities(logits, NAMES, "digits")
    np.testing.assert_allclose(digits[:10], p[:10] / p[:10].sum())
    assert not digits[10:].any()
    np.testing.assert_allclose(viz.field_probabilities(logits, NAMES, "any"), p)
    letters = viz.field_probabilities(logits, NAMES, "letters")
    np.testing.assert_allclose(letters[10:], p[10:] / p[10:].sum())


def test_find_mistakes_filters_and_orders_by_loss_or_margin():
    y_true = np.array([0, 1, 2, 1, 0])
    probs = np.array([[0.9, 0.1, 0.0],      # right
                      [0.6, 0.3, 0.1],      # 1 read as 0, p(true) 0.3, margin 0.3
                      [0.1, 0.8, 0.1],      # 2 read as 1, p(true) 0.1, margin 0.7
                      [0.1, 0.4, 0.5],      # 1 read as 2, p(true) 0.4, margin 0.1
                      [0.2, 0.7, 0.1]])     # 0 read as 1, p(true) 0.2, margin 0.5
    assert viz.find_mistakes(y_true, probs).tolist() == [2, 4, 1, 3]
    assert viz.find_mistakes(y_true, probs, order="closest").tolist() == [3, 1, 4, 2]
    assert viz.find_mistakes(y_true, probs, true=1).tolist() == [1, 3]
    assert viz.find_mistakes(y_true, probs, read_as=1).tolist() == [2, 4]
    assert viz.find_mistakes(y_true, probs, true=0, read_as=2).tolist() == []


def test_plot_worst_mistakes_shows_them_on_the_ink_scale_titled_true_to_read():
    images, y_true, probs, names = mistakes_data()
    fig = plt.figure()
    artists = viz.plot_worst_mistakes(fig, images, y_true, probs, names, max_n=5, ncols=5)
    worst = viz.find_mistakes(y_true, probs)[:5]
    assert len(artists) == 5
    for artist, i in zip(artists, worst, strict=True):
        np.testing.assert_array_equal(artist.get_array(), images[i, 0])
        assert artist.get_clim() == (0, 1)
        assert artist.axes.get_title().startswith(
            f"{names[y_true[i]]} -> {names[probs[i].argmax()]}")
    fig = plt.figure()
    none = viz.plot_worst_mistakes(fig, images, y_true, np.eye(4)[y_true], names)
    assert none[0].get_text() == "no mistakes: every image was read right"
    plt.close("all")


def test_no_mistake_of_the_asked_kind_says_which_kind_and_what_exists_instead():
    # each empty selection shows its own text (a browser test of the explorer moves the
    # class dropdowns and expects every pick to change the view)
    names = list("abcd")
    y_true = np.array([0, 0, 0, 1, 1, 2, 3, 3])
    pred = np.array([1, 1, 2, 1, 0, 2, 3, 3])        # a->b twice, a->c, b->a; c, d right
    probs = np.full((len(pred), 4), 0.1)
    probs[np.arange(len(pred)), pred] = 0.7
    images = np.zeros((len(pred), 1, 4, 4))
    n_wrong = int(np.sum(y_true != pred))
    texts = {}
    for true in range(len(names)):
        for read_as in range(len(names)):
            if true == read_as or np.any((y_true == true) & (pred == read_as)):
                continue
            fig = plt.figure()
            text = viz.plot_worst_mistakes(fig, images, y_true, probs, names, true=true,
                                           read_as=read_as)[0].get_text()
            plt.close(fig)
            assert text.startswith(f"no {names[true]!r} read as {names[read_as]!r} among "
                                   f"the {n_wrong} mistakes"), text
            misread = sorted({names[k] for k in pred[(y_true == true) & (pred != true)]})
            for name in misread:
                assert f"{name!r} (" in text.splitlines()[1], text
            if not misread:
                assert text.splitlines()[1].endswith("none"), text
            texts[true, read_as] = text
    assert len(texts) > 1 and len(set(texts.values())) == len(texts)
    plt.close("all")


def test_plot_reading_shows_the_top_classes_and_the_threshold():
    fig, axes = viz.new_figure(1, 4)
    probs = np.array([0.1, 0.6, 0.3])
    raw, x = np.zeros((16, 16)), np.zeros((32, 32))
    viz.plot_reading(*axes, raw, x, probs, ["a", "b", "c"], p_char=0.8, threshold=0.5, top=2)
    shown = {round(t.get_position()[1]): t.get_text() for t in axes[2].get_yticklabels()}
    assert shown == {1: "b", 0: "c"}                          # the most probable on top
    assert axes[2].get_title() == "reads 'b' (60%)"
    assert axes[3].lines[0].get_ydata()[0] == 0.5
    fig, axes = viz.new_figure(1, 4)
    viz.plot_reading(*axes, raw, x, probs, ["a", "b", "c"], p_char=0.2, threshold=0.5)
    assert axes[2].get_title() == "no character (0.20 < 0.50)"
    plt.close("all")


def test_the_pad_s_cells_share_one_layout_and_one_style():
    pad = viz.drawing_pad_view(one_head_model(), NAMES, prepare)
    assert len(pad.cells) == viz.GRID ** 2
    assert len({id(c.layout) for c in pad.cells}) == len({id(c.style) for c in pad.cells}) == 1
    assert [c.tooltip for c in pad.cells[:2]] == ["row 0, column 0", "row 0, column 1"]
