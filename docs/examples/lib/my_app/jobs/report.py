from nautobot.apps.jobs import Job, StringVar


class SoftwareComplianceReport(Job):
    platform = StringVar(description="Platform to check", default="ios")

    class Meta:
        name = "Software Compliance Report"
        has_sensitive_variables = False

    def run(self, platform):
        self.logger.info("checking software versions on %s", platform)
        return {"platform": platform, "non_compliant": []}
