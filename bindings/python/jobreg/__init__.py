"""jobreg: libjobreg for Python (a cffi binding over the C library).

This is the binding (``bindings/python/jobreg``): the host's API, in Python.
It is not the author API (``src/py/jobreg``, compiled into the library),
although both are the package ``jobreg`` in a Python host; docs/python.md,
"One interpreter, one ``jobreg`` package", says how they share it.

Install, load and register Jobs from a jobs root, git repositories and app
packages; keep job records in step in a storage of your choice (in memory,
SQLite, or your own written in Python); run jobs. See docs/python.md.

Importing this package opens libjobreg (``JOBREG_LIBRARY``, else
``libjobreg.so.0``) and calls ``jobreg_init()``, which borrows this
interpreter (it is never finalized by the library) and installs the
author API's modules as sub-modules of this package (``LIBRARY_MODULES``):
``jobreg.jobs`` (what job authors import: ``Job``, ``register_jobs``, the
variables), ``jobreg.apps``, and with Nautobot compatibility on,
``nautobot.apps.jobs`` (the very same objects). ``jobreg.Job`` is
``jobreg.jobs.Job``.

Set ``JOBREG_NAUTOBOT_COMPAT=0`` before the import to never provide the
``nautobot.apps.*`` modules, or ``JOBREG_NAUTOBOT_COMPAT=1.x`` to provide
them and have every source register Nautobot 1.x jobs (each module's ``Job``
subclasses, without ``register_jobs``) unless the source's own
``nautobot_compat`` says "2.x".
"""

import os as _os

from . import _errors, _ffi
from ._ffi import LIBRARY_PATH

# The sub-modules of the author API (src/py/jobreg/*.py and the built-in
# _watchdog), which jobreg_init() installs into this package: the binding must
# have no module of these names (tests/test_package.py checks both ways).
LIBRARY_MODULES = ("jobs", "apps", "_variables", "_meta", "_context", "_compat", "_loader",
                   "_runner", "_worker", "_watchdog")


def _start():
    opts = _ffi.ffi.new("jobreg_init_options *")
    _errors.check(_ffi.lib.jobreg_init_options_init(opts, _ffi.lib.JOBREG_INIT_OPTIONS_VERSION))
    compat = _os.environ.get("JOBREG_NAUTOBOT_COMPAT", "").strip().lower()
    if compat in ("0", "false", "no", "off"):
        opts.nautobot_compat = _ffi.lib.JOBREG_COMPAT_OFF
    elif compat == "1.x":
        opts.nautobot_compat = _ffi.lib.JOBREG_COMPAT_1X
    # One reference for the life of the process: the library is never shut
    # down from Python (a borrowed interpreter is never finalized anyway,
    # and objects freed late by the garbage collector still need it).
    rc = _ffi.lib.jobreg_init(opts)
    try:
        _errors.check(rc)
    except _errors.Error as exc:
        raise ImportError(f"jobreg: jobreg_init() failed: {exc.message}") from exc


_start()

# Present only now: jobreg_init() installed them into this package.
from . import jobs  # noqa: E402
from . import apps  # noqa: E402
from .jobs import Job, register_jobs  # noqa: E402

from ._backend import StorageBackend  # noqa: E402
from ._config import Config, GitRepositoryConfig  # noqa: E402
from ._errors import (  # noqa: E402
    AlreadyExists, Ambiguous, AuthenticationError, Cancelled, ConfigError, Error, FileSystemError,
    GitError, InvalidArgument, InvalidInput, JobFailed, LoadFailed, NotEnabled, NotFound,
    NotInstalled, OutOfMemory, PythonError, StateError, StorageError, TimeLimitExceeded,
    Unsupported, VersionError, error_name, strerror)
from ._git import (  # noqa: E402
    CredentialRequest, GitProgress, GitSource, SshAgent, SshKey, SyncResult, Token, UserPass,
    Username, check_slug, redact_url)
from ._records import (  # noqa: E402
    FIELDS, Field, Record, RecordList, RefreshResult, RunRecord, StoredLoadError, field)
from ._registry import LoadedJob, LoadError, Registry, Snapshot  # noqa: E402
from ._run import Cancel, RunResult  # noqa: E402
from ._sources import AppSource, DirSource, Source  # noqa: E402
from ._storage import GitState, Storage  # noqa: E402


def _version():
    major, minor, patch = (_ffi.ffi.new("int *") for _ in range(3))
    text = _ffi.ffi.string(_ffi.lib.jobreg_version(major, minor, patch)).decode()
    return text, (major[0], minor[0], patch[0])


__version__, version_info = _version()

__all__ = [
    # the job-author API (the library's own module)
    "jobs", "apps", "Job", "register_jobs",
    # sources, registry, jobs
    "Source", "DirSource", "AppSource", "GitSource", "Registry", "Snapshot", "LoadedJob",
    "LoadError",
    # records and storage
    "Storage", "StorageBackend", "Record", "RecordList", "RefreshResult", "Field", "FIELDS",
    "field", "GitState", "StoredLoadError", "RunRecord",
    # git
    "SyncResult", "GitProgress", "CredentialRequest", "Token", "UserPass", "SshKey", "SshAgent",
    "Username", "redact_url", "check_slug",
    # runs, configuration
    "RunResult", "Cancel", "Config", "GitRepositoryConfig",
    # errors
    "Error", "OutOfMemory", "InvalidArgument", "NotFound", "Ambiguous", "AlreadyExists",
    "PythonError", "FileSystemError", "StorageError", "ConfigError", "GitError",
    "AuthenticationError", "NotInstalled", "NotEnabled", "InvalidInput", "VersionError",
    "StateError", "LoadFailed", "TimeLimitExceeded", "Unsupported", "JobFailed", "Cancelled",
    "strerror",
    "error_name",
    "LIBRARY_PATH", "__version__", "version_info",
]
