"""jobreg: the Python half of libjobreg (the job-author API and its loader).

Job authors import ``jobreg.jobs``; app authors ``jobreg.apps``. The library
installs this as a bare package; it imports nothing.
"""
