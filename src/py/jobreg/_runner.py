"""jobreg._runner (the author API): running one job (driven by src/run.c; SPEC 5 and 2.1).

Not the binding's ``jobreg._run`` (bindings/python/jobreg), which is the
host's side of a run: ``jobreg_run()`` over cffi.

``run(cls, data_json, log, context_json, record_json, add_file, host_call)``
returns ``("ok", result_json)`` or ``("failed", type, message, traceback,
result_json)``, or raises ``jobreg.jobs.ValidationError`` (refused: bad
input). The callables come from C:

- ``log(levelno, levelname, message, extra_json)``: a ``self.logger`` record
  (and each line the job prints) of this run, on this thread;
- ``add_file(name, content_bytes)``: a file the job created; raises when the
  host refuses it;
- ``host_call(operation, args_json) -> reply_json``, or None when the host
  gave the run no host operations; raises LookupError for an operation the
  host does not provide.

The job's life follows Nautobot's run_job: ``before_start``, ``run`` (unless
``before_start`` called ``fail()``), then ``on_success`` or ``on_failure``,
then ``after_return``. A 1.x job (SPEC 2, opt-in) gets ``run(data, commit)``,
its ``test_*`` methods and ``post_run()``, as Nautobot 1.x ran them.
"""

from _thread import _local as _thread_local  # threading.local, without importing threading

from jobreg import _context, _meta
from jobreg._variables import ValidationError

# json, uuid, traceback are imported where needed: the library runs this
# module at every start-up, and most processes (a sync) never run a job.
_local = _thread_local()

# Nautobot's JOB_CREATE_FILE_MAX_SIZE default.
CREATE_FILE_MAX_SIZE = 10 << 20
_HIDDEN_FRAMES = ("<jobreg>/",)


def _current_run():
    return getattr(_local, "run", None)


def _route(levelno, levelname, message, extra):
    """The author API's log sink: hands a record to the run on this thread."""
    run = getattr(_local, "run", None)
    if run is None:
        return False
    run.log_record(levelno, levelname, message, extra)
    return True


_context.log_sink = _route
_context.current_run = _current_run


class _Run:
    """One run on one thread: what the job may ask of it."""

    def __init__(self, cls, log, context, record_json, add_file, host_call):
        self._log = log
        self._add_file = add_file
        self.host_call = host_call
        self._record_json = record_json
        self._context = context
        self._job_model = None
        self.files = 0
        job_result = context.get("job_result")
        if not isinstance(job_result, dict):
            job_result = {}
        self.task_id = str(context.get("task_id") or job_result.get("id") or "")
        if not self.task_id:
            import uuid

            self.task_id = str(uuid.uuid4())
        job_result = dict(job_result)
        job_result.setdefault("id", self.task_id)
        if "user" in context:
            job_result.setdefault("user", context["user"])
        self.job_result = _context._Record(job_result)
        self.user = _context.as_record(context.get("user", job_result.get("user")))
        self.request = _context._Record({"id": self.task_id, "user": context.get("user")})

    @property
    def job_model(self):
        if self._job_model is None:
            import json

            model = self._context.get("job_model")
            if not isinstance(model, dict):
                model = json.loads(self._record_json) if self._record_json else {}
            self._job_model = _context._Record(model)
        return self._job_model

    def log_record(self, levelno, levelname, message, extra):
        if self._log is not None:
            import json

            self._log(levelno, levelname, message,
                      json.dumps(extra, default=str, sort_keys=True, ensure_ascii=False))

    def call_host(self, operation, args):
        import json

        reply = self.host_call(operation, json.dumps(args, default=_context.json_default,
                                                     sort_keys=True))
        return json.loads(reply) if reply else None

    def create_file(self, logger, filename, content):
        if not isinstance(filename, str) or not filename:
            raise TypeError(f"create_file: filename must be a non-empty str, not {filename!r:.80}")
        if isinstance(content, str):
            content = content.encode("utf-8")
        elif isinstance(content, (bytearray, memoryview)):
            content = bytes(content)
        elif not isinstance(content, bytes):
            raise TypeError(f"create_file: content must be str or bytes, not {type(content).__name__}")
        if len(content) > CREATE_FILE_MAX_SIZE:
            raise ValueError(f"create_file: {len(content)} bytes of content for {filename!r}, "
                             f"over the limit of {CREATE_FILE_MAX_SIZE} bytes")
        if self._add_file is None:
            raise RuntimeError("create_file: this run cannot take files")
        self._add_file(filename, content)
        self.files += 1
        logger.info("Created file %s (%d bytes)", filename, len(content),
                    extra={"grouping": "create_file", "file": filename})
        return _context._Record({"name": filename, "size": len(content)})


# --------------------------------------------------------------------------
# print() inside a run goes to its log

