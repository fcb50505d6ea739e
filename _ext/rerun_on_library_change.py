"""Run the chapters again when nnlib changes, not only when a chapter does.

The book build executes each chapter once and keeps the result in jupyter-cache, keyed on the
chapter's own code cells. The chapters import nnlib, so a change to the library can break a chapter
whose cells did not change; the cache would hide it. This extension hashes nnlib's files, and when
the hash differs from the one the last build recorded, it empties the execution cache and has
Sphinx read every notebook again, so every chapter runs against the library as it is now.
"""
import hashlib
import shutil
from pathlib import Path

LIBRARY = "nnlib"
RECORD = "nnlib.sha256"


def fingerprint(root):
    """One hash over the path and bytes of every file of the library (sources and data)."""
    digest = hashlib.sha256()
    for path in sorted((root / LIBRARY).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _cache_dir(app):
    """Where myst-nb keeps executed notebooks (it settles the path in its builder-inited)."""
    config = getattr(app.env, "mystnb_config", None)
    path = getattr(config, "execution_cache_path", None)
    return Path(path) if path else Path(app.outdir).parent / ".jupyter_cache"


def _check(app):
    cache = _cache_dir(app)
    app.env.nnlib_fingerprint = fingerprint(Path(app.srcdir))
    recorded = cache / RECORD
    app.env.nnlib_changed = (not recorded.is_file()
                             or recorded.read_text().strip() != app.env.nnlib_fingerprint)
    if app.env.nnlib_changed and cache.is_dir():
        shutil.rmtree(cache)


def _outdated(app, env, added, changed, removed):
    """Every notebook is read (and so executed) again after a change to nnlib."""
    if not getattr(env, "nnlib_changed", False):
        return []
    return [doc for doc in env.found_docs if str(env.doc2path(doc)).endswith(".ipynb")]


def _record(app, exception):
    if exception is None and getattr(app.env, "nnlib_changed", False):
        cache = _cache_dir(app)
        cache.mkdir(parents=True, exist_ok=True)
        (cache / RECORD).write_text(app.env.nnlib_fingerprint + "\n")


def setup(app):
    app.connect("builder-inited", _check)
    app.connect("env-get-outdated", _outdated)
    app.connect("build-finished", _record)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
