"""The progress record: every check's latest outcome, in a small JSON file.

The file is ``$NNLIB_PROGRESS`` if set, else ``nnlib_progress.json`` in the course
folder (the nearest folder above the working directory that holds ``exercises/``, or
the working directory). Writes are atomic (a temporary file, then a rename); a missing
or corrupt file is treated as empty and never breaks a check.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from .core import EXERCISES

STATUSES = ("passed", "failed", "not attempted")


def progress_path():
    if os.environ.get("NNLIB_PROGRESS"):
        return Path(os.environ["NNLIB_PROGRESS"])
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "exercises").is_dir():
            return folder / "nnlib_progress.json"
    return here / "nnlib_progress.json"


def load_record(path=None):
    """``{exercise_id: {"status": ..., "time": ...}}``; empty if missing or unreadable."""
    path = Path(path or progress_path())
    try:
        data = json.loads(path.read_text())
        return {k: v for k, v in data.items()
                if isinstance(v, dict) and v.get("status") in STATUSES}
    except (OSError, ValueError, AttributeError):
        return {}


def record(result, path=None):
    """Store ``result``'s status. Failures to write are reported, never raised."""
    path = Path(path or progress_path())
    data = load_record(path)
    data[result.exercise] = {"status": result.status, "time": time.strftime("%Y-%m-%d %H:%M")}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".nnlib_progress.", suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except OSError as e:
        print(f"(progress not saved: {e})")


class ProgressTable(str):
    """Shows as a plain table in a notebook."""

    def __repr__(self):
        return str(self)


def progress(path=None):
    """A table per chapter of passed / failed / not attempted exercises."""
    data = load_record(path)
    chapters = {}
    for ex in EXERCISES.values():
        chapters.setdefault(ex.chapter, []).append(ex.id)
    marks = {"passed": "✓", "failed": "✗", "not attempted": "·"}
    lines = []
    totals = dict.fromkeys(STATUSES, 0)
    for chapter, ids in sorted(chapters.items()):
        states = [data.get(i, {}).get("status", "not attempted") for i in ids]
        for s in states:
            totals[s] += 1
        done = states.count("passed")
        lines.append(f"{chapter:<28} {done:>2}/{len(ids):<2} "
                     + " ".join(f"{marks[s]} {i.split('.', 1)[1]}" for i, s in zip(ids, states,
                                                                                    strict=True)))
    lines.append(f"\n{totals['passed']} passed, {totals['failed']} failed, "
                 f"{totals['not attempted']} not attempted (✓ passed, ✗ failed, · not "
                 f"attempted)")
    return ProgressTable("\n".join(lines))
