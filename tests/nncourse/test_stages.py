"""Each stage of grading one notebook, on a tiny assignment built in memory (seconds)."""
import copy
import html
import json

import nbformat
import pytest
from traitlets.config import Config

from nncourse import sandbox
from nncourse.autograde import (CellScore, NotebookResult, Status, execute, feedback, parse,
                                sanitize, score, grade_notebook)
from tiny import answered, dumps, master, released

RESTORE = Config({"OverwriteCells": {"add_missing_cells": True}})


def test_status_worst_is_the_most_severe_and_graded_when_nothing_happened():
    assert Status.worst([Status.TRUNCATED, "timeout", Status.RESTORED]) is Status.TIMEOUT
    assert Status.worst([]) is Status.GRADED
    assert Status.MISSING.severity < Status.GRADED.severity
    assert Status.ERROR.failed and not Status.TIMEOUT.failed


def test_result_round_trips_through_json_data():
    r = NotebookResult("ann", "tiny", Status.TAMPERED, ["x"],
                       [CellScore("t", None, 2.0, "needs manual grading", "manual", True)])
    back = NotebookResult.from_dict(r.to_dict())
    assert back == r and back.status is Status.TAMPERED and back.tests[0].points is None


@pytest.mark.parametrize("raw, says", [
    (b"\xff\xfe", "not UTF-8"), (b"  \n", "empty"), (b"{not json", "malformed JSON"),
    (b'{"cells": 3}', "no list of cells"), (b"[1, 2]", "no list of cells")])
def test_parse_says_in_one_sentence_why_a_file_is_not_a_notebook(raw, says):
    with pytest.raises(parse.Unreadable, match=says):
        parse.parse(raw)


def test_parse_gives_every_cell_metadata_and_code_cells_outputs():
    cells = [{"cell_type": "markdown", "source": "# no metadata"},
             {"cell_type": "code", "source": "x = 1", "execution_count": None}]
    raw = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 4})
    parsed = parse.parse(raw.encode())
    assert all("metadata" in c for c in parsed.cells)
    assert all("outputs" in c for c in parsed.cells if c.cell_type == "code")


def test_sanitize_restores_tests_and_points_and_adds_deleted_cells_back():
    nb = answered()
    test = next(c for c in nb.cells if c.metadata.nbgrader["grade_id"] == "test_double")
    test.source, test.metadata.nbgrader["points"] = "pass", 100
    nb.cells = [c for c in nb.cells if c.metadata.nbgrader["grade_id"] != "task_review"]
    notes = []
    out = sanitize.sanitize(nb, master(), "tiny-assignment", notes, RESTORE)
    cells = {c.metadata.nbgrader["grade_id"]: c for c in out.cells if "nbgrader" in c.metadata}
    assert "SECRET" in cells["test_double"].source  # the master's source, hidden tests included
    assert cells["test_double"].metadata.nbgrader["points"] == 2
    assert "task_review" in cells
    said = [m for _, m in notes]
    assert "test_double was edited: restored" in said
    assert "points of test_double were changed: restored" in said
    assert {s for s, _ in notes} == {Status.RESTORED}


def test_sanitize_repairs_broken_metadata_from_the_master():
    nb = answered()
    nb.cells[3].metadata.nbgrader["schema_version"] = "banana"
    notes = []
    out = sanitize.sanitize(nb, master(), "a", notes)
    assert out.cells[3].metadata.nbgrader["grade"] is True
    assert any("repaired the nbgrader metadata of test_double" in m for _, m in notes)


def _executed(nb, errors=()):
    """``nb`` as if run: cells whose grade_id is in ``errors`` raised."""
    nb = copy.deepcopy(nb)
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="no",
                                                traceback=["long traceback"])] \
                if c.metadata.nbgrader["grade_id"] in errors else []
    return nb


def test_score_cells_as_save_auto_grades_does():
    m = master()
    nb = sanitize.sanitize(answered(explain="Because."), m, "a", [])
    tests, comments = score.score_cells(_executed(nb, errors={"test_double"}), m)
    by = {t.grade_id: t for t in tests}
    assert [t.grade_id for t in tests] == ["test_double", "explain", "plot", "task_review"]
    assert (by["test_double"].points, by["test_double"].message) == (0.0, "AssertionError: no")
    # an answer given: a person grades it; an answer left as released: 0, "No response."
    assert (by["explain"].points, by["explain"].needs_manual_grade) == (None, True)
    assert (by["plot"].points, by["plot"].needs_manual_grade) == (0.0, False)
    assert (by["task_review"].points, by["task_review"].kind) == (None, "task")
    assert comments == {"double": None, "explain": None, "plot": "No response.",
                        "task_review": None}


