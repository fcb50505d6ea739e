"""The ``nncourse`` command: release exercises, check your work, grade a class."""
import argparse
import sys

from . import release as release_mod


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nncourse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p_release = sub.add_parser("release", help="regenerate exercises/ from solutions/")
    p_release.add_argument("assignment", nargs="*", help="assignment names (default: all)")

    p_check = sub.add_parser(
        "check", help="grade your notebook, hidden tests included; exit 0 only for full marks")
    p_check.add_argument("notebook", help="e.g. exercises/01-perceptron/perceptron.ipynb")
    p_check.add_argument("--assignment", help="the assignment, if the notebook is not in "
                                              "exercises/ASSIGNMENT/")
    p_check.add_argument("--timeout", type=float, default=120,
                         help="seconds for the whole notebook (default 120)")

    p_progress = sub.add_parser(
        "progress", help="your last checked score per exercise, what remains, what to read next")
    p_progress.add_argument("--course", help="the course folder (default: the one you are in)")

    p_grade = sub.add_parser("grade", help="grade a batch of submissions")
    p_grade.add_argument("assignment")
    p_grade.add_argument("submissions", help="folder of STUDENT/NOTEBOOK.ipynb (or nbgrader's "
                                             "STUDENT/ASSIGNMENT/NOTEBOOK.ipynb), or a .zip")
    p_grade.add_argument("--course", help="the nbgrader course folder, holding "
                                          "nbgrader_config.py (default: the current folder)")
    p_grade.add_argument("--out", help="grading folder, an nbgrader course folder (default: "
                                       "COURSE/grading/ASSIGNMENT, ignored by git)")
    p_grade.add_argument("--duedate", help="due date, e.g. '2026-01-15 17:00:00 UTC' (default: "
                                           "the gradebook's)")
    p_grade.add_argument("--workers", type=int, default=None,
                         help="local worker processes (default: number of cores)")
    p_grade.add_argument("--roster", help="CSV of student ids; those with no submission get 0")
    p_grade.add_argument("--db", help="gradebook SQLAlchemy URL (default: sqlite in --out)")
    p_grade.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")
    p_grade.add_argument("--timeout", type=float, default=None,
                         help="seconds for each notebook (default 120); a cell's limit is the "
                              "course's Execute.timeout")

    args = parser.parse_args(argv)
    if args.command == "release":
        for path in release_mod.release(args.assignment or None):
            print(f"released {path}")
        return 0
    if args.command == "check":
        from . import check, sandbox
        from . import course
        try:
            config = course.load(check.locate(args.notebook, args.assignment)[0]).config
            result = check.check(args.notebook, assignment=args.assignment,
                                 limits=sandbox.Limits.from_config(config, args.timeout))
        except (check.WrongInput, course.NoCourse) as exc:
            print(f"nncourse check: {exc}", file=sys.stderr)
            return 2
        return 0 if check.full_marks(result) else 1
    if args.command == "progress":
        from . import progress
        progress.progress(args.course)
        return 0
    if args.command == "grade":
        from . import grade
        try:
            grade.grade(args.assignment, args.submissions, args.out, workers=args.workers,
                        roster=args.roster, db=args.db, scheduler=args.scheduler,
                        timeout=args.timeout, course=args.course, duedate=args.duedate)
        except Exception as exc:  # the batch was not graded: say why, exit 2, no traceback
            print(f"nncourse grade: {' '.join(str(exc).split()) or type(exc).__name__}"
                  f"{'' if isinstance(exc, (OSError, RuntimeError)) else f' ({type(exc).__name__})'}",
                  file=sys.stderr)
            return 2
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
