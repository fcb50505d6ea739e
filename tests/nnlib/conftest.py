"""Fixtures for the nnlib tests. Helpers comparing nnlib with PyTorch are in torch_reference.py,
imported by name (``from torch_reference import compare_with_torch``) in any import mode."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def rng():
    """A seeded generator, fresh for every test."""
    return np.random.default_rng(0)
