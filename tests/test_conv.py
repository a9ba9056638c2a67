"""Convolution: SciPy equality in every mode, fast == naive, float64 gradient checks over
strides, paddings, odd and even kernels and non-square inputs; errors for bad input."""

import numpy as np
import pytest
from helpers import away_from_zero
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

import nnlib as nl
from nnlib.functional import conv as C
from nnlib.functional import conv_fast as CF
from nnlib.gradcheck import numerical_gradient, rel_error

KERNELS = [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (2, 3), (3, 2), (1, 4)]


@pytest.mark.parametrize("mode", C.MODES)
@pytest.mark.parametrize("kernel_shape", KERNELS)
def test_single_image_correlate_and_convolve_equal_scipy(mode, kernel_shape, rng):
    image = rng.standard_normal((7, 9))
    kernel = rng.standard_normal(kernel_shape)
    np.testing.assert_allclose(C.correlate2d(image, kernel, mode),
                               signal.correlate2d(image, kernel, mode), atol=1e-12)
    np.testing.assert_allclose(C.convolve2d(image, kernel, mode),
                               signal.convolve2d(image, kernel, mode), atol=1e-12)


def test_convolution_is_correlation_with_a_flipped_kernel(rng):
    image, kernel = rng.standard_normal((6, 6)), rng.standard_normal((3, 3))
    np.testing.assert_allclose(C.convolve2d(image, kernel, "valid"),
                               C.correlate2d(image, kernel[::-1, ::-1], "valid"))


@pytest.mark.parametrize("padding", ["valid", "same", "full"])
@pytest.mark.parametrize("kernel_shape", [(3, 3), (2, 2), (2, 3)])
def test_batched_stride_one_equals_scipy_per_channel(padding, kernel_shape, rng):
    x = rng.standard_normal((2, 3, 6, 7))
    W = rng.standard_normal((4, 3, *kernel_shape))
    b = rng.standard_normal(4)
    out, _ = CF.conv2d_forward(x, W, b, 1, padding)
    for n in range(2):
        for f in range(4):
            expected = sum(signal.correlate2d(x[n, c], W[f, c], padding) for c in range(3)) + b[f]
            np.testing.assert_allclose(out[n, f], expected, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 3), f=st.integers(1, 3), h=st.integers(3, 9),
       w=st.integers(3, 9), kh=st.integers(1, 3), kw=st.integers(1, 3), stride=st.integers(1, 3),
       padding=st.sampled_from(["valid", "same", "full", 0, 1, 2]), seed=st.integers(0, 2**16))
