"""jobreg._run (the binding): running a job (include/jobreg/run.h): RunResult, the
callbacks, and Cancel (include/jobreg/cancel.h).

``log(level, level_name, message, extra)`` receives every ``self.logger``
record of the running job as it happens, on the running thread (``extra``:
a dict of the ``extra=`` values). It cannot raise into the job: an
exception in it is reported through ``sys.unraisablehook`` and the run goes
on. To send the records to Python's logging::

    registry.run(ref, storage, log=lambda lvl, _, msg, extra: logger.log(lvl, msg))

``context`` (a dict: ``job_result``, ``user``, ``job_model``, ``task_id``)
is what the job sees as ``self.job_result``, ``self.user`` and
``self.job_model``. ``on_file(name, content_bytes)`` receives each file the
job makes with ``self.create_file()``; an exception in it refuses the file:
the job's create_file() raises RuntimeError with that exception's message.
``host`` performs host operations: a callable ``host(operation, args)``
(``args`` a dict) returning a JSON-able value and raising LookupError
(KeyError too) for an operation it does not provide, or a dict of operation
name to ``callable(args)``. Any other exception fails the operation: the
job sees RuntimeError with its message. Every callback runs on the running
thread, during the run.

``cancel`` (a Cancel) stops the run when another thread (or a signal
handler) calls its ``cancel()``: the run raises jobreg.Cancelled in its
caller. ``default_soft_time_limit`` and ``default_time_limit`` (seconds)
hold for a job whose record has no limit of its own (0). In the host's
process a job blocked in one call (time.sleep(), a socket read) is stopped
only when that call returns (include/jobreg/run.h has the list).

``record_in`` (a Storage whose backend keeps run records: memory, SQLite,
PostgreSQL, or a Python backend with ``run_write``/``runs_read``) records
the run there (include/jobreg/runs.h): "STARTED" before the job's code
runs, then its end, each in a transaction of its own; ``run_id`` names the
record (1 to 200 bytes, unique; default a new UUID). The RunResult's
``run_id`` says which record it is, and ``record_error`` why its end could
not be stored (the run stands). ``host_json`` (a str, or anything
json.dumps() takes) is kept with the record as it is: the worker, the user,
the input the host was given. A run refused by the record check (not
installed, not enabled) is stored once, as a FAILURE. ``Storage.runs()``
lists them.
"""

import json
import math
import sys
import threading
import types
from collections.abc import Mapping

from ._errors import JobFailed, check, closed
from ._ffi import ffi, from_c, lib, new_cstr, take_string, to_c

SUCCESS, FAILED = "success", "failed"


class RunResult:
    """What a run produced: ``status`` ("success"/"failed"), ``result`` (the
    decoded value run() returned; None for a failed run), ``result_json``, and
    for a failed run ``error_type``, ``error_message``, ``traceback``;
    ``files``: the files the job created, a list of ``(name, content_bytes)``
    in the order it made them. A job that called ``self.fail()`` is failed
    and keeps the value its run() returned in ``result``. A recorded run
    (``record_in=``) has ``run_id``, its record's id, and ``record_error``,
    why its end could not be stored (None when it was); both None for a run
    not recorded."""

    __slots__ = ("status", "result_json", "error_type", "error_message", "traceback", "files",
                 "run_id", "record_error", "_json")

    @classmethod
    def _take(cls, ptr):
        """Copy a C result and free it."""
        self = cls.__new__(cls)
        try:
            status = lib.jobreg_run_result_status(ptr)
            self.status = SUCCESS if status == lib.JOBREG_RUN_SUCCESS else FAILED
            self.result_json = from_c(lib.jobreg_run_result_json(ptr))
            self.error_type = from_c(lib.jobreg_run_result_error_type(ptr))
            self.error_message = from_c(lib.jobreg_run_result_error_message(ptr))
            self.traceback = from_c(lib.jobreg_run_result_traceback(ptr))
            self.files = _files(ptr)
            self.run_id = from_c(lib.jobreg_run_result_run_id(ptr)) or None
            self.record_error = from_c(lib.jobreg_run_result_record_error(ptr)) or None
            out = ffi.new("char **")
            check(lib.jobreg_run_result_to_json(out, ptr))
            self._json = take_string(out[0])
        finally:
            lib.jobreg_run_result_free(ptr)
        return self

    @property
    def succeeded(self):
        return self.status == SUCCESS

    @property
    def result(self):
        return json.loads(self.result_json)

    def raise_for_status(self):
        """Raise JobFailed (with the job's exception type, message and traceback) for a failed run."""
        if self.status != SUCCESS:
            error = JobFailed(f"{self.error_type}: {self.error_message}")
            error.error_type = self.error_type
            error.traceback = self.traceback
            raise error
        return self

    def to_json(self):
        """jobreg_run_result_to_json(): as ``jobreg run --json`` prints it."""
        return self._json

    def to_dict(self):
        return json.loads(self._json)

    def __repr__(self):
        if self.status == SUCCESS:
            return f"<jobreg.RunResult success {self.result_json[:60]}>"
        return f"<jobreg.RunResult failed {self.error_type}: {self.error_message[:60]}>"


