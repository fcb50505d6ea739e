"""The self-check: a graded test cell run in the notebook runs its task's hidden tests too.

Notebooks run in a real kernel (nbclient), in a copy of the course: an exercise folder beside
its solutions, and one without them, as a learner given only exercises/ has it.
"""
import copy
import re
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ASSIGNMENT, cell_index, hidden_sources, released, solution
from grading import ROOT, autograde, fill_in, nbgrader_meta, solution_code, wrong_submissions

pytestmark = pytest.mark.slow
NAME = "perceptron.ipynb"
WRONG_STEP = "def step(z):\n    return np.where(np.asarray(z) >= -1e-9, 1.0, 0.0)"   # only hidden tests see it
SHAPE_BUG = "def neuron_output(x, w, b):\n    z = x @ w[:3] + b\n    return 1 / (1 + np.exp(-z))"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """(folder of the exercise beside its solutions, folder of the exercise alone)."""
    base = tmp_path_factory.mktemp("course")
    full = base / "full" / "exercises" / ASSIGNMENT
    shutil.copytree(ROOT / "exercises" / ASSIGNMENT, full)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, base / "full" / "solutions" / ASSIGNMENT)
    bare = base / "bare" / "exercises" / ASSIGNMENT
    shutil.copytree(ROOT / "exercises" / ASSIGNMENT, bare)
    return full, bare


def run(nb, folder):
    nb = copy.deepcopy(nb)
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def with_answer(grade_id, source):
    nb = solution()
    nb.cells[cell_index(nb, grade_id)].source = source
    return nb


def last_output(nb, grade_id, index=None):
    cell = nb.cells[index if index is not None else cell_index(nb, grade_id)]
    out = cell.outputs[-1]
    return out.text if out.output_type == "stream" else f"{out.ename}: {out.evalue}", out


@pytest.fixture(scope="module")
def wrong(course):
    """One run of a notebook with two wrong answers that only the hidden tests catch."""
    nb = with_answer("step", WRONG_STEP)
    nb.cells[cell_index(nb, "neuron_output")].source = SHAPE_BUG
    return run(nb, course[0])


def test_each_passing_task_ends_its_output_with_the_count_of_hidden_tests_passed(course):
    nb = run(solution(), course[0])
    for gid, total in [("test_neuron_output", 3), ("test_step", 3), ("test_perceptron_update", 4),
                       ("test_train_perceptron", 5)]:
        text, out = last_output(nb, gid)
        assert out.output_type == "stream" and out.name == "stdout", (gid, out)
        assert text.strip() == f"hidden tests of {gid}: {total} of {total} passed", text


def test_a_failing_hidden_test_shows_expected_and_actual_never_its_source(wrong):
    text, out = last_output(wrong, "test_step")
    assert out.output_type == "error" and out.ename == "AssertionError", out
    assert "hidden tests of test_step: 1 of 3 passed, the 2nd failed" in text
    assert "step(-1e-12) is wrong.\n  expected: 0.0\n  got:      1.0" in text, text
    shown = "\n".join(o.get("text", "") + o.get("evalue", "") + "\n".join(o.get("traceback", []))
                      for c in wrong.cells for o in c.get("outputs", []))
    assert not [h for h in hidden_sources() if h in shown]


def test_an_exception_in_a_hidden_test_names_the_function_the_shapes_and_the_line(wrong):
    text, out = last_output(wrong, "test_neuron_output")
    assert out.ename == "ValueError", out
    assert "hidden tests of test_neuron_output: 0 of 3 passed, the 1st failed" in text
    assert "in your neuron_output(x=array of shape (1, 5), w=array of shape (5,), b=" in text, text
    assert "at your line 2: z = x @ w[:3] + b" in text
    assert out.traceback == [f"ValueError: {out.evalue}"], "the traceback shows more than the learner's code"


def test_a_cell_whose_visible_tests_fail_still_ends_with_the_line(course):
    nb = run(released(), course[0])
    for gid in ("test_neuron_output", "test_train_perceptron"):
        text, out = last_output(nb, gid)
        assert out.output_type == "stream", out
        assert text.startswith(f"hidden tests of {gid}: not run, a visible test above failed"), text


