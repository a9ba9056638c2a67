"""get_config / from_config: every layer and model rebuilds itself from its JSON-able
config (and its rebuilt children), computes the same function once its weights are
copied, and reports the same config again. Serialization uses nothing else."""

import json

import numpy as np
import pytest
from helpers import away_from_zero
from test_layers import LAYERS, MERGES

import nnlib as nl
from nnlib.serialization import build, describe


def rebuild(layer):
    """A copy built only from the config and the children's configs."""
    children = [rebuild(child) for child in layer.children()]
    return type(layer).from_config(json.loads(json.dumps(layer.get_config())), children)


def copy_state(src, dst):
    for (ks, ps), (kd, pd) in zip(src.parameters().items(), dst.parameters().items(),
                                  strict=True):
        assert ks == kd and ps.shape == pd.shape
        pd.data[...] = ps.data
    for k, b in src.buffers().items():
        dst.buffers()[k][...] = b


def same_output(a, b, x):
    for layer in (a, b):
        layer.eval()
    np.testing.assert_array_equal(b.forward(x), a.forward(x))


@pytest.mark.parametrize("name", [*LAYERS, *MERGES])
def test_every_layer_round_trips_through_its_config(name, rng):
    factory, shape = {**LAYERS, **MERGES}[name]
    layer = factory()
    x = ([away_from_zero(rng, s).astype(np.float32) for s in shape]
         if isinstance(shape, list) else away_from_zero(rng, shape).astype(np.float32))
    clone = rebuild(layer)
    assert type(clone) is type(layer)
    assert clone.get_config() == layer.get_config()
    assert repr(clone) == repr(layer)
    copy_state(layer, clone)
    same_output(layer, clone, x)


def graph_model():
    a, b = nl.Input((3,)), nl.Input((2,))
    shared = nl.Dense(4, 4, rng=1)
    h1, h2 = shared(nl.Dense(3, 4, rng=0)(a)), shared(nl.Dense(2, 4, rng=2)(b))
    out = nl.Dense(8, 2, rng=3)(nl.Concatenate()([nl.Multiply()([h1, h2]), h2]))
    return nl.Model(inputs=[a, b], outputs=[out, nl.Reshape((2, 2))(h1)])


def test_sequential_with_a_residual_round_trips(rng):
    model = nl.Sequential(nl.Dense(4, 8, rng=0), nl.LeakyReLU(0.2),
                          nl.Residual(nl.Dense(8, 8, rng=1), nl.ELU(0.5)), nl.Dense(8, 3, rng=2))
    clone = rebuild(model)
    assert isinstance(clone.layers[2], nl.Residual) and clone.layers[2].layers[1].alpha == 0.5
    copy_state(model, clone)
    same_output(model, clone, rng.standard_normal((5, 4)).astype(np.float32))
    assert describe(clone) == describe(model)


def test_graph_model_round_trips_with_shared_layers(rng):
    model = graph_model()
    config = model.get_config()
    assert set(config) == {"nodes", "inputs", "outputs"} and len(config["inputs"]) == 2
    clone = rebuild(model)
    assert clone.edges() == model.edges()
    assert len(clone.layers) == len(model.layers)       # the shared layer stays one layer
    copy_state(model, clone)
    xs = [rng.standard_normal((4, 3)).astype(np.float32),
          rng.standard_normal((4, 2)).astype(np.float32)]
    for got, want in zip(clone.forward(xs), model.forward(xs), strict=True):
        np.testing.assert_array_equal(got, want)
    assert describe(build(describe(model))) == describe(model)


def test_a_user_layer_round_trips_with_the_default_from_config(tmp_path, rng):
    class Scale(nl.Layer):
        def __init__(self, factor=2.0, *, dtype=None):
            super().__init__(dtype=dtype)
            self.factor = factor

        def forward(self, x):
            return x * self.factor

        def backward(self, dout):
            return dout * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    model = nl.Sequential(nl.Dense(2, 2, rng=0), Scale(3.0))
    model.save(tmp_path / "m.npz")
    loaded = nl.Sequential.load(tmp_path / "m.npz")
    assert loaded.layers[1].factor == 3.0
    x = rng.standard_normal((3, 2)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_layers_without_children_reject_them():
    with pytest.raises(TypeError, match="Dense has no child layers, got 1"):
        nl.Dense.from_config({"in_features": 2, "out_features": 2}, [nl.ReLU()])


def test_pointwise_says_it_cannot_be_configured():
    with pytest.raises(TypeError, match="holds Python functions"):
        nl.Pointwise(np.sin, np.cos).get_config()


def test_an_older_model_file_gets_a_clear_message(tmp_path):
    meta = {"format": "nnlib-model", "version": 1,
            "model": {"class": "Sequential", "config": {}, "layers": []}}
    np.savez(tmp_path / "old.npz", __nnlib__=np.array(json.dumps(meta)))
    with pytest.raises(ValueError, match=r"written by another version of nnlib \(model file "
                                         r"format 1; this nnlib reads 2\)"):
        nl.Sequential.load(tmp_path / "old.npz")
