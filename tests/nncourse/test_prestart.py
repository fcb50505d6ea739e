"""A kernel started before the grader is ready (``nncourse check``): it waits for its
connection file, then grades exactly as a kernel the execute stage starts itself."""
import time

import pytest

from conftest import ASSIGNMENT, cell_index, dumps, solution
from nncourse import autograde, master, prestart, sandbox

pytestmark = pytest.mark.slow
LIMITS = sandbox.Limits(timeout=60)


@pytest.fixture(scope="module")
def nbm():
    return master.cached(ASSIGNMENT)


def test_it_waits_for_its_connection_file_and_serves_nothing_before(nbm):
    kernel = prestart.start(LIMITS, nbm.notebooks["perceptron"].protect,
                            sandbox.bwrap_available())
    try:
        assert kernel.proc.args[-1] == prestart.WAIT  # the kernel's argument, after the sandbox's
        time.sleep(4)  # longer than its imports take
        assert kernel.proc.poll() is None, (kernel.tmp / "kernel.log").read_text()
        assert not kernel.connection_file.exists()
        assert list((kernel.tmp / "conn").iterdir()) == [], "no socket bound yet"
    finally:
        kernel.close()
    assert kernel.proc.poll() is not None and not kernel.tmp.exists()


@pytest.mark.parametrize("source, score", [("", 8.0),
                                           ("def step(z):\n    return 0 * z", None)])
def test_a_prestarted_kernel_grades_as_one_started_by_the_execute_stage(nbm, source, score):
    m = nbm.notebooks["perceptron"]
    nb = solution()
    if source:  # a wrong answer in place of the solution's
        nb.cells[cell_index(nb, "step")].source = source
    raw = dumps(nb)
    use_bwrap = sandbox.bwrap_available()
    started = autograde.grade_notebook(raw, m, ASSIGNMENT, files=nbm.files, limits=LIMITS,
                                       use_bwrap=use_bwrap, want_feedback=False)
    kernel = prestart.start(LIMITS, m.protect, use_bwrap)
    adopted = autograde.grade_notebook(raw, m, ASSIGNMENT, files=nbm.files, limits=LIMITS,
                                       use_bwrap=use_bwrap, want_feedback=False,
                                       prestarted=kernel)
    assert not kernel.tmp.exists(), "its run folder is removed"
    assert [(t.grade_id, t.points) for t in adopted.tests] == \
        [(t.grade_id, t.points) for t in started.tests]
    assert adopted.status == started.status == autograde.Status.GRADED
    if score is not None:
        assert adopted.score == score
    else:
        assert adopted.score < m.max_score, "the wrong step() lost points"
