"""Grade exercise notebooks headless: ``python -m nnlib.checks grade PATH... [--json]``.

Each notebook runs top to bottom in a fresh kernel (nbclient, a time limit per cell,
errors in one cell do not stop the next), with its own progress file; the exercises of
its chapter that never reached a ``check`` count as not attempted. The exit code is 0
only if every exercise of every notebook passed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from .core import EXERCISES
from .progress import load_record


def _notebooks(paths):
    for path in map(Path, paths):
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.ipynb")
                              if ".ipynb_checkpoints" not in p.parts)
        else:
            yield path


def _chapter_ids(notebook):
    """The exercises of a notebook's chapter: 03_activations.ipynb -> activations.*"""
    prefix = notebook.stem.split("_", 1)[0]
    return [e.id for e in EXERCISES.values() if e.chapter.split("_", 1)[0] == prefix]


def grade_notebook(path, timeout=120):
    """Run one notebook; return ``{"notebook", "exercises": {id: status}, "errors"}``."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        record_path = Path(tmp) / "progress.json"
        env_before = {k: os.environ.get(k) for k in ("NNLIB_PROGRESS", "NNLIB_STRICT")}
        os.environ["NNLIB_PROGRESS"] = str(record_path)  # the kernel inherits this
        os.environ.pop("NNLIB_STRICT", None)
        try:
            client = NotebookClient(nb, timeout=timeout, allow_errors=True,
                                    kernel_name="python3",
                                    resources={"metadata": {"path": str(path.parent)}})
            client.execute()
        finally:
            for k, v in env_before.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        results = load_record(record_path)
    errors = [o.get("ename", "") + ": " + o.get("evalue", "")
              for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error" and o.get("ename") != "NotImplementedError"]
    ids = list(dict.fromkeys(_chapter_ids(path) + list(results)))
    return {"notebook": str(path),
            "exercises": {i: results.get(i, {}).get("status", "not attempted") for i in ids},
            "errors": errors}


def scorecard(reports):
    marks = {"passed": "✓", "failed": "✗", "not attempted": "·"}
    lines = []
    for report in reports:
        ex = report["exercises"]
        passed = sum(s == "passed" for s in ex.values())
        lines.append(f"{report['notebook']}: {passed}/{len(ex)} passed")
        lines += [f"  {marks[s]} {i:<36} {s}" for i, s in ex.items()]
        lines += [f"  ! cell error: {e}" for e in report["errors"]]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m nnlib.checks",
                                     description="Grade exercise notebooks headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("grade", help="execute notebooks and print a scorecard")
    grade.add_argument("paths", nargs="+", help="notebooks or folders of submissions")
    grade.add_argument("--json", action="store_true", help="machine-readable output")
    grade.add_argument("--timeout", type=int, default=120, help="seconds per cell")
    args = parser.parse_args(argv)
    notebooks = list(_notebooks(args.paths))
    if not notebooks:
        print("no notebooks found in " + ", ".join(args.paths), file=sys.stderr)
        return 2
    reports = [grade_notebook(p, args.timeout) for p in notebooks]
    print(json.dumps(reports, indent=2) if args.json else scorecard(reports))
    all_passed = all(s == "passed" for r in reports for s in r["exercises"].values())
    return 0 if all_passed else 1
