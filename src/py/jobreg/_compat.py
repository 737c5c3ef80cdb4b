"""jobreg._compat (the author API): the Nautobot compatibility modules (SPEC 2).

``install(True)`` provides the Nautobot import paths of the job API, holding
the very objects of ``jobreg.jobs`` and ``jobreg.apps``, so job code written
for Nautobot loads unchanged:

- ``nautobot.apps.jobs``: every name Nautobot 3.x exports there;
- ``nautobot.extras.jobs``: the job API as Nautobot's own job code imports
  it, with ``get_task_logger``;
- ``nautobot.extras.scripts`` and ``nautobot.extras.reports``: Nautobot
  1.x's ``Script`` and ``Report`` bases (and the variables);
- ``nautobot.core.celery``: ``register_jobs``;
- ``nautobot.apps`` and ``nautobot.apps.apps``: ``NautobotAppConfig``.

Only a real Nautobot switches this off: a ``nautobot`` package importable
from ``sys.path`` that has ``nautobot/apps/jobs.py``.

Choices made where SPEC is silent:

- **The host's own modules.** Every ``nautobot/`` folder on ``sys.path``
  without ``apps/jobs.py`` (a host's stand-ins for Nautobot's models,
  ``nautobot/dcim/models.py``...) is a portion of the ``nautobot`` package,
  as a namespace package's portions are: ``nautobot.dcim.models`` imports
  from there, while the modules above stay the library's. The portions'
  ``__init__.py`` files are not run (the packages are the library's), and
  ``sys.path`` is read again at every import, so a folder added later counts.
- A ``nautobot`` module the host imported before the library started (and
  that is no real Nautobot) stays: the library's modules are added under it.
- Each module has ``__jobreg_compat__ = True`` and a real ``__spec__``.
- When looking for a real ``nautobot`` fails with an error, compatibility
  stays off: never shadow what cannot be inspected.
"""

import sys

_MODULES = ("nautobot", "nautobot.apps", "nautobot.apps.jobs", "nautobot.apps.apps",
            "nautobot.extras", "nautobot.extras.jobs", "nautobot.extras.scripts",
            "nautobot.extras.reports", "nautobot.core", "nautobot.core.celery")
_PACKAGES = frozenset(("nautobot", "nautobot.apps", "nautobot.extras", "nautobot.core",
                       "nautobot.core.celery"))
_installed = []


def find_spec(name):
    """``importlib.util.find_spec(name)``, without importing importlib.util.

    The library looks up top-level names at start-up and at every load;
    importlib.util would import contextlib, collections, functools... for
    that. A top-level name not imported yet takes the very call that
    importlib.util.find_spec makes; anything else goes to it.
    """
    if "." in name or name in sys.modules:
        from importlib.util import find_spec as full

        return full(name)
    from importlib._bootstrap import _find_spec

    return _find_spec(name, None)


def _is_ours(module):
    return getattr(module, "__jobreg_compat__", False) is True


def _has_job_api(locations):
    import os

    return any(os.path.isfile(os.path.join(str(loc), "apps", "jobs.py")) for loc in locations)


def _real_nautobot_importable():
    existing = sys.modules.get("nautobot")
    if existing is not None:
        return not _is_ours(existing) and _has_job_api(getattr(existing, "__path__", None) or [])
    try:
        spec = find_spec("nautobot")
    except Exception:  # a broken finder or package: treat it as present
        return True
    if spec is None:
        return False
    locations = spec.submodule_search_locations
    if locations is None:
        return True  # a plain module called nautobot: nothing to graft onto
    return _has_job_api(locations)


class _Portions:
    """The ``__path__`` of a compatibility package: ``<entry>/nautobot/<sub>``
    for every ``sys.path`` entry where that folder exists, found again
    whenever ``sys.path`` changed (as a namespace package's path is)."""

    def __init__(self, parts):
        self._parts = parts
        self._key = None
        self._found = []

    def _current(self):
        key = tuple(sys.path)
        if key != self._key:
            import os

            found = []
            for entry in key:
                folder = os.path.join(entry or os.getcwd(), "nautobot", *self._parts)
                if os.path.isdir(folder) and folder not in found:
                    found.append(folder)
            self._key, self._found = key, found
        return self._found

    def __iter__(self):
        return iter(list(self._current()))

    def __len__(self):
        return len(self._current())

    def __getitem__(self, index):
        return self._current()[index]

    def __contains__(self, item):
        return item in self._current()

    def __repr__(self):
        return f"_Portions({self._current()!r})"


def _names(name):
    """The names the module ``name`` holds, and the module they come from."""
    from jobreg import apps, jobs

    if name == "nautobot.apps.jobs":
        return jobs, jobs.NAUTOBOT_APPS_JOBS
    if name == "nautobot.extras.jobs":
        return jobs, jobs.__all__
    if name == "nautobot.extras.scripts":
        return jobs, jobs.NAUTOBOT_SCRIPTS
    if name == "nautobot.extras.reports":
        return jobs, ("Report",)
    if name == "nautobot.core.celery":
        return jobs, ("register_jobs",)
    if name == "nautobot.apps":
        return apps, ("NautobotAppConfig",)
    if name == "nautobot.apps.apps":
        return apps, ("NautobotAppConfig", "AppConfig")
    return apps, ()


def _fill(module, source, names):
    """Put ``names`` of ``source`` into ``module``; a name ``source`` makes on
    first use (jobreg.jobs._LAZY) is made when the module's is first used."""
    lazy = getattr(source, "_LAZY", {})
    for attr in names:
        if attr not in lazy:
            setattr(module, attr, getattr(source, attr))
    if any(attr in lazy for attr in names):
        def __getattr__(attr, _name=module.__name__):
            if attr in lazy and attr in names:
                return getattr(source, attr)
            raise AttributeError(f"module {_name!r} has no attribute {attr!r}")

        module.__getattr__ = __getattr__
    module.__all__ = sorted(names)


def install(enabled):
    """Provide the modules; True when they are (now) installed."""
    if not enabled or _real_nautobot_importable():
        return False
    if _installed:
        return True
    from importlib.machinery import ModuleSpec

    ModuleType = type(sys)  # types.ModuleType, without importing types

    for name in _MODULES:
        existing = sys.modules.get(name)
        if existing is not None and not _is_ours(existing):
            continue  # the host's own module of that name stays
        is_package = name in _PACKAGES
        module = ModuleType(name, f"libjobreg's stand-in for Nautobot's {name}")
        module.__spec__ = ModuleSpec(name, None, is_package=is_package)
        if is_package:
            module.__path__ = _Portions(tuple(name.split(".")[1:]))
            module.__spec__.submodule_search_locations = module.__path__
        module.__jobreg_compat__ = True
        _fill(module, *_names(name))
        sys.modules[name] = module
        _installed.append((name, module))
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)
    return True


def uninstall():
    """Remove exactly what install() added (modules replaced since are left alone)."""
    while _installed:
        name, module = _installed.pop()
        if sys.modules.get(name) is module:
            del sys.modules[name]
