"""The interview chapter as a reader links to it and prints it: every question a heading with a
stable anchor in the page contents, every answer hidden on screen and shown on paper."""
import json
import re

import pytest

from grading import ROOT
from test_browser import browser, open_page  # noqa: F401  (browser is a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CHAPTER = ROOT / "chapters" / "10-interview.ipynb"


def questions():
    """(label, number) of every question, read from the notebook's markdown."""
    cells = json.loads(CHAPTER.read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    found = re.findall(r"^\((q-[a-z0-9-]+)\)=\n### (\d+)\. ", text, flags=re.M)
    return [(label, int(number)) for label, number in found]


def test_every_question_is_a_numbered_heading_with_its_own_label():
    found = questions()
    assert len(found) >= 70, f"only {len(found)} labelled question headings in the chapter"
    assert [n for _, n in found] == list(range(1, len(found) + 1)), "questions out of order"
    labels = [label for label, _ in found]
    assert len(set(labels)) == len(labels), "two questions share a label"
    source = CHAPTER.read_text()
    assert not re.search(r"\*\*\d+\. [^*]+\*\* \*\*\[", source), "a question is still bold text"


@pytest.fixture(scope="module")
def interview(browser, site):  # noqa: F811
    page, problems, outside = open_page(browser, site / "chapters" / "10-interview.html")
    assert not problems, "\n".join(problems)
    yield page
    page.close()


def test_every_question_has_an_anchor_and_a_link_in_the_page_contents(interview):
    ids = set(interview.evaluate("Array.from(document.querySelectorAll('main [id]'), e => e.id)"))
    toc = set(interview.evaluate(
        "Array.from(document.querySelectorAll('.bd-toc a[href^=\"#\"]'), a => a.hash.slice(1))"))
    for label, number in questions():
        assert label in ids, f"question {number}: no element with id '{label}'"
        # the label's anchor sits just before the heading; the page contents link to its section
        heading, section = interview.evaluate(f"""(() => {{
            const h = document.getElementById('{label}').nextElementSibling;
            return h && h.tagName === 'H3' ? [h.textContent, h.closest('section').id] : ['', '']; }})()""")
        text = re.sub(r"^\d+(\.\d+)+\.\s+", "", heading)  # the section number the book adds
        assert text.startswith(f"{number}. "), f"#{label} is not at the heading of question {number}"
        assert section in toc, f"question {number} is missing from the page contents"


def answers_shown(page):
    """For each answer dropdown: is its first paragraph visible, with some height?"""
    return page.evaluate("""Array.from(document.querySelectorAll('main .admonition.dropdown'), a => {
        const p = a.querySelector('.admonition-title ~ *');
        const s = getComputedStyle(p);
        return s.visibility === 'visible' && p.getBoundingClientRect().height > 0; })""")


def test_answers_are_hidden_on_screen_and_printed(interview):
    interview.emulate_media(media="screen")
    screen = answers_shown(interview)
    assert len(screen) >= len(questions()), f"{len(screen)} answer dropdowns found"
    assert not any(screen), f"{sum(screen)} answers are open on screen"
    interview.emulate_media(media="print")
    printed = answers_shown(interview)
    assert all(printed), f"{printed.count(False)} of {len(printed)} answers do not print"
    interview.emulate_media(media="screen")
