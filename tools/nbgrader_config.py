"""nbgrader configuration for a course that uses these notebooks.

Copy this file into your nbgrader course folder (the one holding source/, release/,
submitted/) as nbgrader_config.py. It makes ``nbgrader generate_assignment`` write the
course's one-line stubs, so released notebooks equal exercises/; everything else is
nbgrader's default. Requires nnlib installed where nbgrader runs (the check cells call it).
"""

from nnlib.checks.nbgrader import configure

c = get_config()  # noqa: F821 - provided by nbgrader when it reads this file
configure(c)
c.CourseDirectory.course_id = "nnlib"
# A check runs each exercise's function on several cases; give slow machines time.
c.Execute.timeout = 120
