"""jobreg.jobs: what job authors import (SPEC 2).

    from jobreg.jobs import Job, register_jobs, StringVar

With Nautobot compatibility on, ``nautobot.apps.jobs`` holds these very
objects. The C library runs this text at every start-up, so the module
imports only ``sys`` at the top; ``logging``, ``json``, ``re``,
``ipaddress`` and ``textwrap`` are imported where they are needed.

Choices made where SPEC is silent:

- ``register_jobs`` checks every argument before registering any of them, so
  a misuse registers nothing from that call.
- ``Meta.name`` must be a non-empty str. Time limits must be finite.
  ``approval_required`` with ``has_sensitive_variables`` (true by default) is
  refused, as Nautobot refuses it: sensitive input is never stored, so an
  approver could not see what the job would run with.
- Variable options are checked when the variable is declared; an unknown
  option is Python's own TypeError, which names it. A ``default`` that fails
  the variable's own validation is accepted, as Nautobot never checks it, but
  never used: the schema leaves it out, and a run treats the variable as
  having no default (required ones then say why).
- A variable is required unless ``required=False`` or it has a default.
  ``BooleanVar`` and ``DryRunVar`` are never required; a missing one is its
  default, else False; a missing ``DryRunVar`` follows ``Meta.dryrun_default``.
- Input: a missing value, ``None`` or ``""`` (``[]`` for the multi variables)
  counts as not given. A not-required variable left empty gets ``[]`` (multi
  variables), ``False`` (booleans) or ``None``. Text is not
  stripped. ``regex`` matches anywhere, like Django's RegexValidator (anchor
  it with ``^...$``). IntegerVar takes an int, an integral float or a
  decimal str. BooleanVar takes a bool or "true"/"false". A choice given as
  a str matches a non-str choice with that str() (form input).
- IP variables hand ``run()`` ``ipaddress`` objects: IPAddressVar an address
  (no mask), IPAddressWithMaskVar an interface (mask required), IPNetworkVar a
  network (mask required, host bits cleared).
- Schema: ``"{}"`` when a job has no variables (what a record holds by
  default), else ``{"type": "object", "properties", "required", "order"}``.
  Formats: ``ipvanyaddress``, ``ipvanyinterface``, ``ipvanynetwork``.
  Choices also give ``enumNames`` (their labels). A variable that takes
  several JSON types (JSONVar, ObjectVar, FileVar) has a list as ``type``.
"""

import sys
from _thread import allocate_lock

__all__ = [
    "Job", "BaseJob", "register_jobs", "ValidationError", "is_job", "is_variable",
    "ScriptVariable", "StringVar", "TextVar", "IntegerVar", "BooleanVar", "ChoiceVar",
    "MultiChoiceVar", "ObjectVar", "MultiObjectVar", "FileVar", "IPAddressVar",
    "IPAddressWithMaskVar", "IPNetworkVar", "JSONVar", "DryRunVar",
    "DatabaseFileField", "GitRepositoryDryRun", "GitRepositorySync", "JobButtonReceiver",
    "JobHookReceiver", "NautobotKombuJSONEncoder", "RunJobTaskFailed", "enqueue_job_hooks",
    "get_celery_queues", "get_job", "get_jobs", "get_task_logger",
]

# What Nautobot 3.x exports from nautobot.apps.jobs (the compatibility
# module of that name holds exactly these; SPEC 2).
NAUTOBOT_APPS_JOBS = (
    "BaseJob", "BooleanVar", "ChoiceVar", "DatabaseFileField", "DryRunVar", "FileVar",
    "GitRepositoryDryRun", "GitRepositorySync", "IPAddressVar", "IPAddressWithMaskVar",
    "IPNetworkVar", "IntegerVar", "JSONVar", "Job", "JobButtonReceiver", "JobHookReceiver",
    "MultiChoiceVar", "MultiObjectVar", "NautobotKombuJSONEncoder", "ObjectVar",
    "RunJobTaskFailed", "ScriptVariable", "StringVar", "TextVar", "enqueue_job_hooks",
    "get_celery_queues", "get_job", "get_jobs", "is_job", "is_variable", "register_jobs",
)

# --------------------------------------------------------------------------
# Registration

# Registrations made outside a load (importing job code by hand).
_unclaimed = []


def _default_registrar(module_name, classes, filename, lineno):
    _unclaimed.append((module_name, classes, filename, lineno))


# The loader replaces this while it loads a source.
_registrar = _default_registrar


def _kind(obj):
    kind = type(obj).__name__
    return f"an {kind}" if kind[:1].lower() in "aeiou" else f"a {kind}"


def _registration_problem(obj):
    """Why ``obj`` cannot be registered, or None."""
    if obj in _BASE_CLASSES:
        return (f"class {obj.__name__!r} is a base class of jobs, not a job; "
                "register the subclasses that define jobs")
    if isinstance(obj, Job):
        name = type(obj).__name__
        return f"an instance of {name} was given; pass the class {name}, not {name}()"
    if not isinstance(obj, type):
        name = getattr(obj, "__name__", None)
        if isinstance(name, str):
            return f"{name!r} is {_kind(obj)}, not a Job subclass"
        return f"{obj!r:.80} ({_kind(obj)}) is not a Job subclass"
    if not issubclass(obj, Job):
        lookalike = next((k for k in obj.__mro__ if k.__name__ == "Job"), None)
        if lookalike is not None:
            return (f"class {obj.__qualname__!r} derives from {lookalike.__module__}.Job, "
                    "which is not jobreg.jobs.Job")
        return f"class {obj.__qualname__!r} is not a subclass of Job"
    return None


def register_jobs(*classes):
    """Make ``classes`` (Job subclasses) the jobs of the calling module.

    Every argument is checked first: on a misuse nothing is registered and
    TypeError says which argument is wrong. Registering a class again is
    harmless.
    """
    for cls in classes:
        problem = _registration_problem(cls)
        if problem is not None:
            raise TypeError(f"register_jobs: {problem}")
    caller = sys._getframe(1)
    _registrar(caller.f_globals.get("__name__"), classes, caller.f_code.co_filename, caller.f_lineno)


# --------------------------------------------------------------------------
# Logging: self.logger records go to the host through _log_sink

# The runner sets this: _log_sink(levelno, levelname, message, extra_dict)
# returns False when no run on this thread took the record.
_log_sink = None
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
            extra[key] = _text_of(value)
    return extra


def _text_of(value):
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


def _job_logger(cls):
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
            sink = _log_sink
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
# Jobs

