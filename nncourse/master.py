"""The master copy of an assignment: what nbgrader knows about it, built once per run.

``build(assignment, db_url)`` runs nbgrader's ``generate_assignment`` on ``solutions/ASSIGNMENT``
in a throwaway course folder with ``--CourseDirectory.db_url`` pointing at the gradebook, so the
gradebook holds the assignment, its notebooks, graded cells, points and source cells exactly as
``nbgrader generate_assignment`` stores them. It then reads them back into a ``Master``: a small,
picklable object that each worker gets once, so no worker ever opens the gradebook.
"""
import ast
import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from . import course as course_mod
from . import release
from .selfcheck import hidden_regions as _hidden_regions

COURSE_ROOT = release.COURSE_ROOT


@dataclass
class NotebookMaster:
    name: str
    source_cells: dict          # grade_id -> {cell_type, source, checksum, locked}
    grade_cells: dict           # grade_id -> {max_score, cell_type}
    solution_cells: list        # grade_ids
    task_cells: dict            # grade_id -> {max_score}
    order: list                 # grade_ids in source order
    metadata: dict              # grade_id -> the released cell's nbgrader metadata
    released: dict              # grade_id -> the released cell's source (hidden tests removed)
    kernelspec: dict
    protect: list               # modules the test and read-only cells import
    hidden_tests: list          # the hidden test regions' source, never shown to learners

    @property
    def max_score(self):
        return sum(c["max_score"] for c in self.grade_cells.values()) + \
            sum(c["max_score"] for c in self.task_cells.values())

    def tests(self):
        """The graded cells, in notebook order."""
        return [g for g in self.order if g in self.grade_cells]

    def graded_cells(self):
        """grade_id -> {max_score, kind} for every cell the gradebook holds a grade of (graded
        cells and tasks), in notebook order; kind is "test" (autograded), "manual" (an answer a
        person grades) or "task"."""
        out = {}
        for g in self.order:
            if g in self.task_cells:
                out[g] = dict(max_score=self.task_cells[g]["max_score"], kind="task")
            elif g in self.grade_cells:
                manual = g in self.solution_cells or \
                    self.grade_cells[g]["cell_type"] == "markdown"
                out[g] = dict(max_score=self.grade_cells[g]["max_score"],
                              kind="manual" if manual else "test")
        return out


@dataclass
class Master:
    assignment: str
    notebooks: dict             # notebook name -> NotebookMaster
    files: dict = field(default_factory=dict)   # relative path -> bytes, copied beside notebooks
    digest: str = ""

    @property
    def max_score(self):
        return sum(nb.max_score for nb in self.notebooks.values())


def solutions_digest(assignment, root=COURSE_ROOT):
    """A hash of the assignment's source folder and the course's configuration: a change means
    the master copy (and the grades) must be made again."""
    h = hashlib.sha256()
    course = course_mod.load(root)
    src = course.require(assignment)
    h.update((course.root / course_mod.CONFIG).read_bytes())  # stubs, ignore patterns, ...
    for p in sorted(src.rglob("*")):
        if p.is_file() and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(src)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def _imports(sources):
    mods = set()
    for src in sources:
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                mods.add(node.module)
    return sorted(mods)


