"""Meta-tests of what verdicts say: every wrong answer is located (output, index, size of
the error), tuple results name the wrong element, a broken helper the learner wrote is
blamed, int/bool gradients and dtype changes are rejected, the in-place hint names the
exercise's own input, and every learner value -- however odd -- gets a verdict, never a
checker traceback."""

import numpy as np
import pytest
from scipy import signal, special
from scipy.spatial.distance import cdist
from test_checks import (
    CASES,
    assert_no_answer_code,
    conv_backward,
    conv_forward,
    cross_entropy,
    im2col,
    numerical_gradient,
    softmax,
)

from nnlib.checks import EXERCISES
from nnlib.checks.core import run_check


def _short(result, lines=12):
    assert result.status == "failed", result.message
    assert result.message.startswith(f"✗ {result.exercise}: ")
    assert len(result.message.splitlines()) <= lines, result.message
    assert "could not judge" not in result.message and "Traceback" not in result.message
    return result.message


# ------------------------------------------------------------------ issue 12's wrong answers

def _im2col_rows_ijn(x, kh, kw, stride):
    n = x.shape[0]
    cols = im2col(x, kh, kw, stride)
    ho, wo = (x.shape[2] - kh) // stride + 1, (x.shape[3] - kw) // stride + 1
    return cols.reshape(n, ho, wo, -1).transpose(1, 2, 0, 3).reshape(cols.shape)


def _im2col_no_stride(x, kh, kw, stride):
    return im2col(x, kh, kw, 1)


def _im2col_stride_in_count_only(x, kh, kw, stride):
    n, c, h, w = x.shape
    ho, wo = (h - kh) // stride + 1, (w - kw) // stride + 1
    full = im2col(x, kh, kw, 1).reshape(n, h - kh + 1, w - kw + 1, -1)
    return full[:, :ho, :wo].reshape(n * ho * wo, -1)


def _conv_forward_no_transpose(x, W, b, stride, pad):
    good = conv_forward(x, W, b, stride, pad)
    return good.transpose(0, 2, 3, 1).reshape(good.shape)


def _conv_backward_assign(dout, x, W, stride, pad):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dW = np.zeros_like(xp), np.zeros_like(W)
    _, _, kh, kw = W.shape
    ho, wo = dout.shape[2:]
    for di in range(kh):
        for dj in range(kw):
            win = (slice(None), slice(None), slice(di, di + stride * ho, stride),
                   slice(dj, dj + stride * wo, stride))
            dW[:, :, di, dj] = np.einsum("nfhw,nchw->fc", dout, xp[win])
            dxp[win] = np.einsum("nfhw,fc->nchw", dout, W[:, :, di, dj])    # = for +=
    return dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]], dW, dout.sum(axis=(0, 2, 3))


def _conv_backward_no_stride(dout, x, W, stride, pad):
    return conv_backward(dout, x, W, 1, pad) if stride == 1 else _shifted(dout, x, W, pad)


