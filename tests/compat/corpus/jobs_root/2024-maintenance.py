"""A file name that is no Python identifier: imported under that name, as pkgutil yields it."""
from nautobot.apps.jobs import Job, register_jobs


class YearlyMaintenance(Job):
    def run(self):
        return __name__


register_jobs(YearlyMaintenance)
