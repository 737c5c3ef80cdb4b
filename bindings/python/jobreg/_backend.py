"""jobreg._backend (the binding): storage backends in Python (include/jobreg/sys/storage.h).

A host that keeps its job records in its own database (its ORM, a REST
service...) writes a class with these methods and hands an instance to
``jobreg.Storage.from_backend()``:

=====================================  =========================================
``begin(write)``                        start a transaction (``write``: it will
                                        write; take the write lock now)
``commit()``                            make the writes durable, all at once
``rollback()``                          undo every write since ``begin``
``read_records()``                      every stored record: an iterable of
                                        ``jobreg.Record`` or of mappings
                                        (field name -> value, ``id`` included)
``write_record(record)``                insert or replace by ``record.id``; the
                                        ``Record`` is the backend's to keep
``delete_record(id)``                   delete (a missing id is no error)
``git_state_read(slug)`` (optional)     ``(remote_url, branch, current_head)``
                                        or ``None`` when nothing is stored
``git_state_write(slug, remote_url,``   insert or replace (optional; both git
``branch, current_head)``               methods or neither)
``source_state_read(source_type,``      the text stored for that source by the
``source_name)`` (optional)             last sync, or ``None`` when none
``source_state_write(source_type,``     insert or replace; ``state`` ``None``
``source_name, state)``                 deletes (optional; both source-state
                                        methods or neither)
``get_record_by_id(id)`` (optional)    the record with that id (a ``Record``
                                        or a mapping, as ``read_records``
                                        yields), or ``None``
``get_record_by_class(module_name,``    the record with that (module_name,
``job_class_name)`` (optional)          job_class_name), or ``None``
``list_records(filter)`` (optional)     the records that meet ``filter``, in
                                        list order, paged (below)
``load_errors_replace(source_type,``    replace every load error stored for
``source_name, rows)`` (optional)       that source by ``rows`` (a list of
                                        ``jobreg.StoredLoadError``), in order
``load_errors_read(source_type,``       the stored load errors of that source
``source_name)`` (optional)             (``source_name`` None: every source of
                                        the type; both None: every source):
                                        ``StoredLoadError`` or mappings, each
                                        source's in stored order (optional;
                                        both load-error methods or neither)
``run_write(row)`` (optional)           insert or replace the run record
                                        ``row["id"]`` (``row``: a dict of
                                        jobreg_run_row's fields, all str)
``runs_read(filter)`` (optional)        the run records that meet ``filter``,
                                        newest first, paged: dicts of those
                                        fields or ``jobreg.RunRecord``
                                        (optional; both run methods or neither)
``close()`` (optional)                  called once when the storage is freed
=====================================  =========================================

``source_type`` is "local", "git" or "app" and ``source_name`` the source's
name ("" for a jobs root), as in records; the state is opaque text of a few
hundred bytes at most, to be stored as it is. With both source-state
methods the storage gets a version-2 table and ``Registry.sync()`` skips the
sources that did not change; without them it gets a version-1 table and
every sync imports every source.

The version-3 methods (each optional; a backend with any of them gets a
version-3 table) let a backend with its own indexes answer without reading
every record, and keep what other processes need to read:

- ``get_record_by_id``, ``get_record_by_class``: Storage.get() and the run
  checks look records up with them; without them the library reads every
  record (``read_records``) and looks itself.
- ``list_records(filter)``: ``filter`` is a dict ``{"source_type": str or
  None, "source_name": str or None, "installed": True, False or None,
  "enabled": True, False or None, "offset": int, "limit": int}`` (None:
  any; ``limit`` 0: all). Return the records that meet every condition,
  ordered by grouping, then name, then class path, then id (bytewise),
  without the first ``offset`` and at most ``limit`` of them. Without it
  Storage.list_filtered() reads every record and filters itself.
- ``load_errors_replace`` / ``load_errors_read``: each refresh stores the
  load errors of the sources it refreshed, in its write transaction, and
  Storage.load_errors() (``jobreg errors``) reads them. A mapping returned
  by ``load_errors_read`` has ``StoredLoadError``'s keys (``source`` may be
  spelt ``source_name``); a missing text is "", a missing line 0.
- ``run_write`` / ``runs_read``: run records (include/jobreg/runs.h), so a
  run with ``record_in=`` this storage is recorded, and Storage.runs()
  lists them. ``row`` and each returned mapping hold every field of
  jobreg_run_row: ``id``, ``job_id``, ``class_path``, ``source_type``,
  ``source_name``, ``code_version``, ``status``, ``started``, ``finished``,
  ``result_json``, ``error_type``, ``error_message`` (str, "" when none;
  keep them as given). ``filter`` is a dict ``{"id", "job_id", "status"}``
  (each str or None: any) plus ``"offset"``, ``"limit"``; order newest
  first: ``started`` descending, then ``id`` descending.

A method that returns something else than it must (a record that is no
``Record``, mapping or None; rows that are not an iterable of what the
table says) fails its call with TypeError naming the method, as any
exception does (below).

``StorageBackend`` is a base class with the required names (the optional
ones are left out: defining them is what turns them on); subclassing it is
not required. An exception raised by a method never crosses C: it becomes the
callback's error return (``JOBREG_ESTORAGE``, or the code of a
``jobreg.Error``), the library rolls the transaction back and the failing
call raises ``StorageError`` (or that code's class) *from* the original
exception. A backend needs no locking of its own for one storage: the
library serializes calls on a handle. It must not call the same storage
from inside a method (that would deadlock).
"""

