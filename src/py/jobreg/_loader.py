"""jobreg._loader (the author API): the Python side of a load (driven by src/loader.c).

The C side creates one loader object per source and calls its ``load()``
on every load; ``close()`` when the source goes away. ``load()`` returns
``(jobs, errors)``:

- jobs: one dict per job, read by key in C: the fields that
  ``jobreg._meta.job_fields()`` reads from the class, one per META field of
  ``src/job_fields.h`` (``"grouping"``, ``"name"``, ... ``"variables"``),
  then ``"class"``, ``"class_path"``, ``"module_name"``, ``"job_class_name"``
  (in this order, which src/loader.c reads fastest; any other works);
- errors: ``(module, file, line, type, message, traceback)`` tuples.

Imports go through a meta-path finder that knows exactly the modules of the
source, so nothing needs to go on ``sys.path``, a module that failed is not
run a second time in the same load, and a failure is pinned on the file it
happened in.

One module cannot change what the library does for another (issue 14;
``jobreg._context.guard``, which the runner puts around every run too):

- After each module body the loader checks, by identity, that what every
  module shares is still the library's: ``sys.modules`` entries of the
  author API (``jobreg``, ``jobreg.jobs``, ... and the ``nautobot.*``
  compatibility modules when they are the library's), the names job code
  imports from them (``register_jobs``, ``Job``, the variables...),
  ``sys.modules`` itself, ``builtins.__import__``, ``print`` and ``open``,
  and ``jobreg.jobs._registrar`` during a load. What changed is put back and
  the module fails with ``TamperError`` ("replaced jobreg.jobs.register_jobs;
  the loader put it back"): as any module that failed, it contributes no
  jobs; its neighbours load as if it had done nothing. A module that changes
  them and then imports another module of the source is the one blamed.
- An ``ITIMER_REAL`` timer (``signal.alarm``, ``setitimer``) a body left
  running is cancelled (one the host had running is set again as it was at
  the start of the body), a SIGALRM handler it installed is replaced by the
  one before; both fail the module with ``TamperError`` too.
- A body that called ``os.fork()``: the child process ends with
  ``os._exit(0)`` as soon as the body returns (or raises); only the parent
  goes on with the load.
- Not covered: what job code changes inside those objects (an attribute of
  ``Job``), or from a thread of its own after its body ended (found by the
  next check, on whichever module or run comes next).

Load errors are ``jobreg._context.clean_text()``'d: a lone surrogate or a NUL
in a message or traceback arrives escaped (``\\ud800``, ``\\x00``).
"""

import os
import sys
from _thread import get_ident
from importlib import import_module, invalidate_caches
# What importlib.util re-exports, from where it lives: importlib.util itself
# imports contextlib, collections, functools... at every start-up.
from importlib._bootstrap_external import spec_from_file_location
from importlib.machinery import ModuleSpec, SourceFileLoader

from jobreg import _meta, _watchdog
from jobreg import jobs as _jobs
from jobreg._compat import find_spec
from jobreg._context import TamperError, clean_text, describe_changes, fork_mark, guard

# Frames of the import machinery and of jobreg itself say nothing to a job
# author: tracebacks leave them out.
_HIDDEN_FRAMES = ("<frozen importlib", "<jobreg>/")


def _format_traceback(exc):
    import traceback

    try:
        summary = traceback.TracebackException(type(exc), exc, exc.__traceback__)
        summary.stack = traceback.StackSummary.from_list(
            [f for f in summary.stack if not f.filename.startswith(_HIDDEN_FRAMES)])
        return "".join(summary.format())
    except BaseException:  # an exception that cannot be shown has no traceback to show
        return ""


class ImportTimeLimitExceeded(BaseException):
    """Raised in a module whose import ran longer than the time limit.

    A BaseException, so that ``except Exception`` in job code cannot
    swallow it.
    """


# In a worker process (jobreg._worker, isolation mode) an object told of
# every module body the loader runs: ``starting(name)`` before it (which
# may raise: the module then fails with that exception, its body unrun) and
# ``finished(name)`` after it, however it ended. None in the host process.
module_watch = None


def _timed_import(name, limit):
    """import_module(name), interrupted after ``limit`` seconds (0: never)."""
    watch = module_watch
    forks = fork_mark()  # (a body the usual machinery runs has no guard: a fork ends here)
    if watch is not None:
        watch.starting(name)
    try:
        if not limit:
            return import_module(name)
        _watchdog.arm(limit, ImportTimeLimitExceeded)
        try:
            return import_module(name)
        finally:
            _watchdog.disarm()
    finally:
        if fork_mark() != forks:
            os._exit(0)
        if watch is not None:
            watch.finished(name)


