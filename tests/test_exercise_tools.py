"""The exercise generator and the headless grader."""

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


# ------------------------------------------------------------------ nbgrader metadata

def test_solution_and_check_cells_get_nbgrader_metadata_idempotently():
    nb = notebook(SOLVED_RELU, CHECK_RELU, "x = 1")
    stamped = make_exercises.stamp(nb)
    solution, test, plain = (c.metadata.get("nbgrader") for c in stamped.cells[1:])
    assert solution == {"grade": False, "grade_id": "solution-relu", "locked": False,
                        "schema_version": 3, "solution": True, "task": False}
    assert test == {"grade": True, "grade_id": "check-activations-relu", "locked": True,
                    "points": 1, "schema_version": 3, "solution": False, "task": False}
    assert plain is None
    assert make_exercises.stamp(stamped) == stamped                  # idempotent
    stamped.cells[2].metadata["nbgrader"]["points"] = 3              # an instructor's choice
    assert make_exercises.stamp(stamped).cells[2].metadata["nbgrader"]["points"] == 3
    assert "nbgrader" not in make_exercises.stamp(notebook("x = 2")).cells[1].metadata


def test_a_cell_with_a_solution_and_a_check_is_refused():
    with pytest.raises(ValueError, match="split them"):
        make_exercises.stamp(notebook(SOLVED_RELU + "\n" + CHECK_RELU))


def test_check_fails_until_solutions_are_stamped_and_exercises_carry_no_grader_metadata(
        tmp_path):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    nbformat.write(notebook(SOLVED_RELU, CHECK_RELU), solutions / "03_activations.ipynb")
    args = ["--solutions", str(solutions), "--exercises", str(exercises)]
    assert make_exercises.main(args) == 0
    assert make_exercises.main([*args, "--check"]) == 0
    stamped = nbformat.read(solutions / "03_activations.ipynb", as_version=4)
    assert stamped.cells[2].metadata["nbgrader"]["grade"] is True
    exercise = nbformat.read(exercises / "03_activations.ipynb", as_version=4)
    assert all("nbgrader" not in c.metadata for c in exercise.cells)
    stamped.cells.append(nbformat.v4.new_code_cell('check("activations.relu", relu)'))
    nbformat.write(stamped, solutions / "03_activations.ipynb")      # an unstamped check
    text = subprocess.run([sys.executable, str(ROOT / "tools" / "make_exercises.py"), *args,
                           "--check"], capture_output=True, text=True).stdout
    assert "not stamped for nbgrader" in text


def test_reset_restores_a_learners_notebook_and_keeps_a_backup(tmp_path, capsys):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    nbformat.write(notebook(SOLVED_RELU, CHECK_RELU), solutions / "03_activations.ipynb")
    args = ["--solutions", str(solutions), "--exercises", str(exercises)]
    assert make_exercises.main(args) == 0
    pristine = (exercises / "03_activations.ipynb").read_text()
    work = nbformat.read(exercises / "03_activations.ipynb", as_version=4)
    work.cells[1].source = "def relu(x):\n    return x  # my attempt"
    work.cells[1].execution_count = 3
    nbformat.write(work, exercises / "03_activations.ipynb")
    assert make_exercises.main([*args, "--reset", "03"]) == 0
    assert (exercises / "03_activations.ipynb").read_text() == pristine
    backups = list((exercises / "backups").glob("03_activations-*.ipynb"))
    assert len(backups) == 1 and "my attempt" in backups[0].read_text()
    assert "kept your version as" in capsys.readouterr().out
    assert make_exercises.main([*args, "--reset", "exercises/03_activations.ipynb"]) == 0
    assert "already pristine" in capsys.readouterr().out
    assert make_exercises.main([*args, "--reset", "07"]) == 1


def test_regenerating_never_silently_overwrites_a_learners_run_notebook(tmp_path, capsys):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    nbformat.write(notebook(SOLVED_RELU, CHECK_RELU), solutions / "03_activations.ipynb")
    args = ["--solutions", str(solutions), "--exercises", str(exercises)]
    make_exercises.main(args)
    work = nbformat.read(exercises / "03_activations.ipynb", as_version=4)
    work.cells[1].execution_count = 1
    nbformat.write(work, exercises / "03_activations.ipynb")
    make_exercises.main(args)
    assert "holds someone's work: kept as" in capsys.readouterr().out
    assert len(list((exercises / "backups").iterdir())) == 1


def test_the_readmes_explain_the_exercise_workflow():
    for readme in (ROOT / "README.md", ROOT / "exercises" / "README.md"):
        text = readme.read_text()
        assert "python tools/make_exercises.py --reset exercises/03_activations.ipynb" in text
        assert "nnlib_progress.json" in text and "git pull" in text
        assert "never edit" not in text.lower()
    assert "## Using nbgrader" in (ROOT / "README.md").read_text()
