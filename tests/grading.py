"""Helpers for the assignment tests: build submissions and autograde them with nbgrader.

Grading runs in a throwaway course folder (a copy of nbgrader_config.py and one assignment's
solutions), exactly as an instructor's course would, so the repository's own folders are never
touched.
"""
import re
import runpy
from pathlib import Path

import nbformat

from nncourse.release import COURSE_ROOT, copy_course, nbgrader_command

ROOT = COURSE_ROOT
SOLUTION_BLOCK = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", re.MULTILINE)


def notebooks(assignment, folder="solutions"):
    return sorted((ROOT / folder / assignment).glob("*.ipynb"))


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def solution_code(solution_nb):
    """grade_id -> the instructor's solution cell with the solution markers removed."""
    return {nbgrader_meta(c)["grade_id"]: SOLUTION_BLOCK.sub("", c.source)
            for c in solution_nb.cells
            if c.cell_type == "code" and nbgrader_meta(c).get("solution")}


def fill_in(release_nb, code_by_grade_id):
    """A copy of the release notebook with the given solution cells filled in, as a learner
    would leave it (outputs empty: nbgrader executes it)."""
    nb = nbformat.from_dict(release_nb)
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if cell.cell_type == "code" and grade_id in code_by_grade_id:
            cell.source = code_by_grade_id[grade_id].strip("\n")
    return nb


def wrong_submissions(assignment):
    """The SUBMISSIONS table kept in tests/submissions/ASSIGNMENT.py."""
    return runpy.run_path(str(ROOT / "tests" / "submissions" / f"{assignment}.py"))["SUBMISSIONS"]


def max_points(solution_nb):
    return {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"])
            for c in solution_nb.cells if nbgrader_meta(c).get("grade")}


def autograde(assignment, submissions, workdir, root=ROOT):
    """Autograde ``{student: {notebook_name: NotebookNode}}`` against the course in ``root``;
    return, per student, the points of each graded cell and the autograded notebooks (with their
    error outputs)."""
    from nbgrader.api import Gradebook

    course = copy_course(assignment, workdir, root)
    nbgrader_command("generate_assignment", assignment, "--force", course_root=course)
    for student, nbs in submissions.items():
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        for name, nb in nbs.items():
            nbformat.write(nb, str(folder / name))
    nbgrader_command("autograde", assignment, "--force", course_root=course)

    results = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in submissions:
            sub = gb.find_submission(assignment, student)
            points = {}
            for nb in sub.notebooks:
                for grade in nb.grades:
                    points[grade.name] = float(grade.score)
            autograded = {p.name: nbformat.read(str(p), as_version=4)
                          for p in (course / "autograded" / student / assignment).glob("*.ipynb")}
            results[student] = {"points": points, "notebooks": autograded}
    return results


def error_text(nb, grade_id):
    """The error a graded cell raised when autograded ('' if it passed)."""
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == grade_id:
            return "\n".join(f"{o.get('ename', '')}: {o.get('evalue', '')}"
                             for o in cell.get("outputs", []) if o.get("output_type") == "error")
    raise KeyError(grade_id)
