"""jobreg._worker (the author API): the loop of a worker process (isolation mode).

In isolation mode (docs/isolation.md) the library forks worker processes
from the host (src/isolate.c); each imports sources and runs jobs for it,
so that job code that exits, crashes, hangs or eats memory takes down a
worker, never the host. The host sends requests over a socket and the
worker answers; both speak in frames: a 4-byte little-endian length, one
kind byte, the payload.

- ``m`` a marshalled tuple, the message's kind first (the only kind of
  frame so far):

  host to worker: ``("load", key, serial, loader_class, name, root,
  nautobot_1x, limit, args, skip)``: import a source as the host process
  would (jobreg._loader), except the modules of ``skip`` ({name: (type,
  message)}), which killed an earlier worker and fail with that error
  unrun. ``("run", key, serial, class_path, data_json, context_json,
  record_json, soft_limit, has_host)``: run a job of a source loaded at
  ``serial`` (jobreg._runner). During a run the host answers ``("file",
  ...)`` with ``("ok",)`` or ``("refused", message)`` and ``("host", ...)``
  with ``("ok", json)``, ``("lookup", message)`` or ``("error", message)``.

  worker to host: ``("loaded", jobs, errors, facts)``: what
  jobreg._loader returned, each job's ``"class"`` None (classes stay
  here); ``facts`` what the host would have read from its own
  ``sys.modules``: ``{"location": the package folder of an app source or
  "", "from_checkout": whether a git source's <slug> and <slug>.jobs were
  imported from its checkout}``. ``("log", level, name, message, extra_json)``, ``("file", name,
  content)``, ``("host", operation, args_json)``, ``("result", outcome)``,
  ``("invalid", message)`` (input refused), ``("error", message)``.

Which module bodies run is not sent: the worker writes it into a page it
shares with the host (``jobreg._workerpage``, made by src/isolate.c), with
no system call per module. The host reads it when the worker dies (it
blames the innermost body) and to time the outermost against the import
time limit.

The host never waits for a worker without a deadline it chose and a way to
kill it; the worker never outlives the host's end of the socket.
"""

import marshal
import os
import sys

from jobreg import _loader, _watchdog
from jobreg import jobs as _jobs

_FRAME_MESSAGE = b"m"


class _Channel:
    """The worker's end of its socket."""

    def __init__(self, fd):
        self.fd = fd
        self.pid = os.getpid()

    def _write(self, kind, payload):
        if os.getpid() != self.pid:
            # A child that job code forked came back here: it must never
            # speak for the worker, nor go on with its work.
            os._exit(0)
        data = memoryview(len(payload).to_bytes(4, "little") + kind + payload)
        while data:
            data = data[os.write(self.fd, data):]

    def send(self, message):
        _flush_stdio()  # what the job printed comes out before the host hears of it
        self._write(_FRAME_MESSAGE, marshal.dumps(message))

    def _read(self, size):
        chunks = []
        while size:
            chunk = os.read(self.fd, size)
            if not chunk:  # the host closed its end (or died): nothing left to do
                _flush_stdio()
                os._exit(0)
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def receive(self):
        header = self._read(5)
        payload = self._read(int.from_bytes(header[:4], "little"))
        return marshal.loads(payload)


def _killer(type_name, message):
    """The exception a module that killed an earlier worker fails with."""
    return type(type_name, (Exception,), {"__module__": "jobreg"})(message)


class _ModuleWatch:
    """jobreg._loader.module_watch in a worker: tells the host of each body."""

    def __init__(self, skip):
        from jobreg import _workerpage

        self._starting = _workerpage.starting
        self.finished = _workerpage.finished  # finished(name)
        self._skip = skip

    def starting(self, name):
        if name in self._skip:  # before the page: a body that never starts never ends
            raise _killer(*self._skip[name])
        self._starting(name)


