"""What grading one notebook produces: a ``Status`` and a ``NotebookResult`` of ``CellScore``\\ s.

A result crosses process boundaries (a pool worker, a Dask worker) and is kept on disk as JSON in
the grading folder's ``results/``, so it is plain data: ``to_dict`` and ``from_dict`` round-trip.
"""
import enum
from dataclasses import asdict, dataclass, field


class Status(enum.Enum):
    """What happened to a notebook, most severe first: a notebook's status is the most severe
    thing that happened to it (``Status.worst``)."""
    INVALID = "invalid"            # not a notebook of this assignment: nothing could run
    MISSING = "missing"            # on the roster, nothing submitted
    EMPTY = "empty"                # a submission folder with no files
    ERROR = "error"                # the grader could not grade this one (the batch goes on)
    TIMEOUT = "timeout"            # the notebook's or a cell's time limit was reached
    CRASHED = "crashed"            # the kernel died
    MEMORY = "memory"              # the memory limit was reached
    TAMPERED = "tampered"          # code replaced what the tests use
    BLOCKED = "blocked"            # the sandbox refused the network or a file
    EXITED = "exited"              # the notebook called exit()
    SYNTAX_ERROR = "syntax-error"  # a learner cell does not parse
    RESTORED = "restored"          # cells or metadata the learner changed were put back
    RENAMED = "renamed"            # graded under another file name
    TRUNCATED = "truncated"        # a cell's output was cut at the output limit
    GRADED = "graded"              # nothing unusual

    @property
    def severity(self):
        """0 for the most severe."""
        return _ORDER.index(self)

    @classmethod
    def worst(cls, statuses, default=None):
        statuses = [cls(s) for s in statuses]
        if not statuses:
            return cls.GRADED if default is None else default
        return min(statuses, key=lambda s: s.severity)

    @property
    def failed(self):
        """Nothing of the learner's work could be scored."""
        return self in (Status.INVALID, Status.EMPTY, Status.ERROR)

    def __str__(self):
        return self.value


_ORDER = list(Status)


@dataclass
class CellScore:
    """One graded cell (autograded test, manually graded answer, or task), as nbgrader's
    ``SaveAutoGrades`` scores it: ``points`` is the auto score, None when a person must grade it."""
    grade_id: str
    points: float | None
    max_points: float
    message: str = ""
    kind: str = "test"             # "test", "manual" (an answer a person grades) or "task"
    needs_manual_grade: bool = False


@dataclass
class NotebookResult:
    student: str
    notebook: str
    status: Status
    notes: list = field(default_factory=list)         # what happened, one sentence each
    tests: list = field(default_factory=list)         # CellScore, in notebook order
    score: float = 0.0                                # the auto scores' sum
    max_score: float = 0.0
    comments: dict = field(default_factory=dict)      # grade_id -> nbgrader's auto comment
    feedback_html: str | None = None
    autograded: str | None = None                     # the executed notebook (nbformat JSON)
    timings: dict = field(default_factory=dict)
    late_penalty: float = 0.0                         # read back from the gradebook

    def to_dict(self):
        d = asdict(self)
        d["status"] = self.status.value
        return d

    @classmethod
    def from_dict(cls, d):
        d = dict(d)
        d["status"] = Status(d["status"])
        d["tests"] = [t if isinstance(t, CellScore) else CellScore(**t) for t in d["tests"]]
        return cls(**d)


def unscored(nbmaster, student, status, message):
    """The result for a notebook that could not be graded: every graded cell gets 0, as
    ``nbgrader autograde`` scores a notebook that was not submitted (no manual grading asked)."""
    tests = [CellScore(g, 0.0, info["max_score"], message, kind=info["kind"])
             for g, info in nbmaster.graded_cells().items()]
    return NotebookResult(student=student, notebook=nbmaster.name, status=Status(status),
                          notes=[message], tests=tests, score=0.0,
                          max_score=nbmaster.max_score)