def _message(exc):
    if isinstance(exc, ImportTimeLimitExceeded):
        return "the module ran longer than the import time limit and was interrupted"
    if isinstance(exc, SystemExit):
        return f"the module called sys.exit({exc.code!r}) while being imported"
    text = str(exc)
    return text if text else repr(exc)


def _describe(module, path, exc):
    """A load error for ``module`` (whose file is ``path``) failing with ``exc``."""
    import traceback

    file, line = path, 0
    # The deepest frame in the module's own file is where it went wrong for
    # this module, even when the cause lies in a module it imported.
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == path:
            line = lineno
    if not line and isinstance(exc, SyntaxError) and exc.filename:
        file, line = exc.filename, exc.lineno or 0
    return (module, file, line, type(exc).__name__, _message(exc), _format_traceback(exc))


def _class_location(cls):
    try:
        module = sys.modules.get(cls.__module__)
        file = getattr(module, "__file__", None) or ""
    except BaseException:  # a module whose __file__ is no attribute to read
        return "", 0
    try:
        import inspect

        line = inspect.getsourcelines(cls)[1]
    except BaseException:  # no source to read: the module's file is still named
        line = 0
    return file, line


class _Load:
    """What one load of one source has seen so far."""

    def __init__(self):
        self.modules = {}      # name -> (path, kind): what the finder serves
        self.failed = {}       # name -> "Type: message"
        self.registered = []   # (registering module, cls, file, line)
        self.errors = []
        self.thread = get_ident()  # the thread that runs the load
        guard.observe()

    def register(self, module_name, classes, filename, lineno):
        if type(module_name) is not str:  # a module that set its __name__ to something else
            module_name = clean_text(module_name)
        for cls in classes:
            try:
                named = type(cls.__module__) is str
            except BaseException:
                named = False
            if named:
                self.registered.append((module_name, cls, filename, lineno))
            else:
                self.errors.append((module_name, filename, lineno, "TypeError",
                                    f"register_jobs: class {cls.__qualname__!r}: its __module__ "
                                    "must be a str", ""))

    def module_failed(self, name, path, exc):
        if name not in self.failed:
            try:
                error = _describe(name, path, exc)
            except BaseException:  # an exception whose str() or repr() raises
                error = (name, path, 0, type(exc).__name__,
                         f"<{type(exc).__name__} that cannot be shown>", "")
            self.failed[name] = f"{error[3]}: {error[4]}"
            self.errors.append(error)

    def refuse(self, name, path, why):
        self.errors.append((name, path, 0, "ImportError", why, ""))

    def _silent_modules(self, source):
        """The loaded modules of ``source`` where Nautobot 1.x looked for jobs
        that called register_jobs for nothing: (name, module), by name."""
        prefixes = tuple(source.job_modules())
        below = tuple(p + "." for p in prefixes)
        registering = {entry[0] for entry in self.registered}
        for name in sorted(n for n in list(sys.modules) if n in prefixes or n.startswith(below)):
            module = sys.modules.get(name)
            if module is not None and name not in self.failed and name not in registering:
                yield name, module

    def register_1x(self, source):
        """Nautobot 1.x: the jobs of a module that uses no register_jobs register
        without it (a module that calls it is 2.x code: its calls decide)."""
        for name, module in self._silent_modules(source):
            file = getattr(module, "__file__", None) or ""
            for cls in _jobs._jobs_1x_of(module):
                self.registered.append((name, cls, file, 0))

    def warn_1x(self, source):
        """A module that registers nothing but defines 1.x-style jobs is an
        error that says how to load it, never a silent nothing."""
        for name, module in self._silent_modules(source):
            old = [cls for cls in _jobs._jobs_1x_of(module) if _meta.runs_1x_style(cls)]
            if old:
                file, line = _class_location(old[0])
                self.errors.append((name, file, line, "UserWarning",
                                    f"{', '.join(cls.__name__ for cls in old)}: Nautobot 1.x jobs "
                                    "(run(self, data, commit)) that register_jobs() never named; "
                                    "set nautobot_compat to \"1.x\" for this source to load them",
                                    ""))

    def collect(self, source=None):
        """The jobs that registered from modules that loaded, with their metadata;
        ``source`` (the loader object) is remembered as the one that loaded them."""
        if source is not None:
            if getattr(source, "nautobot_1x", False):
                self.register_1x(source)
            else:
                self.warn_1x(source)
        chosen = {}
        for module_name, cls, filename, lineno in self.registered:
            # A module that failed contributes no jobs, not even those it
            # registered before failing.
            if module_name in self.failed or cls.__module__ in self.failed:
                continue
            class_path = f"{cls.__module__}.{cls.__name__}"
            first = chosen.get(class_path)
            if first is None:
                chosen[class_path] = (cls, filename, lineno, module_name)
            elif first[0] is not cls:
                self.errors.append((module_name, filename, lineno, "ValueError",
                                    f"register_jobs: class path {class_path!r} is already taken by "
                                    f"another class (registered at {first[1]}:{first[2]}); "
                                    "the first one stays", ""))
        jobs = []
        # Every class here passed register_jobs()'s checks or is_job(): no
        # second check (jobreg.jobs._job_metadata) for each at every load.
        job_fields, mark_1x = _meta.job_fields, _meta.mark_1x
        one_x = getattr(source, "nautobot_1x", False)
        for class_path, (cls, _, _, registrant) in chosen.items():
            try:
                if one_x:
                    mark_1x(cls)
                _check_text("the class path", class_path)
                job = job_fields(cls)
            except BaseException as exc:  # a Meta that raises anything is this job's error
                file, line = _class_location(cls)
                owner = cls.__module__
                if not _clean(owner):  # (its error is about that name: the registrant's then)
                    owner = registrant
                self.errors.append((owner, file, line, type(exc).__name__,
                                    _context_text(exc), _format_traceback(exc)))
                continue
            # The job's own keys beside its fields (the module docstring).
            job["class"] = cls
            job["class_path"] = class_path
            job["module_name"] = cls.__module__
            job["job_class_name"] = cls.__name__
            jobs.append(job)
        if source is not None:
            _jobs._loaded[id(source)] = {job["class_path"]: job["class"] for job in jobs}
        return jobs, [_clean_error(error) for error in self.errors]


