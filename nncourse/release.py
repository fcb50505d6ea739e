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

COURSE_ROOT = Path(__file__).resolve().parent.parent


def assignments(root=COURSE_ROOT):
    """The assignment names: the folders of solutions/, in order."""
    return sorted(p.name for p in (Path(root) / "solutions").iterdir()
                  if p.is_dir() and any(p.glob("*.ipynb")))


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
    root, course = Path(root), Path(course)
    src = root / "solutions" / assignment
    if not src.is_dir():
        raise FileNotFoundError(f"no assignment '{assignment}' in {root / 'solutions'}; "
                                f"there are: {', '.join(assignments(root)) or 'none'}")
    shutil.copy(root / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(src, course / "solutions" / assignment,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return course


def generate(assignment, out_dir, root=COURSE_ROOT):
    """Generate the student version of ``solutions/ASSIGNMENT`` into ``out_dir/ASSIGNMENT``."""
    out = Path(out_dir) / assignment
    with tempfile.TemporaryDirectory(prefix="nncourse-release-") as tmp:
        course = copy_course(assignment, tmp, root)
        nbgrader_command("generate_assignment", assignment, "--force", course_root=course)
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(course / "exercises" / assignment, out)
    return out


def release(names=None, root=COURSE_ROOT):
    """Regenerate ``exercises/NAME`` for each name (default: every assignment)."""
    root = Path(root)
    names = names or assignments(root)
    return [generate(name, root / "exercises", root) for name in names]
