"""What the self-check costs a learner: seconds added to each graded test cell in the notebook.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/selfcheck.py [--rounds 3] [--pause 0]
                                                            [ASSIGNMENT ...]

Every exercise, its answers filled with the instructor's solution, runs in a Jupyter kernel
twice per round: in a copy of the course that holds solutions/ (each graded test cell then
runs its hidden tests too) and in one that does not (only the visible tests run; the peer).
The rounds interleave the two, and each test cell's time is its fastest over the rounds, from
the kernel's busy to its idle message (the self-check runs between them). The script prints, per
exercise, the largest and the mean time a test cell gains, and the largest after the first test
cell (which starts importing what the hidden tests use, PyTorch mostly, once per kernel, in the
background); it never asserts on time. By default the cells run back to back, as "Run All"
runs them, which leaves the background import no time; ``--pause S`` waits S seconds before
each graded test cell, as a learner who writes an answer before running its tests does.
"""
import argparse
import asyncio
import copy
import os
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from grading import fill_in, nbgrader_meta, solution_code  # noqa: E402
from nncourse.release import assignments  # noqa: E402


def learner_notebooks(assignment):
    """name -> the released notebook with every answer cell holding the solution."""
    out = {}
    for path in sorted((ROOT / "exercises" / assignment).glob("*.ipynb")):
        solved = nbformat.read(str(ROOT / "solutions" / assignment / path.name), as_version=4)
        out[path.name] = fill_in(nbformat.read(str(path), as_version=4), solution_code(solved))
    return out


class Learner(NotebookClient):
    """Runs the cells in order, waiting ``pause`` seconds before each graded test cell, as a
    learner does who writes an answer and then runs its tests (0: all cells back to back)."""
    pause = 0.0

    async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
        if self.pause and nbgrader_meta(cell).get("grade"):
            await asyncio.sleep(self.pause)
        return await super().async_execute_cell(cell, cell_index, *args, **kwargs)


def test_cell_seconds(nb, folder, pause=0.0):
    """grade_id -> seconds of each graded test cell, running ``nb`` in ``folder``."""
    nb = copy.deepcopy(nb)
    client = Learner(nb, timeout=300, kernel_name="python3", allow_errors=True,
                     record_timing=True, resources={"metadata": {"path": str(folder)}})
    client.pause = pause
    client.execute()
    out = {}
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade"):
            t = cell.metadata.execution
            start = datetime.fromisoformat(t["iopub.status.busy"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(t["iopub.status.idle"].replace("Z", "+00:00"))
            out[nbgrader_meta(cell)["grade_id"]] = (end - start).total_seconds()
    return out


def courses(tmp, assignment):
    with_solutions = tmp / "with" / "exercises" / assignment
    without = tmp / "without" / "exercises" / assignment
    for dest in (with_solutions, without):
        shutil.copytree(ROOT / "exercises" / assignment, dest)
    shutil.copytree(ROOT / "solutions" / assignment, tmp / "with" / "solutions" / assignment)
    return with_solutions, without


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pause", type=float, default=0.0,
                        help="seconds to wait before each graded test cell (default: none)")
    args = parser.parse_args()
    print(f"{'exercise':<18} {'tests':>5} {'visible only':>12} {'+ hidden':>9} "
          f"{'largest gain':>12} {'after the 1st':>13} {'mean gain':>9}")
    worst = 0.0
    for assignment in args.assignments or assignments(ROOT):
        with tempfile.TemporaryDirectory(prefix="nncourse-bench-") as tmp:
            full, bare = courses(Path(tmp), assignment)
            best = {"full": {}, "bare": {}}
            for _ in range(args.rounds):
                for label, folder in (("full", full), ("bare", bare)):
                    for nb in learner_notebooks(assignment).values():
                        for gid, s in test_cell_seconds(nb, folder, args.pause).items():
                            best[label][gid] = min(s, best[label].get(gid, float("inf")))
        gains = [best["full"][g] - best["bare"][g] for g in best["full"]]  # in notebook order
        worst = max(worst, max(gains))
        later = max(gains[1:], default=0.0)  # the first test cell also loads what the tests import
        print(f"{assignment:<18} {len(gains):>5} {sum(best['bare'].values()):>11.2f}s "
              f"{sum(best['full'].values()):>8.2f}s {max(gains):>11.2f}s {later:>12.2f}s "
              f"{sum(gains) / len(gains):>8.2f}s")
    print(f"\nlargest time a test cell gains from its hidden tests: {worst:.2f} s "
          f"(fastest of {args.rounds} rounds, {os.cpu_count()} cores, "
          f"{args.pause:g} s before each test cell)")


if __name__ == "__main__":
    main()
