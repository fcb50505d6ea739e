"""Shared set-up for the test suite."""
import os
import subprocess
import sys
import tempfile
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


BOOK_BUILD = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT),
              "--builder", "html", "-W", "-n", "--keep-going"]
_background = {}


def pytest_collection_finish(session):
    """The book build runs every chapter and takes minutes, mostly in one kernel at a time: when
    a test needs it, it starts as soon as the tests are collected and runs beside the tests that
    come before the book's, on the machine's other core."""
    if session.config.option.collectonly:
        return
    if any("book_build" in getattr(item, "fixturenames", ()) for item in session.items):
        out, err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
        process = subprocess.Popen(BOOK_BUILD, cwd=ROOT, stdout=out, stderr=err, text=True)
        _background.update(process=process, out=out, err=err)


def pytest_sessionfinish(session):
    process = _background.get("process")
    if process is not None and process.poll() is None:
        process.terminate()
        process.wait()


@pytest.fixture(scope="session")
def book_build():
    """Build the book exactly as `make book` does (warnings are errors), once per test session.
    The build is where the chapters run, each once (`allow_errors: false`); results are cached in
    _build/.jupyter_cache, so a rebuild only runs what changed (or all, when nnlib changed)."""
    if "process" not in _background:
        return subprocess.run(BOOK_BUILD, cwd=ROOT, capture_output=True, text=True)
    process, out, err = _background["process"], _background["out"], _background["err"]
    process.wait()
    out.seek(0)
    err.seek(0)
    return subprocess.CompletedProcess(BOOK_BUILD, process.returncode, out.read(), err.read())


@pytest.fixture(scope="session")
def site(book_build):
    """The built site folder; the build must have passed without a warning."""
    assert book_build.returncode == 0, (f"the book build failed or warned:\n"
                                        f"{book_build.stdout[-6000:]}\n{book_build.stderr[-3000:]}")
    return SITE