import threading
from collections.abc import Mapping

from . import _errors
from ._errors import Error
from ._ffi import ffi, lib, to_c
from ._records import (RUN_ROW_FIELDS, Record, RunRecord, StoredLoadError, dup_record_ptr,
                       new_record_ptr)


class StorageBackend:
    """Base class of Python storage backends (see the module's documentation)."""

    def begin(self, write):
        raise NotImplementedError

    def commit(self):
        raise NotImplementedError

    def rollback(self):
        raise NotImplementedError

    def read_records(self):
        raise NotImplementedError

    def write_record(self, record):
        raise NotImplementedError

    def delete_record(self, id):
        raise NotImplementedError

    def close(self):
        pass


REQUIRED = ("begin", "commit", "rollback", "read_records", "write_record", "delete_record")
# Optional methods that come in pairs: both or neither.
PAIRS = (("git_state_read", "git_state_write"), ("source_state_read", "source_state_write"),
         ("load_errors_replace", "load_errors_read"), ("run_write", "runs_read"))
# The optional methods of table version 3.
VERSION_3 = ("get_record_by_id", "get_record_by_class", "list_records", "load_errors_replace",
             "load_errors_read", "run_write", "runs_read")


class _Adapter:
    """What the C payload points at: the backend and what its callbacks keep alive."""

    def __init__(self, backend):
        self.backend = backend
        self.strings = None  # the C strings of the last *_state_read


# Payload handles of live storages: kept here, not on the Storage object, so
# that they outlive it until the library calls free_payload (whatever order
# the garbage collector frees things in).
_live = {}
_live_lock = threading.Lock()


def _describe(exc):
    if isinstance(exc, Error):
        return exc.message
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _fail(adapter, method, exc):
    """Turn an exception of a backend method into the callback's error return."""
    code = lib.JOBREG_ESTORAGE
    if isinstance(exc, Error) and exc.code < 0:
        code = exc.code
    message = (f"storage backend {type(adapter.backend).__name__}.{method}() failed: "
               f"{_describe(exc)}")
    _errors.park(exc)
    return lib.jobreg_storage_error_set(code, to_c(message))


def _call(payload, method, *args):
    adapter = ffi.from_handle(payload)
    adapter.strings = None
    try:
        getattr(adapter.backend, method)(*args)
    except BaseException as exc:  # never through C
        return _fail(adapter, method, exc)
    return 0


def _onerror(exc_type, exc_value, tb):
    # Reached only if the code above fails itself; the callback returns its
    # `error` value (JOBREG_ESTORAGE).
    _errors.park(exc_value)


_CALLBACK = dict(error=lib.JOBREG_ESTORAGE, onerror=_onerror)


@ffi.callback("int(unsigned int, void *)", **_CALLBACK)
def _begin(flags, payload):
    return _call(payload, "begin", bool(flags & lib.JOBREG_STORAGE_BEGIN_WRITE))


@ffi.callback("int(void *)", **_CALLBACK)
def _commit(payload):
    return _call(payload, "commit")


@ffi.callback("int(void *)", **_CALLBACK)
def _rollback(payload):
    return _call(payload, "rollback")


def _record_ptr_for(item, method="read_records"):
    """A C record the library may take ownership of, from what read_records yields."""
    if isinstance(item, Record):
        return dup_record_ptr(item._c)
    if isinstance(item, Mapping):
        return new_record_ptr(item)
    raise TypeError(f"{method}() must yield jobreg.Record objects or mappings, "
                    f"not {type(item).__name__}")