def _shifted(dout, x, W, pad):
    """Windows taken at stride 1 although the forward used stride 2."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dW = np.zeros_like(xp), np.zeros_like(W)
    _, _, kh, kw = W.shape
    ho, wo = dout.shape[2:]
    for di in range(kh):
        for dj in range(kw):
            win = (slice(None), slice(None), slice(di, di + ho), slice(dj, dj + wo))
            dW[:, :, di, dj] = np.einsum("nfhw,nchw->fc", dout, xp[win])
            dxp[win] += np.einsum("nfhw,fc->nchw", dout, W[:, :, di, dj])
    return dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]], dW, dout.sum(axis=(0, 2, 3))


def _softmax_whole_sum(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum()


def _cross_entropy_block(logits, labels):
    n = len(logits)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    d = np.exp(log_p)
    d[np.arange(n), labels] -= 1
    return -np.mean(log_p[:, labels]), d / n


# (id, wrong function, fragments the verdict must hold: the output, where, the hint)
ISSUE_12 = {
    "convolve2d flips rows only": (
        "conv.convolve2d", lambda im, k, mode: signal.correlate2d(im, k[::-1, :], mode),
        ["wrong values", "largest error", "at index (", "entries wrong", "expected[",
         "returned[", "flipped only the rows"]),
    "im2col row order": (
        "conv.im2col", _im2col_rows_ijn,
        ["wrong values", "at index (", "expected[", "order the rows (n, i, j)"]),
    "im2col ignores stride": (
        "conv.im2col", _im2col_no_stride,
        ["wrong shape", "expected shape (8, 18), got (32, 18)", "result for stride 1"]),
    "im2col stride only in the count": (
        "conv.im2col", _im2col_stride_in_count_only,
        ["wrong values", "at index (", "step by stride"]),
    "conv2d_forward without the transpose": (
        "conv.conv2d_forward", _conv_forward_no_transpose,
        ["wrong values", "at index (", "entries wrong", "move the filter axis to position 1"]),
    "conv2d_backward = for +=": (
        "conv.conv2d_backward", _conv_backward_assign,
        ["wrong dx", "element 1 of the (dx, dW, db)", "at index (", "accumulate dx with +="]),
    "conv2d_backward ignores stride": (
        "conv.conv2d_backward", _conv_backward_no_stride,
        ["wrong dx", "element 1 of the (dx, dW, db)", "stride=2", "at index (",
         "stepped by stride"]),
    "sigmoid_grad as s (1 - x)": (
        "activations.sigmoid_grad", lambda x: special.expit(x) * (1 - x),
        ["wrong values", "at index (0, ", "1 - x, not 1 - s"]),
    "relu as clip(x, 0, 1)": (
        "activations.relu", lambda x: np.clip(x, 0, 1),
        ["wrong values", "largest error 2 at index (0, 6): expected 3, returned 1",
         "no upper bound"]),
    "softmax e / e.sum()": (
        "softmax.softmax", _softmax_whole_sum,
        ["wrong values", "at index (", "its own sum"]),
    "cross_entropy log_p[:, labels]": (
        "softmax.cross_entropy", _cross_entropy_block,
        ["wrong loss", "element 1 of the (loss, dlogits)", "expected 0.743064, returned",
         "one entry per row"]),
}


@pytest.mark.parametrize("case", ISSUE_12)
def test_issue_12_wrong_answers_get_a_locating_verdict(case):
    exercise_id, wrong, fragments = ISSUE_12[case]
    message = _short(run_check(exercise_id, wrong), lines=14)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from:\n{message}"
    assert_no_answer_code(message)


def test_big_array_verdict_shows_fraction_index_values_and_a_slice():
    def off_by_one_entry(x, W, b, stride, pad):
        out = conv_forward(x, W, b, stride, pad)
        out[1, 2, 1, 2] += 0.5
        return out

    message = _short(run_check("conv.conv2d_forward", off_by_one_entry))
    assert "1 of 96 entries wrong (1%)" in message
    assert "largest error 0.5 at index (1, 2, 1, 2)" in message
    assert "expected[1, 2, 0:3, 0:3]:" in message and "returned[1, 2, 0:3, 0:3]:" in message


def test_tuple_results_name_the_wrong_element():
    def wrong_db(dout, x, W):
        return dout @ W.T, x.T @ dout, dout.sum(0) * 2

    message = _short(run_check("backprop.dense_backward", wrong_db))
    assert "wrong db (element 3 of the (dx, dW, db) you returned)" in message


# ------------------------------------------------------------------ a broken helper is blamed

NOTEBOOK = '''
import numpy as np

def im2col(x, kh, kw, stride):
    n, c, h, w = x.shape
    ho, wo = (h - kh) // stride + 1, (w - kw) // stride + 1
    cols = np.empty((n, ho, wo, c, kh, kw))
    for di in range(kh):
        for dj in range(kw):
            cols[..., di, dj] = x[:, :, di:di + stride * ho:stride,
                                  dj:dj + stride * wo:stride].transpose(0, 2, 3, 1)
    return cols.reshape(n * ho * wo, c * kh * kw) {bug}

def conv2d_forward(x, W, b, stride, pad):
    f = W.shape[0]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, _, hp, wp = xp.shape
    ho, wo = (hp - W.shape[2]) // stride + 1, (wp - W.shape[3]) // stride + 1
    out = im2col(xp, W.shape[2], W.shape[3], stride) @ W.reshape(f, -1).T + b
    return out.reshape(n, ho, wo, f).transpose(0, 3, 1, 2)
'''


def _notebook(bug=""):
    namespace = {}
    exec(NOTEBOOK.format(bug=bug), namespace)   # functions with a notebook's globals
    return namespace


def test_a_failure_explained_by_a_broken_helper_says_so():
    ns = _notebook("* 1.01")
    message = _short(run_check("conv.conv2d_forward", ns["conv2d_forward"]), lines=14)
    assert "note: your conv2d_forward calls your im2col, which fails its own check" in message
    assert "fix im2col first" in message and "check('conv.im2col', im2col)" in message
    assert run_check("conv.conv2d_forward", _notebook()["conv2d_forward"]).passed


def test_a_helper_that_is_not_written_yet_is_named():
    ns = _notebook()
    exec("def im2col(x, kh, kw, stride):\n    raise NotImplementedError", ns)
    result = run_check("conv.conv2d_forward", ns["conv2d_forward"])
    assert result.status == "not attempted"    # the stub raised inside the call
    ns = _notebook()
    exec("def im2col(x, kh, kw, stride):\n    raise NotImplementedError\n"
         "def conv2d_forward(x, W, b, stride, pad):\n    im2col\n    return 0", ns)
    message = _short(run_check("conv.conv2d_forward", ns["conv2d_forward"]))
    assert "calls your im2col, which is not written yet" in message


# ------------------------------------------------------------------ dtypes of gradients

def _cast(value, fn):
    if isinstance(value, np.ndarray):
        return fn(value)
    if isinstance(value, tuple):
        return tuple(_cast(v, fn) for v in value)
    if isinstance(value, list):
        return [_cast(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: _cast(v, fn) for k, v in value.items()}
    return value


#: gradient exercise -> which outputs are gradients (None: all of them)
GRADIENTS = {
    "activations.sigmoid_grad": None, "activations.tanh_grad": None,
    "activations.relu_grad": None, "activations.elu_grad": None,
    "losses.mse": 1, "losses.binary_cross_entropy": 1, "softmax.cross_entropy": 1,
    "softmax.softmax_jacobian": None, "backprop.dense_backward": None,
    "backprop.two_layer_net": 1, "conv.conv2d_backward": None,
    "pool.maxpool_backward": None, "pool.avgpool_backward": None,
    "rnn.rnn_step_backward": None, "regularization.dropout_backward": None,
    "regularization.l2_penalty": 1,
}


def _gradients_as(exercise_id, convert):
    reference, which = CASES[exercise_id][0], GRADIENTS[exercise_id]

    def wrong(*args):
        out = reference(*args)
        if which is None:
            return _cast(out, convert)
        out = list(out)
        out[which] = _cast(out[which], convert)
        return tuple(out)

    return wrong


@pytest.mark.parametrize("exercise_id", GRADIENTS)
@pytest.mark.parametrize("kind", ["int", "bool"])
def test_int_or_bool_gradients_are_rejected(exercise_id, kind):
    convert = (lambda a: np.round(a).astype(np.int64)) if kind == "int" else (lambda a: a > 0)
    message = _short(run_check(exercise_id, _gradients_as(exercise_id, convert)))
    assert "dtype" in message, message


def test_relu_grad_as_a_bool_mask_is_rejected_with_the_dtype_hint():
    message = _short(run_check("activations.relu_grad", lambda x: x > 0))
    assert "returned a bool array (bool); expected floats of the input's dtype" in message
    assert ".astype(x.dtype)" in message


@pytest.mark.parametrize("exercise_id", GRADIENTS)
def test_gradients_keep_the_input_dtype(exercise_id):
    message = _short(run_check(exercise_id,
                               _gradients_as(exercise_id, lambda a: a.astype(np.float64))))
    assert "dtype changed" in message and "float32" in message, message


# ------------------------------------------------------------------ the in-place hint

def _inplace(reference, position, change):
    def wrong(*args):
        out = reference(*args)
        change(args[position])
        return out
    return wrong


def _zero(a):
    a[...] = 0


INPLACE = {
    "activations.relu": ("x", 0), "softmax.softmax": ("z", 0),
    "softmax.cross_entropy": ("logits", 0), "backprop.dense_backward": ("x", 1),
    "conv.conv2d_backward": ("dout", 0), "regularization.dropout_backward": ("mask", 1),
    "optim.adam": ("m", 2), "pool.maxpool_forward": ("x", 0),
}


@pytest.mark.parametrize("exercise_id", INPLACE)
def test_the_in_place_hint_names_the_exercises_own_input(exercise_id):
    name, position = INPLACE[exercise_id]
    wrong = _inplace(CASES[exercise_id][0], position, _zero)
    message = _short(run_check(exercise_id, wrong))
    assert f"changed its input {name} in place" in message
    assert f"`{name}` (argument {position + 1} of {EXERCISES[exercise_id].signature})" in message
    assert f"{name}.copy()" in message
    if exercise_id != "activations.relu":
        assert "ReLU" not in message and "x[x < 0]" not in message


# ------------------------------------------------------------------ any value: a verdict

class Hostile:
    """Every dunder a checker might call raises."""

    def __eq__(self, other):
        raise RuntimeError("eq")

    __hash__ = object.__hash__

    def __array__(self, *args, **kwargs):
        raise RuntimeError("array")

    def __len__(self):
        raise RuntimeError("len")

    def __repr__(self):
        raise RuntimeError("repr")

    def __float__(self):
        raise RuntimeError("float")


def _generator(*args):
    yield 1


def _recursive(*args):
    return _recursive(*args)


_CYCLE = []
_CYCLE.append(_CYCLE)

VALUES = {
    "None": lambda *a: None,
    "a string": lambda *a: "hello",
    "an object array": lambda *a: np.array([1.0, "a", None], dtype=object),
    "a bool array": lambda *a: np.ones((2, 3), dtype=bool),
    "a complex array": lambda *a: np.ones(3) + 1j,
    "a generator": _generator,
    "a hostile object": lambda *a: Hostile(),
    "a list holding itself": lambda *a: _CYCLE,
    "a tuple of None": lambda *a: (None,) * 5,
    "hostile pairs": lambda *a: (Hostile(), Hostile(), Hostile()),
    "wrong argument count": lambda: 1,
    "infinite recursion": _recursive,
    "sys.exit(0)": lambda *a: exit(0),
}


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_every_learner_value_gets_a_verdict(exercise_id, monkeypatch):
    # The verdict code is the same whichever way the function runs (its values are
    # decoded to plain data either way); threads keep this sweep fast, and the sweep below
    # runs a sample in child processes.
    monkeypatch.setenv("NNLIB_CHECK_ISOLATION", "thread")
    for what, fn in VALUES.items():
        result = run_check(exercise_id, fn)
        assert result.status == "failed", (what, result.message)
        _short(result)


@pytest.mark.parametrize("exercise_id", ["activations.relu", "softmax.cross_entropy",
                                         "conv.output_size", "training.minibatch_indices",
                                         "regularization.early_stopping", "init.he_normal",
                                         "backprop.two_layer_net", "rnn.lstm_step_forward"])
def test_every_learner_value_gets_a_verdict_in_a_child_process(exercise_id):
    for what, fn in VALUES.items():
        result = run_check(exercise_id, fn)
        assert result.status == "failed", (what, result.message)
        _short(result)


def test_odd_values_are_described_in_words():
    cases = {
        lambda x: None: "got None",
        _generator: "got a generator",
        lambda x: Hostile(): "got a Hostile",
        lambda x: np.array([1.0, "a"], dtype=object): "got object",
        lambda x: np.zeros((3000, 3000)): "an array of shape (3000, 3000), dtype float64 "
                                          "(too large to compare)",
        lambda x: [0.0] * 7: "got a list of length 7",
        lambda x: x.tolist(): "return a NumPy array",
    }
    for fn, fragment in cases.items():
        assert fragment in _short(run_check("activations.relu", fn))


def test_bool_and_object_dropout_masks_get_verdicts():
    def bool_mask(x, p, rng):
        keep = rng.random(x.shape) >= p
        return x * keep / (1 - p), keep

    message = _short(run_check("regularization.dropout_forward", bool_mask))
    assert "wrong mask dtype (element 2 of the (out, mask) you returned)" in message
    assert "returned a bool mask" in message

    def object_mask(x, p, rng):
        out, mask = CASES["regularization.dropout_forward"][0](x, p, rng)
        return out, mask.astype(object)

    message = _short(run_check("regularization.dropout_forward", object_mask))
    assert "wrong mask" in message and "dtype object" in message


def test_huge_printed_output_is_cut_and_the_verdict_still_comes():
    def chatty(x):
        print("x" * 5_000_000)
        return np.maximum(x, 0)

    result = run_check("activations.relu", chatty)
    assert result.passed
    assert len(result.printed) < 2200
    assert "more characters printed by your function cut" in result.printed


def test_cross_entropy_reference_still_passes_after_hints():
    # guards the hint list of softmax.cross_entropy (a hint must never reject a right answer)
    assert run_check("softmax.cross_entropy", cross_entropy).passed
    assert run_check("softmax.softmax", softmax).passed


def test_the_readme_shows_a_real_verdict():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    shown = readme.split("```\n✗ activations.relu", 1)[1].split("```", 1)[0]
    assert run_check("activations.relu", np.abs).message == "✗ activations.relu" + shown.rstrip()


# ------------------------------------------------------------------ chapter authors' round 2

def _ng_restore_by_adding(fn, x, eps=1e-6):
    """Probes x[i] + eps and x[i] - eps and undoes them with += / -=: x comes back
    changed by rounding only, which EXERCISES.md accepts."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += eps
        plus = fn(x)
        x[i] -= 2 * eps
        minus = fn(x)
        x[i] += eps
        g[i] = (plus - minus) / (2 * eps)
    return g


