"""Start a grading kernel: apply the limits, take the guard's snapshot, then run ipykernel.

Runs inside the sandbox, before any student code: ``python -m nncourse._kernel_boot -f CONN``.
"""
import os
import resource
import sys

WAIT = "--wait-for-connection-file"  # see nncourse.prestart


def apply_limits():
    cpu, memory, file_size, processes = (int(v) for v in os.environ["NNCOURSE_LIMITS"].split(","))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def wait_for_connection_file(path, poll=0.005):
    """Until the grader has written the connection file (and, as root, handed it to this
    kernel's uid): a kernel started before the grader was ready (``nncourse.prestart``)."""
    import json
    import time
    while True:
        try:
            with open(path, encoding="utf-8") as fh:
                if "key" in json.load(fh):
                    return
        except (OSError, ValueError):  # not there, not ours yet, or half written
            pass
        time.sleep(poll)


def start_kernel(protect):
    """Import what the tests use, start ipykernel, take the guard's baseline, serve."""
    # the modules the tests rely on are imported now, before the student's code can touch them
    from nncourse import guard
    guard.preload(protect)
    from ipykernel.kernelapp import IPKernelApp
    if WAIT in sys.argv:
        sys.argv.remove(WAIT)
        wait_for_connection_file(sys.argv[sys.argv.index("-f") + 1])
    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:])
    guard.install(app.shell)
    app.start()


def main():
    apply_limits()
    start_kernel([m for m in os.environ.pop("NNCOURSE_PROTECT", "").split(",") if m])


if __name__ == "__main__":
    main()
