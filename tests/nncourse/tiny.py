"""A tiny assignment built in memory, for the grading stages' unit tests: no nbgrader run.

``released()`` is what ``generate_assignment`` would give a learner (checksums included) and
``master()`` what the gradebook would hold of it: one of each nbgrader cell type.
"""
import copy

import nbformat
from nbgrader import utils

from nncourse.master import NotebookMaster, _imports

TEST_SOURCE = "assert double(2) == 4\n### BEGIN HIDDEN TESTS\nassert double(-3) == -6  # SECRET\n" \
              "### END HIDDEN TESTS"
TEST_RELEASED = "assert double(2) == 4"


def _cell(kind, source, **meta):
    cell = (nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell)(
        source)
    cell.metadata["nbgrader"] = dict(dict(grade=False, solution=False, locked=False,
                                          schema_version=3), **meta)
    return cell


def released():
    """intro (read-only markdown), setup (read-only code), double (answer), test_double (2
    points, hidden part removed), explain (manually graded markdown, 1 point), plot (manually
    graded code, 1 point), task_review (a task, 2 points)."""
    cells = [
        _cell("markdown", "# Tiny", grade_id="intro", locked=True),
        _cell("code", "import math", grade_id="setup", locked=True),
        _cell("code", "def double(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
              grade_id="double", solution=True),
        _cell("code", TEST_RELEASED, grade_id="test_double", grade=True, locked=True, points=2),
        _cell("markdown", "YOUR ANSWER HERE", grade_id="explain", grade=True, solution=True,
              points=1),
        _cell("code", "# YOUR CODE HERE\nraise NotImplementedError()", grade_id="plot",
              grade=True, solution=True, points=1),
        _cell("markdown", "Review the code above.", grade_id="task_review", task=True,
              locked=True, points=2),
    ]
    for c in cells:  # as generate_assignment: checksums of the source, hidden tests included
        if utils.is_grade(c) or utils.is_solution(c) or utils.is_locked(c) or utils.is_task(c):
            full = copy.deepcopy(c)
            if c.metadata.nbgrader["grade_id"] == "test_double":
                full.source = TEST_SOURCE
            c.metadata.nbgrader["checksum"] = utils.compute_checksum(full)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def master():
    nb = released()
    meta = {c.metadata.nbgrader["grade_id"]: dict(c.metadata.nbgrader) for c in nb.cells}
    sources = {c.metadata.nbgrader["grade_id"]: c.source for c in nb.cells}
    full = dict(sources, test_double=TEST_SOURCE)
    source_cells = {g: dict(cell_type=c.cell_type, source=full[g],
                            checksum=c.metadata.nbgrader.get("checksum"),
                            locked=bool(c.metadata.nbgrader.get("locked")))
                    for g, c in zip(sources, nb.cells)}
    grade_cells = {g: dict(max_score=float(m["points"]), cell_type=source_cells[g]["cell_type"])
                   for g, m in meta.items() if m.get("grade")}
    return NotebookMaster(
        name="tiny", source_cells=source_cells, grade_cells=grade_cells,
        solution_cells=[g for g, m in meta.items() if m.get("solution")],
        task_cells={g: dict(max_score=float(m["points"])) for g, m in meta.items()
                    if m.get("task")},
        order=list(sources), metadata=meta, released=sources, kernelspec=nb.metadata.kernelspec,
        protect=_imports([TEST_SOURCE, "import math"]),
        hidden_tests=["assert double(-3) == -6  # SECRET"])


def answered(double="def double(x):\n    return 2 * x", explain=None, plot=None):
    """The released notebook with answers filled in (None: left as released)."""
    nb = copy.deepcopy(released())
    for cell in nb.cells:
        gid = cell.metadata.nbgrader["grade_id"]
        new = {"double": double, "explain": explain, "plot": plot}.get(gid)
        if new is not None:
            cell.source = new
    return nb


def dumps(nb):
    return nbformat.writes(nb).encode()
