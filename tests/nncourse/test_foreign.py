"""An nbgrader assignment not written for this course, graded by plain `nbgrader autograde` and
by `nncourse grade`: every grade cell, timestamp and late penalty must agree, and nbgrader's own
tools must work in nncourse's grading folder afterwards.

The assignment (fixtures/foreign: nbgrader's default folders, a late penalty of its own) has
autograded answers and tests (one with partial credit), manually graded code and markdown
answers, a manually graded task, read-only cells, two notebooks, a data file and an image.
"""
import copy
import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import run_nncourse

pytestmark = pytest.mark.slow
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "foreign"
DUE = "2026-01-15 17:00:00 UTC"
ON_TIME = "2026-01-15 16:59:00.000000 UTC"
LATE = "2026-01-17 09:30:00.000000 UTC"
RIGHT = {
    "squares": "def squares(n):\n    return [i * i for i in range(1, n + 1)]",
    "mean": "def mean(xs):\n    return sum(xs) / len(xs)",
    "hyp": "def hypotenuse(a, b):\n    return math.sqrt(a * a + b * b)",
}
NOISY_MEAN = ("import sys\n\ndef mean(xs):\n"
              "    print('DeprecationWarning: use statistics.fmean', file=sys.stderr)\n"
              "    return sum(xs) / len(xs)")


def nbgrader(*args, cwd):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    r = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), *args], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"nbgrader {' '.join(args)}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def answer(nb, **sources):
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in sources:
            cell.source = sources[gid]
    return nb


def submissions(release, folder):
    """Five students, as they hand work in."""
    p1 = nbformat.read(release / "problem1.ipynb", as_version=4)
    p2 = nbformat.read(release / "problem2.ipynb", as_version=4)
    plot = "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n" \
           "plt.bar([1, 2, 3, 4, 5], [1, 4, 9, 16, 25])"
    deleted = answer(p1, **RIGHT)
    deleted.cells = [c for c in deleted.cells
                     if c.metadata.get("nbgrader", {}).get("grade_id") != "test_mean"]
    students = {
        # everything answered, on time
        "alice": ({"problem1": answer(p1, explain="The values are 1 to 10: 55 / 10.", **RIGHT),
                   "problem2": answer(p2, plot_squares=plot, **RIGHT)}, ON_TIME),
        # the same work, handed in late: the course's plugin gives zero
        "bob": ({"problem1": answer(p1, **RIGHT), "problem2": answer(p2, **RIGHT)}, LATE),
        # a test cell deleted, and a wrong hypotenuse (partial credit: 1 case of 4 holds)
        "carol": ({"problem1": deleted,
                   "problem2": answer(p2, hyp="def hypotenuse(a, b):\n    return a + b")},
                  ON_TIME),
        # manual answers given, a wrong squares, no timestamp
        "dave": ({"problem1": answer(p1, explain="Because **1 + ... + 10 = 55**.",
                                     squares="def squares(n):\n    return [1, 4, 8]",
                                     mean=RIGHT["mean"]),
                  "problem2": answer(p2, plot_squares=plot)}, None),
        # the second notebook never handed in
        "erin": ({"problem1": answer(p1, **RIGHT)}, ON_TIME),
        # right, but mean() prints a deprecation notice to stderr (the course ignores those)
        "frank": ({"problem1": answer(p1, **{**RIGHT, "mean": NOISY_MEAN}),
                   "problem2": answer(p2, **RIGHT)}, ON_TIME),
    }
    # metadata JupyterLab leaves on a cell, which the course's ClearMetadataPreprocessor clears
    for cell in students["alice"][0]["problem1"].cells:
        cell.metadata["tags"] = ["draft"]
    for student, (nbs, stamp) in students.items():
        d = folder / student / "ps1"
        d.mkdir(parents=True)
        for name, nb in nbs.items():
            nbformat.write(nb, str(d / f"{name}.ipynb"))
        if stamp:
            (d / "timestamp.txt").write_text(stamp)
    return list(students)


