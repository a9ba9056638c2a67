"""The progress record loses nothing (concurrent kernels, corrupt files, folders) and
progress() groups by chapter, marking chapters without a notebook as coming."""

import json
import multiprocessing
import sys
from pathlib import Path

import pytest

from nnlib.checks import EXERCISES, progress
from nnlib.checks.core import CheckResult
from nnlib.checks.progress import load_record, record


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


def test_progress_groups_by_chapter_and_marks_missing_notebooks_as_coming(tmp_path,
                                                                        monkeypatch):
    course = _course(tmp_path, "03_activations.ipynb", "05_softmax_cross_entropy.ipynb")
    monkeypatch.chdir(course)
    monkeypatch.delenv("NNLIB_PROGRESS", raising=False)
    record(CheckResult("activations.relu", "passed"))
    record(CheckResult("softmax.softmax", "failed"))
    table = progress()
    assert (course / "nnlib_progress.json").exists()
    assert str(course / "nnlib_progress.json") in table
    lines = {line.split()[0]: line for line in table.splitlines()[1:] if line.strip()}
    assert "1/8" in lines["03_activations"] and "✓ relu" in lines["03_activations"]
    assert "0/3" in lines["05_softmax_cross_entropy"] and "✗ softmax" in table
    assert "coming" in lines["04_losses"] and "not attempted" not in lines["04_losses"]
    assert "coming" in lines["09_convolution"]
    assert table.chapters["04_losses"]["coming"] and not table.chapters["03_activations"]["coming"]
    coming = len({e.chapter for e in EXERCISES.values()}) - 2   # all but 03 and 05
    assert f"1 passed, 1 failed, 9 not attempted; {coming} chapters coming" in table
    chapters = [line.split()[0] for line in table.splitlines()[1:12]]
    assert chapters == sorted(chapters)


def test_progress_without_a_course_folder_marks_nothing_coming(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    table = progress(Path(tmp_path) / "p.json")
    assert "coming" not in table
    assert f"0 passed, 0 failed, {len(EXERCISES)} not attempted" in table
