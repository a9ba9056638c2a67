"""Bad input: every error names what was expected, what came, and the fix."""

import numpy as np
import pytest

import nnlib as nl
from nnlib.data import spirals


def test_dense_wrong_feature_count():
    with pytest.raises(ValueError, match=r"Dense expected input \(N, 784\), got \(32, 100\)"
                                         r".*Dense\(100, 10\)"):
        nl.Dense(784, 10).forward(np.zeros((32, 100), np.float32))


def test_dense_images_not_flattened():
    with pytest.raises(nl.ShapeError, match=r"got \(32, 28, 28\).*Flatten"):
        nl.Dense(784, 10).forward(np.zeros((32, 28, 28), np.float32))


def test_dense_single_sample_as_column():
    with pytest.raises(ValueError, match=r"Rows are samples.*reshape\(1, -1\)"):
        nl.Dense(3, 2).forward(np.zeros((3, 1), np.float32))


def test_sequential_names_layer_index_and_both_shapes():
    model = nl.Sequential(nl.Dense(4, 8), nl.ReLU(), nl.Dense(6, 2))
    with pytest.raises(nl.ShapeError) as info:
        model.forward(np.zeros((5, 4), np.float32))
    msg = str(info.value)
    assert "layer 2 (Dense(6, 2))" in msg
    assert "layer 1 (ReLU()) output (5, 8)" in msg
    assert "expected input (N, 6)" in msg


def test_wrong_dtype_names_both_and_the_fix():
    with pytest.raises(TypeError, match=r"expected input of dtype float32, got float64.*"
                                        r"astype\(np.float32\).*dtype=np.float64"):
        nl.Dense(3, 2).forward(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="got int64"):
        nl.Dense(3, 2).forward(np.zeros((2, 3), np.int64))
    with pytest.raises(TypeError, match="NumPy array, got list"):
        nl.Dense(3, 2).forward([[1.0, 2.0, 3.0]])
    with pytest.raises(TypeError, match=r"layer 0 is float32, layer 2 is float64"):
        nl.Sequential(nl.Dense(2, 2), nl.ReLU(), nl.Dense(2, 2, dtype=np.float64))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_the_input(bad):
    x = np.ones((4, 3), np.float32)
    x[2, 1] = bad
    model = nl.Sequential(nl.Dense(3, 2))
    with pytest.raises(ValueError, match=r"at index \(2, 1\)"):
        model.forward(x)
    with pytest.raises(ValueError, match=r"inputs at index \(2, 1\)"):
        model.fit(x, np.zeros(4, np.int64), loss="cross_entropy",
                  optimizer=nl.SGD(model.parameters(), lr=0.1), verbose=False)


def test_loss_turning_nan_during_fit_names_epoch_batch_and_lr():
    x, y = spirals(50, 3, rng=0)
    x = x * 1e3
    model = nl.Sequential(nl.Dense(2, 64, rng=0), nl.ReLU(), nl.Dense(64, 3, rng=1))
    with pytest.raises(FloatingPointError, match=r"epoch \d+ of 50, batch \d+ of 5\. "
                                                 r"The learning rate \(lr=1e\+06\).*try lr=100000"):
        model.fit(x, y, loss="cross_entropy",
                  optimizer=nl.SGD(model.parameters(), lr=1e6), epochs=50, batch_size=32,
                  verbose=False)


def test_cross_entropy_labels_out_of_range():
    with pytest.raises(ValueError, match=r"labels in \[0, 5\].*3 classes.*\[0, 2\]"):
        nl.CrossEntropyLoss().forward(np.zeros((4, 3), np.float32), np.array([0, 1, 5, 2]))
    with pytest.raises(ValueError, match=r"labels in \[-1, 1\]"):
        nl.CrossEntropyLoss().forward(np.zeros((2, 3), np.float32), np.array([-1, 1]))


def test_cross_entropy_float_labels():
    with pytest.raises(TypeError, match=r"integer class labels, got float64.*astype\(np.int64\)"):
        nl.CrossEntropyLoss().forward(np.zeros((2, 3), np.float32), np.array([0.0, 2.0]))


def test_losses_never_broadcast():
    with pytest.raises(ValueError, match=r"\(8, 1\).*\(8,\).*reshape\(-1, 1\)"):
        nl.MSELoss().forward(np.zeros((8, 1), np.float32), np.zeros(8, np.float32))
    with pytest.raises(ValueError, match="Add a Sigmoid layer, or use BCEWithLogitsLoss"):
        nl.BCELoss().forward(np.full((2, 1), 3.0), np.ones((2, 1)))


def test_backward_before_forward():
    with pytest.raises(RuntimeError, match="before forward"):
        nl.Dense(2, 2).backward(np.zeros((1, 2), np.float32))
    with pytest.raises(RuntimeError, match="before forward"):
        nl.MSELoss().backward()


