"""Sequential end to end: training, evaluation, callbacks, summary, save/load."""

import io

import numpy as np
import pytest

import nnlib as nl
from nnlib.data import spirals


def mlp(seed=0, hidden=64, dtype=np.float32):
    return nl.Sequential(nl.Dense(2, hidden, init="he_normal", rng=seed, dtype=dtype), nl.ReLU(),
                         nl.Dense(hidden, hidden, init="he_normal", rng=seed + 1, dtype=dtype),
                         nl.ReLU(), nl.Dense(hidden, 3, rng=seed + 2, dtype=dtype))


def test_fit_overfits_a_tiny_batch(rng):
    x = rng.standard_normal((8, 5)).astype(np.float32)
    y = rng.integers(0, 4, 8)
    model = nl.Sequential(nl.Dense(5, 32, rng=0), nl.Tanh(), nl.Dense(32, 4, rng=1))
    history = model.fit(x, y, loss=nl.CrossEntropyLoss(), optimizer=nl.Adam(model.parameters(),
                        lr=0.01), epochs=300, batch_size=8, verbose=False)
    assert history["loss"][-1] < 0.01 < history["loss"][0]
    assert history["accuracy"][-1] == 1.0


def test_mlp_reaches_99_percent_on_three_class_spirals():
    x, y = spirals(100, 3, rng=0)
    model = mlp()
    model.fit(x, y, loss="cross_entropy", optimizer=nl.Adam(model.parameters(), lr=0.01),
              epochs=200, batch_size=32, seed=0, verbose=False)
    assert model.evaluate(x, y, loss="cross_entropy")["accuracy"] >= 0.99


def test_fit_is_reproducible_with_a_seed():
    x, y = spirals(30, 3, rng=1)
    results = []
    for _ in range(2):
        model = mlp(seed=3, hidden=8)
        h = model.fit(x, y, loss="cross_entropy", optimizer=nl.SGD(model.parameters(), lr=0.1),
                      epochs=3, batch_size=7, seed=42, verbose=False)
        results.append(h["loss"])
    assert results[0] == results[1]


def test_history_has_validation_metrics_and_evaluate_agrees():
    x, y = spirals(40, 3, rng=2)
    xv, yv = spirals(20, 3, rng=3)
    model = mlp(hidden=16)
    h = model.fit(x, y, loss=nl.CrossEntropyLoss(), optimizer=nl.Adam(model.parameters()),
                  epochs=3, validation_data=(xv, yv), verbose=False)
    assert set(h.keys()) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in h.history.values())
    final = model.evaluate(xv, yv, loss="cross_entropy")
    assert final["loss"] == pytest.approx(h["val_loss"][-1])
    # the batched evaluation equals a single forward pass
    z = model.predict(xv, batch_size=7)
    assert z.shape == (60, 3)
    assert final["loss"] == pytest.approx(nl.CrossEntropyLoss().forward(model.forward(xv), yv),
                                          rel=1e-5)


def test_regression_with_mse_has_no_accuracy():
    x, y = nl.data.sine(64, rng=0)
    model = nl.Sequential(nl.Dense(1, 16, rng=0), nl.Tanh(), nl.Dense(16, 1, rng=1))
    h = model.fit(x, y, loss=nl.MSELoss(), optimizer=nl.Adam(model.parameters(), lr=0.02),
                  epochs=60, batch_size=16, verbose=False)
    assert "accuracy" not in h and "loss" in h
    assert h["loss"][-1] < 0.05


def test_fit_casts_float64_inputs_to_the_model_dtype():
    x, y = spirals(10, 3, rng=0)
    model = mlp(hidden=4)
    model.fit(x.astype(np.float64), y, loss="cross_entropy",
              optimizer=nl.SGD(model.parameters(), lr=0.1), verbose=False)
    assert model.predict(x.astype(np.float64)).dtype == np.float32


def test_early_stopping_stops_and_restores_best():
    x, y = spirals(30, 3, rng=4)
    xv, yv = spirals(30, 3, rng=5)
    model = mlp(hidden=32)
    stopper = nl.EarlyStopping(patience=2, restore_best=True)
    h = model.fit(x, y, loss="cross_entropy", optimizer=nl.Adam(model.parameters(), lr=0.5),
                  epochs=100, validation_data=(xv, yv), callbacks=[stopper], verbose=False)
    losses = h["val_loss"]
    assert stopper.stopped_epoch is not None and len(losses) < 100
    best = int(np.argmin(losses))
    assert stopper.best_epoch == best
    assert stopper.stopped_epoch - best >= 2
    assert model.evaluate(xv, yv, loss="cross_entropy")["loss"] == pytest.approx(losses[best],
                                                                                  rel=1e-5)


