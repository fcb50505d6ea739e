"""Kernels forked from a worker's fork server: fresh, isolated and unprivileged, one per notebook."""
import os
import tempfile

import pytest

from nncourse import autograde, master, sandbox
from conftest import ASSIGNMENT, dumps, solution, with_cell

pytestmark = pytest.mark.slow

LEAVE_BEHIND = '''
import os, pathlib, subprocess
pathlib.Path("/tmp/left-by-first").write_text("secret")
os.chmod("/tmp/left-by-first", 0o644)
subprocess.Popen(["sleep", "300"], start_new_session=True)
print("first: uid", os.getuid(), "pid", os.getpid())
'''

LOOK_AROUND = '''
import os, pathlib
print("second: first's file in /tmp", os.path.exists("/tmp/left-by-first"))
print("second: processes", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
print("second: uid", os.getuid(), "root", os.geteuid() == 0)
print("second: worker folder", os.path.exists(os.path.dirname(os.path.dirname(os.getcwd()))
      and os.path.join(os.path.dirname(os.path.dirname(os.getcwd())), "zygote.sock")))
'''


@pytest.fixture(scope="module")
def two_runs():
    if not sandbox.bwrap_available():
        pytest.fail("bubblewrap is missing: apt-get install bubblewrap")
    with tempfile.TemporaryDirectory() as tmp:
        m = master.build(ASSIGNMENT, f"sqlite:///{tmp}/gb.db")
        nbm = m.notebooks["perceptron"]
        fs = sandbox.ForkServer(sandbox.Limits(timeout=30), nbm.protect)
        try:
            runs = [autograde.grade_notebook(dumps(with_cell(solution(), src)), nbm, ASSIGNMENT,
                                             files=m.files, fork_server=fs,
                                             limits=sandbox.Limits(timeout=30))
                    for src in (LEAVE_BEHIND, LOOK_AROUND)]
            leftovers = os.listdir(fs.base)
        finally:
            fs.close()
    return runs, leftovers


def test_forked_kernels_grade_as_started_ones(two_runs):
    runs, _ = two_runs
    assert [(r["status"], r["score"]) for r in runs] == [("graded", 8.0), ("graded", 8.0)], \
        [r["notes"] for r in runs]


def test_nothing_of_one_notebook_reaches_the_next(two_runs):
    runs, leftovers = two_runs
    second = runs[1]["feedback_html"]
    assert "second: first&#x27;s file in /tmp False" in second or \
        "second: first's file in /tmp False" in second  # a fresh /tmp
    # a PID namespace of its own: its init, the kernel, and the daemon the first left is gone
    assert "second: processes [1, 2]" in second
    assert "second: worker folder False" in second  # the fork server's socket is not in view
    assert sorted(leftovers) == ["zygote.log", "zygote.sock"], "run folders are removed"


def test_forked_kernels_are_not_root(two_runs):
    runs, _ = two_runs
    assert "root False" in runs[1]["feedback_html"]
    if os.geteuid() == 0:  # each kernel has a uid of its own
        first = runs[0]["feedback_html"].split("first: uid ")[1].split()[0]
        second = runs[1]["feedback_html"].split("second: uid ")[1].split()[0]
        assert first != second and int(first) >= 200_000
