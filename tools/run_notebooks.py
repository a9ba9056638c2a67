"""Execute notebooks top to bottom in place, so chapters are committed with the outputs
of a clean run: ``python tools/run_notebooks.py chapters [more paths...]``.

Each notebook runs in a fresh kernel from its own folder; a notebook that raises is left
untouched and the script exits non-zero. The file is written atomically.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def notebooks(paths):
    for path in map(Path, paths):
        yield from sorted(path.glob("*.ipynb")) if path.is_dir() else [path]


def run(path, timeout):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    tmp = path.with_suffix(".ipynb.partial")
    nbformat.write(nb, tmp)
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="notebooks or folders of notebooks")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    failed = []
    for path in notebooks(args.paths):
        print(f"running {path} ...", flush=True)
        try:
            run(path, args.timeout)
        except Exception as e:  # report every failing notebook, then fail
            print(f"  FAILED: {type(e).__name__}: {str(e).splitlines()[-1:]}", flush=True)
            failed.append(path)
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(map(str, failed))}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
