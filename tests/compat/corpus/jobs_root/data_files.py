"""load_json() and load_yaml(): files beside the job's module."""
from nautobot.apps.jobs import Job, register_jobs


class LoadSiteData(Job):
    def run(self):
        return {"json": self.load_json("data/sites.json"), "yaml": self.load_yaml("data/sites.yaml")}


register_jobs(LoadSiteData)
