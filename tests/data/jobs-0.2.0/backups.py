# A jobs root module as a 0.2.0 user wrote it: tools/make-020-fixture.sh
# stores its records in tests/data/jobreg-0.2.0.sqlite, and
# tests/c/test_sqlite_migrate_020.c loads it again with the current library.
from nautobot.apps.jobs import IntegerVar, Job, StringVar, register_jobs

name = "Backups"


class BackupConfigs(Job):
    """Copy every device's running config to the archive."""

    site = StringVar(description="Only this site", required=False)
    keep = IntegerVar(default=30, min_value=1)

    class Meta:
        name = "Backup configs"
        time_limit = 600
        task_queues = ["default", "backups"]

    def run(self, site=None, keep=30):
        return {"site": site, "keep": keep}


class RestoreConfig(Job):
    class Meta:
        name = "Restore a config"
        description = "Put an archived config back on a device"
        approval_required = True
        dryrun_default = True
        has_sensitive_variables = False

    def run(self):
        pass


register_jobs(BackupConfigs, RestoreConfig)