def _iterate(value, method):
    """What a listing method returned, as an iterator; TypeError naming it otherwise."""
    if isinstance(value, (str, bytes, Mapping)) or value is None:
        raise TypeError(f"{method}() must return an iterable of rows, not "
                        f"{type(value).__name__}")
    try:
        return iter(value)
    except TypeError:
        raise TypeError(f"{method}() must return an iterable of rows, not "
                        f"{type(value).__name__}") from None


def _emit_records(method, items, emit, emit_payload):
    for item in _iterate(items, method):
        rc = emit(_record_ptr_for(item, method), emit_payload)  # emit owns it now
        if rc != 0:
            return rc
    return 0


@ffi.callback("int(jobreg_storage_emit_fn, void *, void *)", **_CALLBACK)
def _read_records(emit, emit_payload, payload):
    adapter = ffi.from_handle(payload)
    adapter.strings = None
    try:
        return _emit_records("read_records", adapter.backend.read_records(), emit, emit_payload)
    except BaseException as exc:
        return _fail(adapter, "read_records", exc)


@ffi.callback("int(const jobreg_record *, void *)", **_CALLBACK)
def _write_record(rec, payload):
    adapter = ffi.from_handle(payload)
    adapter.strings = None
    try:
        adapter.backend.write_record(Record._copy_of(rec))
    except BaseException as exc:
        return _fail(adapter, "write_record", exc)
    return 0


@ffi.callback("int(const char *, void *)", **_CALLBACK)
def _delete_record(id, payload):
    return _call(payload, "delete_record", ffi.string(id).decode("utf-8", "surrogateescape"))


@ffi.callback("int(const char **, const char **, const char **, const char *, void *)",
              **_CALLBACK)
def _git_state_read(remote_url, branch, current_head, slug, payload):
    adapter = ffi.from_handle(payload)
    adapter.strings = None
    try:
        state = adapter.backend.git_state_read(ffi.string(slug).decode("utf-8", "surrogateescape"))
        if state is None:
            return lib.JOBREG_ENOTFOUND
        values = tuple(state)
        if len(values) != 3:
            raise ValueError("git_state_read() must return (remote_url, branch, current_head) "
                             "or None")
        strings = [ffi.new("char[]", to_c(v or "")) for v in values]
    except BaseException as exc:
        return _fail(adapter, "git_state_read", exc)
    adapter.strings = strings  # valid until the next callback
    remote_url[0], branch[0], current_head[0] = strings
    return 0


def _text(p):
    return ffi.string(p).decode("utf-8", "surrogateescape")


@ffi.callback("int(const char *, const char *, const char *, const char *, void *)",
              **_CALLBACK)
def _git_state_write(slug, remote_url, branch, current_head, payload):
    return _call(payload, "git_state_write", _text(slug), _text(remote_url), _text(branch),
                 _text(current_head))


@ffi.callback("int(const char **, const char *, const char *, void *)", **_CALLBACK)
def _source_state_read(state, source_type, source_name, payload):
    adapter = ffi.from_handle(payload)
    adapter.strings = None
    try:
        value = adapter.backend.source_state_read(_text(source_type), _text(source_name))
        if value is None:
            return lib.JOBREG_ENOTFOUND
        if not isinstance(value, str):
            raise TypeError(f"source_state_read() must return a str or None, "
                            f"not {type(value).__name__}")
        if "\0" in value:
            raise ValueError("source_state_read() returned a state with a NUL character")
        string = ffi.new("char[]", to_c(value))
    except BaseException as exc:
        return _fail(adapter, "source_state_read", exc)
    adapter.strings = string  # valid until the next callback
    state[0] = string
    return 0


@ffi.callback("int(const char *, const char *, const char *, void *)", **_CALLBACK)
def _source_state_write(source_type, source_name, state, payload):
    return _call(payload, "source_state_write", _text(source_type), _text(source_name),
                 None if state == ffi.NULL else _text(state))


# ---- version 3 ----

def _one_record(adapter, method, out, *args):
    """get_record_by_id / _by_class: the record into *out, or JOBREG_ENOTFOUND."""
    adapter.strings = None
    try:
        found = getattr(adapter.backend, method)(*args)
        if found is None:
            return lib.JOBREG_ENOTFOUND
        if not isinstance(found, (Record, Mapping)):
            raise TypeError(f"{method}() must return a jobreg.Record, a mapping or None, "
                            f"not {type(found).__name__}")
        out[0] = _record_ptr_for(found, method)  # the library owns it now
    except BaseException as exc:
        return _fail(adapter, method, exc)
    return 0


