"""`nncourse check` given something it cannot check: one sentence, exit code 2, no warning
meant for instructors, and nothing run."""
import shutil

import pytest

from conftest import ROOT
from nncourse import cli

CNN = ROOT / "exercises" / "07-cnn"


def _check(capsys, *args):
    code = cli.main(["check", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _one_sentence(text):
    lines = [l for l in text.splitlines() if l.strip()]
    assert len(lines) == 1, text
    assert "warning" not in text.lower() and "bubblewrap" not in text
    return lines[0]


def test_another_exercises_notebook_names_its_exercise_and_folder(capsys, tmp_path):
    nb = next(CNN.glob("*.ipynb"))
    code, text = _check(capsys, str(nb), "--assignment", "01-perceptron")
    assert code == 2
    assert "this is exercise 07-cnn's notebook; check it in exercises/07-cnn/" in \
        _one_sentence(text)
    moved = tmp_path / "01-perceptron"
    moved.mkdir()
    shutil.copy(nb, moved / "perceptron.ipynb")  # renamed, in another exercise's folder
    code, text = _check(capsys, str(moved / "perceptron.ipynb"))
    assert code == 2 and "exercise 07-cnn" in _one_sentence(text)


def test_a_folder_is_refused_naming_a_notebook_in_it(capsys):
    code, text = _check(capsys, str(CNN))
    assert code == 2 and "is a folder" in _one_sentence(text) and ".ipynb" in text


def test_a_file_that_is_not_a_notebook_is_refused(capsys, tmp_path):
    p = tmp_path / "answers.py"
    p.write_text("print(1)\n")
    code, text = _check(capsys, str(p))
    assert code == 2 and "is not a notebook" in _one_sentence(text)


def test_a_half_saved_notebook_is_refused(capsys, tmp_path):
    good = next(CNN.glob("*.ipynb")).read_bytes()
    p = tmp_path / "cnn.ipynb"
    p.write_bytes(good[: len(good) // 2])
    code, text = _check(capsys, str(p), "--assignment", "07-cnn")
    assert code == 2 and "half-saved" in _one_sentence(text)


def test_an_unknown_assignment_lists_the_valid_names(capsys):
    nb = next(CNN.glob("*.ipynb"))
    code, text = _check(capsys, str(nb), "--assignment", "07-cnns")
    line = _one_sentence(text)
    assert code == 2 and "no assignment '07-cnns'" in line
    assert "01-perceptron" in line and "07-cnn" in line and "10-interview" in line


def test_a_missing_file_is_refused(capsys, tmp_path):
    code, text = _check(capsys, str(tmp_path / "nope.ipynb"), "--assignment", "07-cnn")
    assert code == 2 and "no file" in _one_sentence(text)
