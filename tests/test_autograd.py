"""nnlib.autograd against central differences in float64: every operation on its own
(broadcasting, matmul rules, reductions, indexing with duplicates), random expression
graphs with broadcasting, fan-out and indexing, deep graphs, the bookkeeping
(accumulation, no_grad, detach) and the error messages. With PyTorch installed, the same
random graphs are compared with torch.autograd (optional, never a dependency)."""

import doctest
import sys

import numpy as np
import pytest

import nnlib as nl
from nnlib import autograd as ag
from nnlib.autograd import Tensor, concatenate, no_grad, unbroadcast
from nnlib.gradcheck import numerical_gradient, rel_error

# ---------------------------------------------------------------- one operation at a time

# name -> (function of Tensors, its NumPy twin, input shapes, input transform). The
# transform keeps inputs where the operation is smooth (log of positives, no ReLU kink).
OPS = {
    "add broadcast row": (lambda a, b: a + b, lambda a, b: a + b, [(3, 4), (4,)]),
    "add broadcast both": (lambda a, b: a + b, lambda a, b: a + b, [(3, 1), (1, 4)]),
    "sub leading axes": (lambda a, b: a - b, lambda a, b: a - b, [(2, 3, 4), (3, 1)]),
    "mul broadcast": (lambda a, b: a * b, lambda a, b: a * b, [(2, 1, 4), (3, 1)]),
    "div broadcast": (lambda a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1),
                      [(3, 4), (3, 1)]),
    "scalar ops": (lambda a: 2.0 - 3 * a / 4 + 1, lambda a: 2.0 - 3 * a / 4 + 1, [(3, 2)]),
    "rtruediv": (lambda a: 1.0 / (a * a + 1), lambda a: 1.0 / (a * a + 1), [(5,)]),
    "neg": (lambda a: -a, lambda a: -a, [(2, 3)]),
    "pow 3": (lambda a: a ** 3, lambda a: a ** 3, [(2, 3)]),
    "pow -0.5": (lambda a: (a * a + 1) ** -0.5, lambda a: (a * a + 1) ** -0.5, [(4,)]),
    "matmul 2-D": (lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4, 5)]),
    "matmul stacked x matrix": (lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 4), (4, 5)]),
    "matmul broadcast stacks": (lambda a, b: a @ b, lambda a, b: a @ b,
                                [(2, 1, 3, 4), (5, 4, 2)]),
    "matmul vector x matrix": (lambda a, b: a @ b, lambda a, b: a @ b, [(4,), (4, 5)]),
    "matmul matrix x vector": (lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4,)]),
    "matmul vector x vector": (lambda a, b: a @ b, lambda a, b: a @ b, [(4,), (4,)]),
    "rmatmul ndarray": (lambda a: np.arange(6.0).reshape(2, 3) @ a,
                        lambda a: np.arange(6.0).reshape(2, 3) @ a, [(3, 4)]),
    "sum all": (lambda a: a.sum(), lambda a: a.sum(), [(3, 4)]),
    "sum axis": (lambda a: a.sum(axis=1), lambda a: a.sum(axis=1), [(3, 4, 2)]),
    "sum axes keepdims": (lambda a: a.sum(axis=(0, -1), keepdims=True),
                          lambda a: a.sum(axis=(0, -1), keepdims=True), [(3, 4, 2)]),
    "mean": (lambda a: a.mean(axis=0), lambda a: a.mean(axis=0), [(5, 3)]),
    "mean all keepdims": (lambda a: a.mean(keepdims=True), lambda a: a.mean(keepdims=True),
                          [(2, 3)]),
    "max axis": (lambda a: a.max(axis=1), lambda a: a.max(axis=1), [(4, 5)]),
    "max all": (lambda a: a.max(), lambda a: a.max(), [(3, 3)]),
    "max axes keepdims": (lambda a: a.max(axis=(1, 2), keepdims=True),
                          lambda a: a.max(axis=(1, 2), keepdims=True), [(2, 3, 4)]),
    "exp": (lambda a: a.exp(), np.exp, [(3, 2)]),
    "log": (lambda a: (a * a + 0.1).log(), lambda a: np.log(a * a + 0.1), [(3, 2)]),
    "tanh": (lambda a: a.tanh(), np.tanh, [(3, 2)]),
    "sigmoid": (lambda a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), [(3, 2)]),
    "relu": (lambda a: a.relu(), lambda a: np.maximum(a, 0), [(4, 3)]),
    "reshape": (lambda a: a.reshape(3, 4) * np.arange(12.0).reshape(3, 4),
                lambda a: a.reshape(3, 4) * np.arange(12.0).reshape(3, 4), [(2, 6)]),
    "reshape tuple -1": (lambda a: a.reshape((-1,)), lambda a: a.reshape(-1), [(2, 3)]),
    "transpose": (lambda a: a.T, lambda a: a.T, [(2, 5)]),
    "transpose axes": (lambda a: a.transpose(2, 0, 1), lambda a: a.transpose(2, 0, 1),
                       [(2, 3, 4)]),
    "index slice": (lambda a: a[1:, ::2], lambda a: a[1:, ::2], [(4, 5)]),
    "index duplicates": (lambda a: a[np.array([0, 2, 2, 0, 2])],
                         lambda a: a[np.array([0, 2, 2, 0, 2])], [(3, 2)]),
    "index pairs": (lambda a: a[np.array([0, 1, 1]), np.array([2, 0, 0])],
                    lambda a: a[np.array([0, 1, 1]), np.array([2, 0, 0])], [(2, 3)]),
    "index mask": (lambda a: a[a.data > 0], lambda a: a[a > 0], [(3, 4)]),
    "index negative int": (lambda a: a[:, -1], lambda a: a[:, -1], [(3, 4)]),
    "concatenate": (lambda a, b: concatenate([a, b], axis=1),
                    lambda a, b: np.concatenate([a, b], axis=1), [(2, 3), (2, 1)]),
    "concatenate axis -1 three": (lambda a, b: concatenate([b, a, b], axis=-1),
                                  lambda a, b: np.concatenate([b, a, b], axis=-1),
                                  [(2, 2, 3), (2, 2, 1)]),
}


