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


WIDTHS = [390, 768, 1280]   # a phone, a tablet, a laptop


def open_page(browser, path, shot=None, width=1280):
    page = browser.new_page(viewport={"width": width, "height": 900})
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


# what makes a page wider than the window: elements past its right edge that no scrolling box holds
SIDEWAYS = """() => { const width = document.documentElement.clientWidth; const wide = [];
    const held = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement)
        if (getComputedStyle(a).overflowX !== 'visible') return true; return false; };
    for (const e of document.querySelectorAll('body *')) { const r = e.getBoundingClientRect();
        if (r.width > 0 && r.right > width + 1 && !held(e)) wide.push(`${e.tagName}.${e.className}`); }
    return [document.documentElement.scrollWidth, width, wide.slice(0, 4)]; }"""


def test_every_page_opens_without_console_errors_or_sideways_scroll(browser, site):
    """Each page is loaded once, at 1280 px, and checked for sideways scroll at every width."""
    pages = book_pages(site)
    assert pages
    for path in pages:
        page, problems, outside = open_page(browser, path)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            scroll, client, wide = page.evaluate(SIDEWAYS)
            assert scroll <= client, (f"{path.relative_to(site)} at {width} px is {scroll} px wide "
                                      f"and scrolls sideways; too wide: {wide}")
        page.set_viewport_size({"width": 1280, "height": 900})
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


def book_pages(site):
    return sorted(p for p in site.rglob("*.html")
                  if not p.name.startswith(("genindex", "search")) and "_static" not in p.parts
                  and "reports" not in p.parts
                  and 'http-equiv="refresh"' not in p.read_text(encoding="utf-8").lower())


def visible(page, selector):
    return page.locator(selector).filter(visible=True)


def assert_sidebar_opens(browser, path, width, link, toggle, what):
    """``link`` is on screen at ``width``: at once, or after a click on the one visible ``toggle``."""
    page, problems, _ = open_page(browser, path, width=width)
    if not visible(page, link).count():
        buttons = visible(page, toggle)
        assert buttons.count() == 1, f"at {width} px there is no button for {what}"
        buttons.first.click()
        page.wait_for_timeout(300)
    links = visible(page, link)
    assert links.count() >= 1, f"at {width} px {what} does not open"
    box = links.first.bounding_box()
    assert 0 <= box["x"] and box["x"] + box["width"] <= width, f"at {width} px {what} is off-screen"
    assert not problems, "\n".join(problems)
    page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_chapter_list_opens_at_every_width(browser, site, width):
    assert_sidebar_opens(browser, site / "chapters" / "03-forward-pass.html", width,
                         'a.reference[href$="02-activations.html"]', ".primary-toggle",
                         "the chapter list")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_page_contents_open_at_every_width(browser, site, width):
    assert_sidebar_opens(browser, site / "chapters" / "01-perceptron.html", width,
                         '.bd-toc a[href="#the-perceptron"], '
                         '#pst-secondary-sidebar-modal a[href="#the-perceptron"]',
                         ".secondary-toggle", "the page contents")


@pytest.mark.parametrize("width", WIDTHS)
def test_previous_and_next_links_are_readable_at_every_width(browser, site, width):
    page, _, _ = open_page(browser, site / "chapters" / "02-activations.html", width=width)
    links = page.evaluate("""() => Array.from(document.querySelectorAll('.prev-next-area a')).map(a => {
        const r = a.getBoundingClientRect(); const t = a.querySelector('.prev-next-title') || a;
        return {text: a.innerText.trim(), left: r.left, right: r.right,
                font: parseFloat(getComputedStyle(t).fontSize),
                clipped: t.scrollWidth > t.clientWidth + 1};
    })""")
    page.close()
    assert len(links) == 2, f"at {width} px expected a previous and a next link, got {links}"
    for link in links:
        assert "perceptron" in link["text"].lower() or "forward" in link["text"].lower(), link
        assert link["left"] >= 0 and link["right"] <= width, f"at {width} px off-screen: {link}"
        assert link["font"] >= 14 and not link["clipped"], f"at {width} px hard to read: {link}"


# Chapters whose figures all have a number, a caption and alt text (see RECIPE: a chapter joins
# this list once every figure on its page is done).
FIGURES_DONE = ["01-perceptron", "02-activations", "03-forward-pass", "04-losses", "05-backprop",
                "06-training", "07-cnn", "08-rnn-lstm", "09-regularisation",
                "10-interview", "11-attention"]
