"""Stage 5, feedback: the learner's page, as nbgrader's ``generate_feedback`` makes it.

The executed notebook loses its hidden tests (``ClearHiddenTests``) and tracebacks, each graded
cell gets its score (as nbgrader's ``GetGrades`` attaches them), and nbconvert renders it with
nbgrader's own ``feedback`` template. Two differences, because the instructor opens these pages
(or serves them): what the student's code displayed goes through nbconvert's ``SanitizeHTML``
(bleach: no scripts, no event handlers, no JavaScript outputs), and the math is typeset by the
book's MathJax, copied beside the pages, not fetched from a CDN.
"""
import copy
import functools
from pathlib import Path

from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests

HIDDEN_NOTE = "# (hidden tests run here when graded)"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def mathjax_files():
    """relative path -> file of the book's MathJax 3 (tex-chtml and its fonts), or {} when the
    book's packages are not installed (then the pages show math as TeX source)."""
    from importlib import metadata
    try:
        files = metadata.files("sphinx-mathjax-offline") or []
    except metadata.PackageNotFoundError:
        return {}
    out = {}
    for f in files:
        parts = f.parts
        if "mathjax" not in parts:
            continue
        rel = "/".join(parts[parts.index("mathjax") + 1:])
        if rel == "tex-chtml.js" or rel.startswith("output/chtml/fonts/woff-v2/"):
            out[rel] = Path(f.locate())
    return out


def feedback_notebook(nb, scores, stopped=()):
    """The learner's copy: outputs kept but sanitized, hidden tests and tracebacks removed,
    scores attached. ``scores``: grade_id -> ``CellScore``; ``stopped``: sentences saying why
    the run stopped early (a limit, a crash), shown first.
    """
    import nbformat
    from nbconvert.preprocessors.sanitize import SanitizeHTML
    nb, _ = SanitizeHTML().preprocess(copy.deepcopy(nb), {})
    if stopped:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(
            "**Grading stopped early.** " + " ".join(
                s[:1].upper() + s[1:] + "." for s in stopped) +
            " Cells are numbered from the top of the notebook, as Jupyter shows them."))
    clear = ClearHiddenTests(enforce_metadata=False)
    for cell in nb.cells:
        if cell.cell_type == "code":  # any cell: a copy of a test cell loses its metadata
            if clear._remove_hidden_test_region(cell):
                cell.source = cell.source.rstrip("\n") + "\n" + HIDDEN_NOTE
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                out.traceback = [f"{out.ename}: {out.evalue}"]
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in scores:
            cell.metadata.nbgrader["score"] = scores[gid].points
            cell.metadata.nbgrader["points"] = scores[gid].max_points
            if utils.is_solution(cell) or utils.is_task(cell):
                cell.metadata.nbgrader["comment"] = None
    return nb


@functools.lru_cache(maxsize=1)
def _exporter():
    """nbconvert's HTML exporter set up as nbgrader's GenerateFeedback sets it up (made once)."""
    from nbconvert.exporters import HTMLExporter
    from traitlets.config import Config
    import nbgrader
    base = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    c = Config()
    # nbgrader's "feedback" template under one of nncourse's, which only swaps in its mathjax
    c.HTMLExporter.template_name = "nncourse_feedback"
    c.HTMLExporter.extra_template_basedirs = [str(TEMPLATES), str(base / "templates")]
    c.HTMLExporter.extra_template_paths = [
        str(base / "templates"), str(base / "static" / "node_modules" / "bootstrap" / "dist" / "css")]
    return HTMLExporter(config=c)


def render(nb, score, max_score, notebook="feedback", late_penalty=0.0):
    """nbgrader's feedback page (its ``feedback`` template), from a ``feedback_notebook``."""
    resources = {"nbgrader": {"score": score, "max_score": max_score, "notebook": notebook,
                              "late_penalty": late_penalty},
                 "metadata": {"name": notebook}}
    html, _ = _exporter().from_notebook_node(nb, resources=resources)
    return html