def away_from_kinks(rng, shape):
    x = rng.standard_normal(shape)
    x[np.abs(x) < 1e-3] += 2e-3
    return x


@pytest.mark.parametrize("name", OPS)
def test_each_operation_matches_numpy_and_central_differences(name, rng):
    fn, twin, shapes = OPS[name]
    arrays = [away_from_kinks(rng, s) for s in shapes]
    tensors = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn(*tensors)
    expected = twin(*arrays)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert out.shape == np.shape(expected)
    dout = rng.standard_normal(out.shape)
    out.backward(dout)
    for i, (a, t) in enumerate(zip(arrays, tensors, strict=True)):
        def value(v, i=i):
            args = [v if j == i else arrays[j] for j in range(len(arrays))]
            return twin(*args)

        numeric = numerical_gradient(value, a.copy(), df=dout)
        assert t.grad.shape == a.shape and t.grad.dtype == np.float64
        assert rel_error(t.grad, numeric) < 1e-7, (name, i, t.grad, numeric)


# ------------------------------------------------------------------ random expression graphs

UNARY = ["exp", "log", "tanh", "sigmoid", "relu", "square", "neg", "sum0", "mean1", "max1",
         "transpose", "reshape", "index", "scale"]
BINARY = ["add", "sub", "mul", "div", "matmul"]


def random_program(seed, leaves=3, steps=10):
    """A random expression graph as a list of instructions over values 0 .. leaves-1:
    ("unary", op, i) or ("binary", op, i, j). Values are re-used (fan-out) at random,
    binary operations broadcast a (1, n) or (m, 1) operand against a full one, and
    indexing picks rows with duplicates. Every value has 2 dimensions."""
    rng = np.random.default_rng(seed)
    m, n = rng.integers(2, 5, size=2)
    shapes = [(m, n), (1, n), (m, 1), (n, m), (m, n)][:leaves]
    program, value_shapes = [], list(shapes)
    for _ in range(steps):
        if rng.random() < 0.55:
            i = int(rng.integers(len(value_shapes)))
            op = UNARY[rng.integers(len(UNARY))]
            s = value_shapes[i]
            shape = {"sum0": (1, s[1]), "mean1": (s[0], 1), "max1": (s[0], 1),
                     "transpose": (s[1], s[0]), "reshape": (s[1], s[0]),
                     "index": (4, s[1])}.get(op, s)
            program.append(("unary", op, i))
        else:
            op = BINARY[rng.integers(len(BINARY))]
            if op == "matmul":
                pairs = [(i, j) for i, a in enumerate(value_shapes)
                         for j, b in enumerate(value_shapes) if a[1] == b[0]]
            else:
                pairs = [(i, j) for i, a in enumerate(value_shapes)
                         for j, b in enumerate(value_shapes)
                         if all(p == q or 1 in (p, q) for p, q in zip(a, b, strict=True))]
            i, j = pairs[rng.integers(len(pairs))]
            a, b = value_shapes[i], value_shapes[j]
            shape = (a[0], b[1]) if op == "matmul" else tuple(np.broadcast_shapes(a, b))
            program.append(("binary", op, i, j))
        value_shapes.append(shape)
    return shapes, program


