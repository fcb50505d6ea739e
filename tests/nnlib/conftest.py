"""Fixtures for the nnlib tests. Helpers comparing nnlib with PyTorch are in torch_reference.py."""
import numpy as np
import pytest


@pytest.fixture
def rng():
    """A seeded generator, fresh for every test."""
    return np.random.default_rng(0)