def test_without_solutions_the_line_says_the_hidden_tests_are_not_here(course):
    nb = run(with_answer("step", WRONG_STEP), course[1])
    text, out = last_output(nb, "test_step")
    assert out.output_type == "stream", out
    assert "not in this copy of the course (it has no solutions/ folder)" in text
    assert "they run when your work is graded" in text


def test_hints_name_the_concept_and_the_section_then_say_where_to_look_after_three(course):
    nb = with_answer("step", WRONG_STEP)
    test = nb.cells[cell_index(nb, "test_step")]
    at = cell_index(nb, "test_step")
    for _ in range(2):  # the same test run three times in a row, as a learner retries it
        again = copy.deepcopy(test)
        again.metadata = {}
        nb.cells.insert(at + 1, again)
    folder = course[0].parent.parent / "retry" / "exercises" / ASSIGNMENT
    shutil.copytree(course[0], folder, ignore=shutil.ignore_patterns(".nncourse-history.json"))
    shutil.copytree(course[0].parent.parent / "solutions", folder.parent.parent / "solutions")
    nb = run(nb, folder)
    first, third = last_output(nb, None, at)[0], last_output(nb, None, at + 2)[0]
    assert "Hint (the step activation): step(z) is 1.0 where z >= 0" in first
    assert 'Read: chapter 01-perceptron, section "The perceptron" ' \
           "(../../chapters/01-perceptron.ipynb#The-perceptron)" in first
    assert "Where to look" not in first and "Where to look" not in last_output(nb, None, at + 1)[0]
    assert "Failed 3 times in a row. Where to look: The boundary counts" in third


def test_nbgrader_validate_fails_a_notebook_that_fails_a_hidden_test(course, tmp_path):
    from nbgrader.validator import Validator
    folder = course[0]
    for case, nb, failing in [("wrong", with_answer("step", WRONG_STEP), True),
                              ("right", solution(), False)]:
        path = folder / f"validate-{case}.ipynb"
        nbformat.write(nb, str(path))
        results = Validator().validate(str(path))
        failed = "\n".join(f["error"] for f in results.get("failed", []))
        assert ("step(-1e-12) is wrong" in failed) == failing, (case, results)


def strip_self_check(root):
    for path in (root / "solutions" / ASSIGNMENT).glob("*.ipynb"):
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            cell.source = re.sub(r"^.*self_check.*\n", "", cell.source, flags=re.M)
        nbformat.write(nb, str(path))


def test_grading_gives_the_same_scores_with_and_without_the_self_check(tmp_path):
    without = tmp_path / "without"
    (without / "solutions").mkdir(parents=True)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, without / "solutions" / ASSIGNMENT)
    shutil.copy(ROOT / "nbgrader_config.py", without)
    strip_self_check(without)
    release = nbformat.read(str(ROOT / "exercises" / ASSIGNMENT / NAME), as_version=4)
    correct = solution_code(nbformat.read(str(ROOT / "solutions" / ASSIGNMENT / NAME), as_version=4))
    submissions = {"solution": {NAME: fill_in(release, correct)}, "blank": {NAME: release}}
    for case, spec in wrong_submissions(ASSIGNMENT).items():
        submissions[case] = {NAME: fill_in(release, {**correct, **spec["cells"]})}
    results = {}
    for label, root in [("with", ROOT), ("without", without)]:
        (tmp_path / f"graded-{label}").mkdir()
        results[label] = autograde(ASSIGNMENT, submissions, tmp_path / f"graded-{label}", root=root)
    for student in submissions:
        assert results["with"][student]["points"] == results["without"][student]["points"], student
        graded = results["with"][student]["notebooks"][NAME]
        shown = [o.get("text", "") for c in graded.cells if nbgrader_meta(c).get("grade")
                 for o in c.get("outputs", [])]
        assert not [s for s in shown if "hidden tests of" in s], (student, shown)
