"""The attention-map explorer under the Agg backend: the maps are the layers' weights,
the plot is labelled and on the 0-1 scale, and every control changes the picture."""

import hashlib
import os

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("ipywidgets")
os.environ.setdefault("MPLBACKEND", "Agg")

import nnlib as nl  # noqa: E402
from nnlib import viz  # noqa: E402


def model():
    return nl.Sequential(nl.Embedding(10, 8, rng=0), nl.PositionalEmbedding(6, 8, rng=1),
                         nl.TransformerBlock(8, 2, rng=2),
                         nl.Residual(nl.MultiHeadAttention(8, 4, causal=True, rng=3)),
                         nl.Dense(8, 10, rng=4))


def png(view):
    return hashlib.sha256(bytes(view.image.value)).hexdigest()


def test_attention_maps_are_each_layers_weights():
    m = model()
    tokens = np.array([[1, 2, 3, 4, 5, 6]])
    names = [name for name, _ in viz.attention_layers(m)]
    assert names == ["layer 2 (block)", "layer 3.0 (attention)"]
    maps = viz.attention_maps(m, tokens)
    assert [w.shape for _, w in maps] == [(1, 2, 6, 6), (1, 4, 6, 6)]
    assert m.training  # put back in training mode
    m.eval()
    m.forward(tokens)
    np.testing.assert_array_equal(maps[1][1], m.layers[3].layers[0].attention)
    np.testing.assert_allclose(maps[0][1].sum(axis=-1), 1, rtol=1e-6)
    with pytest.raises(ValueError, match="has no attention layer"):
        viz.attention_maps(nl.Sequential(nl.Dense(2, 2)), np.zeros((1, 2), np.float32))


def test_plot_attention_is_labelled_on_the_fixed_scale():
    fig, (a, b) = viz.new_figure(1, 2)
    w = np.full((4, 4), 0.25)
    artists = viz.plot_attention(a, b, w, 2, list("abcd"), causal=True)
    assert artists[0].get_clim() == (0.0, 1.0)
    assert a.get_xlabel() and a.get_ylabel() and b.get_xlabel() and b.get_ylabel()
    assert "query 2 ('c')" in b.get_title()
    assert [bar.get_height() for bar in artists[2:]] == [0.25] * 4
    assert len(artists) == 6


@pytest.mark.parametrize("several", [False, True])
def test_every_control_of_the_explorer_changes_the_picture(several):
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 10, (3 if several else 1, 6))
    labels = list("abcdefghij")
    expected = {"layer", "head", "query"} | ({"example"} if several else set())
    view = viz.attention_explorer(model(), tokens, labels)
    assert set(view.controls) == expected and view.error is None
    for name, control in view.controls.items():
        before = png(view)
        options = getattr(control, "options", None)
        if options is not None:
            values = [o[1] if isinstance(o, tuple) else o for o in options]
            control.value = values[(values.index(control.value) + 1) % len(values)]
        else:
            control.value = control.min if control.value != control.min else control.max
        assert png(view) != before, f"moving {name!r} changed nothing"


def test_the_explorer_has_a_demo_default():
    view = viz.attention_explorer()
    assert set(view.controls) == {"layer", "head", "query"} and view.artists
