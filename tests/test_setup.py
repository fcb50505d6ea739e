"""Setting up on a reader's machine: the pins install on every Python the README names, and
`make` says what it needs when the interpreter is too old."""
import re
import shutil
import subprocess
import sys
from importlib import metadata

from packaging.specifiers import SpecifierSet

from grading import ROOT

OLDEST = "3.11.0"


def pins():
    text = (ROOT / "constraints.txt").read_text()
    return dict(line.split("==") for line in text.split() if "==" in line)


def test_every_pinned_package_installs_on_the_oldest_python_the_readme_names():
    # each installed distribution states the interpreters it supports (Requires-Python)
    too_new = []
    for name, version in pins().items():
        dist = metadata.distribution(name)
        assert dist.version.split("+")[0] == version, (
            f"{name} {dist.version} is installed but constraints.txt pins {version}: make venv")
        requires = dist.metadata.get("Requires-Python")
        if requires and not SpecifierSet(requires).contains(OLDEST):
            too_new.append(f"{name}=={version} needs Python {requires}")
    assert not too_new, f"pins that fail on Python {OLDEST}: {too_new}"


def fake_python(tmp_path, version):
    """The interpreter running these tests, told by sitecustomize that it is an older one."""
    site = tmp_path / "old-site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(f"import sys\nsys.version_info = {version!r}\n")
    script = tmp_path / "python-old"
    script.write_text(f'#!/bin/sh\nPYTHONPATH="{site}" exec "{sys.executable}" "$@"\n')
    script.chmod(0o755)
    return script


def test_make_refuses_python_3_10_and_says_what_it_needs(tmp_path):
    work = tmp_path / "course"
    work.mkdir()
    for name in ("Makefile", "requirements.txt", "constraints.txt", "pyproject.toml"):
        shutil.copy(ROOT / name, work / name)
    python = fake_python(tmp_path, (3, 10, 12, "final", 0))
    result = subprocess.run(["make", "venv", f"PYTHON={python}"], cwd=work,
                            capture_output=True, text=True)
    assert result.returncode != 0, "make created a venv with Python 3.10"
    assert "needs Python 3.11 or later" in result.stdout, result.stdout + result.stderr
    assert "make PYTHON=python3.11" in result.stdout
    assert not (work / ".venv").exists(), "a half-made .venv was left behind"


def test_make_accepts_this_interpreter(tmp_path):
    # the same check, with the version left as it is, lets make go on to create the venv
    check = re.search(r"^PYTHON_CHECK := (.*)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert subprocess.run([sys.executable, "-c", check]).returncode == 0
    python = fake_python(tmp_path, (3, 11, 0, "final", 0))
    assert subprocess.run([str(python), "-c", check]).returncode == 0


def test_the_repository_button_appears_once_the_url_is_set():
    sys.path.insert(0, str(ROOT / "_ext"))
    from repository_button import show_button_when_url_is_set

    class Config:
        def __init__(self, url):
            self.html_theme_options = {"repository_url": url, "use_repository_button": False}

    empty, published = Config(""), Config("https://github.com/OWNER/REPO")
    show_button_when_url_is_set(None, empty)
    show_button_when_url_is_set(None, published)
    assert empty.html_theme_options["use_repository_button"] is False
    assert published.html_theme_options["use_repository_button"] is True
    config = (ROOT / "_config.yml").read_text()
    assert re.search(r"^repository:\n  url: ", config, flags=re.M), "_config.yml: no repository url"
    assert "repository_button: _ext" in config, "_config.yml does not load the extension"


def test_the_grading_tools_do_not_build_an_iri_grammar_when_imported():
    """jsonschema 4.25 and later, through its format-nongpl extra (which jupyter-events asks
    for), import rfc3987-syntax, which builds some 35 Earley parsers at import: 1.3 s added to
    every nncourse check and every tool that reads a notebook with nbformat. No notebook schema
    uses the formats it checks; the constraints pin jsonschema 4.24.1, whose extra does not pull
    it in."""
    code = "import sys, nncourse.check, nbgrader.apps; print(sorted(m for m in sys.modules " \
           "if m.split('.')[0] in ('rfc3987_syntax', 'lark')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]", f"importing the grading tools loaded {loaded}"