def test_imports(assignment, root=COURSE_ROOT):
    """What the read-only and test cells of ``solutions/ASSIGNMENT`` import, read straight from
    the notebooks: enough to warm a fork server before the gradebook has the assignment."""
    import nbformat
    sources = []
    for p in sorted(course_mod.load(root).require(assignment).glob("*.ipynb")):
        for cell in nbformat.read(p, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and (meta.get("locked") or meta.get("grade")) \
                    and not meta.get("solution"):
                sources.append(cell.source)
    return _imports(sources)


def build(assignment, db_url, root=COURSE_ROOT):
    """Store ``solutions/ASSIGNMENT`` in the gradebook at ``db_url`` and return its Master."""
    import nbformat
    from nbgrader.api import Gradebook
    root = Path(root)
    with tempfile.TemporaryDirectory(prefix="nncourse-master-") as tmp:
        course = release.copy_course(assignment, tmp, root)
        release.nbgrader_command("generate_assignment", assignment, "--force",
                                 f"--CourseDirectory.db_url={db_url}", course_root=course)
        released = course / course_mod.load(root).release_directory / assignment
        files = {str(p.relative_to(released)): p.read_bytes()
                 for p in sorted(released.rglob("*")) if p.is_file() and p.suffix != ".ipynb"}
        metadata, released_sources = {}, {}
        for p in sorted(released.glob("*.ipynb")):
            nb = nbformat.read(p, as_version=4)
            cells = [c for c in nb.cells if "grade_id" in c.metadata.get("nbgrader", {})]
            metadata[p.stem] = {c.metadata.nbgrader["grade_id"]: dict(c.metadata.nbgrader)
                                for c in cells}
            released_sources[p.stem] = {c.metadata.nbgrader["grade_id"]: c.source for c in cells}
    notebooks = {}
    course_mod.quiet_sqlalchemy()
    with Gradebook(db_url) as gb:
        a = gb.find_assignment(assignment)
        for nb in a.notebooks:
            source_cells = {c.name: dict(cell_type=c.cell_type, source=c.source,
                                         checksum=c.checksum, locked=c.locked)
                            for c in nb.source_cells}
            grade_cells = {c.name: dict(max_score=float(c.max_score), cell_type=c.cell_type)
                           for c in nb.grade_cells}
            tests = [s for n, s in source_cells.items()
                     if s["locked"] and s["cell_type"] == "code"]
            notebooks[nb.name] = NotebookMaster(
                name=nb.name, source_cells=source_cells, grade_cells=grade_cells,
                solution_cells=[c.name for c in nb.solution_cells],
                task_cells={c.name: dict(max_score=float(c.max_score)) for c in nb.task_cells},
                order=[c.name for c in nb.source_cells],
                metadata=metadata.get(nb.name, {}),
                released=released_sources.get(nb.name, {}),
                kernelspec=_kernelspec(nb.kernelspec),
                protect=_imports(s["source"] for s in tests),
                hidden_tests=[r for s in tests for r in _hidden_regions(s["source"])])
    return Master(assignment=assignment, notebooks=notebooks, files=files,
                  digest=solutions_digest(assignment, root))


def cache_dir(root=COURSE_ROOT):
    """Where a course keeps what it can make again: ``.nncourse-cache/`` (ignored by git)."""
    d = Path(root) / ".nncourse-cache"
    d.mkdir(exist_ok=True)
    return d


def cached(assignment, root=COURSE_ROOT):
    """The Master of ``assignment``, made once per version of its source folder (its digest):
    checking a notebook again costs no ``generate_assignment`` while the solutions are unchanged."""
    import os
    import pickle
    digest = solutions_digest(assignment, root)
    path = cache_dir(root) / f"master-{assignment}-{digest[:16]}.pickle"
    try:
        with open(path, "rb") as fh:
            m = pickle.load(fh)
        if isinstance(m, Master) and m.digest == digest:
            return m
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
        pass
    with tempfile.TemporaryDirectory(prefix="nncourse-master-") as tmp:
        m = build(assignment, f"sqlite:///{tmp}/gradebook.db", root=root)
    for old in cache_dir(root).glob(f"master-{assignment}-*.pickle"):
        old.unlink(missing_ok=True)
    part = path.with_suffix(f".{os.getpid()}.tmp")
    with open(part, "wb") as fh:
        pickle.dump(m, fh)
    os.replace(part, path)
    return m


def _kernelspec(text):
    import json
    try:
        return json.loads(text) if text else {"name": "python3", "display_name": "Python 3",
                                              "language": "python"}
    except ValueError:
        return {"name": "python3", "display_name": "Python 3", "language": "python"}


class MasterGradebook:
    """What nbgrader's OverwriteCells asks of a Gradebook, answered from a Master."""

    def __init__(self, nbmaster):
        self.nb = nbmaster

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def find_source_cell(self, grade_id, notebook, assignment):
        from nbgrader.api import MissingEntry
        if grade_id not in self.nb.source_cells:
            raise MissingEntry()
        return SimpleNamespace(name=grade_id, **self.nb.source_cells[grade_id])

    def find_graded_cell(self, grade_id, notebook, assignment):
        if grade_id in self.nb.grade_cells:
            return SimpleNamespace(name=grade_id, **self.nb.grade_cells[grade_id])
        if grade_id in self.nb.task_cells:
            return SimpleNamespace(name=grade_id, cell_type="markdown",
                                   **self.nb.task_cells[grade_id])
        from nbgrader.api import MissingEntry
        raise MissingEntry()

    def find_notebook(self, notebook, assignment):
        order = self.nb.order
        return SimpleNamespace(
            source_cells=[self.find_source_cell(g, notebook, assignment) for g in order],
            grade_cells=[self.find_graded_cell(g, notebook, assignment)
                         for g in order if g in self.nb.grade_cells],
            solution_cells=[SimpleNamespace(name=g) for g in self.nb.solution_cells],
            task_cells=[self.find_graded_cell(g, notebook, assignment)
                        for g in order if g in self.nb.task_cells])