def _ng_no_restore(fn, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += eps
        plus = fn(x)
        x[i] -= 2 * eps
        g[i] = (plus - fn(x)) / (2 * eps)
    return g


def _bce(p, y, clip=1e-12, logit_grad=False):
    pc = np.clip(p, clip, 1 - clip)
    loss = float(-np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc)))
    return loss, (p - y) / p.size if logit_grad else (pc - y) / (pc * (1 - pc)) / p.size


def _standardize_std_test(X):
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1)


def _float32(reference):
    return lambda *a: _cast(reference(*a), lambda v: v.astype(np.float32))


def _sq_dists_rows(A, B):
    return np.array([((a - B) ** 2).sum(axis=1) for a in A])


def _sq_dists_for(A, B):
    out = np.empty((len(A), len(B)), dtype=A.dtype)
    for i in range(len(A)):
        out[i] = ((A[i] - B) ** 2).sum(axis=1)
    return out


def _sq_dists_columns(A, B):
    return np.stack([((A - b) ** 2).sum(axis=1) for b in B], axis=1)


def _sq_dists_apply(A, B):
    return np.apply_along_axis(lambda a: ((a - B) ** 2).sum(axis=1), 1, A)


def _sq_dists_expanded(A, B):
    return (A ** 2).sum(1)[:, None] - 2 * A @ B.T + (B ** 2).sum(1)[None, :]


