"""jobreg.apps (the author API): the configuration of an app that ships jobs (SPEC 1.3).

    from jobreg.apps import AppConfig            # or, with Nautobot compatibility:
    from nautobot.apps.apps import NautobotAppConfig

Both names are the same class. Only ``jobs`` matters to the loader: it names
the app's jobs module, relative to the package ("jobs", "tasks.jobs") or
absolute when it starts with the package's name ("my_app.jobs").

Choices made where SPEC is silent:

- ``jobs`` counts as set explicitly when a config class of the app (or the
  instance) sets it. Framework base classes (modules under ``jobreg``,
  ``nautobot`` or ``django``) do not count, so a config built on a real
  Nautobot's NautobotAppConfig keeps the "default" meaning.
- ``jobs`` must be a dotted module path (identifiers joined by dots);
  anything else is a TypeError or ValueError naming the config class.
"""


class AppConfig:
    """Subclass it in the app's ``apps`` module, or set it as the package's ``config``."""

    name = None
    verbose_name = None
    version = None
    author = None
    author_email = None
    description = None
    base_url = None
    min_version = None
    max_version = None
    required_settings = []
    default_settings = {}
    # The app's jobs module; a missing one is an error only when set explicitly.
    jobs = "jobs"

    def __init__(self, app_name=None, app_module=None):
        # Django's signature; nothing is imported or checked here.
        if app_name is not None:
            self.name = app_name
        self.module = app_module

    def ready(self):
        """Django's hook; nothing to do here."""

    def __repr__(self):
        return f"<{type(self).__name__}: {self.name}>"


NautobotAppConfig = AppConfig

_FRAMEWORK_PACKAGES = ("jobreg", "nautobot", "django")


def _is_framework(klass):
    module = getattr(klass, "__module__", None) or ""
    return klass is object or module.split(".", 1)[0] in _FRAMEWORK_PACKAGES


def _jobs_module_setting(config):
    """``(jobs, explicit)`` of an app config given as a class or an instance.

    ``explicit`` is true when the app set ``jobs`` itself rather than
    inheriting the default: then a missing jobs module is an error.
    """
    config_class = config if isinstance(config, type) else type(config)
    explicit = not isinstance(config, type) and "jobs" in getattr(config, "__dict__", {})
    if not explicit:
        explicit = any("jobs" in vars(klass) for klass in config_class.__mro__
                       if not _is_framework(klass))
    value = getattr(config, "jobs", "jobs")
    owner = config_class.__name__
    if not isinstance(value, str):
        raise TypeError(f"{owner}.jobs must be a str naming the jobs module, "
                        f"not {type(value).__name__} ({value!r:.80})")
    if not value or not all(part.isidentifier() for part in value.split(".")):
        raise ValueError(f"{owner}.jobs must be a dotted module path like 'jobs' or "
                         f"'my_app.jobs', not {value!r:.80}")
    return value, explicit
