"""Generate exercises/*.ipynb from solutions/*.ipynb.

In every code cell, the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
(markers included) become one ``raise NotImplementedError(...)`` at the marker's
indentation. Text after ``### BEGIN SOLUTION`` is the one-line prompt shown to the
learner. Outputs and execution counts are cleared.

    python tools/make_exercises.py           # write exercises/
    python tools/make_exercises.py --check   # exit 1 if exercises/ is out of date
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BEGIN = re.compile(r"^(?P<indent>\s*)### BEGIN SOLUTION\s*(?P<prompt>.*)$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
DEFAULT_PROMPT = "replace this line with your code"


def strip_solutions(source, where="cell"):
    """Replace every solution region of a cell's source; raise on unbalanced markers."""
    out, inside = [], False
    for number, line in enumerate(source.splitlines(), start=1):
        begin = BEGIN.match(line)
        if begin and not inside:
            inside = True
            prompt = begin["prompt"].strip() or DEFAULT_PROMPT
            out.append(f'{begin["indent"]}raise NotImplementedError("Your code here: {prompt}")')
        elif begin or (END.match(line) and not inside):
            raise ValueError(f"{where}, line {number}: unbalanced solution markers.")
        elif END.match(line):
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: ### BEGIN SOLUTION without ### END SOLUTION.")
    return "\n".join(out)


def make_exercise(solution_path):
    """The exercise notebook (a NotebookNode) for one solution notebook."""
    nb = nbformat.read(solution_path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        cell.source = strip_solutions(cell.source, f"{solution_path.name} cell {index + 1}")
        cell.outputs = []
        cell.execution_count = None
    return nb


def render(nb):
    return nbformat.writes(nb) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale exercises")
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions")
    parser.add_argument("--exercises", type=Path, default=ROOT / "exercises")
    args = parser.parse_args(argv)
    stale = []
    solutions = sorted(args.solutions.glob("*.ipynb"))
    for solution in solutions:
        target = args.exercises / solution.name
        text = render(make_exercise(solution))
        if target.exists() and target.read_text() == text:
            continue
        stale.append(target)
        if not args.check:
            args.exercises.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".ipynb.partial")
            tmp.write_text(text)
            os.replace(tmp, target)
    orphans = sorted(set(args.exercises.glob("*.ipynb")) - {args.exercises / s.name
                                                             for s in solutions})
    if args.check:
        for path in stale:
            print(f"out of date: {path} (run python tools/make_exercises.py)")
        for path in orphans:
            print(f"no solution for: {path}")
        return 1 if stale or orphans else 0
    for path in stale:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
