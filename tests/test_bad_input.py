"""Bad input and faults, one row each: what goes in, the exception and the message it
must give (issue 14). The spirit of the probe that found silent results and NumPy's raw
errors: every bad input is a clear error that names what was expected, what came and the
fix, or it is handled correctly -- never silent.

A new layer joins by adding rows: a constructor call with an absurd size to
``CASES`` (its message must name the size), and its wrong-input rows beside the others.
A malformed model file joins by adding a row to ``BAD_FILES``.
"""

import io
import json
import os
import tracemalloc
import zipfile

import numpy as np
import pytest

import nnlib as nl
from nnlib import serialization

F32 = np.float32


def mlp(dtype=F32):
    return nl.Sequential(nl.Dense(2, 4, rng=0, dtype=dtype), nl.Tanh(),
                         nl.Dense(4, 3, rng=1, dtype=dtype))


def relu_graph():
    """A graph model whose layers take any width: only the Input can catch (2, 7)."""
    x = nl.Input((4,))
    return nl.Model(x, nl.ReLU()(x))


def fit(model, x, y, **kwargs):
    kwargs.setdefault("loss", "cross_entropy")
    kwargs.setdefault("verbose", False)
    return model.fit(x, y, optimizer=nl.SGD(model.parameters(), lr=0.1), **kwargs)


X = np.ones((4, 2), F32)
Y = np.array([0, 1, 2, 0])
EMPTY = np.ones((0, 3), F32)
BIG_IMAGES = np.broadcast_to(np.zeros((), F32), (4096, 64, 64, 64))  # no memory behind it