def _files(ptr):
    files = []
    size = ffi.new("size_t *")
    for i in range(lib.jobreg_run_result_file_count(ptr)):
        name = from_c(lib.jobreg_run_result_file_name(ptr, i))
        data = lib.jobreg_run_result_file_data(ptr, i, size)
        files.append((name, ffi.buffer(data, size[0])[:] if size[0] else b""))
    return files


def _report(exc, obj):
    sys.unraisablehook(types.SimpleNamespace(
        exc_type=type(exc), exc_value=exc, exc_traceback=exc.__traceback__,
        err_msg="Exception ignored in a jobreg log callback", object=obj))


@ffi.callback("void(int, const char *, const char *, const char *, void *)")
def _log(level, level_name, message, extra_json, payload):
    log = ffi.from_handle(payload)
    try:
        extra = json.loads(from_c(extra_json) or "{}")
        log(level, from_c(level_name), from_c(message), extra)
    except BaseException as exc:  # never into the job
        _report(exc, log)


def _message(exc):
    return str(exc) or type(exc).__name__


@ffi.callback("int(const char *, const unsigned char *, size_t, void *)")
def _file(name, data, size, payload):
    on_file = ffi.from_handle(payload)
    try:
        on_file(from_c(name), ffi.buffer(data, size)[:] if size else b"")
    except BaseException as exc:  # refuses the file: the job gets RuntimeError
        return lib.jobreg_storage_error_set(lib.JOBREG_ERROR, to_c(_message(exc)))
    return 0


@ffi.callback("int(jobreg_host_reply *, const char *, const char *, void *)")
def _host(reply, operation, args_json, payload):
    host = ffi.from_handle(payload)
    name = from_c(operation)
    try:
        args = json.loads(from_c(args_json))
        if isinstance(host, Mapping):
            try:
                fn = host[name]
            except KeyError:
                return lib.JOBREG_ENOTFOUND
            value = fn(args)
        else:
            try:
                value = host(name, args)
            except LookupError:
                return lib.JOBREG_ENOTFOUND
        text = json.dumps(value)
    except BaseException as exc:  # fails the operation: the job gets RuntimeError
        lib.jobreg_host_reply_set_error(reply, to_c(_message(exc)))
        return lib.JOBREG_ERROR
    return lib.jobreg_host_reply_set_json(reply, to_c(text))


class Cancel:
    """A cancel token (jobreg_cancel): give it to a run
    (``registry.run(ref, storage, cancel=token)``) and call ``cancel()``
    from any thread, or a signal handler, to stop that run: the run raises
    jobreg.Cancelled in its caller (before it starts, if the token is
    already cancelled). Once cancelled it stays cancelled: use one per run
    (several runs may share one, to be cancelled together).

    Close it (or use ``with``) when done; closing it while a run uses it
    frees it only when that run returns.
    """

    def __init__(self):
        out = ffi.new("jobreg_cancel **")
        check(lib.jobreg_cancel_new(out))
        self._ptr = ffi.gc(out[0], lib.jobreg_cancel_free)
        # Reentrant: a Python signal handler calling cancel() may interrupt
        # this thread while it holds the lock.
        self._lock = threading.RLock()
        self._runs = 0
        self._closing = False

    def _live(self):
        if self._ptr is None or self._closing:
            raise closed("cancel token")
        return self._ptr

    def cancel(self):
        """jobreg_cancel_request(): stop the runs given this token. Idempotent."""
        with self._lock:
            lib.jobreg_cancel_request(self._live())

    @property
    def cancelled(self):
        """Whether cancel() was called."""
        with self._lock:
            return bool(lib.jobreg_cancel_requested(self._live()))

    def _begin_run(self):
        """The token's pointer for one run; it stays alive until _end_run()."""
        with self._lock:
            ptr = self._live()
            self._runs += 1
            return ptr

    def _end_run(self):
        with self._lock:
            self._runs -= 1
            self._free_if_done()

    def _free_if_done(self):
        if self._closing and self._runs == 0 and self._ptr is not None:
            ptr, self._ptr = self._ptr, None
            ffi.release(ptr)

    def close(self):
        """jobreg_cancel_free(), now or, while runs use the token, when the last returns."""
        with self._lock:
            self._closing = True
            self._free_if_done()

    @property
    def closed(self):
        return self._closing

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        if self._closing:
            return "<jobreg.Cancel (closed)>"
        return f"<jobreg.Cancel cancelled={self.cancelled}>"