# (id, wrong answer, fragments the verdict must hold)
ROUND_2 = {
    "numerical_gradient ignores eps": (
        "backprop.numerical_gradient", lambda fn, x, eps=1e-6: numerical_gradient(fn, x),
        ["wrong eps argument", "eps=0.1", "use the eps argument"]),
    "numerical_gradient never restores x": (
        "backprop.numerical_gradient", _ng_no_restore,
        ["changed its input x in place", "put the saved value back after each probe"]),
    "BCE returns the logit gradient": (
        "losses.binary_cross_entropy", lambda p, y: _bce(p, y, logit_grad=True),
        ["wrong gradient", "gradient with respect to the LOGIT",
         "with respect to p itself"]),
    "BCE clipped at 1e-7": (
        "losses.binary_cross_entropy", lambda p, y: _bce(p, y, clip=1e-7),
        ["wrong loss at p in {0, 1}", "expected 13.8155, returned 8.05905",
         "clipping p to [1e-7, 1 - 1e-7]", "the exercise clips to [1e-12, 1 - 1e-12]"]),
    "BCE clipped at 1e-15": (
        "losses.binary_cross_entropy", lambda p, y: _bce(p, y, clip=1e-15),
        ["clipping p to [1e-15, 1 - 1e-15]"]),
    "glorot_uniform draws a normal": (
        "init.glorot_uniform", lambda fi, fo, rng: rng.normal(0, np.sqrt(2 / (fi + fo)), (fi, fo)),
        ["not uniform", "8.3% of your values lie beyond sqrt(3) standard deviations",
         "normal (bell-shaped) draw"]),
    "glorot_uniform on [0, a]": (
        "init.glorot_uniform",
        lambda fi, fo, rng: rng.uniform(0, np.sqrt(6 / (fi + fo)), (fi, fo)),
        ["not centred on 0", "all your values are >= 0"]),
    "glorot_uniform with the std as its bound": (
        "init.glorot_uniform",
        lambda fi, fo, rng: rng.uniform(-np.sqrt(2 / (fi + fo)), np.sqrt(2 / (fi + fo)), (fi, fo)),
        ["wrong bound", "your values reach +-0.05", "STANDARD DEVIATION used as the bound"]),
    "he_normal draws a uniform": (
        "init.he_normal", lambda fi, fo, rng: rng.uniform(-np.sqrt(6 / fi), np.sqrt(6 / fi),
                                                          (fi, fo)),
        ["not normally distributed", "0.0% of your values lie beyond 2 standard deviations",
         "looks like a uniform draw"]),
    "he_normal with loc and scale swapped": (
        "init.he_normal", lambda fi, fo, rng: rng.normal(np.sqrt(2 / fi), size=(fi, fo)),
        ["not centred on 0", "takes the mean (loc) first and the std (scale) second"]),
    "he_normal from a standard normal": (
        "init.he_normal", lambda fi, fo, rng: rng.standard_normal((fi, fo)),
        ["wrong spread", "a standard normal"]),
    "standardize tests std > 0": (
        "numpy.standardize", _standardize_std_test,
        ["wrong values", "largest error 1 at index (0, 3): expected 0, returned 1",
         "its std is 1.4e-17, not 0", "max equals its min"]),
    "standardize divides by a zero std": (
        "numpy.standardize", lambda X: (X - X.mean(0)) / X.std(0),
        ["NaN in your values", "0 / 0: a constant column has std 0"]),
    "pairwise_sq_dists without the factor 2": (
        "numpy.pairwise_sq_dists",
        lambda A, B: (A ** 2).sum(1)[:, None] - A @ B.T + (B ** 2).sum(1)[None, :],
        ["wrong values", "the factor 2 is missing"]),
    "mse gradient without 2 and 1/n": (
        "losses.mse", lambda p, y: (float(np.mean((p - y) ** 2)), p - y),
        ["wrong gradient", "two factors are missing"]),
    "mse gradient without 2, over the rows": (
        "losses.mse", lambda p, y: (float(np.mean((p - y) ** 2)), (p - y) / len(p)),
        ["wrong gradient", "the factor 2 is missing", "not the 4 rows"]),
    "dense forward subtracts the bias": (
        "dense.forward", lambda x, W, b: x @ W - b,
        ["wrong values", "the bias is added, not subtracted"]),
    "dense forward with columns as samples": (
        "dense.forward", lambda x, W, b: W.T @ x.T + b[:, None],
        ["wrong shape", "expected shape (4, 5), got (5, 4)", "that is (H, N) = (5, 4)"]),
    "dense_backward returns (dW, dx, db)": (
        "backprop.dense_backward", lambda d, x, W: (x.T @ d, d @ W.T, d.sum(0)),
        ["elements in the wrong order", "element 1 of the (dx, dW, db) you returned should be "
         "dx (4, 3), got something shaped like dW (3, 5)", "return dx, dW, db, in that order"]),
    "sigmoid as e^x / (1 + e^x)": (
        "activations.sigmoid", lambda x: np.exp(x) / (1 + np.exp(x)),
        ["NaN in your values at +-1000", "inf / inf = NaN at x = 1000", "form with e^-x"]),
    "float32 pairwise distances": (
        "numpy.pairwise_sq_dists", _float32(CASES["numpy.pairwise_sq_dists"][0]),
        ["wrong dtype", "returned float32 from float64 inputs", "(float64 in, float64 out)"]),
    "float32 standardize": (
        "numpy.standardize", _float32(CASES["numpy.standardize"][0]),
        ["wrong dtype", "returned float32 from float64 inputs"]),
    "float32 dense forward": (
        "dense.forward", _float32(CASES["dense.forward"][0]),
        ["wrong dtype", "returned float32 from float64 inputs"]),
    "float32 he_normal": (
        "init.he_normal", _float32(CASES["init.he_normal"][0]),
        ["wrong dtype", "returned float32; the rng draws float64"]),
    "float32 glorot_uniform": (
        "init.glorot_uniform", _float32(CASES["init.glorot_uniform"][0]),
        ["wrong dtype", "returned float32; the rng draws float64"]),
    "pairwise distances in float64 from float32": (
        "numpy.pairwise_sq_dists",
        lambda A, B: CASES["numpy.pairwise_sq_dists"][0](A.astype(float), B.astype(float)),
        ["dtype changed", "float32 in, float32 out"]),
    "standardize in float64 from float32": (
        "numpy.standardize", lambda X: CASES["numpy.standardize"][0](X.astype(float)),
        ["dtype changed"]),
    "dense forward in float64 from float32": (
        "dense.forward", lambda x, W, b: x.astype(float) @ W + b, ["dtype changed"]),
    "pairwise distances loop over the rows of A": (
        "numpy.pairwise_sq_dists", _sq_dists_rows,
        ["a Python loop over the rows of A", "200 more rows of A made your function run",
         "broadcasting"]),
    "pairwise distances: a for loop": (
        "numpy.pairwise_sq_dists", _sq_dists_for, ["a Python loop over the rows of A"]),
    "pairwise distances loop over the rows of B": (
        "numpy.pairwise_sq_dists", _sq_dists_columns, ["a Python loop over the rows of B"]),
    "pairwise distances through np.apply_along_axis": (
        "numpy.pairwise_sq_dists", _sq_dists_apply, ["a Python loop over the rows of A"]),
}