def test_fast_equals_naive_on_random_shapes(n, c, f, h, w, kh, kw, stride, padding, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    W = rng.standard_normal((f, c, kh, kw))
    b = rng.standard_normal(f)
    fast, _ = CF.conv2d_forward(x, W, b, stride, padding)
    np.testing.assert_allclose(fast, C.conv2d_naive(x, W, b, stride, padding), atol=1e-10)


CONV_CASES = [
    dict(args=(2, 3, 3), x=(2, 2, 5, 6)),
    dict(args=(2, 3, 3), kw=dict(padding="same"), x=(2, 2, 5, 4)),
    dict(args=(1, 2, 2), kw=dict(padding="same"), x=(2, 1, 5, 5)),      # even kernel, same
    dict(args=(3, 2, (2, 3)), kw=dict(padding="full"), x=(1, 3, 4, 5)),
    dict(args=(2, 2, 3), kw=dict(stride=2), x=(2, 2, 7, 6)),
    dict(args=(2, 2, 3), kw=dict(stride=2, padding=1), x=(2, 2, 6, 7)),
    dict(args=(1, 3, 4), kw=dict(stride=3, padding="same"), x=(2, 1, 8, 5)),
    dict(args=(2, 1, 1), x=(3, 2, 3, 4)),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{c['args']}-{c.get('kw', {})}")
def test_conv2d_gradient_check(case, rng):
    layer = nl.Conv2D(*case["args"], **case.get("kw", {}), rng=0)
    report = nl.check_layer(layer, rng.standard_normal(case["x"]))
    assert report.passed, str(report)


def test_conv2d_layer_matches_naive_and_keeps_float32(rng):
    layer = nl.Conv2D(3, 4, 3, stride=2, padding="same", rng=0)
    x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    before = x.copy()
    y = layer.forward(x)
    assert y.dtype == np.float32 and y.shape == (2, 4, 5, 4)
    np.testing.assert_allclose(y, C.conv2d_naive(x, layer.W.data, layer.b.data, 2, "same"),
                               rtol=1e-5, atol=1e-5)
    dx = layer.backward(np.ones_like(y))
    assert dx.dtype == np.float32 and dx.shape == x.shape
    np.testing.assert_array_equal(x, before)
    assert layer.output_shape((3, 9, 8)) == (4, 5, 4)


def test_conv2d_outputs_do_not_alias_the_workspace(rng):
    layer = nl.Conv2D(1, 2, 3, rng=0)
    x1, x2 = rng.standard_normal((2, 2, 1, 6, 6)).astype(np.float32)
    y1 = layer.forward(x1)
    dx1 = layer.backward(np.ones_like(y1))
    y1_copy, dx1_copy = y1.copy(), dx1.copy()
    y2 = layer.forward(x2)
    layer.backward(2 * np.ones_like(y2))
    np.testing.assert_array_equal(y1, y1_copy)
    np.testing.assert_array_equal(dx1, dx1_copy)


@pytest.mark.parametrize("stride, padding", [(1, "same"), (1, "valid"), (2, 1), (3, "full")])
def test_backward_reusing_the_columns_buffer_gives_the_same_gradients(stride, padding, rng):
    x = rng.standard_normal((3, 2, 7, 6))
    W, b = rng.standard_normal((4, 2, 3, 3)), rng.standard_normal(4)
    out, cols = CF.conv2d_forward(x, W, b, stride, padding, workspace={})
    dout = rng.standard_normal(out.shape)
    expected = CF.conv2d_backward(dout, x.shape, cols.copy(), W, stride, padding)
    got = CF.conv2d_backward(dout, x.shape, cols, W, stride, padding, workspace={},
                            reuse_cols=True)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, e, atol=1e-12)
    np.testing.assert_array_equal(CF.columns(x, 3, 3, stride, padding, {}),
                                  CF.conv2d_forward(x, W, b, stride, padding, {})[1])


@pytest.mark.parametrize("n", [1, 15, 16, 17, 255, 256, 1000, 14336, 53760])
@pytest.mark.parametrize("itemsize", [4, 8])
def test_row_length_pads_to_cache_lines_and_avoids_1k_multiples(n, itemsize):
    ld = CF.row_length(n, itemsize)
    assert n <= ld <= n + 2 * 64 // itemsize
    assert (ld * itemsize) % 64 == 0
    assert (ld * itemsize) % 1024 != 0


def test_columns_rows_are_never_a_multiple_of_4k_apart(rng):
    # conv 8->16 on a batch of 64 14x14 images: N Ho Wp = 14,336 floats = 14 x 4 KiB a row
    x = rng.standard_normal((64, 8, 14, 14)).astype(np.float32)
    cols = CF.columns(x, 3, 3, 1, "same", workspace={})
    matrix = CF.as_matrix(cols)
    assert matrix.shape == (72, 14336)
    assert np.shares_memory(matrix, cols)                # the GEMM operand is not a copy
    assert matrix.strides[1] == 4 and matrix.strides[0] % 4096 != 0


def test_conv2d_backward_twice_after_one_forward_rebuilds_the_columns(rng):
    # the first backward writes dx's columns over the input's; the second must not see them
    layer = nl.Conv2D(2, 3, 3, padding="same", dtype=np.float64, rng=0)
    x = rng.standard_normal((2, 2, 5, 6))
    dout = rng.standard_normal(layer.forward(x).shape)
    dx1 = layer.backward(dout)
    dW1 = layer.W.grad.copy()
    dx2 = layer.backward(dout)
    np.testing.assert_allclose(dx2, dx1, atol=1e-12)
    np.testing.assert_allclose(layer.W.grad, 2 * dW1, atol=1e-12)   # gradients accumulate
    layer.zero_grad()
    layer.backward_params(dout)
    np.testing.assert_allclose(layer.W.grad, dW1, atol=1e-12)


def test_backward_of_conv_is_full_convolution_with_the_kernel(rng):
    # dL/dx of a valid correlation is the full convolution of dout with the kernel
    x = rng.standard_normal((1, 1, 6, 5))
    layer = nl.Conv2D(1, 1, 3, dtype=np.float64, rng=0)
    dout = rng.standard_normal(layer.forward(x).shape)
    dx = layer.backward(dout)
    np.testing.assert_allclose(dx[0, 0], signal.convolve2d(dout[0, 0], layer.W.data[0, 0],
                                                           "full"), atol=1e-12)


def test_output_size_formula():
    assert C.output_size(28, 3, 1, 1) == 28
    assert C.output_size(7, 3, 2, 0) == 3
    assert C.output_size(5, 2, 2, 1) == 3
    for h in range(4, 11):
        for k in (1, 2, 3, 4):
            for s in (1, 2, 3):
                top, bottom = C.pad_amounts(h, k, s, "same")
                assert (h + top + bottom - k) // s + 1 == -(-h // s)  # ceil(h / s)
                if s == 1:
                    assert (top, bottom) == ((k - 1) // 2, k // 2)  # extra at the bottom


def test_channels_last_images_get_the_transpose_hint():
    with pytest.raises(ValueError, match=r"Conv2D expected input \(N, 3, H, W\), got "
                                         r"\(32, 32, 32, 3\)\. Channels-last data\? Try "
                                         r"x\.transpose\(0, 3, 1, 2\)\."):
        nl.Conv2D(3, 8, 3).forward(np.zeros((32, 32, 32, 3), np.float32))


def test_grayscale_without_channel_axis():
    with pytest.raises(ValueError, match=r"got \(4, 28, 28\)\. Add the channel axis: x\[:, None\]"):
        nl.Conv2D(1, 8, 3).forward(np.zeros((4, 28, 28), np.float32))


def test_kernel_larger_than_valid_input():
    with pytest.raises(ValueError, match=r"kernel 5x5 is larger than its input 3x3 with padding "
                                         r"'valid'.*padding='same'"):
        nl.Conv2D(1, 1, 5).forward(np.zeros((1, 1, 3, 3), np.float32))
    nl.Conv2D(1, 1, 5, padding="same").forward(np.zeros((1, 1, 3, 3), np.float32))


@pytest.mark.parametrize("kwargs, message", [
    (dict(stride=0), r"'stride' parameter of Conv2D must be an int >= 1\. Got 0"),
    (dict(padding="half"), r"'padding' parameter of Conv2D must be one of 'valid', 'same', "
                           r"'full'\. Got 'half'"),
    (dict(padding=-1), r"'padding' parameter of Conv2D must be an int >= 0"),
])
def test_invalid_conv_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nl.Conv2D(1, 1, 3, **kwargs)


def test_conv_in_a_sequential_saves_and_loads(tmp_path, rng):
    model = nl.Sequential(nl.Conv2D(1, 4, 3, padding="same", rng=0), nl.ReLU(), nl.MaxPool2D(2),
                          nl.Conv2D(4, 4, (2, 3), stride=2, padding=1, rng=1), nl.AvgPool2D(2, 1),
                          nl.Flatten(), nl.Dense(4 * 2 * 2, 3, rng=2))
    x = away_from_zero(rng, (2, 1, 10, 10)).astype(np.float32)
    model.save(tmp_path / "cnn.npz")
    loaded = nl.Sequential.load(tmp_path / "cnn.npz")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert "(N, 4, 10, 10)" in model.summary(input_shape=(1, 10, 10))


# --- im2col with the chapter's contract: fast == simple == naive ---------------------------

def fast_columns_as_contract(x, kh, kw, stride, padding):
    """conv_fast's channel-first columns (C, kh, kw, N, H_out, width) as the chapter's
    (N H_out W_out, C kh kw) matrix: crop the stride-1 layout's extra width, transpose."""
    cols = CF.columns(x, kh, kw, stride, padding, workspace={})
    c, _, _, n, h_out, _ = cols.shape
    w_out = C.output_size(x.shape[3], kw, stride, C.pad_amounts(x.shape[3], kw, stride, padding))
    return cols[..., :w_out].reshape(c * kh * kw, n * h_out * w_out).T


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(3, 8), w=st.integers(3, 8),
       kh=st.integers(1, 3), kw=st.integers(1, 3), stride=st.integers(1, 3),
       padding=st.sampled_from(["valid", "same", "full", 0, 1, 2]), seed=st.integers(0, 2**16))
def test_im2col_fast_equals_simple_equals_naive(n, c, h, w, kh, kw, stride, padding, seed):
    x = np.random.default_rng(seed).standard_normal((n, c, h, w))
    xp = C.pad_images(x, kh, kw, stride, padding)
    simple = C.im2col(xp, kh, kw, stride)
    h_out = C.output_size(xp.shape[2], kh, stride)
    w_out = C.output_size(xp.shape[3], kw, stride)
    assert simple.shape == (n * h_out * w_out, c * kh * kw)
    np.testing.assert_array_equal(simple, C.im2col_naive(xp, kh, kw, stride))
    np.testing.assert_array_equal(fast_columns_as_contract(x, kh, kw, stride, padding), simple)


def test_im2col_rows_are_n_i_j_and_columns_c_di_dj(rng):
    x = rng.standard_normal((2, 3, 7, 6))
    kh, kw, stride = 3, 2, 2
    cols = nl.functional.im2col(x, kh, kw, stride)
    h_out, w_out = C.output_size(7, kh, stride), C.output_size(6, kw, stride)
    for s, i, j, ch, di, dj in [(0, 0, 0, 0, 0, 0), (1, 2, 1, 2, 2, 1), (1, 1, 2, 1, 0, 1)]:
        row = (s * h_out + i) * w_out + j
        col = (ch * kh + di) * kw + dj
        assert cols[row, col] == x[s, ch, i * stride + di, j * stride + dj]


@pytest.mark.parametrize("kh, kw, stride", [(3, 3, 1), (2, 3, 2), (3, 2, 3), (1, 1, 1)])
def test_col2im_is_the_adjoint_of_im2col(kh, kw, stride, rng):
    # <im2col(x), c> == <x, col2im(c)> for every x and c: col2im is im2col transposed
    x = rng.standard_normal((2, 3, 7, 8))
    cols = rng.standard_normal(C.im2col(x, kh, kw, stride).shape)
    lhs = np.sum(C.im2col(x, kh, kw, stride) * cols)
    rhs = np.sum(x * C.col2im(cols, x.shape, kh, kw, stride))
    assert lhs == pytest.approx(rhs, rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 3), f=st.integers(1, 3), h=st.integers(3, 7),
       w=st.integers(3, 7), kh=st.integers(1, 3), kw=st.integers(1, 3), stride=st.integers(1, 3),
       padding=st.sampled_from(["valid", "same", "full", 1]), seed=st.integers(0, 2**16))
