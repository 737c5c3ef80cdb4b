"""A Meta value of the wrong type is still an error for that job."""
from nautobot.apps.jobs import Job, register_jobs


class BadMeta(Job):
    class Meta:
        hidden = "yes"

    def run(self):
        pass


register_jobs(BadMeta)
