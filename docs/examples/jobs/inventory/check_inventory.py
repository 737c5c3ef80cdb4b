"""Inventory checks; their jobs are listed under the grouping below."""
# jobreg's own import path; nautobot.apps.jobs gives the very same classes.
from jobreg.jobs import Job, register_jobs

# The module's `name` is the grouping its jobs are shown under.
name = "Inventory"


class CheckInventory(Job):
    """Compare the expected and the recorded number of line cards."""

    class Meta:
        name = "Check Inventory"
        description = "Counts the line cards of every chassis and flags gaps."

    def run(self):
        expected, found = 48, 46
        if found != expected:
            self.logger.warning("%d line cards are missing", expected - found)
        return {"expected": expected, "found": found}


register_jobs(CheckInventory)
