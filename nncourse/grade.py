"""``nncourse grade``: grade a batch of submissions in parallel, into nbgrader's gradebook.

One parent process owns the gradebook. It stores the assignment there (nbgrader's
``generate_assignment``), reads the submissions, and hands each one to a worker as an isolated
task: a local process pool, or a Dask cluster with ``--scheduler``. A worker runs the notebook
in the sandbox and returns the scores; only the parent writes them, so SQLite never sees two
writers. Locally, the kernels are forked from one fork server (``sandbox.ForkServer``) that
imports numpy, torch and ipykernel once, while nbgrader stores the assignment.

For each finished submission the parent, in this order, writes its grades (nbgrader's
Gradebook API, as ``SaveAutoGrades`` does), its feedback page, and then its record in
``DIR/results/``, which holds the submission's content hash. A later run skips a submission whose
record matches its hash, so a run that was stopped resumes where it stopped; a submission whose
record is missing is graded again, and the gradebook's rows (one per student, test) are updated,
never duplicated.
"""
import concurrent.futures as cf
import json
import multiprocessing
import multiprocessing.util
import os
import sys
import time
from pathlib import Path

from . import autograde, coursefolder, master, report, sandbox, submissions
from . import course as course_mod
from .autograde import NotebookResult, Status
from .gradebook import GradebookWriter

RESULTS = "results"
_WORKER = {}


def _init_worker(m, limits, use_bwrap, fork_server=None, config=None):
    _WORKER.update(master=m, limits=limits, use_bwrap=use_bwrap, config=config)
    if fork_server is not None:
        _WORKER["fork_server"] = fork_server


def start_fork_server(limits, use_bwrap, protect):
    """A fork server for this run's kernels; as root with bubblewrap only (it gives each kernel
    a uid of its own, which only root can), else None: each kernel is started afresh."""
    if not use_bwrap or os.geteuid() != 0:
        return None
    return sandbox.ForkServer(limits, protect)


def _fork_server(m, limits, use_bwrap):
    """The fork server the parent handed this worker, or (a Dask worker) one of its own."""
    if "fork_server" not in _WORKER:
        protect = sorted({mod for nbm in m.notebooks.values() for mod in nbm.protect})
        fs = _WORKER["fork_server"] = start_fork_server(limits, use_bwrap, protect)
        if fs is not None:
            multiprocessing.util.Finalize(fs, fs.close, exitpriority=10)
    fs = _WORKER["fork_server"]
    return fs.wait_ready() if fs is not None else None


