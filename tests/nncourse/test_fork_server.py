"""Kernels forked from a worker's fork server: fresh, isolated and unprivileged, one per notebook."""
import html
import os
import tempfile

import pytest

from nncourse import autograde, master, sandbox
from conftest import ASSIGNMENT, dumps, need_fork_server, solution, with_cell

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
print("second: capabilities", [l.split()[1] for l in open("/proc/self/status")
                               if l.startswith(("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"))])
print("second: no new privileges", open("/proc/self/status").read().split("NoNewPrivs:")[1].split()[0])
worker_folder = os.path.dirname(os.path.dirname(os.getcwd()))  # where the run folders are
print("second: worker folder", os.path.exists(os.path.join(worker_folder, "zygote.sock")))
'''


@pytest.fixture(scope="module")
def two_runs():
    need_fork_server()
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


def _processes_of(uid):
    """Host processes whose real uid is ``uid``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/status") as fh:
                if any(l.startswith("Uid:") and l.split()[1] == str(uid) for l in fh):
                    found.append(pid)
        except OSError:
            continue
    return found


def _printed(result):
    """What the notebook printed, as its feedback page shows it."""
    return html.unescape(result.feedback_html)


def test_forked_kernels_grade_as_started_ones(two_runs):
    runs, _ = two_runs
    assert [(r.status, r.score) for r in runs] == [(autograde.Status.GRADED, 8.0)] * 2, \
        [r.notes for r in runs]


def test_nothing_of_one_notebook_reaches_the_next(two_runs):
    runs, leftovers = two_runs
    second = _printed(runs[1])
    assert "second: first's file in /tmp False" in second  # a fresh /tmp
    # a PID namespace of its own: its init, the kernel, and the daemon the first left is gone
    assert "second: processes [1, 2]" in second
    assert "second: worker folder False" in second  # the fork server's socket is not in view
    assert sorted(leftovers) == ["zygote.log", "zygote.sock"], "run folders are removed"
    first_uid = _printed(runs[0]).split("first: uid ")[1].split()[0]
    if first_uid != str(os.getuid()):  # the daemon it started died with its kernel
        assert _processes_of(first_uid) == []


def test_forked_kernels_are_not_root(two_runs):
    runs, _ = two_runs
    second = _printed(runs[1])
    assert "root False" in second
    assert f"second: capabilities {['0000000000000000'] * 5}" in second, "none of any kind"
    assert "second: no new privileges 1" in second
    if os.geteuid() == 0:  # each kernel has a uid of its own
        first = _printed(runs[0]).split("first: uid ")[1].split()[0]
        uid = second.split("second: uid ")[1].split()[0]
        assert first != uid and int(first) >= 200_000