@ffi.callback("int(jobreg_record **, const char *, void *)", **_CALLBACK)
def _get_record_by_id(out, id, payload):
    return _one_record(ffi.from_handle(payload), "get_record_by_id", out, _text(id))


@ffi.callback("int(jobreg_record **, const char *, const char *, void *)", **_CALLBACK)
def _get_record_by_class(out, module_name, job_class_name, payload):
    return _one_record(ffi.from_handle(payload), "get_record_by_class", out, _text(module_name),
                       _text(job_class_name))


_INSTALLED = {lib.JOBREG_INSTALLED_ALL: None, lib.JOBREG_INSTALLED_YES: True,
              lib.JOBREG_INSTALLED_NO: False}


def _opt_text(p):
    return None if p == ffi.NULL else _text(p)


@ffi.callback("int(jobreg_storage_emit_fn, void *, const jobreg_record_filter *, void *)",
              **_CALLBACK)
def _list_records(emit, emit_payload, filter, payload):
    adapter = ffi.from_handle(payload)
    adapter.strings = None
    try:
        wanted = {"source_type": _opt_text(filter.source_type),
                  "source_name": _opt_text(filter.source_name),
                  "installed": _INSTALLED[filter.installed],
                  "enabled": None if filter.enabled < 0 else bool(filter.enabled),
                  "offset": filter.offset, "limit": filter.limit}
        return _emit_records("list_records", adapter.backend.list_records(wanted), emit,
                             emit_payload)
    except BaseException as exc:
        return _fail(adapter, "list_records", exc)


# StoredLoadError's fields and the jobreg_load_error_row field each fills.
_LOAD_ERROR_ROW = {"source_type": "source_type", "source": "source_name", "module": "module",
                   "file": "file", "line": "line", "type": "type", "message": "message",
                   "traceback": "traceback", "when": "when"}


@ffi.callback("int(const char *, const char *, const jobreg_load_error_row *, size_t, void *)",
              **_CALLBACK)
def _load_errors_replace(source_type, source_name, rows, count, payload):
    adapter = ffi.from_handle(payload)
    adapter.strings = None
    try:
        errors = [StoredLoadError(*(rows[i].line if c == "line" else _text(getattr(rows[i], c))
                                    for c in _LOAD_ERROR_ROW.values()))
                  for i in range(count)]
        adapter.backend.load_errors_replace(_text(source_type), _text(source_name), errors)
    except BaseException as exc:
        return _fail(adapter, "load_errors_replace", exc)
    return 0


def _row_values(item, fields, method, what, aliases=None):
    """{field: value} of a row a backend returned: a NamedTuple of `what` or a mapping."""
    if isinstance(item, what):
        return item._asdict()
    if not isinstance(item, Mapping):
        raise TypeError(f"{method}() must yield jobreg.{what.__name__} objects or mappings, "
                        f"not {type(item).__name__}")
    values = {}
    for name in fields:
        value = item.get(name)
        if value is None and aliases and name in aliases:
            value = item.get(aliases[name])
        values[name] = value
    return values


def _c_text(value, method, name):
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise TypeError(f"{method}(): {name} must be a str, not {type(value).__name__}")
    if "\0" in value:
        raise ValueError(f"{method}(): {name} holds a NUL character")
    return ffi.new("char[]", to_c(value))


@ffi.callback("int(jobreg_storage_load_error_emit_fn, void *, const char *, const char *, "
              "void *)", **_CALLBACK)
def _load_errors_read(emit, emit_payload, source_type, source_name, payload):
    adapter = ffi.from_handle(payload)
    adapter.strings = None
    method = "load_errors_read"
    try:
        found = adapter.backend.load_errors_read(_opt_text(source_type), _opt_text(source_name))
        for item in _iterate(found, method):
            values = _row_values(item, _LOAD_ERROR_ROW, method, StoredLoadError,
                                 {"source": "source_name"})
            row = ffi.new("jobreg_load_error_row *")
            keep = []
            for name, c_name in _LOAD_ERROR_ROW.items():
                if name == "line":
                    line = values[name] or 0
                    if isinstance(line, bool) or not isinstance(line, int):
                        raise TypeError(f"{method}(): line must be an int, "
                                        f"not {type(line).__name__}")
                    row.line = line
                else:
                    keep.append(_c_text(values[name], method, name))
                    setattr(row, c_name, keep[-1])
            rc = emit(row, emit_payload)  # the library copies the row now
            if rc != 0:
                return rc
    except BaseException as exc:
        return _fail(adapter, method, exc)
    return 0


