"""The built book in a real browser (headless Chromium): math typeset, figures loaded, no errors.

Pages are opened from disk (file://), as a reader opens the book offline. The browser runs with
background networking off, and any request that leaves the machine fails the test.
"""
import os
import re
import shutil
import sys

import pytest

from grading import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import book_pdf  # noqa: E402  (loads a page as make pdf prints it)

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        message = "Chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_page(browser, path, shot=None):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems, outside = [], []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed to load {r.url}: {r.failure}"))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:", "blob:")) else None)
    book_pdf.load(page, path)
    if shot:
        # kept beside the site (_build/screenshots) for a person to look at
        shots = next(p for p in path.parents if p.name == "html").parent / "screenshots"
        shots.mkdir(exist_ok=True)
        page.screenshot(path=str(shots / shot), full_page=True)
    return page, problems, outside


def test_chapter_1_typesets_math_loads_images_and_logs_no_errors(browser, site):
    page, problems, outside = open_page(browser, site / "chapters" / "01-perceptron.html",
                                        shot="01-perceptron.png")
    typeset = page.evaluate("document.querySelectorAll('mjx-container').length")
    assert typeset >= 20, f"only {typeset} formulas were typeset by MathJax"
    text = page.evaluate("document.querySelector('main').innerText")
    assert "$$" not in text and "\\frac" not in text and "\\mathbf" not in text, (
        "raw LaTeX is visible on the page: MathJax did not typeset it")
    images = page.evaluate("Array.from(document.images).map(i => [i.src, i.complete, i.naturalWidth])")
    figures = [img for img in images if "_images" in img[0]]
    assert len(figures) >= 3, f"expected the chapter's figures, found {images}"
    broken = [src for src, complete, width in images if not complete or width == 0]
    assert not broken, f"images that did not load: {broken}"
    assert not problems, "\n".join(problems)
    assert not outside, f"the page made requests off the machine: {outside}"
    page.close()


def test_every_page_opens_without_console_errors(browser, site):
    pages = sorted(p for p in site.rglob("*.html")
                   if not p.name.startswith(("genindex", "search")) and "_static" not in p.parts
                   and 'http-equiv="refresh"' not in p.read_text(encoding="utf-8").lower())
    assert pages
    for path in pages:
        page, problems, outside = open_page(browser, path)
        assert not problems, f"{path.relative_to(site)}:\n" + "\n".join(problems)
        # prose only (code blocks may hold backslashes): no LaTeX left untypeset
        prose = page.evaluate("""() => { const m = document.querySelector('main');
            if (!m) return ''; const c = m.cloneNode(true);
            c.querySelectorAll('pre, code, mjx-container').forEach(e => e.remove());
            return c.innerText; }""")
        raw = re.findall(r"\$\$|\\(?:frac|mathbf|sum|partial|sigma|mathrm|text|left|right)\b", prose)
        assert not raw, f"{path.relative_to(site)} shows raw LaTeX: {sorted(set(raw))}"
        assert not outside, f"{path.relative_to(site)} made requests off the machine: {outside}"
        page.close()
