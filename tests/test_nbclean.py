"""The notebook filter `make lab` installs: git sees an exercise without outputs or Lab's metadata."""
import json
import shutil
import subprocess
import sys

from nncourse import nbclean

from grading import ROOT

RELEASE = ROOT / "exercises" / "01-perceptron" / "perceptron.ipynb"


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def as_lab_saves_it(nb, edit=False):
    """``nb`` after running and saving in JupyterLab: outputs, counts, Lab's metadata."""
    nb = json.loads(json.dumps(nb))
    nb["metadata"]["language_info"].update(version="3.11.7", mimetype="text/x-python",
                                           codemirror_mode={"name": "ipython", "version": 3})
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            cell["execution_count"] = i
            cell["outputs"] = [{"name": "stdout", "output_type": "stream", "text": ["ran\n"]}]
            cell["metadata"]["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    if edit:
        nb["cells"][-2]["source"] = ["print('my own change')\n"]
    return nb


def test_cleaning_removes_outputs_and_labs_metadata_and_keeps_everything_else():
    released = json.loads(RELEASE.read_text(encoding="utf-8"))
    assert nbclean.clean(as_lab_saves_it(released)) == released


def test_an_unedited_saved_notebook_leaves_git_status_clean_and_an_edit_shows(tmp_path):
    (tmp_path / "nncourse").mkdir()
    shutil.copy(ROOT / "nncourse" / "nbclean.py", tmp_path / "nncourse" / "nbclean.py")
    shutil.copy(ROOT / ".gitattributes", tmp_path / ".gitattributes")
    nb_path = tmp_path / "exercises" / "01-perceptron" / "perceptron.ipynb"
    nb_path.parent.mkdir(parents=True)
    shutil.copy(RELEASE, nb_path)
    git("init", "-q", cwd=tmp_path)
    subprocess.run(["make", "-f", str(ROOT / "Makefile"), f"PYTHON={sys.executable}",
                    "notebook-filter"], cwd=tmp_path, check=True, capture_output=True)
    git("add", "-A", cwd=tmp_path)
    git("-c", "user.name=l", "-c", "user.email=l@example.org", "commit", "-qm", "course", cwd=tmp_path)
    released = json.loads(nb_path.read_text(encoding="utf-8"))

    nb_path.write_text(json.dumps(as_lab_saves_it(released), indent=1), encoding="utf-8")
    assert git("diff", cwd=tmp_path) == ""
    nbclean.post_save(os_path=str(nb_path))
    assert git("status", "--porcelain", cwd=tmp_path) == ""
    assert "ran" in nb_path.read_text(encoding="utf-8"), "the outputs left the learner's file"

    nb_path.write_text(json.dumps(as_lab_saves_it(released, edit=True), indent=1), encoding="utf-8")
    nbclean.post_save(os_path=str(nb_path))
    status = git("status", "--porcelain", cwd=tmp_path).strip()
    assert status == "M exercises/01-perceptron/perceptron.ipynb", status
    diff = git("diff", cwd=tmp_path)
    assert "my own change" in diff and "ran" not in diff and "3.11.7" not in diff
