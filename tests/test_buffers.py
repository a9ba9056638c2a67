"""Buffers: state that is not a parameter (running statistics). Listed by ``buffers()``
beside ``parameters()``, saved and loaded, cast by ``astype``, never stepped by an
optimizer, and kept per call when one layer is used at several graph nodes."""

import numpy as np
import pytest

import nnlib as nl


class Center(nl.Layer):
    """A test layer with buffers, written as nnlib/README.md says: in training it is the
    identity and moves ``running_mean`` halfway to the batch mean (and counts its
    updates in ``updates``); in eval it subtracts ``running_mean``."""

    def __init__(self, features, *, dtype=np.float32):
        super().__init__()
        self.features = features
        self._set_dtype(dtype)
        self.running_mean = np.zeros(features, dtype=self.dtype)
        self.updates = np.zeros((), dtype=np.int64)
        self._x = None

    def forward(self, x):
        self._check_input(x, ndim=2, expected=f"(N, {self.features})")
        self._x = x
        if self.training:
            self.running_mean *= 0.5
            self.running_mean += 0.5 * x.mean(axis=0)
            self.updates += 1
            return x.copy()
        return x - self.running_mean

    def backward(self, dout):
        self._require_forward()
        return dout.copy()

    def buffers(self):
        return {"running_mean": self.running_mean, "updates": self.updates}

    def get_config(self):
        return {"features": self.features, "dtype": self.dtype.name}


def trained_model(rng):
    model = nl.Sequential(nl.Dense(3, 4, rng=0), Center(4),
                          nl.Residual(Center(4), nl.Dense(4, 4, rng=1)))
    model.forward(rng.standard_normal((8, 3)).astype(np.float32))
    return model


def test_buffers_are_listed_by_name_and_not_as_parameters(rng):
    model = trained_model(rng)
    assert list(model.buffers()) == ["1.running_mean", "1.updates", "2.0.running_mean",
                                     "2.0.updates"]
    assert not set(model.buffers()) & set(model.parameters())
    assert model.buffers()["1.running_mean"] is model.layers[1].running_mean
    assert int(model.layers[1].updates) == 1 and model.layers[1].running_mean.any()


def test_buffers_are_saved_and_loaded(tmp_path, rng):
    model = trained_model(rng)
    model.save(tmp_path / "m.npz")
    loaded = nl.Sequential.load(tmp_path / "m.npz")
    for name, value in model.buffers().items():
        np.testing.assert_array_equal(loaded.buffers()[name], value)
        assert loaded.buffers()[name].dtype == value.dtype
    x = rng.standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))  # eval reads them
    with np.load(tmp_path / "m.npz") as archive:
        assert "buffer/2.0.running_mean" in archive.files


def test_a_file_missing_a_buffer_is_rejected(tmp_path, rng):
    model = trained_model(rng)
    arrays = {f"param/{k}": p.data for k, p in model.parameters().items()}
    with np.load(_save(model, tmp_path)) as archive:
        meta = archive["__nnlib__"]
    np.savez(tmp_path / "broken.npz", __nnlib__=meta, **arrays)
    with pytest.raises(ValueError, match=r"stored buffers \[\] do not match"):
        nl.Sequential.load(tmp_path / "broken.npz")


def _save(model, tmp_path):
    path = tmp_path / "ok.npz"
    model.save(path)
    return path


def test_astype_casts_float_buffers_only(rng):
    model = trained_model(rng).astype(np.float64)
    assert model.layers[1].running_mean.dtype == np.float64
    assert model.layers[2].layers[0].running_mean.dtype == np.float64
    assert model.layers[1].updates.dtype == np.int64
    assert model.buffers()["1.running_mean"] is model.layers[1].running_mean


@pytest.mark.parametrize("make", [lambda p: nl.SGD(p, lr=0.5, momentum=0.9, weight_decay=0.1),
                                  lambda p: nl.RMSProp(p, lr=0.5),
                                  lambda p: nl.Adam(p, lr=0.5)], ids=["SGD", "RMSProp", "Adam"])
def test_optimizers_never_step_buffers(make, rng):
    model = trained_model(rng)
    before = {k: v.copy() for k, v in model.buffers().items()}
    weights = {k: p.data.copy() for k, p in model.parameters().items()}
    opt = make(model.parameters())
    for p in model.parameters().values():
        p.grad[...] = 1.0
    opt.step()
    assert any(not np.array_equal(p.data, weights[k]) for k, p in model.parameters().items())
    for k, v in model.buffers().items():
        np.testing.assert_array_equal(v, before[k])


def test_fit_updates_buffers_in_training_and_reads_them_in_eval(rng):
    x = rng.standard_normal((40, 3)).astype(np.float32) + 5
    model = nl.Sequential(Center(3), nl.Dense(3, 2, rng=0))
    model.fit(x, rng.integers(0, 2, 40), loss="cross_entropy",
              optimizer=nl.SGD(model.parameters(), lr=0.01), epochs=2, batch_size=10,
              verbose=False)
    center = model.layers[0]
    assert int(center.updates) == 8
    np.testing.assert_allclose(center.running_mean, x.mean(axis=0), atol=0.5)
    before = center.running_mean.copy()
    model.predict(x)                         # eval mode: buffers read, not updated
    np.testing.assert_array_equal(center.running_mean, before)


def test_a_shared_layer_keeps_the_buffer_updates_of_every_call(rng):
    a, b = nl.Input((2,)), nl.Input((2,))
    center = Center(2, dtype=np.float64)
    model = nl.Model(inputs=[a, b], outputs=nl.Add()([center(a), center(b)]))
    xa, xb = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    model.forward([xa, xb])
    expected = 0.5 * (0.5 * xa.mean(axis=0)) + 0.5 * xb.mean(axis=0)  # both calls, in order
    np.testing.assert_allclose(center.running_mean, expected)
    assert int(center.updates) == 2
    grads = model.backward(np.ones((4, 2)))  # restores each call's cache, not the buffers
    np.testing.assert_allclose(center.running_mean, expected)
    assert int(center.updates) == 2
    for g in grads:
        np.testing.assert_array_equal(g, np.ones((4, 2)))


def test_a_shared_layer_backward_uses_each_calls_own_cache(rng):
    # the cache of the first call comes back for its backward; the buffers stay
    dense = nl.Dense(2, 2, rng=0, dtype=np.float64)
    a, b = nl.Input((2,)), nl.Input((2,))
    model = nl.Model(inputs=[a, b], outputs=[dense(a), dense(b)])
    xa, xb = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    model.forward([xa, xb])
    da, db = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    model.zero_grad()
    model.backward([da, db])
    np.testing.assert_allclose(dense.W.grad, xa.T @ da + xb.T @ db)
