"""Stage 2, sanitize: nbgrader's sanitize preprocessors, with the master standing in for the
gradebook.

In nbgrader's order: ``ClearOutput``, ``DeduplicateIds``, the master's kernelspec
(``OverwriteKernelspec``), ``OverwriteCells`` (read-only and test cells restored from the master,
points restored, deleted graded cells added back), ``CheckCellMetadata``. Metadata that no longer
validates (an edited ``schema_version``, a corrupted ``nbgrader`` block) is first repaired from
the master copy of that cell, where nbgrader would stop the whole run. Each change to the
learner's notebook is noted as ``(Status.RESTORED, sentence)``.
"""
import copy

from nbformat.notebooknode import from_dict
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells

from ..master import MasterGradebook
from .result import Status


class Ungradable(ValueError):
    """The notebook parsed but nbgrader's checks refuse it."""


def repair_metadata(nb, nbmaster, notes):
    """Cells whose nbgrader metadata no longer validates get the master's, or lose it."""
    validator = MetadataValidator()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        try:
            if not isinstance(meta, dict):
                raise ValueError("not a mapping")
            validator.upgrade_cell_metadata(cell)
            validator.validate_cell(cell)
        except Exception as exc:
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            if grade_id in nbmaster.metadata:
                cell.metadata["nbgrader"] = copy.deepcopy(nbmaster.metadata[grade_id])
                notes.append((Status.RESTORED, f"repaired the nbgrader metadata of {grade_id} "
                                               f"({' '.join(str(exc).split())[:80]})"))
            else:
                del cell.metadata["nbgrader"]
                notes.append((Status.RESTORED, "removed unknown nbgrader metadata from a cell"))
    return nb


def _graded_before(nb):
    return {c.metadata.nbgrader["grade_id"]: (c.source, c.metadata.nbgrader.get("points"))
            for c in nb.cells if "grade_id" in c.metadata.get("nbgrader", {})}


def sanitize(nb, nbmaster, assignment, notes, config=None):
    """The notebook as nbgrader's sanitize step leaves it; raises ``Ungradable``."""
    try:
        nb = repair_metadata(nb, nbmaster, notes)
        before = _graded_before(nb)
        counts = {}
        for c in nb.cells:
            gid = c.metadata.get("nbgrader", {}).get("grade_id")
            if gid:
                counts[gid] = counts.get(gid, 0) + 1
        nb = _preprocess(nb, nbmaster, assignment, config)
    except Exception as exc:
        raise Ungradable(f"not a gradable notebook: {type(exc).__name__}: "
                         f"{' '.join(str(exc).split())[:200]}") from exc
    for gid, n in counts.items():
        if n > 1:
            notes.append((Status.RESTORED, f"{gid} appeared {n} times: one is graded, the "
                                           "others run as ordinary cells"))
    _note_restored(before, nbmaster, notes, nb)
    return nb


def _preprocess(nb, nbmaster, assignment, config):
    resources = {"nbgrader": {"notebook": nbmaster.name, "assignment": assignment,
                              "db_url": "master://", "student": ""}}
    nb, resources = ClearOutput(config=config)(nb, resources)  # each only when enabled, as
    nb, resources = DeduplicateIds(config=config)(nb, resources)  # nbgrader's converter runs it
    for cell in nb.cells:  # DeduplicateIds leaves {} behind, which OverwriteCells trips over
        if cell.metadata.get("nbgrader") == {}:
            del cell.metadata["nbgrader"]
    nb.metadata["kernelspec"] = copy.deepcopy(nbmaster.kernelspec)
    # adding deleted graded cells back is OverwriteCells.add_missing_cells, as the course sets it
    overwrite = OverwriteCells(config=config)
    overwrite.gradebook = MasterGradebook(nbmaster)
    overwrite.notebook_id, overwrite.assignment_id = nbmaster.name, assignment
    # OverwriteCells.preprocess opens the gradebook by URL; the per-cell part is what it runs
    nb, resources = super(OverwriteCells, overwrite).preprocess(nb, resources)
    if overwrite.add_missing_cells:
        nb, resources = overwrite.add_missing_grade_cells(nb, resources)
        nb, resources = overwrite.add_missing_task_cells(nb, resources)
    nb, resources = CheckCellMetadata(config=config)(nb, resources)
    return from_dict(nb)  # the cells added back hold plain dicts


def _note_restored(before, nbmaster, notes, nb):
    now = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
    for gid in nbmaster.order:
        if gid in nbmaster.grade_cells and gid not in before:
            notes.append((Status.RESTORED, f"{gid} was deleted: added back") if gid in now
                         else (Status.GRADED, f"{gid} was deleted: a person grades it"))
        elif gid in before and nbmaster.source_cells[gid]["locked"]:
            src, _ = before[gid]
            if src not in (nbmaster.source_cells[gid]["source"], nbmaster.released.get(gid)):
                notes.append((Status.RESTORED, f"{gid} was edited: restored"))
        if gid in before and gid in nbmaster.grade_cells:
            points = before[gid][1]
            try:
                edited = float(points) != nbmaster.grade_cells[gid]["max_score"]
            except (TypeError, ValueError):
                edited = True
            if edited:
                notes.append((Status.RESTORED, f"points of {gid} were changed: restored"))
