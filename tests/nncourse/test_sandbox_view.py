"""What the sandboxed kernel sees (``sandbox.View``): the same, whether bubblewrap starts it or the
fork server forks it, and what the view says it is."""
import json
import os
import tempfile
import types
from pathlib import Path

import nbformat
import pytest

import nnlib
from nncourse import autograde, master, sandbox
from conftest import ASSIGNMENT, ROOT, dumps, need_fork_server, solution, with_cell

PROBE = '''
import errno, json, os, socket, sys

def can_write(folder):
    try:
        with open(os.path.join(folder, ".probe"), "x"):
            pass
    except OSError as exc:
        return errno.errorcode[exc.errno]
    os.unlink(os.path.join(folder, ".probe"))
    return "written"

def reached(address):
    with socket.socket() as s:
        s.settimeout(2)
        return errno.errorcode.get(s.connect_ex(address), "connected")

run = os.path.dirname(os.getcwd())
between = [os.path.dirname(run)]
while between[-1] != "/tmp":
    between.append(os.path.dirname(between[-1]))
status = dict(l.split(":", 1) for l in open("/proc/self/status"))
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
view = dict(
    root=sorted(os.listdir("/")), tmp=sorted(os.listdir("/tmp")),
    between={p: sorted(os.listdir(p)) for p in between[:-1]},
    run=sorted(os.listdir(run)),
    paths={name: [os.path.exists(p), os.access(p, os.R_OK), can_write(p),
                  os.path.exists(p) and bool(os.statvfs(p).f_flag & os.ST_RDONLY)]
           for name, p in dict(PATHS, venv=sys.prefix, home=os.environ["HOME"], cwd=os.getcwd(),
                               root="/", tmp="/tmp").items()},
    hostname=socket.gethostname(), interfaces=sorted(n for _, n in socket.if_nameindex()),
    loopback=reached(server.getsockname()), outside=reached(("192.0.2.1", 80)),
    env=dict(os.environ), cwd=os.getcwd(), sys_path=sys.path,
    uid=[os.getuid(), os.geteuid(), os.getgid(), os.getegid(), os.getgroups()],
    capabilities={k: v.strip() for k, v in status.items() if k.startswith("Cap")},
    no_new_privs=status["NoNewPrivs"].strip(),
    processes=sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
print("probe" + "d:", json.dumps(view))
'''

# set by ipykernel in its own process: its shell's environment, its debugger's switch
IPYKERNEL_ENV = {"TERM", "CLICOLOR", "CLICOLOR_FORCE", "FORCE_COLOR", "PAGER", "GIT_PAGER",
                 "PYDEVD_USE_FRAME_EVAL"}


def _probe(paths):
    return with_cell(solution(), f"PATHS = {paths!r}\n" + PROBE)


def _seen(result):
    """The view the probe printed, from the graded notebook."""
    for cell in nbformat.reads(result.autograded, as_version=4).cells:
        for out in cell.get("outputs", []):
            if out.get("name") == "stdout" and "probed: " in out["text"]:
                return json.loads(out["text"].split("probed: ", 1)[1].splitlines()[0])
    raise AssertionError(f"the probe printed nothing: {result.notes}")


def _normalised(view):
    """``view`` with what legitimately differs from one kernel to the next made the same."""
    # each notebook has its own run folder, made by mkdtemp: in /tmp for a kernel bubblewrap
    # starts, in the fork server's folder (itself in /tmp) for a forked one, so the folders
    # between /tmp and it are none or that one, which must hold nothing but the way to it
    run = os.path.dirname(view["cwd"])
    top = run.split("/")[2]
    way = run.split("/")
    view = json.loads(json.dumps(view).replace(run, "RUN"))
    view["tmp"] = sorted("RUN-TOP" if e == top else e for e in view["tmp"])
    view["between"] = [e for entries in view["between"].values() for e in entries
                       if e not in way]
    # each kernel runs as a fresh uid of its own (as root; else the grader's)
    view["uid"] = [u != 0 for u in view["uid"][:4]] + [view["uid"][4]]
    return view


