"""The self-check's warm-up: what the hidden tests import is loaded in the background, once."""
import sys

import nbformat

from grading import ROOT
from nncourse import selfcheck


def solutions_with_hidden_test(folder, hidden):
    folder.mkdir()
    cell = nbformat.v4.new_code_cell(
        f"assert True\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS",
        metadata={"nbgrader": {"grade": True, "grade_id": "test_it", "points": 1,
                               "schema_version": 3, "solution": False, "locked": True}})
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), str(folder / "task.ipynb"))
    return folder


def test_the_hidden_tests_imports_are_found_in_the_course():
    assert selfcheck.hidden_imports(ROOT / "solutions" / "07-cnn") == ["torch", "torch.nn.functional"]
    # its optimizers import torch._dynamo the first time one is made: 1.3 s more
    assert selfcheck.hidden_imports(ROOT / "solutions" / "06-training") == \
        ["torch", "torch._dynamo"]


def test_warm_up_imports_them_in_the_background_once(tmp_path, monkeypatch):
    (tmp_path / "warm_probe_module.py").write_text("LOADED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "warm_probe_module", raising=False)
    monkeypatch.setattr(selfcheck, "_warming", None)
    solutions = solutions_with_hidden_test(
        tmp_path / "solutions", "import warm_probe_module\nfrom json import dumps\n"
                                "from . import nothing_relative")
    assert selfcheck.hidden_imports(solutions) == ["warm_probe_module", "json"]
    thread = selfcheck.warm_up(solutions)
    assert thread is not None and thread.daemon
    thread.join(timeout=30)
    assert sys.modules["warm_probe_module"].LOADED
    assert selfcheck.warm_up(solutions) is None, "once per kernel"


def test_no_warm_up_without_solutions_or_for_a_broken_hidden_test(tmp_path, monkeypatch):
    monkeypatch.setattr(selfcheck, "_warming", None)
    assert selfcheck.warm_up(None) is None
    broken = solutions_with_hidden_test(tmp_path / "solutions", "import (")
    assert selfcheck.hidden_imports(broken) == []
