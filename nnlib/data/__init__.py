"""Data for every chapter, offline first.

- ``synthetic``: spirals, moons, circles, XOR, blobs, sine, and sequence tasks, from a seed;
- ``real``: handwritten digits and a photo that ship inside installed packages;
- ``mnist``: full MNIST / Fashion-MNIST from a cache folder, downloaded when missing;
- ``utils``: splits, one-hot, scaling, mini-batches.
"""

from .mnist import (
    DatasetUnavailableError,
    load_fashion_mnist,
    load_mnist,
    load_mnist_or_sample,
    read_idx,
)
from .real import load_digits, load_mnist_sample, load_photo
from .synthetic import (
    adding_problem,
    blobs,
    circles,
    moons,
    sine,
    sine_sequences,
    spirals,
    xor,
)
from .utils import minibatches, normalize, one_hot, standardize, train_test_split

__all__ = [
    "spirals", "moons", "circles", "xor", "blobs", "sine", "adding_problem", "sine_sequences",
    "load_digits", "load_mnist_sample", "load_photo",
    "load_mnist", "load_fashion_mnist", "load_mnist_or_sample", "read_idx",
    "DatasetUnavailableError",
    "train_test_split", "one_hot", "standardize", "normalize", "minibatches",
]
