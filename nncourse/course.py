"""The nbgrader course nncourse works on, found as nbgrader finds it, and its one configuration.

A course is a folder holding ``nbgrader_config.py``: the current folder, or ``--course DIR``.
Its configuration is nbgrader's, read by nbgrader's own loader, and everything nncourse does
follows it (source and release folders, course id, ``Execute.timeout``, ``LimitOutput``,
``ClearMetadataPreprocessor``, ignore patterns, the late-submission plugin). nncourse's own
limits, which nbgrader has no setting for, are in ``sandbox.Limits``.
"""
from dataclasses import dataclass
from pathlib import Path

CONFIG = "nbgrader_config.py"


class NoCourse(FileNotFoundError):
    """There is no nbgrader course where one was looked for."""


@dataclass
class Course:
    root: Path
    config: object          # traitlets Config, as nbgrader loads it

    def _get(self, section, key, default):
        value = self.config[section].get(key, default) if section in self.config else default
        return value

    @property
    def course_id(self):
        return self._get("CourseDirectory", "course_id", "") or "default_course"

    @property
    def source_directory(self):
        return self._get("CourseDirectory", "source_directory", "source")

    @property
    def release_directory(self):
        return self._get("CourseDirectory", "release_directory", "release")

    @property
    def ignore(self):
        from nbgrader.coursedir import CourseDirectory
        return list(self._get("CourseDirectory", "ignore", CourseDirectory.ignore.default_value))

    def source(self, assignment):
        return self.root / self.source_directory / assignment

    def assignments(self):
        """The assignments: folders of the source directory holding a notebook, in order."""
        src = self.root / self.source_directory
        if not src.is_dir():
            return []
        return sorted(p.name for p in src.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))

    def require(self, assignment):
        """The assignment's source folder; a clear error listing the valid names if none."""
        if not self.source(assignment).is_dir():
            raise NoCourse(f"no assignment '{assignment}' in {self.root / self.source_directory};"
                           f" there are: {', '.join(self.assignments()) or 'none'}")
        return self.source(assignment)


def load(root):
    """The course in ``root`` (a folder holding nbgrader_config.py)."""
    from traitlets.config.loader import PyFileConfigLoader
    root = Path(root).resolve()
    if not (root / CONFIG).is_file():
        raise NoCourse(f"{root} is not an nbgrader course: it has no {CONFIG}. Run nncourse in "
                       f"the course's folder, or give it with --course DIR")
    return Course(root, PyFileConfigLoader(CONFIG, path=str(root)).load_config())


def find(course=None):
    """``--course DIR`` when given, else the current folder."""
    return load(course if course is not None else Path.cwd())


def quiet_sqlalchemy():
    """SQLAlchemy warns (SAWarning) about relationships in nbgrader's own models the first time
    a gradebook is used: nothing an instructor can act on, so a normal run does not print them."""
    import warnings
    from sqlalchemy.exc import SAWarning
    warnings.filterwarnings("ignore", category=SAWarning)
