"""Student data stays private and nothing a student writes runs elsewhere: one grading run in
the repository itself, with the defaults an instructor gets (submissions and roster in the
course folder, no --out), of a class holding a hostile student."""
import csv
import re
import shutil
import subprocess

import pytest

from conftest import ASSIGNMENT, ROOT, dumps, run_nncourse, solution, with_cell, write_submission

pytestmark = pytest.mark.slow
STUDENT = "=1+2"   # a spreadsheet would compute it
HOSTILE = '''from IPython.display import HTML, display
display(HTML('<b id="x">bold</b><script>document.title = "RAN-SCRIPT"</script>'
             '<img src="nowhere.png" onerror="document.title = \\'RAN-ONERROR\\'">'
             '<a href="javascript:alert(1)">link</a>'))
print("@SUM(A1:A9)")'''


def _status():
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def in_repo():
    subs, out, roster = ROOT / "submissions", ROOT / "grading" / ASSIGNMENT, ROOT / "roster.csv"
    made = [p for p in (subs, ROOT / "grading", roster) if not p.exists()]
    before = _status()
    write_submission(subs, STUDENT, {"perceptron.ipynb": dumps(with_cell(solution(), HOSTILE))})
    roster.write_text(f"id\n{STUDENT}\n-absent\n", encoding="utf-8")
    try:
        result = run_nncourse("grade", ASSIGNMENT, "submissions", "--roster", "roster.csv",
                              "--workers", "1", "--timeout", "60")
        after = _status()
        with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        page = next((out / "feedback").glob(f"*/{ASSIGNMENT}/perceptron.html")).read_text()
        report = (out / "report.html").read_text(encoding="utf-8")
        mathjax = (out / "feedback" / "_mathjax" / "tex-chtml.js").stat().st_size > 100_000
    finally:
        for p in made:
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    return dict(before=before, after=after, rows=rows, page=page, report=report, result=result,
                mathjax=mathjax)


def test_git_status_stays_clean_after_grading_in_the_repository(in_repo):
    assert in_repo["after"] == in_repo["before"], in_repo["after"]
    assert in_repo["rows"], "the run wrote grading/01-perceptron/grades.csv"


def test_grades_csv_cells_a_spreadsheet_would_run_are_text(in_repo):
    cells = [c for row in in_repo["rows"] for c in row]
    assert "'=1+2" in cells and "=1+2" not in cells
    assert "'-absent" in cells
    assert not any(c[:1] in "=+@" for c in cells if c), cells
    assert not any(c.startswith("-") and not c[1:2].isdigit() for c in cells if c)


def test_feedback_and_report_run_nothing_the_student_wrote(in_repo):
    page = in_repo["page"]
    assert "<b" in page and "bold" in page  # harmless HTML is kept
    assert "<script>document.title" not in page
    assert not re.search(r"<img[^>]*onerror", page) and not re.search(r"<a[^>]*javascript:", page)
    assert "=1+2" in in_repo["report"] and "<script>document" not in in_repo["report"]


def test_feedback_typesets_math_with_the_local_mathjax(in_repo):
    page = in_repo["page"]
    assert "../../_mathjax/tex-chtml.js" in page and "cdnjs" not in page
    assert in_repo["mathjax"]


def test_a_normal_run_prints_no_library_warnings(in_repo):
    err = in_repo["result"].stderr
    assert "Warning" not in err and "warning" not in err, err[-2000:]