@pytest.fixture(scope="module")
def both_views():
    need_fork_server()
    limits = sandbox.Limits(timeout=30)
    with tempfile.TemporaryDirectory() as tmp:
        m = master.build(ASSIGNMENT, f"sqlite:///{tmp}/gb.db")
        nbm = m.notebooks["perceptron"]
        paths = dict(solutions=str(ROOT / "solutions"), gradebook=tmp, course=str(ROOT),
                     nnlib=str(Path(nnlib.__file__).resolve().parent))
        raw = dumps(_probe(paths))
        started = autograde.grade_notebook(raw, nbm, ASSIGNMENT, files=m.files, limits=limits,
                                           use_bwrap=True)
        fs = sandbox.ForkServer(limits, nbm.protect)
        try:
            forked = autograde.grade_notebook(raw, nbm, ASSIGNMENT, files=m.files,
                                              limits=limits, fork_server=fs)
        finally:
            fs.close()
        box = sandbox.Sandbox(workdir=Path("RUN/work"), limits=limits)
        return _seen(started), _seen(forked), box


@pytest.mark.slow
def test_both_ways_of_starting_a_kernel_give_it_the_same_view(both_views):
    started, forked, _ = both_views
    started, forked = _normalised(started), _normalised(forked)
    assert {k: v for k, v in started.items() if started[k] != forked.get(k)} == \
        {k: v for k, v in forked.items() if forked[k] != started.get(k)}


@pytest.mark.slow
@pytest.mark.parametrize("way", ["started", "forked"])
def test_the_kernel_sees_what_the_view_says(both_views, way):
    view = _normalised(both_views[way == "forked"])
    box = both_views[2]
    # at the root: the top folders of the read-only paths, its own folders', and the fresh ones
    tops = {Path(p).parts[1] for p in box.readonly_paths()} | {"dev", "proc", "tmp"}
    assert view["root"] == sorted(tops)
    # in the fresh /tmp: the way to its run folder, and the course if it is checked out there
    code = {p.split("/")[2] for p in box.readonly_paths() if p.startswith("/tmp/")}
    assert view["tmp"] == sorted(code | {"RUN-TOP"}) and view["between"] == []
    assert view["run"] == ["conn", "work"], "its run folder shows only its own two folders"
    # [exists, readable, a write, on a read-only mount]
    assert view["paths"]["solutions"] == [False, False, "ENOENT", False]
    assert view["paths"]["gradebook"] == [False, False, "ENOENT", False]
    assert view["paths"]["course"][2] in ("ENOENT", "EACCES", "EROFS")
    assert view["paths"]["nnlib"] == [True, True, "EROFS", True]
    assert view["paths"]["venv"] == [True, True, "EROFS", True]
    assert view["paths"]["root"][2] in ("EACCES", "EROFS")
    assert view["paths"]["cwd"] == view["paths"]["home"] == [True, True, "written", False]
    assert view["paths"]["tmp"] == [True, True, "written", False]
    assert view["cwd"] == "RUN/work"
    assert view["hostname"] == "sandbox" and view["interfaces"] == ["lo"]
    assert view["loopback"] == "connected" and view["outside"] == "ENETUNREACH"
    # its whole environment is the view's, but for what ipykernel sets for itself as it starts
    env = view["env"]
    assert {k: env.get(k) for k in box.env()} == box.env()
    assert set(env) - set(box.env()) <= IPYKERNEL_ENV
    assert view["uid"] == [True, True, True, True, []]
    assert set(view["capabilities"].values()) == {"0000000000000000"}
    assert view["no_new_privs"] == "1"
    assert view["processes"] == [1, 2]


def test_bubblewrap_and_the_fork_server_are_given_the_same_view(tmp_path):
    box = sandbox.Sandbox(workdir=tmp_path / "work", uid=200_001)
    conn = tmp_path / "conn" / "kernel.json"
    view = box.view(str(conn.parent), ["numpy"])
    cmd, env = box.command(conn, ["numpy"])
    pairs = list(zip(cmd, cmd[1:], cmd[2:]))
    for p in view.readonly:
        assert ("--ro-bind", p, p) in pairs or ("--symlink", os.readlink(p), p) in pairs
    assert ("--bind", str(tmp_path / "work"), str(tmp_path / "work")) in pairs
    assert ("--bind", str(tmp_path / "conn"), str(tmp_path / "conn")) in pairs
    assert ("--hostname", "sandbox") in zip(cmd, cmd[1:])
    assert ("--chdir", str(tmp_path / "work")) in zip(cmd, cmd[1:])
    assert f"--reuid={box.uid}" in cmd and env == view.env
    assert env["NNCOURSE_PROTECT"] == "numpy"
    assert [("--setenv", k, v) in pairs for k, v in env.items()] == [True] * len(env)

    box.fork_server = types.SimpleNamespace(socket=tmp_path / "zygote.sock")
    request = json.loads(box.spawn_command(conn, ["numpy"])[-1])
    assert sandbox.View(**request["view"]) == view
    assert request["connection_file"] == str(conn)
