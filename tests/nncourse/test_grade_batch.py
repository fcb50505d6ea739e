"""One batch of real, broken and hostile submissions of 01-perceptron, graded by `nncourse grade`.

Every kind of bad submission the grader must survive is one student of a single batch, so the
whole class is graded once (in parallel) and each test below reads what that run produced.
"""
import copy
import hashlib
import os
import socket
import threading
import uuid
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import (ASSIGNMENT, ROOT, cell_index, dumps, hidden_sources, read_grades, released,
                      run_nncourse, solution, with_cell, write_submission)

pytestmark = pytest.mark.slow
TOKEN = uuid.uuid4().hex[:8]


def _wrong(nb, grade_id, body):
    nb = copy.deepcopy(nb)
    nb.cells[cell_index(nb, grade_id)].source = body
    return nb


def _spy_source(port, subs, out):
    """Tries everything the sandbox forbids; prints LEAKED for anything that works."""
    return f'''
import socket, pathlib
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3)
    print("LEAK" "ED: network")
except OSError as exc:
    print("network:", type(exc).__name__, exc)
for path in [{str(Path(subs) / "good" / "perceptron.ipynb")!r},
             {str(ROOT / "solutions" / ASSIGNMENT / "perceptron.ipynb")!r},
             {str(Path(out) / "gradebook.db")!r}]:
    try:
        pathlib.Path(path).read_bytes()
        print("LEAK" "ED: read", path)
    except OSError as exc:
        print("read:", type(exc).__name__, exc)
for path in [{str(ROOT / f"PWNED-{TOKEN}")!r}, "/tmp/pwned-{TOKEN}"]:
    try:
        pathlib.Path(path).write_text("x")
        print("wrote", path)
    except OSError as exc:
        print("write:", type(exc).__name__, exc)
socket.create_connection(("127.0.0.1", {port}), timeout=3)  # uncaught: the grader sees it
'''


