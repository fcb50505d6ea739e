"""git's view of an exercise notebook: the notebook without what running and saving it adds.

A learner keeps outputs while working, and JupyterLab writes its own metadata on save (the full
``language_info``, with the Python version of the machine, a cell's collapsed state, timings).
Committed as they are, these changes would make ``git status`` dirty after merely opening an
exercise and conflict on the next ``git pull``. ``make lab`` installs this script as a git clean
filter for ``exercises/**/*.ipynb`` (see .gitattributes): git then compares and commits the
notebook with outputs, execution counts and that metadata removed, while the file on disk keeps
them. Only an edited cell shows in ``git diff``.

It reads a notebook on stdin and writes it on stdout, formatted as nbformat writes notebooks, and
needs only Python's standard library, so git can run it with any ``python3``.

One gap remains, in git itself: when a file's size differs from the size the index recorded,
``git status`` calls it modified without looking at its content, so a notebook saved with its
outputs shows as ``M`` although ``git diff`` is empty. ``post_save`` closes it: ``make lab`` makes
it Jupyter's post-save hook, and after each save of a notebook whose cleaned content equals what
git has, it records the file's new size in the index (``git add``, which stores the same content).
An edited notebook is left alone: its edit shows in ``git status`` and ``git diff``.
"""
import json
import os
import subprocess
import sys

# what JupyterLab adds to a cell's metadata when it runs or displays it
CELL_KEYS = ("collapsed", "scrolled", "execution", "jupyter", "trusted")
# the part of language_info that the released notebooks carry
LANGUAGE_KEYS = ("name", "pygments_lexer")


def clean(nb):
    """The notebook as released: outputs, execution counts and Lab's metadata removed."""
    meta = nb.get("metadata", {})
    meta.pop("widgets", None)
    if isinstance(meta.get("language_info"), dict):
        meta["language_info"] = {k: v for k, v in meta["language_info"].items()
                                 if k in LANGUAGE_KEYS}
    for cell in nb.get("cells", []):
        for key in CELL_KEYS:
            cell.get("metadata", {}).pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return nb


def post_save(model=None, os_path=None, contents_manager=None, **kwargs):
    """Jupyter's post-save hook: an unedited exercise notebook stays clean in ``git status``."""
    if not os_path or not os_path.endswith(".ipynb"):
        return
    folder, name = os.path.split(os_path)

    def git(*args):
        return subprocess.run(["git", *args, "--", name], cwd=folder, capture_output=True,
                              text=True)

    attr = git("check-attr", "filter").stdout
    if not attr.rstrip().endswith(": nncourse-notebook"):
        return
    if git("ls-files", "--error-unmatch").returncode != 0:
        return  # not a file of the course: nothing to keep clean
    if git("diff", "--quiet").returncode == 0:  # git's view unchanged: only outputs and metadata
        git("add")


def main():
    text = sys.stdin.read()
    try:
        nb = json.loads(text)
    except ValueError:  # not a whole notebook (a half-saved file): git gets it unchanged
        sys.stdout.write(text)
        return 0
    sys.stdout.write(json.dumps(clean(nb), indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
