"""Submissions for the grader's tests, made from the real 01-perceptron assignment.

Each hostile or broken submission starts from the instructor's solution (full marks) or the
released exercise (zero), then changes one thing, so a test can say exactly what that one
thing must do to the grade.
"""
import copy
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "01-perceptron"
SOLUTION = ROOT / "solutions" / ASSIGNMENT / "perceptron.ipynb"
RELEASE = ROOT / "exercises" / ASSIGNMENT / "perceptron.ipynb"
NNCOURSE = [sys.executable, "-m", "nncourse.cli"]
TOY_ROOT = Path(__file__).resolve().parent / "fixtures" / "course"


def solution():
    """A learner's complete notebook: the release, each answer cell filled with the solution."""
    nb = released()
    answers = {c.metadata.nbgrader["grade_id"]: c.source
               for c in nbformat.read(SOLUTION, as_version=4).cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = "\n".join(l for l in answers[gid].splitlines()
                                    if "### BEGIN SOLUTION" not in l
                                    and "### END SOLUTION" not in l)
    return nb


def released():
    return nbformat.read(RELEASE, as_version=4)


def cell_index(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def with_cell(nb, source, after="setup"):
    """``nb`` with a new learner cell (no nbgrader metadata) after the cell ``after``."""
    nb = copy.deepcopy(nb)
    nb.cells.insert(cell_index(nb, after) + 1, nbformat.v4.new_code_cell(source))
    return nb


def dumps(nb):
    return nbformat.writes(nb).encode()


def need_fork_server():
    """Fail without bubblewrap; skip unless root, except in CI, which must run as root."""
    from nncourse import sandbox
    if not sandbox.bwrap_available():
        pytest.fail("bubblewrap is missing: apt-get install bubblewrap")
    if os.geteuid() != 0:
        # only root can give each forked kernel a uid of its own; others start kernels afresh
        message = "the fork server is used only when grading as root"
        if os.environ.get("CI"):
            pytest.fail(message + ": CI must run as root")
        pytest.skip(message)


def hidden_sources():
    """The hidden test lines of the real assignment: none may ever reach a learner."""
    lines = []
    for cell in nbformat.read(SOLUTION, as_version=4).cells:
        keep = False
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                keep = True
            elif "END HIDDEN TESTS" in line:
                keep = False
            elif keep and len(line.strip()) > 12:
                lines.append(line.strip())
    assert lines, "01-perceptron has hidden tests"
    return lines


def run_nncourse(*args, timeout=600, check=True):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run([*NNCOURSE, *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, f"nncourse {' '.join(args)} failed:\n" \
                                       f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def read_grades(out):
    with open(Path(out) / "grades.csv", newline="", encoding="utf-8") as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}


def write_submission(folder, student, files):
    """``files``: name -> bytes, written as ``folder/student/name``; student may be bytes."""
    sdir = os.path.join(os.fsencode(folder), os.fsencode(student))
    os.makedirs(sdir, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(sdir, os.fsencode(name)), "wb") as fh:
            fh.write(data)
