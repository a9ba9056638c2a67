"""Oracles for chapter 14 (autograd): the vector-Jacobian products of broadcasting, of
``@`` and of indexing, and the topological order of a graph.

Every expected gradient is the central-difference derivative of the *forward* operation
(broadcasting, ``a @ b``, ``x[index]``), never a formula of the backward pass; the
topological order is judged by its definition (every node after its inputs, each once,
only what the root depends on). Inputs and answers are plain arrays, lists and strings.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..gradcheck import numerical_gradient
from .core import exercise

CHAPTER = "14_autograd"


def _rng():
    return np.random.default_rng(14)


def _vjp(forward, x, dout):
    """dL/dx for L = sum(dout * forward(x)), by central differences in float64."""
    return numerical_gradient(forward, np.array(x, dtype=np.float64), df=dout)


def _failed_because(failure, words):
    """Whether a failed call's verdict (the exception ``t.call`` raised) names ``words``."""
    return words in str(failure)


def _call(t, inputs, hint, *args):
    """``t.call(*args)``; when the learner's function raises, the verdict describes the
    case as ``inputs`` (not as a dump of the arrays) and adds ``hint``."""
    try:
        return t.call(*args)
    except Exception as failure:
        lines = getattr(failure, "lines", None)
        if not _failed_because(failure, "raised") or not isinstance(lines, list):
            raise
        error = [ln for ln in lines if not ln.startswith("input:")]
        if not any(ln.startswith("hint:") for ln in error):
            error.append(f"hint: {hint(error) if callable(hint) else hint}")
        t.fail(str(failure), f"input: {inputs}", *error)


# ------------------------------------------------------------------ un-broadcasting

# (grad shape, operand shape, what the case shows)
_UNBROADCAST_CASES = [
    ((4, 3), (3,), "a leading axis added"),
    ((4, 3), (4, 1), "an axis of size 1 stretched"),
    ((2, 3, 4), (3, 1), "both at once"),
    ((2, 3, 4), (1, 1, 4), "two stretched axes, none added"),
    ((3, 4), (), "a number broadcast to every element"),
    ((3, 4), (3, 4), "no broadcasting"),
]


def _check_shape(t, got, shape, inputs, what, hint):
    """Fail with ``hint`` when ``got`` is an array of another shape than ``shape``."""
    if isinstance(got, np.ndarray) and got.shape != tuple(shape):
        t.fail(f"wrong shape: {what}", f"input: {inputs}",
               f"expected shape {tuple(shape)}, got {got.shape}", f"hint: {hint}")


@exercise("autograd.unbroadcast", chapter=CHAPTER, signature="f(grad, shape)")
def _unbroadcast(t):
    rng = _rng()
    for grad_shape, shape, what in _UNBROADCAST_CASES:
        grad = rng.standard_normal(grad_shape)
        expected = _vjp(lambda v, s=grad_shape: np.broadcast_to(v, s), np.zeros(shape), grad)
        inputs = f"grad of shape {grad_shape}, shape={shape} ({what})"
        got = _call(t, inputs, "reshape only rearranges values; the copies broadcasting made "
                    "must be summed (.sum over the right axes).", grad, shape)
        if expected.ndim == 0:
            t.expect(got, expected, inputs=inputs, what="gradient", rtol=1e-6, atol=1e-8)
            continue
        leading = grad.ndim - len(shape)
        if isinstance(got, np.ndarray) and got.shape == grad.sum(
                axis=tuple(range(leading))).shape and got.shape != shape:
            hint = (f"the leading axes are summed; now also sum the axes where the operand "
                    f"had size 1 (shape {shape}), keeping them with keepdims=True.")
        elif isinstance(got, np.ndarray) and got.size == expected.size and \
                got.ndim > len(shape):
            hint = (f"the axes broadcasting added in front ({leading} here) are not the "
                    f"operand's: sum them away without keepdims, so that the result has the "
                    f"operand's shape {shape}.")
        elif isinstance(got, np.ndarray) and got.size == expected.size:
            hint = ("keep the axes of size 1 (sum with keepdims=True): the result must have "
                    "exactly the operand's shape.")
        else:
            hint = ("sum over the axes broadcasting added in front, then over the axes "
                    "where the operand had size 1 (keepdims=True).")
        _check_shape(t, got, shape, inputs, what, hint)
        copies = grad.size // expected.size
        t.expect(got, expected, inputs=inputs, what="gradient", rtol=1e-6,
                 atol=1e-8, hints=[(expected / copies, "every copy that broadcasting made "
                                    "received a gradient, and they add up: sum, not mean.")]
                 if copies > 1 else [])
    grad32 = rng.standard_normal((5, 2, 3)).astype(np.float32)
    got = t.call(grad32, (2, 1))
    t.expect(got, grad32.astype(np.float64).sum(axis=(0, 2)).reshape(2, 1),
             inputs="float32 grad of shape (5, 2, 3), shape=(2, 1)", what="float32 kept",
             rtol=1e-5, atol=1e-6, dtype=np.float32)
    t.ok("leading axes, size-1 axes, a number, no broadcasting")


