"""How long a learner waits for `nncourse check` of a whole exercise, beside plain nbgrader.

For each exercise: the release with every answer filled in (the instructor's solutions) is
checked three ways, interleaved, fastest of ``--rounds``:

- ``nncourse check``, first time (its cache of the assignment's master copy emptied: what every
  check cost before the cache, nbgrader's generate_assignment included);
- ``nncourse check`` again (the master copy cached by the solutions' digest: the usual case);
- ``nbgrader autograde`` of the same notebook in a course folder where generate_assignment has
  already run (plain nbgrader's cost of grading one notebook, without the release step).

Prints seconds and ratios; asserts nothing. The goal: the cached check within 5 s on an idle
2-core machine for every exercise.

    python benchmarks/check_speed.py [--rounds 3] [ASSIGNMENT ...]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from grading import fill_in, notebooks, solution_code  # noqa: E402
import nbformat  # noqa: E402
from nncourse import master  # noqa: E402
from nncourse.release import assignments, copy_course, nbgrader_command  # noqa: E402


def env():
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                OMP_NUM_THREADS="1")


def solved(assignment, folder):
    """The assignment's release with the solutions filled in, as a learner would save it."""
    d = folder / "exercises" / assignment
    d.mkdir(parents=True)
    for sol in notebooks(assignment):
        rel = nbformat.read(ROOT / "exercises" / assignment / sol.name, as_version=4)
        nb = fill_in(rel, solution_code(nbformat.read(sol, as_version=4)))
        nbformat.write(nb, str(d / sol.name))
    return sorted(d.glob("*.ipynb"))


def timed(cmd, cwd):
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, check=False)
    return time.perf_counter() - t


def measure(assignment, rounds, tmp):
    nbs = solved(assignment, tmp)
    check = [str(BIN / "nncourse"), "check", *map(str, nbs[:1]), "--assignment", assignment]
    (tmp / "plain").mkdir()
    course = copy_course(assignment, tmp / "plain")
    nbgrader_command("generate_assignment", assignment, "--force", course_root=course)
    sub = course / "submitted" / "learner" / assignment
    sub.mkdir(parents=True)
    for nb in nbs:
        shutil.copy(nb, sub / nb.name)
    autograde = [str(BIN / "nbgrader"), "autograde", assignment, "--force",
                 f"--CourseDirectory.root={course}"]
    cold, warm, plain = [], [], []
    for _ in range(rounds):
        for p in master.cache_dir(ROOT).glob(f"master-{assignment}-*"):
            p.unlink()
        cold.append(timed(check, ROOT))
        warm.append(timed(check, ROOT))
        plain.append(timed(autograde, course))
    return min(cold), min(warm), min(plain)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("assignments", nargs="*")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    names = args.assignments or assignments(ROOT)
    print(f"{'exercise':<20} {'check, first':>12} {'check, cached':>13} "
          f"{'nbgrader autograde':>18} {'cached / nbgrader':>17}")
    for name in names:
        with tempfile.TemporaryDirectory() as tmp:
            cold, warm, plain = measure(name, args.rounds, Path(tmp))
        print(f"{name:<20} {cold:>10.1f} s {warm:>11.1f} s {plain:>16.1f} s "
              f"{warm / plain:>16.2f}x", flush=True)


if __name__ == "__main__":
    main()