class Listener:
    """A TCP server on the host's loopback that counts who reached it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                continue

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def _tree_digest(folder):
    h = hashlib.sha256()
    for dirpath, _, files in sorted(os.walk(os.fsencode(folder))):
        for f in sorted(files):
            p = os.path.join(dirpath, f)
            h.update(p)
            with open(p, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


EXPECTED = {
    "good": "graded", "blank": "graded", "loop": "timeout", "osexit": "crashed",
    "segfault": "crashed", "sysexit": "exited", "membomb": "memory", "hugeout": "truncated",
    "syntax": "syntax-error", "deleted": "restored", "duplicated": "restored",
    "edited": "restored", "metadata": "restored", "malformed": "invalid", "pdf": "invalid",
    "pyonly": "invalid", "renamed": "renamed", "empty": "empty", "caf%E9": "graded",
    "patcher": "tampered", "customexc": "tampered", "spy": "blocked", "ghost": "missing",
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("batch")
    subs, out = base / "submissions", base / "out"
    listener = Listener()
    sol = solution()
    nb = "perceptron.ipynb"
    deleted = copy.deepcopy(sol)
    del deleted.cells[cell_index(deleted, "test_step")]
    duplicated = copy.deepcopy(sol)
    i = cell_index(duplicated, "test_train_perceptron")
    duplicated.cells.insert(i + 1, copy.deepcopy(duplicated.cells[i]))
    edited = _wrong(sol, "neuron_output", "def neuron_output(x, w, b):\n    return 0.0")
    edited.cells[cell_index(edited, "test_neuron_output")].source = "pass"
    edited.cells[cell_index(edited, "test_neuron_output")].metadata.nbgrader["points"] = 100
    metadata = copy.deepcopy(sol)
    metadata.cells[cell_index(metadata, "test_step")].metadata.nbgrader["schema_version"] = 99
    metadata.cells[cell_index(metadata, "test_perceptron_update")].metadata.nbgrader[
        "points"] = "lots"
    wrong_all = sol
    for gid in ("neuron_output", "step", "perceptron_update", "train_perceptron"):
        wrong_all = _wrong(wrong_all, gid, f"def {gid}(*args, **kwargs):\n    return 0.5")
    files = {
        "good": {nb: dumps(sol)},
        "blank": {nb: dumps(released())},
        "loop": {nb: dumps(_wrong(sol, "step", "def step(z):\n    while True:\n        pass"))},
        "osexit": {nb: dumps(with_cell(sol, "import os\nos._exit(1)"))},
        "segfault": {nb: dumps(with_cell(sol, "import ctypes\nctypes.string_at(0)"))},
        "sysexit": {nb: dumps(with_cell(sol, "import sys\nsys.exit(3)"))},
        "membomb": {nb: dumps(with_cell(
            sol, "hog = []\nwhile True:\n    hog.append(bytearray(256 * 2**20))"))},
        "hugeout": {nb: dumps(with_cell(sol, "for _ in range(100):\n    print('x' * 100_000)"))},
        "syntax": {nb: dumps(_wrong(sol, "neuron_output", "def neuron_output(x, w, b)\n    "
                                                          "return 0"))},
        "deleted": {nb: dumps(deleted)},
        "duplicated": {nb: dumps(duplicated)},
        "edited": {nb: dumps(edited)},
        "metadata": {nb: dumps(metadata)},
        "malformed": {nb: dumps(sol)[:700]},
        "pdf": {nb: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"},
        "pyonly": {"perceptron.py": b"def step(z):\n    return 1.0\n"},
        "renamed": {"Perceptron (1).ipynb": dumps(sol)},
        b"caf\xe9": {nb: dumps(sol)},
        "patcher": {nb: dumps(with_cell(
            wrong_all, "import nncourse.asserts as A\nA.assert_close = lambda *a, **k: None\n"
                       "A.assert_equal = lambda *a, **k: None\nA.assert_shape = lambda *a, **k: "
                       "None\nnp.testing.assert_allclose = lambda *a, **k: None"))},
        "customexc": {nb: dumps(with_cell(
            wrong_all, "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)"))},
        "spy": {nb: dumps(with_cell(sol, _spy_source(listener.port, subs, out)))},
    }
    for student, fs in files.items():
        write_submission(subs, student, fs)
    (subs / "empty").mkdir()
    roster = base / "roster.csv"
    roster.write_text("id,name\n" + "".join(f"{s},x\n" for s in EXPECTED if s != "caf%E9"))
    before = _tree_digest(subs)
    result = run_nncourse("grade", ASSIGNMENT, str(subs), "--out", str(out), "--workers", "2",
                          "--roster", str(roster), "--timeout", "20")
    listener.close()
    yield dict(subs=subs, out=out, result=result, before=before, listener=listener,
               roster=roster)
    for p in (ROOT / f"PWNED-{TOKEN}", Path(f"/tmp/pwned-{TOKEN}")):
        if p.exists():
            p.unlink()


def test_every_bad_submission_gets_its_own_status(batch):
    grades = read_grades(batch["out"])
    got = {s: grades[s]["status"] for s in EXPECTED}
    assert got == EXPECTED, "\n".join(f"{s}: expected {EXPECTED[s]}, got {got[s]} "
                                      f"({grades[s]['message']})" for s in EXPECTED
                                      if got[s] != EXPECTED[s])


def test_scores_follow_the_work_not_the_damage(batch):
    g = read_grades(batch["out"])
    total = {s: float(g[s]["total"]) for s in g}
    assert all(g[s]["max"] == "8" for s in g)
    # the correct solution gets full marks whatever else the notebook does around it
    for s in ("good", "sysexit", "hugeout", "deleted", "duplicated", "metadata", "renamed",
              "caf%E9", "spy"):
        assert total[s] == 8, (s, g[s]["message"])
    for s in ("blank", "malformed", "pdf", "pyonly", "empty", "ghost", "patcher",
              "customexc"):
        assert total[s] == 0, (s, g[s]["message"])
    # the restored test still catches the wrong function; the others still pass
    assert g["edited"]["test_neuron_output"] == "0" and total["edited"] == 6
    assert g["syntax"]["test_neuron_output"] == "0" and total["syntax"] == 6
    # the budget ran out in test_step: what ran before it counts, nothing after it ran
    assert total["loop"] == 2 and g["loop"]["test_neuron_output"] == "2"
    # crashing in the first learner cell: nothing after it ran
    assert total["osexit"] == 0 and total["segfault"] == 0


def test_messages_say_what_went_wrong(batch):
    g = read_grades(batch["out"])
    assert "NotImplementedError" in g["blank"]["message"]
    assert "time limit" in g["loop"]["message"]
    assert "memory limit reached in cell 3" in g["membomb"]["message"]
    assert "tampered" not in g["membomb"]["message"]
    assert "malformed JSON" in g["malformed"]["message"]
    assert "Perceptron (1).ipynb" in g["renamed"]["message"]
    assert "assert_close" in g["patcher"]["message"]
    assert "custom_exceptions" in g["customexc"]["message"]
    assert "no submission" in g["ghost"]["message"]
    assert "test_neuron_output was edited" in g["edited"]["message"]
    assert "points of test_neuron_output were changed" in g["edited"]["message"]


def test_progress_and_summary_lines_and_exit_code(batch):
    stdout = batch["result"].stdout
    assert batch["result"].returncode == 0
    assert stdout.count("] ") >= 21  # a progress line per graded submission
    assert "graded 18 / failed 4 / missing 1" in stdout.splitlines()[-1], stdout[-500:]


def test_feedback_shows_outputs_but_never_hidden_tests(batch):
    feedback = batch["out"] / "feedback"
    pages = list(feedback.glob(f"*/{ASSIGNMENT}/perceptron.html"))
    assert len(pages) >= 15
    hidden = hidden_sources()
    for page in pages:
        text = page.read_text(encoding="utf-8")
        leaked = [h for h in hidden if h in text]
        assert not leaked, f"{page} shows hidden test source: {leaked[:2]}"
        assert "BEGIN HIDDEN TESTS" not in text
    blank = (feedback / "blank" / ASSIGNMENT / "perceptron.html").read_text(encoding="utf-8")
    assert "NotImplementedError" in blank
    assert (feedback / "caf%E9" / ASSIGNMENT / "perceptron.html").exists()


def test_sandbox_kept_the_spy_in(batch):
    spy = (batch["out"] / "feedback" / "spy" / ASSIGNMENT / "perceptron.html").read_text(
        encoding="utf-8")
    assert "LEAKED" not in spy
    assert "network: ConnectionRefusedError" in spy or "network: OSError" in spy
    assert batch["listener"].connections == 0
    assert not (ROOT / f"PWNED-{TOKEN}").exists()
    assert not Path(f"/tmp/pwned-{TOKEN}").exists()
    assert spy.count("read: ") == 3


def test_submissions_are_never_modified(batch):
    assert _tree_digest(batch["subs"]) == batch["before"]


def test_gradebook_holds_one_row_per_student_matching_the_csv(batch):
    g = read_grades(batch["out"])
    with Gradebook(f"sqlite:///{batch['out'] / 'gradebook.db'}") as gb:
        students = {s.id for s in gb.students}
        assert students == set(g)
        for student, row in g.items():
            sub = gb.find_submission(ASSIGNMENT, student)
            assert sub.score == pytest.approx(float(row["total"])), student


def test_report_has_histogram_and_pass_rates(batch):
    out = batch["out"]
    html = (out / "report.html").read_text(encoding="utf-8")
    for png in ("score_histogram.png", "pass_rate.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png in html
    g = read_grades(out)
    submitted = [r for r in g.values() if r["status"] != "missing"]
    full = sum(1 for r in submitted if r["test_step"] == "1")
    assert f"<td>test_step</td><td>{100 * full / len(submitted):.0f}%</td>" in html


def test_second_run_grades_only_what_changed(batch):
    again = run_nncourse("grade", ASSIGNMENT, str(batch["subs"]), "--out", str(batch["out"]),
                         "--workers", "2", "--roster", str(batch["roster"]), "--timeout", "20")
    assert "0 to grade" in again.stdout
    good = batch["subs"] / "blank" / "perceptron.ipynb"
    original = good.read_bytes()
    try:
        good.write_bytes(dumps(solution()))
        third = run_nncourse("grade", ASSIGNMENT, str(batch["subs"]), "--out",
                             str(batch["out"]), "--workers", "2", "--roster",
                             str(batch["roster"]), "--timeout", "20")
    finally:
        good.write_bytes(original)
    assert "1 to grade" in third.stdout
    assert read_grades(batch["out"])["blank"]["total"] == "8"
