"""`make lab` as a learner uses it, in a real JupyterLab driven by headless Chromium.

The server runs, exactly as `make lab` starts it, in a git clone-like copy of the course (its
exercises, solutions, chapters, Makefile and .gitattributes, committed), so that opening, running
and saving every exercise can be checked with `git status` without touching this repository.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
COPIED = ["Makefile", ".gitattributes", ".gitignore", "nbgrader_config.py", "nncourse/nbclean.py",
          "exercises", "solutions", "chapters"]


def lab_command():
    """The command `make lab` runs, read from the Makefile so the test follows it."""
    out = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True).stdout
    line = next(l for l in out.replace("\\\n", " ").splitlines() if "jupyter lab" in l)
    return line.split()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A committed copy of the course, with the notebook filter `make lab` installs."""
    course = tmp_path_factory.mktemp("course")
    for name in COPIED:
        src, dest = ROOT / name, course / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns(
                ".ipynb_checkpoints", "__pycache__", ".nncourse-history.json"))
        else:
            shutil.copy(src, dest)
    git("init", "-q", cwd=course)
    subprocess.run(["make", "notebook-filter"], cwd=course, check=True, capture_output=True)
    git("add", "-A", cwd=course)
    git("-c", "user.name=learner", "-c", "user.email=learner@example.org", "commit", "-q", "-m",
        "the course", cwd=course)
    return course


