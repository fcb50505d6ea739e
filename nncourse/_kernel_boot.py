"""Start a grading kernel: apply the limits, take the guard's snapshot, then run ipykernel.

Runs inside the sandbox, before any student code: ``python -m nncourse._kernel_boot -f CONN``.
"""
import os
import resource
import sys


def apply_limits():
    cpu, memory, file_size, processes = (int(v) for v in os.environ["NNCOURSE_LIMITS"].split(","))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def start_kernel(protect):
    """Import what the tests use, start ipykernel, take the guard's baseline, serve."""
    # the modules the tests rely on are imported now, before the student's code can touch them
    from nncourse import guard
    guard.preload(protect)
    from ipykernel.kernelapp import IPKernelApp
    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:])
    guard.install(app.shell)
    app.start()


def main():
    apply_limits()
    start_kernel([m for m in os.environ.pop("NNCOURSE_PROTECT", "").split(",") if m])


if __name__ == "__main__":
    main()