def gradebook_view(db_url, students):
    """Everything nbgrader stored of the batch, as plain values."""
    view = {}
    with Gradebook(db_url) as gb:
        assignment = gb.find_assignment("ps1")
        view["duedate"] = assignment.duedate
        for s in students:
            sub = gb.find_submission("ps1", s)
            view[s, "timestamp"] = sub.timestamp
            view[s, "seconds_late"] = sub.total_seconds_late
            view[s, "score"] = sub.score
            for nb in sub.notebooks:
                view[s, nb.name, "late_penalty"] = nb.late_submission_penalty
                for g in nb.grades:
                    view[s, nb.name, g.name] = (g.auto_score, g.manual_score,
                                                g.needs_manual_grade, g.max_score)
                for c in nb.comments:
                    view[s, nb.name, c.name, "comment"] = c.auto_comment
    return view


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("foreign")
    plain, ours = base / "plain", base / "ours"
    shutil.copytree(FIXTURE, plain)
    shutil.copytree(FIXTURE, ours)
    subs = base / "submissions"
    # plain nbgrader, as its documentation says: due date, release, collect, autograde
    nbgrader("db", "assignment", "add", "ps1", f"--duedate={DUE}", cwd=plain)
    nbgrader("generate_assignment", "ps1", cwd=plain)
    students = submissions(plain / "release" / "ps1", subs)
    shutil.copytree(subs, plain / "submitted")
    nbgrader("autograde", "ps1", cwd=plain)
    # nncourse, in the other copy of the course, the grading folder outside it
    out = base / "out"
    result = run_nncourse("grade", "ps1", str(subs), "--course", str(ours), "--out", str(out),
                          "--duedate", DUE, "--workers", "2")
    return dict(plain=plain, ours=ours, out=out, subs=subs, students=students, result=result)


def test_every_grade_timestamp_and_penalty_equals_plain_nbgrader(graded):
    theirs = gradebook_view(f"sqlite:///{graded['plain'] / 'gradebook.db'}", graded["students"])
    ours = gradebook_view(f"sqlite:///{graded['out'] / 'gradebook.db'}", graded["students"])
    differ = {k: (theirs.get(k), ours.get(k)) for k in set(theirs) | set(ours)
              if theirs.get(k) != ours.get(k)}
    assert not differ, "\n".join(f"{k}: nbgrader {a!r}, nncourse {b!r}"
                                 for k, (a, b) in sorted(differ.items(), key=str))
    # and the batch is what it should be, so the comparison compared something
    assert theirs["alice", "problem1", "explain"] == (None, None, True, 2.0)
    assert theirs["alice", "problem1", "review"][2] is True
    assert theirs["carol", "problem2", "test_hyp"][0] == 1.0
    assert theirs["bob", "seconds_late"] > 0 and theirs["bob", "problem1", "late_penalty"] > 0
    assert theirs["erin", "problem2", "test_hyp"] == (0.0, None, False, 4.0)
    # the course's IgnorePattern: stderr matching it is not a failure
    assert theirs["frank", "problem1", "test_mean"][0] == theirs["frank", "problem1",
                                                                 "test_mean"][3] > 0


def test_autograded_notebooks_equal_plain_nbgraders(graded):
    """Outputs (after IgnorePattern and LimitOutput) and metadata (after ClearMetadata) of every
    cell, as nbgrader's autograded/ copy holds them; execution details aside."""
    def view(path):
        nb = nbformat.read(path, as_version=4)
        cells = []
        for cell in nb.cells:
            outputs = [{k: v for k, v in o.items() if k not in ("execution_count", "metadata")}
                       for o in cell.get("outputs", [])]
            cells.append((cell.cell_type, cell.source, dict(cell.metadata), outputs))
        return cells

    compared = 0
    for student in graded["students"]:
        for theirs in sorted((graded["plain"] / "autograded" / student / "ps1").glob("*.ipynb")):
            ours = graded["out"] / "autograded" / student / "ps1" / theirs.name
            a, b = view(theirs), view(ours)
            assert len(a) == len(b), f"{student}/{theirs.name}: {len(a)} cells, ours {len(b)}"
            for i, (x, y) in enumerate(zip(a, b)):
                assert x == y, f"{student}/{theirs.name} cell {i + 1}:\nnbgrader {x}\nours     {y}"
            compared += 1
    assert compared == 2 * len(graded["students"]) - 1  # erin handed in one notebook
    alice = nbformat.read(graded["out"] / "autograded" / "alice" / "ps1" / "problem1.ipynb", 4)
    # ClearMetadataPreprocessor clears code cells' metadata (not markdown cells')
    assert [c.metadata.get("tags") for c in alice.cells if c.cell_type == "code"] == \
        [None] * sum(c.cell_type == "code" for c in alice.cells)
    assert any(c.metadata.get("tags") == ["draft"] for c in alice.cells), "the test saw tags"
    frank = nbformat.read(graded["out"] / "autograded" / "frank" / "ps1" / "problem1.ipynb", 4)
    assert not any(o.get("name") == "stderr" for c in frank.cells for o in c.get("outputs", []))


