"""References a reader can follow: every cited work in the bibliography, every chapter with a short
further-reading list, every glossary term linked from a chapter, an A-Z index on the glossary."""
import json
import re

import pytest

from grading import ROOT

BIB = (ROOT / "references.bib").read_text()
KEYS = re.findall(r"^@\w+\{([\w-]+),", BIB, flags=re.M)
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]-*.ipynb"))
GLOSSARY = (ROOT / "chapters" / "glossary.md").read_text()
TERMS = [line for line in GLOSSARY.split("```{glossary}")[1].split("\n```")[0].splitlines()
         if line and not line.startswith((" ", ":"))]


def markdown(path):
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def cited(text):
    return [key for group in re.findall(r"\{cite:[pt]\}`([^`]+)`", text)
            for key in group.split(",")]


def test_the_bibliography_holds_the_works_the_course_relies_on():
    required = ["rosenblatt1958", "novikoff1962", "rumelhart1986", "lecun1998", "hochreiter1997",
                "glorot2010", "he2015", "srivastava2014", "ioffe2015", "kingma2015",
                "loshchilov2019", "vaswani2017"]
    assert not set(required) - set(KEYS), f"missing from references.bib: {set(required) - set(KEYS)}"
    assert len(KEYS) == len(set(KEYS)), "a key appears twice in references.bib"
    for entry in re.split(r"\n(?=@)", BIB)[1:]:
        for field in ("author", "title", "year"):
            assert re.search(rf"^\s+{field}\s*=", entry, flags=re.M), f"no {field}: {entry[:60]}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_each_chapter_cites_known_works_and_ends_with_further_reading(path):
    text = markdown(path)
    unknown = set(cited(text)) - set(KEYS)
    assert not unknown, f"{path.name} cites keys that references.bib lacks: {unknown}"
    assert not re.search(r"\b[A-Z][a-z]+ (?:et al\.|and [A-Z][a-z]+),? \(?(?:19|20)\d\d\b", text), (
        f"{path.name} names a work as plain text; cite it with {{cite:p}}`key`")
    reading = text.split("## Further reading", 1)
    assert len(reading) == 2, f"{path.name} has no 'Further reading' section"
    items = re.findall(r"^- \{cite:t\}`(\w+)`", reading[1], flags=re.M)
    assert 2 <= len(items) <= 4, f"{path.name}: {len(items)} further-reading items, not 2 to 4"


def test_every_glossary_term_is_linked_from_some_chapter():
    linked = set()
    for path in CHAPTERS + [ROOT / "chapters" / "notation.md"]:
        text = markdown(path) if path.suffix == ".ipynb" else path.read_text()
        linked |= set(re.findall(r"\{term\}`[^`<]*<([^>`]+)>`", text))
    assert len(TERMS) >= 70
    assert not set(TERMS) - linked, f"glossary terms no chapter links to: {set(TERMS) - linked}"
    assert not linked - set(TERMS), f"links to terms the glossary lacks: {linked - set(TERMS)}"


def test_the_glossary_opens_with_a_link_to_each_letter_that_has_terms():
    index = re.search(r"^\*\*A–Z:\*\* (.*)$", GLOSSARY, flags=re.M)
    assert index, "no A–Z line on the glossary page"
    letters = dict(re.findall(r"\{term\}`(\w) <([^>]+)>`", index.group(1)))
    assert sorted(letters) == sorted({t[0].upper() for t in TERMS})
    for letter, term in letters.items():
        first = min((t for t in TERMS if t[0].upper() == letter), key=str.lower)
        assert term == first, f"{letter} links to {term}, not to the first {letter} term {first}"


@pytest.mark.slow
def test_the_bibliography_page_lists_every_entry(site):
    page = (site / "chapters" / "bibliography.html").read_text()
    # (the bibliography style writes titles in sentence case)
    text = re.sub(r"<[^>]+>", "", page).lower()
    for entry in re.split(r"\n(?=@)", BIB)[1:]:
        title = re.search(r"title\s*=\s*\{(.*)\},?\n", entry).group(1)
        words = re.sub(r"[{}\\`'\"]", "", title).lower().split()[:4]
        assert " ".join(words) in re.sub(r"\s+", " ", text), f"not on the page: {title}"