class _classproperty:
    def __init__(self, getter):
        self._getter = getter
        self.__doc__ = getter.__doc__

    def __get__(self, obj, owner):
        return self._getter(owner)


def _meta_error(cls, field, expected, value):
    return TypeError(f"{cls.__name__}.Meta.{field} must be {expected}, not "
                     f"{type(value).__name__} ({value!r:.80})")


def _check_text(what, value):
    """ValueError unless ``value`` can be copied to C as it is (UTF-8, no NUL)."""
    if str.isascii(value) and "\x00" not in value:  # the usual case: nothing to encode
        return value
    if "\x00" in value:
        raise ValueError(f"{what} must not contain a NUL character ({value!r:.80})")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not valid text: it holds a lone surrogate ({value!r:.80})") from None
    return value


def _meta_name(cls):
    name = getattr(cls.Meta, "name", cls.__name__)
    if not isinstance(name, str):
        raise _meta_error(cls, "name", "a non-empty str", name)
    if not name.strip():
        raise ValueError(f"{cls.__name__}.Meta.name must be a non-empty str, not {name!r}")
    if str.isascii(name) and "\x00" not in name:  # as _check_text, without making its message
        return name
    return _check_text(f"{cls.__name__}.Meta.name", name)


def _meta_description(cls):
    description = getattr(cls.Meta, "description", "")
    if not isinstance(description, str):
        raise _meta_error(cls, "description", "a str", description)
    if "\n" in description:
        import textwrap

        description = textwrap.dedent(description)
    description = description.strip()
    if str.isascii(description) and "\x00" not in description:  # as _check_text
        return description
    return _check_text(f"{cls.__name__}.Meta.description", description)


def _grouping(cls):
    module_name = getattr(sys.modules.get(cls.__module__), "name", None)
    if isinstance(module_name, str) and module_name:
        if str.isascii(module_name) and "\x00" not in module_name:  # as _check_text
            return module_name
        return _check_text(f"the grouping (module {cls.__module__}'s name)", module_name)
    return cls.__module__


class RunJobTaskFailed(Exception):
    """Raise it to fail a run with a message of your own (Nautobot's name)."""


# The runner sets this: _current_run() -> the run on this thread, or None.
def _current_run():
    return None


def _host(operation, args, needed_by):
    """What the host's ``operation`` returns for ``args`` (JSON data), in a run.

    RuntimeError, naming ``needed_by``, outside a run or when the host gave
    the run no host operations; LookupError when it does not provide this one.
    """
    run = _current_run()
    if run is None or run.host_call is None:
        raise RuntimeError(f"{needed_by} needs the host application, which gave "
                           f"{'this run' if run is not None else 'no run on this thread'} "
                           f"no host operations (operation {operation!r})")
    return run.call_host(operation, args)


