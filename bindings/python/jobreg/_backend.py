"""Storage backends written in Python (include/jobreg/sys/storage.h).

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
``close()`` (optional)                  called once when the storage is freed
=====================================  =========================================

``StorageBackend`` is a base class with these names; subclassing it is not
required. An exception raised by a method never crosses C: it becomes the
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
        self.git_strings = None  # the C strings of the last git_state_read


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
    adapter.git_strings = None
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
    adapter.git_strings = None
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
    adapter.git_strings = None
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
    adapter.git_strings = None
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
    adapter.git_strings = strings  # valid until the next callback
    remote_url[0], branch[0], current_head[0] = strings
    return 0


@ffi.callback("int(const char *, const char *, const char *, const char *, void *)",
              **_CALLBACK)
def _git_state_write(slug, remote_url, branch, current_head, payload):
    def text(p):
        return ffi.string(p).decode("utf-8", "surrogateescape")

    return _call(payload, "git_state_write", text(slug), text(remote_url), text(branch),
                 text(current_head))


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

    table = ffi.new("jobreg_storage_backend *")
    table.version = lib.JOBREG_STORAGE_BACKEND_VERSION
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