FIGURES = """() => Array.from(document.querySelectorAll('main img')).map(img => {
    const fig = img.closest('figure');
    const text = s => (fig && fig.querySelector(s)) ? fig.querySelector(s).innerText.trim() : '';
    return {src: img.getAttribute('src'), alt: img.getAttribute('alt') || '',
            number: text('.caption-number'), caption: text('.caption-text'),
            shown: img.getBoundingClientRect().width, drawn: img.naturalWidth};
})"""


@pytest.mark.parametrize("chapter", FIGURES_DONE)
def test_every_figure_has_a_number_a_caption_alt_text_and_its_drawn_size(browser, site, chapter):
    page, _, _ = open_page(browser, site / "chapters" / f"{chapter}.html")
    figures = page.evaluate(FIGURES)
    page.close()
    assert figures, f"{chapter} shows no figure"
    for fig in figures:
        where = f"{chapter}, figure {fig['number'] or fig['src']}"
        assert re.fullmatch(r"Fig\. \d+\.\d+", fig["number"]), (
            f"{where} has no number: give its cell `mystnb: figure: name` metadata")
        assert len(fig["caption"].split()) >= 5, f"{where} has no caption (`mystnb: figure: caption`)"
        alt = fig["alt"]
        looks_like_a_path = re.search(r"\.(png|svg|jpe?g)\b|_build|jupyter_execute|_images", alt)
        assert len(alt.split()) >= 5 and not looks_like_a_path, (
            f"{where}: the alt text says nothing of what it shows ({alt!r}): set `mystnb: image: alt`")
        assert fig["shown"] >= 0.75 * fig["drawn"], (
            f"{where} is drawn {fig['drawn']} px wide but shown at {fig['shown']:.0f} px, below "
            f"75 %: draw it at most nnlib.plot.COLUMN_WIDTH inches wide")


def test_no_empty_bar_above_the_article_on_a_laptop(browser, site):
    page, _, _ = open_page(browser, site / "chapters" / "01-perceptron.html", width=1280)
    top = page.evaluate("document.querySelector('.bd-header-article').getBoundingClientRect().top")
    page.close()
    assert top < 8, f"the article starts {top:.0f} px down the page, below an empty bar"


EQUATIONS = """() => Array.from(document.querySelectorAll('div.math')).map(box => {
    const scroller = box.querySelector('mjx-container') || box;
    return {tex: (box.querySelector('mjx-assistive-mml') || box).textContent.slice(0, 60),
            content: scroller.scrollWidth, column: scroller.clientWidth,
            cue: box.classList.contains('overflows') && getComputedStyle(box).boxShadow !== 'none'};
})"""


def test_display_equations_fit_a_laptop_and_show_a_scroll_cue_on_a_phone(browser, site):
    phone_scrolls = 0
    for nb in sorted((site.parent.parent / "chapters").glob("*.ipynb")):
        page, _, _ = open_page(browser, site / "chapters" / f"{nb.stem}.html", width=1280)
        for eq in page.evaluate(EQUATIONS):
            assert eq["content"] <= eq["column"] + 1, (
                f"{nb.stem}: a display equation is {eq['content']} px wide in a {eq['column']} px "
                f"column at 1280 px (split it with aligned): {eq['tex']}")
        page.set_viewport_size({"width": 390, "height": 900})
        page.wait_for_timeout(300)   # the page marks overflowing equations when their box resizes
        for eq in page.evaluate(EQUATIONS):
            if eq["content"] > eq["column"] + 1:
                phone_scrolls += 1
                assert eq["cue"], f"{nb.stem}: at 390 px an equation scrolls with no cue: {eq['tex']}"
        page.close()
    assert phone_scrolls, "no equation scrolls on a phone: the scroll cue was not checked"


def test_chapters_and_sections_are_numbered_in_titles_and_sidebar(browser, site):
    page, _, _ = open_page(browser, site / "chapters" / "03-forward-pass.html")
    title = page.evaluate("document.querySelector('article h1').innerText")
    section = page.evaluate("document.querySelector('article section section h2').innerText")
    sidebar = page.evaluate("""Array.from(document.querySelectorAll('.bd-sidebar-primary a.reference'))
        .map(a => a.innerText.trim())""")
    page.close()
    assert re.match(r"3\. \S", title), f"chapter 3's title is not numbered: {title!r}"
    assert re.match(r"3\.1\. \S", section), f"chapter 3's first section is not numbered: {section!r}"
    assert any(re.match(r"2\. Activation", entry) for entry in sidebar), (
        f"the sidebar does not number the chapters: {sidebar[:4]}")
