"""The app's configuration: the library finds it here, as the one config class."""
from nautobot.apps.apps import NautobotAppConfig


class MyAppConfig(NautobotAppConfig):
    name = "my_app"
    verbose_name = "Example app"
    # Absolute form; "jobs" (relative to the package) means the same.
    jobs = "my_app.jobs"
