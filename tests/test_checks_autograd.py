"""Meta-tests of the chapter 14 oracles (nnlib/checks/ex_autograd.py): a reference
solution passes, a stub reads "not attempted", and realistic buggy versions fail with the
hint that names their mistake."""

import numpy as np
import pytest

import nnlib.checks.core as core
from nnlib.checks import EXERCISES
from nnlib.checks.core import run_check

# ------------------------------------------------------------------ reference solutions


def unbroadcast(grad, shape, reduce=np.sum, keepdims=True, stretched=True):
    extra = grad.ndim - len(shape)
    g = reduce(grad, axis=tuple(range(extra))) if extra else grad
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes and stretched:
        g = reduce(g, axis=axes, keepdims=keepdims)
    return g


def matmul_vjp(dout, a, b, reduce=np.sum, unbroadcast_stacks=True, reshape_back=True):
    A = a[None, :] if a.ndim == 1 else a
    B = b[:, None] if b.ndim == 1 else b
    G = dout[..., None] if b.ndim == 1 else dout
    G = G[..., None, :] if a.ndim == 1 else G
    dA = G @ np.swapaxes(B, -1, -2)
    dB = np.swapaxes(A, -1, -2) @ G
    if unbroadcast_stacks:
        dA = unbroadcast(dA, A.shape, reduce)
        dB = unbroadcast(dB, B.shape, reduce)
    if reshape_back:   # 1-D operands: drop the axis added above
        dA = dA.reshape(a.shape) if a.ndim == 1 else dA
        dB = dB.reshape(b.shape) if b.ndim == 1 else dB
    return dA, dB


def index_vjp(dout, shape, index, mode="add.at", dtype=None):
    dx = np.zeros(shape, dtype=dout.dtype if dtype is None else dtype)
    if mode == "add.at":
        np.add.at(dx, index, dout)
    elif mode == "assign":
        dx[index] = dout
    else:
        dx[index] += dout
    return dx


def index_by_loop(dout, shape, index):
    """Correct for a 1-D integer index, broken for tuples and slices (it raises)."""
    dx = np.zeros(shape, dtype=dout.dtype)
    for k, i in enumerate(index):
        dx[i] += dout[k]
    return dx


def zeros_like_dout(dout, shape, index):
    dx = np.zeros_like(dout)
    np.add.at(dx, index, dout)
    return dx


def topological_order(graph, root):
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in graph[node] if p not in visited)
    return order


def recursive_order(graph, root):
    order, visited = [], set()

    def visit(node):
        visited.add(node)
        for p in graph[node]:
            if p not in visited:
                visit(p)
        order.append(node)

    visit(root)
    return order