def run_task(task, m=None, limits=None, use_bwrap=None, config=None):
    """Grade one student's submission (every notebook of the assignment). Runs in a worker.

    A fault of the grader itself is raised, not turned into a score: the parent stops the run.
    """
    m = m or _WORKER["master"]
    limits = limits or _WORKER["limits"]
    config = config if config is not None else _WORKER.get("config")
    use_bwrap = _WORKER["use_bwrap"] if use_bwrap is None else use_bwrap
    sub = task["submission"]
    only_one = len(m.notebooks) == 1
    fork_server = _fork_server(m, limits, use_bwrap)
    results = []
    for name, nbm in m.notebooks.items():
        raw, notes = submissions.pick_notebook(sub, name, only_one)
        notes = list(sub.notes) + notes
        if raw is None:
            status, message = notes[-1]
            results.append(autograde.unscored(nbm, sub.student, status, message))
            continue
        files = {**submissions.extra_files(sub), **m.files}  # as Autograde copies them
        try:
            results.append(autograde.grade_notebook(
                raw, nbm, m.assignment, sub.student, files=files, limits=limits,
                use_bwrap=use_bwrap, notes=notes, fork_server=fork_server, config=config))
        except Exception as exc:
            raise autograde.GraderFault(
                f"grading {sub.student}'s {name}.ipynb failed in the grader itself, not in the"
                f" student's code: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            ) from exc
    return dict(student=sub.student, digest=task["digest"], results=results)


def _record_path(out, student):
    return out / RESULTS / f"{coursefolder.safe(student)}.json"


def load_records(out):
    records = {}
    for p in sorted((out / RESULTS).glob("*.json")):
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
            rec["results"] = [NotebookResult.from_dict(r) for r in rec["results"]]
            records[rec["student"]] = rec
        except (ValueError, KeyError, TypeError):
            continue  # a record cut short: that submission is graded again
    return records


def write_record(out, rec):
    path = _record_path(out, rec["student"])
    tmp = path.with_suffix(".json.tmp")
    data = dict(rec, results=[r.to_dict() for r in rec["results"]])
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


class Progress:
    """tqdm's bar over the batch (on a terminal), and a line per finished submission."""

    def __init__(self, total, stream=None):
        from tqdm import tqdm
        self.stream, self.total, self.done = stream or sys.stdout, total, 0
        tty = getattr(self.stream, "isatty", lambda: False)()
        self.bar = tqdm(total=total, file=self.stream, unit="submission", leave=False,
                        dynamic_ncols=True, disable=total == 0 or not tty)

    def step(self, student, results):
        self.done += 1
        score = sum(r.score for r in results)
        top = sum(r.max_score for r in results)
        status = Status.worst(r.status for r in results)
        self.bar.write(f"[{self.done}/{self.total}] {student}: {status} {score:g}/{top:g}",
                       file=self.stream)
        self.bar.update(1)

    def close(self):
        self.bar.close()


def _executor(workers, scheduler, m, limits, use_bwrap, fork_server, config):
    if scheduler:
        from distributed import Client
        client = Client(scheduler)
        mf = client.scatter(m, broadcast=True)

        def submit(task):
            return client.submit(run_task, task, mf, limits, use_bwrap, config, pure=False)

        def results(futs):
            from distributed import as_completed
            for fut in as_completed(futs):
                yield fut, fut.result()

        return submit, results, client.close
    ctx = multiprocessing.get_context("fork")
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                  initializer=_init_worker,
                                  initargs=(m, limits, use_bwrap, fork_server, config))

    def submit(task):
        return pool.submit(run_task, task)

    def results(futs):
        for fut in cf.as_completed(futs):
            yield fut, fut.result()

    return submit, results, lambda: pool.shutdown(wait=True, cancel_futures=True)


def grade(assignment, submissions_path, out=None, workers=None, roster=None, db=None,
          scheduler=None, timeout=None, course=None, duedate=None, stream=None):
    """Grade every new or changed submission; write the gradebook, CSV, feedback and report.

    ``course``: the course folder (default: the current folder); ``out``: the grading folder
    (default: COURSE/grading/ASSIGNMENT, which git ignores).
    """
    stream = stream or sys.stdout
    c = course_mod.find(course)
    c.require(assignment)
    out = Path(out).resolve() if out else c.root / "grading" / assignment
    db_url = db or f"sqlite:///{out / 'gradebook.db'}"
    (out / RESULTS).mkdir(parents=True, exist_ok=True)
    coursefolder.prepare(out, c, db_url)
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    use_bwrap = sandbox.require_bwrap(log=lambda s: print(s, file=stream))
    limits = sandbox.Limits.from_config(c.config, timeout)
    # the fork server imports torch and numpy while nbgrader stores the assignment
    fork_server = None if scheduler else start_fork_server(
        limits, use_bwrap, master.test_imports(assignment, c.root))
    try:
        return _grade(assignment, submissions_path, out, workers, roster, db_url, scheduler,
                      limits, use_bwrap, fork_server, c, duedate, stream)
    finally:
        if fork_server is not None:
            fork_server.close()


