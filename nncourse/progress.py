"""``nncourse progress``: where a learner stands, from the local check history.

For each exercise: the score of its last ``nncourse check`` and the graded tests that do not
pass yet, by the latest result of each (a check, or the self-check in the notebook). Then the
chapter to read next: the section a failing test's hint points to, or the chapter of the first
exercise not yet done. Nothing is sent anywhere; the history lives beside each notebook.
"""
import json
from pathlib import Path

from . import hints, master


def course_root(start=None):
    """The course folder: ``start`` (default: the current folder) or a parent holding
    exercises/, else the course this package belongs to."""
    here = Path(start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / "exercises").is_dir():
            return folder
    return master.COURSE_ROOT


def graded_tests(folder):
    """grade_id -> points of every graded test in the notebooks of ``folder``, in order."""
    out = {}
    for path in sorted(Path(folder).glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade"):
                out[meta["grade_id"]] = float(meta.get("points", 0))
    return out


def status(folder):
    """One exercise: its last check's score (or None), its total and the tests left to pass."""
    history = hints.read_history(folder)
    tests = graded_tests(folder)
    checks = list(history.get("checks", {}).values())
    last = max(checks, key=lambda c: c["at"]) if checks else None
    seen = history.get("tests", {})
    remaining = [g for g in tests if not seen.get(g, {}).get("passed")]
    return dict(name=Path(folder).name, last=last, max_score=sum(tests.values()),
                remaining=remaining, seen=bool(seen or checks))


def _pts(x):
    return f"{x:g}"


def next_reading(rows, root):
    """What to read next: the section of the first failing test's hint, else the first chapter
    whose exercise is not done."""
    for row in rows:
        if not row["remaining"]:
            continue
        folder = Path(root) / "exercises" / row["name"]
        entry = hints.load(folder).get(row["remaining"][0]) if row["seen"] else None
        if entry:
            return (f"Next: {row['remaining'][0]} of {row['name']} is not passing yet: read "
                    f"chapter {entry['chapter']}, section \"{entry['section']}\" "
                    f"({hints.link(entry, prefix='')}), then try it again.")
        chapter = next(iter(hints.load(folder).values()), {}).get("chapter", row["name"])
        return (f"Next: read chapter {chapter} (chapters/{chapter}.ipynb), then do exercise "
                f"{row['name']} (exercises/{row['name']}/).")
    return "Next: every exercise passes all its tests. Well done."


def progress(root=None, out=print):
    """Print the progress table; return its rows."""
    root = Path(root) if root else course_root()
    folders = sorted(p for p in (root / "exercises").iterdir() if p.is_dir() and graded_tests(p))
    rows = [status(f) for f in folders]
    table = [("exercise", "last check", "still to pass")]
    for row in rows:
        last = row["last"]
        score = (f"{_pts(last['score'])} / {_pts(last['max_score'])} ({last['at'][:16]})"
                 if last else "not checked")
        if not row["remaining"]:
            left = "nothing"
        elif not row["seen"]:
            left = f"all {len(row['remaining'])} tests (not started)"
        else:
            left = ", ".join(row["remaining"])
        table.append((row["name"], score, left))
    w0 = max(len(r[0]) for r in table)
    w1 = max(len(r[1]) for r in table)
    lines = [f"{a:<{w0}}  {b:<{w1}}  {c}".rstrip() for a, b, c in table]
    lines.insert(1, f"{'-' * w0}  {'-' * w1}  {'-' * 13}")
    lines += ["", next_reading(rows, root)]
    out("\n".join(lines))
    return rows
