"""Project-level promises: the core imports only NumPy and SciPy, environment.yml mirrors
pyproject, the documented commands exist and fail clearly, the supported Python versions
agree everywhere and are found by `make test-versions`."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, before it joined the standard library
    import tomli as tomllib

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


def test_make_test_runs_every_notebook_whole_on_two_workers_and_the_browser_test():
    """Each notebook is one unit of work for pytest-xdist (``--dist loadfile``: its kernel
    starts once and its cells run in order on one worker), one BLAS thread per worker, and
    the browser test runs beside the other stages; a failed stage fails make test."""
    dry = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    nbval = [line for line in dry.splitlines() if "--nbval-lax" in line]
    assert len(nbval) == 2, nbval          # chapters, examples, exercises; then solutions
    for line in nbval:
        assert "-n 2 --dist loadfile" in line, line
        assert "OPENBLAS_NUM_THREADS=1" in line, line
    assert "chapters/00_welcome.ipynb" in nbval[0] and "solutions/" in nbval[1]
    assert "-m ui tests/ui > test-artifacts/ui-test.log 2>&1 &" in dry
    assert 'wait $ui || failed="$failed browser"' in dry and "exit 1" in dry
    ui = subprocess.run(["make", "-n", "ui-test"], cwd=ROOT, capture_output=True, text=True,
                        check=True).stdout
    assert "-m ui tests/ui" in ui


def test_nbgrader_extensions_are_off_in_the_venv_make_test_built():
    """`make test` installs nbgrader, whose JupyterLab menus and server extensions would
    then load in every learner's `make lab`: the Makefile switches them off."""
    prefix = Path(sys.prefix)
    # only .venv: `make lab` uses it; make test-versions' .venvs/3.X run tests alone
    if prefix.resolve() != (ROOT / ".venv").resolve() \
            or not list(prefix.glob(".installed-test-*")):
        pytest.skip("not the .venv that `make test` and `make lab` share")
    if not (prefix / "etc/jupyter/jupyter_server_config.d/nbgrader.json").exists():
        pytest.skip("nbgrader is not installed")
    from jupyter_core.paths import jupyter_config_path
    from jupyter_server.extension.config import ExtensionConfigManager
    from jupyterlab_server.config import get_page_config

    server = ExtensionConfigManager(read_config_path=jupyter_config_path())
    nbgrader = {k: v for k, v in server.get_jpserver_extensions().items()
                if k.startswith("nbgrader")}
    assert nbgrader and not any(nbgrader.values()), nbgrader
    page = get_page_config([str(prefix / "share" / "jupyter" / "labextensions")])
    assert "@jupyter/nbgrader" in page.get("disabledExtensions", []), page
    assert (prefix / ".nbgrader-extensions-off").exists()


