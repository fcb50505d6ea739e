"""Hints: every graded test has one that points into the book, and the failure history counts."""
import json

import pytest

from nncourse import hints
from nncourse.release import assignments

from grading import ROOT, nbgrader_meta

ASSIGNMENTS = assignments(ROOT)


def headings(chapter):
    nb = json.loads((ROOT / "chapters" / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    return {line.lstrip("#").strip() for cell in nb["cells"] if cell["cell_type"] == "markdown"
            for line in "".join(cell["source"]).splitlines() if line.startswith("#")}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_test_has_a_hint_that_links_a_section_of_the_book(assignment):
    folder = ROOT / "solutions" / assignment
    table = hints.load(folder)
    graded = {nbgrader_meta(c)["grade_id"] for p in folder.glob("*.ipynb")
              for c in json.loads(p.read_text(encoding="utf-8"))["cells"]
              if nbgrader_meta(c).get("grade")}
    assert set(table) == graded, f"{assignment}/hints.toml does not match the graded tests"
    for gid, entry in table.items():
        missing = [f for f in hints.FIELDS if not entry.get(f)]
        assert not missing, f"{assignment}/{gid}: hint without {missing}"
        assert entry["section"] in headings(entry["chapter"]), (
            f"{assignment}/{gid}: chapter {entry['chapter']} has no section '{entry['section']}'")


def test_the_second_hint_comes_after_three_failures_in_a_row():
    entry = dict(concept="the step", chapter="01-perceptron", section="The perceptron",
                 hint="1 where z >= 0.", more="look at z = 0.")
    assert hints.advice(entry, 1) == [
        "Hint (the step): 1 where z >= 0.",
        '  Read: chapter 01-perceptron, section "The perceptron" '
        "(../../chapters/01-perceptron.ipynb#The-perceptron)"]
    assert not any("Where to look" in line for line in hints.advice(entry, 2))
    assert hints.advice(entry, 3)[-1] == "Failed 3 times in a row. Where to look: look at z = 0."
    assert hints.advice(None, 5) == []


def test_the_history_counts_failures_in_a_row_and_a_pass_resets_them(tmp_path):
    assert [hints.record(tmp_path, {"t": False})["t"] for _ in range(3)] == [1, 2, 3]
    assert hints.record(tmp_path, {"t": True, "u": False}) == {"t": 0, "u": 1}
    assert hints.record(tmp_path, {"t": False})["t"] == 1
    hints.record(tmp_path, {}, check=dict(notebook="a.ipynb", score=3.0, max_score=8))
    saved = hints.read_history(tmp_path)
    assert saved["checks"]["a.ipynb"]["score"] == 3.0 and saved["tests"]["u"]["streak"] == 1


def test_a_broken_history_file_starts_afresh(tmp_path):
    (tmp_path / hints.HISTORY).write_text("{half a file")
    assert hints.record(tmp_path, {"t": False}) == {"t": 1}