def _context_text(exc):
    try:
        return _message(exc)
    except BaseException:
        return f"<{type(exc).__name__} that cannot be shown>"


def _clean(text):
    """Whether C can copy ``text`` as it is (the usual case: ASCII, no NUL)."""
    return (str.isascii(text) and "\x00" not in text) or clean_text(text) == text


def _check_text(what, text):
    """ValueError (naming ``what``) unless C can copy ``text`` as it is."""
    if not (str.isascii(text) and "\x00" not in text):
        _meta.check_text(what, text)


def _clean_error(error):
    """A load error as C reads it ("ssisss"): clean text, an int line."""
    module, file, line, kind, message, traceback = error
    return (clean_text(module), clean_text(file), line if type(line) is int else 0,
            clean_text(kind), clean_text(message), clean_text(traceback))


class _TrackingLoader(SourceFileLoader):
    """Runs a module body and tells the load when it fails."""

    def __init__(self, fullname, path, load):
        super().__init__(fullname, path)
        self._load = load

    def path_stats(self, path):
        st = os.stat(path)
        # Nanoseconds, where CPython uses whole seconds: an edit within the
        # same second must not meet its own stale bytecode after a reload.
        return {"mtime": st.st_mtime_ns, "size": st.st_size}

    def exec_module(self, module):
        watch = module_watch
        # The load's registrar is checked only on the load's own thread: a
        # job thread importing a module meanwhile may see the load end.
        state = guard.enter(self.name, self._load.thread == get_ident())
        try:
            try:
                if watch is not None:
                    watch.starting(self.name)
                super().exec_module(module)
            finally:
                changes = guard.leave(state)  # a forked child ends here
            if changes:
                raise TamperError(describe_changes(changes, "", "the loader"))
        except BaseException as exc:
            self._load.module_failed(self.name, self.path, exc)
            raise
        finally:
            if watch is not None:
                watch.finished(self.name)


