"""Make chapters/images/handwritten_3.png, the picture file chapter 12 reads by default: a
"3" written with a pen (a smooth path, dark blue ink of varying width) on slightly
uneven off-white paper, as a phone photo of a note would look. Run once; the PNG is
committed: ``python tools/make_ocr_sample.py``."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "chapters" / "images" / "handwritten_3.png"


def main(seed=3):
    rng = np.random.default_rng(seed)
    h, w = 150, 120
    yy, xx = np.mgrid[:h, :w]
    paper = 0.93 - 0.06 * (xx / w) * (yy / h) + rng.normal(0, 0.012, (h, w))
    background = np.stack([paper, paper * 0.98, paper * 0.92], axis=-1).clip(0, 1)
    fig = plt.figure(figsize=(w / 100, h / 100), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.imshow(background, extent=(0, w, h, 0))
    # the "3": two bowls as cubic Bezier curves, pen coordinates (x, y) with y down
    vertices = [(34, 38), (48, 18), (86, 20), (84, 46), (82, 66), (60, 72), (54, 72),
                (64, 72), (92, 78), (86, 106), (80, 132), (40, 130), (30, 110)]
    xy = np.array(vertices, dtype=float) + rng.normal(0, 2.5, (len(vertices), 2))
    xy[:, 0] += 0.18 * (h / 2 - xy[:, 1])                    # a forward slant
    codes = [MplPath.MOVETO] + [MplPath.CURVE4] * 12
    path = MplPath(xy, codes)
    for width, alpha in ((7.5, 0.35), (5.5, 0.9)):
        ax.add_patch(matplotlib.patches.PathPatch(path, fill=False, lw=width, alpha=alpha,
                                                  color=(0.10, 0.13, 0.32),
                                                  capstyle="round", joinstyle="round"))
    ax.set(xlim=(0, w), ylim=(h, 0))
    ax.axis("off")
    OUT.parent.mkdir(exist_ok=True)
    fig.savefig(OUT, dpi=100)
    plt.close(fig)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
