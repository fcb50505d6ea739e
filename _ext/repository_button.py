"""A repository button in the header once the book knows where its repository lives.

The one setting is `repository: url:` in _config.yml. Left empty, the header has no repository
button (Jupyter Book refuses `use_repository_button: true` without a URL); set, every page gets
the button linking to it.
"""


def show_button_when_url_is_set(app, config):
    options = config.html_theme_options
    if options.get("repository_url"):
        options["use_repository_button"] = True


def setup(app):
    app.connect("config-inited", show_button_when_url_is_set)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