def test_conv2d_forward_and_backward_fast_equal_simple_equal_naive(n, c, f, h, w, kh, kw, stride,
                                                                    padding, seed):
    rng = np.random.default_rng(seed)
    x, W, b = rng.standard_normal((n, c, h, w)), rng.standard_normal((f, c, kh, kw)), \
        rng.standard_normal(f)
    simple = C.conv2d(x, W, b, stride, padding)
    np.testing.assert_allclose(simple, C.conv2d_naive(x, W, b, stride, padding), atol=1e-10)
    fast, cols = CF.conv2d_forward(x, W, b, stride, padding)
    np.testing.assert_allclose(fast, simple, atol=1e-10)
    dout = rng.standard_normal(simple.shape)
    grads_simple = C.conv2d_backward(dout, x, W, stride, padding)
    grads_naive = C.conv2d_backward_naive(dout, x, W, stride, padding)
    grads_fast = CF.conv2d_backward(dout, x.shape, cols, W, stride, padding)
    for g_simple, g_naive, g_fast in zip(grads_simple, grads_naive, grads_fast, strict=True):
        np.testing.assert_allclose(g_simple, g_naive, atol=1e-10)
        np.testing.assert_allclose(g_fast, g_simple, atol=1e-10)


def test_simple_conv2d_backward_matches_central_differences(rng):
    x, W, b = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2, 2, 3)), \
        rng.standard_normal(3)
    dout = rng.standard_normal(C.conv2d(x, W, b, 2, "same").shape)
    dx, dW, db = C.conv2d_backward(dout, x, W, 2, "same")
    assert rel_error(dx, numerical_gradient(lambda v: C.conv2d(v, W, b, 2, "same"), x, dout)) \
        < 1e-7
    assert rel_error(dW, numerical_gradient(lambda v: C.conv2d(x, v, b, 2, "same"), W, dout)) \
        < 1e-7
    assert rel_error(db, numerical_gradient(lambda v: C.conv2d(x, W, v, 2, "same"), b, dout)) \
        < 1e-7


