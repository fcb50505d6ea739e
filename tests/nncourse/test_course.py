"""The course nncourse works on, its one configuration, and the grading folder's CSV."""
import pytest
from traitlets.config import Config

from conftest import ROOT, TOY_ROOT
from nncourse import cli, course, report, sandbox


def test_grading_outside_a_course_says_where_it_looked_and_exits_2(tmp_path, monkeypatch,
                                                                   capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "subs").mkdir()
    assert cli.main(["grade", "ps1", "subs"]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path} is not an nbgrader course" in err and "--course DIR" in err
    assert len(err.strip().splitlines()) == 1


def test_an_unknown_assignment_lists_the_courses_own(capsys):
    assert cli.main(["grade", "nope", str(ROOT), "--course", str(TOY_ROOT)]) == 2
    err = capsys.readouterr().err
    assert "no assignment 'nope'" in err and "there are: 00-toy" in err


def test_the_course_in_the_current_folder_is_found_with_its_folders(monkeypatch):
    monkeypatch.chdir(ROOT)
    c = course.find()
    assert c.root == ROOT and (c.source_directory, c.release_directory) == ("solutions",
                                                                            "exercises")
    assert c.course_id == "nn-course" and "01-perceptron" in c.assignments()


def test_limits_follow_execute_timeout_and_the_notebook_budget():
    lim = sandbox.Limits.from_config(Config({"Execute": {"timeout": 7}}), 50)
    assert (lim.cell_timeout, lim.timeout) == (7, 50)
    lim = sandbox.Limits.from_config(Config(), None)  # nbgrader's own default, 30 s
    assert (lim.cell_timeout, lim.timeout) == (30, 120)
    assert sandbox.Limits.from_config(Config({"Execute": {"timeout": 600}}), 20).cell_timeout == 20


@pytest.mark.parametrize("text, shown", [
    ("=1+2", "'=1+2"), ("+33 6", "'+33 6"), ("-x", "'-x"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"), ("ann", "ann"), ("graded", "graded")])
def test_csv_text_a_spreadsheet_would_run_is_made_text(text, shown):
    assert report.inert(text) == shown