# ------------------------------------------------------------------------- matmul

# (shape of a, shape of b, what the case shows)
_MATMUL_CASES = [
    ((3, 4), (4, 5), "matrices"),
    ((4,), (4, 5), "a vector times a matrix"),
    ((3, 4), (4,), "a matrix times a vector"),
    ((2, 3, 4), (4, 5), "a stack of matrices times one matrix"),
    ((2, 1, 3, 4), (5, 4, 2), "stacks that broadcast"),
]


def _copies(operand, out):
    """How many matrices of the product's stack used each matrix of ``operand``."""
    stack = int(np.prod(out.shape[:-2])) if out.ndim > 2 else 1
    return stack // (int(np.prod(operand.shape[:-2])) if operand.ndim > 2 else 1)


@exercise("autograd.matmul_vjp", chapter=CHAPTER, signature="f(dout, a, b)")
def _matmul_vjp(t):
    rng = _rng()
    for a_shape, b_shape, what in _MATMUL_CASES:
        a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
        out = np.matmul(a, b)
        dout = rng.standard_normal(out.shape)
        inputs = f"a {a_shape}, b {b_shape} ({what}), dout {dout.shape}"
        expected = {"da": _vjp(lambda v, b=b: v @ b, a, dout),
                    "db": _vjp(lambda v, a=a: a @ v, b, dout)}
        if a.ndim > 2 or b.ndim > 2:
            hint = ("each gradient has its operand's shape: where an operand was used by "
                    "every matrix of a stack, sum its gradient over the stack axes "
                    "(un-broadcast it).")
        elif 1 in (a.ndim, b.ndim):
            hint = ("a 1-D operand has a 1-D gradient: treat a vector a as a row (1, k) "
                    "and a vector b as a column (k, 1), multiply, then reshape to the "
                    "operand's shape.")
        else:
            hint = ("dL/da has a's shape and dL/db has b's: the shapes tell you which "
                    "operand to transpose and on which side dout goes.")
        got = dict(zip(("da", "db"), t.unpack(_call(t, inputs, hint, dout, a, b), 2,
                                              ("da", "db")), strict=True))
        for name, operand in (("da", a), ("db", b)):
            _check_shape(t, got[name], operand.shape, inputs, f"{name} ({what})", hint)
            hints = [(-expected[name], "the sign is flipped.")]
            copies = _copies(operand, out)
            if copies > 1:
                hints.append((expected[name] / copies, f"{name} is the SUM over the "
                              f"{copies} products that used the operand, not the mean."))
            t.expect(got[name], expected[name], inputs=inputs, what=name,
                     rtol=1e-6, atol=1e-8, hints=hints)
    t.ok("matrices, vectors, stacks, broadcast stacks")
    a, b = (rng.standard_normal(s).astype(np.float32) for s in ((3, 4), (4, 5)))
    dout = rng.standard_normal((3, 5)).astype(np.float32)
    inputs = "float32 a (3, 4), b (4, 5), dout (3, 5)"
    hint = "compute in the inputs' dtype: np.zeros(shape) and .astype(float) make float64."
    got = t.unpack(_call(t, inputs, hint, dout, a, b), 2, ("da", "db"))
    for name, value in (("da", got[0]), ("db", got[1])):
        if isinstance(value, np.ndarray) and value.dtype != np.float32:
            t.fail("wrong dtype", f"input: {inputs}",
                   f"{name} is {value.dtype}, expected float32 (the inputs' dtype)",
                   f"hint: {hint}")
        t.expect(value, dout @ b.T if name == "da" else a.T @ dout, inputs=inputs,
                 what=f"{name} (float32)", rtol=1e-4, atol=1e-5, dtype=np.float32)


