"""``nncourse check NOTEBOOK``: grade one learner notebook, hidden tests included.

The assignment's master copy goes into a gradebook in a throwaway folder (nbgrader's
``generate_assignment``), then the notebook is graded exactly as ``nncourse grade`` grades a
submission: sanitized, run in the sandbox, scored by nbgrader. The learner's file is only read.
The table shows each test's grade id, the points it earned, and why it failed: the error's name
and message, never the test's source.
"""
from pathlib import Path

from . import hints, master, prestart, sandbox
from . import course as course_mod


class WrongInput(ValueError):
    """What the learner asked to check cannot be checked; the message says why in a sentence."""


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
    course = course_mod.load(root)
    if assignment is not None and assignment not in course.assignments():
        raise WrongInput(f"there is no assignment '{assignment}'; the assignments are: "
                         f"{', '.join(course.assignments())}")
    ids = _grade_ids(path)
    owner = _owner(course, path, ids)
    if assignment is None:  # the folder it is in says, else its cells do
        folder = path.parent.name
        assignment = folder if folder in course.assignments() else owner
    if owner and owner != assignment:
        assignment = None
    if assignment is None or assignment not in course.assignments():
        if owner:
            raise WrongInput(f"this is exercise {owner}'s notebook; check it in "
                             f"{course.release_directory}/{owner}/ (or with --assignment "
                             f"{owner})")
        raise WrongInput(f"cannot tell which assignment {notebook} belongs to; give it with "
                         f"--assignment (one of: {', '.join(course.assignments())})")
    return course.root, assignment


def _grade_ids(path):
    """The nbgrader grade ids of a learner's notebook file; a sentence when it is none."""
    import json
    if path.is_dir():
        raise WrongInput(f"{path.name}/ is a folder: give one notebook in it, e.g. "
                         f"{path.name}/{next((p.name for p in sorted(path.glob('*.ipynb'))), 'NAME.ipynb')}")
    if not path.is_file():
        raise WrongInput(f"there is no file {path}")
    if path.suffix != ".ipynb":
        raise WrongInput(f"{path.name} is not a notebook: give the exercise's .ipynb file")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
        return {c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                for c in data["cells"]} - {None}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise WrongInput(f"{path.name} is not a complete notebook (half-saved?): save it again "
                         f"in Jupyter, then check it") from None


def _owner(course, path, ids):
    """The assignment whose notebook of this name holds these grade ids, if any."""
    import json
    if not ids:
        return None
    best, share = None, 0.0
    for name in course.assignments():
        for nb in sorted(course.source(name).glob("*.ipynb")):
            theirs = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                      for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]} - {None}
            overlap = len(ids & theirs) / len(ids)
            if overlap > share:
                best, share = name, overlap
    return best if share >= 0.5 else None


def check(notebook, assignment=None, root=None, limits=None, out=print):
    """Grade ``notebook``; print the table; return the ``NotebookResult``."""
    path = Path(notebook)
    root, assignment = locate(path, assignment, root)
    # the sandbox's warning is for the instructor who grades (``nncourse grade``), not here
    use_bwrap = sandbox.bwrap_available()
    m = master.cached(assignment, root)
    name = path.stem
    if name not in m.notebooks:
        if len(m.notebooks) != 1:
            raise WrongInput(f"{path.name} is not a notebook of {assignment}: "
                             f"expected one of {', '.join(sorted(m.notebooks))}")
        name = next(iter(m.notebooks))
    limits = limits or sandbox.Limits()
    # the kernel starts (importing PyTorch) while this process imports nbgrader
    kernel = prestart.start(limits, m.notebooks[name].protect, use_bwrap)
    try:
        from . import autograde
        result = autograde.grade_notebook(path.read_bytes(), m.notebooks[name], assignment,
                                          files=m.files, limits=limits, use_bwrap=use_bwrap,
                                          want_feedback=False, prestarted=kernel,
                                          config=course_mod.load(root).config)
    finally:
        kernel.close()
    out(table(result, f"{path.name} ({assignment})"))
    advice = hints.after_check(result, path, root, assignment)  # also kept for nncourse progress
    if advice:
        out("\n".join(advice))
    return result


def _pts(x):
    return "-" if x is None else f"{x:g}"


def table(result, title):
    """The result as a plain-text table: one row per test, then the total."""
    from .autograde import Status
    rows = [(t.grade_id, f"{_pts(t.points)} / {_pts(t.max_points)}", t.message)
            for t in result.tests]
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
    total = f"{_pts(result.score)} / {_pts(result.max_score)}"
    lines.append(f"{'total':<{w_id}}  {total:>{w_pts}}")
    if result.status is not Status.GRADED or result.notes:
        lines.append("")
        lines.append(f"status: {result.status}")
        lines.extend(f"  - {n}" for n in result.notes)
    return "\n".join(lines)


def full_marks(result):
    return result.max_score > 0 and result.score >= result.max_score
