"""The progress record: every check's latest outcome, in a small JSON file.

The file is ``$NNLIB_PROGRESS`` if set, else ``nnlib_progress.json`` in the course
folder (the nearest folder above the working directory that holds ``exercises/``, or
the working directory). Git ignores it, so ``git pull`` never touches it.

Recording is safe when several kernels check at once: each update holds an exclusive
lock on the file while it reads, merges and atomically replaces it (a temporary file,
then a rename; a waiter that finds the file replaced locks the new one). A file that is
not a progress record is never overwritten: it is kept aside as
``nnlib_progress.json.corrupt-<time>`` with a warning, and a new record starts. A path
that is a folder is refused with a message and leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from pathlib import Path

from ..utils import Text, table
from .core import EXERCISES

try:
    import fcntl
except ImportError:  # Windows: a sidecar lock file with msvcrt
    fcntl = None

STATUSES = ("passed", "failed", "not attempted")
MARKS = {"passed": "✓", "failed": "✗", "not attempted": "·"}


def course_root():
    """The nearest folder above the working directory that holds ``exercises/``."""
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "exercises").is_dir():
            return folder
    return None


def progress_path():
    if os.environ.get("NNLIB_PROGRESS"):
        return Path(os.environ["NNLIB_PROGRESS"]).expanduser()
    return (course_root() or Path.cwd()) / "nnlib_progress.json"


class CorruptRecord(ValueError):
    pass


def _parse(text):
    """The record in ``text``; raises CorruptRecord if it is not one."""
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as e:
        raise CorruptRecord(f"not JSON ({e})") from None
    if not isinstance(data, dict):
        raise CorruptRecord("not a JSON object")
    return {k: v for k, v in data.items()
            if isinstance(k, str) and isinstance(v, dict) and v.get("status") in STATUSES}


def load_record(path=None):
    """``{exercise_id: {"status": ..., "time": ...}}``; empty if missing or unreadable."""
    path = Path(path or progress_path())
    try:
        return _parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, CorruptRecord):
        return {}


@contextlib.contextmanager
def _locked(path):
    """Hold an exclusive lock on ``path`` (created if missing); yields its open file."""
    if fcntl is None:
        with _sidecar_lock(path):
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            with os.fdopen(fd, "r+", encoding="utf-8") as f:
                yield f
        return
    for _ in range(100):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        f = os.fdopen(fd, "r+", encoding="utf-8")
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                same = os.fstat(f.fileno()).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                try:
                    yield f
                finally:
                    fcntl.flock(f.fileno(), fcntl.LOCK_UN)
                return
        finally:
            f.close()
        # another writer replaced the file while we waited: lock the new one
    raise OSError(f"could not lock {path}")


@contextlib.contextmanager
def _sidecar_lock(path):  # pragma: no cover - Windows only
    import msvcrt

    lock = Path(str(path) + ".lock")
    with open(lock, "a+b") as f:
        for _ in range(600):
            try:
                msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
                break
            except OSError:
                time.sleep(0.05)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)


def _write_atomic(path, data):
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".nnlib_progress.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


#: (path, text) of the last record this process wrote (the grader compares).
last_written = {}


def record(result, path=None):
    """Store ``result``'s status. Problems are reported in one line, never raised."""
    path = Path(path or progress_path())
    if path.is_dir():
        print(f"(progress not saved: {path} is a folder; set NNLIB_PROGRESS to a file such "
              f"as {path / 'nnlib_progress.json'})")
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path) as f:
            try:
                data = _parse(f.read())
            except (CorruptRecord, UnicodeDecodeError) as e:
                aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}"
                                       f"-{os.getpid()}")
                os.replace(path, aside)
                print(f"(your progress file {path} could not be read: {e}. It is kept as "
                      f"{aside.name}; a new record starts.)")
                data = {}
            data[result.exercise] = {"status": result.status,
                                     "time": time.strftime("%Y-%m-%d %H:%M")}
            _write_atomic(path, data)
            last_written[str(path)] = json.dumps(data, indent=1, sort_keys=True)
    except OSError as e:
        print(f"(progress not saved: {e})")


def _available_chapters(root):
    """Chapter number prefixes ('03') that have an exercise notebook; None if unknown."""
    if root is None:
        return None
    return {p.name.split("_", 1)[0] for p in (root / "exercises").glob("*.ipynb")}


def progress(path=None):
    """Where you stand: a table of every exercise of every chapter, ✓ passed, ✗ failed,
    · not attempted.

    The chapters and their exercises are those registered in
    :data:`nnlib.checks.EXERCISES`, so a chapter's exercises appear as soon as its checker
    module is imported. A chapter whose notebook is missing from ``exercises/`` (deleted,
    or a partial copy of the course) says how to write it again.

    Returns
    -------
    Text (shows as a table in a notebook) with ``.chapters``:
    ``{chapter: {"missing": bool, exercise_id: status, ...}}``
    """
    path = Path(path or progress_path())
    data = load_record(path)
    unreadable = path.exists() and not data and path.is_file() and path.stat().st_size > 0
    available = _available_chapters(course_root())
    chapters = {}
    for ex in EXERCISES.values():
        chapters.setdefault(ex.chapter, []).append(ex.id)
    totals = dict.fromkeys(STATUSES, 0)
    rows, missing, info = [("chapter", "passed", "exercises")], [], {}
    for chapter, ids in sorted(chapters.items()):
        states = [data.get(i, {}).get("status", "not attempted") for i in ids]
        exists = available is None or chapter.split("_", 1)[0] in available
        info[chapter] = {"missing": not exists, **dict(zip(ids, states, strict=True))}
        for s in states:
            totals[s] += 1
        marks = "  ".join(f"{MARKS[s]} {i.split('.', 1)[1]}" for i, s in zip(ids, states,
                                                                             strict=True))
        if not exists:
            missing.append(chapter)
            marks += "  (no notebook in exercises/)"
        rows.append((chapter, f"{states.count('passed')}/{len(ids)}", marks))
    footer = [f"{totals['passed']} passed, {totals['failed']} failed, "
              f"{totals['not attempted']} not attempted (✓ passed, ✗ failed, · not attempted)"]
    if missing:
        footer.append(f"{len(missing)} exercise notebooks are missing from exercises/: "
                      "python tools/make_exercises.py writes them again.")
    if unreadable:
        footer.append("(the progress file could not be read; the next check keeps it aside "
                      "and starts a new one)")
    text = table(rows, title=f"Progress ({path}):", footer="\n".join(footer), right=(1,))
    return ProgressTable(text, info)


class ProgressTable(Text):
    """The table :func:`progress` returns: a :class:`nnlib.utils.Text` that a notebook
    shows as itself, with the data in ``.chapters``."""

    def __new__(cls, text, chapters):
        self = super().__new__(cls, text)
        self.chapters = chapters
        return self
