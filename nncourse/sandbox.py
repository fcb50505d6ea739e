"""Where student code runs: a kernel inside bubblewrap, with resource limits.

Only the kernel is sandboxed. The process that drives it (nbclient, trusted) stays outside and
talks to the kernel over Unix sockets in a folder both can see, so the kernel needs no network
at all. What the kernel sees is described once, by ``View``; it is started either by bubblewrap
(``Sandbox.command``) or by a fork server (``ForkServer``, ``_zygote``), and both give it that
view.

Limits (set with ``resource.setrlimit`` in the kernel's own process before any student code
runs, see ``_kernel_boot``): CPU seconds, address space, file size, number of processes. As
root, the kernel also runs as a fresh unprivileged uid of its own, so the process limit counts
only its own processes and it cannot read files private to root.
"""
import json
import os
import shutil
import sys
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent

# What the grader loses when bubblewrap is missing: said once, in full, where it matters.
NO_BWRAP_WARNING = (
    "bubblewrap (bwrap) is not installed: student code will run WITHOUT a sandbox. "
    "It can read any file this user can read (solutions/, the gradebook, other students' work), "
    "write outside its folder and open network connections. Only the resource limits (CPU time, "
    "memory, file size, processes) still apply. Install it with: apt-get install bubblewrap")


@dataclass
class Limits:
    """Resource limits for one notebook's kernel."""
    timeout: float = 120.0          # wall-clock seconds for the whole notebook
    cell_timeout: float = 60.0      # wall-clock seconds for one cell
    memory: int = 2 << 30           # bytes of address space
    file_size: int = 64 << 20       # bytes, the largest file the kernel may write
    processes: int = 64             # processes and threads of the sandbox's own uid
    output: int = 256 << 10         # characters of output kept per cell

    @classmethod
    def from_config(cls, config, timeout=None):
        """The limits for a course: a cell's time limit is its ``Execute.timeout`` (nbgrader's
        default, 30 s, when it sets none), the notebook's ``timeout`` (default 120 s)."""
        timeout = float(timeout) if timeout else cls.timeout
        cell = config.get("Execute", {}).get("timeout")
        if cell is None:  # (imported only then: nbgrader takes a second to import)
            from nbgrader.preprocessors import Execute
            cell = Execute.timeout.default_value
        cell = float(cell) if cell and cell > 0 else timeout
        return cls(timeout=timeout, cell_timeout=min(cell, timeout))

    @property
    def cpu(self):
        """CPU seconds: the wall-clock budget plus some slack for start-up."""
        return int(self.timeout) + 10


@dataclass
class View:
    """What the sandboxed kernel sees, as plain data: bubblewrap's arguments are made from it
    (``Sandbox._wrap``), and the fork server applies it from its request (``_zygote``).

    - ``readonly``: the system and the Python installation, read-only at their own paths
      (``/usr``, ``/etc``, the venv, nnlib, this package);
    - ``writable``: its own fresh work folder (its home and current folder, ``cwd``), holding
      only the files the assignment ships beside its notebooks, and its connection's folder;
    - a fresh, empty ``/tmp`` that anyone may write (mode 1777), its own ``/proc`` and ``/dev``;
    - nothing else: not ``solutions/``, not the gradebook, not other students' work;
    - ``namespaces`` of its own, besides a mount namespace: ``net`` with only a loopback
      device, so no network; ``pid``, so it and all it starts die with the grader; ``uts``,
      named ``hostname``; ``ipc``;
    - ``env``, its whole environment, nothing inherited from the grader;
    - ``uid``: as root, a fresh unprivileged uid with no capabilities; None: the grader's own.
    """
    readonly: list
    writable: list
    cwd: str
    env: dict
    uid: int | None = None
    hostname: str = "sandbox"
    namespaces: list = field(default_factory=lambda: ["ipc", "net", "pid", "uts"])