def test_early_stopping_tie_is_not_a_new_best():
    class FakeModel:
        stop_training = False

        def parameters(self):
            return {}

    stopper = nl.EarlyStopping(patience=2, restore_best=False, monitor="loss")
    stopper.set_model(FakeModel())
    stopper.on_train_begin({"metrics": ["loss"]})
    for epoch, value in enumerate([1.0, 0.5, 0.5, 0.5, 0.4]):
        stopper.on_epoch_end(epoch, {"loss": value})
        if stopper.model.stop_training:
            break
    assert stopper.best_epoch == 1 and stopper.stopped_epoch == 3


def test_summary_lists_shapes_and_counts():
    model = nl.Sequential(nl.Dense(784, 128), nl.ReLU(), nl.Dropout(0.2), nl.Dense(128, 10))
    text = model.summary()
    assert "(N, 128)" in text and "(N, 10)" in text
    assert f"{784 * 128 + 128 + 128 * 10 + 10:,}" in text
    assert repr(text) == str(text)  # shows as a table in a notebook
    flat = nl.Sequential(nl.Flatten(), nl.Dense(12, 2)).summary(input_shape=(3, 4))
    assert "(N, 12)" in flat


def test_summary_without_an_input_asks_the_first_layer_then_for_a_shape():
    """No input seen and none given: the first layer's declared input_shape_hint()
    (Dense knows its in_features; a layer of yours may say too), else a clear error."""

    class Scale(nl.Layer):
        def forward(self, x):
            return 2 * x

        def backward(self, dout):
            return 2 * dout

        def output_shape(self, input_shape):
            return input_shape

        def input_shape_hint(self):
            return (5,)

    assert "input (N, 5)" in str(nl.Sequential(Scale(), nl.Dense(5, 2)).summary())
    assert "input (N, 7)" in str(nl.Sequential(nl.Dense(7, 2)).summary())
    with pytest.raises(ValueError, match=r"summary\(input_shape=\(784,\)\)"):
        nl.Sequential(nl.Conv2D(1, 2, 3), nl.Flatten()).summary()