def test_grades_csv_shows_manual_grading_lateness_and_penalty(graded):
    with open(graded["out"] / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert rows["alice"]["problem1:explain"] == ""  # a person grades it
    assert "needs manual grading" in rows["alice"]["message"]
    assert rows["bob"]["late"] == "1 d 16 h 30 min" and float(rows["bob"]["penalty"]) > 0
    assert rows["bob"]["total"] == "0"
    assert rows["alice"]["late"] == "" and rows["alice"]["penalty"] == "0"


def test_the_assignment_files_are_beside_the_notebooks(graded):
    # the data file was read (test_mean passed) and the image is beside the feedback page
    auto = graded["out"] / "autograded" / "alice" / "ps1"
    assert (auto / "data" / "measurements.csv").exists()
    page = graded["out"] / "feedback" / "alice" / "ps1"
    assert (page / "images" / "diagram.png").read_bytes()[:4] == b"\x89PNG"
    assert 'src="images/diagram.png"' in (page / "problem1.html").read_text(encoding="utf-8")


def test_manual_grades_set_later_are_kept_and_reported(graded):
    out = graded["out"]
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        g = gb.find_grade("explain", "problem1", "ps1", "alice")
        g.manual_score = 1.5
        t = gb.find_grade("review", "problem1", "ps1", "alice")
        t.manual_score = 1.0
        gb.db.commit()
    again = run_nncourse("grade", "ps1", str(graded["subs"]), "--course", str(graded["ours"]),
                         "--out", str(out), "--duedate", DUE)
    assert "0 to grade" in again.stdout
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        alice = {r["student"]: r for r in csv.DictReader(fh)}["alice"]
    assert alice["problem1:explain"] == "1.5" and alice["problem1:review"] == "1"
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        assert gb.find_grade("explain", "problem1", "ps1", "alice").manual_score == 1.5
        assert float(alice["total"]) == gb.find_submission("ps1", "alice").score
    assert "1.5" in (out / "feedback" / "alice" / "ps1" / "problem1.html").read_text()


def test_nbgraders_own_tools_work_in_the_grading_folder(graded):
    out = graded["out"]
    shutil.rmtree(out / "feedback")
    nbgrader("generate_feedback", "ps1", cwd=out)
    assert (out / "feedback" / "alice" / "ps1" / "problem1.html").exists()
    assert (out / "feedback" / "erin" / "ps1" / "problem1.html").exists()
    nbgrader("export", cwd=out)
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        exported = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert set(exported) == set(graded["students"])
    listed = nbgrader("db", "student", "list", cwd=out).stdout
    assert all(s in listed for s in graded["students"])


def test_a_new_gradebook_beside_an_existing_grading_folder_is_filled(graded, tmp_path):
    db = f"sqlite:///{tmp_path / 'new.db'}"
    again = run_nncourse("grade", "ps1", str(graded["subs"]), "--course", str(graded["ours"]),
                         "--out", str(graded["out"]), "--duedate", DUE, "--db", db)
    assert "6 to grade" in again.stdout
    with Gradebook(db) as gb:
        assert {s.student.id for s in gb.find_assignment("ps1").submissions} == \
            set(graded["students"])
        assert gb.find_grade("test_hyp", "problem2", "ps1", "carol").auto_score == 1.0
