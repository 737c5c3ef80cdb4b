"""1.x modules could list their jobs: only those listed are jobs."""
from nautobot.extras.jobs import Job


class Listed(Job):
    def run(self, data, commit):
        return "listed"


class Unlisted(Job):
    def run(self, data, commit):
        return "unlisted"


jobs = [Listed]
