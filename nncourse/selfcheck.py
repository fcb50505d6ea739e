"""The hidden tests of a task, run in the notebook right after its visible tests.

Each graded test cell starts with ``self_check("test_step")``. In a learner's notebook (the
released copy, hidden tests removed) that call asks IPython to run, once the cell has finished,
the hidden tests of ``test_step`` read from the course's ``solutions/`` folder, and to end the
cell's output with one line::

    hidden tests of test_step: 3 of 3 passed

or, when one fails, an error output that says which and why (expected against actual, never the
test's source), followed by the test's hint. Where the visible tests failed, or where the course
holds no ``solutions/`` (a learner given only ``exercises/``), the line says so.

The call adds nothing where the cell holds its own hidden tests, i.e. when nbgrader or
``nncourse check`` grades the notebook, or in the instructor's copy: there it only makes errors
raised in the learner's code say where (``nncourse.explain``). Scores never depend on it.
"""
import ast
import contextlib
import importlib
import io
import json
import linecache
import os
import sys
import threading
import warnings
from pathlib import Path

from . import explain, hints

__all__ = ["self_check"]

HIDDEN = "<hidden tests>"
MARK = "BEGIN HIDDEN TESTS"
_pending = {}       # grade_id -> the callback waiting for its cell to finish
_notebooks = {}     # path -> (mtime, {grade_id: hidden source})
_warming = None     # the thread importing what the hidden tests use


def hidden_regions(source):
    """The code between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` in a cell."""
    out, keep = [], None
    for line in source.splitlines():
        if MARK in line:
            keep = []
        elif "END HIDDEN TESTS" in line and keep is not None:
            out.append("\n".join(keep))
            keep = None
        elif keep is not None:
            keep.append(line)
    return [r for r in out if r.strip()]


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def self_check(grade_id):
    """Run the hidden tests of ``grade_id`` once the calling cell finishes (see module doc)."""
    shell = _shell()
    if shell is None:
        return
    explain.install(shell)
    cell = sys._getframe(1).f_code.co_filename
    if MARK in "".join(linecache.getlines(cell)):
        return  # graded, or the instructor's copy: the hidden tests are in this very cell
    if grade_id in _pending:
        return
    warm_up(course_of(Path.cwd()))

    def after_cell(result):
        shell.events.unregister("post_run_cell", after_cell)
        _pending.pop(grade_id, None)
        report(shell, grade_id, Path.cwd(), failed_visible=result.error_in_exec is not None)

    _pending[grade_id] = after_cell
    shell.events.register("post_run_cell", after_cell)


def hidden_imports(solutions):
    """The modules the hidden tests of a solutions folder import, in order, once each; and
    ``torch._dynamo`` where they use ``torch.optim`` (PyTorch imports it the first time an
    optimizer is made)."""
    names = []
    for path in sorted(Path(solutions).glob("*.ipynb")):
        for source in _hidden_sources(path).values():
            try:
                tree = ast.parse(source)
            except SyntaxError:  # reported when that test runs
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names += [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.append(node.module)
                elif isinstance(node, ast.Attribute) and node.attr == "optim" and \
                        getattr(node.value, "id", None) == "torch":
                    names.append("torch._dynamo")
    return list(dict.fromkeys(names))


def warm_up(solutions):
    """Import, in a background thread, what the exercise's hidden tests import and the kernel has
    not: PyTorch mostly, 1.3 s on an idle 2-core machine, and as long again for
    ``torch._dynamo``. Started by the first graded test cell the learner runs, so the tests of
    the tasks after it need not wait: writing an answer takes longer than the imports. Once per
    kernel; returns the thread (None when there is nothing to do)."""
    global _warming
    if _warming is not None or solutions is None:
        return None
    names = [n for n in hidden_imports(solutions) if n not in sys.modules]

    def run():
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:  # the hidden test that needs it will say what is missing
                pass

    _warming = threading.Thread(target=run, name="nncourse-warm-up", daemon=True)
    _warming.start()
    return _warming


def course_of(folder):
    """(solutions folder of this exercise, or None) for an exercise folder ``exercises/NAME``."""
    folder = Path(folder).resolve()
    if folder.parent.name != "exercises":
        return None
    src = folder.parent.parent / "solutions" / folder.name
    return src if src.is_dir() else None


def _hidden_sources(path):
    """grade_id -> the hidden tests of that cell, for one solutions notebook (read once per
    change of the file)."""
    mtime = path.stat().st_mtime
    cached = _notebooks.get(path)
    if cached is None or cached[0] != mtime:
        cells = {}
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            src = cell.get("source", "")
            src = "".join(src) if isinstance(src, list) else src
            if gid and MARK in src:
                cells[gid] = "\n".join(hidden_regions(src))
        cached = _notebooks[path] = (mtime, cells)
    return cached[1]


def hidden_source(solutions, grade_id):
    """The hidden tests of ``grade_id`` in a solutions folder, or None."""
    for path in sorted(Path(solutions).glob("*.ipynb")):
        cells = _hidden_sources(path)
        if grade_id in cells:
            return cells[grade_id]
    return None


def _is_check(node):
    for sub in ast.walk(node):
        if isinstance(sub, ast.Assert):
            return True
        if isinstance(sub, ast.Call) and getattr(sub.func, "id", "").startswith("assert"):
            return True
    return False


def run_hidden(source, namespace):
    """Run hidden tests statement by statement in a copy of ``namespace``.

    A test is a top-level statement that asserts something (a loop of checks is one test).
    Return (passed, total, the exception that stopped them or None). Output and warnings of the
    learner's code are swallowed: the line that reports the result is the cell's last output.
    """
    tree = ast.parse(source)
    total = sum(map(_is_check, tree.body))
    passed, ns = 0, dict(namespace)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        for node in tree.body:
            code = compile(ast.Module([node], type_ignores=[]), HIDDEN, "exec")
            try:
                exec(code, ns)
            except Exception as exc:  # the learner's function failed a hidden test
                return passed, total, exc
            passed += _is_check(node)
    return passed, total, None


def _ordinal(n):
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def report(shell, grade_id, folder, failed_visible=False):
    """Run the hidden tests of ``grade_id`` for the notebook in ``folder``; show the result."""
    entry = hints.load(folder).get(grade_id)
    solutions = course_of(folder)
    source = hidden_source(solutions, grade_id) if solutions else None
    if failed_visible:
        head, failure = f"hidden tests of {grade_id}: not run, a visible test above failed", None
    elif source is None:
        print(f"hidden tests of {grade_id}: not in this copy of the course (it has no "
              f"solutions/ folder); they run when your work is graded")
        return None
    else:
        passed, total, failure = run_hidden(source, shell.user_ns)
        if failure is None:
            hints.record(folder, {grade_id: True})
            print(f"hidden tests of {grade_id}: {passed} of {total} passed")
            return True
        head = (f"hidden tests of {grade_id}: {passed} of {total} passed, "
                f"the {_ordinal(passed + 1)} failed")
    streak = hints.record(folder, {grade_id: False})[grade_id]
    lines = [head] + hints.advice(entry, streak)
    if failure is None:
        print("\n".join(lines))
        return False
    evalue = "\n".join([head, explain.message(failure, shell, skip_first=False), *lines[1:]])
    # an error output, as a failing cell has: nbgrader's Validate counts it as a failed test
    shell._showtraceback(type(failure), evalue, [f"{type(failure).__name__}: {evalue}"])
    return False
