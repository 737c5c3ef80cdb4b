"""What Nautobot accepts at import, so the library does too."""
from nautobot.apps.jobs import ChoiceVar, Job, StringVar, register_jobs


class LenientJob(Job):
    no_choices_yet = ChoiceVar(choices=[], required=False)
    label = StringVar(required=False)

    class Meta:
        field_order = ["label", "missing_variable"]
        unknown_meta_option = True

    def run(self, no_choices_yet, label):
        return "lenient"


class NotRegistered(Job):
    """Defined but not registered: not a job (2.x)."""

    def run(self):
        return "never"


register_jobs(LenientJob)
