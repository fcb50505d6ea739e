"""A sandboxed kernel started before the grader has imported what it needs to drive it.

``nncourse check`` grades one notebook, and a learner waits for it: the kernel's start (Python,
ipykernel and what the tests use, PyTorch mostly: about 1.8 s) and the grader's own imports
(nbgrader, nbformat, nbclient: about 1 s) take most of that wait. Started first, the kernel
imports on one core while the grader imports on the other. It is the kernel the execute stage
would start (the same command, folders, limits and environment, ``sandbox.Sandbox.command``),
told to wait for its connection file, which the execute stage writes when it adopts the kernel.

Only the standard library and ``sandbox`` are imported here, so starting costs milliseconds.
"""
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import sandbox as sb
from ._kernel_boot import WAIT


@dataclass
class Prestarted:
    """A kernel process running in its run folder (``tmp``), waiting for its connection file."""
    tmp: Path
    box: "sb.Sandbox"
    protect: list
    proc: subprocess.Popen = field(repr=False)

    @property
    def workdir(self):
        return self.box.workdir

    @property
    def connection_file(self):
        return self.tmp / "conn" / "kernel.json"

    def close(self):
        """Stop the kernel if it still runs; remove its run folder."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def start(limits, protect, use_bwrap=True):
    """Start the kernel that ``autograde.execute.execute(..., prestarted=...)`` will drive."""
    tmp = Path(tempfile.mkdtemp(prefix="nncourse-run-"))
    workdir, conn = tmp / "work", tmp / "conn"
    workdir.mkdir()
    conn.mkdir()
    uid = sb.fresh_uid() if use_bwrap else None
    if uid is not None:
        for p in (tmp, workdir, conn):
            os.chown(p, uid, uid)
    box = sb.Sandbox(workdir=workdir, limits=limits, use_bwrap=use_bwrap, uid=uid)
    cmd, env = box.command(conn / "kernel.json", protect)
    cmd = cmd + [WAIT]  # the kernel's own argument: it comes last, after the sandbox's
    with open(tmp / "kernel.log", "wb") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=workdir,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
    return Prestarted(tmp=tmp, box=box, protect=list(protect), proc=proc)
