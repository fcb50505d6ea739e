"""Grade one submitted notebook: nbgrader's sanitize and autograde steps, in a sandboxed kernel.

``grade_notebook(raw, nbmaster, ...)`` takes the submitted file's bytes and the assignment's
master copy and returns a plain dict (picklable, JSON-able): the score of each graded cell, its
failure message, a status, and the feedback page. It never opens the gradebook: the parent
process writes grades, so workers can run anywhere (a process pool or a Dask cluster).

The steps are nbgrader's own, in nbgrader's order:

1. sanitize: ``ClearOutput``, ``DeduplicateIds``, ``OverwriteCells`` (read-only and test cells
   restored from the master, points restored, deleted graded cells added back), then
   ``CheckCellMetadata``. Metadata that no longer validates (an edited ``schema_version``, a
   corrupted ``nbgrader`` block) is first repaired from the master copy of that cell.
2. execute: nbgrader's ``Execute`` in a kernel inside the sandbox (``sandbox.py``), with a
   wall-clock budget for the whole notebook, an output cap, and the guard (``guard.py``) asked
   before each test cell whether the tests' tools are still the ones the grader imported.
3. ``LimitOutput``, then each graded cell scored by ``nbgrader.utils.determine_grade``.
"""
import ast
import asyncio
import atexit
import copy
import functools
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbformat.notebooknode import from_dict
from nbgrader import utils
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, ClearOutput,
                                    DeduplicateIds, Execute, LimitOutput, OverwriteCells)
from traitlets import Any as AnyTrait

from . import sandbox as sb
from .master import MasterGradebook

# statuses, most severe first; a submission's status is the most severe of what happened to it
STATUSES = ("invalid", "missing", "empty", "error", "timeout", "crashed", "memory", "tampered",
            "blocked", "exited", "syntax-error", "restored", "renamed", "truncated", "graded")
# what the sandbox says when it stops something
BLOCKED = ("Network is unreachable", "Connection refused", "Name or service not known", "name resolution",
           "Read-only file system", "Permission denied")


class SandboxKernelManager(AsyncKernelManager):
    """Starts the kernel through ``Sandbox.command`` and interrupts it by message."""
    sandbox = AnyTrait()
    protect = AnyTrait()
    uid = AnyTrait(None)

    def format_kernel_cmd(self, extra_arguments=None):
        if self.uid is not None:
            os.chown(self.connection_file, self.uid, self.uid)
        if self.sandbox.fork_server is not None:
            return self.sandbox.spawn_command(self.connection_file, self.protect)
        cmd, _ = self.sandbox.command(self.connection_file, self.protect)
        return cmd

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        """Launch, then wait until the kernel has bound its sockets (it imports torch first).

        A client that asks before that loses its first ``kernel_info`` request and waits a
        full second to ask again; with Unix sockets the bound sockets are files, so look.
        """
        await super()._async_launch_kernel(kernel_cmd, **kw)
        sockets = [Path(f"{self.ip}-{getattr(self, f'{c}_port')}")
                   for c in ("shell", "iopub", "stdin", "control", "hb")]
        deadline = time.monotonic() + 60
        while not all(s.exists() for s in sockets):
            if time.monotonic() > deadline or not await self.provisioner.poll() is None:
                return  # dead or stuck: the client's own wait reports it
            await asyncio.sleep(0.005)


