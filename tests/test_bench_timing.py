"""The benchmark helpers: paired ratios and the page-fault count the reports print."""

import mmap
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import _timing  # noqa: E402

PAGE = mmap.PAGESIZE


def touch_fresh_pages(n=64):
    """Map n fresh anonymous pages and write one byte to each: n minor faults."""
    m = mmap.mmap(-1, n * PAGE)
    for i in range(n):
        m[i * PAGE] = 1
    m.close()


@pytest.mark.skipif(sys.platform == "win32", reason="page faults are counted on Unix only")
def test_compare_counts_page_faults_per_call():
    faults = {}
    samples = _timing.compare({"fresh pages": touch_fresh_pages, "nothing": lambda: None},
                              iterations=5, repeats=2, faults=faults)
    assert set(samples) == set(faults) == {"fresh pages", "nothing"}
    assert all(len(v) == 2 and min(v) > 0 for v in samples.values())
    assert faults["fresh pages"] >= 64
    assert faults["nothing"] < 8


def test_compare_reverses_the_order_every_other_block(monkeypatch):
    monkeypatch.setattr(_timing.time, "sleep", lambda seconds: None)
    calls = []
    candidates = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    _timing.compare(candidates, iterations=1, repeats=3)
    firsts = [calls[i] for i in range(0, len(calls), 2)]  # a warm-up call + 1 timed each
    assert firsts == list("abc") + list("cba") + list("abc")


def test_ratio_is_the_median_of_paired_block_ratios():
    samples = {"a": [2.0, 3.0, 10.0], "b": [1.0, 1.0, 1.0]}
    assert _timing.ratio(samples, "a", "b") == 3.0
    # unpaired (different block counts): ratio of medians
    assert _timing.ratio({"a": [2.0, 4.0, 6.0], "b": [2.0]}, "a", "b") == 2.0


def test_benchmark_env_unsets_the_blas_overrides_and_sets_threads_and_malloc():
    outer = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "1048576", "PATH": "/bin",
             "MALLOC_TOP_PAD_": "1"}
    env = _timing.benchmark_env(outer, 2, "default")
    assert "OPENBLAS_CORETYPE" not in env and "OPENBLAS_L2_SIZE" not in env
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == "2"
    assert not set(_timing.STEADY_MALLOC) & set(env)        # glibc's defaults
    assert outer["OPENBLAS_CORETYPE"] == "Haswell"            # the caller's env untouched
    steady = _timing.benchmark_env(outer, 1, "steady")
    assert {k: steady[k] for k in _timing.STEADY_MALLOC} == _timing.STEADY_MALLOC
    kept = _timing.benchmark_env(outer, 1, "default", keep_blas_env=True)
    assert kept["OPENBLAS_CORETYPE"] == "Haswell"


def test_the_malloc_option_is_dropped_before_the_child_gets_its_own():
    argv = ["bench.py", "--threads", "2", "--malloc", "both", "--quick", "--malloc=steady"]
    assert _timing._without_malloc_option(argv) == ["bench.py", "--threads", "2", "--quick"]


def test_the_report_names_the_blas_kernel(capsys):
    _timing.report("title", {"a": [1.0], "b": [2.0]}, "b", 1)
    out = capsys.readouterr().out
    assert "BLAS kernel: " in out and "malloc: " in out


def test_against_torch_says_met_missed_or_not_applicable(capsys):
    """The verdict line every script prints: the paired ratio to PyTorch, judged only at
    the thread count the target is set for; nothing when PyTorch was not in the run."""
    samples = {"nnlib": [1.0, 1.2, 0.9], "PyTorch 2.x CPU": [1.0, 1.0, 1.0]}
    assert _timing.against_torch(samples, 1, target=1.1) == pytest.approx(1.0)
    assert "nnlib / PyTorch CPU: 1.00x   (target at one thread: <= 1.1x, met)" \
        in capsys.readouterr().out
    assert _timing.against_torch(samples, 2, target=0.7, target_threads=2) == pytest.approx(1.0)
    assert "(target at two threads: <= 0.7x, MISSED)" in capsys.readouterr().out
    _timing.against_torch(samples, 2, target=1.1, target_threads=1)
    assert "(target at one thread: <= 1.1x, N/A)" in capsys.readouterr().out
    _timing.against_torch(samples, 1)
    assert capsys.readouterr().out.strip() == "nnlib / PyTorch CPU: 1.00x"
    assert _timing.against_torch({"nnlib": [1.0]}, 1, target=1.1) is None
    assert capsys.readouterr().out == ""
