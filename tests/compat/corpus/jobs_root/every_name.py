"""Imports every name nautobot.apps.jobs exports; checks they are the library's objects."""
import jobreg.jobs
import nautobot.apps.jobs
from nautobot.apps.jobs import *  # noqa: F401,F403 - the whole surface, as some modules do
from nautobot.apps.jobs import Job, register_jobs


class ImportSurface(Job):
    def run(self):
        names = sorted(nautobot.apps.jobs.__all__)
        same = all(getattr(nautobot.apps.jobs, n) is getattr(jobreg.jobs, n) for n in names)
        queues_error = None
        try:
            get_celery_queues()  # noqa: F405
        except RuntimeError as exc:
            queues_error = str(exc)
        return {"names": names, "same_objects": same, "queues_error": queues_error,
                "self_found": get_job(ImportSurface.class_path) is ImportSurface,  # noqa: F405
                "is_job": [is_job(ImportSurface), is_job(JobButtonReceiver)]}  # noqa: F405


register_jobs(ImportSurface)
