from jobreg.jobs import Job, register_jobs

name = "Inventory"


class CheckInventory(Job):
    class Meta:
        name = "Check inventory"
        hidden = True
        soft_time_limit = 30

    def run(self):
        return {"checked": 3}


class AuditSerials(Job):
    class Meta:
        name = "Audit serial numbers"
        description = "Compare serials with the asset database"

    def run(self):
        pass


register_jobs(CheckInventory, AuditSerials)
