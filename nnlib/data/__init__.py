"""Data for every chapter, offline first.

- ``synthetic``: spirals, moons, circles, XOR, blobs, sine, and sequence tasks, from a seed;
- ``real``: handwritten digits and a photo that ship inside installed packages;
- ``letters``: block letters A-Z rendered from a font matplotlib ships, augmented;
- ``mnist``: full MNIST / Fashion-MNIST from a cache folder, downloaded when missing;
- ``download``: the cache and its downloads (deadline, atomic rename, verified once);
- ``utils``: splits, one-hot, scaling, random shifts, mini-batches.
"""

from .letters import LETTERS, letter_glyphs, load_letters
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
from .utils import (
    minibatches,
    normalize,
    one_hot,
    random_shift,
    standardize,
    train_test_split,
)

__all__ = [
    "spirals", "moons", "circles", "xor", "blobs", "sine", "adding_problem", "sine_sequences",
    "load_digits", "load_mnist_sample", "load_photo",
    "load_mnist", "load_fashion_mnist", "load_mnist_or_sample", "read_idx",
    "DatasetUnavailableError", "LETTERS", "letter_glyphs", "load_letters",
    "train_test_split", "one_hot", "standardize", "normalize", "random_shift", "minibatches",
]