@pytest.fixture(scope="module")
def lab(course):
    port = free_port()
    cmd = lab_command() + ["--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
                           "--IdentityProvider.token=", "--ServerApp.password=",
                           "--ServerApp.disable_check_xsrf=True",
                           # the test drives Lab through its own commands (window.jupyterapp)
                           "--LabApp.expose_app_in_browser=True"]
    cmd[0] = str(Path(sys.executable).parent / "jupyter")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.Popen(cmd, cwd=course, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(360):  # a busy machine can take minutes
        try:
            urllib.request.urlopen(f"{base}/api/status", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited: {proc.stdout.read()[-3000:]}")
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("JupyterLab did not start in 3 minutes")
    yield base
    proc.terminate()
    proc.wait(timeout=20)


def contents(lab, path):
    return json.load(urllib.request.urlopen(f"{lab}/api/contents/{path}?content=0"))


def test_lab_serves_the_course_and_opens_on_the_exercises(lab):
    listing = json.load(urllib.request.urlopen(f"{lab}/api/contents/"))
    names = {item["name"] for item in listing["content"]}
    assert {"exercises", "chapters", "solutions"} <= names, f"the lab's root is not the course: {names}"
    landing = urllib.request.urlopen(f"{lab}/").geturl()
    assert landing.endswith("/lab/tree/exercises"), f"`make lab` opens on {landing}"


def test_every_exercise_links_to_a_chapter_lab_serves_and_the_chapter_links_back(lab, course):
    for nb_path in sorted(course.glob("exercises/*/*.ipynb")):
        text = nb_path.read_text(encoding="utf-8")
        links = set(re.findall(r"\]\((\.\./\.\./chapters/[^)#]+)", text))
        assert links, f"{nb_path.name} links to no chapter"
        for link in links:
            target = os.path.normpath(nb_path.parent.relative_to(course) / link)
            assert contents(lab, target)["type"] == "notebook", target
            back = f"../{nb_path.relative_to(course)}"
            assert back in (course / target).read_text(encoding="utf-8"), (
                f"{target} does not link back to {back}")


def test_nbgrader_lab_extension_is_enabled(lab):
    page = urllib.request.urlopen(f"{lab}/lab").read().decode()
    config = json.loads(re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S).group(1))
    federated = [ext["name"] for ext in config.get("federated_extensions", [])]
    assert "@jupyter/nbgrader" in federated, f"nbgrader's extension is not loaded: {federated}"
    disabled = config.get("disabledExtensions", [])
    assert not [d for d in disabled if "nbgrader" in d], f"nbgrader extensions disabled: {disabled}"


def test_the_notebook_filter_leaves_every_release_byte_for_byte(course):
    for nb_path in sorted(course.glob("exercises/*/*.ipynb")):
        cleaned = subprocess.run([sys.executable, "nncourse/nbclean.py"], cwd=course, check=True,
                                 input=nb_path.read_bytes(), capture_output=True).stdout
        assert cleaned == nb_path.read_bytes(), f"the filter changes {nb_path.name} as released"


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM, "Chromium is not installed (apt-get install chromium)"
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def kernel_busy(lab):
    return any(s["kernel"]["execution_state"] != "idle"
               for s in json.load(urllib.request.urlopen(f"{lab}/api/sessions")))


def output_texts(nb_path):
    """The text of each code cell's outputs in the saved notebook, in order."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    return ["".join("".join(o.get("text", "")) + o.get("evalue", "") for o in c.get("outputs", []))
            for c in nb["cells"] if c["cell_type"] == "code"]


def run_all_and_save(browser, lab, course, path):
    """Open ``path`` in Lab, run every cell, save; return the text of each code cell's output."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    before = contents(lab, path)["last_modified"]
    page.goto(f"{lab}/lab/tree/{path}?reset")  # ?reset: not the tabs of the last notebook
    page.wait_for_function(
        "path => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        "  return w && w.context && w.context.path === path"
        "    && w.sessionContext?.session?.kernel?.status === 'idle'; }",
        arg=path, timeout=180000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    quiet = 0
    for _ in range(600):  # the kernel idle for three seconds in a row: every cell has run
        time.sleep(1)
        quiet = 0 if kernel_busy(lab) else quiet + 1
        if quiet >= 3:
            break
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    for _ in range(100):
        if contents(lab, path)["last_modified"] != before:
            break
        time.sleep(0.2)
    for s in json.load(urllib.request.urlopen(f"{lab}/api/sessions")):
        req = urllib.request.Request(f"{lab}/api/sessions/{s['id']}", method="DELETE")
        urllib.request.urlopen(req)
    page.close()
    return output_texts(course / path)


@pytest.mark.browser
def test_running_and_saving_every_exercise_in_lab_leaves_git_clean_and_shows_the_self_check(
        browser, lab, course):
    for nb_path in sorted(course.glob("exercises/*/*.ipynb")):
        rel = nb_path.relative_to(course).as_posix()
        outputs = run_all_and_save(browser, lab, course, rel)
        saved = json.loads(nb_path.read_text(encoding="utf-8"))
        assert any(c.get("outputs") for c in saved["cells"]), f"{rel}: saved without outputs"
        assert "version" in saved["metadata"]["language_info"], f"{rel}: Lab did not save its metadata"
        assert any("hidden tests of test_" in o for o in outputs), (
            f"{rel}: no graded test cell showed the self-check line:\n" + "\n---\n".join(outputs))
        status = git("status", "--porcelain", cwd=course)
        assert status == "", (f"after running and saving {rel} in Lab, git status shows:\n{status}"
                              f"{git('diff', cwd=course)[:3000]}")


@pytest.mark.browser
def test_a_learners_edit_shows_in_git_and_its_test_cell_reports_the_hidden_tests(
        browser, lab, course):
    import nbformat
    from grading import fill_in, nbgrader_meta, solution_code
    path = course / "exercises" / "01-perceptron" / "perceptron.ipynb"
    answers = solution_code(nbformat.read(str(ROOT / "solutions" / "01-perceptron" / path.name), 4))
    nb = fill_in(nbformat.read(str(path), as_version=4), answers)
    nbformat.write(nb, str(path))
    outputs = run_all_and_save(browser, lab, course, "exercises/01-perceptron/perceptron.ipynb")
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    at = code.index(next(i for i, c in enumerate(nb.cells)
                         if nbgrader_meta(c).get("grade_id") == "test_neuron_output"))
    assert outputs[at].strip().endswith("hidden tests of test_neuron_output: 3 of 3 passed"), outputs[at]
    diff = git("diff", "--stat", cwd=course)
    assert "perceptron.ipynb" in diff, "the learner's answers do not show in git"
    changed = git("diff", "-U0", cwd=course)
    assert "def neuron_output" not in changed.split("@@")[0]
    assert '"outputs": [\n' not in changed and "language_info" not in changed, changed
