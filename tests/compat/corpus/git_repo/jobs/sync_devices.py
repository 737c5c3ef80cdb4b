from nautobot.apps.jobs import Job, StringVar, register_jobs

name = "Git jobs"


class SyncDevices(Job):
    source = StringVar(default="netbox")

    def run(self, source):
        return f"synced from {source}"


register_jobs(SyncDevices)