# ------------------------------------------------------------------------- indexing

def _assigned(shape, index, dout):
    """The gradient of ``x[index]`` as ``g[index] = dout`` computes it (duplicates lost)."""
    g = np.zeros(shape)
    g[index] = dout
    return g


# (shape of x, index, the index as written, what the case shows)
_INDEX_CASES = [
    ((4, 3), np.array([2, 0]), "x[[2, 0]]", "rows"),
    ((4, 3), np.array([1, 1, 3, 1]), "x[[1, 1, 3, 1]]", "row 1 picked three times"),
    ((3, 4), (np.array([0, 2, 0]), np.array([1, 3, 1])), "x[[0, 2, 0], [1, 3, 1]]",
     "element (0, 1) picked twice"),
    ((2, 5, 3), (slice(None), np.array([4, 0, 4, 4])), "x[:, [4, 0, 4, 4]]",
     "repeated columns of a 3-D array"),
    ((4, 6), (slice(1, None), slice(None, None, 2)), "x[1:, ::2]", "slices"),
]


@exercise("autograd.index_vjp", chapter=CHAPTER, signature="f(dout, shape, index)")
def _index_vjp(t):
    rng = _rng()
    for shape, index, written, what in _INDEX_CASES:
        dout = rng.standard_normal(np.zeros(shape)[index].shape)
        expected = _vjp(lambda v, index=index: v[index], np.zeros(shape), dout)
        inputs = f"y = {written} with x of shape {shape} ({what}), dout {dout.shape}"
        def hint(error, shape=shape, dout=dout):
            apart = ("index can be a tuple of arrays or hold slices: let NumPy interpret it "
                     "(dx[index] selects exactly what x[index] picked) instead of taking it "
                     "apart yourself.")
            if any("out of bounds" in line for line in error):   # two mistakes end here
                return (f"two things to check. dx has the shape of x, {shape}, not the "
                        f"shape of dout, {dout.shape}: start from zeros of the given shape. "
                        f"And {apart}")
            return apart

        got = _call(t, inputs, hint, dout, shape, index)
        t.expect(got, expected, inputs=inputs, rtol=1e-6, atol=1e-8, what="dx", hints=[
                     (_assigned(shape, index, dout),
                      "an element that x[index] picks k times gets k gradients, and they "
                      "add up. dx[index] = dout and dx[index] += dout both keep only one "
                      "of them (NumPy writes each repeated index once); np.add.at adds "
                      "every one."),
                     (np.zeros(shape), "dx is zero except where x[index] took its values "
                      "from: put dout there.")])
    dout32 = rng.standard_normal((3, 2)).astype(np.float32)
    got = t.call(dout32, (4, 2), np.array([3, 3, 0]))
    if isinstance(got, np.ndarray) and got.dtype != np.float32:
        t.fail("wrong dtype", "input: float32 dout (3, 2), shape (4, 2), index [3, 3, 0]",
               f"returned {got.dtype}, expected float32 (dout's dtype)",
               "hint: np.zeros(shape) is float64: use np.zeros(shape, dtype=dout.dtype).")
    t.expect(got, _vjp(lambda v: v[np.array([3, 3, 0])], np.zeros((4, 2)), dout32),
             inputs="float32 dout (3, 2), shape (4, 2), index [3, 3, 0]",
             what="float32 kept", rtol=1e-5, atol=1e-6, dtype=np.float32)
    t.ok("repeated indices add up, slices and index pairs")