def _grade(assignment, submissions_path, out, workers, roster, db_url, scheduler, limits,
           use_bwrap, fork_server, c, duedate, stream):
    m = master.build(assignment, db_url, root=c.root)
    subs, refused = submissions.collect(submissions_path, assignment)
    for name, why in refused:
        print(f"refused {name}: {why}", file=stream)
    # a record whose grades this gradebook lacks (a new --db, a deleted gradebook.db) does not
    # count: that submission is graded again, into this gradebook
    stored = GradebookWriter.students(db_url, assignment)
    records = {s: r for s, r in load_records(out).items() if s in stored}
    salt = f"{m.digest}:{limits.timeout}:{limits.cell_timeout}"
    tasks, unchanged = [], 0
    for student, sub in sorted(subs.items()):
        digest = sub.digest(salt)
        rec = records.get(student)
        if rec and rec.get("digest") == digest:
            unchanged += 1
            continue
        tasks.append(dict(submission=sub, digest=digest))
    workers = workers or os.cpu_count() or 1
    print(f"{assignment}: {len(subs)} submissions, {len(tasks)} to grade, {unchanged} unchanged"
          f" ({'Dask at ' + scheduler if scheduler else f'{workers} workers'})",
          file=stream, flush=True)

    # workers first: a forked worker must not inherit the gradebook's connection
    if fork_server is not None and tasks:
        fork_server.wait_ready()
    pool = _executor(workers, scheduler, m, limits, use_bwrap, fork_server, c.config) \
        if tasks else None
    writer = GradebookWriter(db_url, c, assignment, duedate=duedate)
    try:
        if pool:
            progress = Progress(len(tasks), stream)
            submit, results, close = pool
            try:
                futs = {submit(t): t for t in tasks}
                for fut, rec in results(futs):
                    sub = futs[fut]["submission"]
                    _finish(out, writer, rec, m, sub)
                    records[rec["student"]] = rec
                    progress.step(rec["student"], rec["results"])
            finally:
                progress.close()
                close()
        wanted = set(submissions.read_roster(roster)) if roster else set()
        for student in sorted(wanted - set(subs)):
            if student in records and records[student]["results"][0].status is Status.MISSING:
                continue
            rec = dict(student=student, digest=None, results=[
                autograde.unscored(nbm, student, Status.MISSING, "no submission")
                for nbm in m.notebooks.values()])
            _finish(out, writer, rec, m, None)
            records[student] = rec
        current = {s: records[s] for s in records
                   if s in subs or (roster and s in wanted)}
        lateness = _from_gradebook(out, writer, current, m, assignment)
    finally:
        writer.close()

    results = {s: rec["results"] for s, rec in current.items()}
    counts = {"graded": 0, "failed": 0, "missing": 0}
    for rs in results.values():
        status = Status.worst(r.status for r in rs)
        if status is Status.MISSING:
            counts["missing"] += 1
        elif status.failed:
            counts["failed"] += 1
        else:
            counts["graded"] += 1
    summary = (f"graded {counts['graded']} / failed {counts['failed']} / missing "
               f"{counts['missing']} ({len(tasks)} graded in this run, {unchanged} unchanged)")
    report.write_all(out, assignment, results, summary, refused, lateness)
    print(summary, file=stream, flush=True)
    return dict(counts=counts, results=results, refused=refused, graded_now=len(tasks),
                unchanged=unchanged)


def _finish(out, writer, rec, m, sub):
    """Grades, then the course folder's copies and feedback, then the record: a record exists
    only for what is stored."""
    timestamp = sub.timestamp if sub is not None else None
    writer.write(rec["student"], rec["results"], timestamp=timestamp)
    if sub is not None:
        coursefolder.write_submitted(out, sub, m.assignment)
        coursefolder.write_autograded(out, sub, m.assignment, rec["results"], m.files)
    pages = {}
    for r in rec["results"]:
        if r.feedback_html:
            pages[r.notebook] = r.feedback_html
        r.feedback_html, r.autograded = None, None
    if pages:
        coursefolder.write_feedback(out, rec["student"], m.assignment, pages, m.files)
    write_record(out, rec)


def _from_gradebook(out, writer, current, m, assignment):
    """Every student's scores as the gradebook holds them (manual grades, late penalties);
    a feedback page whose scores changed there is made again from the autograded notebook."""
    lateness = {}
    for student, rec in current.items():
        before = {(r.notebook, t.grade_id): t.points for r in rec["results"] for t in r.tests}
        results, late = writer.read(student, rec["results"])
        lateness[student] = late
        for r in results:
            changed = any(before[(r.notebook, t.grade_id)] != t.points for t in r.tests)
            path = coursefolder.folder(out, "autograded", student, assignment) / \
                f"{r.notebook}.ipynb"
            if (changed or r.late_penalty) and path.exists():
                html = autograde.feedback_from_autograded(path.read_text(encoding="utf-8"),
                                                          r, m.notebooks[r.notebook])
                coursefolder.write_feedback(out, student, assignment, {r.notebook: html},
                                            m.files)
    return lateness
