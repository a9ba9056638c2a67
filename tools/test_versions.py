"""Run the unit tests under every supported Python found on this machine (`make test-versions`).

The supported versions are the "Programming Language :: Python :: 3.X" classifiers of
pyproject.toml. For each one the first working interpreter is taken from

1. ``$PYTHONS`` if set (a space-separated list of interpreters: only those are used);
2. ``python3.X`` on ``PATH`` (a pyenv shim for a version that is not active is skipped);
3. installs of pyenv (``$PYENV_ROOT``, default ~/.pyenv), uv and asdf.

Each version gets its own virtual environment ``.venvs/3.X`` with the test extras, installed
again only when pyproject.toml changed (a stamp file named by its hash, as in the Makefile);
the version ``.venv`` was made with reuses ``.venv`` once ``make test`` installed it.
A version not found is reported, not failed; a failed install or test run fails.

    python tools/test_versions.py [--skip-venv-version] [-- PYTEST ARGS]

Standard library only, runs on every supported Python.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
DEFAULT_PYTEST_ARGS = ["-p", "no:nbval", "-m", "not ui and not slow and not views", "tests"]

# Prints the version and the real interpreter path; fails when venv or ensurepip is missing
# (Debian's python3.X without python3.X-venv), since such a Python cannot make a venv.
PROBE = ("import sys, venv, ensurepip; "
         "print('%d.%d.%d' % sys.version_info[:3]); print(sys.executable)")

PIP_RECENT = "import pip, sys; sys.exit(int(pip.__version__.split('.')[0]) < 22)"


def supported_versions(pyproject_text):
    """['3.10', '3.11', ...] from the trove classifiers, oldest first."""
    found = set(re.findall(r'"Programming Language :: Python :: (3\.\d+)"', pyproject_text))
    return sorted(found, key=lambda v: int(v.split(".")[1]))


def pyproject_hash():
    return hashlib.sha256(PYPROJECT.read_bytes()).hexdigest()[:12]


def _patch_key(path):
    """Sort installs like 3.12.10 after 3.12.9 (newest first when reversed)."""
    return [int(n) for n in re.findall(r"\d+", path.parent.parent.name)]


def candidates(version, *, path=None, home=None, pyenv_root=None):
    """Interpreter paths that may be Python ``version`` ('3.12'), most preferred first."""
    home = Path(home or Path.home())
    which = shutil.which(f"python{version}", path=path)
    if which:
        yield Path(which)
    managed = [
        Path(pyenv_root or os.environ.get("PYENV_ROOT") or home / ".pyenv") / "versions",
        home / ".local" / "share" / "uv" / "python",
        home / ".asdf" / "installs" / "python",
    ]
    for folder in managed:
        found = [exe for pattern in (f"{version}.*", f"cpython-{version}.*")
                 for exe in folder.glob(f"{pattern}/bin/python{version}")]
        yield from sorted(found, key=_patch_key, reverse=True)


def probe(exe):
    """``(full version, real interpreter path)`` or None when ``exe`` does not run or cannot
    make a venv."""
    try:
        result = subprocess.run([str(exe), "-c", PROBE], capture_output=True, text=True,
                                timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = result.stdout.split()
    return (lines[0], lines[1]) if result.returncode == 0 and len(lines) == 2 else None


def find_pythons(versions, *, explicit=None, **where):
    """``{version: (full version, interpreter)}`` for each version found; the rest missing."""
    found = {}
    for version in versions:
        options = explicit if explicit is not None else candidates(version, **where)
        for exe in options:
            info = probe(exe)
            if info and info[0].rsplit(".", 1)[0] == version:
                found[version] = info
                break
    return found


def _run(cmd, **kwargs):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, **kwargs).returncode == 0


def _pip_works(python):
    return python.exists() and subprocess.run([str(python), "-m", "pip", "--version"],
                                              capture_output=True).returncode == 0


def prepare_venv(version, interpreter, stamp_hash):
    """The Python of ``.venvs/<version>`` with the test extras installed, or None."""
    venv = ROOT / ".venvs" / version
    python = venv / "bin" / "python"
    info = probe(python) if _pip_works(python) else None
    if not (info and info[0].startswith(version + ".")):
        shutil.rmtree(venv, ignore_errors=True)  # missing, half-made or from a removed Python
        if not _run([interpreter, "-m", "venv", venv]) or not _pip_works(python):
            shutil.rmtree(venv, ignore_errors=True)
            return None
    stamp = venv / f".installed-test-{stamp_hash}"
    if not stamp.exists():
        print(f"installing the test extras into {venv.relative_to(ROOT)} "
              f"(new, or pyproject.toml changed) ...", flush=True)
        for old in venv.glob(".installed-test-*"):
            old.unlink()
        # the pip that ensurepip brings is upgraded only if too old for editable installs
        if not _run([python, "-c", PIP_RECENT], capture_output=True) and not _run(
                [python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"]):
            return None
        if not _run([python, "-m", "pip", "install", "--quiet", "-e", ".[test]"]):
            return None
        stamp.touch()
    return python


def dot_venv_python(version, stamp_hash):
    """``.venv``'s Python when it is ``version`` and ``make test`` installed it, else None."""
    python = ROOT / ".venv" / "bin" / "python"
    if not (ROOT / ".venv" / f".installed-test-{stamp_hash}").exists():
        return None
    info = probe(python)
    return python if info and info[0].startswith(version + ".") else None


