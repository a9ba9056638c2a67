"""Pooling: fast == naive for any size and stride, first-max-wins gradients with ties,
float64 gradient checks, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnlib as nl
from nnlib.functional import pooling as P


@settings(max_examples=40, deadline=None)
@given(h=st.integers(2, 9), w=st.integers(2, 9), size=st.integers(1, 3), stride=st.integers(1, 3),
       seed=st.integers(0, 2**16))
def test_fast_equals_naive(h, w, size, stride, seed):
    if size > min(h, w):
        return
    x = np.random.default_rng(seed).standard_normal((2, 3, h, w))
    np.testing.assert_array_equal(P.maxpool_forward(x, size, stride),
                                  P.maxpool_naive(x, size, stride))
    np.testing.assert_allclose(P.avgpool_forward(x, size, stride), P.avgpool_naive(x, size, stride))


def _maxpool_backward_loops(dout, x, size, stride):
    """Each window's gradient to its first maximum in row-major order, one window at a
    time (overlapping windows add up)."""
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(dout.shape):
        window = x[n, c, i * stride:i * stride + size, j * stride:j * stride + size]
        di, dj = np.unravel_index(np.argmax(window), window.shape)  # argmax: first max
        dx[n, c, i * stride + di, j * stride + dj] += dout[n, c, i, j]
    return dx


@settings(max_examples=60, deadline=None)
@given(h=st.integers(2, 9), w=st.integers(2, 9), size=st.integers(1, 3), stride=st.integers(1, 3),
       seed=st.integers(0, 2**16), ties=st.booleans(), layout=st.sampled_from(["C", "F", "CNHW"]))
def test_max_pool_backward_equals_loops(h, w, size, stride, seed, ties, layout):
    """Random windows, with many ties when the values are small integers, and inputs laid
    out as C or Fortran order or channel-major (how a convolution's output comes)."""
    if size > min(h, w):
        return
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, (2, 3, h, w)) if ties else rng.standard_normal((2, 3, h, w))
    if layout == "F":
        x = np.asfortranarray(x)
    elif layout == "CNHW":
        x = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    x = x.astype(np.float32)
    out = P.maxpool_forward(x, size, stride)
    # whole numbers: overlapping windows' sums are exact in any order
    dout = (rng.integers(1, 10, out.shape) * rng.choice([-1, 1], out.shape)).astype(np.float32)
    np.testing.assert_array_equal(P.maxpool_backward(dout, x, out, size, stride),
                                  _maxpool_backward_loops(dout, x, size, stride))


def test_floor_output_size_as_pytorch():
    x = np.arange(49, dtype=np.float32).reshape(1, 1, 7, 7)
    out = nl.MaxPool2D(2).forward(x)
    assert out.shape == (1, 1, 3, 3)
    np.testing.assert_array_equal(out[0, 0], [[8, 10, 12], [22, 24, 26], [36, 38, 40]])
    layer = nl.MaxPool2D(2)
    layer.forward(x)
    dx = layer.backward(np.ones((1, 1, 3, 3), np.float32))
    assert dx[0, 0, 6].sum() == 0 and dx[0, 0, :, 6].sum() == 0  # never pooled: no gradient


@pytest.mark.parametrize("size, stride", [(2, 2), (2, 1), (3, 2), (3, 3)])
def test_max_pool_gradient_goes_to_exactly_one_element_per_window_with_ties(size, stride):
    x = np.zeros((1, 2, 6, 6))  # everything ties
    layer = nl.MaxPool2D(size, stride)
    out = layer.forward(x)
    dout = np.arange(1, out.size + 1, dtype=float).reshape(out.shape)
    dx = layer.backward(dout)
    assert dx.sum() == dout.sum()  # no gradient duplicated or lost
    h_out = out.shape[2]
    for i in range(h_out):
        for j in range(h_out):
            # the first element (row-major) of each window is where PyTorch sends it
            assert dx[0, 0, i * stride, j * stride] >= dout[0, 0, i, j]


def test_max_pool_backward_first_max_in_row_major_order():
    x = np.array([[[[1.0, 5.0], [5.0, 2.0]]]])
    layer = nl.MaxPool2D(2)
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(np.array([[[[3.0]]]])), [[[[0, 3], [0, 0]]]])


@pytest.mark.parametrize("layer, shape", [
    (nl.MaxPool2D(2), (2, 3, 4, 6)), (nl.MaxPool2D(3, stride=2), (2, 2, 7, 8)),
    (nl.MaxPool2D(2, stride=1), (1, 2, 5, 4)), (nl.MaxPool2D(2), (1, 1, 5, 5)),
    (nl.AvgPool2D(2), (2, 3, 4, 6)), (nl.AvgPool2D(3, stride=2), (2, 2, 7, 8)),
    (nl.AvgPool2D(2, stride=1), (1, 2, 5, 4)), (nl.AvgPool2D(2), (1, 1, 5, 5)),
], ids=repr)
def test_pool_gradient_check(layer, shape, rng):
    report = nl.check_layer(layer, rng.standard_normal(shape))
    assert report.passed, str(report)


def test_pool_keeps_dtype_and_input(rng):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    before = x.copy()
    for layer in (nl.MaxPool2D(2), nl.AvgPool2D(3, stride=2)):
        y = layer.forward(x)
        dx = layer.backward(np.ones_like(y))
        assert y.dtype == dx.dtype == np.float32
    np.testing.assert_array_equal(x, before)


def test_pool_larger_than_input():
    with pytest.raises(ValueError, match=r"MaxPool2D window 4x4 is larger than its input 3x3"):
        nl.MaxPool2D(4).forward(np.zeros((1, 1, 3, 3), np.float32))
    with pytest.raises(ValueError, match=r"'stride' parameter of AvgPool2D must be an int >= 1"):
        nl.AvgPool2D(2, stride=0)
