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

from nbgrader.api import Gradebook

from . import autograde, master, report, sandbox, submissions

RESULTS = "results"
_WORKER = {}


def _rank(status):
    return autograde.STATUSES.index(status)


def course_id(root):
    from traitlets.config.loader import PyFileConfigLoader
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    return cfg.CourseDirectory.get("course_id", "default_course")


def _init_worker(m, limits, use_bwrap, fork_server=None):
    _WORKER.update(master=m, limits=limits, use_bwrap=use_bwrap)
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


def run_task(task, m=None, limits=None, use_bwrap=None):
    """Grade one student's submission (every notebook of the assignment). Runs in a worker."""
    m = m or _WORKER["master"]
    limits = limits or _WORKER["limits"]
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
            results.append(autograde.invalid(nbm, sub.student, status, message))
            continue
        try:
            results.append(autograde.grade_notebook(
                raw, nbm, m.assignment, sub.student, files=m.files, limits=limits,
                use_bwrap=use_bwrap, notes=notes, fork_server=fork_server))
        except Exception as exc:  # the tool failed on this one; the batch goes on
            r = autograde.invalid(nbm, sub.student, "error",
                                  f"could not grade: {type(exc).__name__}: "
                                  f"{' '.join(str(exc).split())[:300]}")
            results.append(r)
    return dict(student=sub.student, digest=task["digest"], results=results)


def _safe(student):
    """A student id as one file name component."""
    s = student.replace("/", "%2F")
    return "%2E" + s[1:] if s.startswith(".") else s


def _record_path(out, student):
    return out / RESULTS / f"{_safe(student)}.json"


def load_records(out):
    records = {}
    for p in sorted((out / RESULTS).glob("*.json")):
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
            records[rec["student"]] = rec
        except (ValueError, KeyError):
            continue  # a record cut short: that submission is graded again
    return records


def write_record(out, rec):
    path = _record_path(out, rec["student"])
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(rec), encoding="utf-8")
    os.replace(tmp, path)


class GradebookWriter:
    """The only writer of the gradebook: grades and comments as nbgrader's SaveAutoGrades."""

    def __init__(self, db_url, course, assignment):
        self.gb = Gradebook(db_url, course)
        self.assignment = assignment

    def write(self, student, results):
        gb = self.gb
        try:
            gb.update_or_create_student(student)
            gb.update_or_create_submission(self.assignment, student)
            for r in results:
                for t in r["tests"]:
                    g = gb.find_grade(t["grade_id"], r["notebook"], self.assignment, student)
                    g.auto_score = t["points"]
                    g.needs_manual_grade = g.manual_score is not None or t["points"] is None
                for gid, text in r.get("comments", {}).items():
                    c = gb.find_comment(gid, r["notebook"], self.assignment, student)
                    c.auto_comment = text
            gb.db.commit()
        except Exception:
            gb.db.rollback()
            raise

    def close(self):
        self.gb.close()


class Progress:
    """A text progress bar on stdout: one line per finished submission."""

    def __init__(self, total, stream=None):
        self.total, self.done, self.stream = total, 0, stream or sys.stdout

    def step(self, student, results):
        self.done += 1
        width = 24
        filled = int(width * self.done / max(self.total, 1))
        score = sum(r["score"] for r in results)
        top = sum(r["max_score"] for r in results)
        status = min((r["status"] for r in results), key=_rank)
        n = len(str(self.total))
        print(f"[{'#' * filled}{'.' * (width - filled)}] {self.done:>{n}}/{self.total} "
              f"{student}: {status} {score:g}/{top:g}", file=self.stream, flush=True)


def _executor(workers, scheduler, m, limits, use_bwrap, fork_server):
    if scheduler:
        from distributed import Client
        client = Client(scheduler)
        mf = client.scatter(m, broadcast=True)

        def submit(task):
            return client.submit(run_task, task, mf, limits, use_bwrap, pure=False)

        def results(futs):
            from distributed import as_completed
            for fut in as_completed(futs):
                yield fut, fut.result()

        return submit, results, client.close
    ctx = multiprocessing.get_context("fork")
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                  initializer=_init_worker,
                                  initargs=(m, limits, use_bwrap, fork_server))

    def submit(task):
        return pool.submit(run_task, task)

    def results(futs):
        for fut in cf.as_completed(futs):
            yield fut, fut.result()

    return submit, results, lambda: pool.shutdown(wait=True, cancel_futures=True)