class SandboxedExecute(Execute):
    """nbgrader's Execute, with the kernel in the sandbox, a budget, an output cap, the guard."""

    def __init__(self, sandbox, protect, kinds, **kw):
        super().__init__(**kw)
        self.sandbox, self.protect, self.kinds = sandbox, protect, kinds
        self.timeout = int(sandbox.limits.cell_timeout)
        self.shutdown_kernel = "immediate"
        self.events = []          # (cell index, what happened)
        self.not_run = {}         # cell index -> why
        self.tampered = {}        # cell index -> replaced names
        self.truncated = set()
        self._out_size = {}
        self._deadline = None
        self.kernel_seconds = 0.0

    def create_kernel_manager(self):
        conn_dir = self.sandbox.workdir.parent / "conn"
        conn_dir.mkdir(exist_ok=True)
        if self.sandbox.uid is not None:
            os.chown(conn_dir, self.sandbox.uid, self.sandbox.uid)
        self.km = SandboxKernelManager(sandbox=self.sandbox, protect=self.protect,
                                       uid=self.sandbox.uid, transport="ipc",
                                       ip=str(conn_dir / "k"))
        self.km.connection_file = str(conn_dir / "kernel.json")
        self.km._kernel_spec = KernelSpec(argv=["python"], display_name="sandbox",
                                          language="python", interrupt_mode="message")
        return self.km

    def _get_timeout(self, cell):
        remaining = self._deadline - time.monotonic() if self._deadline else self.timeout
        return max(1, int(min(self.timeout, remaining)))

    def output(self, outs, msg, display_id, cell_index):
        cap = self.sandbox.limits.output
        content = msg["content"]
        size = len(content.get("text", "")) + sum(len(str(v)) for v in
                                                   content.get("data", {}).values())
        used = self._out_size.get(cell_index, 0) + size
        self._out_size[cell_index] = used
        kind = msg["msg_type"]
        if used <= cap or kind == "error":
            return super().output(outs, msg, display_id, cell_index)
        # over the cap: keep what decides the grade (errors, stderr, results), shortened
        if cell_index not in self.truncated:
            self.truncated.add(cell_index)
            outs.append(nbformat.v4.new_output(
                "stream", name="stdout",
                text=f"\n[output truncated: more than {cap} characters]\n"))
        if kind == "stream" and content.get("name") == "stderr":
            outs.append(nbformat.v4.new_output("stream", name="stderr",
                                               text=content["text"][:200]))
        elif kind == "execute_result":
            data = {k: str(v)[:200] for k, v in content.get("data", {}).items()}
            outs.append(nbformat.v4.new_output("execute_result", data=data,
                                               execution_count=content.get("execution_count")))
        return None

    async def _guard(self, call):
        msg_id = await ensure_async(self.kc.execute(
            "", silent=True, store_history=False,
            user_expressions={"r": f"__import__('nncourse.guard', fromlist=['_']).{call}"}))
        reply = await self.async_wait_for_reply(msg_id)
        if reply is None:
            return None
        result = reply["content"].get("user_expressions", {}).get("r", {})
        if result.get("status") != "ok":
            if result.get("ename") == "MemoryError":  # the kernel is full, not cheating
                return []
            return ["the grader's check itself (it was made to fail)"]
        try:
            return ast.literal_eval(result["data"]["text/plain"])
        except (ValueError, SyntaxError, KeyError):
            return ["the grader's check itself (it returned nonsense)"]

    async def _run(self, nb, workdir, env):
        started = time.monotonic()
        with open(self.sandbox.workdir.parent / "kernel.log", "wb") as log:
            return await self._run_logged(nb, workdir, env, log, started)

    async def _run_logged(self, nb, workdir, env, log, started):
        async with self.async_setup_kernel(cwd=str(workdir), env=env, stdout=log, stderr=log):
            msg_id = await ensure_async(self.kc.kernel_info())
            await self.async_wait_for_reply(msg_id)
            self.kernel_seconds = time.monotonic() - started
            # the budget is the student's: it starts once the kernel is up
            self._deadline = time.monotonic() + self.sandbox.limits.timeout
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                if time.monotonic() >= self._deadline:
                    self._stop_after(nb, index, "not run: the notebook's time limit "
                                     f"({self.sandbox.limits.timeout:g} s) was reached", "timeout")
                    break
                kind = self.kinds[index]
                try:
                    if kind == "test":  # audit() also marks the state for accept()
                        changed = await self._guard("audit()")
                        if changed:
                            self.tampered[index] = changed
                    elif kind == "instructor":
                        await self._guard("mark()")
                    await self.async_execute_cell(cell, index,
                                                  execution_count=self.code_cells_executed + 1)
                    if kind in ("test", "instructor"):
                        await self._guard("accept()")
                except CellTimeoutError:  # the reply came, its output never did
                    full = any(e == "memory" for _, e in self.events)
                    cell.outputs.append(nbformat.v4.new_output(
                        "error", ename="KernelUnresponsive", traceback=[],
                        evalue="the kernel stopped sending output while running this cell"
                               + (" (it had run out of memory)" if full else "")))
                    self._stop_after(nb, index + 1, "not run: the kernel had stopped "
                                     "responding", "memory" if full else "timeout")
                    break
                except DeadKernelError:  # after a MemoryError, the memory limit killed it
                    event = "memory" if any(e == "memory" for _, e in self.events) \
                        else "crashed"
                    self.events.append((index, event))
                    cell.outputs.append(nbformat.v4.new_output(
                        "error", ename="KernelDied",
                        evalue="the kernel stopped while running this cell "
                               "(os._exit, a crash, or a resource limit)", traceback=[]))
                    self._stop_after(nb, index + 1, "not run: the kernel had stopped", event)
                    break
                for out in cell.get("outputs", []):
                    if out.output_type == "error":
                        if out.ename == "CellTimeoutError":
                            self.events.append((index, "timeout"))
                        elif out.ename == "MemoryError":
                            self.events.append((index, "memory"))
        return nb

    def _stop_after(self, nb, start, why, event):
        self.events.append((start, event))
        for i in range(start, len(nb.cells)):
            if nb.cells[i].cell_type == "code":
                self.not_run[i] = why

    def run(self, nb, workdir, env):
        try:
            return run_sync(self._run)(nb, workdir, env)
        finally:
            atexit.unregister(self._cleanup_kernel)


