"""Generate exercises/*.ipynb from solutions/*.ipynb, and stamp solutions/ for nbgrader.

In every code cell, the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
(markers included) become one ``raise NotImplementedError(...)`` at the marker's
indentation. Text after ``### BEGIN SOLUTION`` is the one-line prompt shown to the
learner. Outputs, execution counts and nbgrader metadata are cleared.

The solution notebooks get nbgrader's cell metadata from the same markers (solution
cells with a grade_id; every ``check(...)`` cell an autograded, locked test cell with
points), so ``nbgrader generate_assignment`` accepts them. Re-running gives the same
files: run it after any edit of solutions/.

    python tools/make_exercises.py            # stamp solutions/, write exercises/
    python tools/make_exercises.py --check    # exit 1 if either is out of date
    python tools/make_exercises.py --reset exercises/03_activations.ipynb
                                              # a learner's notebook back to pristine
                                              # (the old one is kept in exercises/backups/)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the nnlib of this checkout, even if not installed

from nnlib.checks.markers import DEFAULT_PROMPT, stamp, strip_solutions  # noqa: E402

__all__ = ["strip_solutions", "make_exercise", "stamp_solution", "render", "main",
           "DEFAULT_PROMPT"]


def stamp_solution(solution_path):
    """The solution notebook with its nbgrader metadata (a NotebookNode)."""
    nb = nbformat.read(solution_path, as_version=4)
    return stamp(nb, solution_path.name)


def make_exercise(solution_path):
    """The exercise notebook (a NotebookNode) for one solution notebook."""
    nb = nbformat.read(solution_path, as_version=4)
    for index, cell in enumerate(nb.cells):
        cell.metadata.pop("nbgrader", None)
        if cell.cell_type != "code":
            continue
        cell.source = strip_solutions(cell.source, f"{solution_path.name} cell {index + 1}")
        cell.outputs = []
        cell.execution_count = None
    return nb


def render(nb):
    return nbformat.writes(nb) + "\n"


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".ipynb.partial")
    tmp.write_text(text)
    os.replace(tmp, path)


def _was_run(path):
    """True if the notebook has outputs or execution counts: a learner's work."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:
        return True
    return any(c.cell_type == "code" and (c.get("outputs") or c.get("execution_count"))
               for c in nb.cells)


def _backup(path):
    backups = path.parent / "backups"
    backups.mkdir(exist_ok=True)
    target = backups / f"{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}.ipynb"
    k = 2
    while target.exists():
        target = backups / f"{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}-{k}.ipynb"
        k += 1
    shutil.copy2(path, target)
    return target


def _solution_for(name, solutions):
    """'exercises/03_activations.ipynb', '03_activations' or '03' -> the solution path."""
    stem = Path(name).name.removesuffix(".ipynb")
    matches = sorted(p for p in solutions.glob("*.ipynb")
                     if p.stem == stem or p.stem.split("_", 1)[0] == stem)
    return matches[0] if len(matches) == 1 else None


def reset(names, solutions, exercises):
    """Put learners' exercise notebooks back to their pristine state."""
    status = 0
    for name in names:
        solution = _solution_for(name, solutions)
        if solution is None:
            print(f"no solution notebook for {name!r} in {solutions} (names look like "
                  f"03_activations; with git, `git checkout -- exercises/<name>.ipynb` also "
                  f"restores a notebook)")
            status = 1
            continue
        target = exercises / solution.name
        text = render(make_exercise(solution))
        if target.exists() and target.read_text() == text:
            print(f"{target} is already pristine")
            continue
        if target.exists():
            print(f"kept your version as {_backup(target)}")
        _write(target, text)
        print(f"reset {target}")
    return status


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report what is out of date")
    parser.add_argument("--reset", nargs="+", metavar="NOTEBOOK",
                        help="reset these exercise notebooks (a path, a name or a chapter "
                             "number) to their pristine state, keeping a backup")
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions")
    parser.add_argument("--exercises", type=Path, default=ROOT / "exercises")
    args = parser.parse_args(argv)
    if args.reset:
        return reset(args.reset, args.solutions, args.exercises)
    stale, unstamped = [], []
    solutions = sorted(args.solutions.glob("*.ipynb"))
    for solution in solutions:
        try:
            stamped, text = render(stamp_solution(solution)), render(make_exercise(solution))
        except ValueError as e:
            print(f"error: {e}")
            return 1
        if nbformat.reads(stamped, as_version=4) != nbformat.read(solution, as_version=4):
            unstamped.append(solution)
            if not args.check:
                _write(solution, stamped)
        target = args.exercises / solution.name
        if target.exists() and target.read_text() == text:
            continue
        stale.append(target)
        if not args.check:
            if target.exists() and _was_run(target):
                print(f"{target} holds someone's work: kept as {_backup(target)}")
            _write(target, text)
    orphans = sorted(set(args.exercises.glob("*.ipynb")) - {args.exercises / s.name
                                                             for s in solutions})
    if args.check:
        for path in unstamped:
            print(f"not stamped for nbgrader: {path} (run python tools/make_exercises.py)")
        for path in stale:
            print(f"out of date: {path} (run python tools/make_exercises.py)")
        for path in orphans:
            print(f"no solution for: {path}")
        return 1 if stale or orphans or unstamped else 0
    for path in unstamped:
        print(f"stamped {path}")
    for path in stale:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
