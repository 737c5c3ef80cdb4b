"""Nautobot models as the host supplies them (a nautobot/ portion on python_path)."""
from nautobot.apps.jobs import Job, ObjectVar, register_jobs
from nautobot.dcim.models import Device


class CountDevices(Job):
    device = ObjectVar(model=Device, required=False)

    def run(self, device):
        return {"count": Device.objects.count(), "model": Device._meta.label_lower}


register_jobs(CountDevices)
