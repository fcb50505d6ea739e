"""`nncourse check`: a learner grades their own notebook, hidden tests included."""
import hashlib

import pytest

from conftest import ASSIGNMENT, RELEASE, dumps, hidden_sources, run_nncourse, solution

pytestmark = pytest.mark.slow


def test_check_of_the_blank_release_fails_every_test_and_leaves_the_file_alone(tmp_path):
    # a copy, as a learner's own notebook: checking records a history beside the notebook
    mine = tmp_path / RELEASE.name
    mine.write_bytes(RELEASE.read_bytes())
    before = hashlib.sha256(mine.read_bytes()).hexdigest()
    result = run_nncourse("check", "--assignment", ASSIGNMENT, str(mine), check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for test in ("test_neuron_output", "test_step", "test_perceptron_update",
                 "test_train_perceptron"):
        row = next(l for l in lines if l.startswith(test))
        assert " 0 / " in row and "NotImplementedError" in row, row
    assert any(l.startswith("total") and l.split()[-3:] == ["0", "/", "8"] for l in lines)
    assert not [h for h in hidden_sources() if h in result.stdout + result.stderr]
    assert hashlib.sha256(mine.read_bytes()).hexdigest() == before


def test_check_of_a_complete_notebook_gives_full_marks_and_exit_0(tmp_path):
    mine = tmp_path / "exercises" / ASSIGNMENT / "perceptron.ipynb"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(dumps(solution()))
    result = run_nncourse("check", "--assignment", ASSIGNMENT, str(mine))
    assert "total                    8 / 8" in result.stdout or \
        result.stdout.splitlines()[-1].split()[-3:] == ["8", "/", "8"], result.stdout


def test_check_shows_the_failure_message_of_a_wrong_answer(tmp_path):
    nb = solution()
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "step")
    cell.source = "def step(z):\n    return 0.0 * z"
    mine = tmp_path / "perceptron.ipynb"
    mine.write_bytes(dumps(nb))
    result = run_nncourse("check", "--assignment", ASSIGNMENT, str(mine), check=False)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    at = next(i for i, l in enumerate(lines) if l.startswith("test_step"))
    row = "\n".join(lines[at:at + 4])  # the message goes on, whole, under the failure column
    assert "0 / 1" in lines[at] and "AssertionError" in lines[at], row
    assert "expected:" in row and "got:" in row, row
    # below the table, the test's hint and the section of the book that teaches it
    assert "Hint (the step activation)" in result.stdout and "#The-perceptron" in result.stdout
