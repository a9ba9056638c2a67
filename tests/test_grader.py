"""The headless grader: it re-checks each learner function itself (a notebook that fakes
its checks gets no credit, and the scorecard says so), one bad notebook never hides the
others, and the scorecard gives the one-line reason of each failure and no kernel noise."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

IMPORTS = "import numpy as np\nfrom nnlib.checks import check, progress"
SOLVED_RELU = "def relu(x):\n    return np.maximum(x, 0)"


def notebook(folder, name, *sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# a submission")] + [
        nbformat.v4.new_code_cell(s) for s in sources]
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)
    return folder / name


def grade(*paths, cwd, jobs=4):
    env = {**os.environ, "NNLIB_CHECK_TIMEOUT": "2"}
    env.pop("NNLIB_STRICT", None)
    result = subprocess.run([sys.executable, "-m", "nnlib.checks", "grade", *map(str, paths),
                             "--json", "--timeout", "6", "--jobs", str(jobs)],
                            capture_output=True, text=True, cwd=cwd, env=env, timeout=600)
    reports = json.loads(result.stdout)
    return result.returncode, {Path(r["notebook"]).name: r for r in reports}, result


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """One grader run over a class of submissions, honest and not."""
    folder = tmp_path_factory.mktemp("submissions")
    notebook(folder, "03_alice.ipynb", IMPORTS, SOLVED_RELU, 'check("activations.relu", relu)')
    notebook(folder, "03_bob.ipynb", IMPORTS, "def relu(x):\n    return np.abs(x)",
             'check("activations.relu", relu)',
             "def sigmoid(x):\n    return 1 / (1 + np.exp(x))", "1 / 0")
    notebook(folder, "01_carol.ipynb", IMPORTS,       # the loop is counted in the kernel's child
             "def pairwise_sq_dists(A, B):\n"
             "    return np.array([((a - B) ** 2).sum(axis=1) for a in A])")
    notebook(folder, "03_writes_progress.ipynb", IMPORTS,
             "import json, os\nfrom nnlib.checks import EXERCISES\n"
             "json.dump({i: {'status': 'passed', 'time': 'now'} for i in EXERCISES},\n"
             "          open(os.environ['NNLIB_PROGRESS'], 'w'))")
    notebook(folder, "03_redefines_check.ipynb", IMPORTS,
             "def check(*args):\n    print('✓ passed')",
             "def relu(x):\n    return x", 'check("activations.relu", relu)')
    notebook(folder, "03_patches_checker.ipynb", IMPORTS,
             "import nnlib.checks.core as core\n"
             "core.run_check = lambda i, f, **k: core.CheckResult(i, 'passed')\n"
             "core.Tester.expect = lambda *a, **k: None",
             "def relu(x):\n    return np.abs(x)", 'check("activations.relu", relu)')
    notebook(folder, "03_runs_forever.ipynb", IMPORTS, SOLVED_RELU, "while True:\n    pass",
             "def tanh_grad(x):\n    return 1 - np.tanh(x) ** 2")
    notebook(folder, "03_c_level_loop.ipynb", IMPORTS, SOLVED_RELU, "sum(range(10 ** 12))")
    notebook(folder, "03_kernel_dies.ipynb", IMPORTS, SOLVED_RELU, "import os\nos._exit(3)")
    notebook(folder, "03_hostile_functions.ipynb", IMPORTS,
             "def relu(x):\n    try:\n        sum(range(10 ** 12))\n    except BaseException:\n"
             "        pass\n    return np.maximum(x, 0)",
             "def sigmoid(x):\n    import sys\n    sys.exit(0)",
             "def relu_grad(x):\n    import nnlib.checks.core as c\n"
             "    c.Tester.expect = lambda *a, **k: None\n    return x",
             "def elu(x, alpha):\n    import os\n    os.kill(os.getppid(), 9)")
    notebook(folder, "03_kills_the_grader.ipynb", IMPORTS, SOLVED_RELU,
             "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)")
    notebook(folder, "notes.ipynb", "print('no exercises here')")
    (folder / "03_broken.ipynb").write_text("{not json")
    return grade(folder, folder / "missing.ipynb", cwd=folder)


def test_every_notebook_is_a_row_and_the_exit_status_says_not_all_passed(hostile):
    code, reports, result = hostile
    assert code == 1
    assert len(reports) == 14
    assert reports["03_broken.ipynb"]["status"] == "could not run"
    assert "invalid JSON" in reports["03_broken.ipynb"]["reason"]
    assert reports["missing.ipynb"]["status"] == "could not run"
    killer = reports["03_kills_the_grader.ipynb"]
    assert killer["status"] == "could not run" and "while cell 4 ran" in killer["reason"]
    assert reports["notes.ipynb"]["status"] == "no exercises"
    assert "belongs to no chapter" in reports["notes.ipynb"]["reason"]


def test_honest_notebooks_are_graded_with_one_line_reasons(hostile):
    _, reports, _ = hostile
    alice, bob = reports["03_alice.ipynb"], reports["03_bob.ipynb"]
    assert alice["exercises"]["activations.relu"] == "passed"
    assert alice["exercises"]["activations.elu"] == "not attempted"
    assert len(alice["exercises"]) == 8 and alice["passed"] == 1
    assert bob["exercises"]["activations.relu"] == "failed"
    assert "absolute value" in bob["reasons"]["activations.relu"]
    assert "largest error" in bob["reasons"]["activations.relu"]
    assert "exponent's sign is flipped" in bob["reasons"]["activations.sigmoid"]
    assert all("\n" not in r for r in bob["reasons"].values())
    assert any("ZeroDivisionError" in e for e in bob["errors"])
    carol = reports["01_carol.ipynb"]["reasons"]["numpy.pairwise_sq_dists"]
    assert carol.startswith("a Python loop over the rows of A")


def test_a_notebook_cannot_fake_its_grade(hostile):
    _, reports, _ = hostile
    writes = reports["03_writes_progress.ipynb"]
    assert writes["passed"] == 0
    assert any("touches the progress record" in n and "no credit" in n for n in writes["notes"])
    assert any("claims 42 exercise(s) passed" in n for n in writes["notes"])
    redefines = reports["03_redefines_check.ipynb"]
    assert redefines["exercises"]["activations.relu"] == "failed"
    assert any("redefines check()" in n for n in redefines["notes"])
    patches = reports["03_patches_checker.ipynb"]
    assert patches["exercises"]["activations.relu"] == "failed"
    assert any("patches the checker" in n and "run_check" in n for n in patches["notes"])


def test_cells_that_hang_or_kill_the_kernel_are_reported_and_the_rest_graded(hostile):
    _, reports, _ = hostile
    forever = reports["03_runs_forever.ipynb"]
    assert "could not run cell 4" in forever["reason"]
    assert forever["exercises"]["activations.relu"] == "passed"
    assert forever["exercises"]["activations.tanh_grad"] == "passed"
    c_loop = reports["03_c_level_loop.ipynb"]
    assert "did not stop when interrupted" in c_loop["reason"]
    assert c_loop["exercises"]["activations.relu"] == "passed"
    dies = reports["03_kernel_dies.ipynb"]
    assert "ended the kernel" in dies["reason"]
    assert dies["exercises"]["activations.relu"] == "passed"


def test_hostile_functions_get_verdicts_and_no_credit(hostile):
    _, reports, _ = hostile
    verdicts = reports["03_hostile_functions.ipynb"]
    assert verdicts["exercises"]["activations.relu"] == "failed"
    assert "stopped after 2 s" in verdicts["reasons"]["activations.relu"]
    assert "sys.exit" in verdicts["reasons"]["activations.sigmoid"]
    assert verdicts["exercises"]["activations.relu_grad"] == "failed"
    assert verdicts["exercises"]["activations.elu"] == "failed"


def test_the_scorecard_text_has_reasons_and_no_kernel_noise(hostile, tmp_path):
    code, _, result = hostile
    assert "WARNING" not in result.stdout + result.stderr
    assert "Kernel is running" not in result.stdout + result.stderr
    folder = tmp_path / "one"
    notebook(folder, "03_bob.ipynb", IMPORTS, "def relu(x):\n    return np.abs(x)")
    text = subprocess.run([sys.executable, "-m", "nnlib.checks", "grade", str(folder)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert text.returncode == 1
    assert "0/8 passed" in text.stdout
    assert "✗ activations.relu" in text.stdout and "absolute value" in text.stdout
    assert "WARNING" not in text.stdout + text.stderr


def test_a_solved_notebook_passes_with_exit_status_0(tmp_path):
    shutil.copy(ROOT / "solutions" / "03_activations.ipynb", tmp_path)
    code, reports, result = grade(tmp_path / "03_activations.ipynb", cwd=tmp_path, jobs=1)
    assert code == 0, result.stdout
    report = reports["03_activations.ipynb"]
    assert report["passed"] == report["total"] == 8 and not report["notes"]


@pytest.mark.parametrize("content, why", [
    ("{not json", "invalid JSON"), ("[1, 2]", "not a notebook"), ("{}", "not a notebook"),
    ('{"cells": 5, "nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "not a notebook"),
    ('{"cells": [{"cell_type": "code", "source": 5, "metadata": {}, "outputs": []}], '
     '"nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "has no text source"),
    ('{"cells": [{"cell_type": "weird", "source": "", "metadata": {}}], "nbformat": 4, '
     '"nbformat_minor": 5, "metadata": {}}', "not a code, markdown or raw cell")])
def test_unreadable_notebooks_are_rows_with_a_reason(tmp_path, content, why):
    from nnlib.checks.grader import grade_notebook

    path = tmp_path / "03_activations.ipynb"
    path.write_text(content)
    report = grade_notebook(path)
    assert report["status"] == "could not run" and why in report["reason"]
    assert report["total"] == 0