def marked_at_push(graph, root):
    order, seen, stack = [], {root}, [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        stack.append((node, True))
        for p in graph[node]:
            if p not in seen:
                seen.add(p)
                stack.append((p, False))
    return order


def reversed_bfs(graph, root):
    order, seen = [root], {root}
    for node in order:
        for p in graph[node]:
            if p not in seen:
                seen.add(p)
                order.append(p)
    return order[::-1]


def no_visited_set(graph, root):
    order, stack = [], [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        else:
            stack.append((node, True))
            stack.extend((p, False) for p in graph[node])
    return order


def deduplicated_at_the_end(graph, root):
    return list(dict.fromkeys(no_visited_set(graph, root)))


def pre_order(graph, root):
    order, visited, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if node not in visited:
            visited.add(node)
            order.append(node)
            stack.extend(graph[node])
    return order


def dictionary_order(graph, root):
    """The graph's own key order, unreached nodes dropped: right only when the dictionary
    happens to list inputs first."""
    reached, todo = {root}, [root]
    while todo:
        for p in graph[todo.pop()]:
            if p not in reached:
                reached.add(p)
                todo.append(p)
    return [n for n in graph if n in reached]


def every_node(graph, root):
    """Kahn's algorithm over the whole graph: right order, but nodes the root never uses."""
    waiting = {n: len(ps) for n, ps in graph.items()}
    users = {n: [m for m, ps in graph.items() if n in ps] for n in graph}
    ready = [n for n, k in waiting.items() if k == 0]
    order = []
    while ready:
        node = ready.pop()
        order.append(node)
        for m in users[node]:
            waiting[m] -= graph[m].count(node)
            if waiting[m] == 0:
                ready.append(m)
    return order


# id -> (reference, [(buggy version, text its verdict must contain)])
CASES = {
    "autograd.unbroadcast": (unbroadcast, [
        (lambda g, s: unbroadcast(g, s, reduce=np.mean), "sum, not mean"),
        (lambda g, s: unbroadcast(g, s, stretched=False), "now also sum the axes"),
        (lambda g, s: unbroadcast(g, s, keepdims=False), "keepdims=True"),
        (lambda g, s: unbroadcast(g, s).astype(np.float64), "float32"),
        (lambda g, s: g.sum(axis=tuple(range(g.ndim - len(s)))).reshape(s),
         "reshape only rearranges values"),
        (lambda g, s: g.sum(axis=tuple(range(g.ndim - len(s))), keepdims=True),
         "sum them away without keepdims"),
    ]),
    "autograd.matmul_vjp": (matmul_vjp, [
        (lambda d, a, b: (d @ b.T, d.T @ a), "which operand to transpose"),
        (lambda d, a, b: matmul_vjp(d, a, b, reshape_back=False), "a 1-D operand has a 1-D"),
        (lambda d, a, b: matmul_vjp(d, a, b, unbroadcast_stacks=False),
         "sum its gradient over the stack axes"),
        (lambda d, a, b: matmul_vjp(d, a, b, reduce=np.mean), "not the mean"),
        (lambda d, a, b: tuple(-g for g in matmul_vjp(d, a, b)), "sign"),
        (lambda d, a, b: (d @ b.T, a.T @ d), "a 1-D operand has a 1-D gradient"),  # raises
        (lambda d, a, b: tuple(g.astype(float) for g in matmul_vjp(d, a, b)),
         "compute in the inputs' dtype"),
    ]),
    "autograd.index_vjp": (index_vjp, [
        (lambda d, s, i: index_vjp(d, s, i, mode="assign"), "np.add.at"),
        (lambda d, s, i: index_vjp(d, s, i, mode="+="), "keep only one"),
        (lambda d, s, i: index_vjp(d, s, i, dtype=np.float64), "dtype=dout.dtype"),
        (lambda d, s, i: np.zeros(s, dtype=d.dtype), "put dout there"),
        (index_by_loop, "let NumPy interpret it"),
        (zeros_like_dout, "not the shape of dout"),                          # raises
    ]),
    "autograd.topological_order": (topological_order, [
        (recursive_order, "recursion limit"),
        (marked_at_push, "mark a node visited when you expand it"),
        (reversed_bfs, "breadth-first"),
        (no_visited_set, "keep a set of visited nodes"),
        (pre_order, "the root comes first"),
        (every_node, "nodes it never reaches"),
        (dictionary_order, "nothing makes a dictionary list inputs first"),
        (lambda g, r: tuple(topological_order(g, r)), None),        # a tuple is fine too
        (lambda g, r: set(topological_order(g, r)), "expected a list"),
    ]),
}
PASSING_VARIANTS = {("autograd.topological_order", 7)}


def test_every_autograd_exercise_has_meta_tests_and_its_chapter():
    ours = {eid for eid, ex in EXERCISES.items() if ex.chapter == "14_autograd"}
    assert ours == set(CASES)
    assert {EXERCISES[e].signature for e in CASES} == {
        "f(grad, shape)", "f(dout, a, b)", "f(dout, shape, index)", "f(graph, root)"}


# The reference-passes and stub tests of these ids run in tests/test_checks.py, over
# every chapter's cases.

BUGS = [(eid, i) for eid, (_, bugs) in CASES.items() for i in range(len(bugs))]


@pytest.mark.parametrize("exercise_id, index", BUGS, ids=[f"{e}-{i}" for e, i in BUGS])
def test_buggy_versions_are_caught_with_their_hint(exercise_id, index):
    buggy, hint = CASES[exercise_id][1][index]
    result = run_check(exercise_id, buggy)
    if (exercise_id, index) in PASSING_VARIANTS:
        assert result.passed, result.message
        return
    assert result.status == "failed", result.message
    assert result.message.startswith(f"✗ {exercise_id}: ")
    assert hint in result.message, result.message


def test_a_duplicate_free_answer_that_walks_every_path_is_stopped(monkeypatch):
    # the checker's time limit, cut for this test (both ways the checker reads it); the
    # 10,000-node chain before the diamonds must still finish in it on a loaded machine
    # (1 s did not, at a load average of 20 on 2 cores), and the diamonds never finish
    monkeypatch.setattr(core, "TIME_LIMIT", 4.0, raising=False)
    monkeypatch.setenv("NNLIB_CHECK_TIMEOUT", "4")
    result = run_check("autograd.topological_order", deduplicated_at_the_end)
    assert result.status == "failed", result.message
    assert "too slow on stacked diamonds" in result.message
    assert "skip nodes you have already visited" in result.message


def test_a_function_that_raises_is_shown_its_case_not_an_array_dump():
    result = run_check("autograd.matmul_vjp", lambda d, a, b: (d @ b.T, a.T @ d))
    assert "input: a (4,), b (4, 5) (a vector times a matrix), dout (5,)" in result.message
    assert "ValueError: matmul" in result.message and "at line" in result.message


def test_verdicts_show_the_case_and_the_values():
    result = run_check("autograd.index_vjp", CASES["autograd.index_vjp"][1][0][0])
    assert "x[[1, 1, 3, 1]] with x of shape (4, 3) (row 1 picked three times)" in result.message
    assert "expected" in result.message and "returned" in result.message
    result = run_check("autograd.topological_order", marked_at_push)
    assert "'q' (position 0) comes before its input 'p'" in result.message
    result = run_check("autograd.topological_order", reversed_bfs)
    assert "x feeds r directly" in result.message
