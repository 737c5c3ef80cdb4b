"""jobreg._ffi (the binding): finding and opening libjobreg (cffi ABI mode: no compile step).

Where the library comes from, first match wins:

1. ``JOBREG_LIBRARY``: the full path of the shared library (a build tree's
   ``build/src/libjobreg.so``); an error when it names nothing loadable.
2. ``libjobreg.so.0`` through the dynamic loader's usual search
   (``LD_LIBRARY_PATH``, ``/etc/ld.so.conf``, the system folders).
3. The path the library was installed at, when this package was installed
   by ``meson install`` together with it (``_installed.py``).

Also the small conversions every module of the binding needs: Python text
to C strings and back.
"""

import os

from cffi import FFI

from ._cdef import CDEF

ffi = FFI()
ffi.cdef(CDEF)

SONAME = "libjobreg.so.0"

# Never unloaded: once jobreg_init() ran, the interpreter holds objects whose
# code and data live in the library (the built-in jobreg._watchdog, job
# classes kept by generations); cffi would dlclose() it when its `lib`
# object dies at interpreter exit, and those would then point at nothing.
_FLAGS = ffi.RTLD_NOW | ffi.RTLD_NODELETE


def _installed_library():
    try:
        from ._installed import LIBRARY
    except ImportError:
        return None
    return LIBRARY


def _open():
    explicit = os.environ.get("JOBREG_LIBRARY")
    if explicit:
        try:
            return ffi.dlopen(explicit, _FLAGS), explicit
        except OSError as exc:
            raise ImportError(f"jobreg: JOBREG_LIBRARY={explicit!r} cannot be loaded: {exc}") from exc
    tried = [SONAME]
    try:
        return ffi.dlopen(SONAME, _FLAGS), SONAME
    except OSError as exc:
        first_error = exc
    installed = _installed_library()
    if installed:
        tried.append(installed)
        try:
            return ffi.dlopen(installed, _FLAGS), installed
        except OSError:
            pass
    raise ImportError(
        f"jobreg: libjobreg cannot be found (tried {', '.join(tried)}: {first_error}); "
        "set JOBREG_LIBRARY to the full path of libjobreg.so")


lib, LIBRARY_PATH = _open()


def to_c(value, what="value"):
    """A Python str (or bytes) as a C string for the library: UTF-8."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, bytes):
        return value
    raise TypeError(f"{what} must be a str, not {type(value).__name__}")


def path_to_c(value, what="path"):
    """A file system path (str, bytes or os.PathLike) as a C string."""
    try:
        return os.fsencode(value)
    except TypeError:
        raise TypeError(f"{what} must be a path (str, bytes or os.PathLike), "
                        f"not {type(value).__name__}") from None


def opt_to_c(value, what="value"):
    """Like to_c(), with None as NULL."""
    return ffi.NULL if value is None else to_c(value, what)


def new_cstr(value, what="value"):
    """An owned C string (char[]) for a struct field; None gives NULL.

    Struct fields take cdata only: keep the returned object referenced as
    long as the struct is used.
    """
    if value is None:
        return ffi.NULL
    return ffi.new("char[]", to_c(value, what))


def from_c(ptr):
    """A borrowed C string as a str; None for NULL."""
    if ptr == ffi.NULL:
        return None
    return ffi.string(ptr).decode("utf-8", "surrogateescape")


def take_string(ptr):
    """An owned C string (\"free with jobreg_free\") as a str, freed here."""
    if ptr == ffi.NULL:
        return None
    try:
        return ffi.string(ptr).decode("utf-8", "surrogateescape")
    finally:
        lib.jobreg_free(ptr)
