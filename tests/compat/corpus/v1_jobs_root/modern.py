"""2.x code in a 1.x-mode source still works as 2.x code."""
from nautobot.apps.jobs import Job, StringVar, register_jobs


class Modern(Job):
    who = StringVar(default="world")

    def run(self, who):
        return f"hello {who}"


register_jobs(Modern)


class ModernBase(Job):
    """A base class a 2.x module never registers: not a job, even in 1.x mode."""