class _PrintRouter:
    """Stands in for sys.stdout: a thread that runs a job writes lines into
    its run's log; any other thread writes to the stream it replaced."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        run = getattr(_local, "run", None)
        if run is None:
            return self._stream.write(text) if self._stream is not None else len(text)
        pending = getattr(_local, "printed", "") + text
        *lines, _local.printed = pending.split("\n")
        for line in lines:
            run.log_record(20, "INFO", line, {"grouping": "print"})
        return len(text)

    def flush(self):
        if getattr(_local, "run", None) is None and self._stream is not None:
            self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _route_print():
    import sys

    if not isinstance(sys.stdout, _PrintRouter):
        sys.stdout = _PrintRouter(sys.stdout)


def _flush_print(run):
    rest = getattr(_local, "printed", "")
    _local.printed = ""
    if rest:
        run.log_record(20, "INFO", rest, {"grouping": "print"})


# --------------------------------------------------------------------------
# Outcomes

class _ExceptionInfo:
    """What ``on_failure``/``after_return`` get as ``einfo`` (billiard's names)."""

    def __init__(self, exc):
        self.exception = exc
        self.type = type(exc)
        self.tb = exc.__traceback__
        self.traceback = _format(exc)

    def __str__(self):
        return self.traceback


def _format(exc):
    import traceback

    summary = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    summary.stack = traceback.StackSummary.from_list(
        [f for f in summary.stack if not f.filename.startswith(_HIDDEN_FRAMES)])
    return "".join(summary.format())


def _failure(exc):
    if isinstance(exc, SystemExit):
        message = f"the job called sys.exit({exc.code!r})"
    else:
        message = _context.text_of(exc) or repr(exc)
    return ("failed", type(exc).__name__, message, _format(exc), "null")


def _result_json(result):
    """``("ok", json)`` or a failed outcome when the value is no JSON."""
    import json

    try:
        return ("ok", json.dumps(result, sort_keys=True, allow_nan=False,
                                 default=_context.json_default))
    except (TypeError, ValueError, RecursionError) as exc:
        return ("failed", type(exc).__name__,
                f"the job returned a value that is not JSON-serialisable: {exc}", "", "null")


def _failed_by_job(job, outcome):
    """The job called fail() (or 1.x log_failure()): a failed run that keeps its result."""
    message = job.__dict__.get("_fail_message") or "the job reported a failure"
    result = outcome[1] if outcome[0] == "ok" else "null"
    return ("failed", "JobFailed", message, "", result)


def _parse(data_json):
    import json

    try:
        data = json.loads(data_json) if data_json else {}
    except ValueError as exc:
        raise ValidationError({"(input)": f"not valid JSON: {exc}"}) from None
    if not isinstance(data, dict):
        raise ValidationError({"(input)": "must be a JSON object of variable names to values"})
    return data


def _parse_context(context_json):
    if not context_json:
        return {}
    import json

    context = json.loads(context_json)
    if not isinstance(context, dict):
        raise ValidationError({"(context)": "must be a JSON object"})
    return context


# --------------------------------------------------------------------------
# The job's life

def _run_current(job, task_id, kwargs):
    """Nautobot 2.x/3.x run_job: the hooks around run()."""
    args = ()
    try:
        early = job.before_start(task_id, args, kwargs)
        result = early if job.failed else job.run(**kwargs)
        if job.failed:
            job.on_failure(result, task_id, args, kwargs, None)
            job.after_return("FAILURE", result, task_id, args, kwargs, None)
            return _failed_by_job(job, _result_json(result))
        job.on_success(result, task_id, args, kwargs)
        job.after_return("SUCCESS", result, task_id, args, kwargs, None)
    except BaseException as exc:  # SystemExit too: a job never takes the host down
        outcome = _failure(exc)
        try:
            einfo = _ExceptionInfo(exc)
            job.on_failure(exc, task_id, args, kwargs, einfo)
            job.after_return("FAILURE", exc, task_id, args, kwargs, einfo)
        except BaseException as hook_exc:
            job.logger.error("a failure hook raised %s: %s", type(hook_exc).__name__, hook_exc)
        return outcome
    return _result_json(result)


def _run_1x(job, kwargs):
    """Nautobot 1.x run_job: run(data, commit), the test_* methods, post_run()."""
    commit = kwargs.pop("commit", False)
    outputs = []
    outcome = None
    try:
        job.active_test = "run"
        outputs.append(job.run(data=kwargs, commit=commit))
        for name in sorted(n for n in dir(job) if n.startswith("test_") and callable(getattr(job, n))):
            job.active_test = name
            outputs.append(getattr(job, name)())
    except BaseException as exc:
        outcome = _failure(exc)
        job.log_failure(message=f"An exception occurred: {type(exc).__name__}: {exc}")
    job.active_test = "post_run"
    try:
        outputs.append(job.post_run())
    except BaseException as exc:
        outcome = outcome or _failure(exc)
        job.log_failure(message=f"An exception occurred during post_run(): "
                                f"{type(exc).__name__}: {exc}")
    output = "\n".join(str(o) for o in outputs if o)
    if outcome is not None:
        return outcome[:4] + (_result_json(output)[1],)
    if job.failed:
        return _failed_by_job(job, _result_json(output))
    return _result_json(output)


def run(cls, data_json, log, context_json=None, record_json=None, add_file=None, host_call=None):
    kwargs = _meta.validate_input(cls, _parse(data_json))
    context = _parse_context(context_json)
    _route_print()
    previous = getattr(_local, "run", None)
    run = _local.run = _Run(cls, log, context, record_json, add_file, host_call)
    try:
        try:
            job = cls()
        except BaseException as exc:
            return _failure(exc)
        if _meta.is_1x(cls):
            return _run_1x(job, kwargs)
        return _run_current(job, run.task_id, kwargs)
    finally:
        _flush_print(run)
        _local.run = previous
