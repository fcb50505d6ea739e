"""The grader's fork server: imports what the tests use once, then forks a fresh kernel per notebook.

Runs inside bubblewrap (``sandbox.ForkServer`` starts it), as root of that sandbox (the grader
runs as root), and never runs student code itself. It has imported numpy, torch, nnlib, the course's
helpers and ipykernel, so a kernel forked from it starts without paying those imports again.
Each request (one notebook) carries the ``sandbox.View`` its kernel must see, the one a kernel
started by bubblewrap gets; the fork server's own sandbox was made from the same read-only
paths. For each request it forks a child that, before any student code runs:

1. enters the view's namespaces, so nothing it starts or leaves behind is seen by the next
   notebook: a fresh ``/tmp`` (which hides the worker's folder, and with it other notebooks'
   run folders), the view's folders under it put back, the view's hostname, a loopback device
   of its own, its own ``/proc``;
2. forks the kernel as the first process after the namespace's init, so the whole namespace,
   daemons included, dies with the kernel;
3. drops to the view's uid with no capabilities and no new privileges, takes the view's
   environment and folder, then starts the kernel as ``_kernel_boot`` does: the limits, then
   ipykernel with the guard's baseline taken afresh.

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

CLONE_NEWNS = 0x00020000
NAMESPACES = dict(uts=0x04000000, ipc=0x08000000, pid=0x20000000, net=0x40000000)
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


def _isolate(view):
    """In the forked child, still privileged: the view's namespaces and file system."""
    os.setsid()
    flags = CLONE_NEWNS
    for ns in view["namespaces"]:
        flags |= NAMESPACES[ns]
    _check(_libc.unshare(flags), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    # a fresh /tmp hides the worker's folder (it lives in /tmp); put the view's folders that
    # lie in /tmp back at their own paths: the code (a course checked out there) read-only
    keep = [(path, path in view["writable"], os.open(path, os.O_PATH | os.O_DIRECTORY))
            for path in view["readonly"] + view["writable"] if path.startswith("/tmp/")]
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    for path, writable, fd in keep:
        os.makedirs(path, mode=0o755, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        if not writable:
            _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)
    hostname = view["hostname"].encode()
    _check(_libc.sethostname(hostname, len(hostname)), "sethostname")
    _loopback_up()


def _clear_capabilities():
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = (ctypes.c_uint32 * 6)()                  # effective, permitted, inheritable: none
    _check(_libc.capset(header, data), "capset")


def _drop(uid):
    """Become the notebook's uid: no capabilities, no new privileges."""
    if uid is not None:
        for cap in range(64):
            _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # fails past the last cap: fine
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # clears the effective and permitted capabilities
    _clear_capabilities()  # and the inheritable ones, as setpriv --inh-caps=-all does
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def _kernel(req, log_fd):
    """Pid 2 of the new PID namespace: the kernel, in the view's environment and folder."""
    view = req["view"]
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _drop(view["uid"])
    os.environ.clear()
    os.environ.update(view["env"])
    os.chdir(view["cwd"])
    sys.path[0] = view["cwd"]  # not the fork server's folder: as ``python -m`` started here has it
    devnull = os.open("/dev/null", os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.closerange(3, 1 << 16)
    sys.argv = ["nncourse-kernel", "-f", req["connection_file"]]
    from nncourse import _kernel_boot
    _kernel_boot.main()


def _child(req, log_fd):
    """The forked child: isolate, then be the namespace's init while the kernel runs."""
    try:
        os.closerange(3, log_fd)  # the zygote's sockets: not the kernel's business
        os.closerange(log_fd + 1, 1 << 16)
        _isolate(req["view"])
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