# ----------------------------------------------------------------- topological order

def _reachable(graph, root):
    seen, todo = {root}, [root]
    while todo:
        for parent in graph[todo.pop()]:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def _reversed_bfs(graph, root):
    order, seen = [root], {root}
    for node in order:
        for parent in graph[node]:
            if parent not in seen:
                seen.add(parent)
                order.append(parent)
    return order[::-1]


def _marked_when_pushed(graph, root):
    """The order of a depth-first search that marks nodes visited when it pushes them:
    a known wrong answer."""
    order, seen, stack = [], {root}, [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        stack.append((node, True))
        for parent in graph[node]:
            if parent not in seen:
                seen.add(parent)
                stack.append((parent, False))
    return order


def _describe(graph):
    if len(graph) > 12:
        return f"a graph of {len(graph):,} nodes"
    return "{" + ", ".join(f"{k}: {v}" for k, v in graph.items()) + "}"


def _judge(t, graph, root, got, what):
    """Fail unless ``got`` lists every node ``root`` depends on once, inputs first."""
    inputs = f"graph = {_describe(graph)}, root = {root!r}"
    if not isinstance(got, (list, tuple)):
        if got is None:
            kind, hint = "None", "your function returned None: did you forget `return`?"
        else:
            describe = getattr(got, "describe", None)     # what the checker could not load
            kind = describe() if callable(describe) else f"a {type(got).__name__}"
            hint = "collect the names in a list and return it."
        t.fail("wrong type", f"input: {inputs}", f"expected a list of node names, got {kind}",
               f"hint: {hint}")
    if not all(isinstance(n, str) for n in got):
        t.fail("wrong type", f"input: {inputs}", "expected a list of node names (strings), "
               f"got items of type {sorted({type(n).__name__ for n in got})}")
    wanted = _reachable(graph, root)
    counts = Counter(got)
    repeated = sorted(n for n, c in counts.items() if c > 1)
    if repeated:
        t.fail(f"node listed twice ({what})", f"input: {inputs}", f"{repeated[0]!r} appears "
               f"{counts[repeated[0]]} times",
               "hint: a node reached by two paths (a fan-out) is still one node: keep a set "
               "of visited nodes and expand each node only once.")
    missing, extra = sorted(wanted - set(got)), sorted(set(got) - wanted)
    if missing:
        t.fail(f"nodes missing ({what})", f"input: {inputs}", f"missing: {missing[:5]}",
               "hint: list every node the root depends on, directly or through other "
               "nodes, the root and the leaves included.")
    if extra:
        t.fail(f"nodes the root does not depend on ({what})", f"input: {inputs}",
               f"returned {extra[:5]} too",
               "hint: start from the root and follow inputs only; nodes it never reaches "
               "play no part in its backward pass.")
    position = {n: i for i, n in enumerate(got)}
    for node in got:
        early = [p for p in graph[node] if position[p] > position[node]]
        if early:
            if list(got) == [n for n in graph if n in wanted]:
                hint = ("that is the order in which the dictionary lists the nodes, and "
                        "nothing makes a dictionary list inputs first: find the order from "
                        "the edges, with a depth-first search from the root that appends a "
                        "node after all of its inputs (post-order).")
            elif got[0] == root:
                hint = ("the root comes first: append a node AFTER all of its inputs "
                        "(post-order), or reverse your list.")
            elif list(got) == _marked_when_pushed(graph, root):
                hint = ("a node was appended while one of its inputs was still waiting on "
                        "the stack: mark a node visited when you expand it (pop it), not "
                        "when you push it, and append it only once all its inputs are in "
                        "the list.")
            elif list(got) == _reversed_bfs(graph, root):
                hint = ("that is breadth-first order (by distance from the root) reversed; "
                        "it fails when a node is reached by a short and a long path: use a "
                        "depth-first post-order.")
            else:
                hint = ("append a node only once all of its inputs are in the list: a "
                        "depth-first search that appends each node after visiting its "
                        "inputs (post-order) does it.")
            t.fail(f"wrong order ({what})", f"input: {inputs}",
                   f"returned {list(got) if len(got) <= 12 else '[...]'}",
                   f"{node!r} (position {position[node]}) comes before its input "
                   f"{early[0]!r} (position {position[early[0]]})", f"hint: {hint}")


def _chain(n):
    """n nodes in a row, listed root first (the dictionary's order is no answer)."""
    graph = {f"n{i}": [f"n{i - 1}"] for i in range(n - 1, 0, -1)}
    graph["n0"] = []
    return graph, f"n{n - 1}"


def _ladder(n):
    """n diamonds on top of each other: 2^n paths from the top to the bottom."""
    graph = {}
    for i in range(n, 0, -1):                             # listed top first
        graph[f"d{i}"] = [f"l{i}", f"r{i}"]
        graph[f"l{i}"] = [f"d{i - 1}"]
        graph[f"r{i}"] = [f"d{i - 1}"]
    graph["d0"] = []
    return graph, f"d{n}"


_SMALL_GRAPHS = [
    ({"x": [], "y": [], "a": ["x", "y"], "b": ["a", "x"], "L": ["b"]}, "L",
     "L = (x y + x)^2 of chapter 06"),
    ({"x": [], "a": ["x"], "b": ["a"], "c": ["b"], "r": ["c", "x"]}, "r",
     "x feeds r directly and through a, b, c"),
    ({"p": [], "q": ["p"], "r": ["p", "q"]}, "r", "p feeds r directly and through q"),
    ({"p": [], "q": ["p"], "r": ["q", "p"]}, "r", "the same with the inputs swapped"),
    ({"w": [], "x": [], "h1": ["x", "w"], "h2": ["h1"], "h3": ["h1", "h2"],
      "loss": ["h3", "h1"], "unused": ["x"], "other": ["h2"]}, "loss",
     "fan-out, and nodes the root does not use"),
    ({"x": []}, "x", "a lone leaf"),
    ({"h1": ["x", "w"], "loss": ["h2", "h1"], "x": [], "h2": ["h1", "w"], "w": []}, "loss",
     "the dictionary lists h1 before its inputs x and w"),
]


@exercise("autograd.topological_order", chapter=CHAPTER, signature="f(graph, root)")
def _topological_order(t):
    for graph, root, what in _SMALL_GRAPHS:
        _judge(t, graph, root, t.call(graph, root), what)
    t.ok("inputs first, each node once")
    graph, root = _chain(10_000)
    try:
        got = t.call(graph, root)
    except Exception as failure:
        if _failed_because(failure, "RecursionError"):
            t.fail("your function hit Python's recursion limit",
                   "input: a chain of 10,000 nodes (n9999 <- n9998 <- ... <- n0)",
                   "a recursive depth-first search calls itself once per level: Python "
                   "stops at about 1,000.",
                   "hint: keep the nodes still to visit in a list used as a stack (append "
                   "and pop) instead of the call stack.")
        raise
    _judge(t, graph, root, got, "a chain of 10,000 nodes")
    t.ok("a chain of 10,000 nodes")
    graph, root = _ladder(40)
    try:
        got = t.call(graph, root)
    except Exception as failure:
        if _failed_because(failure, "stopped after"):
            t.fail("too slow on stacked diamonds",
                   "input: 40 diamonds on top of each other (121 nodes, 2^40 paths)",
                   "your function did not return in time.",
                   "hint: a node reached again by another path must not be expanded again: "
                   "skip nodes you have already visited (checking the final list for "
                   "duplicates is too late; it still walks every path).")
        raise
    _judge(t, graph, root, got, "40 stacked diamonds")
    t.ok("2^40 paths, each node expanded once")
