"""The book's own layout fixes: working sidebar buttons at every width, no empty top bar, and
display equations that show when they must scroll (static/book.css, static/book.js).

The pinned pydata-sphinx-theme 0.17 draws a hidden sidebar button of its own in the top bar, and
binds the sidebars to the first button of each kind it finds: that hidden one. The buttons a reader
sees (sphinx-book-theme's, above the article) then do nothing. book.js passes a click on any of
them to the bound one (upstream: pydata/pydata-sphinx-theme#2451,
executablebooks/sphinx-book-theme#991).
"""
from pathlib import Path

STATIC = Path(__file__).with_name("static")


def _add_static_path(app):
    app.config.html_static_path.append(str(STATIC))


def setup(app):
    app.connect("builder-inited", _add_static_path)
    app.add_css_file("book.css")
    app.add_js_file("book.js", loading_method="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
