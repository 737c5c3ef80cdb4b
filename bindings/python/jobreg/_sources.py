"""jobreg._sources (the binding): sources (include/jobreg/source.h): a jobs root and an app.

A source is made on its own, then added to a registry, which owns it from
then on: the Python object stays usable as long as that registry is open
(and keeps it alive). A source never added is freed with ``close()`` or by
the garbage collector. Git sources are in ``_git.py``.
"""

from ._errors import StateError, check, closed
from ._ffi import ffi, from_c, lib, path_to_c, to_c

_TYPE_NAMES = {lib.JOBREG_SOURCE_LOCAL: "local", lib.JOBREG_SOURCE_GIT: "git",
               lib.JOBREG_SOURCE_APP: "app"}
_TYPE_VALUES = {v: k for k, v in _TYPE_NAMES.items()}

# A source's Nautobot mode (jobreg_source_set_nautobot_compat()) as Python
# sees it: None (as the library was started), "2.x" or "1.x".
_COMPAT_NAMES = {lib.JOBREG_COMPAT_DEFAULT: None, lib.JOBREG_COMPAT_AUTO: "2.x",
                 lib.JOBREG_COMPAT_1X: "1.x"}
_COMPAT_VALUES = {v: k for k, v in _COMPAT_NAMES.items()}


def compat_value(mode):
    """The JOBREG_COMPAT_* value of a source's mode: None, "2.x" or "1.x"."""
    try:
        return _COMPAT_VALUES[mode]
    except (KeyError, TypeError):
        raise ValueError(f"nautobot_compat must be None, '2.x' or '1.x', not {mode!r}") from None


def source_type_name(value):
    """jobreg_source_type_name(): "local", "git", "app" (or "unknown")."""
    return from_c(lib.jobreg_source_type_name(value))


def source_type_value(kind):
    """The jobreg_source_t value of "local", "git" or "app" (or of that value)."""
    if isinstance(kind, int) and kind in _TYPE_NAMES:
        return kind
    try:
        return _TYPE_VALUES[kind]
    except (KeyError, TypeError):
        raise ValueError(f"source type must be 'local', 'git' or 'app', not {kind!r}") from None


class Source:
    """A source of job code. Use DirSource, AppSource or GitSource."""

    def __init__(self, ptr):
        self._ptr = ffi.gc(ptr, lib.jobreg_source_free)
        self._registry = None

    @property
    def _c(self):
        ptr = self._ptr
        if ptr is None:
            raise closed("source")
        if self._registry is not None and self._registry._ptr is None:
            raise closed("registry that owns this source")
        return ptr

    def _attach(self, registry):
        """``registry`` took ownership of the C source: never free it from here."""
        ffi.gc(self._ptr, None)
        self._registry = registry

    @property
    def registry(self):
        """The Registry that owns this source, or None."""
        return self._registry

    @property
    def type_value(self):
        return lib.jobreg_source_type(self._c)

    @property
    def type(self):
        """"local", "git" or "app"."""
        return source_type_name(self.type_value)

    @property
    def name(self):
        """"" for a jobs root, the slug of a git repository, the package of an app."""
        return from_c(lib.jobreg_source_name(self._c))

    @property
    def root(self):
        """The root folder ("" for an app before its first load)."""
        return from_c(lib.jobreg_source_root(self._c))

    @property
    def nautobot_compat(self):
        """Which Nautobot jobs this source registers: "1.x" (every ``Job``
        subclass of its modules, without ``register_jobs``), "2.x" (only what
        ``register_jobs`` registers), or None (the default: as the library was
        started, ``JOBREG_NAUTOBOT_COMPAT=1.x`` meaning "1.x"). May be set at
        any time, also once a registry owns the source: the next load, reload
        or sync imports the source again in the new mode."""
        return _COMPAT_NAMES[lib.jobreg_source_nautobot_compat(self._c)]

    @nautobot_compat.setter
    def nautobot_compat(self, mode):
        check(lib.jobreg_source_set_nautobot_compat(self._c, compat_value(mode)))

    def close(self):
        """Free a source that was never added to a registry (else: nothing to do)."""
        if self._registry is None and self._ptr is not None:
            ptr, self._ptr = self._ptr, None
            ffi.release(ptr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        if self._ptr is None:
            return f"<jobreg.{type(self).__name__} (closed)>"
        try:
            return f"<jobreg.{type(self).__name__} {self.type} {self.name!r} root={self.root!r}>"
        except StateError:
            return f"<jobreg.{type(self).__name__} (registry closed)>"


class DirSource(Source):
    """A jobs root (type "local", name ""): every module under ``root``."""

    def __init__(self, root):
        out = ffi.new("jobreg_source **")
        check(lib.jobreg_source_dir_new(out, path_to_c(root, "jobs root")))
        super().__init__(out[0])


class AppSource(Source):
    """An app package (type "app"): the package and the jobs module its config names."""

    def __init__(self, package):
        out = ffi.new("jobreg_source **")
        check(lib.jobreg_source_app_new(out, to_c(package, "package")))
        super().__init__(out[0])
