"""A base class other modules import: it must be one class object."""
from nautobot.apps.jobs import Job


class BaseCheck(Job):
    def run(self):
        return self.check()

    def check(self):
        raise NotImplementedError
