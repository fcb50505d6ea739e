"""Grade one submitted notebook: nbgrader's autograde pipeline, one stage per module.

``grade_notebook(raw, nbmaster, ...)`` takes the submitted file's bytes and the assignment's
master copy and returns a ``NotebookResult`` (plain data: it crosses to a worker and back). It
never opens the gradebook: the parent process writes grades, so workers can run anywhere (a
process pool or a Dask cluster). The stages, in nbgrader's order:

1. ``parse``     the bytes as a notebook, or one sentence saying why not;
2. ``sanitize``  nbgrader's sanitize preprocessors, the master standing in for the gradebook;
3. ``execute``   nbgrader's ``Execute``, the kernel in the sandbox, with budgets and the guard;
4. ``score``     ``IgnorePattern``, ``ClearMetadata``, ``LimitOutput``, then each graded cell scored as ``SaveAutoGrades`` scores it;
5. ``feedback``  the learner's page, from nbgrader's feedback template.
"""
import time

import nbformat

from . import execute as run_stage
from . import feedback, parse, sanitize, score
from .execute import GraderFault
from .result import CellScore, NotebookResult, Status, unscored

__all__ = ["grade_notebook", "feedback_from_autograded", "unscored", "CellScore", "NotebookResult", "Status", "GraderFault"]


def grade_notebook(raw, nbmaster, assignment, student="", files=None, limits=None,
                   use_bwrap=True, notes=None, want_feedback=True, fork_server=None,
                   config=None, prestarted=None):
    """Grade the bytes of one submitted notebook; return its ``NotebookResult``."""
    t0 = time.monotonic()
    notes = [(Status(s), m) for s, m in notes or []]
    try:
        nb = sanitize.sanitize(parse.parse(raw), nbmaster, assignment, notes, config)
    except (parse.Unreadable, sanitize.Ungradable) as exc:
        return unscored(nbmaster, student, Status.INVALID, str(exc))
    t1 = time.monotonic()

    run = run_stage.execute(nb, nbmaster, files=files, limits=limits, use_bwrap=use_bwrap,
                            fork_server=fork_server, config=config, prestarted=prestarted)
    nb = score.mark_not_run(nb, run)
    notes += score.run_notes(nb, run)
    nb = score.after_execute(nb, nbmaster, assignment, config=config)
    nb = score.mark_tampered(nb, run, notes)
    tests, comments = score.score_cells(nb, nbmaster)
    total = sum(t.points or 0.0 for t in tests)

    html = None
    if want_feedback:
        stopped = [m for s, m in notes if s in (Status.TIMEOUT, Status.CRASHED, Status.MEMORY)]
        page = feedback.feedback_notebook(nb, {t.grade_id: t for t in tests}, stopped)
        html = feedback.render(page, total, nbmaster.max_score, nbmaster.name)
    return NotebookResult(
        student=student, notebook=nbmaster.name, status=Status.worst(s for s, _ in notes),
        notes=[m for _, m in notes], tests=tests, score=total, max_score=nbmaster.max_score,
        comments=comments, feedback_html=html, autograded=nbformat.writes(nb),
        timings=dict(total=time.monotonic() - t0, prepare=t1 - t0,
                     kernel_start=run.kernel_seconds,
                     execute=run.seconds - run.kernel_seconds))


def feedback_from_autograded(text, result, nbmaster):
    """The feedback page made again from an autograded notebook (nbformat JSON) with the
    scores ``result`` holds now (a manual grade, a late penalty)."""
    nb = nbformat.reads(text, as_version=4)
    page = feedback.feedback_notebook(nb, {t.grade_id: t for t in result.tests})
    return feedback.render(page, result.score - result.late_penalty, nbmaster.max_score,
                           nbmaster.name, late_penalty=result.late_penalty)
