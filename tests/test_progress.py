"""The progress record loses nothing (concurrent kernels, corrupt files, folders) and
progress() lists every exercise of every chapter, saying which notebooks are missing."""

import json
import multiprocessing
import sys
from pathlib import Path

import pytest

import nnlib.checks
from nnlib.checks import EXERCISES, progress
from nnlib.checks.core import CheckResult
from nnlib.checks.progress import load_record, record
from nnlib.utils import Text


def _writer(path, who, n):
    for i in range(n):
        record(CheckResult(f"{who}.exercise{i}", "passed"), path)


def test_concurrent_kernels_lose_no_entry(tmp_path):
    path = tmp_path / "nnlib_progress.json"
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux")
                                          else "spawn")
    writers = [context.Process(target=_writer, args=(path, f"k{k}", 100)) for k in range(4)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(300)
    assert all(w.exitcode == 0 for w in writers)
    data = load_record(path)
    assert len(data) == 400 and all(v["status"] == "passed" for v in data.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nnlib_progress.json"]


@pytest.mark.parametrize("content", ["{not json", "[1, 2, 3]", '"a string"', "\x00\x01binary"])
def test_a_corrupt_record_is_kept_aside_with_a_warning(tmp_path, capsys, content):
    path = tmp_path / "nnlib_progress.json"
    path.write_text(content)
    assert "could not be read" in progress(path)
    record(CheckResult("activations.relu", "passed"), path)
    out = capsys.readouterr().out
    assert "could not be read" in out and "kept as nnlib_progress.json.corrupt-" in out
    aside = list(tmp_path.glob("nnlib_progress.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == content
    assert load_record(path) == {"activations.relu": load_record(path)["activations.relu"]}


def test_a_folder_as_the_record_path_leaves_nothing_behind(tmp_path, capsys):
    record(CheckResult("activations.relu", "passed"), tmp_path)
    assert "is a folder" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_entries_that_are_not_records_are_ignored_not_fatal(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"activations.relu": {"status": "passed"},
                                "bogus": 5, "x": {"status": "great"}}))
    assert list(load_record(path)) == ["activations.relu"]


def _course(tmp_path, *notebooks):
    (tmp_path / "exercises").mkdir()
    for name in notebooks:
        (tmp_path / "exercises" / name).write_text("{}")
    return tmp_path


def _rows(table):
    """{chapter: row} of the table's body (between its rules)."""
    lines = table.splitlines()
    rules = [i for i, line in enumerate(lines) if set(line) == {"-"}]
    return {line.split()[0]: line for line in lines[rules[1] + 1:rules[2]]}


def test_progress_lists_every_exercise_and_says_which_notebooks_are_missing(tmp_path,
                                                                           monkeypatch):
    course = _course(tmp_path, "03_activations.ipynb", "05_softmax_cross_entropy.ipynb")
    monkeypatch.chdir(course)
    monkeypatch.delenv("NNLIB_PROGRESS", raising=False)
    record(CheckResult("activations.relu", "passed"))
    record(CheckResult("softmax.softmax", "failed"))
    table = progress()
    assert (course / "nnlib_progress.json").exists()
    assert str(course / "nnlib_progress.json") in table
    rows = _rows(table)
    assert "1/8" in rows["03_activations"] and "✓ relu " in rows["03_activations"]
    assert "0/3" in rows["05_softmax_cross_entropy"] and "✗ softmax " in table
    assert "(no notebook in exercises/)" in rows["04_losses"]
    assert "· mse" in rows["04_losses"]          # its exercises are listed all the same
    assert "(no notebook in exercises/)" not in rows["03_activations"]
    assert table.chapters["04_losses"]["missing"]
    assert not table.chapters["03_activations"]["missing"]
    n = len(EXERCISES)
    assert f"1 passed, 1 failed, {n - 2} not attempted" in table
    chapters = {e.chapter for e in EXERCISES.values()}
    assert f"{len(chapters) - 2} exercise notebooks are missing from exercises/" in table
    assert "tools/make_exercises.py" in table
    assert list(rows) == sorted(chapters)
    assert "coming" not in table


def test_progress_lists_every_registered_exercise_in_a_complete_course(tmp_path,
                                                                      monkeypatch):
    """Every exercise of every chapter is a mark in the table, whatever chapters the
    checker knows (new chapters register their ids in nnlib.checks.EXERCISES)."""
    monkeypatch.chdir(tmp_path)
    table = progress(Path(tmp_path) / "p.json")
    rows = _rows(table)
    for ex in EXERCISES.values():
        assert f"· {ex.id.split('.', 1)[1]}" in rows[ex.chapter].split(None, 2)[2].split("  ")
    assert isinstance(table, Text) and repr(table) == str(table)
    assert "missing" not in table and f"0 passed, 0 failed, {len(EXERCISES)} not attempted" in table


def test_every_checker_module_is_registered_and_every_exercise_notebook_has_a_chapter():
    """A new ex_*.py module must be imported by nnlib.checks, or progress() and check()
    would not know its exercises."""
    folder = Path(nnlib.checks.__file__).parent
    for module in sorted(folder.glob("ex_*.py")):
        assert f"nnlib.checks.{module.stem}" in sys.modules, (
            f"{module.name} is not imported in nnlib/checks/__init__.py")
    root = Path(__file__).resolve().parents[1]
    prefixes = {e.chapter.split("_", 1)[0] for e in EXERCISES.values()}
    for notebook in sorted((root / "exercises").glob("*.ipynb")):
        assert notebook.name.split("_", 1)[0] in prefixes, notebook.name
