"""Running a job (include/jobreg/run.h): RunResult and the log callback.

``log(level, level_name, message, extra)`` receives every ``self.logger``
record of the running job as it happens, on the running thread (``extra``:
a dict of the ``extra=`` values). It cannot raise into the job: an
exception in it is reported through ``sys.unraisablehook`` and the run goes
on. To send the records to Python's logging::

    registry.run(ref, storage, log=lambda lvl, _, msg, extra: logger.log(lvl, msg))
"""

import json
import sys
import types

from ._errors import JobFailed, check
from ._ffi import ffi, from_c, lib, new_cstr, take_string

SUCCESS, FAILED = "success", "failed"


class RunResult:
    """What a run produced: ``status`` ("success"/"failed"), ``result`` (the
    decoded value run() returned; None for a failed run), ``result_json``, and
    for a failed run ``error_type``, ``error_message``, ``traceback``."""

    __slots__ = ("status", "result_json", "error_type", "error_message", "traceback", "_json")

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


class RunOptions:
    """A jobreg_run_options and what it points at, alive together."""

    def __init__(self, data=None, log=None):
        self.opts = ffi.new("jobreg_run_options *")
        check(lib.jobreg_run_options_init(self.opts, lib.JOBREG_RUN_OPTIONS_VERSION))
        if data is not None:
            text = data if isinstance(data, (str, bytes)) else json.dumps(data)
            self._data = new_cstr(text, "data")
            self.opts.data_json = self._data
        if log is not None:
            if not callable(log):
                raise TypeError(f"log must be callable, not {type(log).__name__}")
            self._handle = ffi.new_handle(log)
            self.opts.log = _log
            self.opts.log_payload = self._handle
