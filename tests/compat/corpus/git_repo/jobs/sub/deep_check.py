from nautobot.apps.jobs import Job, register_jobs

from ..sync_devices import SyncDevices


class DeepCheck(Job):
    def run(self):
        import compat_repo.jobs.sync_devices as module

        return {"one_class": module.SyncDevices is SyncDevices, "module": __name__}


register_jobs(DeepCheck)
