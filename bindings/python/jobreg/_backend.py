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
``close()`` (optional)                  called once when the storage is freed
=====================================  =========================================

``source_type`` is "local", "git" or "app" and ``source_name`` the source's
name ("" for a jobs root), as in records; the state is opaque text of a few
hundred bytes at most, to be stored as it is. With both source-state
methods the storage gets a version-2 table and ``Registry.sync()`` skips the
sources that did not change; without them it gets a version-1 table and
every sync imports every source.

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
from ._records import Record, dup_record_ptr, new_record_ptr


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


def _record_ptr_for(item):
    """A C record the library may take ownership of, from what read_records yields."""
    if isinstance(item, Record):
        return dup_record_ptr(item._c)
    if isinstance(item, Mapping):
        return new_record_ptr(item)
    raise TypeError(f"read_records() must yield jobreg.Record objects or mappings, "
                    f"not {type(item).__name__}")


@ffi.callback("int(jobreg_storage_emit_fn, void *, void *)", **_CALLBACK)
def _read_records(emit, emit_payload, payload):
    adapter = ffi.from_handle(payload)
    adapter.strings = None
    try:
        for item in adapter.backend.read_records():
            rc = emit(_record_ptr_for(item), emit_payload)  # emit owns it now
            if rc != 0:
                return rc
    except BaseException as exc:
        return _fail(adapter, "read_records", exc)
    return 0


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
    has_read = callable(getattr(backend, "git_state_read", None))
    has_write = callable(getattr(backend, "git_state_write", None))
    if has_read != has_write:
        raise TypeError(f"{type(backend).__name__}: give both git_state_read() and "
                        "git_state_write(), or neither")
    has_state_read = callable(getattr(backend, "source_state_read", None))
    has_state_write = callable(getattr(backend, "source_state_write", None))
    if has_state_read != has_state_write:
        raise TypeError(f"{type(backend).__name__}: give both source_state_read() and "
                        "source_state_write(), or neither")

    table = ffi.new("jobreg_storage_backend *")
    # Version 2 only with source state: a version-1 table is what a backend
    # without it is (the library then never skips a source in a sync).
    table.version = lib.JOBREG_STORAGE_BACKEND_VERSION if has_state_read else 1
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