@pytest.mark.parametrize("n, per_image, rows, itemsize, expected", [
    (64, 224, 88, 4, 32),     # conv 8->16 "same", 14x14: two images (157 KiB) per block
    (64, 168, 88, 4, 16),     # conv 8->16 "valid": four images per block
    (64, 840, 17, 4, 16),     # conv 1->8 "same", 28x28: four images per block
    (37, 224, 88, 4, 37),     # a prime batch: one image per block
    (5, 10, 2, 8, 1),         # everything fits: one block
    (3, 10**6, 88, 4, 3),     # one image is over the budget: still whole images
])
def test_block_count_cuts_whole_images_into_the_fewest_blocks_that_fit(n, per_image, rows,
                                                                        itemsize, expected):
    count = CF.block_count(n, per_image, rows, itemsize)
    assert count == expected and n % count == 0
    images = n // count
    assert images == 1 or images * per_image * rows * itemsize <= CF.BLOCK_BYTES
    fewer = [d for d in range(1, count) if n % d == 0]      # any fewer blocks are too big
    assert all((n // d) * per_image * rows * itemsize > CF.BLOCK_BYTES for d in fewer)


def test_an_empty_batch_still_runs_forward_and_backward():
    layer = nl.Conv2D(2, 3, 3, rng=0)
    assert CF.block_count(0, 9, 5, 4) == 1
    y = layer.forward(np.zeros((0, 2, 5, 5), np.float32))
    assert y.shape == (0, 3, 3, 3)
    assert layer.backward(np.zeros(y.shape, np.float32)).shape == (0, 2, 5, 5)
    assert not layer.W.grad.any()


def test_blocks_are_views_of_whole_column_runs(rng):
    a = rng.standard_normal((3, 12 + 4))[:, :12]             # padded rows, as the workspaces
    view = CF.blocks(a, 4)
    assert view.shape == (4, 3, 3) and np.shares_memory(view, a)
    np.testing.assert_array_equal(view[2], a[:, 6:9])


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 6), c=st.integers(1, 3), f=st.integers(1, 3), h=st.integers(3, 7),
       w=st.integers(3, 7), kh=st.integers(1, 3), stride=st.integers(1, 2),
       padding=st.sampled_from(["valid", "same", 1]), seed=st.integers(0, 2**16))
def test_blocked_gemms_give_the_unblocked_results(n, c, f, h, w, kh, stride, padding, seed):
    """With a budget so small that every image is its own block, forward, dx and dW
    still equal the readable kernels (the random shapes above fit in one block)."""
    rng = np.random.default_rng(seed)
    x, W, b = rng.standard_normal((n, c, h, w)), rng.standard_normal((f, c, kh, kh)), \
        rng.standard_normal(f)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(CF, "BLOCK_BYTES", 1)
        assert CF.block_count(n, 1, 1, 8) == n
        fast, cols = CF.conv2d_forward(x, W, b, stride, padding, {})
        dout = rng.standard_normal(fast.shape)
        grads_fast = CF.conv2d_backward(dout, x.shape, cols, W, stride, padding, {},
                                        reuse_cols=True)
    np.testing.assert_allclose(fast, C.conv2d(x, W, b, stride, padding), atol=1e-10)
    for g_fast, g_simple in zip(grads_fast, C.conv2d_backward(dout, x, W, stride, padding),
                                strict=True):
        np.testing.assert_allclose(g_fast, g_simple, atol=1e-10)