@pytest.mark.parametrize("case", ROUND_2)
def test_round_2_wrong_answers_get_their_verdict(case):
    exercise_id, wrong, fragments = ROUND_2[case]
    message = _short(run_check(exercise_id, wrong))
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from:\n{message}"
    assert_no_answer_code(message)


def test_glorot_given_normal_samples_is_not_sent_to_he():
    message = _short(run_check("init.glorot_uniform", ROUND_2["glorot_uniform draws a normal"][1]))
    assert "He" not in message


def test_restoring_x_with_plus_equals_is_accepted():
    # the fixture really is changed by the += / -= restore (rounding next to eps), and the
    # checker accepts it: "x unchanged afterwards (up to rounding)"
    x = np.array([[0.3, -0.7, 1.1], [0.0, 2.0, 3e-12]])
    probed = x.copy()
    _ng_restore_by_adding(lambda v: float(np.sum(v ** 3)), probed)
    assert not np.array_equal(probed, x)
    result = run_check("backprop.numerical_gradient", _ng_restore_by_adding)
    assert result.passed, result.message


@pytest.mark.parametrize("fn", [CASES["numpy.pairwise_sq_dists"][0], _sq_dists_expanded,
                                lambda A, B: cdist(A, B, "sqeuclidean").astype(A.dtype)],
                         ids=["broadcast", "expanded", "cdist"])