@dataclass
class Sandbox:
    """How to launch one kernel: which folders it may see, which limits it runs under."""
    workdir: Path
    limits: Limits = field(default_factory=Limits)
    use_bwrap: bool = True
    uid: int | None = None           # run as this uid (root only); None: keep ours
    fork_server: "ForkServer | None" = None   # fork the kernel from it, rather than start one

    def readonly_paths(self):
        """Host folders the kernel needs to read: the system, Python, nnlib, this package."""
        paths = ["/usr", "/etc", "/lib", "/lib64", "/bin", "/sbin", "/opt"]
        paths += [sys.base_prefix, sys.prefix, str(PACKAGE_DIR)]
        try:
            import nnlib
            paths.append(str(Path(nnlib.__file__).resolve().parent))
        except ImportError:  # pragma: no cover - nnlib is installed with the course
            pass
        seen, out = set(), []
        for p in paths:
            if p and os.path.exists(p) and p not in seen:
                seen.add(p)
                out.append(p)
        return out

    def env(self):
        """The kernel's whole environment: nothing inherited from the grader."""
        bin_dir = str(Path(sys.executable).parent)
        return {
            "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
            # PWD: bubblewrap sets it as it enters the folder; the fork server has it from here
            "HOME": str(self.workdir), "PWD": str(self.workdir), "TMPDIR": str(self.workdir),
            "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1", "PYTHONDONTWRITEBYTECODE": "1",
            "NBGRADER_EXECUTION": "autograde",
            "NNCOURSE_LIMITS": ",".join(str(int(v)) for v in (
                self.limits.cpu, self.limits.memory, self.limits.file_size,
                self.limits.processes)),
        }

    def view(self, conn_dir=None, protect=()):
        """What a kernel in this sandbox sees (``View``); ``protect`` goes to it in its env."""
        env = self.env()
        if protect:
            env["NNCOURSE_PROTECT"] = ",".join(protect)
        writable = [str(self.workdir)]
        if conn_dir and conn_dir != str(self.workdir):
            writable.append(conn_dir)
        return View(readonly=self.readonly_paths(), writable=writable, cwd=str(self.workdir),
                    env=env, uid=self.uid)

    def command(self, connection_file, protect=()):
        """The argv that starts the kernel (inside bwrap when available)."""
        kernel = [sys.executable, "-m", "nncourse._kernel_boot", "-f", str(connection_file)]
        return self._wrap(kernel, self.view(str(Path(connection_file).parent), protect))

    def spawn_command(self, connection_file, protect=()):
        """The argv that has ``fork_server`` fork the kernel, and stands for it until it ends."""
        view = self.view(str(Path(connection_file).parent), protect)
        request = dict(view=asdict(view), connection_file=str(connection_file))
        return [sys.executable, "-I", "-S", str(PACKAGE_DIR / "_spawn.py"),
                str(self.fork_server.socket), json.dumps(request)]

    def fork_server_command(self, socket_path, protect=()):
        """The argv of a worker's fork server (``_zygote``), its folder being ``workdir``.

        The same view of the system as a kernel's; as root it keeps its capabilities inside the
        sandbox, which it needs to give each kernel it forks namespaces and a uid of its own.
        """
        return self._wrap([sys.executable, "-m", "nncourse._zygote", str(socket_path)],
                          self.view(protect=protect), fork_server=True)

    def _wrap(self, argv, view, fork_server=False):
        """``argv`` run in ``view``, by bubblewrap; with the environment it gets."""
        if not self.use_bwrap:
            return argv, view.env
        cmd = ["bwrap", *(f"--unshare-{ns}" for ns in view.namespaces), "--unshare-cgroup-try"]
        if view.uid is not None or (fork_server and os.geteuid() == 0):
            # as root: bwrap needs no user namespace; the kernel then drops to its own uid
            if fork_server:
                cmd += ["--cap-add", "ALL"]
            else:
                argv = ["setpriv", f"--reuid={view.uid}", f"--regid={view.uid}",
                        "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
                        "--no-new-privs", "--"] + argv
        else:
            cmd.append("--unshare-user-try")
        cmd += ["--die-with-parent", "--new-session", "--hostname", view.hostname,
                "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
        made = set()
        for p in view.readonly + view.writable:
            # parents that bwrap would create as 0700 must be traversable by the kernel's uid
            for parent in reversed(Path(p).parents[:-1]):
                if str(parent) not in made and not os.path.islink(parent):
                    made.add(str(parent))
                    cmd += ["--perms", "0755", "--dir", str(parent)]
        for p in view.readonly:
            if os.path.islink(p):  # /lib -> usr/lib on merged-usr systems
                cmd += ["--symlink", os.readlink(p), p]
            else:
                cmd += ["--ro-bind", p, p]
        for p in view.writable:
            cmd += ["--bind", p, p]
        cmd += ["--chdir", view.cwd, "--clearenv"]
        for k, v in view.env.items():
            cmd += ["--setenv", k, v]
        return cmd + ["--"] + argv, view.env


class ForkServer:
    """A ``_zygote``: started once per run (or per Dask worker), it forks a fresh sandboxed
    kernel per notebook, for any number of workers at once.

    Kernels forked from it skip importing numpy, torch and ipykernel (see ``_zygote.py`` for
    what each kernel still gets of its own). Runs in a folder of its own, ``base``, under which
    each notebook's run folder is made; it dies with the process that started it. Starting it
    returns at once; ``wait_ready`` waits for its imports.
    """

    def __init__(self, limits, protect=()):
        import subprocess
        import tempfile
        # in /tmp: each kernel gets a fresh /tmp, which is what hides this folder from it
        self.base = Path(tempfile.mkdtemp(prefix="nncourse-zygote-", dir="/tmp"))
        self.base.chmod(0o711)
        self.socket = self.base / "zygote.sock"
        box = Sandbox(workdir=self.base, limits=limits)
        cmd, _ = box.fork_server_command(self.socket, protect)
        self.log = open(self.base / "zygote.log", "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.log)
        self.ready = False

    def wait_ready(self):
        """Block until it has imported what the tests use; return it."""
        if not self.ready and self.proc.stdout.readline().strip() != b"ready":
            self.proc.kill()
            self.proc.wait()
            log = (self.base / "zygote.log").read_text(errors="replace")[-2000:]
            self.close()
            raise RuntimeError(f"the grading fork server did not start: {log}")
        self.ready = True
        return self

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.base, ignore_errors=True)


def bwrap_available():
    """True when bubblewrap is installed and can create namespaces here."""
    if shutil.which("bwrap") is None:
        return False
    import subprocess
    r = subprocess.run(["bwrap", "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev",
                        "--proc", "/proc", "true"], capture_output=True)
    return r.returncode == 0


def require_bwrap(log=print):
    """Decide whether to sandbox; warn loudly when we cannot. In CI, a missing bwrap is an error."""
    if bwrap_available():
        return True
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError("bubblewrap is required in CI (CI=true) but is not usable: "
                           "apt-get install bubblewrap")
    warnings.warn(NO_BWRAP_WARNING, RuntimeWarning, stacklevel=2)
    log(f"warning: {NO_BWRAP_WARNING}")
    return False


def fresh_uid():
    """A uid no account uses, so each kernel's process limit counts only its own processes."""
    if os.geteuid() != 0:
        return None
    return 200_000 + (os.getpid() * 7919 + int.from_bytes(os.urandom(2), "big")) % 800_000
