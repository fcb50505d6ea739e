"""Shared set-up for the test suite."""
import os
import sys
from pathlib import Path

import matplotlib

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
# helpers kept beside the tests (grading.py) import by name
sys.path.insert(0, str(TESTS))
# nbgrader shells out to `alembic`, jupyter-book and nbgrader are called by name
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
matplotlib.use("Agg")


def pytest_ignore_collect(collection_path, config):
    """Notebooks under tests/ are submissions to grade (some hostile), never tests to run."""
    if collection_path.suffix == ".ipynb" and TESTS in collection_path.parents:
        return True
    return None


def pytest_collection_modifyitems(config, items):
    """Running a whole notebook takes a while: nbval's cells count as slow tests."""
    import pytest
    for item in items:
        if str(item.fspath).endswith(".ipynb"):
            item.add_marker(pytest.mark.slow)