class _Finder:
    """Meta-path finder serving exactly the modules of one source."""

    def __init__(self, load):
        self._load = load

    def find_spec(self, name, path=None, target=None):
        load = self._load
        if name in load.failed:
            raise ImportError(f"module {name!r} failed to load: {load.failed[name]}", name=name)
        entry = load.modules.get(name)
        if entry is None:
            return None
        location, kind = entry
        if kind == "namespace":
            spec = ModuleSpec(name, None, is_package=True)
            spec.submodule_search_locations = [location]
            return spec
        if kind == "package":
            init = location + "/__init__.py"
            return spec_from_file_location(name, init, loader=_TrackingLoader(name, init, load),
                                           submodule_search_locations=[location])
        if "__init__" in location:  # never a module from the C side's walk; as before
            return spec_from_file_location(name, location,
                                           loader=_TrackingLoader(name, location, load))
        # A plain module: what spec_from_file_location would find asking the
        # loader's is_package(), said up front (FileFinder does the same).
        return spec_from_file_location(name, location, loader=_TrackingLoader(name, location, load),
                                       submodule_search_locations=None)

    def invalidate_caches(self):
        pass


def _install_finder(old, new):
    """Put finder ``new`` where ``old`` is on sys.meta_path (first when it is
    not there) in one step, so that a thread importing one of the source's
    modules during a reload always finds a finder for it."""
    meta = sys.meta_path
    try:
        meta[meta.index(old)] = new
    except ValueError:
        meta.insert(0, new)
    return new


def _purge(tops):
    """Forget every module under the top-level names ``tops``."""
    if not tops:
        return
    for name in list(sys.modules):
        if name.partition(".")[0] in tops:
            del sys.modules[name]


def _inside(path, root):
    real = os.path.realpath(path)
    return real == root or real.startswith(root + os.sep)


class LocalSource:
    """A jobs root: every module the C side discovered under ``root``."""

    def __init__(self, name, root):
        self.name = name
        self.root = os.path.realpath(root)
        self._finder = None
        self._tops = frozenset()

    def close(self):
        if self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        _purge(self._tops)
        _jobs._loaded.pop(id(self), None)
        self._finder = None
        self._tops = frozenset()

    def job_modules(self):
        """Where Nautobot 1.x looked for jobs: these modules and those under them."""
        return self._tops

    def _shadowing(self, top):
        """Why ``top`` may not be one of ours, or None when it may."""
        module = sys.modules.get(top)
        if module is not None and top not in self._tops:  # ours from the last load is fine
            where = getattr(module, "__file__", None) or "a built-in or generated module"
            return (f"refused: the module name {top!r} would shadow the module of that name "
                    f"already loaded from {where}")
        try:
            spec = find_spec(top)
        except (ImportError, ValueError):
            spec = None
        if spec is None or spec.origin is None and spec.loader is None:
            # Nothing, or a folder without __init__.py (a namespace portion):
            # Python would import our module before such a portion.
            return None
        locations = list(spec.submodule_search_locations or []) or [spec.origin or ""]
        if all(loc and _inside(loc, self.root) for loc in locations):
            return None  # the jobs root itself is on sys.path: that is us
        where = spec.origin if spec.has_location else "a module of that name on sys.path"
        return (f"refused: the module name {top!r} would shadow {where}, "
                "which is importable from outside the jobs root")

    def load(self, entries, limit):
        # The last load's finder and modules stay until the new finder takes
        # the old one's place: a job running in another thread that imports
        # a module of this root meanwhile finds it, old or new, never nothing.
        invalidate_caches()
        load = _Load()
        refused, tops, to_import = set(), set(), []
        for name, path, kind in entries:
            top = name.partition(".")[0]
            if top in refused:
                continue
            if name == top:
                why = self._shadowing(top)
                if why:
                    refused.add(top)
                    load.refuse(name, path if kind == "module" else path + "/", why)
                    continue
                tops.add(top)
            load.modules[name] = (path, kind)
            if kind != "namespace":
                to_import.append((name, path if kind == "module" else path + "/__init__.py"))

        previous, _jobs._registrar = _jobs._registrar, load.register
        try:
            # Registrations go to this load before any module can run again.
            self._finder = _install_finder(self._finder, _Finder(load))
            _purge(self._tops | tops)
            self._tops = frozenset(tops)
            # As Nautobot 3.x: the top-level modules first, then the rest that
            # their imports did not reach, so each file gives one module object.
            top_first = [entry for entry in to_import if "." not in entry[0]] + \
                        [entry for entry in to_import if "." in entry[0]]
            for name, path in top_first:
                # Imported already by a module before it is no reason to skip
                # it: import_module() then only waits for a job in another
                # thread that may still be running its body, so that the load
                # never ends (and the next purge never comes) half-way through.
                if name in load.failed:
                    continue
                try:
                    _timed_import(name, limit)
                except BaseException as exc:  # SystemExit too: one module never stops the load
                    load.module_failed(name, path, exc)
        finally:
            _jobs._registrar = previous
        return load.collect(self)


