"""Grading throughput: `nncourse grade --workers 2` against sequential `nbgrader autograde`.

Both grade the same 40 generated submissions of one assignment in this run: a third solve
everything, a third hand in the blank release, a third get one function wrong. Prints the wall
times, their ratio (the goal on 2 cores is 2x or better), and each tool's overhead per
notebook above what starting a kernel and executing the notebook costs by itself (measured here
with nbclient on the same notebooks). Prints, never asserts.

    python benchmarks/grading_throughput.py [--assignment 01-perceptron] [--n 40]
"""
import argparse
import ast
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def make_submissions(assignment, n, folder):
    """``n`` learner notebooks: the release with its answer cells filled in, or not, or wrong."""
    sol = {p.stem: nbformat.read(p, as_version=4)
           for p in (ROOT / "solutions" / assignment).glob("*.ipynb")}
    rel = {p.stem: nbformat.read(p, as_version=4)
           for p in (ROOT / "exercises" / assignment).glob("*.ipynb")}
    for i in range(n):
        for name, nb in rel.items():
            nb = nbformat.from_dict(json.loads(nbformat.writes(nb)))
            answers = {c.metadata.nbgrader["grade_id"]: c.source for c in sol[name].cells
                       if c.metadata.get("nbgrader", {}).get("solution")}
            wrong_one = i % 3 == 2
            for cell in nb.cells:
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                if gid in answers and i % 3 != 1:
                    cell.source = answers[gid]
                    defs = [d.name for d in ast.parse(cell.source).body
                            if isinstance(d, ast.FunctionDef)]
                    if wrong_one and defs:  # the first function answers 0.0, whatever it is asked
                        cell.source += f"\n\n{defs[0]} = lambda *args, **kwargs: 0.0"
                        wrong_one = False
            d = folder / f"student{i:02d}"
            d.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, d / f"{name}.ipynb")


def env():
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                OMP_NUM_THREADS="1")


def time_nncourse(assignment, subs, out, workers):
    t = time.perf_counter()
    r = subprocess.run([str(BIN / "nncourse"), "grade", assignment, str(subs), "--out", str(out),
                        "--workers", str(workers)], env=env(), capture_output=True, text=True)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"nncourse grade failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    timings = [res["timings"] for p in (out / "results").glob("*.json")
               for res in json.loads(p.read_text())["results"] if res["timings"]]
    return wall, timings, r.stdout.strip().splitlines()[-1]


def time_nbgrader(assignment, subs, course):
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / assignment, course / "solutions" / assignment)
    for student in sorted(subs.iterdir()):
        shutil.copytree(student, course / "submitted" / student.name / assignment)
    run = [str(BIN / "nbgrader"), f"--CourseDirectory.root={course}"]
    t = time.perf_counter()
    subprocess.run([run[0], "generate_assignment", assignment, "--force", *run[1:]], cwd=course,
                   env=env(), check=True, capture_output=True)
    setup = time.perf_counter() - t
    t = time.perf_counter()
    r = subprocess.run([run[0], "autograde", assignment, *run[1:]], cwd=course, env=env(),
                       capture_output=True, text=True)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"nbgrader autograde failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return wall, setup


def time_bare_execution(subs, k=4):
    """Kernel start-up plus execution alone, with nbclient, on ``k`` of the notebooks."""
    from nbclient import NotebookClient
    times = []
    for nb_path in sorted(subs.glob("*/*.ipynb"))[:k]:
        nb = nbformat.read(nb_path, as_version=4)
        t = time.perf_counter()
        NotebookClient(nb, timeout=120, allow_errors=True, kernel_name="python3",
                       resources={"metadata": {"path": str(nb_path.parent)}}).execute()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignment", default="01-perceptron")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nncourse-bench-") as tmp:
        tmp = Path(tmp)
        subs = tmp / "submissions"
        make_submissions(args.assignment, args.n, subs)
        bare = time_bare_execution(subs)
        ours, timings, summary = time_nncourse(args.assignment, subs, tmp / "out", args.workers)
        theirs, setup = time_nbgrader(args.assignment, subs, tmp / "course")
    n = args.n
    print(f"{n} submissions of {args.assignment} on {os.cpu_count()} cores")
    print(f"  kernel start + execution alone (nbclient, median of 4): {bare:6.2f} s per notebook")
    print(f"  nncourse grade --workers {args.workers}: {ours:7.1f} s  ({summary})")
    print(f"  nbgrader autograde, sequential:  {theirs:7.1f} s  "
          f"(+ {setup:.1f} s generate_assignment)")
    print(f"  speed-up, end to end (nbgrader with its generate_assignment, as nncourse "
          f"includes its own): {(theirs + setup) / ours:.2f}x  (goal on 2 cores: >= 2x)")
    per_ours = statistics.mean(t["total"] for t in timings)
    inner = statistics.mean(t["kernel_start"] + t["execute"] for t in timings)
    print("  per-notebook overhead above kernel start-up and execution:")
    print(f"    nncourse (in a worker): {per_ours - inner:5.2f} s  "
          f"(sanitize {statistics.mean(t['prepare'] for t in timings):.2f} s, the rest "
          f"scoring and the feedback page; kernel start + run in the sandbox {inner:.2f} s)")
    print(f"    nbgrader autograde:     {theirs / n - bare:5.2f} s  "
          f"({theirs / n:.2f} s per notebook less {bare:.2f} s bare)")


if __name__ == "__main__":
    main()
