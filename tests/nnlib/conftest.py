"""Fixtures for the nnlib tests. Helpers comparing nnlib with PyTorch are in torch_reference.py,
imported by name (``from torch_reference import compare_with_torch``) in any import mode.

Property tests (hypothesis) run the same examples on every run and every machine: the profile
below draws them from a fixed seed (``derandomize``), keeps no example database between runs (so a
failure seen once cannot come back only on the machine that saw it) and sets no deadline (a busy
machine must not turn a slow example into a failure). A test's own ``@settings`` only sets how many
examples it tries.
"""
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).resolve().parent))

settings.register_profile("reproducible", derandomize=True, database=None, deadline=None,
                          print_blob=True)
settings.load_profile("reproducible")


@pytest.fixture
def rng():
    """A seeded generator, fresh for every test."""
    return np.random.default_rng(0)