def test_ci_runs_every_supported_python_after_make_test():
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.index("make test\n") < ci.index("make test-versions")
    dry = subprocess.run(["make", "-n", "test-versions"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert "tools/test_versions.py" in dry and '-m "not ui and not slow and not views" tests' in dry


def test_supported_versions_agree_in_pyproject_readme_and_environment():
    pyproject = (ROOT / "pyproject.toml").read_text()
    project = tomllib.loads(pyproject)["project"]
    versions = load_tool("test_versions").supported_versions(pyproject)
    minors = [int(v.split(".")[1]) for v in versions]
    assert versions[0] == "3.10" and minors == list(range(minors[0], minors[-1] + 1))
    assert project["requires-python"] == f">={versions[0]}"
    assert sys.version_info[:2] >= (3, 10)  # this very run is on a supported version
    readme = (ROOT / "README.md").read_text()
    listed = ", ".join(versions[:-1]) + f" or {versions[-1]}"
    assert f"You need Python {listed}" in readme
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert f"python>={versions[0]}" in env["dependencies"]


def test_readme_says_how_to_stop_jupyterlab_and_what_to_do_on_windows():
    readme = (ROOT / "README.md").read_text()
    assert "*File → Shut Down*" in readme and "Ctrl+C twice" in readme
    assert "jupyter server stop 8888" in readme
    windows = readme[readme.index("**Windows**"):readme.index("**Conda**")]
    for step in ("py -3.13 -m venv .venv", 'pip install -e ".[course]"',
                 "jupyter lab chapters\\00_welcome.ipynb", 'pip install -e ".[test]"',
                 '-m pytest -p no:nbval -m "not ui" tests', "--nbval-lax solutions"):
        assert step in windows, step
    assert "sudo apt install python3-venv" in readme


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_python(path, body):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_test_versions_finds_pythons_on_path_and_in_pyenv_but_not_impostors(tmp_path):
    tool = load_tool("test_versions")
    this = f"{sys.version_info[0]}.{sys.version_info[1]}"
    real = f'exec "{sys.executable}" "$@"'
    on_path = tmp_path / "bin"
    # a pyenv shim for a version that is not active fails: skipped, and pyenv's own is found
    fake_python(on_path / f"python{this}", 'echo "pyenv: command not found" >&2; exit 127')
    pyenv_exe = fake_python(tmp_path / "pyenv" / "versions" / f"{this}.99" / "bin" /
                            f"python{this}", real)
    fake_python(tmp_path / "pyenv" / "versions" / f"{this}.7" / "bin" / f"python{this}", real)
    # a "python3.99" on PATH that is really this Python does not count as 3.99
    fake_python(on_path / "python3.99", real)
    where = dict(path=str(on_path), home=tmp_path / "home", pyenv_root=tmp_path / "pyenv")
    assert list(tool.candidates(this, **where))[0] == on_path / f"python{this}"
    assert list(tool.candidates(this, **where))[1] == pyenv_exe  # newest patch first
    found = tool.find_pythons([this, "3.99"], **where)
    assert set(found) == {this}
    full, interpreter = found[this]
    assert full == ".".join(map(str, sys.version_info[:3]))
    assert Path(interpreter).exists()
    # python3.X found on PATH comes before managed installs
    fake_python(on_path / f"python{this}", real)
    assert list(tool.candidates(this, **where))[0] == on_path / f"python{this}"
    assert tool.find_pythons([this], **where) == found
    # PYTHONS="..." names the interpreters outright
    assert tool.find_pythons([this, "3.99"], explicit=[pyenv_exe]) == found
    assert tool.find_pythons(["3.99"], explicit=[on_path / "python3.99"]) == {}


@pytest.fixture
def make_copy(tmp_path):
    """The Makefile and pyproject.toml alone in a folder: enough for `make venv`."""
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}

    def make(*args):
        return subprocess.run(["make", "--no-print-directory", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
    return tmp_path, make


def test_make_without_a_venv_module_fails_clearly_and_leaves_nothing_half_made(make_copy):
    folder, make = make_copy
    # like Debian's python3 without python3-venv: `-m venv` makes the folder half-way, fails
    debian = fake_python(folder / "python3", f"""
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin" && ln -s "{sys.executable}" "$3/bin/python"
  echo "The virtual environment was not created successfully because ensurepip is not" >&2
  echo "available." >&2
  exit 1
fi
exec "{sys.executable}" "$@"
""")
    for target in ("lab", "test"):
        result = make(target, f"PYTHON={debian}")
        assert result.returncode != 0
        assert "-m venv .venv' failed (its message is above); nothing was left behind" \
            in result.stderr
        assert "sudo apt install python3-venv" in result.stderr
        assert not (folder / ".venv").exists()
    # a half-made .venv from an older Makefile is removed, not trusted
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", folder / ".venv"], check=True)
    result = make("venv", f"PYTHON={debian}")
    assert "removing the half-made .venv" in result.stdout and result.returncode != 0
    assert not (folder / ".venv").exists()
    # with a working venv module the next run succeeds and leaves a usable .venv
    result = make("venv", f"PYTHON={sys.executable}")
    assert result.returncode == 0, result.stderr
    subprocess.run([folder / ".venv" / "bin" / "python", "-m", "pip", "--version"], check=True,
                   capture_output=True)
    again = make("venv", f"PYTHON={sys.executable}")
    assert again.returncode == 0 and "-m venv" not in again.stdout  # ready: nothing to do


def test_make_names_a_missing_or_too_old_python(make_copy):
    folder, make = make_copy
    result = make("lab", "PYTHON=/nonexistent/python3")
    assert result.returncode != 0
    assert "needs Python 3.10 or newer as '/nonexistent/python3', found: no such command" \
        in result.stderr
    old = fake_python(folder / "python3.9",
                      'if [ "$1" = --version ]; then echo "Python 3.9.18"; exit 0; fi; exit 1')
    result = make("test", f"PYTHON={old}")
    assert "found: Python 3.9.18" in result.stderr and "make PYTHON=python3.12 test" \
        in result.stderr
    assert not (folder / ".venv").exists()
