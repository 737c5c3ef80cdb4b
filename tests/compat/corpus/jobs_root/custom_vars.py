"""Variables as apps write them: a queryset instead of a model, and a
ScriptVariable subclass that fills Nautobot's field_attrs."""
from nautobot.apps.jobs import Job, ObjectVar, ScriptVariable, register_jobs
from nautobot.dcim.models import Device


class OptionalObjectVar(ScriptVariable):
    def __init__(self, model=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.field_attrs["queryset"] = model.objects.all()
        self.field_attrs["required"] = False


class PickDevice(Job):
    device = ObjectVar(queryset=Device.objects.all(), label="Device")
    spare = OptionalObjectVar(model=Device)

    def run(self, device, spare):
        return {"device": device, "spare": spare, "request": self.request.id,
                "attrs": sorted(type(self).device.field_attrs)}


register_jobs(PickDevice)
