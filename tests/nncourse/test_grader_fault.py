"""A fault of the grader itself stops the run with exit code 2 and a message: it never becomes
a score, least of all zeros for every student."""
import pytest
from nbgrader.api import Gradebook

from conftest import TOY_ROOT, write_submission
from nncourse import cli, release

pytestmark = pytest.mark.slow


def test_an_nbgrader_api_that_fails_stops_the_run_and_scores_nobody(tmp_path, monkeypatch,
                                                                     capsys):
    released = release.generate("00-toy", tmp_path / "released", root=TOY_ROOT)
    nb = (released / "toy.ipynb").read_bytes()
    for student in ("ann", "bob", "cyd"):
        write_submission(tmp_path / "subs", student, {"toy.ipynb": nb})

    def changed(*args, **kwargs):
        raise TypeError("determine_grade() got an unexpected keyword argument")
    monkeypatch.setattr("nbgrader.utils.determine_grade", changed)
    out = tmp_path / "out"
    code = cli.main(["grade", "00-toy", str(tmp_path / "subs"), "--course", str(TOY_ROOT),
                     "--out", str(out), "--workers", "1", "--timeout", "30"])
    err = capsys.readouterr().err
    assert code == 2
    assert "failed in the grader itself" in err and "determine_grade" in err
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        scored = [g for s in gb.find_assignment("00-toy").submissions for g in s.grades
                  if g.auto_score is not None]
    assert scored == []
    assert not (out / "grades.csv").exists()
    assert not list((out / "results").glob("*.json"))
