"""jobreg._storage (the binding): storage handles (include/jobreg/records.h:
storage.h, refresh.h, storage_ops.h, storage_git_state.h).

``Storage.memory()``, ``Storage.sqlite(path)`` and
``Storage.from_backend(obj)`` (a backend written in Python, see
``jobreg.StorageBackend``) all give the same ``Storage``: list (all, or
filtered and paged), get, enable, override, delete, migrate records; read
and write git state; refresh records against a snapshot; read the load
errors each refresh stored and the run records (include/jobreg/runs.h). Every call is one transaction of the backend:
when it fails, it raises and nothing is half-written.

Arguments named ``id`` take a record id or a ``Record`` (its id is used).
"""

from typing import NamedTuple

from . import _backend
from ._errors import NotFound, check, closed
from ._ffi import ffi, from_c, lib, new_cstr, path_to_c, take_string, to_c
from ._records import (BOOL, REAL, RUN_ROW_FIELDS, TEXT, Record, RecordList, RefreshResult,
                       RunRecord, StoredLoadError, field)
from ._registry import Registry
from ._sources import Source, source_type_value


class GitState(NamedTuple):
    """The stored state of a git repository (the URL is redacted)."""

    remote_url: str
    branch: str
    current_head: str


_INSTALLED = {
    "all": lib.JOBREG_INSTALLED_ALL, None: lib.JOBREG_INSTALLED_ALL,
    "yes": lib.JOBREG_INSTALLED_YES, True: lib.JOBREG_INSTALLED_YES,
    "no": lib.JOBREG_INSTALLED_NO, False: lib.JOBREG_INSTALLED_NO,
}


def _id(value):
    if isinstance(value, Record):
        value = value["id"]
    return to_c(value, "record id")


def _which(installed):
    try:
        return _INSTALLED[installed]
    except (KeyError, TypeError):
        raise ValueError(f"installed must be 'all', 'yes' or 'no', not {installed!r}") from None