def grade(assignment, submissions_path, out, workers=None, roster=None, db=None,
          scheduler=None, timeout=120, root=master.COURSE_ROOT, stream=None):
    """Grade every new or changed submission; write the gradebook, CSV, feedback and report."""
    stream = stream or sys.stdout
    out = Path(out).resolve()
    (out / RESULTS).mkdir(parents=True, exist_ok=True)
    (out / "feedback").mkdir(exist_ok=True)
    db_url = db or f"sqlite:///{out / 'gradebook.db'}"
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    use_bwrap = sandbox.require_bwrap(log=lambda s: print(s, file=stream))
    limits = sandbox.Limits(timeout=timeout, cell_timeout=min(60, timeout))
    # the fork server imports torch and numpy while nbgrader stores the assignment
    fork_server = None if scheduler else start_fork_server(
        limits, use_bwrap, master.test_imports(assignment, root))
    try:
        return _grade(assignment, submissions_path, out, workers, roster, db_url, scheduler,
                      limits, use_bwrap, fork_server, root, stream)
    finally:
        if fork_server is not None:
            fork_server.close()


def _grade(assignment, submissions_path, out, workers, roster, db_url, scheduler, limits,
           use_bwrap, fork_server, root, stream):
    m = master.build(assignment, db_url, root=root)
    subs, refused = submissions.collect(submissions_path, assignment)
    for name, why in refused:
        print(f"refused {name}: {why}", file=stream)
    records = load_records(out)
    salt = f"{m.digest}:{limits.timeout}"
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

    progress = Progress(len(tasks), stream)
    # workers first: a forked worker must not inherit the gradebook's connection
    if fork_server is not None and tasks:
        fork_server.wait_ready()
    pool = _executor(workers, scheduler, m, limits, use_bwrap, fork_server) if tasks else None
    writer = GradebookWriter(db_url, course_id(root), assignment)
    try:
        if pool:
            submit, results, close = pool
            try:
                futs = [submit(t) for t in tasks]
                for _, rec in results(futs):
                    _finish(out, writer, rec)
                    records[rec["student"]] = rec
                    progress.step(rec["student"], rec["results"])
            finally:
                close()
        wanted = set(submissions.read_roster(roster)) if roster else set()
        for student in sorted(wanted - set(subs)):
            if student in records and records[student]["results"][0]["status"] == "missing":
                continue
            rec = dict(student=student, digest=None, results=[
                autograde.invalid(nbm, student, "missing", "no submission")
                for nbm in m.notebooks.values()])
            _finish(out, writer, rec)
            records[student] = rec
    finally:
        writer.close()

    current = {s: records[s]["results"] for s in records
               if s in subs or (roster and s in wanted)}
    counts = {"graded": 0, "failed": 0, "missing": 0}
    for rs in current.values():
        status = min((r["status"] for r in rs), key=_rank)
        if status == "missing":
            counts["missing"] += 1
        elif status in ("invalid", "empty", "error"):
            counts["failed"] += 1
        else:
            counts["graded"] += 1
    summary = (f"graded {counts['graded']} / failed {counts['failed']} / missing "
               f"{counts['missing']} ({len(tasks)} graded in this run, {unchanged} unchanged)")
    report.write_all(out, assignment, current, _rank, summary, refused)
    print(summary, file=stream, flush=True)
    return dict(counts=counts, results=current, refused=refused, graded_now=len(tasks),
                unchanged=unchanged)


def _finish(out, writer, rec):
    """Grades, then feedback, then the record: a record exists only for what is stored."""
    writer.write(rec["student"], rec["results"])
    for r in rec["results"]:
        html = r.pop("feedback_html", None)
        if html:
            d = out / "feedback" / _safe(rec["student"])
            d.mkdir(parents=True, exist_ok=True)
            (d / f"{r['notebook']}.html").write_text(html, encoding="utf-8")
    write_record(out, rec)
