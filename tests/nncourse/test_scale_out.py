"""Grading that scales out and survives being stopped: Dask, PostgreSQL, resume after a kill."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from conftest import (ASSIGNMENT, NNCOURSE, ROOT, dumps, read_grades, released, run_nncourse,
                      solution, write_submission)

pytestmark = pytest.mark.slow


def _start_postgres():
    """A throwaway PostgreSQL server on 127.0.0.1, owned by an unprivileged user when we are root."""
    base = Path(tempfile.mkdtemp(prefix="nncourse-pg-"))  # pytest's tmp is private to root
    base.chmod(0o755)
    bindir = Path(subprocess.run(["pg_config", "--bindir"], capture_output=True,
                                 text=True).stdout.strip() or "/usr/lib/postgresql/15/bin")
    if not (bindir / "initdb").exists():
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        assert candidates, "PostgreSQL is not installed: apt-get install postgresql"
        bindir = candidates[-1].parent
    data, sock = base / "pgdata", base / "pgsock"
    data.mkdir()
    sock.mkdir()
    as_user = []
    if os.geteuid() == 0:
        import pwd
        pw = pwd.getpwnam("postgres")
        for p in (base, data, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        as_user = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups"]
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "grader",
                    "--auth=trust", "-E", "UTF8"], check=True, capture_output=True)
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l",
                    str(base / "pg.log"), "-o", f"-h 127.0.0.1 -p {port} -k {sock}", "start"],
                   check=True, capture_output=True)
    subprocess.run([*as_user, str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                    "-U", "grader", "gradebook"], check=True, capture_output=True)

    def stop():
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
    return f"postgresql+psycopg://grader@127.0.0.1:{port}/gradebook", stop


def _class(folder, n):
    """``n`` students: even ones solved everything, odd ones handed in the blank release."""
    good, blank = dumps(solution()), dumps(released())
    for i in range(n):
        write_submission(folder, f"s{i:02d}", {"perceptron.ipynb": good if i % 2 == 0 else blank})


def test_interrupted_run_on_postgres_resumes_without_losing_or_repeating_grades(tmp_path):
    db, stop = _start_postgres()
    try:
        subs, out = tmp_path / "subs", tmp_path / "out"
        _class(subs, 6)
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}"
                                    f"{os.environ['PATH']}")
        proc = subprocess.Popen([*NNCOURSE, "grade", ASSIGNMENT, str(subs), "--out", str(out),
                                 "--workers", "1", "--db", db], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if len(list((out / "results").glob("*.json"))) >= 2:
                break
            assert proc.poll() is None, proc.stdout.read().decode()
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)  # the whole run, workers and kernels too
        proc.wait()
        done_before = len(list((out / "results").glob("*.json")))
        assert 2 <= done_before < 6, "the run was to be stopped midway"

        again = run_nncourse("grade", ASSIGNMENT, str(subs), "--out", str(out),
                             "--workers", "2", "--db", db)
        assert f"{6 - done_before} to grade, {done_before} unchanged" in again.stdout
        grades = read_grades(out)
        assert sorted(grades) == [f"s{i:02d}" for i in range(6)]
        with Gradebook(db) as gb:
            assert sorted(s.id for s in gb.students) == sorted(grades)
            for student, row in grades.items():
                sub = gb.find_submission(ASSIGNMENT, student)
                expected = 8.0 if int(student[1:]) % 2 == 0 else 0.0
                assert sub.score == expected == float(row["total"]), student
                # one grade row per test, never two
                assert len(sub.notebooks[0].grades) == 4
            assert len(gb.assignments) == 1
        assert not (out / "gradebook.db").exists(), "--db must replace the SQLite default"
    finally:
        stop()


def test_dask_cluster_grades_a_zip_and_refuses_escaping_entries(tmp_path):
    from distributed import LocalCluster
    archive = tmp_path / "class.zip"
    escape = tmp_path / "escaped.ipynb"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ann/perceptron.ipynb", dumps(solution()))
        zf.writestr(f"bob/{ASSIGNMENT}/perceptron.ipynb", dumps(released()))
        zf.writestr("../escaped.ipynb", dumps(solution()))
        zf.writestr("ann/../../escaped.ipynb", dumps(solution()))
        zf.writestr(str(tmp_path / "abs" / "perceptron.ipynb"), dumps(solution()))
        info = zipfile.ZipInfo("d\u00e9j\u00e0/perceptron.ipynb")
        zf.writestr(info, dumps(solution()))
    out = tmp_path / "out"
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None, processes=True) as cluster:
        result = run_nncourse("grade", ASSIGNMENT, str(archive), "--out", str(out),
                              "--scheduler", cluster.scheduler_address)
    assert f"Dask at {cluster.scheduler_address}" in result.stdout
    grades = read_grades(out)
    assert {s: grades[s]["total"] for s in grades} == {"ann": "8", "bob": "0",
                                                       "d\u00e9j\u00e0": "8"}
    assert result.stdout.count("refused") == 3
    assert not escape.exists() and not (tmp_path / "abs").exists()
    written = {p.relative_to(out).parts[0] for p in out.rglob("*")}
    assert written <= {"results", "feedback", "gradebook.db", "grades.csv", "report.html",
                       "score_histogram.png", "pass_rate.png", "nbgrader_config.py",
                       "submitted", "autograded"}
    assert "escaped.ipynb" in (out / "report.html").read_text(encoding="utf-8")