def test_vectorised_distances_are_not_taken_for_loops(fn):
    result = run_check("numpy.pairwise_sq_dists", fn)
    assert result.passed and "no Python loop over rows" in result.message, result.message


def test_the_loop_count_works_in_threads_too(monkeypatch):
    monkeypatch.setenv("NNLIB_CHECK_ISOLATION", "thread")
    message = _short(run_check("numpy.pairwise_sq_dists", _sq_dists_rows))
    assert "a Python loop over the rows of A" in message
    assert run_check("numpy.pairwise_sq_dists", _sq_dists_expanded).passed


#: every exercise that returns a tuple (EXERCISES.md), given back reversed
TUPLES = ["losses.mse", "losses.binary_cross_entropy", "softmax.cross_entropy",
          "backprop.dense_backward", "backprop.two_layer_net", "optim.sgd_momentum",
          "optim.rmsprop", "optim.adam", "regularization.l2_penalty",
          "regularization.dropout_forward", "regularization.early_stopping",
          "conv.conv2d_backward", "rnn.rnn_step_backward", "rnn.lstm_step_forward"]


@pytest.mark.parametrize("exercise_id", TUPLES)
def test_a_tuple_in_the_wrong_order_names_the_elements(exercise_id):
    reference = CASES[exercise_id][0]
    message = _short(run_check(exercise_id, lambda *a: tuple(reversed(reference(*a)))))
    assert "elements in the wrong order" in message
    assert "element 1 of the (" in message and "you returned should be" in message
    assert ("got something shaped like" in message or "'s value" in message
            or "looks like the mask" in message), message
    assert "in that order" in message
