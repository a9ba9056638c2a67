"""Solution markers and the nbgrader cell metadata made from them.

A solution notebook holds its answers between ``### BEGIN SOLUTION <prompt>`` and
``### END SOLUTION`` (nbgrader's markers). :func:`strip_solutions` turns each region into
one ``raise NotImplementedError("Your code here: <prompt>")`` at the marker's indentation
(``tools/make_exercises.py`` writes ``exercises/`` so; the nbgrader preprocessor in
:mod:`nnlib.checks.nbgrader` releases notebooks so). :func:`stamp` gives a notebook the
cell metadata nbgrader needs -- solution cells with a ``grade_id``, and every
``check(...)`` cell an autograded, locked test cell with points -- derived from the
markers alone, so it can be re-applied after any edit and gives the same result twice.
"""

from __future__ import annotations

import copy
import re

BEGIN = re.compile(r"^(?P<indent>\s*)### BEGIN SOLUTION\s*(?P<prompt>.*)$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
DEFAULT_PROMPT = "replace this line with your code"
CHECK_CALL = re.compile(r"""(?<!def )(?<![\w.])check\(\s*["']([\w.]+)["']""")
DEF = re.compile(r"^\s*def\s+(\w+)\s*\(", re.M)
SCHEMA_VERSION = 3


def strip_solutions(source, where="cell"):
    """Replace every solution region of a cell's source; raise on unbalanced markers."""
    out, inside = [], False
    for number, line in enumerate(source.splitlines(), start=1):
        begin = BEGIN.match(line)
        if begin and not inside:
            inside = True
            prompt = begin["prompt"].strip() or DEFAULT_PROMPT
            prompt = prompt.replace("\\", "\\\\").replace('"', '\\"')
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


def has_solution(source):
    return any(BEGIN.match(line) for line in source.splitlines())


def check_ids(source):
    """The exercise ids of the ``check("...", fn)`` calls in a cell."""
    return CHECK_CALL.findall(source)


def _unique(name, used):
    base, k = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "cell", 2
    name = base
    while name in used:
        name, k = f"{base}-{k}", k + 1
    used.add(name)
    return name


def nbgrader_metadata(nb, where="notebook"):
    """Per cell: the ``nbgrader`` metadata it should carry, or None."""
    used, out = set(), []
    for index, cell in enumerate(nb.cells):
        meta = None
        if cell.cell_type == "code":
            solution, ids = has_solution(cell.source), check_ids(cell.source)
            if solution and ids:
                raise ValueError(
                    f"{where} cell {index + 1}: a solution region and a check(...) call in "
                    f"one cell; split them (nbgrader grades a check only in a locked test "
                    f"cell of its own).")
            if solution:
                strip_solutions(cell.source, f"{where} cell {index + 1}")
                names = DEF.findall(cell.source)
                meta = {"grade": False, "grade_id": _unique(
                    f"solution-{names[0]}" if names else f"solution-cell-{index + 1}", used),
                    "locked": False, "schema_version": SCHEMA_VERSION, "solution": True,
                    "task": False}
            elif ids:
                old = cell.metadata.get("nbgrader", {})
                points = old.get("points") if old.get("grade") and isinstance(
                    old.get("points"), (int, float)) and old.get("points") > 0 else len(ids)
                meta = {"grade": True, "grade_id": _unique(
                    "check-" + ids[0].replace(".", "-"), used), "locked": True,
                    "points": points, "schema_version": SCHEMA_VERSION, "solution": False,
                    "task": False}
        out.append(meta)
    return out


def stamp(nb, where="notebook"):
    """A copy of ``nb`` whose cells carry exactly the nbgrader metadata of their markers
    (other cells carry none)."""
    nb = copy.deepcopy(nb)
    for cell, meta in zip(nb.cells, nbgrader_metadata(nb, where), strict=True):
        if meta is None:
            cell.metadata.pop("nbgrader", None)
        else:
            cell.metadata["nbgrader"] = meta
    return nb
