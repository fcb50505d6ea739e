"""Keep the built book self-contained, and quiet in the browser console.

Jupyter Book always enables sphinx-thebe (live code cells run on a remote Binder kernel). This
book runs no code in the page, and thebe's assets point at unpkg.com and declare the same
constant twice on every page, a JavaScript error. They are dropped from every page here.

pydata-sphinx-theme logs a console error when no colour mode is configured; "auto" follows the
reader's system setting.
"""


def _drop_thebe(app, pagename, templatename, context, doctree):
    def is_thebe(asset):
        body = asset.attributes.get("body", "") if hasattr(asset, "attributes") else ""
        return "thebe" in str(asset).lower() or "THEBE" in body

    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not is_thebe(asset)]


def _default_mode(app, config):
    config.html_context.setdefault("default_mode", "auto")


def setup(app):
    app.connect("config-inited", _default_mode)
    app.connect("html-page-context", _drop_thebe)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
