"""nbgrader support: release notebooks exactly as ``exercises/`` has them.

Only nbgrader's configuration imports this module (it needs nbgrader installed). In the
course folder of nbgrader, ``nbgrader_config.py`` holds (``tools/nbgrader_config.py`` is
a copy to start from)::

    from nnlib.checks.nbgrader import configure
    configure(get_config())

``configure`` swaps nbgrader's ``ClearSolutions`` for :class:`ClearSolutions` below,
which writes the course's one-line stub (``raise NotImplementedError("Your code here:
<prompt>")``) instead of nbgrader's ``# YOUR CODE HERE``, so ``nbgrader
generate_assignment`` releases a notebook whose cells equal those of ``exercises/``.
Without it nbgrader still works, with its own stub. Autograding needs nothing more:
``check`` raises when nbgrader executes a notebook (``NBGRADER_EXECUTION``), so a failing
check fails its test cell.
"""

from __future__ import annotations

from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import ClearSolutions as _NbgraderClearSolutions

from .markers import has_solution, strip_solutions

__all__ = ["ClearSolutions", "configure"]


class ClearSolutions(_NbgraderClearSolutions):
    """nbgrader's ClearSolutions with the course's stub (the marker line's prompt kept)."""

    def _replace_solution_region(self, cell, language):
        if cell.cell_type != "code" or language != "python" or not has_solution(cell.source):
            return super()._replace_solution_region(cell, language)
        try:
            cell.source = strip_solutions(cell.source)
        except ValueError as e:
            raise RuntimeError(str(e)) from None
        return True


def configure(c):
    """Use :class:`ClearSolutions` in ``nbgrader generate_assignment``."""
    default = GenerateAssignment.class_traits()["preprocessors"].default()
    c.GenerateAssignment.preprocessors = [
        ClearSolutions if p is _NbgraderClearSolutions else p for p in default]
    return c
