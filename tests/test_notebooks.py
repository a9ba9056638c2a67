"""The committed notebooks: chapters saved from a clean top-to-bottom run, exercises
cleared, every exercise id of a chapter present in its notebooks. (nbval executes them
all in `make test`.)"""

import re
from pathlib import Path

import nbformat
import pytest

from nnlib.checks import EXERCISES

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
EXECUTED = CHAPTERS + sorted((ROOT / "examples").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: p.name)
def test_chapter_saved_from_a_clean_run_in_order(path):
    nb = nbformat.read(path, as_version=4)
    counts = [c.execution_count for c in code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: re-run with make notebooks"
    errors = [o for c in code_cells(nb) for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name} was saved with an error output"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_structure(path):
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "**What you will build" in nb.cells[0].source
    assert "## Summary" in text
    assert "default_rng(SEED)" in "\n".join(c.source for c in code_cells(nb))
    assert "np.random.seed" not in "\n".join(c.source for c in code_cells(nb))
    if (ROOT / "solutions" / path.name).exists():
        assert f"../exercises/{path.name}" in text     # the chapter links its exercises
        assert "viz." in "\n".join(c.source for c in code_cells(nb))  # an interactive view


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_every_exercise_id_of_the_chapter_is_checked(path):
    nb = nbformat.read(path, as_version=4)
    source = "\n".join(c.source for c in code_cells(nb))
    checked = set(re.findall(r'check\("([\w.]+)"', source))
    prefix = path.stem.split("_", 1)[0]
    expected = {e.id for e in EXERCISES.values() if e.chapter.split("_", 1)[0] == prefix}
    assert expected and checked == expected
    exercise = nbformat.read(ROOT / "exercises" / path.name, as_version=4)
    assert all(not c.outputs and c.execution_count is None for c in code_cells(exercise))
    assert "### BEGIN SOLUTION" not in "\n".join(c.source for c in exercise.cells)


def test_readme_links_the_written_chapters():
    readme = (ROOT / "README.md").read_text()
    for path in CHAPTERS:
        assert f"(chapters/{path.name})" in readme, path.name
