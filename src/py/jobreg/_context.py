"""jobreg._context (the author API): what a job sees of the run it is in.

``Job`` (``jobreg.jobs``, the façade) reaches its run through this module:

- its log: ``self.logger`` and ``get_task_logger()`` are ``logging`` loggers
  whose records go to ``log_sink``, which the runner (``jobreg._runner``)
  sets, and to the root logger when no run on the thread takes them;
- the run on this thread (``current_run()``, replaced by the runner), and
  through it the host's operations (``host()``: ``get_celery_queues``,
  ``enqueue_job_hooks``, ``get_object``...);
- what the host hands over (job result, user, job model, objects) as
  read-only ``_Record`` objects, and the JSON encoding of what jobs return
  and hand to the host.

``get_task_logger``, ``get_celery_queues`` and ``enqueue_job_hooks`` are
names of the author API: job code imports them from ``jobreg.jobs``. The
library runs this module at every start-up: ``logging`` and ``json`` are
imported where they are needed.
"""

from _thread import allocate_lock

from jobreg._variables import jsonable

# --------------------------------------------------------------------------
# Logging: self.logger records go to the host through log_sink

# The runner sets this: log_sink(levelno, levelname, message, extra_dict)
# returns False when no run on this thread took the record.
log_sink = None
_LOGGER_PREFIX = "jobreg.job"
# Nautobot's two extra levels: SUCCESS between INFO and WARNING, FAILURE
# between WARNING and ERROR (logger.success(), logger.failure()).
SUCCESS = 25
FAILURE = 35
_standard_record_keys = None
_handler_lock = allocate_lock()
_loggers = {}
# Marks the handler of this execution of the module: one left by an earlier
# execution (a library restarted in a living interpreter) reads a stale sink.
_handler_token = object()


def _extra_of(record):
    """The ``extra=`` items of a record, as JSON-friendly values."""
    global _standard_record_keys
    if _standard_record_keys is None:
        import logging

        blank = logging.LogRecord("", 0, "", 0, "", (), None)
        _standard_record_keys = frozenset(vars(blank)) | {"message", "asctime"}
    extra = {}
    for key, value in vars(record).items():
        if key in _standard_record_keys:
            continue
        if value is None or isinstance(value, (str, int, float, bool)):
            extra[key] = value
        else:
            extra[key] = text_of(value)
    return extra


def text_of(value):
    try:
        return str(value)
    except Exception:
        return f"<{type(value).__name__}>"


def _sink_logger():
    """The one logger holding the sink handler; every job logger is its child.

    It never propagates: with a run on the thread, records reach the host
    once and never the root logger too; with none, the handler passes them
    to the root logger itself, so imported job code logs as usual.
    """
    import logging

    parent = logging.getLogger(_LOGGER_PREFIX)
    if not any(getattr(h, "_jobreg_token", None) is _handler_token for h in parent.handlers):
        with _handler_lock:
            ours = [h for h in parent.handlers if hasattr(h, "_jobreg_token")]
            if not any(h._jobreg_token is _handler_token for h in ours):
                for stale in ours:
                    parent.removeHandler(stale)
                for level, name in ((SUCCESS, "SUCCESS"), (FAILURE, "FAILURE")):
                    if logging.getLevelName(level) == f"Level {level}":
                        logging.addLevelName(level, name)
                parent.addHandler(_make_sink_handler(logging))
                parent.setLevel(logging.DEBUG)
                parent.propagate = False
    return parent


def _logger(name):
    """A job logger called ``name``: a ``logging.Logger`` with ``success()`` and
    ``failure()``, made here rather than by ``logging.getLogger`` so that the
    host's ``logging.Logger`` class is never patched."""
    parent = _sink_logger()  # also takes the handler back from a stale execution
    logger = _loggers.get(name)
    if logger is None:
        with _handler_lock:
            logger = _loggers.get(name)
            if logger is None:
                logger = _make_job_logger_class(type(parent))(name)
                logger.parent = parent
                _loggers[name] = logger
    return logger


_job_logger_class = None


def _make_job_logger_class(base):
    global _job_logger_class
    if _job_logger_class is None:
        class JobLogger(base):
            """A job's logger: records reach the host's log callback during a run."""

            def success(self, msg, *args, **kwargs):
                if self.isEnabledFor(SUCCESS):
                    kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1
                    self._log(SUCCESS, msg, args, **kwargs)

            def failure(self, msg, *args, **kwargs):
                if self.isEnabledFor(FAILURE):
                    kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1
                    self._log(FAILURE, msg, args, **kwargs)

        _job_logger_class = JobLogger
    return _job_logger_class


def job_logger(cls):
    """The logger of a job class."""
    return _logger(f"{_LOGGER_PREFIX}.{cls.__module__}.{cls.__qualname__}")