class Job:
    """Base class of every job: subclass it, give it ``run()``, register it.

    At run time an instance also has what Nautobot gives a job: ``logger``,
    ``fail()``, ``create_file()``, ``load_json()``/``load_yaml()``,
    ``job_result``, ``user``, ``job_model``, and the hooks ``before_start``,
    ``on_success``, ``on_failure`` and ``after_return``.
    """

    class Meta:
        pass

    @_classproperty
    def class_path(cls):
        """``module.ClassName``: where the class is defined."""
        return f"{cls.__module__}.{cls.__name__}"

    @_classproperty
    def name(cls):
        """``Meta.name``, else the class name."""
        return _meta_name(cls)

    @_classproperty
    def description(cls):
        """``Meta.description``, dedented and stripped."""
        return _meta_description(cls)

    @_classproperty
    def grouping(cls):
        """The ``name`` of the defining module, else the module's name."""
        return _grouping(cls)

    @_classproperty
    def file_path(cls):
        """The file that defines the class."""
        return getattr(sys.modules.get(cls.__module__), "__file__", None) or ""

    @property
    def logger(self):
        """A ``logging.Logger`` whose records reach the host's log callback;
        it also has Nautobot's ``success()`` and ``failure()``."""
        logger = self.__dict__.get("_jobreg_logger")
        if logger is None:
            logger = self.__dict__["_jobreg_logger"] = _job_logger(type(self))
        return logger

    def _from_run(self, name):
        if name in self.__dict__:
            return self.__dict__[name]
        run = _current_run()
        return getattr(run, name) if run is not None else None

    job_result = property(lambda self: self._from_run("job_result"),
                          lambda self, value: self.__dict__.__setitem__("job_result", value),
                          doc="The run's job result, as the host's run context gives it.")
    user = property(lambda self: self._from_run("user"),
                    lambda self, value: self.__dict__.__setitem__("user", value),
                    doc="The user the run is for (run context), or None.")
    job_model = property(lambda self: self._from_run("job_model"),
                         lambda self, value: self.__dict__.__setitem__("job_model", value),
                         doc="The job's record (run context, else the record the run was checked against).")
    request = property(lambda self: self._from_run("request"),
                       lambda self, value: self.__dict__.__setitem__("request", value),
                       doc="The request of the run: ``id`` (the task id) and ``user``.")

    @property
    def failed(self):
        """Whether ``fail()`` (or, for 1.x jobs, ``log_failure()``) was called."""
        return self.__dict__.get("_failed", False)

    @failed.setter
    def failed(self, value):
        self.__dict__["_failed"] = bool(value)

    _failed = property(lambda self: self.failed, lambda self, value: setattr(self, "failed", value))

    def fail(self, msg, *args, **kwargs):
        """Log ``msg`` at FAILURE level and mark the run failed; the job goes on."""
        kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1
        self.logger.failure(msg, *args, **kwargs)
        if "_fail_message" not in self.__dict__:
            try:
                self.__dict__["_fail_message"] = _text_of(msg) % args if args else _text_of(msg)
            except (TypeError, ValueError):
                self.__dict__["_fail_message"] = _text_of(msg)
        self.failed = True

    def create_file(self, filename, content):
        """Hand a file to the host (str content is encoded as UTF-8); it is
        listed in the run's result. ValueError over the size limit."""
        run = _current_run()
        if run is None:
            raise RuntimeError("create_file() works only while the job runs")
        return run.create_file(self.logger, filename, content)

    def _data_file(self, filename):
        import os

        return os.path.join(os.path.dirname(type(self).file_path), filename)

    def load_json(self, filename):
        """The JSON data of ``filename``, relative to the job's own file."""
        import json

        with open(self._data_file(filename), encoding="utf-8") as f:
            return json.load(f)

    def load_yaml(self, filename):
        """The YAML data of ``filename`` (safe_load), relative to the job's own file."""
        try:
            import yaml
        except ImportError:
            raise ImportError("load_yaml() needs PyYAML (Debian: python3-yaml) in the "
                              "interpreter that runs the jobs") from None
        with open(self._data_file(filename), encoding="utf-8") as f:
            return yaml.safe_load(f)

    def before_start(self, task_id, args, kwargs):
        """Called before run(); after a fail() here run() is skipped and this
        return value becomes the result."""

    def run(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define run()")

    def on_success(self, retval, task_id, args, kwargs):
        """Called after a run that neither raised nor called fail()."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """Called after a run that raised (``exc``) or called fail() (``exc``
        is then run()'s return value and ``einfo`` None)."""

    def after_return(self, status, retval, task_id, args, kwargs, einfo):
        """Called last, with "SUCCESS" or "FAILURE"."""

    def __str__(self):
        return str(type(self).name)

    # Nautobot 1.x (SPEC 2: opt-in): log_*(obj, message) as 1.x had them.
    def _log_1x(self, level, obj, message):
        if isinstance(obj, str) and message is None:
            obj, message = None, obj
        extra = {"grouping": self.__dict__.get("active_test", "main")}
        if obj is not None:
            extra["object"] = obj
        self.logger.log(level, "%s", "" if message is None else message, extra=extra)

    def log(self, message):
        self._log_1x(20, None, message)

    def log_debug(self, message):
        self._log_1x(10, None, message)

    def log_info(self, obj=None, message=None):
        self._log_1x(20, obj, message)

    def log_success(self, obj=None, message=None):
        self._log_1x(SUCCESS, obj, message)

    def log_warning(self, obj=None, message=None):
        self._log_1x(30, obj, message)

    def log_failure(self, obj=None, message=None):
        self._log_1x(FAILURE, obj, message)
        if "_fail_message" not in self.__dict__:
            self.__dict__["_fail_message"] = _text_of(message if message is not None else obj)
        self.failed = True

    def post_run(self):
        """Nautobot 1.x: called after run() and the test_* methods."""


# Nautobot's name for the common base of jobs.
BaseJob = Job


class Script(Job):
    """Nautobot 1.x's base of script-style jobs (``nautobot.extras.scripts``)."""

    def run(self, data, commit):
        """Nautobot 1.x: what the script does."""


BaseScript = Script


class Report(Job):
    """Nautobot 1.x's base of report-style jobs (``nautobot.extras.reports``):
    its ``test_*`` methods are the report."""

    def run(self, data, commit):
        """Nautobot 1.x: nothing; the test_* methods run after it."""


def is_job(obj):
    """True for a class that could be registered as a job (not the base classes)."""
    return (isinstance(obj, type) and issubclass(obj, Job) and obj not in _BASE_CLASSES)


def is_variable(obj):
    """True for a job variable (an instance of a *Var class)."""
    return isinstance(obj, ScriptVariable)


# --------------------------------------------------------------------------
# Variables

class ValidationError(ValueError):
    """Input that does not fit a job's variables; ``errors`` maps field -> reason."""

    def __init__(self, errors):
        if isinstance(errors, str):
            errors = {"(input)": errors}
        self.errors = dict(errors)
        message = "; ".join(f"{field}: {reason}" for field, reason in self.errors.items())
        # Input can hold lone surrogates; the message reaches C as UTF-8.
        super().__init__(message.encode("utf-8", "backslashreplace").decode("utf-8"))


class _Invalid(Exception):
    """One field's problem, raised by a variable's clean()."""


def _jsonable(value):
    """``value`` as JSON data: what JSON cannot hold becomes str()."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float) and value - value == 0:  # finite
        return value
    import json

    try:
        return json.loads(json.dumps(value, default=str, allow_nan=False))
    except (TypeError, ValueError, RecursionError):
        pass
    try:
        return str(value)
    except Exception:
        return f"<{type(value).__name__}>"


def _json_type(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "null" if value is None else "object"


def _check(owner, option, value, types, expected):
    """TypeError unless ``value`` is None or one of ``types`` (bool is no int)."""
    if value is None or type(value) in types:
        return
    if isinstance(value, bool) and bool not in types or not isinstance(value, types):
        raise TypeError(f"{owner}: {option} must be {expected}, "
                        f"not {type(value).__name__} ({value!r:.80})")


def _check_bounds(owner, low_name, low, high_name, high, minimum=None):
    # The usual case, decided without a call: plain ints (or None) in order.
    if ((low is None or type(low) is int) and (high is None or type(high) is int)
            and (minimum is None or ((low is None or low >= minimum)
                                     and (high is None or high >= minimum)))
            and (low is None or high is None or low <= high)):
        return
    for option, value in ((low_name, low), (high_name, high)):
        _check(owner, option, value, (int,), "int")
        if value is not None and minimum is not None and value < minimum:
            raise ValueError(f"{owner}: {option} must be >= {minimum}, not {value}")
    if low is not None and high is not None and low > high:
        raise ValueError(f"{owner}: {low_name} ({low}) is greater than {high_name} ({high})")


class ScriptVariable:
    """Base of every variable: label, description, default, required."""

    json_type = "string"
    schema_format = None
    # Defaults that need no checking: the host gives their meaning.
    _check_default = True

    def __init__(self, label="", description="", default=None, required=True, widget=None):
        # Checked only when one is not of the usual type (this runs for every
        # variable of every job at each import).
        if type(label) is not str or type(description) is not str or type(required) is not bool:
            owner = type(self).__name__
            _check(owner, "label", label, (str,), "str")
            _check(owner, "description", description, (str,), "str")
            _check(owner, "required", required, (bool,), "bool")
        self.label = label or ""
        self.description = description or ""
        self.default = default
        self.required = True if required is None else required
        self.widget = widget

    @property
    def field_attrs(self):
        """Nautobot's keyword arguments of the variable's form field (``label``,
        ``help_text``, ``initial``, ``widget``, ``required``), made on first use;
        subclasses written for Nautobot add to it, and the host's forms may read it."""
        attrs = self.__dict__.get("_field_attrs")
        if attrs is None:
            attrs = {"required": self.required}
            for key, value in (("label", self.label), ("help_text", self.description),
                               ("initial", self.default), ("widget", self.widget)):
                if value not in (None, ""):
                    attrs[key] = value
            self.__dict__["_field_attrs"] = attrs
        return attrs

    @field_attrs.setter
    def field_attrs(self, value):
        self.__dict__["_field_attrs"] = value

    def _validate_default(self):
        """Called by each constructor once its options are set: a default that
        is no valid value is remembered as such (see the module's choices)."""
        if self._check_default and not self._is_empty(self.default):
            try:
                self.clean(self.default)
            except _Invalid as exc:
                self.__dict__["_bad_default"] = f"its default ({self.default!r:.80}) is not a valid value: {exc}"

    def _usable_default(self):
        return self.default is not None and "_bad_default" not in self.__dict__

    def is_required(self):
        attrs = self.__dict__.get("_field_attrs")
        required = self.required if attrs is None else attrs.get("required", self.required)
        return required is True and not self._usable_default()

    def _is_empty(self, value):
        return value is None or (isinstance(value, str) and value == "")

    def empty_value(self):
        """What run() gets for a not-required variable left empty."""
        return None

    def resolve(self, present, value):
        """The value run() gets, or _Invalid."""
        if present and not self._is_empty(value):
            return self.clean(value)
        if self._usable_default():
            default = self.default
            if isinstance(default, (dict, list)):
                import copy

                default = copy.deepcopy(default)  # a run must not change the next one's default
            return self.clean(default)
        if self.is_required():
            bad = self.__dict__.get("_bad_default")
            raise _Invalid(f"this field is required ({bad})" if bad else "this field is required")
        return self.empty_value()

    def clean(self, value):
        return value

    def schema(self):
        out = {"type": self.json_type, "var_type": type(self).__name__}
        if self.label:
            out["title"] = self.label
        if self.description:
            out["description"] = self.description
        if self._usable_default():
            out["default"] = _jsonable(self.default)
        if self.schema_format:
            out["format"] = self.schema_format
        return out


class StringVar(ScriptVariable):
    """A line of text, with optional length bounds and a regex."""

    def __init__(self, min_length=None, max_length=None, regex=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        owner = type(self).__name__
        _check_bounds(owner, "min_length", min_length, "max_length", max_length, minimum=0)
        self.min_length, self.max_length = min_length, max_length
        self.regex, self._pattern = regex, None
        if regex is not None:
            import re

            if isinstance(regex, re.Pattern):
                self._pattern, self.regex = regex, regex.pattern
            else:
                _check(owner, "regex", regex, (str,), "str")
                try:
                    self._pattern = re.compile(regex)
                except (re.error, OverflowError, RecursionError) as exc:
                    raise ValueError(f"{owner}: regex ({regex!r:.80}) is not a valid "
                                     f"regular expression: {exc}") from None
        self._validate_default()

    def clean(self, value):
        if not isinstance(value, str):
            raise _Invalid(f"must be a string, not {type(value).__name__}")
        if self.min_length is not None and len(value) < self.min_length:
            raise _Invalid(f"must be at least {self.min_length} characters (got {len(value)})")
        if self.max_length is not None and len(value) > self.max_length:
            raise _Invalid(f"must be at most {self.max_length} characters (got {len(value)})")
        if self._pattern is not None and not self._pattern.search(value):
            raise _Invalid(f"does not match the pattern {self.regex!r}")
        return value

    def schema(self):
        out = super().schema()
        if self.min_length is not None:
            out["minLength"] = self.min_length
        if self.max_length is not None:
            out["maxLength"] = self.max_length
        if self.regex is not None:
            out["pattern"] = self.regex
        return out


class TextVar(StringVar):
    """Text of several lines."""


class IntegerVar(ScriptVariable):
    """A whole number, with optional bounds."""

    json_type = "integer"

    def __init__(self, min_value=None, max_value=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _check_bounds(type(self).__name__, "min_value", min_value, "max_value", max_value)
        self.min_value, self.max_value = min_value, max_value
        self._validate_default()

    def clean(self, value):
        if isinstance(value, bool):
            raise _Invalid(f"must be a whole number, not a boolean ({value!r})")
        if isinstance(value, str):
            text = value.strip()
            digits = text[1:] if text[:1] in "+-" else text
            if not (digits.isascii() and digits.isdigit()):
                raise _Invalid(f"must be a whole number (got {value!r:.80})")
            try:
                value = int(text)
            except ValueError:
                raise _Invalid(f"must be a whole number of at most 4300 digits "
                               f"(got {len(text)} characters)") from None
        elif isinstance(value, float) and value - value == 0 and value == int(value):
            value = int(value)
        elif not isinstance(value, int):
            raise _Invalid(f"must be a whole number, not {type(value).__name__} ({value!r:.80})")
        if self.min_value is not None and value < self.min_value:
            raise _Invalid(f"must be at least {self.min_value} (got {value})")
        if self.max_value is not None and value > self.max_value:
            raise _Invalid(f"must be at most {self.max_value} (got {value})")
        return value

    def schema(self):
        out = super().schema()
        if self.min_value is not None:
            out["minimum"] = self.min_value
        if self.max_value is not None:
            out["maximum"] = self.max_value
        return out


class BooleanVar(ScriptVariable):
    """True or false; never required (missing means its default, else False)."""

    json_type = "boolean"

    def __init__(self, *args, **kwargs):
        kwargs["required"] = False
        super().__init__(*args, **kwargs)
        self._validate_default()

    def empty_value(self):
        return False

    def clean(self, value):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise _Invalid(f"must be true or false (got {value!r:.80})")


class DryRunVar(BooleanVar):
    """Marks a job that supports dry runs; its value says whether this run is one."""


def _normalize_choices(owner, choices):
    if choices is None:
        return ()  # as lenient as Nautobot: no choice is then valid
    if callable(choices) and not isinstance(choices, (list, tuple)):
        choices = choices()  # Nautobot's ChoiceSet classes, Django's callables
    if isinstance(choices, (str, bytes, dict)) or not hasattr(choices, "__iter__"):
        raise TypeError(f"{owner}: choices must be a list of values or (value, label) "
                        f"pairs, not {type(choices).__name__}")
    pairs = []
    for choice in choices:
        if isinstance(choice, (list, tuple)):
            if len(choice) != 2:
                raise ValueError(f"{owner}: choices: {choice!r:.80} is not a (value, label) pair")
            value, label = choice
            if isinstance(label, (list, tuple)):  # a named group of choices
                pairs.extend(_normalize_choices(owner, label))
                continue
            pairs.append((value, str(label)))
        else:
            pairs.append((choice, str(choice)))
    return tuple(pairs)


class ChoiceVar(ScriptVariable):
    """One value among fixed choices."""

    def __init__(self, choices=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.choices = _normalize_choices(type(self).__name__, choices)
        self._validate_default()

    def _allowed(self):
        if not self.choices:
            return "it has none"
        text = ", ".join(repr(value) for value, _ in self.choices[:20])
        return text + (", ..." if len(self.choices) > 20 else "")

    def _pick(self, value):
        for choice, _ in self.choices:
            if value == choice and isinstance(value, bool) == isinstance(choice, bool):
                return choice
        if isinstance(value, str):  # form input: "2" for the choice 2
            for choice, _ in self.choices:
                if not isinstance(choice, str) and str(choice) == value:
                    return choice
        return _Invalid

    def clean(self, value):
        choice = self._pick(value)
        if choice is _Invalid:
            raise _Invalid(f"{value!r:.80} is not one of the choices ({self._allowed()})")
        return choice

    def _enum_schema(self):
        values = [_jsonable(value) for value, _ in self.choices]
        types = sorted({_json_type(value) for value in values}) or ["string"]
        return {"type": types[0] if len(types) == 1 else types, "enum": values,
                "enumNames": [label for _, label in self.choices]}

    def schema(self):
        out = super().schema()
        out.update(self._enum_schema())
        return out


class MultiChoiceVar(ChoiceVar):
    """Several values among fixed choices (a list)."""

    json_type = "array"

    def _is_empty(self, value):
        return super()._is_empty(value) or (isinstance(value, (list, tuple)) and not value)

    def empty_value(self):
        return []

    def clean(self, value):
        if not isinstance(value, (list, tuple)):
            raise _Invalid(f"must be a list of choices, not {type(value).__name__}")
        picked = [self._pick(item) for item in value]
        bad = [repr(item) for item, choice in zip(value, picked) if choice is _Invalid]
        if bad:
            raise _Invalid(f"not one of the choices ({self._allowed()}): {', '.join(bad)}")
        return picked

    def schema(self):
        out = ScriptVariable.schema(self)
        out["items"] = self._enum_schema()
        return out


def _model_label(owner, model):
    if isinstance(model, type):
        meta = getattr(model, "_meta", None)
        label = getattr(meta, "label_lower", None)
        return label if isinstance(label, str) and label else model.__name__
    _check(owner, "model", model, (str,), "str (a model label like 'dcim.device') or a model class")
    if model is not None and not model:
        raise ValueError(f"{owner}: model must not be empty")
    return model


_OBJECT_TYPES = ["integer", "object", "string"]


def _object_reference(value):
    if isinstance(value, bool) or not isinstance(value, (str, int, dict)):
        raise _Invalid(f"must be an object id (string or number) or an object, "
                       f"not {type(value).__name__}")
    return value


class ObjectVar(ScriptVariable):
    """A reference to an object of the host's database, passed through as given."""

    json_type = _OBJECT_TYPES
    _check_default = False

    def __init__(self, model=None, display_field="display", query_params=None, null_option=None,
                 *args, queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        owner = type(self).__name__
        if model is None and queryset is not None:  # Nautobot's deprecated spelling
            model = getattr(queryset, "model", None)
        _check(owner, "display_field", display_field, (str,), "str")
        _check(owner, "query_params", query_params, (dict,), "dict")
        _check(owner, "null_option", null_option, (str,), "str")
        self.model = _model_label(owner, model)
        self.display_field = display_field
        self.query_params = dict(query_params or {})
        self.null_option = null_option

    def clean(self, value):
        return _object_reference(value)

    def schema(self):
        out = super().schema()
        if self.model:
            out["model"] = self.model
        if self.query_params:
            out["query_params"] = _jsonable(self.query_params)
        return out


class MultiObjectVar(ObjectVar):
    """Several references to objects of the host's database (a list)."""

    json_type = "array"

    def _is_empty(self, value):
        return super()._is_empty(value) or (isinstance(value, (list, tuple)) and not value)

    def empty_value(self):
        return []

    def clean(self, value):
        if not isinstance(value, (list, tuple)):
            raise _Invalid(f"must be a list of object ids, not {type(value).__name__}")
        return [_object_reference(item) for item in value]

    def schema(self):
        out = super().schema()
        out["items"] = {"type": _OBJECT_TYPES}
        return out


class FileVar(ScriptVariable):
    """An uploaded file as the host refers to it, passed through as given."""

    json_type = _OBJECT_TYPES
    _check_default = False

    def clean(self, value):
        if isinstance(value, bool) or not isinstance(value, (str, int, dict)):
            raise _Invalid(f"must be a file reference (string, number or object), "
                           f"not {type(value).__name__}")
        return value


class _IPVar(ScriptVariable):
    """Base of the IP variables: a str that ``ipaddress`` parses."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._validate_default()

    def clean(self, value):
        if type(value).__module__ == "ipaddress":
            value = str(value)  # a default given as an ipaddress object
        if not isinstance(value, str):
            raise _Invalid(f"must be a string, not {type(value).__name__}")
        import ipaddress

        try:
            return self._parse(ipaddress, value.strip())
        except ValueError as exc:
            raise _Invalid(str(exc)) from None


class IPAddressVar(_IPVar):
    """An IPv4 or IPv6 address without a mask (an ``ip_address``)."""

    schema_format = "ipvanyaddress"

    def _parse(self, ipaddress, text):
        if "/" in text:
            raise ValueError(f"{text!r} has a mask; an address without one is expected")
        return ipaddress.ip_address(text)


class IPAddressWithMaskVar(_IPVar):
    """An IPv4 or IPv6 address with its mask, like 10.0.0.1/24 (an ``ip_interface``)."""

    schema_format = "ipvanyinterface"

    def _parse(self, ipaddress, text):
        if "/" not in text:
            raise ValueError(f"{text!r} has no mask; an address like 10.0.0.1/24 is expected")
        return ipaddress.ip_interface(text)


class IPNetworkVar(_IPVar):
    """An IPv4 or IPv6 network like 10.0.0.0/24 (an ``ip_network``), with prefix bounds."""

    schema_format = "ipvanynetwork"

    def __init__(self, min_prefix_length=None, max_prefix_length=None, *args, **kwargs):
        _check_bounds(type(self).__name__, "min_prefix_length", min_prefix_length,
                      "max_prefix_length", max_prefix_length, minimum=0)
        self.min_prefix_length, self.max_prefix_length = min_prefix_length, max_prefix_length
        super().__init__(*args, **kwargs)

    def _parse(self, ipaddress, text):
        if "/" not in text:
            raise ValueError(f"{text!r} has no prefix length; a network like 10.0.0.0/24 is expected")
        network = ipaddress.ip_network(text, strict=False)
        if self.min_prefix_length is not None and network.prefixlen < self.min_prefix_length:
            raise ValueError(f"the prefix length must be at least {self.min_prefix_length} "
                             f"(got {network.prefixlen})")
        if self.max_prefix_length is not None and network.prefixlen > self.max_prefix_length:
            raise ValueError(f"the prefix length must be at most {self.max_prefix_length} "
                             f"(got {network.prefixlen})")
        return network


def _refuse_constant(name):
    raise ValueError(f"{name} is not a JSON number")


class JSONVar(ScriptVariable):
    """Any JSON value; a str is read as JSON text."""

    json_type = ["array", "boolean", "integer", "number", "object", "string"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._validate_default()

    def clean(self, value):
        import json

        if isinstance(value, str):
            try:
                return json.loads(value, parse_constant=_refuse_constant)
            except ValueError as exc:
                raise _Invalid(f"is not valid JSON: {exc}") from None
            except RecursionError:
                raise _Invalid("is not valid JSON: nested too deeply") from None
        if not isinstance(value, (dict, list, int, float)):  # bool is an int
            raise _Invalid(f"must be a JSON value, not {type(value).__name__}")
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise _Invalid(f"is not a JSON value: {exc}") from None
        except RecursionError:
            raise _Invalid("is not a JSON value: nested too deeply") from None
        return value


# --------------------------------------------------------------------------
# Jobs started by the host: job buttons, job hooks, the git system jobs

class _Record:
    """Read-only attribute access to a JSON object the host handed over
    (``obj.name`` and ``obj["name"]``); nested objects are records too."""

    __slots__ = ("_data",)

    def __init__(self, data):
        object.__setattr__(self, "_data", dict(data))

    def __getattr__(self, name):
        try:
            return _as_record(self._data[name])
        except KeyError:
            raise AttributeError(f"{name!r} is not in this object "
                                 f"(it has: {', '.join(sorted(self._data)) or 'nothing'})") from None

    def __getitem__(self, name):
        return _as_record(self._data[name])

    def get(self, name, default=None):
        return _as_record(self._data.get(name, default))

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


def _as_record(value):
    return _Record(value) if isinstance(value, dict) else value


def _host_object(model, pk, needed_by):
    """The object ``pk`` of ``model`` as the host's get_object operation
    gives it; without that operation, a reference holding model and pk."""
    try:
        found = _host("get_object", {"model": model, "pk": pk}, needed_by)
    except (RuntimeError, LookupError):
        return _Record({"pk": pk, "id": pk, "model": model})
    return _as_record(found)


class JobButtonReceiver(Job):
    """Base of jobs a button on an object's page starts: define
    ``receive_job_button(obj)``. The object comes from the host's
    ``get_object`` operation, else as a reference (``obj.pk``, ``obj.model``)."""

    object_pk = StringVar()
    object_model_name = StringVar()

    def run(self, object_pk, object_model_name):
        self.receive_job_button(obj=_host_object(object_model_name, object_pk,
                                                 "JobButtonReceiver"))

    def receive_job_button(self, obj):
        raise NotImplementedError(f"{type(self).__name__} does not define receive_job_button()")


class JobHookReceiver(Job):
    """Base of jobs an object change starts: define
    ``receive_job_hook(change, action, changed_object)``. ``object_change`` is
    the change as a JSON object (``action``, ``changed_object``...), or its id
    for the host's ``get_object`` operation."""

    object_change = ObjectVar(model="extras.objectchange")

    def run(self, object_change):
        change = object_change
        if not isinstance(change, dict):
            change = _host_object("extras.objectchange", change, "JobHookReceiver")
        change = _as_record(change)
        self.receive_job_hook(change=change, action=change.get("action"),
                              changed_object=change.get("changed_object"))

    def receive_job_hook(self, change, action, changed_object):
        raise NotImplementedError(f"{type(self).__name__} does not define receive_job_hook()")


class _GitRepositoryJob(Job):
    repository = ObjectVar(model="extras.gitrepository", label="Git Repository")
    _dry_run = False

    class Meta:
        has_sensitive_variables = False

    def run(self, repository):
        name = repository.get("name", repository) if isinstance(repository, dict) else repository
        verb = "Performing a dry run of" if self._dry_run else "Synchronizing"
        self.logger.info("%s Git repository %s...", verb, name)
        return _host("git_repository_sync", {"repository": repository, "dry_run": self._dry_run},
                     type(self).__name__)


class GitRepositorySync(_GitRepositoryJob):
    """Nautobot's system job: sync a git repository, through the host's
    ``git_repository_sync`` operation."""

    class Meta:
        name = "Git Repository: Sync"
        description = "Clone and/or pull a Git repository, then refresh what it provides."
        has_sensitive_variables = False


class GitRepositoryDryRun(_GitRepositoryJob):
    """Nautobot's system job: a dry run of a git repository sync (host operation
    ``git_repository_sync`` with ``dry_run`` true)."""

    _dry_run = True

    class Meta:
        name = "Git Repository: Dry-Run"
        description = "Dry run of a Git repository sync: changes nothing."
        has_sensitive_variables = False


# What Nautobot 1.x's nautobot.extras.scripts exported.
NAUTOBOT_SCRIPTS = (
    "BaseScript", "Script", "StringVar", "TextVar", "IntegerVar", "BooleanVar", "ChoiceVar",
    "MultiChoiceVar", "ObjectVar", "MultiObjectVar", "FileVar", "IPAddressVar",
    "IPAddressWithMaskVar", "IPNetworkVar", "JSONVar",
)

# The classes that are bases of jobs, never jobs themselves.
_BASE_CLASSES = (Job, JobHookReceiver, JobButtonReceiver, Script, Report, _GitRepositoryJob)


# --------------------------------------------------------------------------
# The registry as job code sees it (Nautobot's get_job / get_jobs)

# The loader keeps this: source key -> {class_path: class} of its last load.
_loaded = {}


def get_jobs(*, reload=False):
    """``{class_path: class}`` of every job the library has loaded in this
    process. With ``reload=True`` the host's ``get_jobs_reload`` operation
    reloads first (inside a run that has host operations); elsewhere the
    jobs loaded last are returned and a warning says so."""
    if reload:
        try:
            _host("get_jobs_reload", {}, "get_jobs(reload=True)")
        except (RuntimeError, LookupError) as exc:
            _logger(f"{_LOGGER_PREFIX}.get_jobs").warning(
                "get_jobs(reload=True): not reloaded: %s; returning the jobs loaded last", exc)
    jobs = {}
    for part in list(_loaded.values()):
        jobs.update(part)
    return jobs


def get_job(class_path, reload=False):
    """The job class loaded under ``class_path``, or None."""
    return get_jobs(reload=reload).get(class_path)


def enqueue_job_hooks(object_change, may_reload_jobs=True, jobhook_queryset=None):
    """Hand an object change to the host's ``enqueue_job_hooks`` operation
    (which decides which job hooks run); returns ``(reloaded, hooks)`` as
    Nautobot does, from the host's reply."""
    reply = _host("enqueue_job_hooks", {"object_change": object_change,
                                        "may_reload_jobs": bool(may_reload_jobs)},
                  "enqueue_job_hooks()")
    if isinstance(reply, (list, tuple)) and len(reply) == 2:
        return bool(reply[0]), reply[1]
    return False, reply


def get_celery_queues():
    """``{queue name: worker count}`` from the host's ``get_celery_queues`` operation."""
    reply = _host("get_celery_queues", {}, "get_celery_queues()")
    if not isinstance(reply, dict):
        raise TypeError(f"get_celery_queues: the host answered {type(reply).__name__}, "
                        "not an object of queue names to worker counts")
    return reply


# --------------------------------------------------------------------------
# Names made on first use (they need json or carry no job behaviour)

def _make_kombu_encoder():
    import json

    class NautobotKombuJSONEncoder(json.JSONEncoder):
        """JSON for what jobs hand around: dates and times (ISO 8601), UUIDs,
        decimals, IP objects, sets, exceptions, and model-like objects (as
        ``{"id", "__nautobot_type__", "display"}``)."""

        def default(self, obj):
            return _json_default(obj)

    return NautobotKombuJSONEncoder


def _json_default(obj):
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
        return {"id": _jsonable(getattr(obj, "id", obj.pk)),
                "__nautobot_type__": f"{module}.{kind.__qualname__}",
                "display": _text_of(getattr(obj, "display", None) or obj)}
    raise TypeError(f"Object of type {kind.__name__} is not JSON serializable")


class DatabaseFileField:
    """Nautobot's form field for files kept in the database. Forms are the
    host's business here: it records its arguments, for the host to read."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


_LAZY = {"NautobotKombuJSONEncoder": _make_kombu_encoder}


def __getattr__(name):
    maker = _LAZY.get(name)
    if maker is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = maker()
    value.__module__, value.__qualname__ = __name__, name
    return value


# --------------------------------------------------------------------------
# Reading a job class: variables, Meta, input

def _variables(cls):
    """The job's variables in form order: ``[(name, var)]``.

    Base classes first; a name redefined below keeps its place and takes the
    most derived variable (redefined as something else, it is no variable).
    ``Meta.field_order`` then moves the names it lists to the front.
    """
    fields = {}
    for klass in reversed(cls.__mro__):
        # object comes first and holds no variable: with nothing found yet,
        # its many attributes could only be skipped one by one.
        if klass is object:
            continue
        for name, value in vars(klass).items():
            if isinstance(value, ScriptVariable):
                fields[name] = value
            elif name in fields:
                del fields[name]
    meta = cls.Meta
    own = _own_meta(meta)
    order = None if own is not None and "field_order" not in own else \
        getattr(meta, "field_order", None)
    if order is None:
        return list(fields.items())
    if isinstance(order, str) or not isinstance(order, (list, tuple)):
        raise _meta_error(cls, "field_order", "a list of variable names", order)
    # As Django's Form.order_fields: names that are no variable (or come
    # twice) are ignored, the rest follow in their own order.
    ordered = {}
    for name in order:
        if isinstance(name, str) and name in fields and name not in ordered:
            ordered[name] = fields[name]
    for name, var in fields.items():
        if name not in ordered:
            ordered[name] = var
    return list(ordered.items())


def _not_serializable(value):
    # json.JSONEncoder.default's very error.
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


# How _dumps_sorted makes its encoder; set at its first call (False: no _json).
_make_encoder = None


def _dumps_sorted(value):
    """``json.dumps(value, sort_keys=True, allow_nan=False)``: the same text.

    json.dumps() with options builds a JSONEncoder and runs three Python
    functions before its C encoder starts; this makes that C encoder (of the
    ``_json`` module that json uses) with the very arguments json.dumps()
    gives it. Importing json would also import re, enum and collections,
    which nothing else needs while jobs load.
    """
    global _make_encoder
    if _make_encoder is None:
        try:
            from _json import encode_basestring_ascii, make_encoder
        except ImportError:
            _make_encoder = False
        else:
            def _make_encoder():
                # markers: a fresh dict each time, as json.dumps (check_circular)
                return make_encoder({}, _not_serializable, encode_basestring_ascii, None,
                                    ": ", ", ", True, False, False)
    if _make_encoder is False:
        import json

        return json.dumps(value, sort_keys=True, allow_nan=False)
    return "".join(_make_encoder()(value, 0))


def _schema(variables):
    if not variables:
        return "{}"
    properties, required, order = {}, [], []
    for name, var in variables:
        properties[name] = var.schema()
    for name, var in variables:
        if var.is_required():
            required.append(name)
        order.append(name)
    return _dumps_sorted({"type": "object", "properties": properties, "required": required,
                          "order": order})


_META_BOOLS = (
    ("hidden", False),
    ("dryrun_default", False),
    ("approval_required", False),
    ("has_sensitive_variables", True),
    ("is_singleton", False),
)


def _own_meta(meta):
    """The ``__dict__`` of a plain ``class Meta:`` (no base, no metaclass), else None.

    For such a class ``getattr(meta, field, default)`` is ``default`` exactly
    when ``field`` is not in that dict (no Meta field is an attribute of
    ``object`` or ``type``), which the readers below then know without
    getattr() raising and catching an AttributeError for every field left out.
    """
    if type(meta) is type and meta.__bases__ == (object,):
        return meta.__dict__
    return None


def _job_fields(cls):
    """What the registry and the records take from a job class (SPEC 2 and 4),
    as the tuple the loader hands to C: ``(grouping, name, description, hidden,
    dryrun_default, approval_required, has_sensitive_variables, soft_time_limit,
    time_limit, task_queues, is_singleton, supports_dryrun, variables)``.

    Runs for every job at every load: no dict, few calls.
    """
    if not is_job(cls):
        raise TypeError(f"_job_metadata: {cls!r:.80} is not a Job subclass")
    meta = cls.Meta
    name = _meta_name(cls)
    description = _meta_description(cls)
    own = _own_meta(meta)
    flags = []
    for field, default in _META_BOOLS:
        if own is not None and field not in own:
            flags.append(default)
            continue
        value = getattr(meta, field, default)
        if not isinstance(value, bool):
            raise _meta_error(cls, field, "a bool", value)
        flags.append(value)
    hidden, dryrun_default, approval_required, has_sensitive_variables, is_singleton = flags
    if approval_required and has_sensitive_variables:
        raise ValueError(f"{cls.__name__}.Meta.approval_required cannot be True while "
                         "has_sensitive_variables is True (the default): sensitive input is not "
                         "kept for an approver to see; set has_sensitive_variables = False")
    limits = []
    for field in ("soft_time_limit", "time_limit"):
        if own is not None and field not in own:
            limits.append(0.0)
            continue
        value = getattr(meta, field, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _meta_error(cls, field, "a number of seconds", value)
        try:
            seconds = float(value)
        except OverflowError:
            seconds = float("inf")
        if not (seconds >= 0 and seconds - seconds == 0):  # refuses NaN and infinity too
            raise ValueError(f"{cls.__name__}.Meta.{field} must be a finite number of seconds "
                             f">= 0, not {value!r:.80}")
        limits.append(seconds)
    if own is not None and "task_queues" not in own:
        queues = ()
    else:
        queues = getattr(meta, "task_queues", ())
        if not isinstance(queues, (list, tuple)):
            raise _meta_error(cls, "task_queues", "a list of str", queues)
        for queue in queues:
            if not isinstance(queue, str):
                raise _meta_error(cls, "task_queues", "a list of str", queues)
        for queue in queues:
            _check_text(f"{cls.__name__}.Meta.task_queues", queue)
        queues = tuple(queues)
    grouping = _grouping(cls)
    variables = _variables(cls)
    supports_dryrun = False
    for _, var in variables:
        if isinstance(var, DryRunVar):
            supports_dryrun = True
            break
    if _is_1x(cls):
        commit = _commit_variable(cls)
        if commit is not None:
            variables.append(("commit", commit))
            supports_dryrun = True
            dryrun_default = not commit.default
    return (grouping, name, description, hidden, dryrun_default, approval_required,
            has_sensitive_variables, limits[0], limits[1], queues, is_singleton,
            supports_dryrun, _schema(variables))


# --------------------------------------------------------------------------
# Nautobot 1.x jobs (opt-in per source, SPEC 2)

def _runs_1x_style(cls):
    """Whether ``cls.run`` takes 1.x's ``(data, commit)``."""
    code = getattr(getattr(cls, "run", None), "__code__", None)
    if code is None:
        return False
    names = code.co_varnames[1:code.co_argcount + code.co_kwonlyargcount]
    return "data" in names and "commit" in names


def _mark_1x(cls):
    """Marks a job a 1.x-mode source loaded whose run() is 1.x style."""
    if _runs_1x_style(cls):
        type.__setattr__(cls, "_jobreg_nautobot_1x", True)


def _is_1x(cls):
    return cls.__dict__.get("_jobreg_nautobot_1x") is True


def _meta_flag(cls, field, default):
    value = getattr(cls.Meta, field, default)
    if not isinstance(value, bool):
        raise _meta_error(cls, field, "a bool", value)
    return value


def _commit_variable(cls):
    """1.x's "commit" checkbox (default ``Meta.commit_default``, true), or
    None for a ``Meta.read_only`` job, which always runs with commit false."""
    commit_default = _meta_flag(cls, "commit_default", True)
    if _meta_flag(cls, "read_only", False):
        return None
    return BooleanVar(label="Commit changes", default=commit_default,
                      description="Commit changes to the database (uncheck for a dry run)")


def _jobs_1x_of(module):
    """The jobs Nautobot 1.x took from a module: its ``jobs`` list when it has
    one, else the job classes defined in it."""
    listed = getattr(module, "jobs", None)
    if isinstance(listed, (list, tuple)):
        return [cls for cls in listed if is_job(cls)]
    name = module.__name__
    return [value for value in list(vars(module).values())
            if is_job(value) and value.__module__ == name]


def _job_metadata(cls):
    """What the registry and the records take from a job class (SPEC 2 and 4)."""
    (grouping, name, description, hidden, dryrun_default, approval_required,
     has_sensitive_variables, soft_time_limit, time_limit, task_queues, is_singleton,
     supports_dryrun, variables) = _job_fields(cls)
    return {"name": name, "description": description, "hidden": hidden,
            "dryrun_default": dryrun_default, "approval_required": approval_required,
            "has_sensitive_variables": has_sensitive_variables, "is_singleton": is_singleton,
            "soft_time_limit": soft_time_limit, "time_limit": time_limit,
            "task_queues": task_queues, "grouping": grouping,
            "supports_dryrun": supports_dryrun, "variables": variables}


class _ReadOnlyCommit(BooleanVar):
    """A read-only 1.x job's commit: always False, whatever the input says."""

    def resolve(self, present, value):
        return False


_READ_ONLY_COMMIT = _ReadOnlyCommit()


def _validate_input(cls, data):
    """The kwargs for ``cls().run(**kwargs)`` from ``data``, or ValidationError
    naming every field at fault."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationError({"(input)": "must be an object of variable names to values, "
                                          f"not {type(data).__name__}"})
    variables = _variables(cls)
    if _is_1x(cls):
        commit = _commit_variable(cls)
        variables.append(("commit", commit if commit is not None else _READ_ONLY_COMMIT))
    errors, kwargs = {}, {}
    for name, var in variables:
        present = name in data
        try:
            if isinstance(var, DryRunVar) and var._is_empty(data.get(name)) and var.default is None:
                kwargs[name] = getattr(cls.Meta, "dryrun_default", False) is True
            else:
                kwargs[name] = var.resolve(present, data.get(name))
        except _Invalid as exc:
            errors[name] = str(exc)
    known = dict(variables)
    for name in data:
        if name not in known:
            errors[str(name)] = "unknown variable"
    if errors:
        raise ValidationError(errors)
    return kwargs
