"""Block letters A-Z rendered offline from a font matplotlib ships (DejaVu Sans Bold),
with seeded augmentation -- an endless supply of OCR data with no download.

Each letter is drawn once at 2x resolution; every sample is then that glyph moved,
scaled, rotated, thickened or thinned, downsampled to ``size`` x ``size`` and given a
little noise, all with SciPy and a seeded generator.
"""

from __future__ import annotations

import functools
import string

import numpy as np
from scipy import ndimage

from .._validation import check_float, check_int
from ..utils import as_rng

__all__ = ["LETTERS", "letter_glyphs", "load_letters"]

LETTERS = string.ascii_uppercase


@functools.lru_cache(maxsize=4)
def letter_glyphs(size=32):
    """The 26 clean letters as (26, size, size) float32 images in [0, 1] (ink = 1)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError("Rendering letters needs matplotlib (a course extra): "
                          "pip install -e '.[course]'.") from e
    hi = 2 * size
    glyphs = np.empty((26, size, size), dtype=np.float32)
    for i, letter in enumerate(LETTERS):
        fig = Figure(figsize=(1, 1), dpi=hi)
        canvas = FigureCanvasAgg(fig)
        fig.text(0.5, 0.47, letter, fontsize=0.8 * hi, family="DejaVu Sans",
                 weight="bold", ha="center", va="center")
        canvas.draw()
        ink = 1 - np.asarray(canvas.buffer_rgba())[..., 0] / 255.0      # (hi, hi)
        glyphs[i] = ink.reshape(size, 2, size, 2).mean(axis=(1, 3))
    return glyphs


def _augment(glyph, rng, shift, scale, rotate, stroke, noise):
    size = glyph.shape[0]
    hi = np.kron(glyph, np.ones((2, 2), dtype=np.float32))             # back to 2x
    k = rng.integers(-stroke, stroke + 1) if stroke else 0
    if k > 0:
        hi = ndimage.grey_dilation(hi, size=(k + 1, k + 1))
    elif k < 0:
        hi = ndimage.grey_erosion(hi, size=(1 - k, 1 - k))
    angle = np.deg2rad(rng.uniform(-rotate, rotate))
    s = rng.uniform(1 - scale, 1 + scale)
    matrix = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) / s
    centre = np.array(hi.shape) / 2 - 0.5
    offset = centre - matrix @ centre - 2 * rng.uniform(-shift, shift, size=2)
    moved = ndimage.affine_transform(hi, matrix, offset=offset, order=1, mode="constant")
    small = moved.reshape(size, 2, size, 2).mean(axis=(1, 3))
    return np.clip(small + rng.normal(0, noise, small.shape), 0, 1)


def load_letters(n_per_class=100, *, size=32, augment=True, rng=None, shift=3.0, scale=0.12,
                 rotate=10.0, stroke=1, noise=0.05, flatten=False):
    """Block letters A-Z with labels 0-25.

    Parameters
    ----------
    n_per_class : int, samples of each letter (ignored with ``augment=False``: one each)
    size : int, image side in pixels (32 by default)
    augment : bool, False gives the 26 clean letters
    rng : None, int or Generator, seeds the augmentation
    shift : float, largest shift in pixels; scale : float, largest relative size change;
    rotate : float, largest rotation in degrees; stroke : int, largest thickening or
    thinning in (2x-resolution) pixels; noise : float, std of added Gaussian noise
    flatten : bool, (N, size*size) instead of (N, size, size)

    Returns
    -------
    x : ndarray (N, size, size) or (N, size*size), float32 in [0, 1], ink = 1
    y : ndarray (N,), int64, 0 = 'A' ... 25 = 'Z'
    """
    size = check_int("load_letters", "size", size, low=8)
    glyphs = letter_glyphs(size)
    if not augment:
        x, y = glyphs.copy(), np.arange(26, dtype=np.int64)
    else:
        n = check_int("load_letters", "n_per_class", n_per_class, low=1)
        for name, value in (("shift", shift), ("scale", scale), ("rotate", rotate),
                            ("noise", noise)):
            check_float("load_letters", name, value, low=0)
        stroke = check_int("load_letters", "stroke", stroke, low=0)
        rng = as_rng(rng)
        y = np.repeat(np.arange(26, dtype=np.int64), n)
        x = np.stack([_augment(glyphs[c], rng, shift, scale, rotate, stroke, noise)
                      for c in y]).astype(np.float32)
    return (x.reshape(len(x), -1) if flatten else x), y