ROWS = np.array([0, 1, 1, 0])  # indexing: rows picked twice, so gradients must accumulate


def run_program(program, values, lib):
    """Evaluate ``program`` on ``values`` with ``lib``'s operations; returns every value.
    The transforms keep each operation smooth where it is evaluated (log of a positive,
    division by something >= 1)."""
    values = list(values)
    for instr in program:
        x = values[instr[2]]
        if instr[0] == "unary":
            values.append(lib[instr[1]](x))
        else:
            values.append(lib[instr[1]](x, values[instr[3]]))
    return values


NUMPY_OPS = {
    "exp": lambda x: np.exp(np.tanh(x)), "log": lambda x: np.log(x * x + 0.5),
    "tanh": np.tanh, "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "relu": lambda x: np.maximum(x, 0), "square": lambda x: x ** 2, "neg": lambda x: -x,
    "sum0": lambda x: x.sum(axis=0, keepdims=True),
    "mean1": lambda x: x.mean(axis=1, keepdims=True),
    "max1": lambda x: x.max(axis=1, keepdims=True), "transpose": lambda x: x.T,
    "reshape": lambda x: x.reshape(x.shape[1], x.shape[0]), "index": lambda x: x[ROWS % x.shape[0]],
    "scale": lambda x: 0.5 * x,
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "div": lambda x, y: x / (y * y + 1), "matmul": lambda x, y: x @ y,
}
TENSOR_OPS = {
    **NUMPY_OPS,
    "exp": lambda x: x.tanh().exp(), "log": lambda x: (x * x + 0.5).log(),
    "tanh": lambda x: x.tanh(), "sigmoid": lambda x: x.sigmoid(), "relu": lambda x: x.relu(),
    "transpose": lambda x: x.T,
}


def loss_of(values, lib_sum, weights):
    """A scalar from every value, so every node of the graph (dead ends too) matters."""
    total = 0
    for v, w in zip(values, weights, strict=True):
        total = total + lib_sum(v * w)
    return total


@pytest.mark.parametrize("seed", range(40))
def test_random_expression_graphs_match_central_differences(seed):
    shapes, program = random_program(seed)
    rng = np.random.default_rng(1000 + seed)
    leaves = [away_from_kinks(rng, s) for s in shapes]
    numpy_values = run_program(program, leaves, NUMPY_OPS)
    weights = [rng.standard_normal(v.shape) for v in numpy_values]
    tensors = [Tensor(a.copy(), requires_grad=True) for a in leaves]
    values = run_program(program, tensors, TENSOR_OPS)
    for got, expected in zip(values, numpy_values, strict=True):
        np.testing.assert_allclose(got.data, expected, rtol=1e-12, atol=1e-12)
    loss = loss_of(values, lambda v: v.sum(), weights)
    loss.backward()
    for i, leaf in enumerate(leaves):
        def f(v, i=i):
            vals = run_program(program, [v if j == i else leaves[j] for j in range(len(leaves))],
                               NUMPY_OPS)
            return float(loss_of(vals, np.sum, weights))

        numeric = numerical_gradient(f, leaf.copy())
        assert rel_error(tensors[i].grad, numeric) < 1e-6, (program, i)


def test_random_programs_cover_broadcasting_fan_out_and_indexing():
    """The generator is not trivial: across the seeds used above, graphs broadcast, re-use
    values and index with duplicates."""
    programs = [random_program(seed) for seed in range(40)]
    ops = {instr[1] for _, p in programs for instr in p}
    assert set(UNARY) | set(BINARY) <= ops
    fan_out = broadcast = 0
    for shapes, program in programs:
        uses = [i for instr in program for i in instr[2:]]
        fan_out += any(uses.count(i) > 1 for i in set(uses))
        values = run_program(program, [np.ones(s) for s in shapes], NUMPY_OPS)
        broadcast += any(instr[0] == "binary" and instr[1] != "matmul"
                         and values[instr[2]].shape != values[instr[3]].shape
                         for instr in program)
    assert fan_out >= 30 and broadcast >= 30


# ------------------------------------------------------------------------ the bookkeeping

def test_fan_out_sums_every_use():
    x = Tensor(np.array([2.0, -1.0]), requires_grad=True)
    y = x * x + x * 3 + x          # d/dx = 2x + 3 + 1
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data + 4)


def test_indexing_with_duplicates_accumulates_like_np_add_at():
    x = Tensor(np.arange(5.0), requires_grad=True)
    idx = np.array([0, 0, 1, 4, 4, 4])
    x[idx].backward(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 3.0, 0.0, 0.0, 15.0])


