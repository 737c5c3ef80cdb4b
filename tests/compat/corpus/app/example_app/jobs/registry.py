from nautobot.apps.jobs import Job, MultiChoiceVar, register_jobs

name = "Example app"


class ExportInventory(Job):
    formats = MultiChoiceVar(choices=(("csv", "CSV"), ("yaml", "YAML")), default=["csv"])

    class Meta:
        name = "Export inventory"
        has_sensitive_variables = False

    def run(self, formats):
        for fmt in formats:
            self.create_file(f"inventory.{fmt}", f"format={fmt}\n")
        return sorted(formats)


register_jobs(ExportInventory)