def _seconds(value, what):
    """A time limit in seconds: a finite number >= 0 (None: 0)."""
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number of seconds, not {type(value).__name__}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{what} must be a finite number of seconds >= 0, not {value!r}")
    return float(value)


class RunOptions:
    """A jobreg_run_options and what it points at, alive together; use it
    with ``with`` around the C call (it holds the run's cancel token)."""

    def __init__(self, data=None, log=None, context=None, on_file=None, host=None, *,
                 cancel=None, default_soft_time_limit=None, default_time_limit=None,
                 record_in=None, run_id=None, host_json=None):
        self.opts = ffi.new("jobreg_run_options *")
        check(lib.jobreg_run_options_init(self.opts, lib.JOBREG_RUN_OPTIONS_VERSION))
        self._keep = []
        self._cancel = None
        if data is not None:
            text = data if isinstance(data, (str, bytes)) else json.dumps(data)
            self.opts.data_json = self._cstr(text, "data")
        if log is not None:
            if not callable(log):
                raise TypeError(f"log must be callable, not {type(log).__name__}")
            self.opts.log = _log
            self.opts.log_payload = self._handle(log)
        if context is not None:
            if not isinstance(context, Mapping):
                raise TypeError(f"context must be a dict, not {type(context).__name__}")
            self.opts.context_json = self._cstr(json.dumps(dict(context)), "context")
        if on_file is not None:
            if not callable(on_file):
                raise TypeError(f"on_file must be callable, not {type(on_file).__name__}")
            self.opts.file = _file
            self.opts.file_payload = self._handle(on_file)
        if host is not None:
            if isinstance(host, Mapping):
                for name, fn in host.items():
                    if not isinstance(name, str) or not callable(fn):
                        raise TypeError("host must map operation names (str) to callables")
                host = dict(host)
            elif not callable(host):
                raise TypeError(f"host must be callable or a dict, not {type(host).__name__}")
            self.opts.host = _host
            self.opts.host_payload = self._handle(host)
        self.opts.default_soft_time_limit = _seconds(default_soft_time_limit,
                                                     "default_soft_time_limit")
        self.opts.default_time_limit = _seconds(default_time_limit, "default_time_limit")
        if record_in is not None:
            from ._storage import Storage  # here: _storage imports this module's users

            if not isinstance(record_in, Storage):
                raise TypeError(f"record_in must be a jobreg.Storage, "
                                f"not {type(record_in).__name__}")
            self.opts.run_storage = record_in._c
            self._keep.append(record_in)  # alive until the run returns
        if run_id is not None:
            if record_in is None:
                raise ValueError("run_id names the record of a recorded run: give record_in too")
            self.opts.run_id = self._cstr(run_id, "run_id")
        if host_json is not None:
            if record_in is None:
                raise ValueError("host_json is kept with the record of a recorded run: "
                                 "give record_in too")
            text = host_json if isinstance(host_json, (str, bytes)) else json.dumps(host_json)
            self.opts.host_json = self._cstr(text, "host_json")
        if cancel is not None:  # last: nothing may fail once the token is held
            if not isinstance(cancel, Cancel):
                raise TypeError(f"cancel must be a jobreg.Cancel, not {type(cancel).__name__}")
            self.opts.cancel = cancel._begin_run()
            self._cancel = cancel

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        cancel, self._cancel = self._cancel, None
        if cancel is not None:
            self.opts.cancel = ffi.NULL
            cancel._end_run()

    def _cstr(self, text, what):
        value = new_cstr(text, what)
        self._keep.append(value)
        return value

    def _handle(self, obj):
        handle = ffi.new_handle(obj)
        self._keep.append(handle)
        return handle