def _module_file(name):
    """The file a module would load from, without running it ("" if unknown)."""
    module = sys.modules.get(name)
    if module is not None:
        return getattr(module, "__file__", None) or ""
    try:
        spec = find_spec(name)
    except (ImportError, ValueError):
        return ""
    return (spec.origin or "") if spec is not None else ""


class AppSource:
    """An app package on sys.path; its app config names its jobs module (SPEC 1.3)."""

    def __init__(self, name, root):
        self.name = name
        self.location = ""  # the package's folder, known after the first import
        self._finder = None
        self._jobs_module = name + ".jobs"

    def close(self):
        if self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        self._finder = None
        _jobs._loaded.pop(id(self), None)
        _purge({self.name})

    def job_modules(self):
        return (self._jobs_module,)

    def _serve_package(self, load):
        """Import the package's modules with nanosecond bytecode stamps, as
        a jobs root's: a reload after a same-second edit must not meet stale
        bytecode."""
        try:
            spec = find_spec(self.name)
        except (ImportError, ValueError):
            return
        locations = list(getattr(spec, "submodule_search_locations", None) or [])
        if spec is None or spec.origin is None or len(locations) != 1:
            return  # not found, or a namespace package: the usual machinery
        self._finder = _CheckoutFinder(self.name, locations[0], load)
        sys.meta_path.insert(0, self._finder)

    def load(self, _unused, limit):
        self.close()
        invalidate_caches()
        load = _Load()
        self._limit = limit
        self._serve_package(load)
        previous, _jobs._registrar = _jobs._registrar, load.register
        try:
            self._import_jobs(load)
        finally:
            _jobs._registrar = previous
        return load.collect(self)

    def _try_import(self, load, name):
        """The module, or None when it failed (recorded)."""
        try:
            return _timed_import(name, self._limit)
        except BaseException as exc:
            load.module_failed(name, _module_file(name), exc)
            return None

    def _import_jobs(self, load):
        package = self._try_import(load, self.name)
        if package is None:
            return
        self.location = (list(getattr(package, "__path__", None) or []) or [""])[0]
        config = getattr(package, "config", None)
        if config is None:
            config = self._config_from_apps_module(load)
            if config is None:
                return
        from jobreg.apps import _jobs_module_setting

        setting, explicit = _jobs_module_setting(config)
        if setting == self.name or setting.startswith(self.name + "."):
            target = setting
        else:
            target = f"{self.name}.{setting}"
        self._jobs_module = target
        try:
            _timed_import(target, self._limit)
        except ModuleNotFoundError as exc:
            if exc.name == target and not explicit:
                return  # the default jobs module is optional: no jobs
            load.module_failed(target, _module_file(target), exc)
        except BaseException as exc:
            load.module_failed(target, _module_file(target), exc)

    def _config_from_apps_module(self, load):
        from jobreg.apps import AppConfig

        apps_name = f"{self.name}.apps"
        file = _module_file(self.name)
        try:
            apps = _timed_import(apps_name, self._limit)
        except ModuleNotFoundError as exc:
            if exc.name != apps_name:
                load.module_failed(apps_name, _module_file(apps_name), exc)
                return None
            load.refuse(self.name, file, f"app {self.name!r} has no app configuration: no `config` "
                                         f"attribute and no {apps_name} module")
            return None
        except BaseException as exc:
            load.module_failed(apps_name, _module_file(apps_name), exc)
            return None
        found = [value for value in vars(apps).values()
                 if isinstance(value, type) and issubclass(value, AppConfig)
                 and value is not AppConfig and value.__module__ == apps_name]
        if len(found) == 1:
            return found[0]
        names = ", ".join(sorted(c.__name__ for c in found)) or "none"
        load.refuse(apps_name, getattr(apps, "__file__", "") or "",
                    f"app {self.name!r} must define exactly one app configuration class in "
                    f"{apps_name} (found: {names}), or set `config` in its __init__.py")
        return None


