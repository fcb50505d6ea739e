"""The master copy of an assignment, and what happens without bubblewrap."""
import pytest

from nncourse import master, sandbox
from conftest import TOY_ROOT


def test_master_reads_points_hidden_tests_and_imports_from_the_gradebook(tmp_path):
    m = master.build("00-toy", f"sqlite:///{tmp_path / 'gb.db'}", root=TOY_ROOT)
    nb = m.notebooks["toy"]
    assert nb.tests() == ["test_double", "test_relu"]
    assert {g: c["max_score"] for g, c in nb.grade_cells.items()} == {"test_double": 2.0,
                                                                     "test_relu": 3.0}
    assert m.max_score == 5.0
    assert [("SECRET_DOUBLE_HIDDEN" in h, "SECRET_RELU_HIDDEN" in h) for h in nb.hidden_tests] \
        == [(True, False), (False, True)]
    # the released test cells lost their hidden part; the master keeps both versions
    assert "SECRET" not in nb.released["test_double"]
    assert "SECRET_DOUBLE_HIDDEN" in nb.source_cells["test_double"]["source"]
    assert nb.protect == ["numpy", "numpy.testing"]


def test_missing_bwrap_warns_naming_what_is_lost(monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    said = []
    with pytest.warns(RuntimeWarning, match="WITHOUT a sandbox"):
        assert sandbox.require_bwrap(log=said.append) is False
    assert "solutions/" in said[0] and "network" in said[0]


def test_missing_bwrap_is_an_error_in_ci(monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(RuntimeError, match="required in CI"):
        sandbox.require_bwrap()


def test_bwrap_is_usable_here():
    # CI installs bubblewrap; a machine without it must not pass this silently
    assert sandbox.bwrap_available(), "bubblewrap is missing: apt-get install bubblewrap"
