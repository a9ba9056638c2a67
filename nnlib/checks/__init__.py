"""Auto-checked exercises: ``check("activations.relu", relu)`` and ``progress()``.

Every id of shared/EXERCISES.md has an oracle here, built from hand-made fixtures,
invariants, numerical gradients and SciPy -- never from the solution notebooks. A verdict
says what input was tried, what was expected, what came back, where and by how much it
differs, and a hint when the answer matches a known mistake. The learner's function runs
in a separate process with a hard time limit (``NNLIB_CHECK_TIMEOUT`` seconds per call,
default 10). ``NNLIB_STRICT=1`` (or nbgrader's autograde) makes a failing check raise.
Instructors: ``python -m nnlib.checks grade PATH...``.
"""

from __future__ import annotations

import contextlib

from . import (  # noqa: F401  (register oracles)
    ex_attention,
    ex_autograd,
    ex_basics,
    ex_conv,
    ex_losses,
    ex_training,
)
from .core import (
    EXERCISES,
    CheckerSettingWarning,
    CheckResult,
    ExerciseFailed,
    _unknown,
    emit,
    run_check,
    strict,
)
from .progress import progress, record

__all__ = ["check", "progress", "EXERCISES", "CheckResult", "ExerciseFailed",
           "CheckerSettingWarning"]

#: Called as ``hook(exercise_id, fn, result)`` after every check (the grader's bridge
#: uses it to find the function each exercise was checked with).
_HOOKS = []


def check(exercise_id, fn):
    """Check the learner's ``fn`` for ``exercise_id``, print the verdict, record it.

    Returns
    -------
    CheckResult with ``.passed``, ``.status``, ``.message`` and ``.reason``.

    Raises
    ------
    ExerciseFailed when strict (``NNLIB_STRICT=1``, or nbgrader's autograde) and the
    exercise does not pass.
    """
    if not isinstance(exercise_id, str) or exercise_id not in EXERCISES:
        swapped = callable(exercise_id) and isinstance(fn, str)
        result = CheckResult(str(exercise_id)[:60], "failed", "unknown exercise id", [
            "check(exercise_id, fn) takes the id first: check('activations.relu', relu)."
            if swapped else _unknown(exercise_id).split(" Valid ids")[0],
            "The ids are listed in nnlib.checks.EXERCISES."])
        emit(result)
        if strict():
            raise ExerciseFailed(result.message)
        return result
    result = run_check(exercise_id, fn)
    emit(result)
    record(result)
    for hook in list(_HOOKS):
        with contextlib.suppress(Exception):
            hook(exercise_id, fn, result)
    if strict() and not result.passed:
        raise ExerciseFailed(result.message)
    return result
