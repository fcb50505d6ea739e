"""Release exercises: run nbgrader's generate_assignment on solutions/ and copy the result.

``generate(assignment, out_dir)`` works in a throwaway course folder, so it neither touches the
repository's gradebook nor needs one; ``release`` replaces ``exercises/ASSIGNMENT`` with it. The
test suite compares ``exercises/`` against ``generate`` to prove the committed release is current.
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import course as course_mod

COURSE_ROOT = Path(__file__).resolve().parent.parent


def assignments(root=COURSE_ROOT):
    """The assignment names: the folders of the course's source directory, in order."""
    return course_mod.load(root).assignments()


def nbgrader_command(*args, course_root):
    """Run one nbgrader command against the course in ``course_root``; raise with its log on failure."""
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    cmd = [str(bin_dir / "nbgrader"), *args, f"--CourseDirectory.root={course_root}"]
    result = subprocess.run(cmd, cwd=course_root, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"`{' '.join(args)}` failed (exit {result.returncode}):\n"
                           f"{result.stdout}\n{result.stderr}")
    return result


def copy_course(assignment, course, root=COURSE_ROOT):
    """Make ``course`` a throwaway nbgrader course holding one assignment: the course's
    nbgrader_config.py and ``solutions/ASSIGNMENT``. Grading and releasing happen there, so the
    repository's own folders and gradebook are never touched."""
    c, course = course_mod.load(root), Path(course)
    src = c.require(assignment)
    shutil.copy(c.root / course_mod.CONFIG, course / course_mod.CONFIG)
    shutil.copytree(src, course / c.source_directory / assignment,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return course


def generate(assignment, out_dir, root=COURSE_ROOT):
    """Generate the student version of ``solutions/ASSIGNMENT`` into ``out_dir/ASSIGNMENT``."""
    from .master import cache_dir, solutions_digest
    out = Path(out_dir) / assignment
    # made once per version of the source folder and configuration: releasing again is a copy
    made = cache_dir(root) / f"release-{assignment}-{solutions_digest(assignment, root)[:16]}"
    if not made.is_dir():
        with tempfile.TemporaryDirectory(prefix="nncourse-release-") as tmp:
            course = copy_course(assignment, tmp, root)
            nbgrader_command("generate_assignment", assignment, "--force", course_root=course)
            for old in cache_dir(root).glob(f"release-{assignment}-*"):
                shutil.rmtree(old, ignore_errors=True)
            part = Path(tempfile.mkdtemp(dir=cache_dir(root)))
            shutil.copytree(course / course_mod.load(root).release_directory / assignment,
                            part / assignment)
            os.replace(part / assignment, made)
            shutil.rmtree(part, ignore_errors=True)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(made, out)
    return out


def release(names=None, root=COURSE_ROOT):
    """Regenerate the release folder's ``NAME`` for each name (default: every assignment)."""
    c = course_mod.load(root)
    return [generate(name, c.root / c.release_directory, c.root)
            for name in names or c.assignments()]