def _count(value, what):
    """offset or limit: an int >= 0."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{what} must be >= 0, not {value}")
    return value


def _record_filter(keep, source_type, source, installed="all", enabled=None, offset=0, limit=0):
    """A jobreg_record_filter; the C strings it points at go into `keep`."""
    if isinstance(source, Source):
        if source_type is not None and source_type != source.type:
            raise ValueError(f"source_type {source_type!r} contradicts the source given "
                             f"({source.type} {source.name!r})")
        source_type, source = source.type, source.name
    f = ffi.new("jobreg_record_filter *")
    check(lib.jobreg_record_filter_init(f, lib.JOBREG_RECORD_FILTER_VERSION))
    for name, value in (("source_type", source_type), ("source_name", source)):
        if value is not None:
            keep.append(new_cstr(value, name if name == "source_type" else "source"))
            setattr(f, name, keep[-1])
    f.installed = _which(installed)
    if enabled is not None:
        if not isinstance(enabled, bool):
            raise TypeError(f"enabled must be True, False or None, not {enabled!r}")
        f.enabled = 1 if enabled else 0
    f.offset = _count(offset, "offset")
    f.limit = _count(limit, "limit")
    return f


def source_scope(source):
    """(source_type, source_name) for refresh options from what the caller gave."""
    if isinstance(source, Source):
        return source.type_value, source.name
    kind, name = source
    return source_type_value(kind), name


class Storage:
    """A storage handle. Close it (or use ``with``) to release it at once."""

    def __init__(self, ptr, kind, backend=None):
        self._ptr = ffi.gc(ptr, lib.jobreg_storage_free)
        self.kind = kind          # "memory", "sqlite" or "python"
        self.backend = backend    # the Python backend object, for "python"

    @classmethod
    def memory(cls):
        """jobreg_storage_memory_new(): records that live as long as the handle."""
        out = ffi.new("jobreg_storage **")
        check(lib.jobreg_storage_memory_new(out))
        return cls(out[0], "memory")

    @classmethod
    def sqlite(cls, path, busy_timeout_ms=None):
        """jobreg_storage_sqlite_open(): the SQLite file ``path`` (created if missing)."""
        opts = ffi.new("jobreg_sqlite_options *")
        check(lib.jobreg_sqlite_options_init(opts, lib.JOBREG_SQLITE_OPTIONS_VERSION))
        if busy_timeout_ms is not None:
            opts.busy_timeout_ms = busy_timeout_ms
        out = ffi.new("jobreg_storage **")
        check(lib.jobreg_storage_sqlite_open(out, path_to_c(path), opts))
        storage = cls(out[0], "sqlite")
        storage.path = path
        return storage

    @classmethod
    def postgresql(cls, conninfo, schema=None, connect_timeout_s=None):
        """jobreg_storage_postgresql_new(): a PostgreSQL database (a libpq URI or
        key=value string; a password from PGPASSWORD or ~/.pgpass), the
        library's tables in ``schema`` (default "jobreg"). Raises Unsupported
        when the library was built without libpq."""
        opts = ffi.new("jobreg_storage_postgresql_options *")
        check(lib.jobreg_storage_postgresql_options_init(
            opts, lib.JOBREG_STORAGE_POSTGRESQL_OPTIONS_VERSION))
        keep = []
        if schema is not None:
            keep.append(new_cstr(schema))
            opts.schema = keep[-1]
        if connect_timeout_s is not None:
            opts.connect_timeout_s = connect_timeout_s
        out = ffi.new("jobreg_storage **")
        check(lib.jobreg_storage_postgresql_new(out, to_c(conninfo), opts))
        return cls(out[0], "postgresql")

    @classmethod
    def from_backend(cls, backend):
        """jobreg_storage_new() over a backend written in Python (jobreg.StorageBackend)."""
        return cls(_backend.new_storage(backend), "python", backend)

    @property
    def _c(self):
        ptr = self._ptr
        if ptr is None:
            raise closed("storage")
        return ptr

    def close(self):
        """jobreg_storage_free(): for a Python backend, its close() runs now."""
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

    def __repr__(self):
        state = " (closed)" if self._ptr is None else ""
        return f"<jobreg.Storage {self.kind}{state}>"

    # -- reading ------------------------------------------------------------
    def list(self, installed="all"):
        """The records, ordered by grouping, name, class path, id.

        ``installed``: "all" (or None), "yes" (or True), "no" (or False).
        """
        which = _which(installed)
        out = ffi.new("jobreg_record_list **")
        check(lib.jobreg_storage_list(out, self._c, which))
        return RecordList(out[0])

    def list_filtered(self, source_type=None, source=None, installed="all", enabled=None,
                      offset=0, limit=0):
        """jobreg_storage_list_filtered(): the records that meet every condition, in
        the order of list(), from the ``offset``th on and at most ``limit`` (0: all).

        ``source_type``: "local", "git" or "app"; ``source``: the source's name
        ("" for a jobs root) or a Source (its type and name); ``installed`` as
        for list(); ``enabled``: True, False or None (both). None: any.
        A backend of version 3 filters in its database.
        """
        keep = []
        f = _record_filter(keep, source_type, source, installed, enabled, offset, limit)
        out = ffi.new("jobreg_record_list **")
        check(lib.jobreg_storage_list_filtered(out, self._c, f))
        return RecordList(out[0])

    def load_errors(self, source_type=None, source=None, offset=0, limit=0):
        """jobreg_storage_load_errors(): the load errors the last refresh of each
        source stored, a list of StoredLoadError sorted by source type, source
        name, then as the load reported them. ``source_type``, ``source`` (a
        name or a Source) select; ``offset``, ``limit`` page. A backend
        without load_errors_* stores none: the list is empty.
        """
        keep = []
        f = _record_filter(keep, source_type, source, offset=offset, limit=limit)
        out = ffi.new("jobreg_load_error_list **")
        check(lib.jobreg_storage_load_errors(out, self._c, f))
        ptr = out[0]
        try:
            return [StoredLoadError(
                from_c(lib.jobreg_load_error_list_source_type(ptr, i)),
                from_c(lib.jobreg_load_error_list_source(ptr, i)),
                from_c(lib.jobreg_load_error_list_module(ptr, i)),
                from_c(lib.jobreg_load_error_list_file(ptr, i)),
                lib.jobreg_load_error_list_line(ptr, i),
                from_c(lib.jobreg_load_error_list_type(ptr, i)),
                from_c(lib.jobreg_load_error_list_message(ptr, i)),
                from_c(lib.jobreg_load_error_list_traceback(ptr, i)),
                from_c(lib.jobreg_load_error_list_when(ptr, i)))
                for i in range(lib.jobreg_load_error_list_count(ptr))]
        finally:
            lib.jobreg_load_error_list_free(ptr)

    def runs(self, id=None, job_id=None, status=None, offset=0, limit=0):
        """jobreg_storage_runs(): the run records, newest first, a list of RunRecord.

        ``id``: only that run; ``job_id``: only the runs of that record (an
        id or a Record); ``status``: "STARTED", "SUCCESS", "FAILURE" or
        "REVOKED"; ``offset``, ``limit`` page (0: all). Raises Unsupported
        when the backend keeps no run records.
        """
        keep = []
        f = ffi.new("jobreg_run_filter *")
        check(lib.jobreg_run_filter_init(f, lib.JOBREG_RUN_FILTER_VERSION))
        if job_id is not None:
            job_id = _id(job_id)
        for name, value in (("id", id), ("job_id", job_id), ("status", status)):
            if value is not None:
                keep.append(new_cstr(value, name))
                setattr(f, name, keep[-1])
        f.offset = _count(offset, "offset")
        f.limit = _count(limit, "limit")
        out = ffi.new("jobreg_run_list **")
        check(lib.jobreg_storage_runs(out, self._c, f))
        ptr = out[0]
        getters = [getattr(lib, f"jobreg_run_list_{'source' if n == 'source_name' else n}")
                   for n in RUN_ROW_FIELDS]
        try:
            return [RunRecord(*(from_c(get(ptr, i)) for get in getters))
                    for i in range(lib.jobreg_run_list_count(ptr))]
        finally:
            lib.jobreg_run_list_free(ptr)

    def __iter__(self):
        return iter(self.list())

    def get(self, ref):
        """The record whose id, or else class path, is ``ref`` (a copy). Raises NotFound."""
        out = ffi.new("jobreg_record **")
        check(lib.jobreg_storage_get(out, self._c, to_c(ref, "ref")))
        return Record._adopt(out[0])

    def find(self, ref):
        """Like get(), but None when there is no such record."""
        try:
            return self.get(ref)
        except NotFound:
            return None

    # -- what hosts do with records --------------------------------------------
    def set_enabled(self, id, enabled=True):
        check(lib.jobreg_storage_set_enabled(self._c, _id(id), 1 if enabled else 0))

    def enable(self, id):
        self.set_enabled(id, True)

    def disable(self, id):
        self.set_enabled(id, False)

    def override(self, id, name, value):
        """Set an overridable field and its ``_override`` flag, so refreshes keep it."""
        f = field(name)
        if f.kind == TEXT:
            check(lib.jobreg_storage_override_text(self._c, _id(id), f.index, to_c(value)))
        elif f.kind == BOOL:
            check(lib.jobreg_storage_override_bool(self._c, _id(id), f.index, 1 if value else 0))
        elif f.kind == REAL:
            check(lib.jobreg_storage_override_real(self._c, _id(id), f.index, float(value)))
        else:
            raise TypeError(f"field {f.name!r} cannot be overridden")

    def clear_override(self, id, name):
        """Clear the ``_override`` flag of a field; the next refresh copies the job's value."""
        check(lib.jobreg_storage_override_clear(self._c, _id(id), field(name).index))

    def delete(self, id, force=False):
        """Delete a record; one still installed only with ``force``."""
        check(lib.jobreg_storage_delete(self._c, _id(id), 1 if force else 0))

    def migrate_source(self, old_name, new_name):
        """Move the records of source ``old_name`` to ``new_name``; returns how many."""
        count = ffi.new("size_t *")
        check(lib.jobreg_storage_migrate_source(count, self._c, to_c(old_name), to_c(new_name)))
        return count[0]

    def retire_source(self, source_type, source_name=None):
        """jobreg_storage_retire_source(): a source removed for good (``source_type``
        "local", "git" or "app" and its name, or a Source): its records become
        not installed (kept for review and delete()), its stored load errors
        and sync state go. Returns how many records were installed."""
        if isinstance(source_type, Source):
            source_type, source_name = source_type.type, source_type.name
        if source_name is None:
            raise TypeError("retire_source() needs a source name (\"\" for a jobs root)")
        count = ffi.new("size_t *")
        check(lib.jobreg_storage_retire_source(count, self._c, to_c(source_type),
                                               to_c(source_name)))
        return count[0]

    # -- git state ----------------------------------------------------------------
    def git_state(self, slug):
        """The stored GitState of repository ``slug``. Raises NotFound, Unsupported."""
        url, branch, head = (ffi.new("char **") for _ in range(3))
        check(lib.jobreg_storage_git_state_get(url, branch, head, self._c, to_c(slug)))
        return GitState(take_string(url[0]), take_string(branch[0]), take_string(head[0]))

    def set_git_state(self, slug, remote_url, branch, current_head):
        """Store the state of repository ``slug`` (the URL is redacted first)."""
        check(lib.jobreg_storage_git_state_set(self._c, to_c(slug), to_c(remote_url),
                                               to_c(branch), to_c(current_head)))

    # -- refresh ------------------------------------------------------------------
    def refresh(self, snapshot, source=None):
        """Bring the records in line with ``snapshot`` (a Snapshot or a Registry).

        ``source`` limits it to one source: a Source, or ``(type, name)``
        such as ``("git", "my_repo")``. Returns a RefreshResult.
        """
        if isinstance(snapshot, Registry):
            with snapshot.snapshot() as snap:
                return self.refresh(snap, source)
        opts = ffi.new("jobreg_refresh_options *")
        check(lib.jobreg_refresh_options_init(opts, lib.JOBREG_REFRESH_OPTIONS_VERSION))
        name = None
        if source is not None:
            opts.source_type, source_name = source_scope(source)
            name = new_cstr(source_name)
            opts.source_name = name
        out = ffi.new("jobreg_refresh_result **")
        check(lib.jobreg_refresh(out, self._c, snapshot._c, opts))
        return RefreshResult._take(out[0])