def run_pytest(python, args):
    """Run pytest, echoing its output; return (ok, closing summary counts)."""
    print("+", python, "-m pytest", " ".join(args), flush=True)
    with subprocess.Popen([str(python), "-m", "pytest", *args], cwd=ROOT, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
        last = ""
        for line in proc.stdout:
            print(line, end="", flush=True)
            if re.search(r"\d+ (passed|failed)", line):
                last = line
    counts = {kind: int(n) for n, kind in
              re.findall(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)", last)}
    return proc.returncode == 0, counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-venv-version", action="store_true",
                        help="skip the version .venv uses (make test has just tested it)")
    parser.add_argument("pytest_args", nargs="*", help="after --: pytest arguments "
                        f"(default: {' '.join(DEFAULT_PYTEST_ARGS)})")
    args = parser.parse_args(argv)
    pytest_args = args.pytest_args or DEFAULT_PYTEST_ARGS
    versions = supported_versions(PYPROJECT.read_text())
    explicit = os.environ.get("PYTHONS", "").split() or None
    found = find_pythons(versions, explicit=explicit)
    stamp_hash = pyproject_hash()
    rows, totals, ok = [], {}, True
    for version in versions:
        if version not in found:
            rows.append((version, "not found", "-", ""))
            continue
        full, interpreter = found[version]
        start = time.monotonic()
        reuse = dot_venv_python(version, stamp_hash)
        if reuse and args.skip_venv_version:
            rows.append((full, "skipped: make test ran the unit tests in .venv", "-", ""))
            continue
        print(f"\n===== Python {full} ({interpreter}) =====", flush=True)
        python = reuse or prepare_venv(version, interpreter, stamp_hash)
        setup = time.monotonic() - start
        if python is None:
            ok = False
            rows.append((full, "FAILED to create or install its venv", "-", interpreter))
            continue
        passed, counts = run_pytest(python, pytest_args)
        ok &= passed
        for kind, n in counts.items():
            totals[kind] = totals.get(kind, 0) + n
        summary = ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "no summary"
        rows.append((full, ("" if passed else "FAILED: ") + summary,
                     f"{setup:.0f} + {time.monotonic() - start - setup:.0f} s",
                     ".venv (installed by make test)" if reuse else interpreter))
    print("\n===== test-versions: the unit tests under each supported Python =====")
    print(f"  {'Python':<15} {'result':<48} {'venv + tests':>12}  interpreter")
    for full, result, seconds, where in rows:
        print(f"  Python {full:<8} {result:<48} {seconds:>12}  {where}")
    missing = [v for v in versions if v not in found]
    if missing:
        print(f"  not found here: {', '.join(missing)} (install e.g. with pyenv or uv, or "
              f"name interpreters in PYTHONS=...)")
    if not found:
        print("test-versions: no supported Python found")
        return 1
    failed = totals.get("failed", 0) + totals.get("error", 0) + totals.get("errors", 0)
    print(f"test-versions: {totals.get('passed', 0)} passed, {failed} failed, "
          f"{totals.get('skipped', 0)} skipped")
    if not ok:
        print("test-versions: FAILED (see the table above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
