"""Stage 4, score: what the run did, in sentences, and each graded cell scored as nbgrader does.

After the run: nbgrader's ``IgnorePattern``, ``ClearMetadataPreprocessor`` and ``LimitOutput``
(each as the course's configuration sets it); a test cell run after the learner's code replaced what
the tests use gets an error output saying so (so it scores 0, in the gradebook and in the
autograded notebook alike); then every graded cell is scored by ``nbgrader.utils.determine_grade``
and flagged for manual grading by ``SaveAutoGrades``' rule, and answer and task cells get its
auto comment.
"""
import nbformat
from nbgrader import utils
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import IgnorePattern, LimitOutput

from .result import CellScore, Status

# what the sandbox says when it stops something
BLOCKED = ("Network is unreachable", "Connection refused", "Name or service not known",
           "name resolution", "Read-only file system", "Permission denied")
SYNTAX = ("SyntaxError", "IndentationError", "TabError")
EVENTS = {"timeout": (Status.TIMEOUT, "time limit reached in cell {n} ({time}): the cells after "
                                       "it did not run"),
          "crashed": (Status.CRASHED, "the kernel died in cell {n} (os._exit, a crash, or a "
                                      "resource limit): the cells after it did not run"),
          "memory": (Status.MEMORY, "memory limit reached in cell {n} ({memory:.3g} GiB): the "
                                    "cells after it did not run")}
TAMPERED = "TestsReplaced"
# nbgrader's Autograde.autograde_preprocessors between Execute and SaveAutoGrades
AFTER_EXECUTE = (IgnorePattern, ClearMetadataPreprocessor, LimitOutput)


def run_notes(nb, run):
    """``(Status, sentence)`` for each thing the run stopped, refused or cut. Cells are numbered
    from 1, in the notebook's order, as Jupyter shows them."""
    lim = run.limits
    time = "no limit" if lim is None else \
        f"{lim.cell_timeout:g} s per cell, {lim.timeout:g} s for the notebook"
    memory = 0 if lim is None else lim.memory / 2 ** 30
    notes = [(EVENTS[e][0], EVENTS[e][1].format(n=i + 1, time=time, memory=memory))
             for i, e in run.events if e in EVENTS]
    for index, cell in enumerate(nb.cells):
        if run.kinds.get(index) != "student":
            continue
        for out in cell.get("outputs", []):
            if out.output_type != "error":
                continue
            line = f"cell {index + 1}: " + " ".join(f"{out.ename}: {out.evalue}".split())[:160]
            if out.ename in SYNTAX:
                notes.append((Status.SYNTAX_ERROR, line))
            elif out.ename == "SystemExit":
                notes.append((Status.EXITED, line))
            elif any(b in str(out.evalue) for b in BLOCKED):
                notes.append((Status.BLOCKED, line))
    notes += [(Status.TRUNCATED, f"output of cell {i + 1} was cut") for i in sorted(run.truncated)]
    return notes


def mark_not_run(nb, run):
    """Cells the run never reached get an error output saying why (so they score 0)."""
    for index, why in run.not_run.items():
        nb.cells[index].outputs = [nbformat.v4.new_output("error", ename="NotRun", evalue=why,
                                                          traceback=[])]
    return nb


def mark_tampered(nb, run, notes):
    """A test cell that ran on replaced tools gets an error output: no points, and why."""
    for index, replaced in sorted(run.tampered.items()):
        if run.kinds.get(index) != "test":
            continue
        cell = nb.cells[index]
        names = ", ".join(replaced)
        cell.outputs.insert(0, nbformat.v4.new_output(
            "error", ename=TAMPERED, traceback=[],
            evalue=f"no points: code in this notebook replaced what the tests use ({names})"))
        notes.append((Status.TAMPERED, f"{cell.metadata.nbgrader['grade_id']}: replaced {names}"))
    return nb


def after_execute(nb, nbmaster, assignment, config=None):
    """nbgrader's preprocessors between ``Execute`` and ``SaveAutoGrades``, in its order and as
    the course configures them: ``IgnorePattern`` (stderr lines matching its pattern dropped;
    off unless enabled), nbconvert's ``ClearMetadataPreprocessor`` (off unless enabled) and
    ``LimitOutput``. Each runs only when enabled, as nbgrader's converter runs it."""
    resources = {"nbgrader": {"notebook": nbmaster.name, "assignment": assignment}}
    for preprocessor in AFTER_EXECUTE:
        nb, resources = preprocessor(config=config)(nb, resources)
    return nb


def error_line(cell):
    """The failure: the exception's name and its whole message, never its traceback. The message
    is kept as written, lines and all: an array's expected and actual values are its point."""
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            return f"{out.ename}: {out.evalue}".rstrip() if out.evalue else out.ename
    for out in cell.get("outputs", []):
        if out.output_type == "stream" and out.name == "stderr":
            lines = [l for l in out.text.splitlines() if l.strip()]
            return "wrote to stderr: " + (lines[-1].strip() if lines else "")
    return ""


def kind(cell):
    if utils.is_task(cell):
        return "task"
    if utils.is_solution(cell) or cell.cell_type != "code":
        return "manual"
    return "test"


def score_cells(nb, nbmaster):
    """``(scores, comments)``: grade_id -> ``CellScore`` for every graded cell and task in
    notebook order, and grade_id -> auto comment, exactly as ``SaveAutoGrades`` stores them."""
    scores, comments = {}, {}
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid is None:
            continue
        if utils.is_grade(cell):
            points, max_points = utils.determine_grade(cell)
            message = error_line(cell) if cell.cell_type == "code" else ""
            if points is None:
                message = "needs manual grading"
            scores[gid] = CellScore(gid, None if points is None else float(points),
                                    float(max_points),
                                    message if points != max_points else "", kind(cell),
                                    needs_manual_grade=points is None)
        elif utils.is_task(cell):  # nbgrader stores no auto score for a task: a person grades it
            scores[gid] = CellScore(gid, None, float(cell.metadata.nbgrader["points"]),
                                    "needs manual grading", "task", needs_manual_grade=True)
        if utils.is_solution(cell) or utils.is_task(cell):
            unchanged = cell.metadata.nbgrader.get("checksum") == utils.compute_checksum(cell)
            comments[gid] = "No response." if unchanged and not utils.is_task(cell) else None
    # a graded cell deleted and not added back (OverwriteCells.add_missing_cells is off): nbgrader
    # stores no score for it, and formgrader asks a person to grade it
    graded = nbmaster.graded_cells()
    tests = [scores.get(g, CellScore(g, None, info["max_score"], "cell missing: deleted from "
                                     "the notebook", info["kind"], needs_manual_grade=True))
             for g, info in graded.items()]
    return tests, comments
