"""Stage 1, parse: the submitted file's bytes as a notebook, or one sentence saying why not.

nbgrader reads a submission with ``nbformat.read`` and stops the whole run when it fails; here a
file that is not a notebook becomes an ``Unreadable`` error for this submission alone.
"""
import json

import nbformat


class Unreadable(ValueError):
    """The file is not a notebook the grader can use; the message says why, in one sentence."""


def parse(raw):
    """``raw`` (bytes) as an nbformat v4 notebook whose cells all have metadata (and outputs)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable("not a notebook: the file is not UTF-8 text") from None
    if not text.strip():
        raise Unreadable("the notebook file is empty")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise Unreadable(f"not a notebook: malformed JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise Unreadable("not a notebook: no list of cells")
    for cell in data["cells"]:  # what an editor may leave out; nbformat refuses it
        if isinstance(cell, dict):
            cell.setdefault("metadata", {})
            if cell.get("cell_type") == "code":
                cell.setdefault("outputs", [])
                cell.setdefault("execution_count", None)
    try:
        return nbformat.reads(json.dumps(data), as_version=4)
    except Exception as exc:
        raise Unreadable(f"not a notebook: {_one_line(exc)}") from None


def _one_line(exc, limit=200):
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:limit]}"
