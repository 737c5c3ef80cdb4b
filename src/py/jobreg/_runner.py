"""jobreg._runner: running one job (driven by src/run.c; SPEC 5).

``run(cls, data_json, log)`` returns ``("ok", result_json)`` or
``("failed", type, message, traceback)``, or raises ``jobreg.jobs.ValidationError``
(refused: bad input). ``log`` receives ``(levelno, levelname, message,
extra_json)`` for each ``self.logger`` record of the job, on this thread.
"""

from _thread import _local as _thread_local  # threading.local, without importing threading

from jobreg import jobs as _jobs

# json is imported where it is needed: the library runs this module at every
# start-up, and most processes (a sync) never run a job.
_local = _thread_local()


def _route(levelno, levelname, message, extra):
    """The author API's log sink: hands a record to the run on this thread."""
    log = getattr(_local, "log", None)
    if log is not None:
        import json

        log(levelno, levelname, message, json.dumps(extra, default=str, sort_keys=True))


_jobs._log_sink = _route

_HIDDEN_FRAMES = ("<jobreg>/",)


def _failure(exc):
    import traceback

    summary = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    summary.stack = traceback.StackSummary.from_list(
        [f for f in summary.stack if not f.filename.startswith(_HIDDEN_FRAMES)])
    if isinstance(exc, SystemExit):
        message = f"the job called sys.exit({exc.code!r})"
    else:
        message = str(exc) or repr(exc)
    return ("failed", type(exc).__name__, message, "".join(summary.format()))


def _parse(data_json):
    import json

    try:
        data = json.loads(data_json) if data_json else {}
    except ValueError as exc:
        raise _jobs.ValidationError({"(input)": f"not valid JSON: {exc}"}) from None
    if not isinstance(data, dict):
        raise _jobs.ValidationError({"(input)": "must be a JSON object of variable names to values"})
    return data


def run(cls, data_json, log):
    kwargs = _jobs._validate_input(cls, _parse(data_json))
    previous, _local.log = getattr(_local, "log", None), log
    try:
        try:
            result = cls().run(**kwargs)
        except BaseException as exc:  # SystemExit too: a job never takes the host down
            return _failure(exc)
        import json

        try:
            return ("ok", json.dumps(result, sort_keys=True))
        except (TypeError, ValueError) as exc:
            return ("failed", "TypeError",
                    f"the job returned a value that is not JSON-serialisable: {exc}", "")
    finally:
        _local.log = previous
