"""jobreg._errors (the binding): exceptions carrying the library's error; check().

Every C function that fails returns a negative ``JOBREG_E*`` code and leaves
a message in the calling thread's last error. ``check()`` turns that into an
exception right after the call, on the same thread, so the message is the
one of that call. The exception class follows the code (``NotFound`` for
``JOBREG_ENOTFOUND``...); all derive from ``jobreg.Error``.

Callbacks (storage backend, git credentials and progress) cannot raise
through C: they turn an exception into an error code, and park the
exception here (per thread) so that the failing call raises the library's
error *from* it (``__cause__``), or the exception itself when it was a
``KeyboardInterrupt`` or another ``BaseException``.
"""

import threading

from ._ffi import ffi, lib

_by_code = {}


class Error(Exception):
    """An error of libjobreg: ``code`` (negative), ``name`` (``JOBREG_E*``), ``message``."""

    code = lib.JOBREG_ERROR

    def __init__(self, message, code=None):
        if code is not None:
            self.code = code
        self.message = message
        super().__init__(message)

    @property
    def name(self):
        return ffi.string(lib.jobreg_error_name(self.code)).decode()

    def __str__(self):
        return self.message

    def __repr__(self):
        return f"{type(self).__name__}({self.message!r}, code={self.name})"

    def __reduce__(self):
        return (error_for, (self.code, self.message))


def _error_class(name, code, *bases, doc):
    cls = type(name, (Error,) + bases, {"code": code, "__doc__": doc, "__module__": "jobreg"})
    _by_code[code] = cls
    return cls


OutOfMemory = _error_class("OutOfMemory", lib.JOBREG_ENOMEM, MemoryError,
                           doc="JOBREG_ENOMEM: the library ran out of memory.")
InvalidArgument = _error_class("InvalidArgument", lib.JOBREG_EINVAL, ValueError,
                               doc="JOBREG_EINVAL: an argument or value the library refuses.")
NotFound = _error_class("NotFound", lib.JOBREG_ENOTFOUND, LookupError,
                        doc="JOBREG_ENOTFOUND: no such job, record, commit, key...")
Ambiguous = _error_class("Ambiguous", lib.JOBREG_EAMBIGUOUS, LookupError,
                         doc="JOBREG_EAMBIGUOUS: a short form naming several jobs "
                             "(the message lists them).")
AlreadyExists = _error_class("AlreadyExists", lib.JOBREG_EEXISTS,
                             doc="JOBREG_EEXISTS: a source, record or name already there.")
PythonError = _error_class("PythonError", lib.JOBREG_EPYTHON,
                           doc="JOBREG_EPYTHON: the interpreter failed where it must not.")
FileSystemError = _error_class("FileSystemError", lib.JOBREG_EIO,
                               doc="JOBREG_EIO: a file or folder could not be read or written.")
StorageError = _error_class("StorageError", lib.JOBREG_ESTORAGE,
                            doc="JOBREG_ESTORAGE: the storage backend failed "
                                "(the transaction was rolled back).")
ConfigError = _error_class("ConfigError", lib.JOBREG_ECONFIG,
                           doc="JOBREG_ECONFIG: jobreg.yaml is wrong (\"FILE:LINE:COLUMN: ...\").")
GitError = _error_class("GitError", lib.JOBREG_EGIT,
                        doc="JOBREG_EGIT: fetch, lookup or checkout failed.")
AuthenticationError = _error_class("AuthenticationError", lib.JOBREG_EAUTH,
                                   doc="JOBREG_EAUTH: git credentials missing or refused.")
NotInstalled = _error_class("NotInstalled", lib.JOBREG_ENOTINSTALLED,
                            doc="JOBREG_ENOTINSTALLED: the job's record says it is not installed.")
NotEnabled = _error_class("NotEnabled", lib.JOBREG_EDISABLED,
                          doc="JOBREG_EDISABLED: the job's record says it is not enabled.")
InvalidInput = _error_class("InvalidInput", lib.JOBREG_EVALIDATION, ValueError,
                            doc="JOBREG_EVALIDATION: a run's input fails the job's variables "
                                "(the message names every bad field).")
VersionError = _error_class("VersionError", lib.JOBREG_EVERSION,
                            doc="JOBREG_EVERSION: a structure or schema version "
                                "this library does not know.")
StateError = _error_class("StateError", lib.JOBREG_ESTATE,
                          doc="JOBREG_ESTATE: the call does not fit the current state "
                              "(also: an object already closed).")
LoadFailed = _error_class("LoadFailed", lib.JOBREG_ELOAD,
                          doc="JOBREG_ELOAD: new code of a source was refused (git sync).")
TimeLimitExceeded = _error_class("TimeLimitExceeded", lib.JOBREG_ETIMEOUT,
                                 doc="JOBREG_ETIMEOUT: reserved; no function of this version "
                                     "returns it (an import past its limit is a load error).")
Unsupported = _error_class("Unsupported", lib.JOBREG_EUNSUPPORTED,
                           doc="JOBREG_EUNSUPPORTED: e.g. a storage backend without git state.")
JobFailed = _error_class("JobFailed", lib.JOBREG_EJOBFAILED,
                         doc="JOBREG_EJOBFAILED: raised by RunResult.raise_for_status().")
Cancelled = _error_class("Cancelled", lib.JOBREG_ECANCELED,
                         doc="JOBREG_ECANCELED: the run's cancel token (jobreg.Cancel) was "
                             "cancelled, before the run (it did not start) or while it ran "
                             "(it stopped; no result).")


def error_for(code, message):
    """The exception for ``code`` (the matching subclass of Error)."""
    cls = _by_code.get(code)
    if cls is None:
        return Error(message, code)
    return cls(message)


def strerror(code):
    """The library's description of an error code ("not found")."""
    return ffi.string(lib.jobreg_strerror(code)).decode()


def error_name(code):
    """The symbolic name of an error code ("JOBREG_ENOTFOUND")."""
    return ffi.string(lib.jobreg_error_name(code)).decode()


# --------------------------------------------------------------------------
# Exceptions raised inside callbacks, parked until the C call returns.

_parked = threading.local()


def park(exc):
    """Keep the first exception a callback raised during the current C call."""
    if getattr(_parked, "exc", None) is None:
        _parked.exc = exc


def unpark():
    exc = getattr(_parked, "exc", None)
    _parked.exc = None
    return exc


def last_error(rc):
    """The exception for a failed call that returned ``rc``."""
    err = lib.jobreg_error_last()
    if err.code == rc and err.message != ffi.NULL:
        message = ffi.string(err.message).decode("utf-8", "replace")
    else:
        message = strerror(rc)
    return error_for(rc, message)


def check(rc):
    """Return ``rc`` when >= 0; else raise the calling thread's last error.

    Call it right after the C call (nothing else of the library in between).
    """
    parked = unpark() if getattr(_parked, "exc", None) is not None else None
    if rc >= 0:
        return rc
    error = last_error(rc)
    if parked is not None and not isinstance(parked, Exception):
        raise parked  # KeyboardInterrupt, SystemExit... win over the library's error
    if parked is not None:
        raise error from parked
    raise error


def closed(what):
    return StateError(f"the {what} is closed")
