"""nbgrader's configuration for this course.

solutions/ is nbgrader's source directory: the instructor notebooks, with solutions between
``### BEGIN SOLUTION`` / ``### END SOLUTION`` and hidden tests between ``### BEGIN HIDDEN TESTS``
/ ``### END HIDDEN TESTS``. exercises/ is its release directory: what ``nncourse release`` (or
``nbgrader generate_assignment``) makes of solutions/, committed so learners open it directly.
Grading work folders (gradebook.db, submitted/, autograded/, feedback/) are ignored by git.
"""
import os

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "nn-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# what a learner sees in place of each solution
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# a correct solution runs each cell in well under a second; a stuck one is stopped
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# a graded cell a learner deleted is put back from the gradebook and graded (nbgrader's default
# leaves it out, for a person to grade)
c.OverwriteCells.add_missing_cells = True