def test_a_deleted_graded_cell_is_left_to_a_person_as_nbgrader_leaves_it():
    m = master()
    nb = answered()
    nb.cells = [c for c in nb.cells if c.metadata.nbgrader["grade_id"] != "test_double"]
    notes = []
    nb = _executed(sanitize.sanitize(nb, m, "a", notes))  # OverwriteCells' default
    tests, _ = score.score_cells(nb, m)
    assert (tests[0].points, tests[0].needs_manual_grade) == (None, True)
    assert "cell missing" in tests[0].message
    assert (Status.GRADED, "test_double was deleted: a person grades it") in notes


def test_tampered_tests_get_no_points_and_a_reason():
    m = master()
    nb = _executed(sanitize.sanitize(answered(), m, "a", []))
    run = execute.Run(kinds={i: execute.classify(c) for i, c in enumerate(nb.cells)},
                      tampered={3: ["math.sqrt"]})
    notes = []
    nb = score.mark_tampered(nb, run, notes)
    tests, _ = score.score_cells(nb, m)
    assert tests[0].points == 0.0 and "replaced what the tests use (math.sqrt)" in tests[0].message
    assert notes == [(Status.TAMPERED, "test_double: replaced math.sqrt")]


def test_run_notes_name_the_cell_as_jupyter_numbers_it():
    nb = _executed(answered())
    nb.cells[2].outputs = [nbformat.v4.new_output("error", ename="SyntaxError",
                                                  evalue="invalid syntax", traceback=[])]
    run = execute.Run(kinds={i: execute.classify(c) for i, c in enumerate(nb.cells)},
                      events=[(5, "timeout"), (6, "memory")], truncated={1},
                      limits=sandbox.Limits(timeout=120, cell_timeout=30, memory=2 << 30))
    notes = score.run_notes(nb, run)
    assert (Status.TIMEOUT, "time limit reached in cell 6 (30 s per cell, 120 s for the "
                            "notebook): the cells after it did not run") in notes
    assert (Status.MEMORY, "memory limit reached in cell 7 (2 GiB): the cells after it did not "
                           "run") in notes
    assert (Status.SYNTAX_ERROR, "cell 3: SyntaxError: invalid syntax") in notes
    assert (Status.TRUNCATED, "output of cell 2 was cut") in notes


def test_feedback_hides_hidden_tests_and_tracebacks_and_renders_task_cells():
    m = master()
    nb = _executed(sanitize.sanitize(answered(), m, "a", []), errors={"test_double"})
    tests, _ = score.score_cells(nb, m)
    page = feedback.feedback_notebook(nb, {t.grade_id: t for t in tests})
    html = feedback.render(page, 0.0, m.max_score, "tiny")
    assert "SECRET" not in html and "long traceback" not in html
    assert "hidden tests run here when graded" in html
    assert "Task" in html and "AssertionError" in html


def test_classify_tells_who_wrote_each_cell():
    assert [execute.classify(c) for c in released().cells] == [
        "markdown", "instructor", "student", "test", "markdown", "student", "markdown"]


@pytest.fixture(scope="module")
def ran():
    """The whole pipeline on the tiny assignment, with a real kernel (no fork server)."""
    use_bwrap = sandbox.bwrap_available()
    limits = sandbox.Limits(timeout=20, cell_timeout=10)
    good = grade_notebook(dumps(answered(explain="Because.")), master(), "a", "ann",
                          limits=limits, use_bwrap=use_bwrap)
    loop = grade_notebook(dumps(answered(double="def double(x):\n    while True: pass\n"
                                                "double(1)")),
                          master(), "a", "bob", limits=sandbox.Limits(timeout=3, cell_timeout=2),
                          use_bwrap=use_bwrap)
    return good, loop


def test_execute_runs_the_notebook_and_the_hidden_tests(ran):
    good, _ = ran
    assert good.status is Status.GRADED, good.notes
    assert [(t.grade_id, t.points) for t in good.tests] == [
        ("test_double", 2.0), ("explain", None), ("plot", 0.0), ("task_review", None)]
    executed = nbformat.reads(good.autograded, as_version=4)
    assert "SECRET" in executed.cells[3].source  # the hidden tests ran


def test_execute_stops_a_stuck_cell_and_says_where(ran):
    _, loop = ran
    assert loop.status is Status.TIMEOUT
    assert any("cell 3" in n for n in loop.notes), loop.notes
    assert loop.tests[0].points == 0.0
    page = html.unescape(loop.feedback_html)
    assert "Grading stopped early." in page and "cell 3" in page
