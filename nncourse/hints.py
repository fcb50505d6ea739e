"""Hints for the graded tests, and the local history of which tests failed.

Each exercise folder holds ``hints.toml`` (written beside the solutions notebook, released with
the exercise), one table per graded test::

    [test_step]
    concept = "the step activation"
    chapter = "01-perceptron"
    section = "The perceptron"
    hint = "step(z) is 1 where z >= 0 and 0 elsewhere, elementwise ..."
    more = "Look at z = 0 exactly: ..."

When a test fails, the learner sees the concept, ``hint`` and a link to the chapter section;
once the same test has failed three times in a row, also ``more``, which says where to look.
Every check, in the notebook or with ``nncourse check``, is recorded in ``.nncourse-history.json``
beside the notebook (ignored by git): the run of failures for the hints, the last scores for
``nncourse progress``.
"""
import json
import os
import tempfile
import time
import tomllib
from pathlib import Path

FILE = "hints.toml"
HISTORY = ".nncourse-history.json"
AFTER = 3          # failures in a row before the second hint
FIELDS = ("concept", "chapter", "section", "hint", "more")


def load(folder):
    """grade_id -> its hint table, from ``folder/hints.toml`` ({} when there is none)."""
    path = Path(folder) / FILE
    if not path.is_file():
        return {}
    with open(path, "rb") as f:
        return tomllib.load(f)


def anchor(section):
    """The fragment JupyterLab gives a heading: its text with spaces as hyphens."""
    return section.replace(" ", "-")


def link(entry, prefix="../../"):
    """Where the chapter section is, from an exercise folder (``prefix`` leads to the course)."""
    target = f"{prefix}chapters/{entry['chapter']}.ipynb"
    return f"{target}#{anchor(entry['section'])}" if entry.get("section") else target


def advice(entry, streak, prefix="../../"):
    """The hint lines for a test that failed ``streak`` times in a row ([] without a hint)."""
    if not entry:
        return []
    where = f"chapter {entry['chapter']}"
    if entry.get("section"):
        where += f", section \"{entry['section']}\""
    lines = [f"Hint ({entry['concept']}): {entry['hint']}",
             f"  Read: {where} ({link(entry, prefix)})"]
    if streak >= AFTER and entry.get("more"):
        lines.append(f"Failed {streak} times in a row. Where to look: {entry['more']}")
    return lines


def read_history(folder):
    path = Path(folder) / HISTORY
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def record(folder, passed, check=None):
    """Note each test's outcome (grade_id -> True/False) and, for a whole-notebook check, its
    score (``check``: a dict with notebook, score, max_score). Return each test's failure run."""
    data = read_history(folder)
    tests = data.setdefault("tests", {})
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for gid, ok in passed.items():
        before = tests.get(gid, {})
        streak = 0 if ok else before.get("streak", 0) + 1
        tests[gid] = dict(passed=bool(ok), streak=streak, at=now)
    if check is not None:
        data.setdefault("checks", {})[check["notebook"]] = dict(check, at=now)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=HISTORY, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.replace(tmp, Path(folder) / HISTORY)
    except OSError:  # a read-only copy of the course: hints still work, without the history
        pass
    return {gid: tests[gid]["streak"] for gid in passed}


def after_check(result, notebook, root, assignment):
    """Record a whole-notebook check beside ``notebook``; return the hints of its failed tests."""
    folder = Path(notebook).resolve().parent
    passed = {t.grade_id: t.points == t.max_points for t in result.tests}
    streaks = record(folder, passed, check=dict(notebook=Path(notebook).name, assignment=assignment,
                                                score=result.score,
                                                max_score=result.max_score))
    table = load(folder) or load(Path(root) / "solutions" / assignment)
    prefix = os.path.relpath(root) + os.sep if Path(root).resolve() != Path.cwd() else ""
    lines = []
    for gid, ok in passed.items():
        if not ok and table.get(gid):
            lines += ["", f"{gid}:"] + [f"  {l}" for l in advice(table[gid], streaks[gid], prefix)]
    return lines
