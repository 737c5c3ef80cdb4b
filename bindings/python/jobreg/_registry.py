"""jobreg._registry (the binding): registry, snapshots, loaded jobs, load errors.

Over include/jobreg/registry.h, snapshot.h and job.h::

    with jobreg.Registry() as reg:
        reg.add_dir("/srv/jobs")
        snap = reg.load()                 # broken modules become load errors
        for err in snap.load_errors: print(err)
        job = reg.resolve("device_jobs.CleanupDevices")

A ``Snapshot`` is one generation, frozen: its jobs and load errors never
change, whatever loads run meanwhile. A ``LoadedJob`` holds its own
reference to its generation (jobreg_job_dup), so it stays valid after the
snapshot or registry it came from is closed. ``resolve`` and ``snapshot``
may run in any thread at any time, also during a load.
"""

import json
from collections.abc import Sequence
from typing import NamedTuple

from ._errors import NotFound, StateError, check, closed
from ._ffi import ffi, from_c, lib, to_c
from ._git import GitSource
from ._records import Record, RefreshResult
from ._run import RunOptions, RunResult
from ._sources import AppSource, DirSource, Source, source_type_name


def _address(ptr):
    return int(ffi.cast("uintptr_t", ptr))


class LoadError(NamedTuple):
    """One failure recorded while loading a source (copied out of the snapshot)."""

    source_type: str  # "local", "git", "app"
    source: str       # "" for a jobs root
    module: str       # "" for a failure of the source as a whole
    file: str
    line: int         # 0 when unknown
    type: str         # "SyntaxError", "ImportError", ...
    message: str
    traceback: str

    @classmethod
    def _read(cls, err):
        return cls(source_type_name(lib.jobreg_load_error_source_type(err)),
                   from_c(lib.jobreg_load_error_source(err)),
                   from_c(lib.jobreg_load_error_module(err)),
                   from_c(lib.jobreg_load_error_file(err)),
                   lib.jobreg_load_error_line(err),
                   from_c(lib.jobreg_load_error_type(err)),
                   from_c(lib.jobreg_load_error_message(err)),
                   from_c(lib.jobreg_load_error_traceback(err)))

    def to_dict(self):
        """As ``jobreg sync --json`` prints it (plus ``source_type``)."""
        return self._asdict()

    def __str__(self):
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.module or self.source or '(source)'}: {self.type}: {self.message}"


