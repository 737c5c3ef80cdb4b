"""Nautobot 1.x scripts and reports: nautobot.extras.scripts / .reports."""
from nautobot.extras.reports import Report
from nautobot.extras.scripts import IntegerVar, Script


class CountTo(Script):
    limit = IntegerVar(default=3)

    def run(self, data, commit):
        self.log_info(message=", ".join(str(n) for n in range(1, data["limit"] + 1)))
        return data["limit"]


class CablingReport(Report):
    def test_cables(self):
        self.log_success(message="all cables connected")
