"""nbgrader on every solution notebook, offline in a temporary course folder:
``generate_assignment`` releases notebooks whose cells equal exercises/, and ``autograde``
scores a correct submission full points and a wrong one less."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
pytestmark = pytest.mark.slow
nbgrader_api = pytest.importorskip("nbgrader.api")


def nbgrader(course, *args):
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep
           + os.environ.get("PATH", "")}      # nbgrader runs `alembic` from the same env
    for key in ("NNLIB_STRICT", "NNLIB_PROGRESS"):
        env.pop(key, None)
    out = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--force"], cwd=course,
                         env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    # nbgrader's own errors ("[AutogradeApp | ERROR] ..."); not the kernel client's
    # "ERROR:tornado.general:Uncaught exception in ZMQStream callback" that a kernel shut
    # down sometimes logs after its notebook was written and graded (seen once here)
    errors = [line for line in out.stderr.splitlines() if re.search(r"\[\w+ \| ERROR\]", line)]
    assert not errors, out.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "tools" / "nbgrader_config.py", course)
    (course / "source" / "ps1").mkdir(parents=True)
    for path in SOLUTIONS:
        shutil.copy(path, course / "source" / "ps1")
    nbgrader(course, "generate_assignment", "ps1")
    for student, folder in (("alice", course / "source" / "ps1"),          # the answers
                            ("bob", course / "release" / "ps1")):           # the stubs
        (course / "submitted" / student / "ps1").mkdir(parents=True)
        for path in SOLUTIONS:
            shutil.copy(folder / path.name, course / "submitted" / student / "ps1")
    nbgrader(course, "autograde", "ps1", "--create")
    return course


def test_released_notebooks_equal_the_exercises(course):
    for path in SOLUTIONS:
        released = nbformat.read(course / "release" / "ps1" / path.name, as_version=4)
        exercise = nbformat.read(ROOT / "exercises" / path.name, as_version=4)
        assert [(c.cell_type, c.source) for c in released.cells] == \
               [(c.cell_type, c.source) for c in exercise.cells], path.name
        graded = [c for c in released.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert graded and all(c.metadata["nbgrader"]["locked"] for c in graded)
        assert all("check(" in c.source for c in graded)


def test_autograde_gives_full_points_to_answers_and_not_to_stubs(course):
    with nbgrader_api.Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for path in SOLUTIONS:
            alice = gb.find_submission_notebook(path.stem, "ps1", "alice")
            bob = gb.find_submission_notebook(path.stem, "ps1", "bob")
            assert alice.max_score > 0 and alice.score == alice.max_score, path.name
            assert bob.score == 0, path.name
            assert alice.max_score == sum(1 for c in nbformat.read(path, 4).cells
                                          if "check(" in c.source and c.cell_type == "code")
