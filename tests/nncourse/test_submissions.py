"""Reading submissions: folders and zips, names that are not UTF-8, entries that try to escape."""
import os
import zipfile

from nncourse import submissions
from nncourse.autograde import CellScore, NotebookResult, Status
from nncourse.check import table


def test_clean_name_keeps_utf8_and_escapes_other_bytes():
    assert submissions.clean_name("d\u00e9j\u00e0".encode()) == "d\u00e9j\u00e0"
    assert submissions.clean_name(b"caf\xe9") == "caf%E9"
    assert submissions.clean_name(b"\xff\xfeab") == "%FF%FEab"


def test_zip_entries_that_escape_are_refused_and_the_rest_read(tmp_path):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ann/nb.ipynb", b"{}")
        zf.writestr("../up.ipynb", b"{}")
        zf.writestr("/etc/abs.ipynb", b"{}")
        zf.writestr("ann/../../x.ipynb", b"{}")
        zf.writestr("loose.ipynb", b"{}")
        link = zipfile.ZipInfo("bob/link.ipynb")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, b"/etc/passwd")
        cp437 = zipfile.ZipInfo("caf\u00e9/nb.ipynb")  # stored without the UTF-8 flag
        cp437.flag_bits &= ~0x800
        zf.writestr(cp437, b"{}")
    subs, refused = submissions.collect(archive, "hw")
    assert set(subs) == {"ann", "caf\u00e9"} and subs["ann"].files == {"nb.ipynb": b"{}"}
    reasons = dict(refused)
    assert set(reasons) == {"../up.ipynb", "/etc/abs.ipynb", "ann/../../x.ipynb",
                            "loose.ipynb", "bob/link.ipynb"}
    assert not (tmp_path.parent / "up.ipynb").exists()


def test_folder_with_non_utf8_names_and_nbgrader_layout(tmp_path):
    os.makedirs(os.path.join(os.fsencode(tmp_path), b"caf\xe9", b"hw"))
    with open(os.path.join(os.fsencode(tmp_path), b"caf\xe9", b"hw", b"nb.ipynb"), "wb") as fh:
        fh.write(b"{}")
    (tmp_path / "empty").mkdir()
    subs, refused = submissions.collect(tmp_path, "hw")
    assert subs["caf%E9"].files == {"nb.ipynb": b"{}"} and subs["empty"].files == {}
    assert refused == []


def test_pick_notebook_grades_a_lone_misnamed_notebook_and_says_so():
    sub = submissions.Submission("a", {"Copy of nb.ipynb": b"x"})
    raw, notes = submissions.pick_notebook(sub, "nb", only_one=True)
    assert raw == b"x" and notes[0][0] == "renamed"
    raw, notes = submissions.pick_notebook(submissions.Submission("b", {"nb.py": b""}), "nb", True)
    assert raw is None and notes[0][0] == "invalid" and "nb.py" in notes[0][1]
    raw, notes = submissions.pick_notebook(submissions.Submission("c"), "nb", True)
    assert raw is None and notes[0][0] == "empty"


def test_roster_reads_the_id_column(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("name,id\nAnn,ann\nBob,bob\n")
    assert submissions.read_roster(roster) == ["ann", "bob"]


def test_digest_changes_with_content_only():
    a = submissions.Submission("a", {"nb.ipynb": b"1"})
    assert a.digest("s") == submissions.Submission("b", {"nb.ipynb": b"1"}).digest("s")
    assert a.digest("s") != submissions.Submission("a", {"nb.ipynb": b"2"}).digest("s")
    assert a.digest("s") != a.digest("other assignment version")


def test_table_lists_each_test_then_the_total():
    result = NotebookResult("ann", "nb", Status.GRADED, score=2.0, max_score=5.0, tests=[
        CellScore("test_a", 2.0, 2.0, ""),
        CellScore("test_b", 0.0, 3.0, "AssertionError: f(1) expected 2.0 got 3.0")])
    lines = table(result, "nb.ipynb").splitlines()
    assert lines[4].split() == ["test_a", "2", "/", "2"]
    assert lines[5].startswith("test_b") and lines[5].endswith("expected 2.0 got 3.0")
    assert lines[-1].split() == ["total", "2", "/", "5"]
