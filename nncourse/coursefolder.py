"""The grading folder OUT is an nbgrader course folder: what nbgrader's tools find there.

    OUT/nbgrader_config.py                    the course's configuration, with OUT as the root
    OUT/gradebook.db                          the gradebook (unless --db names another)
    OUT/submitted/STUDENT/ASSIGNMENT/         each submission as it was handed in
    OUT/autograded/STUDENT/ASSIGNMENT/        the executed notebooks, the assignment's files
    OUT/feedback/STUDENT/ASSIGNMENT/NB.html   the learner's pages, with the assignment's images

so ``nbgrader formgrader``, ``generate_feedback``, ``export`` and ``db`` run in OUT unchanged.
nncourse's own files sit beside them: ``results/`` (what resumes a run), ``grades.csv``,
``report.html`` and its figures.
"""
import shutil
from pathlib import Path

from .autograde import feedback

IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")

CONFIG = '''\
# Written by `nncourse grade`: this folder is an nbgrader course folder for grading, so nbgrader's
# own tools (formgrader, generate_feedback, export, db) work here. Everything else is the course's
# own configuration, loaded from {config}.
c = get_config()  # noqa: F821
load_subconfig({config!r})  # noqa: F821
c.CourseDirectory.root = {root!r}
c.CourseDirectory.source_directory = {source!r}
c.CourseDirectory.db_url = {db_url!r}
'''


def safe(student):
    """A student id as one file name component."""
    s = student.replace("/", "%2F")
    return "%2E" + s[1:] if s.startswith(".") else s


def prepare(out, course, db_url):
    """Make OUT an nbgrader course folder whose gradebook is ``db_url``."""
    out = Path(out)
    for d in ("submitted", "autograded", "feedback"):
        (out / d).mkdir(parents=True, exist_ok=True)
    mathjax = out / "feedback" / "_mathjax"
    for rel, src in feedback.mathjax_files().items():
        if not (mathjax / rel).exists():
            (mathjax / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, mathjax / rel)
    text = CONFIG.format(config=str(course.root / "nbgrader_config.py"), root=str(out),
                         source=str(course.root / course.source_directory), db_url=db_url)
    path = out / "nbgrader_config.py"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return out


def folder(out, kind, student, assignment):
    return Path(out) / kind / safe(student) / assignment


def _replace(path, files):
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    for rel, data in files.items():
        dest = path / rel
        if path not in dest.resolve().parents:
            continue  # names were checked when read; never write outside
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)


def write_submitted(out, submission, assignment):
    """``submitted/STUDENT/ASSIGNMENT/``: the files as handed in (and the timestamp)."""
    files = dict(submission.files)
    if submission.timestamp_text is not None:
        files["timestamp.txt"] = submission.timestamp_text.encode()
    _replace(folder(out, "submitted", submission.student, assignment), files)


def write_autograded(out, submission, assignment, results, master_files):
    """``autograded/STUDENT/ASSIGNMENT/``: as ``nbgrader autograde`` leaves it, the submitted
    files, the assignment's files over them, and each executed notebook."""
    files = dict(submission.files)
    if submission.timestamp_text is not None:
        files["timestamp.txt"] = submission.timestamp_text.encode()
    files.update(master_files)
    for r in results:
        if r.autograded is not None:
            files[f"{r.notebook}.ipynb"] = r.autograded.encode("utf-8")
    _replace(folder(out, "autograded", submission.student, assignment), files)


def write_feedback(out, student, assignment, pages, master_files):
    """``feedback/STUDENT/ASSIGNMENT/NB.html`` and the assignment's images the pages show."""
    d = folder(out, "feedback", student, assignment)
    d.mkdir(parents=True, exist_ok=True)
    for rel, data in master_files.items():
        if rel.lower().endswith(IMAGES):
            (d / rel).parent.mkdir(parents=True, exist_ok=True)
            (d / rel).write_bytes(data)
    for notebook, html in pages.items():
        (d / f"{notebook}.html").write_text(html, encoding="utf-8")
