import os

import numpy as np
import pytest
from hypothesis import settings

# CI explores the same examples on every run, so a red build can always be reproduced;
# locally hypothesis keeps searching new ones.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
