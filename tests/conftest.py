"""Shared set-up for the test suite."""
import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SITE = ROOT / "_build" / "html"
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
    for item in items:
        if str(item.fspath).endswith(".ipynb"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def book_build():
    """Build the book exactly as `make book` does (warnings are errors), once per test session.
    The build is where the chapters run, each once (`allow_errors: false`); results are cached in
    _build/.jupyter_cache, so a rebuild only runs what changed (or all, when nnlib changed)."""
    jb = Path(sys.executable).parent / "jupyter-book"
    return subprocess.run([str(jb), "build", str(ROOT), "--builder", "html", "-W", "-n",
                           "--keep-going"], cwd=ROOT, capture_output=True, text=True)


@pytest.fixture(scope="session")
def site(book_build):
    """The built site folder; the build must have passed without a warning."""
    assert book_build.returncode == 0, (f"the book build failed or warned:\n"
                                        f"{book_build.stdout[-6000:]}\n{book_build.stderr[-3000:]}")
    return SITE