def test_max_splits_the_gradient_among_tied_maxima():
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, 5.0, 1.0]]),
               requires_grad=True)
    x.max(axis=1).backward(np.array([1.0, 3.0, 2.0]))
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [1, 1, 1], [0, 2, 0]])


def test_relu_gradient_at_zero_is_zero():
    x = Tensor(np.array([-1.0, 0.0, 1.0]), requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])


def test_unbroadcast_sums_added_and_stretched_axes():
    g = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(unbroadcast(g, (4,)), g.sum(axis=(0, 1)))
    np.testing.assert_array_equal(unbroadcast(g, (3, 1)), g.sum(axis=(0, 2))[:, None])
    np.testing.assert_array_equal(unbroadcast(g, (1, 1, 4)), g.sum(axis=(0, 1))[None, None])
    assert unbroadcast(g, ()) == g.sum() and unbroadcast(g, g.shape) is g


def test_gradients_accumulate_until_zero_grad():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (w * w).sum().backward()
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, 4 * w.data)
    w.zero_grad()
    np.testing.assert_array_equal(w.grad, [0.0, 0.0])
    (3 * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [3.0, 3.0])


def test_grad_is_a_fresh_writable_array_never_a_view_of_dout():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    dout = np.full((2, 3), 5.0)
    (x + 0).backward(dout)
    assert x.grad is not dout and not np.shares_memory(x.grad, dout)
    b = Tensor(np.ones(3), requires_grad=True)
    (b + np.zeros((4, 3))).sum().backward()   # the sum's VJP broadcasts: a read-only view
    b.grad *= 2
    np.testing.assert_array_equal(b.grad, [8.0, 8.0, 8.0])


def test_intermediate_results_keep_their_gradient_too():
    x = Tensor(np.array(3.0), requires_grad=True)
    h = x * x
    y = h * 2
    y.backward()
    assert h.grad == 2.0 and x.grad == 12.0 and y.grad == 1.0
    assert h.inputs == [x, x] and y.op == "*" and x.op == ""


def test_constants_get_no_gradient_and_results_of_constants_no_graph():
    c = Tensor(np.array([1.0, 2.0]))
    x = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    (c * x).sum().backward()
    assert c.grad is None and not c.requires_grad
    assert not (c * 2).requires_grad and (c * 2).inputs == []


def test_no_grad_records_nothing_nests_and_restores_after_an_error():
    w = Tensor(np.ones(3), requires_grad=True)
    with no_grad():
        y = w * 2
        with no_grad():
            pass
        assert not ag.is_grad_enabled()
        assert not y.requires_grad and y.inputs == []
    assert ag.is_grad_enabled()
    with pytest.raises(KeyError), no_grad():
        raise KeyError("an error inside the block")
    assert ag.is_grad_enabled() and (w * 2).requires_grad


def test_detach_shares_the_data_and_stops_the_gradient():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    d = w.detach()
    assert d.data is w.data and not d.requires_grad
    (w * d).sum().backward()   # d is a constant: dw = d, not 2w
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])


def test_float32_stays_float32_and_python_numbers_do_not_upcast():
    x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    b = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = ((x * 2.5 + b) ** 2 / 3).tanh().sum()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32 and b.grad.dtype == np.float32


