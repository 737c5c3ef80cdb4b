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

Whatever the job does, a run that starts ends with an outcome (issue 14):

- Every string handed to C is ``jobreg._context.clean_text()``'d: a lone
  surrogate in a log line, its extra, an exception's type, message or
  traceback arrives as the text ``\\ud800``, a NUL as ``\\x00``. A
  float in a log line's extra that JSON cannot hold (NaN, Infinity) arrives
  as its repr (``"nan"``).
- A result JSON cannot hold is a failed run that says why: "the result
  holds NaN" (or Infinity, -Infinity), "the result is nested deeper than N
  levels", or the encoder's TypeError. A lone surrogate inside a result's
  string is written as the JSON escape ``\\ud800`` (the result JSON is
  ASCII).
- Input: ``data_json`` None is ``{}``; an empty string is refused (it is no
  JSON object), as is input nested too deep to read.
- An exception that escapes the hooks or the runner's own work after the
  job started (a ``__str__`` that raises, say) is the run's failure.
- A job that forked: the child process ends (``os._exit(0)``) when it comes
  back to the runner; it never returns into the host's code.
- A job that changed what the library gives every module
  (``jobreg._context.guard``: ``jobreg.jobs.register_jobs`` and kin,
  ``sys.modules`` entries, ``builtins.print``, an ``ITIMER_REAL`` alarm or a
  SIGALRM handler) finds it put back after its run, and the run failed
  (``TamperError``), keeping its result.
"""

from _thread import _local as _thread_local  # threading.local, without importing threading

from jobreg import _context, _meta
from jobreg._context import describe_changes, guard
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

            clean = _context.clean_text
            self._log(levelno, clean(levelname), clean(message),
                      json.dumps(_clean_extra(extra), sort_keys=True, ensure_ascii=False,
                                 allow_nan=False))

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


def _clean_extra(extra):
    """A log record's extra as JSON can hold it and C can take it: str keys
    and values clean_text()'d, floats JSON has no number for as their repr,
    anything else (already made text by the author API) as clean text."""
    clean = _context.clean_text
    result = {}
    for key, value in extra.items():
        if value is None or value is True or value is False:
            pass
        elif isinstance(value, int):
            value = int(value)
        elif isinstance(value, float):
            value = float(value)
            if value - value != 0:  # NaN, Infinity, -Infinity
                value = repr(value)
        else:
            value = clean(value)
        result[clean(key)] = value
    return result


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
    """The failed outcome of ``exc``; never raises, whatever ``exc`` does."""
    text_of = _context.text_of
    try:
        if isinstance(exc, SystemExit):
            message = f"the job called sys.exit({_repr(exc.code)})"
        else:
            message = text_of(exc) or _repr(exc)
    except BaseException:  # a hostile exception's attributes
        message = _repr(exc)
    try:
        traceback = _format(exc)
    except BaseException:  # the traceback module calls str() too, catching less
        traceback = ""
    return ("failed", text_of(type(exc).__name__), message, traceback, "null")


def _repr(value):
    try:
        return repr(value)
    except BaseException:
        return f"<{type(value).__name__}>"


def _clean_outcome(outcome):
    """The outcome with every str clean_text()'d (``"ok"``/``"failed"`` and the
    result JSON, which json.dumps wrote in ASCII, stay as they are)."""
    clean = _context.clean_text
    return (outcome[0],) + tuple(clean(item) for item in outcome[1:])


def _not_finite(value):
    """"NaN", "Infinity" or "-Infinity": the first float in ``value`` (dicts,
    lists, tuples; walked without recursion, each container once) that JSON
    has no number for."""
    stack, seen = [value], set()
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            if item != item:
                return "NaN"
            if item - item != 0:
                return "Infinity" if item > 0 else "-Infinity"
        elif isinstance(item, (dict, list, tuple)) and id(item) not in seen:
            seen.add(id(item))
            stack.extend(reversed(list(item.values() if isinstance(item, dict) else item)))
    return None


def _result_json(result):
    """``("ok", json)`` or a failed outcome when the value is no JSON."""
    import json

    try:
        return ("ok", json.dumps(result, sort_keys=True, allow_nan=False,
                                 default=_context.json_default))
    except RecursionError:
        import sys

        why = f"the result is nested deeper than {sys.getrecursionlimit()} levels"
        kind = "RecursionError"
    except (TypeError, ValueError) as exc:
        kind = type(exc).__name__
        why = None
        if kind == "ValueError" and "Out of range float" in str(exc):
            try:
                found = _not_finite(result)
            except BaseException:  # a container that cannot be walked: say what json said
                found = None
            why = f"the result holds {found}" if found else "the result holds NaN or Infinity"
        if why is None:
            why = _context.text_of(exc)
    except BaseException as exc:  # a default() or __iter__ of the job's own that raised
        return _failure(exc)
    return ("failed", kind, f"the job returned a value that is not JSON-serialisable: {why}", "",
            "null")


def _failed_by_job(job, outcome):
    """The job called fail() (or 1.x log_failure()): a failed run that keeps its result."""
    message = job.__dict__.get("_fail_message") or "the job reported a failure"
    result = outcome[1] if outcome[0] == "ok" else "null"
    return ("failed", "JobFailed", message, "", result)


def _parse(data_json):
    if data_json is None:
        return {}
    if not data_json:
        raise ValidationError({"(input)": "data_json is empty: give a JSON object, e.g. {}"})
    import json

    try:
        data = json.loads(data_json)
    except ValueError as exc:
        raise ValidationError({"(input)": f"not valid JSON: {exc}"}) from None
    except RecursionError:
        import sys

        raise ValidationError({"(input)": "the JSON is nested deeper than "
                                          f"{sys.getrecursionlimit()} levels"}) from None
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


def _validate(cls, data_json):
    try:
        return _meta.validate_input(cls, _parse(data_json))
    except RecursionError:  # input values nested too deep for a variable's checks
        import sys

        raise ValidationError({"(input)": "a value is nested deeper than "
                                          f"{sys.getrecursionlimit()} levels"}) from None


def _live(cls, job, run, kwargs):
    """The job's life; whatever escapes it is the run's failure."""
    try:
        if _meta.is_1x(cls):
            return _run_1x(job, kwargs)
        return _run_current(job, run.task_id, kwargs)
    except BaseException as exc:
        return _failure(exc)


def _tampered(outcome, message):
    """The run failed for changing what every module shares; its result stays."""
    if outcome[0] == "failed":
        message = f"{outcome[2]}; and {message}"
    result = outcome[1] if outcome[0] == "ok" else outcome[4]
    return ("failed", "TamperError", message, "", result)


def run(cls, data_json, log, context_json=None, record_json=None, add_file=None, host_call=None):
    kwargs = _validate(cls, data_json)
    context = _parse_context(context_json)
    _route_print()
    previous = getattr(_local, "run", None)
    run = _local.run = _Run(cls, log, context, record_json, add_file, host_call)
    guard.observe()
    state = guard.enter("run")
    try:
        try:
            job = cls()
        except BaseException as exc:
            outcome = _failure(exc)
        else:
            outcome = _live(cls, job, run, kwargs)
    finally:
        # A forked child ends here (os._exit), before any line below.
        changes = guard.leave(state)
        try:
            _flush_print(run)
        finally:
            _local.run = previous
    if changes:
        outcome = _tampered(outcome, describe_changes(changes, "the job ", "the runner"))
    return _clean_outcome(outcome)