def test_save_load_round_trip_gives_identical_predictions(tmp_path, rng):
    model = nl.Sequential(nl.Dense(4, 8, rng=0), nl.LeakyReLU(0.2), nl.Dropout(0.1),
                          nl.Residual(nl.Dense(8, 8, rng=1), nl.ELU(0.5)), nl.Dense(8, 3, rng=2),
                          nl.Softmax())
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = nl.Sequential.load(path)
    x = rng.standard_normal((10, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert list(loaded.parameters()) == list(model.parameters())
    assert loaded.layers[1].alpha == 0.2 and loaded.layers[3].layers[1].alpha == 0.5
    assert not list(tmp_path.glob("*.partial"))


def test_save_is_pickle_free(tmp_path):
    path = tmp_path / "m.npz"
    nl.Sequential(nl.Dense(2, 2)).save(path)
    with np.load(path, allow_pickle=False) as archive:  # would raise if anything were pickled
        assert "__nnlib__" in archive.files


def test_progress_bar_plain_text_in_a_terminal(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    out = io.StringIO()
    x, y = spirals(10, 3, rng=0)
    model = mlp(hidden=4)
    model.fit(x, y, loss="cross_entropy", optimizer=nl.SGD(model.parameters(), lr=0.1), epochs=2,
              callbacks=[nl.ProgressBar(file=out)], verbose=False)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("epoch 2/2") and "accuracy" in lines[1]


def test_progress_bar_with_tqdm():
    pytest.importorskip("tqdm")
    out = io.StringIO()
    x, y = spirals(10, 3, rng=0)
    model = mlp(hidden=4)
    model.fit(x, y, loss="cross_entropy", optimizer=nl.SGD(model.parameters(), lr=0.1), epochs=2,
              batch_size=10, callbacks=[nl.ProgressBar(file=out)], verbose=False)
    text = out.getvalue()
    assert "epoch 2/2" in text and "6/6" in text


def test_train_eval_modes_propagate():
    model = nl.Sequential(nl.Dense(2, 2), nl.Dropout(0.5), nl.Residual(nl.Dropout(0.5)))
    model.eval()
    assert not model.layers[1].training and not model.layers[2].layers[0].training
    model.train()
    assert model.layers[2].layers[0].training
    x = np.ones((3, 2), np.float32)
    model.predict(x)
    assert model.training  # predict restores the mode it found


def test_backward_without_input_grad_gives_the_same_parameter_gradients(rng):
    model = nl.Sequential(nl.Flatten(), nl.Dense(6, 5, rng=0), nl.ReLU(), nl.Dense(5, 2, rng=1))
    x = rng.standard_normal((4, 2, 3)).astype(np.float32)
    dout = rng.standard_normal((4, 2)).astype(np.float32)
    model.forward(x)
    assert model.backward(dout).shape == x.shape
    full = {k: p.grad.copy() for k, p in model.parameters().items()}
    model.zero_grad()
    assert model.backward(dout, input_grad=False) is None
    for k, p in model.parameters().items():
        np.testing.assert_array_equal(p.grad, full[k])


def test_fit_and_predict_accept_nested_python_lists():
    model = nl.Sequential(nl.Dense(2, 3, rng=0))
    x = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    model.fit(x, [0, 1, 2], loss="cross_entropy", optimizer=nl.SGD(model.parameters(), lr=0.1),
              verbose=False)
    assert model.predict(x).shape == (3, 3)
    assert model.predict([np.array(x, np.float32)]).shape == (3, 3)


class WeightedMSE(nl.MSELoss):
    """A loss with a hyperparameter, to check that fit keeps a loss's configuration."""

    def __init__(self, scale=1.0):
        super().__init__()
        self.scale = scale

    def _compute(self, pred, target):
        loss, dpred = super()._compute(pred, target)
        return self.scale * loss, self.scale * dpred

    def get_config(self):
        return {"scale": self.scale}


def test_a_loss_reused_for_two_outputs_keeps_its_configuration():
    inp = nl.Input((2,))
    h = nl.Dense(2, 3, rng=0)(inp)
    model = nl.Model(inputs=inp, outputs=[nl.Dense(3, 1, rng=1)(h), nl.Dense(3, 1, rng=2)(h)])
    x = np.ones((4, 2), np.float32)
    y = [np.zeros((4, 1), np.float32), np.ones((4, 1), np.float32)]
    loss = WeightedMSE(scale=10.0)
    scores = model.evaluate(x, y, loss=loss)
    plain = model.evaluate(x, y, loss=nl.MSELoss())
    assert scores["out0_loss"] == pytest.approx(10 * plain["out0_loss"])
    assert scores["out1_loss"] == pytest.approx(10 * plain["out1_loss"])
    history = model.fit(x, y, loss=loss, optimizer=nl.SGD(model.parameters(), lr=0.01),
                        verbose=False)
    assert history["out1_loss"][0] > 1.0           # the scale of 10 was kept in both copies
    assert repr(loss) == "WeightedMSE(scale=10.0)"


def test_accuracy_is_a_property_of_the_loss():
    assert [L.has_accuracy for L in (nl.CrossEntropyLoss(), nl.BCELoss(), nl.BCEWithLogitsLoss(),
                                     nl.MSELoss())] == [True, True, True, False]
    z = np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert nl.CrossEntropyLoss().accuracy(z, np.array([0, 1, 1])) == pytest.approx(2 / 3)
    assert nl.BCEWithLogitsLoss().accuracy(np.array([[1.0], [-1.0]]),
                                           np.array([[1.0], [1.0]])) == 0.5
    assert nl.MSELoss().accuracy(z, z) is None

    class Hits(nl.MSELoss):  # a user's loss reports accuracy by declaring it
        has_accuracy = True

        def accuracy(self, pred, target):
            return float(np.mean(np.abs(pred - target) < 0.5))

    model = nl.Sequential(nl.Dense(1, 1, rng=0))
    history = model.fit(np.ones((4, 1)), np.ones((4, 1)), loss=Hits(),
                        optimizer=nl.SGD(model.parameters(), lr=0.1), verbose=False)
    assert "accuracy" in history