class LoadedJob:
    """A job class as loaded, and the metadata read from it (jobreg_job).

    It is not the class itself (a subclass of the author API's
    ``jobreg.jobs.Job``): it is the library's record of it. Close it, or let the
    garbage collector release it.
    """

    __slots__ = ("_ptr", "__weakref__")

    def __init__(self, owned_ptr):
        self._ptr = ffi.gc(owned_ptr, lib.jobreg_job_free)

    @classmethod
    def _dup(cls, borrowed_ptr):
        out = ffi.new("jobreg_job **")
        check(lib.jobreg_job_dup(out, borrowed_ptr))
        return cls(out[0])

    @property
    def _c(self):
        ptr = self._ptr
        if ptr is None:
            raise closed("job")
        return ptr

    def close(self):
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            ffi.release(ptr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def copy(self):
        return LoadedJob._dup(self._c)

    # -- metadata ---------------------------------------------------------------
    # The job's identity and source, then one property per META field of the
    # library's list of job fields (src/job_fields.h; tests/test_job_fields.py
    # checks that none is missing here, in to_dict() or in the cdef).
    class_path = property(lambda self: from_c(lib.jobreg_job_class_path(self._c)))
    module_name = property(lambda self: from_c(lib.jobreg_job_module_name(self._c)))
    class_name = property(lambda self: from_c(lib.jobreg_job_class_name(self._c)))
    source_type = property(lambda self: source_type_name(lib.jobreg_job_source_type(self._c)))
    source = property(lambda self: from_c(lib.jobreg_job_source_name(self._c)))
    grouping = property(lambda self: from_c(lib.jobreg_job_grouping(self._c)))
    name = property(lambda self: from_c(lib.jobreg_job_name(self._c)))
    description = property(lambda self: from_c(lib.jobreg_job_description(self._c)))
    hidden = property(lambda self: bool(lib.jobreg_job_hidden(self._c)))
    dryrun_default = property(lambda self: bool(lib.jobreg_job_dryrun_default(self._c)))
    approval_required = property(lambda self: bool(lib.jobreg_job_approval_required(self._c)))
    has_sensitive_variables = property(
        lambda self: bool(lib.jobreg_job_has_sensitive_variables(self._c)))
    is_singleton = property(lambda self: bool(lib.jobreg_job_is_singleton(self._c)))
    soft_time_limit = property(lambda self: lib.jobreg_job_soft_time_limit(self._c))
    time_limit = property(lambda self: lib.jobreg_job_time_limit(self._c))
    supports_dryrun = property(lambda self: bool(lib.jobreg_job_supports_dryrun(self._c)))
    variables_json = property(lambda self: from_c(lib.jobreg_job_variables_json(self._c)))
    # Not a META field: which code the job was loaded from (a git commit, or
    # the fingerprint of a jobs root's or app's files); "" when unreadable.
    code_version = property(lambda self: from_c(lib.jobreg_job_code_version(self._c)))

    @property
    def task_queues(self):
        c = self._c
        return [from_c(lib.jobreg_job_task_queue(c, i))
                for i in range(lib.jobreg_job_task_queue_count(c))]

    @property
    def variables(self):
        """The variables' JSON schema, decoded."""
        return json.loads(self.variables_json)

    def to_dict(self):
        keys = ("class_path", "module_name", "class_name", "source_type", "source", "grouping",
                "name", "description", "hidden", "dryrun_default", "approval_required",
                "has_sensitive_variables", "soft_time_limit", "time_limit", "task_queues",
                "is_singleton", "supports_dryrun", "variables")
        return {k: getattr(self, k) for k in keys}

    # -- running ------------------------------------------------------------------
    def run(self, record, data=None, log=None, *, context=None, on_file=None, host=None,
            cancel=None, default_soft_time_limit=None, default_time_limit=None, record_in=None,
            run_id=None, host_json=None):
        """jobreg_job_run(): run as ``record`` (its Record, read from storage) allows.

        ``data``: a dict (or JSON text) of input. ``log``, ``context``,
        ``on_file``, ``host``, ``cancel`` (a jobreg.Cancel),
        ``default_soft_time_limit``, ``default_time_limit`` (seconds, for a
        job whose record has no limit), ``record_in`` (a Storage: record the
        run there) and ``run_id`` (its record's id): see jobreg._run (and
        docs/python.md). Returns a RunResult (also for a job that raised or
        passed its time limit); raises NotInstalled, NotEnabled,
        InvalidInput when the run is refused, Cancelled when it was
        cancelled.
        """
        if not isinstance(record, Record):
            raise TypeError(f"record must be a jobreg.Record, not {type(record).__name__}")
        out = ffi.new("jobreg_run_result **")
        with RunOptions(data, log, context, on_file, host, cancel=cancel,
                        default_soft_time_limit=default_soft_time_limit,
                        default_time_limit=default_time_limit, record_in=record_in,
                        run_id=run_id, host_json=host_json) as options:
            check(lib.jobreg_job_run(out, self._c, record._c, options.opts))
        return RunResult._take(out[0])

    def __eq__(self, other):
        """The same job of the same generation."""
        if isinstance(other, LoadedJob):
            return _address(self._c) == _address(other._c)
        return NotImplemented

    def __hash__(self):
        return hash(_address(self._c))

    def __repr__(self):
        if self._ptr is None:
            return "<jobreg.LoadedJob (closed)>"
        return f"<jobreg.LoadedJob {self.class_path!r} name={self.name!r}>"


class Snapshot(Sequence):
    """One generation of a registry: a sequence of LoadedJob, plus its load errors.

    ``snap[i]`` is job i (by source, then class path); ``snap["a.B"]``
    resolves a class path or short form (KeyError-compatible NotFound).
    """

    def __init__(self, ptr):
        self._ptr = ffi.gc(ptr, lib.jobreg_snapshot_free)

    @property
    def _c(self):
        ptr = self._ptr
        if ptr is None:
            raise closed("snapshot")
        return ptr

    def close(self):
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            ffi.release(ptr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def generation(self):
        """0 before the first load, then 1, 2, ..."""
        return lib.jobreg_snapshot_generation(self._c)

    @property
    def memory(self):
        """Bytes the library holds for this generation."""
        return lib.jobreg_snapshot_memory(self._c)

    def __len__(self):
        return lib.jobreg_snapshot_job_count(self._c)

    def __getitem__(self, index):
        if isinstance(index, str):
            return self.resolve(index)
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        count = len(self)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError("snapshot job index out of range")
        return LoadedJob._dup(lib.jobreg_snapshot_job(self._c, index))

    def __iter__(self):
        c = self._c
        for i in range(lib.jobreg_snapshot_job_count(c)):
            yield LoadedJob._dup(lib.jobreg_snapshot_job(c, i))

    def __contains__(self, ref):
        if isinstance(ref, LoadedJob):
            ref = ref.class_path
        try:
            self.resolve(ref).close()
        except LookupError:
            return False
        return True

    @property
    def jobs(self):
        return list(self)

    @property
    def class_paths(self):
        c = self._c
        return [from_c(lib.jobreg_job_class_path(lib.jobreg_snapshot_job(c, i)))
                for i in range(lib.jobreg_snapshot_job_count(c))]

    def resolve(self, ref):
        """The job called ``ref`` in this generation. Raises NotFound, Ambiguous."""
        out = ffi.new("const jobreg_job **")
        check(lib.jobreg_snapshot_resolve(out, self._c, to_c(ref, "ref")))
        return LoadedJob._dup(out[0])

    @property
    def load_errors(self):
        c = self._c
        return [LoadError._read(lib.jobreg_snapshot_load_error(c, i))
                for i in range(lib.jobreg_snapshot_load_error_count(c))]

    def __repr__(self):
        if self._ptr is None:
            return "<jobreg.Snapshot (closed)>"
        return (f"<jobreg.Snapshot generation={self.generation} jobs={len(self)} "
                f"load_errors={lib.jobreg_snapshot_load_error_count(self._c)}>")


_ISOLATION = {"none": lib.JOBREG_ISOLATION_NONE, "process": lib.JOBREG_ISOLATION_PROCESS}


def _count(value, what):
    """A whole number >= 0 that fits an unsigned int."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"{what} must be between 0 and {0xFFFFFFFF}, not {value}")
    return value


class Registry:
    """A set of sources and the generation of jobs last loaded from them.

    ``Registry(sources, import_timeout=seconds, isolation="none"|"process",
    workers=N, worker_memory_limit_mb=N)``: ``isolation="process"`` runs
    the job code in worker processes (at most ``workers`` at once, 0: the
    library's default; each may grow by ``worker_memory_limit_mb`` MiB, 0:
    no limit; docs/isolation.md). Close it (or use ``with``) when done:
    that frees its sources and purges their modules from ``sys.modules``,
    so that another registry may load the same names.
    """

    def __init__(self, sources=(), *, import_timeout=None, isolation=None, workers=None,
                 worker_memory_limit_mb=None):
        opts = ffi.new("jobreg_registry_options *")
        # Version 1 unless an option of version 2 is given: a library that
        # predates isolation still takes the rest.
        v2 = isolation is not None or workers is not None or worker_memory_limit_mb is not None
        check(lib.jobreg_registry_options_init(opts, lib.JOBREG_REGISTRY_OPTIONS_VERSION
                                               if v2 else 1))
        if import_timeout is not None and not import_timeout >= 0:
            raise ValueError(f"import_timeout must be a number of seconds >= 0, "
                             f"not {import_timeout!r}")
        if import_timeout:
            opts.import_timeout_ms = max(1, round(import_timeout * 1000))
        if isolation is not None:
            if isolation not in _ISOLATION:
                raise ValueError(f"isolation must be one of {sorted(_ISOLATION)}, "
                                 f"not {isolation!r}")
            opts.isolation = _ISOLATION[isolation]
        if workers is not None:
            opts.workers = _count(workers, "workers")
        if worker_memory_limit_mb is not None:
            opts.worker_memory_limit_mb = _count(worker_memory_limit_mb,
                                                 "worker_memory_limit_mb")
        out = ffi.new("jobreg_registry **")
        check(lib.jobreg_registry_new(out, opts))
        self._ptr = ffi.gc(out[0], lib.jobreg_registry_free)
        self._sources = []
        for src in sources:
            self.add_source(src)

    @property
    def _c(self):
        ptr = self._ptr
        if ptr is None:
            raise closed("registry")
        return ptr

    def close(self):
        """jobreg_registry_free(): frees the sources too. Jobs and snapshots
        taken before stay valid until closed."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            ffi.release(ptr)

    @property
    def closed(self):
        return self._ptr is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- sources ------------------------------------------------------------------
    def add_source(self, source):
        """Add a source (it belongs to this registry from now on); returns it."""
        if not isinstance(source, Source):
            raise TypeError(f"expected a jobreg source, not {type(source).__name__}")
        if source._registry is not None:
            raise StateError(f"{source!r} already belongs to a registry")
        check(lib.jobreg_registry_add_source(self._c, source._c))
        source._attach(self)
        self._sources.append(source)
        return source

    def add_dir(self, root):
        """Add a jobs root; returns its DirSource."""
        return self._add_new(DirSource(root))

    def add_app(self, package):
        """Add an app package; returns its AppSource."""
        return self._add_new(AppSource(package))

    def add_git(self, slug, remote_url, git_root, branch=None, *, credentials=None,
                progress=None):
        """Add a git repository; returns its GitSource (sync it to fetch)."""
        return self._add_new(GitSource(slug, remote_url, git_root, branch,
                                       credentials=credentials, progress=progress))

    def _add_new(self, source):
        try:
            return self.add_source(source)
        except BaseException:
            source.close()
            raise

    def remove_source(self, source):
        """Remove one of the registry's sources (jobreg_registry_remove_source()):
        the next generation, without its jobs, is published at once (nothing
        else is imported), and its modules leave sys.modules. Snapshots taken
        before keep its jobs. The Source object is closed: do not use it
        afterwards. Records are not touched (Storage.retire_source())."""
        if not isinstance(source, Source) or source._registry is not self:
            raise NotFound(f"{source!r} is not one of this registry's sources")
        check(lib.jobreg_registry_remove_source(self._c, source._c))
        self._sources.remove(source)
        source._ptr = None  # freed by the library
        source._registry = None

    @property
    def sources(self):
        """The sources, in the order added."""
        c = self._c
        by_address = {_address(s._ptr): s for s in self._sources}
        return tuple(by_address[_address(lib.jobreg_registry_source(c, i))]
                     for i in range(lib.jobreg_registry_source_count(c)))

    def source(self, name, type=None):
        """The source called ``name`` (and of ``type``, if given). Raises NotFound."""
        for src in self._sources:
            if src.name == name and (type is None or src.type == type):
                return src
        raise NotFound(f"the registry has no source named {name!r}")

    # -- loading ------------------------------------------------------------------
    def load(self):
        """Import every source; returns the new Snapshot (its load_errors tell what failed)."""
        check(lib.jobreg_registry_load(self._c))
        return self.snapshot()

    def reload(self):
        """Re-import only the sources that changed; returns the current Snapshot."""
        check(lib.jobreg_registry_reload(self._c))
        return self.snapshot()

    def snapshot(self):
        """The current generation."""
        out = ffi.new("jobreg_snapshot **")
        check(lib.jobreg_registry_snapshot(out, self._c))
        return Snapshot(out[0])

    @property
    def generation(self):
        with self.snapshot() as snap:
            return snap.generation

    @property
    def jobs(self):
        with self.snapshot() as snap:
            return snap.jobs

    @property
    def load_errors(self):
        with self.snapshot() as snap:
            return snap.load_errors

    def __iter__(self):
        return iter(self.jobs)

    def resolve(self, ref):
        """The job ``ref`` (class path or short form) of the current generation.
        Raises NotFound or Ambiguous (the message lists the candidates)."""
        out = ffi.new("jobreg_job **")
        check(lib.jobreg_registry_resolve(out, self._c, to_c(ref, "ref")))
        return LoadedJob(out[0])

    __getitem__ = resolve

    def __contains__(self, ref):
        try:
            self.resolve(ref).close()
        except LookupError:
            return False
        return True

    # -- records and runs -------------------------------------------------------------
    def refresh(self, storage, source=None):
        """Refresh ``storage``'s records against the current generation (see Storage.refresh)."""
        return storage.refresh(self, source)

    def sync(self, storage, full=False):
        """jobreg_registry_sync(): load and refresh ``storage``'s records in one
        step, importing only the sources that changed since the last sync
        into the same storage.

        A source whose stored fingerprint (its files, the interpreter,
        ``sys.path``, its records) is unchanged is not imported and its
        records are left as they are; ``full=True`` imports and refreshes
        every source. Returns a RefreshResult whose ``skipped`` counts the
        sources left out; the load errors are in ``self.load_errors``. A
        skipped source has no jobs in this registry unless it loaded them
        before: call ``load()`` to run jobs.
        """
        try:
            st = storage._c
        except AttributeError:
            raise TypeError(f"storage must be a jobreg.Storage, "
                            f"not {type(storage).__name__}") from None
        opts = ffi.new("jobreg_sync_options *")
        check(lib.jobreg_sync_options_init(opts, lib.JOBREG_SYNC_OPTIONS_VERSION))
        opts.full = 1 if full else 0
        out = ffi.new("jobreg_refresh_result **")
        check(lib.jobreg_registry_sync(out, self._c, st, opts))
        return RefreshResult._take(out[0])

    def run(self, ref, storage, data=None, log=None, *, context=None, on_file=None, host=None,
            cancel=None, default_soft_time_limit=None, default_time_limit=None, record_in=None,
            run_id=None, host_json=None):
        """jobreg_run(): resolve ``ref``, read its record from ``storage``, run it.

        ``context``: a dict (``job_result``, ``user``, ``job_model``,
        ``task_id``) the job sees as ``self.job_result``, ``self.user``,
        ``self.job_model``. ``on_file(name, content_bytes)``: receives each
        file the job creates (raise to refuse it). ``host``: performs host
        operations, ``host(operation, args) -> JSON-able value`` raising
        LookupError for one it does not provide, or a dict of operation
        names to ``callable(args)``. The RunResult lists the files.
        ``cancel``: a jobreg.Cancel; cancelling it stops the run, which then
        raises Cancelled here. ``default_soft_time_limit``,
        ``default_time_limit``: seconds, for a job whose record has no limit
        of its own (Nautobot's CELERY_TASK_SOFT_TIME_LIMIT and
        CELERY_TASK_TIME_LIMIT); a run past its hard limit is a failed
        RunResult ("TimeLimitExceeded"). ``record_in``: a Storage (often
        ``storage`` itself) to record the run in, under the id ``run_id``
        (default a new UUID): the RunResult's ``run_id``, listed by
        ``Storage.runs()``.
        """
        out = ffi.new("jobreg_run_result **")
        with RunOptions(data, log, context, on_file, host, cancel=cancel,
                        default_soft_time_limit=default_soft_time_limit,
                        default_time_limit=default_time_limit, record_in=record_in,
                        run_id=run_id, host_json=host_json) as options:
            check(lib.jobreg_run(out, self._c, storage._c, to_c(ref, "ref"), options.opts))
        return RunResult._take(out[0])

    def __repr__(self):
        if self._ptr is None:
            return "<jobreg.Registry (closed)>"
        return f"<jobreg.Registry sources={len(self._sources)}>"
