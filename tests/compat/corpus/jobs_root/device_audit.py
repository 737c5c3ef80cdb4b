"""Every variable type, every Meta field, and what Nautobot tolerates in Meta."""
from nautobot.apps.jobs import (
    BooleanVar, ChoiceVar, DryRunVar, FileVar, IntegerVar, IPAddressVar, IPAddressWithMaskVar,
    IPNetworkVar, Job, JSONVar, MultiChoiceVar, MultiObjectVar, ObjectVar, StringVar, TextVar,
    register_jobs,
)

STATUS_CHOICES = (("active", "Active"), ("planned", "Planned"), ("retired", "Retired"))


class DeviceAudit(Job):
    hostname_pattern = StringVar(label="Host name pattern", regex=r"^[a-z0-9-]+$", default="edge-01")
    notes = TextVar(required=False)
    max_devices = IntegerVar(min_value=1, max_value=500, default=50)
    include_spares = BooleanVar(description="Also audit spare devices")
    status = ChoiceVar(choices=STATUS_CHOICES, default="active")
    roles = MultiChoiceVar(choices=(("leaf", "Leaf"), ("spine", "Spine")), required=False)
    site = ObjectVar(model="dcim.site", required=False, query_params={"status": "active"})
    devices = MultiObjectVar(model="dcim.device", required=False)
    inventory_file = FileVar(required=False)
    mgmt_address = IPAddressVar(required=False)
    loopback = IPAddressWithMaskVar(required=False)
    prefix = IPNetworkVar(required=False, min_prefix_length=8, max_prefix_length=30)
    options = JSONVar(required=False)
    dryrun = DryRunVar()

    class Meta:
        name = "Device audit"
        description = "Audit the devices of a site."
        hidden = False
        dryrun_default = True
        has_sensitive_variables = False
        approval_required = True
        soft_time_limit = 300
        time_limit = 600
        task_queues = ["default", "audits"]
        is_singleton = True
        # Nautobot ignores what it does not know, and so does the library:
        field_order = ["site", "status", "not_a_variable", "hostname_pattern"]
        template_name = "device_audit.html"
        console_log_default = False
        some_future_option = {"anything": 1}

    def run(self, hostname_pattern, notes, max_devices, include_spares, status, roles, site,
            devices, inventory_file, mgmt_address, loopback, prefix, options, dryrun):
        self.logger.info("Auditing up to %d devices matching %s", max_devices, hostname_pattern)
        return {
            "pattern": hostname_pattern, "max": max_devices, "spares": include_spares,
            "status": status, "roles": roles, "site": site, "dryrun": dryrun,
            "mgmt": str(mgmt_address) if mgmt_address else None,
            "loopback": str(loopback) if loopback else None,
            "prefix": str(prefix) if prefix else None, "options": options,
        }


register_jobs(DeviceAudit)
