"""Every assignment in solutions/ is released, graded and fair.

For each assignment: the committed release equals a fresh ``generate_assignment``; the instructor
solution earns full marks; the blank release earns zero without breaking the grader; and each
realistic wrong submission in tests/submissions/ earns exactly the partial credit it deserves,
with feedback that names what is wrong.
"""
import ast
import json
import subprocess

import nbformat
import pytest

from nncourse.release import assignments, generate

from grading import (ROOT, autograde, error_text, fill_in, max_points, nbgrader_meta,
                     solution_code, wrong_submissions)

ASSIGNMENTS = assignments(ROOT)
pytestmark = pytest.mark.slow


def comparable(nb_path):
    """A notebook's content without what legitimately varies between runs."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("execution", None)
    return nb


def test_there_is_at_least_one_assignment():
    assert ASSIGNMENTS, "solutions/ holds no assignment"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_matches_a_fresh_generate_assignment(assignment, tmp_path):
    fresh = generate(assignment, tmp_path)
    committed = ROOT / "exercises" / assignment
    fresh_files = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    # what git ignores there (a learner's check history, Lab's checkpoints) is not the release's
    present = [p for p in committed.rglob("*") if p.is_file()]
    ignored = set(subprocess.run(["git", "check-ignore", "--stdin"], cwd=ROOT, text=True,
                                 capture_output=True,
                                 input="\n".join(str(p) for p in present)).stdout.split("\n"))
    committed_files = sorted(p.relative_to(committed) for p in present if str(p) not in ignored)
    assert committed_files == fresh_files, (
        f"exercises/{assignment} holds other files than a fresh release: run `make release`")
    for rel in fresh_files:
        if rel.suffix == ".ipynb":
            assert comparable(committed / rel) == comparable(fresh / rel), (
                f"exercises/{assignment}/{rel} is out of date with solutions/: run `make release`")
        else:
            assert (committed / rel).read_bytes() == (fresh / rel).read_bytes()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_graded_cells_have_points_and_end_with_an_assertion(assignment):
    for path in sorted((ROOT / "solutions" / assignment).glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        graded = [c for c in nb.cells if nbgrader_meta(c).get("grade")]
        assert graded, f"{path.name} has no graded test cell"
        for cell in graded:
            meta = nbgrader_meta(cell)
            assert meta.get("points", 0) > 0, f"{path.name}: {meta['grade_id']} has no points"
            assert meta.get("locked"), f"{path.name}: {meta['grade_id']} is not locked"
            assert "### BEGIN HIDDEN TESTS" in cell.source, (
                f"{path.name}: {meta['grade_id']} has no hidden tests")
            # nbgrader takes the value of the last line as partial credit: it must be an assertion
            public = cell.source.split("### BEGIN HIDDEN TESTS")[0] + cell.source.split(
                "### END HIDDEN TESTS")[-1]
            last = ast.parse(public).body[-1]
            is_assert = isinstance(last, ast.Assert) or (
                isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)
                and getattr(last.value.func, "id", "").startswith("assert_"))
            assert is_assert, f"{path.name}: {meta['grade_id']} does not end with an assertion"


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory):
    """Grade, in one nbgrader run, the solution, the blank release and every wrong submission."""
    assignment = request.param
    solution_paths = sorted((ROOT / "solutions" / assignment).glob("*.ipynb"))
    solutions = {p.name: nbformat.read(str(p), as_version=4) for p in solution_paths}
    releases = {name: nbformat.read(str(ROOT / "exercises" / assignment / name), as_version=4)
                for name in solutions}
    correct = {name: solution_code(nb) for name, nb in solutions.items()}
    submissions = {
        "solution": {name: fill_in(releases[name], correct[name]) for name in solutions},
        "blank": dict(releases),
    }
    cases = wrong_submissions(assignment)
    for case, spec in cases.items():
        submissions[case] = {name: fill_in(releases[name], {**correct[name], **spec["cells"]})
                             for name in solutions}
    results = autograde(assignment, submissions, tmp_path_factory.mktemp(assignment))
    maximum = {}
    for nb in solutions.values():
        maximum.update(max_points(nb))
    return assignment, results, maximum, cases


def test_solution_earns_full_marks(graded):
    assignment, results, maximum, _ = graded
    assert results["solution"]["points"] == maximum, (
        f"{assignment}: the instructor solution does not earn full marks")


def test_blank_release_earns_zero(graded):
    assignment, results, maximum, _ = graded
    assert set(results["blank"]["points"]) == set(maximum)
    assert all(score == 0 for score in results["blank"]["points"].values()), (
        f"{assignment}: the blank release earns points: {results['blank']['points']}")


def test_there_are_enough_realistic_wrong_submissions(graded):
    assignment, _, _, cases = graded
    assert len(cases) >= 3, f"{assignment}: only {len(cases)} wrong submissions in tests/submissions"


def test_wrong_submissions_earn_the_partial_credit_they_deserve(graded):
    assignment, results, maximum, cases = graded
    for case, spec in cases.items():
        points = results[case]["points"]
        assert points == {k: float(v) for k, v in spec["expected"].items()}, (
            f"{assignment}/{case} ({spec['why']}): got {points}")
        assert 0 < sum(points.values()) < sum(maximum.values()), f"{assignment}/{case}: not partial"


def test_feedback_names_what_is_wrong(graded):
    assignment, results, _, cases = graded
    for case, spec in cases.items():
        messages = "\n".join(error_text(nb, nbgrader_meta(cell)["grade_id"])
                             for nb in results[case]["notebooks"].values()
                             for cell in nb.cells if nbgrader_meta(cell).get("grade"))
        assert spec["message"] in messages, (
            f"{assignment}/{case}: the feedback does not say '{spec['message']}':\n{messages}")
