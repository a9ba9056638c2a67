"""The live dashboard's cost: a short training run with and without it, in widget mode
(what a notebook pays: PNG renders into an ipywidgets.Image; no browser needed).

    python benchmarks/bench_dashboard.py

Target (issue 5): an epoch at most 10% slower with the dashboard.
"""

import statistics
import time

from _timing import parse_threads

args = parse_threads(__doc__, default_malloc="default")


import nnlib as nl  # noqa: E402
from nnlib import viz  # noqa: E402


def run(dashboard, epochs=40):
    x, y = nl.data.spirals(10000, 3, rng=0)
    model = nl.Sequential(nl.Dense(2, 128, rng=0), nl.ReLU(), nl.Dense(128, 128, rng=1),
                          nl.ReLU(), nl.Dense(128, 3, rng=2))
    board = viz.LiveDashboard(mode="widget") if dashboard else None

    def train():
        start = time.perf_counter()
        model.fit(x, y, loss="cross_entropy", optimizer=nl.SGD(model.parameters(), lr=0.05),
                  epochs=epochs, batch_size=64, seed=0, verbose=False,
                  callbacks=[board] if board else [])
        return time.perf_counter() - start, board

    return train


def main():
    without, with_board = run(False), run(True)
    plain, total, final, redraws = [], [], [], []
    for _ in range(3 if args.quick else 5):
        plain.append(without()[0])
        time.sleep(0.2)
        seconds, board = with_board()
        total.append(seconds)
        final.append(board.final_draw_seconds)
        redraws.append(board.redraws)
    base, med_total, med_final = (statistics.median(v) for v in (plain, total, final))
    print("\nTraining 40 epochs of 30,000 samples (MLP 2-128-128-3), widget mode")
    print(f"  without dashboard       {base:7.3f} s")
    print(f"  with LiveDashboard      {med_total:7.3f} s  ({med_total / base - 1:+.1%}, "
          f"{statistics.median(redraws):.0f} redraws including the final figure)")
    print(f"  of which final figure   {med_final:7.3f} s  (once, after the last epoch)")
    print(f"  per-epoch slowdown      {(med_total - med_final) / base - 1:+.1%} "
          f"(target <= +10%)")


if __name__ == "__main__":
    main()