# (id, thunk, exception, message regex)
CASES = [
    # -- shapes where data enter a graph model
    ("predict-per-sample-shape", lambda: relu_graph().predict(np.ones((2, 7), F32)),
     nl.ShapeError, r"expected per-sample shape \(4,\), got \(7,\).*\(2, 7\).*Reshape"),
    ("predict-one-sample-no-batch-axis", lambda: relu_graph().predict(np.ones(4, F32)),
     nl.ShapeError, r"per-sample shape \(4,\), got \(\).*x\[None\]"),
    ("evaluate-per-sample-shape",
     lambda: relu_graph().evaluate(np.ones((2, 5), F32), np.ones((2, 5), F32), loss="mse"),
     nl.ShapeError, r"expected per-sample shape \(4,\), got \(5,\)"),
    ("input-negative-size", lambda: nl.Input((-5,)), ValueError,
     r"every size .* >= 1, got \(-5,\).*nl\.Input\(\(784,\)\)"),
    ("input-float-size", lambda: nl.Input(3.5), TypeError,
     r"tuple of ints .*got 3\.5.*nl\.Input\(\(784,\)\)"),
    ("input-none-batch-axis", lambda: nl.Input((None, 4)), TypeError, r"got \(None, 4\)"),
    ("input-zero-size", lambda: nl.Input(0), ValueError, r">= 1, got \(0,\)"),
    # -- sizes refused before NumPy is asked for TiBs: the message names the size
    ("dense-huge", lambda: nl.Dense(10**6, 10**6), ValueError,
     r"Dense\(1000000, 1000000\) would need a weight matrix W of shape \(1000000, 1000000\)"
     r".*TiB.*bound.*number of samples"),
    ("conv-huge-padding", lambda: nl.Conv2D(1, 8, 3, padding=10**4), ValueError,
     r"Conv2D\(1, 8, 3, padding=10000\) would need .*GiB.*padding=10000 adds"),
    ("conv-huge-kernel", lambda: nl.Conv2D(3, 64, 10**5), ValueError,
     r"weight tensor W of shape \(64, 3, 100000, 100000\).*kernel_size is the window"),
    ("conv-huge-workspace", lambda: nl.Conv2D(64, 8, 3, padding="same").forward(BIG_IMAGES),
     ValueError, r"im2col columns for 4096 images of 64x64 pixels.*batch_size="),
    ("rnn-huge", lambda: nl.RNN(10**6, 10**5), ValueError,
     r"RNN\(1000000, 100000\) would need an input weight matrix Wx"),
    ("lstm-huge", lambda: nl.LSTM(8, 10**5), ValueError,
     r"LSTM\(8, 100000\) would need a recurrent weight matrix Wh of shape \(100000, 400000\)"),
    ("batchnorm1d-huge", lambda: nl.BatchNorm1D(10**10), ValueError,
     r"BatchNorm1D\(10000000000\) would need a scale gamma of shape \(10000000000,\).*GiB"
     r".*number of features per sample"),
    ("batchnorm2d-huge", lambda: nl.BatchNorm2D(10**10), ValueError,
     r"BatchNorm2D\(10000000000\) would need a scale gamma.*number of channels"),
    ("layernorm-huge", lambda: nl.LayerNorm((10**5, 10**5)), ValueError,
     r"LayerNorm\(\(100000, 100000\)\) would need a scale gamma of shape \(100000, 100000\)"),
    ("embedding-huge", lambda: nl.Embedding(10**6, 10**6), ValueError,
     r"Embedding\(1000000, 1000000\) would need an embedding table W .*TiB.*vocabulary size"),
    ("positional-embedding-huge", lambda: nl.PositionalEmbedding(10**7, 10**4), ValueError,
     r"PositionalEmbedding\(10000000, 10000\) would need a position table P.*longest "
     r"sequence"),
    ("positional-embedding-sinusoidal-huge",
     lambda: nl.PositionalEmbedding(10**7, 10**4, kind="sinusoidal"), ValueError,
     r"would need a position table P of shape \(10000000, 10000\)"),
    ("attention-huge", lambda: nl.MultiHeadAttention(10**5, 2), ValueError,
     r"MultiHeadAttention\(100000, 2\) would need a query weight Wq of shape "
     r"\(100000, 100000\).*feature size D"),
    ("transformer-block-huge", lambda: nl.TransformerBlock(10**5, 2), ValueError,
     r"would need a query weight Wq of shape \(100000, 100000\)"),
    ("transformer-block-huge-mlp", lambda: nl.TransformerBlock(64, 2, mlp_ratio=2**25),
     ValueError, r"Dense\(64, 2147483648\) would need a weight matrix W"),
    # -- complex numbers are refused, never cast to real with a warning
    ("complex-predict", lambda: mlp().predict(np.ones((3, 2)) + 1j), TypeError,
     r"real-valued inputs, got complex.*x\.real"),
    ("complex-fit-targets", lambda: fit(mlp(), X, np.ones((4, 3)) + 1j, loss="mse"),
     TypeError, r"real-valued targets, got complex"),
    ("complex-layer", lambda: nl.ReLU().forward(np.ones((2, 2), np.complex64)), TypeError,
     r"ReLU expected real numbers in its input, got complex"),
    ("complex-loss-target",
     lambda: nl.MSELoss().forward(np.ones((3, 2), F32), np.ones((3, 2)) + 1j), TypeError,
     r"MSELoss expected real numbers in its targets"),
    # -- empty batches and empty data sets
    ("empty-mse", lambda: nl.MSELoss().forward(EMPTY, EMPTY), ValueError,
     r"MSELoss got an empty batch: predictions \(0, 3\)"),
    ("empty-bce", lambda: nl.BCELoss().forward(EMPTY, EMPTY), ValueError,
     r"BCELoss got an empty batch"),
    ("empty-bce-logits", lambda: nl.BCEWithLogitsLoss().forward(EMPTY, EMPTY), ValueError,
     r"BCEWithLogitsLoss got an empty batch"),
    ("empty-cross-entropy",
     lambda: nl.CrossEntropyLoss().forward(EMPTY, np.zeros(0, np.int64)), ValueError,
     r"CrossEntropyLoss got an empty batch.*at least one sample"),
    ("fit-no-samples", lambda: fit(mlp(), np.ones((0, 2), F32), np.zeros(0, np.int64)),
     ValueError, r"fit got 0 samples \(inputs \(0, 2\)\): there is nothing to train on"),
    ("evaluate-no-samples",
     lambda: mlp().evaluate(np.ones((0, 2), F32), np.zeros(0, np.int64), loss="cross_entropy"),
     ValueError, r"evaluate got 0 samples"),
    ("sequential-empty", lambda: nl.Sequential(), ValueError,
     r"Sequential needs at least one layer, got none.*Sequential\(nl\.Dense"),
    ("residual-empty", lambda: nl.Residual(), ValueError, r"Residual needs at least one layer"),
    ("sequential-list", lambda: nl.Sequential([nl.Dense(2, 2)]), TypeError,
     r"separate arguments, got one list.*Sequential\(\*layers\)"),
    # -- targets
    ("cross-entropy-row-half",
     lambda: nl.CrossEntropyLoss().forward(np.ones((2, 2), F32),
                                           np.array([[0.5, 0], [1, 0]], F32)),
     ValueError, r"rows that sum to 1, but 1 of 2 rows do not: row 0 sums to 0\.5.*y\.sum"),
    ("cross-entropy-row-two-ones",
     lambda: nl.CrossEntropyLoss().forward(np.ones((2, 3), F32), np.array([[1, 1, 0]] * 2)),
     ValueError, r"2 of 2 rows do not: row 0 sums to 2"),
    # -- Python data in
    ("ragged-predict", lambda: mlp().predict([[1, 2], [3]]), ValueError,
     r"ragged nested lists: the first rows have lengths \[2, 1\].*pad or trim"),
    ("ragged-fit-targets", lambda: fit(mlp(), X, [[1, 0, 0], [0, 1], [1], []], loss="mse"),
     ValueError, r"targets as an array.*lengths \[3, 2, 1, 0\]"),
    ("text-data", lambda: mlp().predict(np.array([["a", "b"]])), TypeError,
     r"numeric inputs, got dtype <U1.*np\.asarray"),
    # -- fit's own arguments
    ("fit-seed-string", lambda: fit(mlp(), X, Y, seed="abc"), TypeError,
     r"'seed' parameter of fit must be None, an int >= 0 or a numpy\.random\.Generator\. "
     r"Got 'abc'"),
    ("fit-seed-negative", lambda: fit(mlp(), X, Y, seed=-1), TypeError, r"Got -1 instead"),
    ("fit-seed-float", lambda: fit(mlp(), X, Y, seed=1.5), TypeError, r"Got 1\.5 instead"),
    ("validation-not-a-pair", lambda: fit(mlp(), X, Y, validation_data=(X, Y, Y)), TypeError,
     r"pair \(x_val, y_val\), got a tuple of 3 items"),
    ("validation-wrong-width",
     lambda: fit(mlp(), X, Y, validation_data=(np.ones((4, 3), F32), Y)), nl.ShapeError,
     r"fit ran the first of the validation inputs \(4, 3\) through the model before "
     r"training.*Dense expected input \(N, 2\)"),
    ("validation-bad-labels",
     lambda: fit(mlp(), X, Y, validation_data=(X, np.array([0, 1, 7, 0]))), ValueError,
     r"fit checked validation_data before training: .*labels in \[0, 7\].*3 classes"),
    ("validation-rows", lambda: fit(mlp(), X, Y, validation_data=(X, Y[:3])), nl.ShapeError,
     r"fit got 4 validation inputs but 3 validation targets"),
    ("train-label-in-last-batch",
     lambda: fit(mlp(), X, np.array([0, 1, 2, 5]), batch_size=1, shuffle=False), ValueError,
     r"labels in \[0, 5\].*3 classes"),
]


