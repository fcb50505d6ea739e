"""`nncourse progress`: last checked scores, what remains, which chapter to read next."""
import shutil

import pytest

from nncourse import hints, progress

from grading import ROOT

FIRST, SECOND = "01-perceptron", "02-activations"


@pytest.fixture
def course(tmp_path):
    for name in (FIRST, SECOND):
        shutil.copytree(ROOT / "exercises" / name, tmp_path / "exercises" / name,
                        ignore=shutil.ignore_patterns(hints.HISTORY))
    return tmp_path


def shown(course):
    lines = []
    rows = progress.progress(course, out=lines.append)
    return rows, lines[0]


def test_a_fresh_course_sends_the_learner_to_the_first_chapter(course):
    rows, text = shown(course)
    assert [r["name"] for r in rows] == [FIRST, SECOND]
    row = next(l for l in text.splitlines() if l.startswith(FIRST))
    assert row.split()[1:3] == ["not", "checked"] and row.endswith("all 4 tests (not started)"), row
    assert text.endswith(f"Next: read chapter {FIRST} (chapters/{FIRST}.ipynb), then do exercise "
                         f"{FIRST} (exercises/{FIRST}/).")


def test_the_last_check_and_the_failing_tests_are_shown_with_the_section_to_read(course):
    folder = course / "exercises" / FIRST
    hints.record(folder, {"test_neuron_output": True, "test_step": False,
                          "test_perceptron_update": True, "test_train_perceptron": False},
                 check=dict(notebook="perceptron.ipynb", assignment=FIRST, score=4.0, max_score=8.0))
    _, text = shown(course)
    row = next(l for l in text.splitlines() if l.startswith(FIRST))
    assert "4 / 8 (" in row and row.endswith("test_step, test_train_perceptron"), row
    assert ('Next: test_step of 01-perceptron is not passing yet: read chapter 01-perceptron, '
            'section "The perceptron" (chapters/01-perceptron.ipynb#The-perceptron)') in text


def test_a_finished_exercise_has_nothing_left_and_the_next_one_is_named(course):
    folder = course / "exercises" / FIRST
    hints.record(folder, {g: True for g in progress.graded_tests(folder)},
                 check=dict(notebook="perceptron.ipynb", assignment=FIRST, score=8.0, max_score=8.0))
    _, text = shown(course)
    assert next(l for l in text.splitlines() if l.startswith(FIRST)).endswith("nothing")
    assert f"then do exercise {SECOND}" in text


def test_the_self_check_in_the_notebook_counts_without_a_whole_check(course):
    folder = course / "exercises" / FIRST
    hints.record(folder, {"test_neuron_output": True})
    rows, text = shown(course)
    assert rows[0]["last"] is None and "test_neuron_output" not in rows[0]["remaining"]
    assert "test_step" in rows[0]["remaining"]