def _classify(cell):
    if cell.cell_type != "code":
        return "markdown"
    if utils.is_grade(cell) and not utils.is_solution(cell):
        return "test"
    if utils.is_locked(cell) and not utils.is_solution(cell):
        return "instructor"
    return "student"


def _error_line(cell):
    """The failure: the exception's name and its whole message, never its traceback. The message
    is kept as written, lines and all: an array's expected and actual values are its point."""
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            return f"{out.ename}: {out.evalue}".rstrip() if out.evalue else out.ename
    for out in cell.get("outputs", []):
        if out.output_type == "stream" and out.name == "stderr":
            lines = [l for l in out.text.splitlines() if l.strip()]
            return "wrote to stderr: " + (lines[-1].strip() if lines else "")
    return ""


def _repair_metadata(nb, nbmaster, notes):
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
                notes.append(("restored", f"repaired the nbgrader metadata of {grade_id} "
                                          f"({' '.join(str(exc).split())[:80]})"))
            else:
                del cell.metadata["nbgrader"]
                notes.append(("restored", "removed unknown nbgrader metadata from a cell"))
    return nb


def _sanitize(nb, nbmaster, assignment, notes):
    """nbgrader's sanitize preprocessors, with the master standing in for the gradebook."""
    before = {c.metadata.nbgrader["grade_id"]: (c.source, c.metadata.nbgrader.get("points"))
              for c in nb.cells if "grade_id" in c.metadata.get("nbgrader", {})}
    counts = {}
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid:
            counts[gid] = counts.get(gid, 0) + 1
    resources = {"nbgrader": {"notebook": nbmaster.name, "assignment": assignment,
                              "db_url": "master://", "student": ""}}
    nb, resources = ClearOutput().preprocess(nb, resources)
    nb, resources = DeduplicateIds().preprocess(nb, resources)
    for cell in nb.cells:  # DeduplicateIds leaves {} behind, which OverwriteCells trips over
        if cell.metadata.get("nbgrader") == {}:
            del cell.metadata["nbgrader"]
    nb.metadata["kernelspec"] = copy.deepcopy(nbmaster.kernelspec)
    overwrite = OverwriteCells(add_missing_cells=True)
    overwrite.gradebook = MasterGradebook(nbmaster)
    overwrite.notebook_id, overwrite.assignment_id = nbmaster.name, assignment
    nb, resources = super(OverwriteCells, overwrite).preprocess(nb, resources)
    nb, resources = overwrite.add_missing_grade_cells(nb, resources)
    nb, resources = overwrite.add_missing_task_cells(nb, resources)
    nb, resources = CheckCellMetadata().preprocess(nb, resources)
    for gid, n in counts.items():
        if n > 1:
            notes.append(("restored", f"{gid} appeared {n} times: one is graded, the "
                                      "others run as ordinary cells"))
    for gid in nbmaster.order:
        if gid in nbmaster.grade_cells and gid not in before:
            notes.append(("restored", f"{gid} was deleted: added back"))
        elif gid in before and nbmaster.source_cells[gid]["locked"]:
            src, points = before[gid]
            if src not in (nbmaster.source_cells[gid]["source"], nbmaster.released.get(gid)):
                notes.append(("restored", f"{gid} was edited: restored"))
        if gid in before and gid in nbmaster.grade_cells:
            points = before[gid][1]
            try:
                edited = float(points) != nbmaster.grade_cells[gid]["max_score"]
            except (TypeError, ValueError):
                edited = True
            if edited:
                notes.append(("restored", f"points of {gid} were changed: restored"))
    return nb