@pytest.mark.parametrize("make, error, message", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_gives_a_clear_error(make, error, message):
    with pytest.raises(error, match=message) as info:
        make()
    assert type(info.value).__module__ != "numpy"


class EpochSpy(nl.Callback):
    def __init__(self):
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def test_validation_data_is_checked_before_the_first_epoch_trains():
    for validation in [(np.ones((4, 3), F32), Y), (X, np.array([0, 1, 7, 0])), (X, Y[:3])]:
        model = mlp()
        before = {k: p.data.copy() for k, p in model.parameters().items()}
        spy = EpochSpy()
        with pytest.raises(ValueError):
            fit(model, X, Y, validation_data=validation, callbacks=[spy])
        assert spy.epochs == []
        for k, p in model.parameters().items():
            np.testing.assert_array_equal(p.data, before[k])


def test_a_bad_label_late_in_the_data_stops_fit_before_any_step():
    model = mlp()
    before = model.parameters()["0.W"].data.copy()
    with pytest.raises(ValueError, match=r"labels in \[0, 9\]"):
        fit(model, np.ones((64, 2), F32), np.r_[np.zeros(63, np.int64), 9], batch_size=8)
    np.testing.assert_array_equal(model.parameters()["0.W"].data, before)


def test_what_is_correct_is_still_accepted():
    soft = np.array([[0.1, 0.2, 0.7], [1 / 3, 1 / 3, 1 / 3]], F32)  # rows sum to 1 in float32
    assert np.isfinite(nl.CrossEntropyLoss().forward(np.zeros((2, 3), F32), soft))
    assert mlp().predict(np.zeros((0, 2), F32)).shape == (0, 3)  # nothing in, nothing out
    assert nl.Input(()).shape == () and nl.Input(np.int64(3)).shape == (3,)
    history = fit(mlp(), [[0, 1], [1, 0], [1, 1], [0, 0]], [0, 1, 2, 0],
                  seed=np.random.default_rng(0), validation_data=(X, Y), epochs=2)
    assert len(history.history["val_loss"]) == 2
    nl.Conv2D(3, 8, 3, padding=50)  # a large but sane padding
    nl.Dense(784, 4096)


# --- item 4: a dtype change carries through -------------------------------------------------

def test_astype_float64_reaches_the_model_dtype_and_predict():
    seq = mlp().astype(np.float64)
    assert seq.dtype == np.float64
    x64 = np.random.default_rng(0).normal(size=(5, 2))
    assert seq.predict(x64).dtype == np.float64
    inp = nl.Input((2,))
    graph = nl.Model(inp, nl.Dense(2, 3, rng=0)(nl.Tanh()(nl.Dense(2, 2, rng=1)(inp))))
    graph.astype(np.float64)
    assert graph.dtype == np.float64 and graph.predict(x64).dtype == np.float64
    nested = nl.Sequential(nl.Residual(nl.Dense(2, 2), nl.ReLU()), nl.Dense(2, 1))
    nested.astype(np.float64)
    assert nested.layers[0].dtype == np.float64
    assert nested.predict(x64).dtype == np.float64
    assert nl.Sequential(nl.ReLU()).astype(np.float64).predict(x64).dtype == np.float64


OPTIMIZERS = {
    "adam": lambda p: nl.Adam(p, lr=0.01),
    "rmsprop": lambda p: nl.RMSProp(p, lr=0.01),
    "momentum": lambda p: nl.SGD(p, lr=0.1, momentum=0.9),
    "nesterov-decay": lambda p: nl.SGD(p, lr=0.1, momentum=0.9, nesterov=True,
                                       weight_decay=0.01),
    "adam-decay": lambda p: nl.Adam(p, lr=0.01, weight_decay=0.1),
}


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_optimizer_state_follows_astype(make):
    """An optimizer built on a float32 model, which then moves to float64, steps exactly
    like one built on the float64 model: its moments follow the parameters' dtype."""
    moved, native = mlp(), mlp()
    opt_moved = make(moved.parameters())
    moved.astype(np.float64)
    native.astype(np.float64)
    opt_native = make(native.parameters())
    rng = np.random.default_rng(0)
    for _ in range(3):
        for p, q in zip(moved.parameters().values(), native.parameters().values(), strict=True):
            p.grad[...] = q.grad[...] = rng.normal(size=p.shape) * 1e-3
        opt_moved.step()
        opt_native.step()
    for arrays in opt_moved.state().values():
        assert all(a.dtype == np.float64 for a in arrays.values())
    for p, q in zip(moved.parameters().values(), native.parameters().values(), strict=True):
        assert p.data.dtype == np.float64
        np.testing.assert_array_equal(p.data, q.data)


def test_fit_after_astype_trains_in_float64():
    model = mlp()
    opt = nl.Adam(model.parameters(), lr=0.01)
    model.astype(np.float64)
    x = np.random.default_rng(0).normal(size=(16, 2))
    model.fit(x, np.arange(16) % 3, loss="cross_entropy", optimizer=opt, epochs=2,
              verbose=False)
    assert all(m.dtype == np.float64 for m in opt.m.values())
    assert all(p.dtype == np.float64 for p in model.parameters().values())


# --- item 5: loading is bounded and clear; save never replaces a protected file ----------------

def _model_file(tmp_path):
    path = tmp_path / "good.npz"
    nl.Sequential(nl.Dense(30, 20, rng=0), nl.ReLU(), nl.Dense(20, 2, rng=1)).save(path)
    return path


def _rewrite(good, out, edit):
    """Copy the archive ``good`` to ``out`` with ``edit(entries)`` applied to its arrays."""
    with np.load(good) as archive:
        entries = dict(archive)
    edit(entries)
    np.savez(out, **entries)


def _meta(good, out, change):
    def edit(entries):
        meta = json.loads(str(entries["__nnlib__"]))
        entries["__nnlib__"] = np.array(json.dumps(change(meta)))
    _rewrite(good, out, edit)


def _deep(levels):
    entry = {"class": "ReLU", "config": {}}
    for _ in range(levels):
        entry = {"class": "Sequential", "config": {}, "children": [entry]}
    return entry


def _flip_a_weight_byte(good, out):
    raw = bytearray(good.read_bytes())
    with np.load(good) as archive:
        start = raw.find(archive["param/0.W"].tobytes()[:64])
    raw[start + 10] ^= 0xFF
    out.write_bytes(bytes(raw))


def _npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _set(entries, key, value):
    entries[key] = value


BAD_FILES = [
    ("text", lambda good, out: out.write_text("a model, honest\n" * 4),
     r"not an nnlib model file \(a text file, starting b'a model"),
    ("empty", lambda good, out: out.write_bytes(b""), r"not an nnlib model file \(an empty file"),
    ("binary", lambda good, out: out.write_bytes(bytes(range(256))),
     r"not an nnlib model file \(not a zip archive"),
    ("single-npy", lambda good, out: out.write_bytes(_npy_bytes(np.arange(3))),
     r"a single \.npy array"),
    ("truncated", lambda good, out: out.write_bytes(good.read_bytes()[:2000]),
     r"damaged or incomplete zip archive"),
    ("bad-crc", _flip_a_weight_byte, r"damaged nnlib model file: .*param/0\.W.*CRC"),
    ("plain-arrays", lambda good, out: np.savez(out, a=np.arange(3)),
     r"no '__nnlib__' entry"),
    ("json-list", lambda good, out: _rewrite(
        good, out, lambda e: _set(e, "__nnlib__", np.array("[1, 2]"))),
     r"'__nnlib__' holds a JSON list, expected an object"),
    ("json-number", lambda good, out: _rewrite(
        good, out, lambda e: _set(e, "__nnlib__", np.array("3"))), r"holds a JSON int"),
    ("json-garbage", lambda good, out: _rewrite(
        good, out, lambda e: _set(e, "__nnlib__", np.array("{not json"))),
     r"unreadable '__nnlib__' entry"),
    ("json-deep-lists", lambda good, out: _rewrite(
        good, out, lambda e: _set(e, "__nnlib__", np.array("[" * 100_000 + "]" * 100_000))),
     r"unreadable '__nnlib__' entry"),
    ("meta-not-a-string", lambda good, out: _rewrite(
        good, out, lambda e: _set(e, "__nnlib__", np.arange(3.0))),
     r"'__nnlib__' holds float64 values where nnlib stores a string"),
    ("no-model-key", lambda good, out: _meta(good, out, lambda m: {**m, "model": None} and
                                             {"format": m["format"], "version": m["version"]}),
     r"'__nnlib__' has no 'model' entry"),
    ("no-class-key", lambda good, out: _meta(good, out, lambda m: {**m, "model": {"config": {}}}),
     r"model has keys \['config'\]; expected 'class', 'config'"),
    ("children-not-list", lambda good, out: _meta(
        good, out, lambda m: {**m, "model": {**m["model"], "children": {"a": 1}}}),
     r"children are a dict, expected a list"),
    ("same-as-not-an-int", lambda good, out: _meta(good, out, lambda m: {**m, "model": {
        **m["model"], "children": [{"same_as": "0"}]}}),
     r"refers to shared layer '0'; expected the number"),
    ("same-as-later-layer", lambda good, out: _meta(good, out, lambda m: {**m, "model": {
        **m["model"], "children": [{"same_as": 7}]}}),
     r"cannot be built: The model file refers to shared layer 7"),
    ("unknown-class", lambda good, out: _meta(
        good, out, lambda m: {**m, "model": {"class": "Danger", "config": {}}}),
     r"cannot be built: The model file uses a layer class 'Danger'"),
    ("bad-config-value", lambda good, out: _meta(good, out, lambda m: {**m, "model": {
        "class": "Dense", "config": {"in_features": "30", "out_features": 2}}}),
     r"cannot be built: The 'in_features' parameter of Dense must be an int"),
    ("too-deep", lambda good, out: _meta(good, out, lambda m: {**m, "model": _deep(40)}),
     r"nest more than 32 levels deep"),
    ("architecture-larger-than-arrays", lambda good, out: _meta(good, out, lambda m: {
        **m, "model": {"class": "Sequential", "config": {}, "children": [
            {"class": "Dense", "config": {"in_features": 20000, "out_features": 20000}}]}}),
     r"Dense\(20000, 20000\) would need a weight matrix W .*1\.5 GiB.*does not match its "
     r"arrays"),
    ("missing-parameter", lambda good, out: _rewrite(good, out, lambda e: e.pop("param/2.b")),
     r"stored parameters .* do not match"),
    ("wrong-shape", lambda good, out: _rewrite(
        good, out, lambda e: _set(e, "param/0.W", np.zeros((3, 3), F32))),
     r"parameter 0\.W has shape \(3, 3\), the architecture needs \(30, 20\)"),
    ("string-array", lambda good, out: _rewrite(
        good, out, lambda e: _set(e, "param/0.b", np.array(["x"] * 20))),
     r"'param/0\.b' holds <U1 values where nnlib stores numbers"),
    ("object-array", lambda good, out: _rewrite(
        good, out, lambda e: _set(e, "param/0.b", np.array([None] * 20, dtype=object))),
     r"'param/0\.b' is an array of Python objects.*never unpickles"),
    ("nan-weights", lambda good, out: _rewrite(
        good, out, lambda e: _set(e, "param/2.W", np.full((20, 2), np.nan, F32))),
     r"cannot be loaded: parameter 2\.W holds nan at index \(0, 0\) \(40 non-finite"
     r".*smaller lr"),
    ("graph-negative-parent", lambda good, out: _graph_file(out, parent=-1),
     r"cannot be built: Model config: node 1's parent index -1 is not in \[0, 1\)"),
    ("graph-parent-after-node", lambda good, out: _graph_file(out, parent=2),
     r"node 1's parent index 2 is not in \[0, 1\)"),
]


def _graph_file(out, parent):
    x = nl.Input((3,))
    model = nl.Model(x, nl.Dense(3, 2)(nl.ReLU()(x)))
    model.save(out)
    _meta(out, out, lambda m: {**m, "model": {**m["model"], "config": {
        **m["model"]["config"], "nodes": [
            n if i != 1 else {**n, "parents": [parent]}
            for i, n in enumerate(m["model"]["config"]["nodes"])]}}})


@pytest.mark.parametrize("make, message", [b[1:] for b in BAD_FILES],
                         ids=[b[0] for b in BAD_FILES])
def test_every_malformed_model_file_is_one_clear_error_naming_it(tmp_path, make, message):
    good = _model_file(tmp_path)
    bad = tmp_path / "bad.npz"
    make(good, bad)
    for load in (nl.Sequential.load, nl.Model.load):
        with pytest.raises(ValueError, match=message) as info:
            load(bad)
        text = str(info.value)
        assert str(bad) in text
        assert "allow_pickle" not in text and "pickle.load" not in text  # never suggested


def test_a_small_file_cannot_make_load_allocate_much(tmp_path):
    """The 378-byte file of the issue asked for 1.7 GB; now the architecture is checked
    against the stored arrays before any layer allocates its weights."""
    path = tmp_path / "small.npz"
    meta = {"format": serialization.FORMAT, "version": serialization.VERSION,
            "model": {"class": "Sequential", "config": {}, "children": [
                {"class": "Dense", "config": {"in_features": 15000, "out_features": 15000}}]}}
    np.savez(path, **{"__nnlib__": np.array(json.dumps(meta)),
                      "param/0.W": np.zeros((1, 1), F32), "param/0.b": np.zeros(1, F32)})
    assert os.path.getsize(path) < 2000
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"does not match its arrays"):
            nl.Sequential.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024**2, f"load allocated {peak / 1024**2:.0f} MiB"


