"""A namespace sub-package module that another module imports first."""
from nautobot.apps.jobs import Job, register_jobs

RUNS = []
RUNS.append(1)


class DnsCheck(Job):
    def run(self):
        import reports.aaa_first

        return {"module_bodies": len(RUNS), "same_class": reports.aaa_first.DnsCheck is DnsCheck}


register_jobs(DnsCheck)