class _CheckoutFinder:
    """Meta-path finder for ``name`` and its sub-modules inside one git checkout.

    Module bodies run through _TrackingLoader, whose bytecode stamps are in
    nanoseconds: a sync (or its rollback) rewrites files within the same
    second, often with the same size, and must never meet stale bytecode.
    """

    def __init__(self, name, location, load):
        self._name = name
        self._location = location
        self._load = load

    def find_spec(self, name, path=None, target=None):
        if name != self._name and not name.startswith(self._name + "."):
            return None
        if name in self._load.failed:
            raise ImportError(f"module {name!r} failed to load: {self._load.failed[name]}", name=name)
        base = os.path.join(self._location, *name.split(".")[1:])
        init = os.path.join(base, "__init__.py")
        if os.path.isfile(init):
            return spec_from_file_location(name, init, loader=_TrackingLoader(name, init, self._load),
                                           submodule_search_locations=[base])
        if name == self._name:
            return None
        if os.path.isfile(base + ".py"):
            return spec_from_file_location(name, base + ".py",
                                           loader=_TrackingLoader(name, base + ".py", self._load))
        if os.path.isdir(base):
            spec = ModuleSpec(name, None, is_package=True)
            spec.submodule_search_locations = [base]
            return spec
        return None

    def invalidate_caches(self):
        pass


def _modules_under(folder, prefix):
    """The module names of every ``.py`` file under ``folder`` (a package
    called ``prefix``), in pkgutil.walk_packages order: sorted, a package
    before what it holds. As pkgutil: a name with a dot is no module, a folder
    without ``__init__.py`` is no package; hidden folders and
    ``__pycache__`` are skipped. Runs no code."""
    names = []
    try:
        entries = sorted(os.listdir(folder))
    except OSError:
        return names
    for entry in entries:
        path = os.path.join(folder, entry)
        if entry.endswith(".py") and entry != "__init__.py":
            stem = entry[:-3]
            if stem and "." not in stem and os.path.isfile(path):
                names.append(f"{prefix}.{stem}")
        elif ("." not in entry and entry != "__pycache__"
              and os.path.isfile(os.path.join(path, "__init__.py"))):
            names.append(f"{prefix}.{entry}")
            names.extend(_modules_under(path, f"{prefix}.{entry}"))
    return names


class GitSource:
    """A git checkout at ``root``: ``<slug>``, ``<slug>.jobs`` and every module
    under ``<slug>/jobs/`` (SPEC 1.2, as Nautobot >= 2.3).

    Whatever those modules import runs too; no other module of the
    repository is imported by the loader.
    """

    def __init__(self, name, root):
        self.name = name
        self.root = root
        self._finder = None

    def close(self):
        if self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        self._finder = None
        _jobs._loaded.pop(id(self), None)
        _purge({self.name})

    def job_modules(self):
        return (self.name + ".jobs",)

    def _missing(self, root):
        missing = []
        if not os.path.isfile(os.path.join(root, "__init__.py")):
            missing.append("top-level __init__.py")
        if not (os.path.isfile(os.path.join(root, "jobs.py"))
                or os.path.isfile(os.path.join(root, "jobs", "__init__.py"))):
            missing.append("jobs.py or jobs/__init__.py")
        return missing

    def load(self, _unused, limit):
        self.close()
        invalidate_caches()
        load = _Load()
        root = os.path.realpath(self.root)
        if not os.path.isdir(root):
            load.refuse(self.name, root, f"the git repository {self.name!r} has no checkout at "
                                         f"{root} yet: sync it first")
            return load.collect(self)
        missing = self._missing(root)
        if missing:
            load.refuse(self.name, root, f"the git repository {self.name!r} at {root} has no "
                                         + " and no ".join(missing))
            return load.collect(self)
        if self.name in sys.modules or find_spec(self.name) is not None:
            load.refuse(self.name, root, f"refused: the slug {self.name!r} would shadow a module "
                                         "of that name importable from elsewhere")
            return load.collect(self)
        self._finder = _CheckoutFinder(self.name, root, load)
        sys.meta_path.insert(0, self._finder)
        previous, _jobs._registrar = _jobs._registrar, load.register
        try:
            # <slug>, then <slug>.jobs, then what their imports did not reach;
            # nothing under a package that failed can import.
            names = [self.name, self.name + ".jobs"] + _modules_under(
                os.path.join(root, "jobs"), self.name + ".jobs")
            for name in names:
                if any(f"{name}.".startswith(f"{bad}.") for bad in load.failed):
                    continue  # (as a jobs root: an imported module is waited for, not skipped)
                try:
                    _timed_import(name, limit)
                except BaseException as exc:
                    load.module_failed(name, _module_file(name), exc)
                    if name in (self.name, self.name + ".jobs"):
                        break
        finally:
            _jobs._registrar = previous
        return load.collect(self)