def feedback_notebook(nb, nbmaster, scores):
    """The learner's copy: outputs kept, hidden tests and tracebacks removed, scores attached."""
    nb = copy.deepcopy(nb)
    clear = ClearHiddenTests(enforce_metadata=False)
    for cell in nb.cells:
        if cell.cell_type == "code":  # any cell: a copy of a test cell loses its metadata
            if clear._remove_hidden_test_region(cell):
                cell.source = cell.source.rstrip("\n") + "\n# (hidden tests run here when graded)"
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                out.traceback = [f"{out.ename}: {out.evalue}"]
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in scores:
            cell.metadata.nbgrader["score"] = scores[gid]["points"]
            cell.metadata.nbgrader["points"] = scores[gid]["max_points"]
            if utils.is_solution(cell):
                cell.metadata.nbgrader["comment"] = None
    return nb


@functools.lru_cache(maxsize=1)
def _feedback_exporter():
    """nbconvert's HTML exporter set up as nbgrader's GenerateFeedback sets it up (made once)."""
    from nbconvert.exporters import HTMLExporter
    from traitlets.config import Config
    import nbgrader
    base = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    c = Config()
    c.HTMLExporter.template_name = "feedback"
    c.HTMLExporter.extra_template_basedirs = [str(base / "templates")]
    c.HTMLExporter.extra_template_paths = [
        str(base / "static" / "node_modules" / "bootstrap" / "dist" / "css")]
    return HTMLExporter(config=c)


def render_feedback(nb, score, max_score):
    """nbgrader's feedback page (its ``feedback`` template), from an already-cleaned notebook."""
    exporter = _feedback_exporter()
    resources = {"nbgrader": {"score": score, "max_score": max_score, "late_penalty": 0},
                 "metadata": {"name": nb.metadata.get("name", "feedback")}}
    html, _ = exporter.from_notebook_node(nb, resources=resources)
    return html


def invalid(nbmaster, student, status, message):
    """The result for a notebook that could not be graded at all: zero for every test."""
    tests = [dict(grade_id=g, points=0.0, max_points=nbmaster.grade_cells[g]["max_score"],
                  message=message) for g in nbmaster.tests()]
    return dict(student=student, notebook=nbmaster.name, status=status, notes=[message],
                tests=tests, score=0.0, max_score=nbmaster.max_score, comments={},
                feedback_html=None, timings={})