def get_task_logger(name):
    """Nautobot's (Celery's) module-level job logger: ``logger = get_task_logger(__name__)``.

    Its records reach the log of the run on the calling thread, like
    ``self.logger``'s; outside a run they go to the root logger.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"get_task_logger: name must be a non-empty str, not {name!r:.80}")
    return _logger(f"{_LOGGER_PREFIX}.{name}")


def _make_sink_handler(logging):
    class SinkHandler(logging.Handler):
        _jobreg_token = _handler_token

        def emit(self, record):
            sink = log_sink
            try:
                if sink is not None and sink(record.levelno, record.levelname, record.getMessage(),
                                             _extra_of(record)) is not False:
                    return
            except Exception:
                self.handleError(record)
                return
            root = logging.getLogger()
            if record.levelno >= root.getEffectiveLevel():
                root.handle(record)

    return SinkHandler()


# --------------------------------------------------------------------------
# The run on this thread, and the host's operations

# The runner sets this: current_run() -> the run on this thread, or None.
def current_run():
    return None


def host(operation, args, needed_by):
    """What the host's ``operation`` returns for ``args`` (JSON data), in a run.

    RuntimeError, naming ``needed_by``, outside a run or when the host gave
    the run no host operations; LookupError when it does not provide this one.
    """
    run = current_run()
    if run is None or run.host_call is None:
        raise RuntimeError(f"{needed_by} needs the host application, which gave "
                           f"{'this run' if run is not None else 'no run on this thread'} "
                           f"no host operations (operation {operation!r})")
    return run.call_host(operation, args)


def enqueue_job_hooks(object_change, may_reload_jobs=True, jobhook_queryset=None):
    """Hand an object change to the host's ``enqueue_job_hooks`` operation
    (which decides which job hooks run); returns ``(reloaded, hooks)`` as
    Nautobot does, from the host's reply."""
    reply = host("enqueue_job_hooks", {"object_change": object_change,
                                       "may_reload_jobs": bool(may_reload_jobs)},
                 "enqueue_job_hooks()")
    if isinstance(reply, (list, tuple)) and len(reply) == 2:
        return bool(reply[0]), reply[1]
    return False, reply


def get_celery_queues():
    """``{queue name: worker count}`` from the host's ``get_celery_queues`` operation."""
    reply = host("get_celery_queues", {}, "get_celery_queues()")
    if not isinstance(reply, dict):
        raise TypeError(f"get_celery_queues: the host answered {type(reply).__name__}, "
                        "not an object of queue names to worker counts")
    return reply


# --------------------------------------------------------------------------
# What the host hands a job: JSON objects as read-only records

class _Record:
    """Read-only attribute access to a JSON object the host handed over
    (``obj.name`` and ``obj["name"]``); nested objects are records too.

    (Not the binding's ``jobreg.Record``, a job record of the C API: this
    one is what a running job sees of a JSON object. Its name shows in its
    repr, so it keeps the one it always had.)"""

    __slots__ = ("_data",)

    def __init__(self, data):
        object.__setattr__(self, "_data", dict(data))

    def __getattr__(self, name):
        try:
            return as_record(self._data[name])
        except KeyError:
            raise AttributeError(f"{name!r} is not in this object "
                                 f"(it has: {', '.join(sorted(self._data)) or 'nothing'})") from None

    def __getitem__(self, name):
        return as_record(self._data[name])

    def get(self, name, default=None):
        return as_record(self._data.get(name, default))

    def __contains__(self, name):
        return name in self._data

    def __eq__(self, other):
        return isinstance(other, _Record) and other._data == self._data

    __hash__ = None

    def __setattr__(self, name, value):
        raise AttributeError("objects the host hands a job are read-only")

    def __str__(self):
        for key in ("display", "name", "username", "pk", "id"):
            if key in self._data:
                return str(self._data[key])
        return repr(self)

    def __repr__(self):
        return f"<{type(self).__name__} {self._data!r:.200}>"


def as_record(value):
    return _Record(value) if isinstance(value, dict) else value


def host_object(model, pk, needed_by):
    """The object ``pk`` of ``model`` as the host's get_object operation
    gives it; without that operation, a reference holding model and pk."""
    try:
        found = host("get_object", {"model": model, "pk": pk}, needed_by)
    except (RuntimeError, LookupError):
        return _Record({"pk": pk, "id": pk, "model": model})
    return as_record(found)


# --------------------------------------------------------------------------
# JSON of what jobs hand around

def make_kombu_encoder():
    import json

    class NautobotKombuJSONEncoder(json.JSONEncoder):
        """JSON for what jobs hand around: dates and times (ISO 8601), UUIDs,
        decimals, IP objects, sets, exceptions, and model-like objects (as
        ``{"id", "__nautobot_type__", "display"}``)."""

        def default(self, obj):
            return json_default(obj)

    return NautobotKombuJSONEncoder


def json_default(obj):
    """What the JSON encoder of runs gives an object json cannot hold, as
    Nautobot's Kombu/DRF encoders do; TypeError for anything else."""
    kind = type(obj)
    module = kind.__module__
    if module == "datetime":
        if kind.__name__ == "timedelta":
            return str(obj.total_seconds())
        return obj.isoformat()
    if module in ("uuid", "ipaddress", "zoneinfo") or kind.__name__ == "IPAddress":
        return str(obj)
    if module == "decimal":
        return float(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "backslashreplace")
    if isinstance(obj, BaseException):
        return f"{kind.__name__}: {obj}"
    if isinstance(obj, _Record):
        return obj._data
    if hasattr(obj, "_meta") and hasattr(obj, "pk"):
        return {"id": jsonable(getattr(obj, "id", obj.pk)),
                "__nautobot_type__": f"{module}.{kind.__qualname__}",
                "display": text_of(getattr(obj, "display", None) or obj)}
    raise TypeError(f"Object of type {kind.__name__} is not JSON serializable")