@ffi.callback("int(const jobreg_run_row *, void *)", **_CALLBACK)
def _run_write(row, payload):
    return _call(payload, "run_write", {name: _text(getattr(row, name))
                                        for name in RUN_ROW_FIELDS})


@ffi.callback("int(jobreg_storage_run_emit_fn, void *, const jobreg_run_filter *, void *)",
              **_CALLBACK)
def _runs_read(emit, emit_payload, filter, payload):
    adapter = ffi.from_handle(payload)
    adapter.strings = None
    method = "runs_read"
    try:
        wanted = {"id": _opt_text(filter.id), "job_id": _opt_text(filter.job_id),
                  "status": _opt_text(filter.status), "offset": filter.offset,
                  "limit": filter.limit}
        for item in _iterate(adapter.backend.runs_read(wanted), method):
            values = _row_values(item, RUN_ROW_FIELDS, method, RunRecord)
            row = ffi.new("jobreg_run_row *")
            keep = []
            for name in RUN_ROW_FIELDS:
                keep.append(_c_text(values[name], method, name))
                setattr(row, name, keep[-1])
            rc = emit(row, emit_payload)  # the library copies the row now
            if rc != 0:
                return rc
    except BaseException as exc:
        return _fail(adapter, method, exc)
    return 0


def _report_unraisable(exc, what, obj):
    import sys
    import types

    sys.unraisablehook(types.SimpleNamespace(exc_type=type(exc), exc_value=exc,
                                             exc_traceback=exc.__traceback__,
                                             err_msg=f"Exception ignored in {what}", object=obj))


@ffi.callback("void(void *)")
def _free_payload(payload):
    with _live_lock:
        handle = _live.pop(int(ffi.cast("uintptr_t", payload)), None)
    if handle is None:
        return
    backend = ffi.from_handle(handle).backend
    close = getattr(backend, "close", None)
    if close is not None:
        try:
            close()
        except BaseException as exc:
            _report_unraisable(exc, "the close() of a jobreg storage backend", backend)


def new_storage(backend):
    """jobreg_storage_new() over a Python backend; returns the C storage pointer."""
    missing = [m for m in REQUIRED if not callable(getattr(backend, m, None))]
    if missing:
        raise TypeError(f"{type(backend).__name__} is no storage backend: it lacks "
                        f"{', '.join(m + '()' for m in missing)}")
    has = {m: callable(getattr(backend, m, None)) for pair in PAIRS for m in pair}
    has.update((m, callable(getattr(backend, m, None))) for m in VERSION_3)
    for first, second in PAIRS:
        if has[first] != has[second]:
            raise TypeError(f"{type(backend).__name__}: give both {first}() and {second}(), "
                            "or neither")
    has_read = has["git_state_read"]
    has_state_read = has["source_state_read"]

    table = ffi.new("jobreg_storage_backend *")
    # The oldest version that holds what the backend has: a version-1 table
    # is what a backend without source state is (the library then never
    # skips a source in a sync); version 3 may leave any of its methods out.
    table.version = 3 if any(has[m] for m in VERSION_3) else 2 if has_state_read else 1
    table.begin = _begin
    table.commit = _commit
    table.rollback = _rollback
    table.read_records = _read_records
    table.write_record = _write_record
    table.delete_record = _delete_record
    if has_read:
        table.git_state_read = _git_state_read
        table.git_state_write = _git_state_write
    table.free_payload = _free_payload
    if has_state_read:
        table.source_state_read = _source_state_read
        table.source_state_write = _source_state_write
    for name, callback in (("get_record_by_id", _get_record_by_id),
                           ("get_record_by_class", _get_record_by_class),
                           ("list_records", _list_records),
                           ("load_errors_replace", _load_errors_replace),
                           ("load_errors_read", _load_errors_read),
                           ("run_write", _run_write), ("runs_read", _runs_read)):
        if has[name]:
            setattr(table, name, callback)

    handle = ffi.new_handle(_Adapter(backend))
    key = int(ffi.cast("uintptr_t", handle))
    with _live_lock:
        _live[key] = handle
    out = ffi.new("jobreg_storage **")
    rc = lib.jobreg_storage_new(out, table, handle)
    if rc < 0:
        with _live_lock:
            _live.pop(key, None)  # on error the library keeps nothing
    _errors.check(rc)
    return out[0]
