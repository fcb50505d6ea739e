"""`make pdf`: the whole book in one PDF, read back with pypdf: every chapter, in order, with its
figures, typeset math and the interview answers that the screen keeps folded."""
import json
import re
import subprocess
import sys
import unicodedata

import pytest
from pypdf import PdfReader

from grading import ROOT
from test_browser import CHROMIUM

pytestmark = [pytest.mark.slow, pytest.mark.browser]
QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def words(text):
    """Text as both the source and the PDF give it: ligatures (fi) and curly quotes undone, a word
    broken at a line's end joined again, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(QUOTES)
    return re.sub(r"(?<=\w)- (?=\w)", "-", " ".join(text.split()))


def chapter_titles():
    titles = {}
    for path in sorted((ROOT / "chapters").glob("[0-9][0-9]-*.ipynb")):
        first = "".join(json.loads(path.read_text())["cells"][0]["source"])
        titles[path.stem] = re.match(r"# (.+)", first).group(1).strip()
    return titles


def interview_answers():
    """The first sentence of some answers, where it has no math or code to typeset."""
    cells = json.loads((ROOT / "chapters" / "10-interview.ipynb").read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    answers = re.findall(r":class: dropdown\n(.*?)\n:::", text, flags=re.S)
    # a glossary link prints as its text
    plain = [words(re.sub(r"\{term\}`([^`<]*?) <[^>]+>`", r"\1", a)).split(". ")[0] for a in answers]
    return [a for a in plain if not re.search(r"[$`*{\[]", a) and len(a.split()) >= 6]


@pytest.fixture(scope="module")
def book(site, tmp_path_factory):
    if CHROMIUM is None:
        pytest.fail("Chromium is needed for make pdf (apt-get install chromium)")
    out = tmp_path_factory.mktemp("pdf") / "book.pdf"
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "book_pdf.py"), str(site),
                             str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    reader = PdfReader(out)
    return reader, [words(page.extract_text()) for page in reader.pages]


def test_every_chapter_is_in_the_pdf_in_order(book):
    reader, pages = book
    outline = [item.title for item in reader.outline]
    titles = list(chapter_titles().values())
    found = [next((i for i, t in enumerate(outline) if title in t), None) for title in titles]
    assert None not in found, f"chapters without a bookmark: {[t for t, i in zip(titles, found) if i is None]}"
    assert found == sorted(found), "the chapters are out of order"
    text = " ".join(pages)
    for title in titles:
        assert title in text, f"chapter '{title}' is not in the PDF's text"


def test_the_interview_answers_are_printed_open(book):
    _, pages = book
    text = " ".join(pages)
    answers = interview_answers()
    assert len(answers) >= 10
    missing = [a for a in answers if a not in text]
    assert not missing, f"{len(missing)} of {len(answers)} answers are not printed, e.g. {missing[:3]}"


def test_figures_and_math_are_printed(book, site):
    reader, pages = book
    figures = sum(len(re.findall(r'<img [^>]*src="[^"]*_images/', p.read_text()))
                  for p in (site / "chapters").glob("[0-9][0-9]-*.html"))
    images = sum(len(page.images) for page in reader.pages)
    assert figures >= 30 and images >= figures, f"{images} images in the PDF, {figures} figures"
    # (code cells may hold LaTeX for plot labels; display-math delimiters only prose has)
    raw = [i for i, p in enumerate(pages) if re.search(r"\$\$|\\begin\{(?:aligned|align|equation)", p)]
    assert not raw, f"untypeset LaTeX on PDF pages {raw}"