def grade_notebook(raw, nbmaster, assignment, student="", files=None, limits=None,
                   use_bwrap=True, notes=None, want_feedback=True, fork_server=None):
    """Grade the bytes of one submitted notebook; return the result dict (see module doc)."""
    t0 = time.monotonic()
    notes = list(notes or [])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return invalid(nbmaster, student, "invalid", "not a notebook: the file is not UTF-8 text")
    if not text.strip():
        return invalid(nbmaster, student, "invalid", "the notebook file is empty")
    try:
        data = json.loads(text)
    except ValueError as exc:
        return invalid(nbmaster, student, "invalid", f"not a notebook: malformed JSON ({exc})")
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return invalid(nbmaster, student, "invalid", "not a notebook: no list of cells")
    try:
        nb = nbformat.reads(text, as_version=4)
        for cell in nb.cells:
            cell.setdefault("metadata", from_dict({}))
            if cell.cell_type == "code":
                cell.setdefault("outputs", [])
        nb = _repair_metadata(nb, nbmaster, notes)
        nb = _sanitize(nb, nbmaster, assignment, notes)
    except Exception as exc:
        return invalid(nbmaster, student, "invalid",
                       f"not a gradable notebook: {type(exc).__name__}: "
                       f"{' '.join(str(exc).split())[:200]}")

    limits = limits or sb.Limits()
    kinds = {i: _classify(c) for i, c in enumerate(nb.cells)}
    if fork_server is not None:
        fork_server.wait_ready()
    tmp = Path(tempfile.mkdtemp(prefix="nncourse-run-",
                                dir=fork_server.base if fork_server else None))
    try:
        workdir = tmp / "work"
        workdir.mkdir()
        for rel, content in (files or {}).items():
            dest = workdir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(content)
        uid = sb.fresh_uid() if use_bwrap else None
        if uid is not None:
            for p in [tmp, *workdir.rglob("*"), workdir]:
                os.chown(p, uid, uid)
        box = sb.Sandbox(workdir=workdir, limits=limits, use_bwrap=use_bwrap, uid=uid,
                         fork_server=fork_server)
        _, env = box.command(workdir / "unused")
        ex = SandboxedExecute(box, nbmaster.protect, kinds)
        t1 = time.monotonic()
        ex.nb = nb
        ex.resources = {"metadata": {"path": str(workdir)}}
        try:
            ex.run(nb, workdir, env)
        except Exception as exc:
            log = tmp / "kernel.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"the grading kernel failed: {type(exc).__name__}: {exc}\n"
                               f"{tail}") from exc
        t2 = time.monotonic()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    for index, why in ex.not_run.items():
        cell = nb.cells[index]
        cell.outputs = [nbformat.v4.new_output("error", ename="NotRun", evalue=why, traceback=[])]
    for index, event in ex.events:
        if event == "timeout":
            notes.append(("timeout", f"time limit reached in cell {index + 1}"))
        elif event == "crashed":
            notes.append(("crashed", f"the kernel died in cell {index + 1}"))
        elif event == "memory":
            notes.append(("memory", f"memory limit reached in cell {index + 1}"))
    for index, cell in enumerate(nb.cells):
        if kinds.get(index) != "student":
            continue
        for out in cell.get("outputs", []):
            if out.output_type != "error":
                continue
            line = f"cell {index + 1}: " + " ".join(f"{out.ename}: {out.evalue}".split())[:160]
            if out.ename in ("SyntaxError", "IndentationError", "TabError"):
                notes.append(("syntax-error", line))
            elif out.ename == "SystemExit":
                notes.append(("exited", line))
            elif any(b in str(out.evalue) for b in BLOCKED):
                notes.append(("blocked", line))
    for index in sorted(ex.truncated):
        notes.append(("truncated", f"output of cell {index + 1} was cut"))
    resources = {"nbgrader": {"notebook": nbmaster.name, "assignment": assignment}}
    nb, _ = LimitOutput().preprocess(nb, resources)

    scores, comments = {}, {}
    for index, cell in enumerate(nb.cells):
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid is None:
            continue
        if utils.is_grade(cell):
            points, max_points = utils.determine_grade(cell)
            message = _error_line(cell) if cell.cell_type == "code" else ""
            if index in ex.tampered and kinds[index] == "test":
                replaced = ", ".join(ex.tampered[index])
                points, message = 0.0, (f"no points: code in this notebook replaced what the "
                                        f"tests use ({replaced})")
                notes.append(("tampered", f"{gid}: replaced {replaced}"))
            if points is None:
                message = message or "needs manual grading"
            scores[gid] = dict(grade_id=gid, points=points, max_points=max_points,
                               message=message if points != max_points else "")
        if utils.is_solution(cell) or utils.is_task(cell):
            unchanged = cell.metadata.nbgrader.get("checksum") == utils.compute_checksum(cell)
            comments[gid] = "No response." if unchanged and not utils.is_task(cell) else None

    tests = [scores.get(g, dict(grade_id=g, points=0.0,
                                max_points=nbmaster.grade_cells[g]["max_score"],
                                message="cell missing")) for g in nbmaster.tests()]
    score = sum(t["points"] or 0.0 for t in tests)
    status = min((n[0] for n in notes), key=STATUSES.index, default="graded")
    html = None
    if want_feedback:
        html = render_feedback(feedback_notebook(nb, nbmaster, scores), score,
                               nbmaster.max_score)
    return dict(student=student, notebook=nbmaster.name, status=status,
                notes=[n[1] for n in notes], tests=tests, score=score,
                max_score=nbmaster.max_score, comments=comments, feedback_html=html,
                timings=dict(total=time.monotonic() - t0, kernel_start=ex.kernel_seconds,
                             execute=t2 - t1 - ex.kernel_seconds, prepare=t1 - t0))
