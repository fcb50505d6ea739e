"""Stage 3, execute: nbgrader's ``Execute`` with the kernel in the sandbox (``sandbox.py``).

``execute(nb, nbmaster, ...)`` runs the sanitized notebook in place in a fresh folder holding the
assignment's files, and returns a ``Run``: what happened to which cell. On top of ``Execute``: a
wall-clock budget for the whole notebook (the learner's, counted once the kernel is up), an
output cap per cell, and the guard (``guard.py``) asked before each test cell whether the tests'
tools are still the ones the grader imported.
"""
import ast
import asyncio
import atexit
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Any as AnyTrait

from .. import sandbox as sb


class SandboxKernelManager(AsyncKernelManager):
    """Starts the kernel through ``Sandbox.command`` and interrupts it by message."""
    sandbox = AnyTrait()
    protect = AnyTrait()
    uid = AnyTrait(None)
    prestarted = AnyTrait(None)   # a prestart.Prestarted kernel to adopt rather than start

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
        if self.prestarted is None:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        else:  # what LocalProvisioner.launch_kernel records of a process it starts
            prov, proc = self.provisioner, self.prestarted.proc
            prov.process, prov.pid, prov.pgid = proc, proc.pid, os.getpgid(proc.pid)
            prov.cwd = kw.get("cwd")
            self._reconcile_connection_info(prov.connection_info)
        sockets = [Path(f"{self.ip}-{getattr(self, f'{c}_port')}")
                   for c in ("shell", "iopub", "stdin", "control", "hb")]
        deadline = time.monotonic() + 60
        while not all(s.exists() for s in sockets):
            if time.monotonic() > deadline or not await self.provisioner.poll() is None:
                return  # dead or stuck: the client's own wait reports it
            await asyncio.sleep(0.005)


class SandboxedExecute(Execute):
    """nbgrader's Execute, with the kernel in the sandbox, a budget, an output cap, the guard."""

    def __init__(self, sandbox, protect, kinds, prestarted=None, **kw):
        super().__init__(**kw)
        self.sandbox, self.protect, self.kinds = sandbox, protect, kinds
        self.prestarted = prestarted
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
                                       ip=str(conn_dir / "k"), prestarted=self.prestarted)
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
        # a prestarted kernel has been writing to it already
        with open(self.sandbox.workdir.parent / "kernel.log", "ab") as log:
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


def classify(cell):
    """Who wrote a cell: "test", "instructor" (read-only), "student", or "markdown"."""
    if cell.cell_type != "code":
        return "markdown"
    if utils.is_grade(cell) and not utils.is_solution(cell):
        return "test"
    if utils.is_locked(cell) and not utils.is_solution(cell):
        return "instructor"
    return "student"


@dataclass
class Run:
    """What happened while the notebook ran; cell indexes count from 0."""
    kinds: dict                                     # cell index -> classify()
    events: list = field(default_factory=list)      # (cell index, "timeout"/"crashed"/"memory")
    not_run: dict = field(default_factory=dict)     # cell index -> why it never ran
    tampered: dict = field(default_factory=dict)    # test cell index -> names replaced before it
    truncated: set = field(default_factory=set)     # cell indexes whose output was cut
    kernel_seconds: float = 0.0
    seconds: float = 0.0
    limits: object = None                           # the sandbox.Limits it ran under


class GraderFault(RuntimeError):
    """The grader itself failed (not the learner's code): the run must stop, not score zeros."""


def execute(nb, nbmaster, files=None, limits=None, use_bwrap=True, fork_server=None,
            config=None, prestarted=None):
    """Run ``nb`` (changed in place) in a sandboxed kernel; return the ``Run``.

    The kernel is started here, forked from ``fork_server``, or ``prestarted`` (a
    ``prestart.Prestarted`` made with these limits and the notebook's protected modules)."""
    limits = limits or sb.Limits()
    kinds = {i: classify(c) for i, c in enumerate(nb.cells)}
    if fork_server is not None:
        fork_server.wait_ready()
    if prestarted is not None:
        tmp = prestarted.tmp
    else:
        tmp = Path(tempfile.mkdtemp(prefix="nncourse-run-",
                                    dir=fork_server.base if fork_server else None))
    try:
        workdir = tmp / "work"
        workdir.mkdir(exist_ok=True)
        for rel, content in (files or {}).items():
            dest = workdir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(content)
        if prestarted is not None:
            box = prestarted.box
        else:
            box = sb.Sandbox(workdir=workdir, limits=limits, use_bwrap=use_bwrap,
                             uid=sb.fresh_uid() if use_bwrap else None, fork_server=fork_server)
        if box.uid is not None:
            for p in [tmp, *workdir.rglob("*"), workdir]:
                os.chown(p, box.uid, box.uid)
        env = box.env()
        ex = SandboxedExecute(box, nbmaster.protect, kinds, prestarted=prestarted,
                              config=config)
        started = time.monotonic()
        ex.nb = nb
        ex.resources = {"metadata": {"path": str(workdir)}}
        try:
            ex.run(nb, workdir, env)
        except Exception as exc:
            log = tmp / "kernel.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise GraderFault(f"the grading kernel failed: {type(exc).__name__}: {exc}\n"
                              f"{tail}") from exc
    finally:
        if prestarted is not None:
            prestarted.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return Run(kinds=kinds, events=ex.events, not_run=ex.not_run, tampered=ex.tampered,
               truncated=ex.truncated, kernel_seconds=ex.kernel_seconds, limits=limits,
               seconds=time.monotonic() - started)