class _Loaded:
    """A source as this worker last imported it."""

    def __init__(self, loader_class, root, loader):
        self.loader_class = loader_class
        self.root = root
        self.loader = loader
        self.serial = 0
        self.classes = {}


def _load(channel, sources, message):
    _, key, serial, loader_class, name, root, nautobot_1x, limit, args, skip = message
    entry = sources.get(key)
    if entry is None or entry.loader_class != loader_class or entry.root != root:
        if entry is not None:
            entry.loader.close()
        entry = sources[key] = _Loaded(loader_class, root, getattr(_loader, loader_class)(name, root))
    entry.serial = 0  # until this load is complete
    entry.loader.nautobot_1x = nautobot_1x
    _loader.module_watch = _ModuleWatch(skip)
    try:
        jobs, errors = entry.loader.load(args, limit)
    finally:
        _loader.module_watch = None
    classes = {}
    for job in jobs:
        classes[job["class_path"]] = job["class"]
        job["class"] = None
    entry.classes = classes
    entry.serial = serial
    location = getattr(entry.loader, "location", "")
    facts = {"location": location if isinstance(location, str) else "",
             "from_checkout": _from_checkout(name, root)}
    channel.send(("loaded", jobs, errors, facts))


def _from_checkout(name, root):
    """Whether ``name`` and ``name.jobs`` were imported from the folder ``root``."""
    module = sys.modules.get(name)
    if module is None or name + ".jobs" not in sys.modules:
        return False
    file = getattr(module, "__file__", None)
    return isinstance(file, str) and os.path.realpath(file) == os.path.join(
        os.path.realpath(root), "__init__.py")


def _soft_limit_exception():
    # Celery's class when the job's code imported it: its `except
    # SoftTimeLimitExceeded` then catches what we raise.
    celery = sys.modules.get("celery.exceptions")
    return getattr(celery, "SoftTimeLimitExceeded", None) or _jobs.SoftTimeLimitExceeded


def _run(channel, sources, message):
    from jobreg import _runner

    _, key, serial, class_path, data_json, context_json, record_json, soft, has_host = message
    entry = sources.get(key)
    cls = entry.classes.get(class_path) if entry is not None and entry.serial == serial else None
    if cls is None:
        channel.send(("error", f"the worker has no job {class_path!r} at that load"))
        return

    def log(level, level_name, text, extra):
        channel.send(("log", level, level_name, text, extra))

    def add_file(name, content):
        channel.send(("file", name, bytes(content)))
        reply = channel.receive()
        if reply[0] != "ok":
            raise RuntimeError(reply[1])

    def host_call(operation, args_json):
        channel.send(("host", operation, args_json))
        reply = channel.receive()
        if reply[0] == "ok":
            return reply[1]
        raise (LookupError if reply[0] == "lookup" else RuntimeError)(reply[1])

    if soft > 0:
        _watchdog.arm(soft, _soft_limit_exception())
    try:
        outcome = _runner.run(cls, data_json, log, context_json, record_json, add_file,
                              host_call if has_host else None)
    except _jobs.ValidationError as exc:
        channel.send(("invalid", str(exc)))
        return
    except BaseException as exc:  # the runner's own failure: the host says EPYTHON
        channel.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    finally:
        if soft > 0:
            _watchdog.disarm()
    channel.send(("result", outcome))


def _flush_stdio():
    # What job code printed is the host's stderr's (the worker's fd 1 is
    # it): out before the worker answers, or ends with os._exit().
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a stream job code replaced or closed
            pass


def serve(fd):
    """Answer the host's requests on ``fd`` until it closes it."""
    channel = _Channel(fd)
    sources = {}
    handlers = {"load": _load, "run": _run}
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True)  # a crash loses no whole line
        except Exception:
            pass
    while True:
        message = channel.receive()
        try:
            handlers[message[0]](channel, sources, message)
        except BaseException as exc:  # a request this worker could not serve
            channel.send(("error", f"{type(exc).__name__}: {exc}"))
