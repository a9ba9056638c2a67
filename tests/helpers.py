"""Small helpers shared by the tests (importable because pytest puts tests/ on sys.path)."""

import numpy as np


def away_from_zero(rng, shape, margin=1e-3):
    """Random float64 values with no element within ``margin`` of 0, so kinked functions
    (ReLU, leaky ReLU, ELU) are differentiable at every checked point."""
    x = rng.standard_normal(shape)
    x[np.abs(x) < margin] += 2 * margin
    return x
