"""Project-level promises: the core imports only NumPy and SciPy, environment.yml mirrors
pyproject, the documented commands exist."""

import re
import subprocess
import sys
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_core_imports_only_numpy_and_scipy():
    code = (
        "import sys, nnlib, nnlib.data\n"
        "import nnlib as nl\n"
        "m = nl.Sequential(nl.Dense(2, 3), nl.ReLU(), nl.Dense(3, 2))\n"
        "import numpy as np\n"
        "m.fit(np.zeros((4, 2)), np.zeros(4, int), loss='cross_entropy',\n"
        "      optimizer=nl.SGD(m.parameters(), lr=0.1), verbose=False)\n"
        "top = {name.split('.')[0] for name in sys.modules}\n"
        "print(' '.join(sorted(top)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    forbidden = {"matplotlib", "ipywidgets", "tqdm", "sklearn", "mlxtend", "torch", "pandas",
                 "IPython", "jupyter_client", "nbformat"}
    assert not forbidden & set(out), forbidden & set(out)
    assert {"numpy", "scipy", "nnlib"} <= set(out)


def _requirement_name(req):
    return re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_requirement_name(r) for r in project["dependencies"]}
    for extra in ("course", "test"):
        wanted |= {_requirement_name(r) for r in project["optional-dependencies"][extra]
                   if not r.startswith("nnlib")}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):  # the pip: section
            listed |= {_requirement_name(r) for r in dep["pip"] if not r.startswith("-e")}
        elif not dep.startswith(("python", "pip")):
            listed.add(_requirement_name(dep))
    assert listed == wanted, (f"missing from environment.yml: {sorted(wanted - listed)}; "
                              f"not in pyproject: {sorted(listed - wanted)}")
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert project["requires-python"].lstrip(">=") in python
    pip_section = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    assert "-e ." in pip_section  # the library itself, editable


def test_readme_and_ci_use_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    assert "conda env create -f environment.yml" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in ("lab:", "test:", "lint:", "bench:"):
        assert target in makefile


def test_ruff_is_pinned_with_explicit_rules():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    test_extra = pyproject["project"]["optional-dependencies"]["test"]
    assert any(r.startswith("ruff==") for r in test_extra)
    assert pyproject["tool"]["ruff"]["lint"]["select"]


def test_make_lab_and_test_do_what_the_readme_says():
    dry = subprocess.run(["make", "-n", "lab", "test"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert "jupyter lab --notebook-dir=." in dry and "chapters/00_welcome.ipynb" in dry
    assert '-m pytest -n 2 --dist loadfile -p no:nbval -m "not ui" tests' in dry
    assert "ruff check" in dry and "--nbval-lax" in dry and "NNLIB_STRICT=1" in dry
