"""jobreg._compat: the Nautobot compatibility modules (SPEC 2).

``install(True)`` provides ``nautobot``, ``nautobot.apps``,
``nautobot.apps.jobs`` and ``nautobot.apps.apps`` holding the very objects of
``jobreg.jobs`` and ``jobreg.apps``, so job code written for Nautobot loads
unchanged, unless a real ``nautobot`` is importable.

Choices made where SPEC is silent:

- Each module has ``__jobreg_compat__ = True`` and a real ``__spec__`` (so
  ``importlib.util.find_spec`` and similar tools keep working); packages
  have an empty ``__path__``, so any other ``nautobot.*`` import fails with
  a plain ModuleNotFoundError.
- ``nautobot.apps`` also exports ``NautobotAppConfig``, as Nautobot's does.
- When looking for a real ``nautobot`` fails with an error, compatibility
  stays off: never shadow what cannot be inspected.
"""

import sys

_PACKAGES = ("nautobot", "nautobot.apps")
_MODULES = ("nautobot.apps.jobs", "nautobot.apps.apps")
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


def _real_nautobot_importable():
    existing = sys.modules.get("nautobot")
    if existing is not None:
        return not _is_ours(existing)
    try:
        return find_spec("nautobot") is not None
    except Exception:  # a broken finder or package: treat it as present
        return True


def install(enabled):
    """Provide the modules; True when they are (now) installed."""
    if not enabled or _real_nautobot_importable():
        return False
    if _installed:
        return True
    from importlib.machinery import ModuleSpec

    from jobreg import apps, jobs

    ModuleType = type(sys)  # types.ModuleType, without importing types

    contents = {
        "nautobot": {},
        "nautobot.apps": {"NautobotAppConfig": apps.AppConfig},
        "nautobot.apps.jobs": {name: getattr(jobs, name) for name in jobs.__all__},
        "nautobot.apps.apps": {"NautobotAppConfig": apps.AppConfig, "AppConfig": apps.AppConfig},
    }
    for name in _PACKAGES + _MODULES:
        module = ModuleType(name, f"libjobreg's stand-in for Nautobot's {name}")
        is_package = name in _PACKAGES
        module.__spec__ = ModuleSpec(name, None, is_package=is_package)
        if is_package:
            module.__path__ = []
        module.__jobreg_compat__ = True
        vars(module).update(contents[name])
        module.__all__ = sorted(contents[name])
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
