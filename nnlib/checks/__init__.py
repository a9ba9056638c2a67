"""Auto-checked exercises: ``check("activations.relu", relu)`` and ``progress()``.

Every id of shared/EXERCISES.md has an oracle here, built from hand-made fixtures,
invariants, numerical gradients and SciPy -- never from the solution notebooks. A verdict
says what input was tried, what was expected, what came back, and a hint when the answer
matches a known mistake. ``NNLIB_STRICT=1`` makes a failing check raise (CI runs the
solution notebooks so). Instructors: ``python -m nnlib.checks grade PATH...``.
"""

from __future__ import annotations

from . import ex_autograd, ex_basics, ex_conv, ex_losses, ex_training  # noqa: F401  (register oracles)
from .core import EXERCISES, CheckResult, ExerciseFailed, emit, run_check, strict
from .progress import progress, record

__all__ = ["check", "progress", "EXERCISES", "CheckResult", "ExerciseFailed"]


def check(exercise_id, fn):
    """Check the learner's ``fn`` for ``exercise_id``, print the verdict, record it.

    Returns
    -------
    CheckResult with ``.passed``, ``.status`` and ``.message``.

    Raises
    ------
    KeyError for an unknown id (listing the valid ones); ExerciseFailed when
    ``NNLIB_STRICT=1`` and the exercise does not pass.
    """
    result = run_check(exercise_id, fn)
    emit(result)
    record(result)
    if strict() and not result.passed:
        raise ExerciseFailed(result.message)
    return result