def test_every_vjp_of_a_float32_graph_stays_float32():
    """A float64 gradient anywhere inside would upcast every GEMM after it (2x slower)."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    z = (x @ w).relu() + 1
    z = concatenate([z.sigmoid(), z.tanh().exp()], axis=1) / 3
    z = (z.max(axis=1, keepdims=True) - z.mean(axis=0)) ** 2
    loss = -(z[np.array([0, 0, 2])].sum(axis=1) * 0.5).log().T.reshape(3, 1).sum()
    for node in loss.topological_order():
        for parent, vjp in node._edges:
            if parent.requires_grad:
                g = vjp(np.ones_like(node.data))
                assert g.dtype == np.float32, (node.op, parent.op or "leaf", g.dtype)
    loss.backward()
    assert all(t.grad.dtype == np.float32 for t in loss.topological_order())


def test_an_ndarray_on_the_left_gives_a_tensor():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    for y in (np.array([3.0, 4.0]) * x, np.ones(2) + x, np.ones(2) - x, np.ones(2) / x):
        assert isinstance(y, Tensor) and y.requires_grad
    (np.array([3.0, 4.0]) * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_a_graph_deeper_than_the_recursion_limit():
    depth = 10 * sys.getrecursionlimit()
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(depth):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001 ** depth, rel=1e-9)
    del y  # freeing a deep graph must not recurse either


def test_topological_order_puts_every_input_first_even_when_a_path_is_long():
    # x feeds both y directly and z through y: z must come after y, and y after x
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x.exp()
    z = x + y
    order = z.topological_order()
    assert [t is s for t, s in zip(order, [x, y, z], strict=True)] == [True] * 3


def test_module_docstring_example_runs():
    result = doctest.testmod(ag)
    assert result.attempted >= 4 and result.failed == 0


# --------------------------------------------------------------------------- clear errors

def test_backward_on_a_non_scalar_without_grad_says_what_to_do():
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"needs a single number.*shape \(2, 3\).*\.sum\(\)"):
        y.backward()


def test_backward_with_a_gradient_of_the_wrong_shape():
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(nl.ShapeError, match=r"grad has shape \(3, 2\) but the tensor has "
                                            r"shape \(2, 3\)"):
        y.backward(np.ones((3, 2)))


def test_backward_on_a_tensor_that_needs_no_gradient():
    with pytest.raises(RuntimeError, match="requires_grad=True"):
        Tensor(np.array(1.0)).backward()


def test_shapes_that_do_not_broadcast_name_both_shapes_and_the_fix():
    a = Tensor(np.ones((3, 4)), requires_grad=True)
    with pytest.raises(nl.ShapeError, match=r"Tensor \+: shapes \(3, 4\) and \(3,\) do not "
                                            r"broadcast.*reshape\(-1, 1\)"):
        a + np.ones(3)
    with pytest.raises(ValueError, match=r"Tensor \*"):   # a ShapeError is a ValueError
        a * Tensor(np.ones((2, 4)))


def test_matmul_with_mismatched_inner_axes():
    a = Tensor(np.ones((3, 4)), requires_grad=True)
    with pytest.raises(nl.ShapeError, match=r"cannot multiply \(3, 4\) by \(3, 5\).*\.T"):
        a @ Tensor(np.ones((3, 5)))
    with pytest.raises(nl.ShapeError, match="first axis"):
        a @ np.ones(3)


def test_integer_tensors_cannot_require_gradients():
    with pytest.raises(TypeError, match=r"got dtype int64.*astype\(np.float64\)"):
        Tensor(np.arange(3), requires_grad=True)
    assert Tensor(np.arange(3)).dtype == np.int64   # as data (labels, indices) they are fine


def test_power_takes_a_number():
    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match="Python number as the exponent"):
        x ** x


# ------------------------------------------------------------- optional: PyTorch reference

@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.mark.torch
@pytest.mark.parametrize("seed", range(0, 40, 4))
def test_random_graphs_match_torch_autograd(seed, torch):
    shapes, program = random_program(seed)
    rng = np.random.default_rng(1000 + seed)
    leaves = [away_from_kinks(rng, s) for s in shapes]
    weights = [rng.standard_normal(v.shape) for v in run_program(program, leaves, NUMPY_OPS)]
    torch_ops = {
        **NUMPY_OPS,
        "exp": lambda x: torch.exp(torch.tanh(x)), "log": lambda x: torch.log(x * x + 0.5),
        "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
        "sum0": lambda x: x.sum(dim=0, keepdim=True),
        "mean1": lambda x: x.mean(dim=1, keepdim=True),
        "max1": lambda x: x.amax(dim=1, keepdim=True),
        "index": lambda x: x[torch.as_tensor(ROWS % x.shape[0])],
    }
    ours = [Tensor(a.copy(), requires_grad=True) for a in leaves]
    theirs = [torch.tensor(a, requires_grad=True) for a in leaves]
    loss = loss_of(run_program(program, ours, TENSOR_OPS), lambda v: v.sum(), weights)
    tloss = loss_of(run_program(program, theirs, torch_ops), lambda v: v.sum(),
                    [torch.tensor(w) for w in weights])
    loss.backward()
    tloss.backward()
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    for t, tt in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.torch
def test_matmul_broadcasting_and_ties_match_torch(torch):
    rng = np.random.default_rng(3)
    for sa, sb in [((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,))]:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
        pa, pb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        dout = rng.standard_normal(np.matmul(a, b).shape)
        (ta @ tb).backward(dout)
        (pa @ pb).backward(torch.tensor(dout))
        np.testing.assert_allclose(ta.grad, pa.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(tb.grad, pb.grad.numpy(), rtol=1e-12)
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])   # ties: split equally, as torch.amax
    t, p = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    t.max(axis=1).sum().backward()
    p.amax(dim=1).sum().backward()
    np.testing.assert_allclose(t.grad, p.grad.numpy())
