"""The layout of nnlib (nnlib/README.md): no import cycles, no imports of nnlib modules
inside functions, each module importing only from the layers of the house below it,
and the public names and old module paths that notebooks use still importing."""

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import nnlib as nl

ROOT = Path(nl.__file__).parent

# The layers of the house, lowest first: a module may import from a lower level and
# from its own package, nothing else (nnlib/README.md explains each).
LEVELS = [
    ("nnlib._validation", "nnlib.utils"),
    ("nnlib.functional", "nnlib.init"),
    ("nnlib.nodes",),
    ("nnlib.layers",),
    ("nnlib.losses", "nnlib.optim", "nnlib.callbacks", "nnlib.gradcheck"),
    ("nnlib.serialization", "nnlib.training"),
    ("nnlib.models",),
    ("nnlib.data",),
    ("nnlib.viz", "nnlib.checks"),
]


def module_names():
    names = ["nnlib"]
    for info in pkgutil.walk_packages([str(ROOT)], prefix="nnlib."):
        names.append(info.name)
    return sorted(names)


def source_path(name):
    parts = name.split(".")[1:]
    path = ROOT.joinpath(*parts)
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def resolve(module, node):
    """The nnlib modules an Import/ImportFrom node of ``module`` brings in."""
    package = module if source_path(module).name == "__init__.py" else module.rsplit(".", 1)[0]
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "nnlib"]
    if node.level:
        base = package.split(".")
        base = base[:len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != "nnlib":
        return []
    found = []
    for alias in node.names:  # `from pkg import submodule` imports the submodule itself
        candidate = f"{target}.{alias.name}"
        found.append(candidate if candidate in ALL_MODULES else target)
    return found


def imports_of(module, source=None):
    """[(imported nnlib module, line, inside a function)] for every import in the
    module's file (or in ``source``), those in functions included."""
    if source is None:
        source = source_path(module).read_text(encoding="utf-8")
    tree = ast.parse(source)
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                      ast.Lambda))
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.extend((target, child.lineno, in_function)
                             for target in resolve(module, child))
            visit(child, inner)

    visit(tree, False)
    return found


ALL_MODULES = set(module_names())
GRAPH = {m: imports_of(m) for m in ALL_MODULES}


def find_cycle(graph):
    """One import cycle as a list of modules, or None. Importing a submodule loads its
    parent packages first; that implicit edge is not counted (every package would be a
    'cycle' with its own __init__ otherwise)."""
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for target in sorted({t for t, _, _ in graph[m]} - {m}):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            cycle = visit(m)
            if cycle:
                return cycle
    return None


def test_the_walk_sees_every_module_and_function_level_imports():
    assert {"nnlib.layers.base", "nnlib.functional.conv_fast", "nnlib.models.graph",
            "nnlib.nodes", "nnlib.utils", "nnlib.checks.core"} <= ALL_MODULES
    assert ("nnlib.nodes", False) in {(t, f) for t, _, f in GRAPH["nnlib.layers.base"]}
    snippet = "import numpy\nfrom . import conv\n\ndef f():\n    from ..nodes import Node\n"
    assert imports_of("nnlib.layers.base", snippet) == [("nnlib.layers.conv", 2, False),
                                                        ("nnlib.nodes", 5, True)]
    # the detector itself: a planted cycle, and one hidden inside a function
    planted = {"a": [("b", 1, False)], "b": [("c", 1, True)], "c": [("a", 1, False)]}
    assert find_cycle(planted) == ["a", "b", "c", "a"]
    assert find_cycle({"a": [("b", 1, False)], "b": []}) is None


def test_no_import_cycles_anywhere_in_nnlib():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_nnlib_imports_inside_functions():
    inside = [f"{m}:{line} imports {t}" for m, edges in GRAPH.items()
              for t, line, in_function in edges if in_function]
    assert not inside, "\n".join(inside)


def level_of(module):
    for level, prefixes in enumerate(LEVELS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                return level, prefix
    return len(LEVELS), "nnlib"  # the package itself: imports everything


def test_every_module_imports_only_from_below_or_its_own_package():
    assert all(level_of(m)[1] != "nnlib" for m in ALL_MODULES if m != "nnlib"), \
        "a module that no level of LEVELS (and nnlib/README.md) covers"
    wrong = []
    for module, edges in GRAPH.items():
        level, home = level_of(module)
        for target, line, _ in edges:
            target_level, target_home = level_of(target)
            if target_home != home and target_level >= level:
                wrong.append(f"{module}:{line} imports {target} (level {target_level} >= "
                             f"{level})")
    assert not wrong, "\n".join(wrong)


PUBLIC = ["Parameter", "Layer", "Dense", "ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh",
          "Softmax", "Flatten", "Dropout", "Residual", "Conv2D", "MaxPool2D", "AvgPool2D",
          "RNN", "LSTM", "LastTimeStep", "Loss", "MSELoss", "BCELoss", "BCEWithLogitsLoss",
          "CrossEntropyLoss", "Optimizer", "SGD", "RMSProp", "Adam", "clip_grad_norm", "Input",
          "Model", "Node", "Add", "Multiply", "Concatenate", "Reshape", "Pointwise",
          "Sequential", "Callback", "History", "EarlyStopping", "LearningRateScheduler",
          "ProgressBar", "numerical_gradient", "rel_error", "check_layer", "ShapeError",
          "Container", "functional", "gradcheck", "init", "losses", "optim", "data"]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_names_stay_importable(name):
    assert name in nl.__all__
    assert getattr(nl, name) is not None


@pytest.mark.parametrize("path, names", [
    ("nnlib.functional", ["relu", "leaky_relu_grad", "elu", "sigmoid_grad", "softmax",
                          "log_softmax", "binary_cross_entropy", "cross_entropy", "one_hot",
                          "im2col", "conv2d_naive", "maxpool_forward"]),
    ("nnlib.gradcheck", ["numerical_gradient", "rel_error", "check_layer"]),
    ("nnlib.init", ["he_normal", "glorot_uniform", "orthogonal", "get"]),
    ("nnlib.data", ["spirals", "one_hot", "load_photo"]),
])
def test_module_paths_used_by_notebooks_stay_importable(path, names):
    module = importlib.import_module(path)
    for name in names:
        assert callable(getattr(module, name)), f"{path}.{name}"


def test_every_module_says_what_it_holds():
    missing = [m for m in ALL_MODULES if not m.endswith("__main__") and not ast.get_docstring(
        ast.parse(source_path(m).read_text(encoding="utf-8")))]
    assert not missing, missing
