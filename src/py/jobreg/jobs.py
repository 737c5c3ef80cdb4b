"""jobreg.jobs (the author API): what job authors import (SPEC 2).

    from jobreg.jobs import Job, register_jobs, StringVar

With Nautobot compatibility on, ``nautobot.apps.jobs`` holds these very
objects.

This is the façade of the author API, the embedded package
(``src/py/jobreg``, compiled into libjobreg; not the binding,
``bindings/python/jobreg``, though in a Python host both are the package
``jobreg``: docs/python.md). It defines ``Job`` and its kin and the
registration; the rest of what it exports lives in modules behind it, and
is this module's own (``jobreg.jobs.StringVar is jobreg._variables.StringVar``,
with ``__module__`` ``jobreg.jobs``):

- ``jobreg._variables``: the variables and ``ValidationError``;
- ``jobreg._meta``: reading a job class (Meta, variables, input);
- ``jobreg._context``: what a running job sees (its log, the host's
  operations, the objects the host hands over).

The C library runs these modules at every start-up, so none imports
anything heavy at the top (``sys``, ``_thread`` and each other only);
``logging``, ``json``, ``re``, ``ipaddress`` and ``textwrap`` are imported
where they are needed.

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

from jobreg import _context, _meta
from jobreg._context import (FAILURE, SUCCESS, enqueue_job_hooks, get_celery_queues,
                             get_task_logger)
from jobreg._variables import (BooleanVar, ChoiceVar, DryRunVar, FileVar, IntegerVar,
                               IPAddressVar, IPAddressWithMaskVar, IPNetworkVar, JSONVar,
                               MultiChoiceVar, MultiObjectVar, ObjectVar, ScriptVariable,
                               StringVar, TextVar, ValidationError)

__all__ = [
    "Job", "BaseJob", "register_jobs", "ValidationError", "is_job", "is_variable",
    "ScriptVariable", "StringVar", "TextVar", "IntegerVar", "BooleanVar", "ChoiceVar",
    "MultiChoiceVar", "ObjectVar", "MultiObjectVar", "FileVar", "IPAddressVar",
    "IPAddressWithMaskVar", "IPNetworkVar", "JSONVar", "DryRunVar",
    "DatabaseFileField", "GitRepositoryDryRun", "GitRepositorySync", "JobButtonReceiver",
    "JobHookReceiver", "NautobotKombuJSONEncoder", "RunJobTaskFailed", "enqueue_job_hooks",
    "get_celery_queues", "get_job", "get_jobs", "get_task_logger",
    "SoftTimeLimitExceeded", "TimeLimitExceeded", "RunCancelled",
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
# Jobs

class _classproperty:
    def __init__(self, getter):
        self._getter = getter
        self.__doc__ = getter.__doc__

    def __get__(self, obj, owner):
        return self._getter(owner)


class RunJobTaskFailed(Exception):
    """Raise it to fail a run with a message of your own (Nautobot's name)."""


class SoftTimeLimitExceeded(Exception):
    """Raised in a running job when it passes its soft time limit
    (``Meta.soft_time_limit``). A job may catch it to clean up; Celery's
    class of that name is raised instead when the job's code imported
    ``celery.exceptions``, so ``except SoftTimeLimitExceeded`` works either
    way."""


class TimeLimitExceeded(BaseException):
    """Raised in a job running in the host's process when it passes its
    hard time limit (``Meta.time_limit``): the library cannot kill a thread,
    so this is the last thing it can do there (docs/isolation.md). In
    isolation mode the worker process is killed instead."""


class RunCancelled(BaseException):
    """Raised in a job running in the host's process whose run the host
    cancelled (jobreg_cancel_request()). A BaseException: ``except
    Exception`` does not swallow it."""


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
        return _meta.meta_name(cls)

    @_classproperty
    def description(cls):
        """``Meta.description``, dedented and stripped."""
        return _meta.meta_description(cls)

    @_classproperty
    def grouping(cls):
        """The ``name`` of the defining module, else the module's name."""
        return _meta.grouping(cls)

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
            logger = self.__dict__["_jobreg_logger"] = _context.job_logger(type(self))
        return logger

    def _from_run(self, name):
        if name in self.__dict__:
            return self.__dict__[name]
        run = _context.current_run()
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
                self.__dict__["_fail_message"] = (_context.text_of(msg) % args if args
                                                  else _context.text_of(msg))
            except (TypeError, ValueError):
                self.__dict__["_fail_message"] = _context.text_of(msg)
        self.failed = True

    def create_file(self, filename, content):
        """Hand a file to the host (str content is encoded as UTF-8); it is
        listed in the run's result. ValueError over the size limit."""
        run = _context.current_run()
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
            self.__dict__["_fail_message"] = _context.text_of(message if message is not None else obj)
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
# Jobs started by the host: job buttons, job hooks, the git system jobs

class JobButtonReceiver(Job):
    """Base of jobs a button on an object's page starts: define
    ``receive_job_button(obj)``. The object comes from the host's
    ``get_object`` operation, else as a reference (``obj.pk``, ``obj.model``)."""

    object_pk = StringVar()
    object_model_name = StringVar()

    def run(self, object_pk, object_model_name):
        self.receive_job_button(obj=_context.host_object(object_model_name, object_pk,
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
            change = _context.host_object("extras.objectchange", change, "JobHookReceiver")
        change = _context.as_record(change)
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
        return _context.host("git_repository_sync",
                             {"repository": repository, "dry_run": self._dry_run},
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
            _context.host("get_jobs_reload", {}, "get_jobs(reload=True)")
        except (RuntimeError, LookupError) as exc:
            get_task_logger("get_jobs").warning(
                "get_jobs(reload=True): not reloaded: %s; returning the jobs loaded last", exc)
    jobs = {}
    for part in list(_loaded.values()):
        jobs.update(part)
    return jobs


def get_job(class_path, reload=False):
    """The job class loaded under ``class_path``, or None."""
    return get_jobs(reload=reload).get(class_path)


# --------------------------------------------------------------------------
# Names made on first use (they need json or carry no job behaviour)

class DatabaseFileField:
    """Nautobot's form field for files kept in the database. Forms are the
    host's business here: it records its arguments, for the host to read."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


_LAZY = {"NautobotKombuJSONEncoder": _context.make_kombu_encoder}


def __getattr__(name):
    maker = _LAZY.get(name)
    if maker is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = maker()
    value.__module__, value.__qualname__ = __name__, name
    return value


# --------------------------------------------------------------------------
# What the loader asks of job classes

def _jobs_1x_of(module):
    """The jobs Nautobot 1.x took from a module (SPEC 2, opt-in per source):
    its ``jobs`` list when it has one, else the job classes defined in it."""
    listed = getattr(module, "jobs", None)
    if isinstance(listed, (list, tuple)):
        return [cls for cls in listed if is_job(cls)]
    name = module.__name__
    return [value for value in list(vars(module).values())
            if is_job(value) and value.__module__ == name]


def _job_metadata(cls):
    """``jobreg._meta.job_fields(cls)`` (what the loader hands to C: one key per
    META field of ``src/job_fields.h``) for any object: TypeError for what is
    not a job. The loader's classes are checked already; tests and the
    fuzzer (tests/fuzz/fuzz_meta.c) come through here."""
    if not is_job(cls):
        raise TypeError(f"_job_metadata: {cls!r:.80} is not a Job subclass")
    return _meta.job_fields(cls)


# The names this façade takes from the modules behind it are its own: their
# repr, pickle and help name jobreg.jobs, where job code imports them from.
for _value in (ValidationError, ScriptVariable, StringVar, TextVar, IntegerVar, BooleanVar,
               ChoiceVar, MultiChoiceVar, ObjectVar, MultiObjectVar, FileVar, IPAddressVar,
               IPAddressWithMaskVar, IPNetworkVar, JSONVar, DryRunVar, get_task_logger,
               get_celery_queues, enqueue_job_hooks):
    _value.__module__ = __name__
del _value
