"""The whole book as one PDF, printed from the built HTML: `make pdf` runs this after `make book`.

Each page of the table of contents is opened from disk in headless Chromium (the browser the tests
use), its math typeset by the offline MathJax, and printed with the print style sheet
(_static/print.css), which shows the answers folded into dropdowns. The printed pages are joined
in table-of-contents order behind a title page, with a bookmark per page. Nothing is downloaded.

    python tools/book_pdf.py [SITE] [OUT]     (defaults: _build/html, _build/pdf/book.pdf)
"""
import html
import io
import shutil
import sys
from datetime import date
from pathlib import Path

import yaml
from pypdf import PdfReader, PdfWriter

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PAPER = {"format": "A4", "print_background": True,
         "margin": {"top": "18mm", "bottom": "18mm", "left": "16mm", "right": "16mm"}}


def toc_pages():
    """The toc's files in reading order: the root page, then each part's chapters and sections."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            pages.append(chapter["file"])
            pages.extend(section["file"] for section in chapter.get("sections", []))
    return pages


def title_page(config):
    title, author = html.escape(config["title"]), html.escape(config.get("author", ""))
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>
        body {{ font-family: sans-serif; text-align: center; padding-top: 35vh; }}
        h1 {{ font-size: 28pt; margin-bottom: 1em; }} p {{ font-size: 14pt; color: #444; }}
        </style></head><body><h1>{title}</h1><p>{author}</p>
        <p>Printed from the book's pages, {date.today().isoformat()}</p></body></html>"""


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    sys.exit("make pdf: Chromium is needed to print the pages (apt-get install chromium)")


def load(page, path):
    """Open a built page from disk and wait until it has loaded and MathJax has typeset it."""
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    if page.evaluate("!!document.querySelector('script[src*=mathjax]')"):
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                               timeout=60000)
        page.evaluate("() => MathJax.startup.promise")


def print_page(browser, path):
    """One built HTML page as PDF bytes, and the page's title."""
    page = browser.new_page()
    load(page, path)
    page.emulate_media(media="print")
    heading = page.evaluate("document.querySelector('main h1')?.innerText || document.title")
    data = page.pdf(**PAPER)
    page.close()
    return data, " ".join(heading.replace("#", "").split())


def build(site, out):
    from playwright.sync_api import sync_playwright

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    missing = [name for name in toc_pages() if not (site / f"{name}.html").is_file()]
    if missing:
        sys.exit(f"make pdf: build the book first (make book); not built: {missing}")
    writer = PdfWriter()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        cover = browser.new_page()
        cover.set_content(title_page(config))
        writer.append(PdfReader(io.BytesIO(cover.pdf(**PAPER))))
        cover.close()
        for name in toc_pages():
            data, heading = print_page(browser, site / f"{name}.html")
            start = len(writer.pages)
            writer.append(PdfReader(io.BytesIO(data)))
            writer.add_outline_item(heading, start)
            print(f"  {len(writer.pages) - start:3d} pages  {name}")
        browser.close()
    writer.add_metadata({"/Title": config["title"], "/Author": config.get("author", "")})
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as f:
        writer.write(f)
    # the site links to the PDF beside its front page
    shutil.copy(out, site / "book.pdf")
    print(f"{out}: {len(writer.pages)} pages (copied to {site / 'book.pdf'})")


if __name__ == "__main__":
    site = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "html"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "_build" / "pdf" / "book.pdf"
    build(site.resolve(), out.resolve())
