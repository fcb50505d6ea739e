"""``nncourse check NOTEBOOK``: grade one learner notebook, hidden tests included.

The assignment's master copy goes into a gradebook in a throwaway folder (nbgrader's
``generate_assignment``), then the notebook is graded exactly as ``nncourse grade`` grades a
submission: sanitized, run in the sandbox, scored by nbgrader. The learner's file is only read.
The table shows each test's grade id, the points it earned, and why it failed: the error's name
and message, never the test's source.
"""
import shutil
import tempfile
from pathlib import Path

from . import autograde, hints, master, sandbox


def locate(notebook, assignment=None, root=None):
    """Which course and assignment a learner notebook belongs to.

    ``exercises/ASSIGNMENT/NAME.ipynb`` inside a course folder answers both; otherwise the
    course is this package's and ``assignment`` must be given.
    """
    path = Path(notebook).resolve()
    if root is None:
        guess = path.parent.parent.parent
        if path.parent.parent.name == "exercises" and (guess / "solutions").is_dir():
            root = guess
        else:
            root = master.COURSE_ROOT
    assignment = assignment or path.parent.name
    if not (Path(root) / "solutions" / assignment).is_dir():
        raise SystemExit(f"cannot tell which assignment {notebook} belongs to: "
                         f"'{assignment}' is not a folder of {Path(root) / 'solutions'}; "
                         f"give it with --assignment")
    return Path(root), assignment


def check(notebook, assignment=None, root=None, limits=None, out=print):
    """Grade ``notebook``; print the table; return the result dict."""
    path = Path(notebook)
    if not path.is_file():
        raise SystemExit(f"no such notebook: {notebook}")
    root, assignment = locate(path, assignment, root)
    use_bwrap = sandbox.require_bwrap(log=out)
    tmp = Path(tempfile.mkdtemp(prefix="nncourse-check-"))
    try:
        m = master.build(assignment, f"sqlite:///{tmp / 'gradebook.db'}", root=root)
        name = path.stem
        if name not in m.notebooks:
            if len(m.notebooks) != 1:
                raise SystemExit(f"{path.name} is not a notebook of {assignment}: "
                                 f"expected one of {', '.join(sorted(m.notebooks))}")
            name = next(iter(m.notebooks))
        result = autograde.grade_notebook(path.read_bytes(), m.notebooks[name], assignment,
                                          files=m.files, limits=limits, use_bwrap=use_bwrap,
                                          want_feedback=False)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out(table(result, f"{path.name} ({assignment})"))
    advice = hints.after_check(result, path, root, assignment)  # also kept for nncourse progress
    if advice:
        out("\n".join(advice))
    return result


def _pts(x):
    return "-" if x is None else f"{x:g}"


def table(result, title):
    """The result as a plain-text table: one row per test, then the total."""
    rows = [(t["grade_id"], f"{_pts(t['points'])} / {_pts(t['max_points'])}", t["message"])
            for t in result["tests"]]
    w_id = max([len("test")] + [len(r[0]) for r in rows] + [len("total")])
    w_pts = max([len("points")] + [len(r[1]) for r in rows])
    lines = [title, "", f"{'test':<{w_id}}  {'points':>{w_pts}}  failure"]
    lines.append(f"{'-' * w_id}  {'-' * w_pts}  {'-' * 7}")
    indent = " " * (w_id + w_pts + 4)
    for gid, pts, msg in rows:
        first, *more = msg.splitlines() or [""]
        lines.append(f"{gid:<{w_id}}  {pts:>{w_pts}}  {first}".rstrip())
        lines.extend(f"{indent}{line}".rstrip() for line in more)  # a message is never cut
    lines.append(f"{'-' * w_id}  {'-' * w_pts}")
    total = f"{_pts(result['score'])} / {_pts(result['max_score'])}"
    lines.append(f"{'total':<{w_id}}  {total:>{w_pts}}")
    if result["status"] != "graded" or result["notes"]:
        lines.append("")
        lines.append(f"status: {result['status']}")
        lines.extend(f"  - {n}" for n in result["notes"])
    return "\n".join(lines)


def full_marks(result):
    return result["max_score"] > 0 and result["score"] >= result["max_score"]
