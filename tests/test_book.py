"""The book builds warning-free, offline, and never publishes a solution or a hidden test."""
import re
import sys
from html.parser import HTMLParser

import nbformat
import pytest
from jupyter_cache import get_cache

from grading import ROOT, nbgrader_meta

sys.path.insert(0, str(ROOT / "tools"))
import book_pdf  # noqa: E402  (the toc's pages in order)

pytestmark = pytest.mark.slow


def toc_files():
    return book_pdf.toc_pages()


def site_files(site):
    return [p for p in site.rglob("*") if p.is_file()]


def test_every_page_in_the_table_of_contents_is_built(site):
    for name in toc_files():
        assert (site / f"{name}.html").is_file(), f"{name} is in _toc.yml but has no page"


def test_chapters_are_all_in_the_table_of_contents():
    listed = set(toc_files())
    for nb in sorted((ROOT / "chapters").glob("*.ipynb")):
        assert f"chapters/{nb.stem}" in listed, f"{nb.name} is missing from _toc.yml"


def test_no_solutions_folder_reaches_the_site(site):
    leaked = [p for p in site_files(site) if "solutions" in p.relative_to(site).parts]
    assert not leaked, f"solutions/ reached the site: {leaked}"


def secret_lines():
    """Lines of solution code and hidden tests: they appear in solutions/, never in a release.
    A line that a release also shows (provided code, a visible test) or that a chapter teaches
    (a training loop, say) is public, not secret."""
    public_notebooks = sorted((ROOT / "exercises").rglob("*.ipynb")) + sorted(
        (ROOT / "chapters").glob("*.ipynb"))
    public = "\n".join(cell.source for path in public_notebooks
                       for cell in nbformat.read(str(path), as_version=4).cells)
    secrets = set()
    for path in sorted((ROOT / "solutions").rglob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            for block in re.findall(r"### BEGIN (?:SOLUTION|HIDDEN TESTS)\n(.*?)### END",
                                    cell.source, flags=re.S):
                for line in block.splitlines():
                    line = line.strip()
                    # long enough to be specific, and not also in a public release
                    if len(line) >= 30 and line not in public:
                        secrets.add(line)
    return secrets


def test_the_site_contains_no_solution_code_and_no_hidden_tests(site):
    secrets = secret_lines()
    assert len(secrets) >= 10, "too few solution lines found to make this check meaningful"
    for path in site_files(site):
        if path.suffix not in {".html", ".ipynb", ".js", ".txt", ".md", ".log", ".json"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        # the instructor guide names the markers in prose; a notebook or exercise page must not
        if path.suffix == ".ipynb" or "exercises" in path.relative_to(site).parts:
            for marker in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
                assert marker not in text, f"{path.relative_to(site)} contains '{marker}'"
        for line in secrets:
            # HTML escapes quotes and angle brackets; compare on the escaped form too
            escaped = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            assert line not in text and escaped not in text, (
                f"{path.relative_to(site)} contains a line of a solution: {line!r}")


class AssetParser(HTMLParser):
    """Collect what a page loads: script sources, stylesheets, icons, fonts, images."""

    def __init__(self):
        super().__init__()
        self.loads = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.loads.append(a["src"])
        elif tag == "link" and set((a.get("rel") or "").split()) & {
                "stylesheet", "preload", "icon", "modulepreload", "prefetch"}:
            self.loads.append(a.get("href", ""))
        elif tag in ("img", "iframe", "source") and a.get("src"):
            self.loads.append(a["src"])


EXTERNAL = re.compile(r"^(https?:)?//", re.I)


def test_pages_load_no_scripts_styles_or_fonts_from_outside(site):
    pages = list(site.rglob("*.html"))
    assert pages
    for page in pages:
        parser = AssetParser()
        parser.feed(page.read_text(encoding="utf-8"))
        outside = [url for url in parser.loads if EXTERNAL.match(url)]
        assert not outside, f"{page.relative_to(site)} loads from outside: {outside}"
    for css in site.rglob("*.css"):
        urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", css.read_text(encoding="utf-8", errors="replace"))
        urls += re.findall(r"@import\s+['\"]([^'\"]+)", css.read_text(encoding="utf-8", errors="replace"))
        outside = [u for u in urls if EXTERNAL.match(u)]
        assert not outside, f"{css.relative_to(site)} loads from outside: {outside}"


def test_math_is_rendered_by_the_bundled_mathjax(site):
    page = (site / "chapters" / "01-perceptron.html").read_text(encoding="utf-8")
    src = re.search(r'<script[^>]*src="([^"]*mathjax[^"]*)"', page)
    assert src, "chapter 1 does not load MathJax"
    local = (site / "chapters" / src.group(1).split("?")[0]).resolve()
    assert local.is_file(), f"MathJax is not in the site: {src.group(1)}"
    assert 'class="math' in page, "chapter 1 has no math for MathJax to typeset"


def test_exercise_pages_are_rendered_without_being_executed(site):
    for nb_path in sorted((ROOT / "exercises").rglob("*.ipynb")):
        page = site / nb_path.relative_to(ROOT).with_suffix(".html")
        html = page.read_text(encoding="utf-8")
        assert "NotImplementedError" in html, f"{page.name}: the stubs are missing"
        assert "Traceback" not in html and "cell_output" not in html, (
            f"{page.relative_to(site)} shows outputs: exercise pages must not be executed")


def test_chapter_pages_show_their_figures(site):
    for nb in sorted((ROOT / "chapters").glob("*.ipynb")):
        page = site / "chapters" / f"{nb.stem}.html"
        images = re.findall(r'<img[^>]*src="([^"]+)"', page.read_text(encoding="utf-8"))
        assert images, f"{page.name} shows no figure"
        for src in images:
            assert (page.parent / src).resolve().is_file(), f"{page.name}: missing image {src}"
