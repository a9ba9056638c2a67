"""Meta-tests of the checker's limits: learner code cannot escape the time limit, end the
caller, or change the checker; environment settings are validated."""

import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest

import nnlib.checks.core as core
from nnlib.checks import CheckerSettingWarning, ExerciseFailed, check
from nnlib.checks.core import run_check, strict, time_limit


@pytest.fixture
def one_second(monkeypatch):
    monkeypatch.setenv("NNLIB_CHECK_TIMEOUT", "1")


def _loop_catching_everything(x):
    while True:
        try:
            while True:
                pass
        except Exception:
            pass


def _loop_catching_base_exceptions(x):
    while True:
        try:  # noqa: SIM105 - the point: a learner's bare catch-all
            time.sleep(0.01)
        except BaseException:
            pass


def _long_c_call(x):
    return sum(range(10 ** 12))


def _waits_on_a_worker_thread(x):
    worker = threading.Thread(target=lambda: [0 for _ in iter(int, 1)])
    worker.start()
    worker.join()


RUNAWAY = {"except Exception": _loop_catching_everything,
           "except BaseException": _loop_catching_base_exceptions,
           "one long C-level call": _long_c_call,
           "a worker thread": _waits_on_a_worker_thread}


@pytest.mark.parametrize("how", RUNAWAY)
def test_the_time_limit_holds(how, one_second):
    start = time.monotonic()
    result = run_check("activations.relu", RUNAWAY[how])
    assert result.status == "failed" and "stopped after 1 s" in result.message
    assert "input: x = [[-3." in result.message
    assert time.monotonic() - start < 8


def test_the_time_limit_holds_when_check_runs_in_a_worker_thread(one_second):
    box = {}
    worker = threading.Thread(target=lambda: box.update(
        result=run_check("activations.relu", _loop_catching_everything)))
    worker.start()
    worker.join(10)
    assert not worker.is_alive() and "stopped after 1 s" in box["result"].message


@pytest.mark.parametrize("how", ["except Exception", "except BaseException"])
def test_the_thread_fallback_also_stops_python_loops(how, one_second, monkeypatch):
    monkeypatch.setenv("NNLIB_CHECK_ISOLATION", "thread")
    result = run_check("activations.relu", RUNAWAY[how])
    assert result.status == "failed" and "stopped after 1 s" in result.message


def test_sys_exit_is_a_failed_check_and_strict_mode_raises(monkeypatch):
    def leaves(x):
        sys.exit(0)

    result = run_check("activations.relu", leaves)
    assert result.status == "failed" and "called sys.exit()" in result.message
    monkeypatch.setenv("NNLIB_STRICT", "1")
    with pytest.raises(ExerciseFailed, match="sys.exit"):
        check("activations.relu", leaves)


def test_sys_exit_under_strict_does_not_end_a_script_with_success(tmp_path):
    script = tmp_path / "learner.py"
    script.write_text(textwrap.dedent("""
        import sys
        from nnlib.checks import check

        def relu(x):
            sys.exit(0)

        check("activations.relu", relu)
        print("after the check")
    """))
    env = {**os.environ, "NNLIB_STRICT": "1", "NNLIB_PROGRESS": str(tmp_path / "p.json")}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode != 0
    assert "called sys.exit()" in out.stdout and "after the check" not in out.stdout


def test_a_function_that_ends_or_crashes_the_process_gets_a_verdict():
    def hard_exit(x):
        import os
        os._exit(3)

    def crash(x):
        import ctypes
        return ctypes.string_at(0)

    message = run_check("activations.relu", hard_exit).message
    assert "ended the Python process" in message and "exit" in message
    assert "killed by SIGSEGV" in run_check("activations.relu", crash).message


def test_the_learners_function_cannot_change_the_checker():
    def patches_then_cheats(x):
        import nnlib.checks.core as c
        c.Tester.expect = lambda *a, **k: None
        c.run_check = None
        return x

    expect = core.Tester.expect
    result = run_check("activations.relu_grad", patches_then_cheats)
    assert result.status == "failed" and "wrong values" in result.message
    assert core.Tester.expect is expect and core.run_check is run_check


def test_input_and_display_inside_a_checked_function_get_a_verdict():
    def asks(x):
        return np.full_like(x, float(input("value? ")))

    message = run_check("activations.relu", asks).message
    assert "input() cannot be used while your function is checked" in message


@pytest.mark.parametrize("value, expected, warns", [
    ("", 10.0, False), ("2.5", 2.5, False), ("0", 10.0, True), ("-1", 10.0, True),
    ("ten", 10.0, True), ("inf", 10.0, True), ("nan", 10.0, True), ("1e9", 600.0, True)])
def test_the_timeout_setting_is_validated(value, expected, warns, monkeypatch):
    monkeypatch.setenv("NNLIB_CHECK_TIMEOUT", value)
    core._warned.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert time_limit() == expected
    assert any(issubclass(w.category, CheckerSettingWarning) and "NNLIB_CHECK_TIMEOUT" in
               str(w.message) for w in caught) == warns


@pytest.mark.parametrize("value, expected, warns", [
    ("1", True, False), ("true", True, False), ("YES", True, False), ("on", True, False),
    ("0", False, False), ("false", False, False), ("False", False, False), ("no", False, False),
    ("off", False, False), ("", False, False), ("maybe", True, True)])
def test_the_strict_setting_is_validated(value, expected, warns, monkeypatch):
    monkeypatch.setenv("NNLIB_STRICT", value)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    core._warned.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert strict() is expected
    assert any("NNLIB_STRICT" in str(w.message) for w in caught) == warns


def test_bad_settings_never_break_the_import(tmp_path):
    code = ("import warnings, numpy as np\nwarnings.simplefilter('error')\n"
            "import nnlib.checks as c\nwarnings.simplefilter('ignore')\n"
            "r = c.check('activations.relu', lambda x: np.maximum(x, 0))\nprint(r.passed)")
    env = {**os.environ, "NNLIB_CHECK_TIMEOUT": "ten", "NNLIB_STRICT": "false",
           "NNLIB_PROGRESS": str(tmp_path / "p.json")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("True")


def test_nbgrader_execution_makes_a_failing_check_fail_its_cell(monkeypatch, tmp_path):
    monkeypatch.setenv("NNLIB_PROGRESS", str(tmp_path / "p.json"))
    monkeypatch.delenv("NNLIB_STRICT", raising=False)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")

    def stub(x):
        raise NotImplementedError

    with pytest.raises(ExerciseFailed, match="not attempted"):
        check("activations.relu", stub)
    assert check("activations.relu", lambda x: np.maximum(x, 0)).passed


def test_unknown_ids_and_swapped_arguments_get_a_verdict(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("NNLIB_PROGRESS", str(tmp_path / "p.json"))
    monkeypatch.delenv("NNLIB_STRICT", raising=False)
    assert check("activation.relu", np.abs).status == "failed"
    assert "Did you mean 'activations.relu'?" in capsys.readouterr().out
    assert check(np.abs, "activations.relu").status == "failed"
    assert "takes the id first" in capsys.readouterr().out


def test_a_zero_timeout_does_not_switch_the_limit_off(monkeypatch):
    monkeypatch.setattr(core, "DEFAULT_TIME_LIMIT", 1.0)
    monkeypatch.setenv("NNLIB_CHECK_TIMEOUT", "0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CheckerSettingWarning)
        result = run_check("activations.relu", _loop_catching_everything)
    assert result.status == "failed" and "stopped after 1 s" in result.message
