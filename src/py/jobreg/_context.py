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
  and hand to the host;
- ``clean_text()``: text as C takes it. Every string a run or a load hands
  to C (log lines and their extra, error types, messages and tracebacks)
  goes through it, so that odd text never costs a log line or a result: a
  lone surrogate becomes the six characters ``\\ud800`` (as
  ``backslashreplace`` writes it), a NUL the four characters ``\\x00``;
  valid text is handed over unchanged;
- ``guard``: what one module body or run may not change for the others
  (``jobreg.jobs.register_jobs`` and kin, the author API's ``sys.modules``
  entries, ``builtins.print``..., an alarm, a forked child going on), which
  the loader and the runner put around each body and run.

``get_task_logger``, ``get_celery_queues`` and ``enqueue_job_hooks`` are
names of the author API: job code imports them from ``jobreg.jobs``. The
library runs this module at every start-up: ``logging`` and ``json`` are
imported where they are needed.
"""

import builtins
import os
import sys
from _thread import _local as _thread_local
from _thread import allocate_lock
from operator import is_

from jobreg._variables import jsonable

try:  # _signal, not signal: that one imports enum at every start-up
    from _signal import ITIMER_REAL, SIGALRM, getitimer, getsignal, setitimer
    from _signal import signal as _set_signal
except ImportError:  # no interval timers here: nothing to watch
    getitimer = None

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
    """str(value), or ``<TypeName>`` when that fails (whatever it raises)."""
    try:
        return str(value)
    except BaseException:  # a hostile __str__ must not end a run or a load
        return f"<{type(value).__name__}>"


def clean_text(value):
    """``value`` (made text with text_of() if it is no str) as C can take it:
    valid UTF-8 without NUL. A lone surrogate becomes ``\\udXXX`` and a NUL
    ``\\x00`` (escaped as text, visible to whoever reads the line)."""
    if type(value) is not str:
        value = text_of(value)
    # The methods of str itself: a str subclass cannot override them here.
    if str.isascii(value):
        return str.replace(value, "\x00", "\\x00") if str.__contains__(value, "\x00") else value
    data = str.encode(value, "utf-8", "backslashreplace")
    if b"\x00" in data:
        data = data.replace(b"\x00", b"\\x00")
    return data.decode("utf-8")


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


# --------------------------------------------------------------------------
# What one module body (or run) may not change for the others
#
# The loader (jobreg._loader) puts every module body between guard.enter()
# and guard.leave(), the runner every run; what they do about a change is
# in their docstrings.

class TamperError(RuntimeError):
    """A module body or a run changed what the library gives every module."""


# The author API's modules, and the names (of jobreg.jobs, jobreg.apps and
# the compatibility modules) that job code imports from them.
_GUARDED_MODULES = ("jobreg", "jobreg.jobs", "jobreg.apps", "jobreg._variables", "jobreg._meta",
                    "jobreg._context", "jobreg._compat", "jobreg._loader", "jobreg._runner",
                    "jobreg._watchdog", "jobreg._worker")


# How many times this process was forked (counted in the child): a body or
# run that forked tells by the count, without a system call (os.getpid())
# per module body. Every fork that goes on running Python counts: os.fork()
# and the library's own (src/isolate.c) run the at-fork handlers.
_forks = [0]


def _count_fork():
    _forks[0] += 1


os.register_at_fork(after_in_child=_count_fork)


def fork_mark():
    """A mark that changes in a child process forked after it was taken."""
    return _forks[0]


class _Guard:
    """The shared objects as they were, checked by identity and put back.

    Made at the first module body or run (after start-up installed the
    compatibility modules): what is there then is the library's. The check
    is one pass of C over flat tuples (``all(map(is_, map(dict.get, ...)))``):
    a few microseconds per module body.
    """

    def __init__(self):
        self._jobs = None  # jobreg.jobs (which imports this module), from _build()
        self._spaces = None  # the watched (namespace dict, key, original, label) as 4 tuples
        self._local = _thread_local()  # .bodies: the module bodies running on this thread

    def _build(self):
        modules = sys.modules
        watched = {}  # (id(namespace), key) -> (namespace, key, original, label)

        def watch(namespace, key, label):
            if key in namespace:
                watched.setdefault((id(namespace), key), (namespace, key, namespace[key], label))

        for name in _GUARDED_MODULES:
            watch(modules, name, f"sys.modules[{name!r}]")
        from jobreg import _compat, apps
        from jobreg import jobs as _jobs

        self._jobs = _jobs
        compat = {name: module for name, module in _compat._installed}
        for name, module in compat.items():
            if modules.get(name) is module:
                watch(modules, name, f"sys.modules[{name!r}]")
        # The names job code imports, and each package's attribute of a
        # sub-module (``from jobreg import jobs`` reads the attribute).
        shared = {id(m) for m in compat.values()} | {id(_jobs), id(apps)}
        for key in set(_jobs.__all__) | set(_jobs.NAUTOBOT_APPS_JOBS) | \
                set(_jobs.NAUTOBOT_SCRIPTS) | {"Report"}:
            if key in vars(_jobs):
                watch(vars(_jobs), key, "jobreg.jobs." + key)
                shared.add(id(vars(_jobs)[key]))
        for key, value in vars(apps).items():
            if not key.startswith("_"):
                watch(vars(apps), key, "jobreg.apps." + key)
                shared.add(id(value))
        for name, module in list(compat.items()) + [("jobreg", modules.get("jobreg"))]:
            if module is None:
                continue
            for key, value in vars(module).items():
                if not key.startswith("_") and id(value) in shared:
                    watch(vars(module), key, f"{name}.{key}")
        watch(vars(sys), "modules", "sys.modules")
        for key in ("__import__", "print", "open"):
            watch(vars(builtins), key, "builtins." + key)
        entries = sorted(watched.values(), key=lambda entry: entry[3])
        self._spaces = tuple(tuple(entry[i] for entry in entries) for i in range(4))

    def _restore(self):
        """Put back what changed; a list of what that was ("replaced X")."""
        if self._spaces is None:
            self._build()
            return []
        namespaces, keys, originals, labels = self._spaces
        if all(map(is_, map(dict.get, namespaces, keys), originals)):
            return []
        changes = []
        for namespace, key, original, label in zip(namespaces, keys, originals, labels):
            if namespace.get(key) is not original:
                changes.append(("replaced " if key in namespace else "deleted ") + label)
                namespace[key] = original
        return changes

    def observe(self):
        """Read the alarm timer again at the next enter() on this thread (a
        load or run starts: the host may have set one since)."""
        self._local.timer = None

    def enter(self, name, registrar=False):
        """Before the body of module ``name`` (or a run): the state to compare
        with at leave(). A change found here was made by the body running
        around this one, which is told at its own leave()."""
        local = self._local
        bodies = local.__dict__.setdefault("bodies", [])
        if bodies or self._spaces is None:
            changes = self._restore()
            if changes and bodies:
                bodies[-1][1].extend(changes)
        # The timer as the last leave() on this thread left it (nothing else
        # on this thread ran since): one system call per body, not two. In a
        # body, that body may have set one since: read it.
        timer = None if bodies else local.__dict__.get("timer")
        if timer is None and getitimer is not None:
            timer = getitimer(ITIMER_REAL)
        state = (name, [], _forks[0], timer, getsignal(SIGALRM) if getitimer else None,
                 self._jobs._registrar if registrar else None)
        bodies.append(state)
        return state

    def leave(self, state):
        """After the body: ends a forked child at once (``os._exit(0)``); puts
        back what the body changed and returns what that was, for a
        TamperError ([] when nothing)."""
        name, changes, forks, timer, before, registrar = state
        if _forks[0] != forks:
            os._exit(0)  # a child forked by job code never goes on with the parent's work
        bodies = self._local.bodies
        if bodies and bodies[-1] is state:
            bodies.pop()
        changes.extend(self._restore())
        if registrar is not None and self._jobs._registrar is not registrar:
            self._jobs._registrar = registrar
            changes.append("replaced jobreg.jobs._registrar (where register_jobs hands classes)")
        if getitimer is not None:
            now = getitimer(ITIMER_REAL)
            if now != timer and (now[1] != timer[1] or now[0] > timer[0]):
                setitimer(ITIMER_REAL, *timer)
                changes.append("left an alarm running (signal.alarm or setitimer(ITIMER_REAL))")
                now = timer
            self._local.timer = now
            handler = getsignal(SIGALRM)
            if handler is not before and before is not None:
                try:
                    _set_signal(SIGALRM, before)
                    changes.append("installed a SIGALRM handler")
                except (ValueError, TypeError):  # not the main thread, so not this body's doing
                    pass
        return changes


def describe_changes(changes, who, fixer):
    """"replaced X; the loader put it back": one message for a TamperError."""
    undo = "put it back" if len(changes) == 1 else "put them back"
    return f"{who}{'; '.join(changes)}; {fixer} {undo}"


guard = _Guard()
