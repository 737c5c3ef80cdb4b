"""A Nautobot app that ships jobs: its config names the jobs module."""
from nautobot.apps import NautobotAppConfig


class ExampleAppConfig(NautobotAppConfig):
    name = "example_app"
    verbose_name = "Example app"
    version = "1.0.0"
    base_url = "example-app"
    jobs = "jobs.registry"


config = ExampleAppConfig
