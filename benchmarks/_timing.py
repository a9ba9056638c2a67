"""Timing helpers shared by the benchmarks: thread pinning, alternating blocks, medians.

Import this module BEFORE NumPy: it sets the BLAS/OpenMP thread count from ``--threads``.
Absolute times drift by up to 50% between runs on shared machines; ratios hold within
about 10%, so the benchmarks report ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time


def parse_threads(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS/OpenMP threads for every library (default 1)")
    parser.add_argument("--repeats", type=int, default=7, help="alternating blocks")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke test)")
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    return args


def load_torch(threads):
    """PyTorch when importable (never a dependency), pinned to ``threads``; else None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def time_block(fn, iterations):
    """Seconds per call of ``fn`` over one block of ``iterations`` calls."""
    fn()  # warm-up: first-call allocations and lazy initialisation
    start = time.perf_counter()
    for _ in range(iterations):
        fn()
    return (time.perf_counter() - start) / iterations


def compare(candidates, iterations, repeats, faults=None):
    """Seconds per call of each candidate in ``repeats`` blocks, timed in alternation with
    a short pause between libraries (spinning BLAS threads slow the next one).

    Returns ``{name: [seconds per call, one per block]}``. When ``faults`` is a dict it
    receives ``{name: minor page faults per call}`` (median over blocks; Unix only): a
    library whose temporaries are fresh pages every call pays for it in time, and that
    cost comes and goes with the state of the C allocator (see benchmarks/README.md).
    """
    samples = {name: [] for name in candidates}
    counts = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            time.sleep(0.2)
            before = _minor_faults()
            samples[name].append(time_block(fn, iterations))
            if before is not None:  # per call, the warm-up call included
                counts[name].append((_minor_faults() - before) / (iterations + 1))
    if faults is not None and all(counts.values()):  # counted (not on Windows)
        faults.update({name: statistics.median(c) for name, c in counts.items()})
    return samples


def _minor_faults():
    try:
        import resource
    except ImportError:  # Windows: not counted
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def ratio(samples, name, baseline):
    """How many times slower ``name`` is than ``baseline``: the median of the ratios of
    blocks timed side by side (a slow spell of a shared machine hits both blocks of a
    pair), or the ratio of medians when the two were not timed in pairs."""
    a, b = samples[name], samples[baseline]
    if len(a) == len(b):
        return statistics.median(x / y for x, y in zip(a, b, strict=True))
    return statistics.median(a) / statistics.median(b)


def machine_line(threads):
    import numpy as np

    blas = "unknown BLAS"
    try:
        from threadpoolctl import threadpool_info

        # NumPy's BLAS (SciPy may load a second OpenBLAS; the order varies between runs)
        blases = [i for i in threadpool_info() if i["user_api"] == "blas"]
        info = next((i for i in blases if "numpy" in i["filepath"]), None) or next(
            iter(blases), None)
        if info:
            blas = f"{info['internal_api']} {info['version']} ({info.get('architecture')})"
    except ImportError:
        pass
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
            f"NumPy {np.__version__} with {blas}, {threads} thread(s)")


def report(title, samples, baseline, threads, faults=None):
    """Median time per candidate and its paired ratio to ``baseline``; with ``faults``
    (from :func:`compare`), the minor page faults per call too."""
    print(f"\n{title}\n  {machine_line(threads)}")
    for name, values in samples.items():
        line = (f"  {name:<28} {statistics.median(values) * 1e3:9.3f} ms   "
                f"{ratio(samples, name, baseline):5.2f}x {baseline}")
        if faults and name in faults:
            line += f"   {faults[name]:6.0f} page faults/call"
        print(line)
