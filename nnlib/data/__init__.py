"""Data for every chapter, offline first.

- ``synthetic``: spirals, moons, circles, XOR, blobs, sine, and sequence tasks, from a seed.
"""

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

__all__ = ["spirals", "moons", "circles", "xor", "blobs", "sine", "adding_problem",
           "sine_sequences"]
