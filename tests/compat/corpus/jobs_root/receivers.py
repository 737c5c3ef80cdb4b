"""Job buttons and job hooks, run through the same run API."""
from nautobot.apps.jobs import JobButtonReceiver, JobHookReceiver, register_jobs


class RebootButton(JobButtonReceiver):
    class Meta:
        name = "Reboot device"
        has_sensitive_variables = False

    def receive_job_button(self, obj):
        self.logger.info("rebooting %s", obj, extra={"object": obj})
        return None


class AuditChanges(JobHookReceiver):
    class Meta:
        name = "Audit changes"

    def receive_job_hook(self, change, action, changed_object):
        self.logger.info("%s of %s", action, changed_object["name"])


register_jobs(RebootButton, AuditChanges)
