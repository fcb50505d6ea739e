"""The grader's fork server: imports what the tests use once, then forks a fresh kernel per notebook.

Runs inside bubblewrap (``sandbox.ForkServer`` starts it), as root of that sandbox (the grader
runs as root), and never runs student code itself. It has imported numpy, torch, nnlib, the course's
helpers and ipykernel, so a kernel forked from it starts without paying those imports again.
For each request (one notebook) it forks a child that, before any student code runs:

1. enters new mount, network, IPC, UTS and PID namespaces of its own, so nothing it starts or
   leaves behind is seen by the next notebook: a fresh ``/tmp``, the worker's other folders
   hidden, a loopback device of its own, its own ``/proc``;
2. forks the kernel as the first process after the namespace's init, so the whole namespace,
   daemons included, dies with the kernel;
3. drops to the notebook's own uid with no capabilities, no new privileges and the limits of
   ``_kernel_boot.apply_limits``; then starts ipykernel with the guard's baseline taken afresh.

The request comes over a Unix socket from ``_spawn.py``, the process the kernel manager sees as
the kernel; when that process goes (it was killed, or the grader stopped), the kernel is killed.
"""
import ctypes
import fcntl
import json
import os
import selectors
import signal
import socket
import struct
import sys

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None):
    _check(_libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                       ctypes.c_ulong(flags), data and data.encode()), f"mount {target}")


def _loopback_up():
    """Bring ``lo`` up, as bubblewrap does: the network namespace then has only a loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(s, 0x8913, ifreq))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(s, 0x8914, struct.pack("16sH14s", b"lo", flags | 1, b""))  # SIOCSIFFLAGS


def _code_under_tmp():
    """Folders the kernel must read that may lie under /tmp (a course checked out there):
    Python's prefixes, this package and nnlib. The sandbox bound them read-only."""
    import nnlib
    from nncourse.sandbox import PACKAGE_DIR
    paths = {sys.prefix, sys.base_prefix, str(PACKAGE_DIR),
             os.path.dirname(os.path.realpath(nnlib.__file__))}
    return sorted(p for p in paths if p.startswith("/tmp/") and os.path.isdir(p))


def _isolate(req):
    """In the forked child, still privileged: namespaces and the file system view."""
    os.setsid()
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID |
                         CLONE_NEWNET), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    # a fresh /tmp hides the worker's folder (it lives in /tmp); put this notebook's run
    # folder back at its own path, and, read-only, the code it runs if that lives in /tmp
    keep = [(path, os.open(path, os.O_PATH | os.O_DIRECTORY))
            for path in [req["run"], *_code_under_tmp()]]
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    for index, (path, fd) in enumerate(keep):
        os.makedirs(path, mode=0o755, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        if index:  # the code, unlike the run folder, stays read-only
            _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)
    _check(_libc.sethostname(b"sandbox", 7), "sethostname")
    _loopback_up()


def _clear_capabilities():
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = (ctypes.c_uint32 * 6)()                  # effective, permitted, inheritable: none
    _check(_libc.capset(header, data), "capset")


def _drop(req):
    """Become the notebook's uid: no capabilities, no new privileges, the limits."""
    uid = req.get("uid")
    if uid is not None:
        for cap in range(64):
            _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # fails past the last cap: fine
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # clears the effective and permitted capabilities
    _clear_capabilities()  # and the inheritable ones, as setpriv --inh-caps=-all does
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    os.environ.clear()
    os.environ.update(req["env"])
    from nncourse import _kernel_boot
    _kernel_boot.apply_limits()


def _kernel(req, log_fd):
    """Pid 2 of the new PID namespace: the kernel."""
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _drop(req)
    os.chdir(req["cwd"])
    devnull = os.open("/dev/null", os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.closerange(3, 1 << 16)
    sys.argv = ["nncourse-kernel", "-f", req["connection_file"]]
    from nncourse import _kernel_boot
    _kernel_boot.start_kernel(req.get("protect", []))


def _child(req, log_fd):
    """The forked child: isolate, then be the namespace's init while the kernel runs."""
    try:
        os.closerange(3, log_fd)  # the zygote's sockets: not the kernel's business
        os.closerange(log_fd + 1, 1 << 16)
        _isolate(req)
        pid = os.fork()  # the first process of the new PID namespace: its init
        if pid == 0:
            pid = os.fork()
            if pid == 0:
                _kernel(req, log_fd)
                os._exit(0)
            signal.signal(signal.SIGTERM, lambda *a: os._exit(1))
            while True:  # reap what the kernel leaves; leave with the kernel's status
                try:
                    done, status = os.wait()
                except ChildProcessError:
                    os._exit(0)
                if done == pid:
                    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    except BaseException as exc:  # said in the kernel's log; the grader reports it
        os.write(log_fd, f"nncourse zygote: could not start the kernel: {exc!r}\n".encode())
        os._exit(70)


def serve(sock):
    """Fork a kernel per connection; tell each launcher its kernel's exit status."""
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    kernels = {}  # connection -> pid
    while True:
        for key, _ in sel.select(timeout=0.2):
            if key.fileobj is sock:
                conn, _ = sock.accept()
                msg, fds, _, _ = socket.recv_fds(conn, 1 << 16, 1)
                req = json.loads(msg)
                pid = os.fork()
                if pid == 0:
                    sock.close()
                    _child(req, fds[0])
                os.close(fds[0])
                kernels[conn] = pid
                sel.register(conn, selectors.EVENT_READ)
            else:  # the launcher went away: the kernel goes too
                conn = key.fileobj
                sel.unregister(conn)
                _kill(kernels.pop(conn))
                conn.close()
        for conn, pid in list(kernels.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                conn.sendall(str(os.waitstatus_to_exitcode(status) & 0xFF).encode())
                sel.unregister(conn)
                conn.close()
                del kernels[conn]


def _kill(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)


def main():
    from nncourse import guard
    import ipykernel.kernelapp  # noqa: F401  (imported once here, not per notebook)
    guard.preload([m for m in os.environ.pop("NNCOURSE_PROTECT", "").split(",") if m])
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(sys.argv[1])
    sock.listen(8)
    print("ready", flush=True)
    serve(sock)


if __name__ == "__main__":
    main()