def test_unknown_keyword_arguments_suggest_the_right_one():
    model = nl.Sequential(nl.Dense(2, 2))
    with pytest.raises(TypeError, match=r"SGD got an unexpected keyword argument 'learning_rate'"
                                        r"\. Did you mean .*Valid keywords: params, lr,"):
        nl.SGD(model.parameters(), learning_rate=0.1)
    with pytest.raises(TypeError, match=r"'epoch'\. Did you mean 'epochs'\?"):
        model.fit(np.zeros((2, 2)), np.zeros((2, 2)), loss="mse",
                  optimizer=nl.SGD(model.parameters(), 0.1), epoch=3)
    with pytest.raises(TypeError, match=r"Dense got an unexpected keyword argument 'units'"):
        nl.Dense(2, 2, units=3)


@pytest.mark.parametrize("make, message", [
    (lambda p: nl.SGD(p, lr=0), r"'lr' parameter of SGD must be a float > 0\. Got 0 instead"),
    (lambda p: nl.SGD(p, lr=-1), r"Got -1 instead"),
    (lambda p: nl.Adam(p, lr=float("nan")), r"'lr' parameter of Adam"),
    (lambda p: nl.SGD(p, lr=0.1, momentum=1.0), r"'momentum' parameter of SGD must be a float "
                                                r"in \[0, 1\)\. Got 1.0"),
    (lambda p: nl.SGD(p, lr=0.1, momentum=-0.1), r"momentum"),
    (lambda p: nl.SGD(p, lr=0.1, nesterov=True), r"nesterov.*momentum > 0"),
    (lambda p: nl.Adam(p, beta1=1.0), r"'beta1' parameter of Adam"),
    (lambda p: nl.RMSProp(p, lr=0.1, eps=0), r"'eps' parameter of RMSProp"),
    (lambda p: nl.SGD(p, lr="0.1"), r"must be a float > 0\. Got '0.1'"),
])
def test_invalid_optimizer_hyperparameters(make, message):
    with pytest.raises(ValueError, match=message):
        make(nl.Dense(2, 2).parameters())


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_invalid_dropout_probability(p):
    with pytest.raises(ValueError, match=rf"'p' parameter of Dropout must be a float in "
                                         rf"\[0, 1\)\. Got {p}"):
        nl.Dropout(p)


def test_invalid_layer_and_fit_arguments():
    with pytest.raises(ValueError, match="'out_features' parameter of Dense must be an int >= 1"):
        nl.Dense(3, 0)
    with pytest.raises(ValueError, match="'dtype' parameter of Dense"):
        nl.Dense(3, 2, dtype=np.int32)
    with pytest.raises(TypeError, match=r"Did you forget the parentheses, e\.g\. nl\.ReLU\(\)"):
        nl.Sequential(nl.Dense(2, 2), nl.ReLU)
    model = nl.Sequential(nl.Dense(2, 2))
    opt = nl.SGD(model.parameters(), lr=0.1)
    x, y = np.zeros((4, 2), np.float32), np.zeros(4, np.int64)
    with pytest.raises(ValueError, match="'batch_size' parameter of fit must be an int >= 1"):
        model.fit(x, y, loss="cross_entropy", optimizer=opt, batch_size=0)
    with pytest.raises(ValueError, match="'loss' parameter of fit must be one of"):
        model.fit(x, y, loss="crossentropy", optimizer=opt)
    with pytest.raises(ValueError, match="4 inputs but 3 targets"):
        model.fit(x, y[:3], loss="cross_entropy", optimizer=opt)
    with pytest.raises(ValueError, match="optimizer was built for other parameters"):
        model.fit(x, y, loss="cross_entropy", optimizer=nl.SGD(nl.Dense(2, 2).parameters(), 0.1))
    with pytest.raises(ValueError, match=r"monitors 'val_loss'.*validation_data="):
        model.fit(x, y, loss="cross_entropy", optimizer=opt, callbacks=[nl.EarlyStopping(2)],
                  verbose=False)


def test_loading_a_file_that_is_not_an_nnlib_model(tmp_path):
    plain = tmp_path / "arrays.npz"
    np.savez(plain, a=np.arange(3))
    with pytest.raises(ValueError, match=r"is not an nnlib model file \(no '__nnlib__' entry\)"
                                         r".*model\.save"):
        nl.Sequential.load(plain)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not an nnlib model file"):
        nl.Sequential.load(text)
    single = tmp_path / "one.npy"
    np.save(single, np.arange(3))
    with pytest.raises(ValueError, match="single .npy array"):
        nl.Sequential.load(single)
    with pytest.raises(FileNotFoundError):
        nl.Sequential.load(tmp_path / "missing.npz")
