from nautobot.apps.jobs import BooleanVar, Job


class PurgeStaleInterfaces(Job):
    """Not registered here: jobs/__init__.py registers it."""

    dry_run = BooleanVar(description="Only report what would be removed", default=True)

    class Meta:
        name = "Purge Stale Interfaces"
        description = "Removes interfaces that no device reports any more."

    def run(self, dry_run):
        self.logger.info("purging stale interfaces (dry run: %s)", dry_run)
        return {"removed": 0, "dry_run": dry_run}
