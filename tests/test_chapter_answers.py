"""The chapter proves, the exercise asks: no chapter prints its exercises' answers, and
no exercise stub spells them out (CURRICULUM.md, "The standard").

For every solution region of solutions/NN_*.ipynb, the test collects its code lines
(whitespace removed; comments, `return`-only and very short lines skipped, since a
line like ``n, c, h, w = x.shape`` proves nothing) and fails if

- the chapter chapters/NN_*.ipynb holds half or more of a region's lines, or any two
  consecutive ones: that is the answer printed in the chapter;
- the generated exercises/NN_*.ipynb holds any of them, in code or in text: the stub or
  its hint gives the answer away.
"""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
REGION = re.compile(r"### BEGIN SOLUTION[^\n]*\n(.*?)\n\s*### END SOLUTION", re.S)


def normalise(line):
    return re.sub(r"\s+", "", line.split("#", 1)[0])


def answer_lines(region):
    lines = [normalise(line) for line in region.splitlines()]
    return [line for line in lines
            if len(line) >= 12 and not re.fullmatch(r"return\w+|\w+(,\w+)*=\w+\.shape(\[.*\])?",
                                                    line)]


def regions(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            for match in REGION.finditer(cell.source):
                name = re.search(r"def (\w+)", cell.source)
                yield (name[1] if name else "?"), answer_lines(match[1])


def notebook_lines(path, kinds=("code",)):
    nb = nbformat.read(path, as_version=4)
    return [normalise(line) for cell in nb.cells if cell.cell_type in kinds
            for line in cell.source.splitlines()]


def printed_answers(chapter_lines, solution):
    """Names of the exercises whose answers a chapter's code lines hold, with the lines."""
    joined = "\n".join(chapter_lines)
    leaks = {}
    for name, lines in regions(solution):
        found = [line for line in lines if line in chapter_lines]
        pairs = [f"{a} / {b}" for a, b in zip(lines, lines[1:], strict=False)
                 if f"{a}\n{b}" in joined]
        if lines and (len(found) >= max(1, len(lines) / 2) or pairs):
            leaks[name] = found + pairs
    return leaks


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_the_chapter_does_not_print_the_answers(solution):
    chapter = ROOT / "chapters" / solution.name
    if not chapter.exists():
        pytest.skip(f"no chapter {chapter.name} yet")
    assert printed_answers(notebook_lines(chapter), solution) == {}


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_the_stubs_do_not_spell_out_the_answers(solution):
    exercise = ROOT / "exercises" / solution.name
    text = set(notebook_lines(exercise, kinds=("code", "markdown")))
    for name, lines in regions(solution):
        leaked = [line for line in lines if line in text]
        assert not leaked, f"{exercise.name}: the stub of {name} gives away {leaked}"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_the_answer_finder_catches_a_pasted_answer(solution):
    """The check above can fail: a chapter that pastes any one solution body, or just
    two of its consecutive lines, is caught; a chapter that shares one setup line is
    not."""
    nb = nbformat.read(solution, as_version=4)
    bodies = [(re.search(r"def (\w+)", c.source)[1], m[1]) for c in nb.cells
              if c.cell_type == "code" for m in REGION.finditer(c.source)]
    for name, body in bodies:
        lines = [normalise(line) for line in body.splitlines()]
        if answer_lines(body):
            assert name in printed_answers(["x = 1", *lines, "y = 2"], solution), name
    name, body = max(bodies, key=lambda nb_: len(answer_lines(nb_[1])))
    kept = answer_lines(body)
    assert name in printed_answers(kept[:2], solution)
    assert name not in printed_answers(kept[:1], solution) or len(kept) <= 2