def test_the_bounds_are_where_the_docs_say(tmp_path):
    path = tmp_path / "ok.npz"
    nested = nl.Dense(2, 2)
    for _ in range(serialization.MAX_DEPTH - 1):  # exactly MAX_DEPTH levels still loads
        nested = nl.Sequential(nested)
    nested.save(path)
    assert isinstance(nl.Sequential.load(path), nl.Sequential)
    with pytest.raises(ValueError, match=r"nest 33 levels deep and load reads at most 32"):
        nl.Sequential(nested).save(tmp_path / "deeper.npz")
    assert not (tmp_path / "deeper.npz").exists()


def test_save_over_a_read_only_file_fails_and_leaves_it_intact(tmp_path):
    path = tmp_path / "frozen.npz"
    mlp().save(path)
    before = path.read_bytes()
    os.chmod(path, 0o444)
    try:
        with pytest.raises(PermissionError, match=r"frozen\.npz: the file is read-only.*chmod"):
            nl.Sequential(nl.Dense(2, 1)).save(path)
        assert path.read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["frozen.npz"]  # no leftovers
    finally:
        os.chmod(path, 0o644)


def test_save_refuses_nan_weights_and_a_missing_folder(tmp_path):
    model = mlp()
    model.parameters()["2.b"].data[1] = np.nan
    with pytest.raises(ValueError, match=r"param/2\.b holds nan at index \(1,\).*smaller lr"):
        model.save(tmp_path / "diverged.npz")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError, match=r"the folder .*nowhere does not exist"):
        mlp().save(tmp_path / "nowhere" / "m.npz")
    with pytest.raises(IsADirectoryError, match=r"it is a folder"):
        mlp().save(tmp_path)


def test_a_good_file_still_round_trips(tmp_path):
    path = _model_file(tmp_path)
    loaded = nl.Sequential.load(path)
    with zipfile.ZipFile(path) as z:
        assert {"__nnlib__.npy", "param/0.W.npy"} <= set(z.namelist())
    x = np.random.default_rng(0).normal(size=(3, 30)).astype(F32)
    np.testing.assert_array_equal(loaded.predict(x), nl.Sequential.load(path).predict(x))
