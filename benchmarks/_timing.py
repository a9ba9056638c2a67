"""Timing helpers shared by the benchmarks: the environment they run in, thread
pinning, alternating blocks, medians.

Call :func:`parse_threads` BEFORE importing NumPy. It makes the benchmark run as users
run NumPy and PyTorch (benchmarks/README.md, "How they measure"):

- the BLAS/OpenMP thread count comes from ``--threads``, for every library;
- ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` are removed for the benchmark process
  only (some machines set them to pick older, safer kernels; tests and CI keep them), so
  OpenBLAS uses the CPU's own kernels; the report names the kernel in use;
- with ``--malloc both`` (the default) the benchmark runs twice, in two processes:
  once with glibc's default allocator settings and once in PyTorch's *steady* mode,
  where :data:`STEADY_MALLOC` keeps freed memory mapped, so fresh temporaries stop
  page-faulting. glibc reads these variables when the process starts, hence the two
  processes.

Absolute times drift by up to 50% between runs on shared machines; ratios hold within
about 10%, so the benchmarks report ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

#: Variables that select OpenBLAS kernels by hand; unset for the benchmark process.
BLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
#: glibc allocator settings of PyTorch's steady mode (freed memory stays mapped).
STEADY_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "268435456", "MALLOC_TRIM_THRESHOLD_": "536870912",
                 "MALLOC_TOP_PAD_": "268435456"}
_CHILD = "NNLIB_BENCH_MALLOC"  # set in the processes this module starts


def benchmark_env(environ, threads, malloc, keep_blas_env=False):
    """The environment a benchmark process runs in (a new dict; ``environ`` untouched)."""
    env = dict(environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    if not keep_blas_env:
        for var in BLAS_OVERRIDES:
            env.pop(var, None)
    for var in STEADY_MALLOC:
        env.pop(var, None)
    if malloc == "steady":
        env.update(STEADY_MALLOC)
    env[_CHILD] = malloc
    return env


def _without_malloc_option(argv):
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--malloc":
            skip = True
        elif not a.startswith("--malloc="):
            out.append(a)
    return out


def parse_threads(description, default_malloc="both"):
    """Parse the common options and put this process in the benchmark's environment.

    With ``--malloc both`` this runs the script twice (default, then steady malloc) in
    child processes and exits with their status; otherwise it re-executes the script
    once in the right environment (unless it already runs in it) and returns the
    parsed arguments.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS/OpenMP threads for every library (default 1)")
    parser.add_argument("--repeats", type=int, default=7, help="alternating blocks")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke test)")
    parser.add_argument("--malloc", choices=("both", "default", "steady"), default=default_malloc,
                        help="glibc allocator settings: default, PyTorch's steady mode, or "
                             "both in turn (default)")
    parser.add_argument("--keep-blas-env", action="store_true",
                        help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (the kernels that "
                             "tests and CI use)")
    args = parser.parse_args()
    args.blas_overrides = {v: os.environ[v] for v in BLAS_OVERRIDES if v in os.environ}
    if os.environ.get(_CHILD) is None or os.environ[_CHILD] != args.malloc:
        modes = ("default", "steady") if args.malloc == "both" else (args.malloc,)
        status = 0
        for mode in modes:
            argv = _without_malloc_option(sys.argv)
            env = benchmark_env(os.environ, args.threads, mode, args.keep_blas_env)
            if args.blas_overrides and not args.keep_blas_env:
                env["NNLIB_BENCH_UNSET"] = ",".join(f"{k}={v}" for k, v in
                                                    args.blas_overrides.items())
            status = status or subprocess.call(
                [sys.executable, *argv, "--malloc", mode], env=env)
        sys.exit(status)
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
    a short pause between libraries (spinning BLAS threads slow the next one), every
    other block in reverse order.

    Returns ``{name: [seconds per call, one per block]}``. When ``faults`` is a dict it
    receives ``{name: minor page faults per call}`` (median over blocks; Unix only): a
    library whose temporaries are fresh pages every call pays for it in time, and that
    cost comes and goes with the state of the C allocator (see benchmarks/README.md).
    """
    samples = {name: [] for name in candidates}
    counts = {name: [] for name in candidates}
    for block in range(repeats):
        # Every other block in reverse order: where a candidate stands in the round moved
        # its time by 4-6% here (same code on both sides), and this evens it out.
        order = list(candidates.items())
        for name, fn in order[::-1] if block % 2 else order:
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


def blas_kernel():
    """(library, version, kernel) of NumPy's BLAS, e.g. ("openblas", "0.3.31",
    "SkylakeX"), from threadpoolctl; None when it is not installed."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    # NumPy's BLAS (SciPy may load a second OpenBLAS; the order varies between runs)
    blases = [i for i in threadpool_info() if i["user_api"] == "blas"]
    info = next((i for i in blases if "numpy" in i["filepath"]), None) or next(
        iter(blases), None)
    if not info:
        return None
    return info["internal_api"], info["version"], info.get("architecture")


def environment_line():
    """The BLAS kernel in use and the allocator mode, as the report's second line."""
    kernel = blas_kernel()
    blas = f"BLAS kernel: {kernel[2]} ({kernel[0]} {kernel[1]})" if kernel else \
        "BLAS kernel: unknown (pip install threadpoolctl to see it)"
    unset = os.environ.get("NNLIB_BENCH_UNSET")
    blas += f", {unset} unset for this benchmark" if unset else ""
    mode = os.environ.get(_CHILD, "default")
    malloc = ("malloc: steady (" + " ".join(f"{k}={v}" for k, v in STEADY_MALLOC.items()) + ")"
              if mode == "steady" else "malloc: glibc default")
    return f"{blas}; {malloc}"


def machine_line(threads):
    import numpy as np

    kernel = blas_kernel()
    blas = f"{kernel[0]} {kernel[1]} ({kernel[2]})" if kernel else "unknown BLAS"
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
            f"NumPy {np.__version__} with {blas}, {threads} thread(s)")


def report(title, samples, baseline, threads, faults=None):
    """Median time per candidate and its paired ratio to ``baseline``; with ``faults``
    (from :func:`compare`), the minor page faults per call too."""
    print(f"\n{title}\n  {machine_line(threads)}\n  {environment_line()}")
    for name, values in samples.items():
        line = (f"  {name:<28} {statistics.median(values) * 1e3:9.3f} ms   "
                f"{ratio(samples, name, baseline):5.2f}x {baseline}")
        if faults and name in faults:
            line += f"   {faults[name]:6.0f} page faults/call"
        print(line)


THREAD_WORDS = {1: "one thread", 2: "two threads"}


def against_torch(samples, threads, target=None, target_threads=1, name="nnlib"):
    """Print ``name / PyTorch: 0.93x`` and return the ratio; with a ``target`` (the
    largest ratio an issue allows) add "met" or "MISSED" when the run has the thread
    count the target is set for, "N/A" otherwise. Returns None, printing nothing, when
    PyTorch was not among the candidates (the script says how to install it once)."""
    torch_name = next((k for k in samples if k.startswith("PyTorch")), None)
    if torch_name is None:
        return None
    value = ratio(samples, name, torch_name)
    goal = ""
    if target is not None:
        verdict = ("met" if value <= target else "MISSED") if threads == target_threads \
            else "N/A"
        where = THREAD_WORDS.get(target_threads, f"{target_threads} threads")
        goal = f"   (target at {where}: <= {target}x, {verdict})"
    print(f"  {name} / PyTorch CPU: {value:.2f}x{goal}")
    return value

