"""The batch's one gradebook writer: grades, comments, timestamps and late penalties as
``nbgrader autograde`` stores them, and the scores read back from the gradebook.

Only the parent process writes, so SQLite never sees two writers. What nbgrader does in
``SaveAutoGrades``, ``AssignLatePenalties`` and ``Autograde.init_assignment`` is done here on the
same Gradebook API with the same rules (each rule says where it comes from). Manual grades
(``manual_score``, set in formgrader or through the API) are never touched, and what the
reports show is read back from the gradebook, so they include them.
"""
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import AssignLatePenalties
from nbgrader.utils import parse_utc

from .autograde import Status
from .course import quiet_sqlalchemy


class GradebookWriter:
    def __init__(self, db_url, course, assignment, config=None, duedate=None):
        quiet_sqlalchemy()
        self.gb = Gradebook(db_url, course.course_id)
        self.assignment = assignment
        # AssignLatePenalties' plugin, configured by the course's nbgrader_config.py
        late = AssignLatePenalties(config=config if config is not None else course.config)
        late.init_plugin()
        self.late = late
        if duedate is not None:
            self.gb.update_or_create_assignment(assignment, duedate=parse_utc(duedate))
            self.gb.db.commit()

    @staticmethod
    def students(db_url, assignment):
        """The students with a submission of ``assignment`` in the gradebook at ``db_url``."""
        quiet_sqlalchemy()
        with Gradebook(db_url) as gb:
            return {s.student.id for s in gb.find_assignment(assignment).submissions}

    @property
    def duedate(self):
        return self.gb.find_assignment(self.assignment).duedate

    def write(self, student, results, timestamp=None):
        """One student's results, then the late penalty of each notebook; one commit."""
        gb = self.gb
        try:
            gb.update_or_create_student(student)
            # Autograde.init_assignment: the timestamp only when the submission has one
            if timestamp is not None:
                gb.update_or_create_submission(self.assignment, student, timestamp=timestamp)
            else:
                gb.update_or_create_submission(self.assignment, student)
            for r in results:
                for t in r.tests:
                    g = gb.find_grade(t.grade_id, r.notebook, self.assignment, student)
                    if t.kind == "task" and not r.status.failed and \
                            r.status is not Status.MISSING:
                        continue  # SaveAutoGrades scores no task cell
                    # SaveAutoGrades._add_score
                    g.auto_score = t.points
                    g.needs_manual_grade = g.manual_score is not None or t.points is None
                for gid, text in r.comments.items():
                    c = gb.find_comment(gid, r.notebook, self.assignment, student)
                    c.auto_comment = text
            gb.db.flush()
            self._penalise(student, results)
            gb.db.commit()
        except Exception:
            gb.db.rollback()
            raise

    def _penalise(self, student, results):
        """AssignLatePenalties.preprocess, for each notebook of the submission."""
        sub = self.gb.find_submission(self.assignment, student)
        for r in results:
            nb = self.gb.find_submission_notebook(r.notebook, self.assignment, student)
            nb.late_submission_penalty = None
            if sub.total_seconds_late > 0:
                penalty = self.late.plugin_inst.late_submission_penalty(
                    student, nb.score, sub.total_seconds_late)
                if penalty is not None:
                    nb.late_submission_penalty = self.late._check_late_penalty(nb, penalty)

    def read(self, student, results):
        """The results as the gradebook holds them now: manual grades included, and each
        notebook's lateness and penalty."""
        gb = self.gb
        try:
            sub = gb.find_submission(self.assignment, student)
        except MissingEntry:
            return results, {}
        for r in results:
            try:
                nb = gb.find_submission_notebook(r.notebook, self.assignment, student)
            except MissingEntry:
                continue
            grades = {g.name: g for g in nb.grades}
            for t in r.tests:
                g = grades.get(t.grade_id)
                if g is not None:
                    t.points = g.manual_score if g.manual_score is not None else g.auto_score
                    t.needs_manual_grade = bool(g.needs_manual_grade)
            r.score = sum(t.points or 0.0 for t in r.tests)
            r.late_penalty = float(nb.late_submission_penalty or 0.0)
        late = dict(timestamp=sub.timestamp, seconds_late=float(sub.total_seconds_late))
        return results, late

    def close(self):
        self.gb.close()
