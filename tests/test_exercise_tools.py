"""The exercise generator and the headless grader."""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import make_exercises  # noqa: E402

SOLVED_RELU = """import numpy as np
from nnlib.checks import check

def relu(x):
    ### BEGIN SOLUTION keep the positive part of x
    return np.maximum(x, 0)
    ### END SOLUTION"""

CHECK_RELU = 'check("activations.relu", relu)'

BUGGY_SIGMOID = """from scipy import special

def sigmoid(x):
    return 1 / (1 + np.exp(x))

check("activations.sigmoid", sigmoid)"""


def notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 03 activations")] + [
        nbformat.v4.new_code_cell(s, execution_count=i, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="old output")])
        for i, s in enumerate(sources, start=1)]
    return nb


def test_solution_regions_become_not_implemented_with_indentation_kept():
    out = make_exercises.strip_solutions(SOLVED_RELU)
    assert "np.maximum" not in out
    assert ('    raise NotImplementedError("Your code here: keep the positive part of x")'
            in out.splitlines())
    assert out.splitlines()[3] == "def relu(x):"
    plain = make_exercises.strip_solutions("x = 1\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION")
    assert plain == ('x = 1\nraise NotImplementedError("Your code here: replace this line '
                     'with your code")')


@pytest.mark.parametrize("source", ["### BEGIN SOLUTION\nx", "### END SOLUTION",
                                    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"])
def test_unbalanced_markers_are_rejected(source):
    with pytest.raises(ValueError, match="unbalanced|without"):
        make_exercises.strip_solutions(source)


def test_generate_and_check(tmp_path):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    nbformat.write(notebook(SOLVED_RELU, CHECK_RELU), solutions / "03_activations.ipynb")
    args = ["--solutions", str(solutions), "--exercises", str(exercises)]
    assert make_exercises.main([*args, "--check"]) == 1          # missing
    assert make_exercises.main(args) == 0
    assert make_exercises.main([*args, "--check"]) == 0          # in sync
    nb = nbformat.read(exercises / "03_activations.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert "NotImplementedError" in code[0].source and "maximum" not in code[0].source
    nbformat.write(notebook(SOLVED_RELU + "\n# edited", CHECK_RELU),
                   solutions / "03_activations.ipynb")
    assert make_exercises.main([*args, "--check"]) == 1          # stale


def test_the_repository_exercises_are_in_sync():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "make_exercises.py"),
                             "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


@pytest.mark.slow
def test_grader_scorecard_json_and_exit_code(tmp_path):
    pytest.importorskip("nbclient")
    submissions = tmp_path / "submissions"
    for student, sources in {"alice": (SOLVED_RELU, CHECK_RELU),
                             "bob": (SOLVED_RELU.replace("np.maximum(x, 0)", "np.abs(x)"),
                                     CHECK_RELU, BUGGY_SIGMOID, "1 / 0")}.items():
        (submissions / student).mkdir(parents=True)
        nbformat.write(notebook(*sources), submissions / student / "03_activations.ipynb")
    result = subprocess.run([sys.executable, "-m", "nnlib.checks", "grade", str(submissions),
                             "--json"], capture_output=True, text=True, cwd=tmp_path,
                            timeout=300)
    assert result.returncode == 1, result.stderr
    reports = {Path(r["notebook"]).parent.name: r for r in json.loads(result.stdout)}
    alice, bob = reports["alice"]["exercises"], reports["bob"]["exercises"]
    assert alice["activations.relu"] == "passed"
    assert alice["activations.elu"] == "not attempted" and len(alice) == 8
    assert bob["activations.relu"] == "failed" and bob["activations.sigmoid"] == "failed"
    assert any("ZeroDivisionError" in e for e in reports["bob"]["errors"])
    text = subprocess.run([sys.executable, "-m", "nnlib.checks", "grade",
                           str(submissions / "alice" / "03_activations.ipynb")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300).stdout
    assert "1/8 passed" in text and "✓ activations.relu" in text
