"""libjobreg in a server process: one storage and one registry per process.

``get()`` imports the binding (which starts the library in this
interpreter) the first time it is called: Celery calls it in each pool
process (worker_process_init, tasks.py), never in the parent before it
forks; the web calls it when a page needs the library.

The two roles of docs/workers.md:

- the syncer (``Library.sync``): a git sync with the storage fetches,
  imports the new commit, refreshes that repository's records and records
  its head, all or nothing;
- a worker (``Library.prepare_to_run``): before each job, every git
  checkout goes to the head the syncer recorded, then a reload picks up
  whatever changed; a worker never fetches a branch tip nor refreshes.
"""
import logging
import threading

from django.conf import settings

from .models import GitRepository

log = logging.getLogger(__name__)

_lock = threading.Lock()
_library = None


def get():
    """This process's Library, made at the first call."""
    global _library
    with _lock:
        if _library is None:
            _library = Library()
        return _library


class Library:
    def __init__(self):
        import jobreg  # starts libjobreg in this interpreter

        from .storage import OrmBackend

        self.jobreg = jobreg
        self.storage = jobreg.Storage.from_backend(OrmBackend())
        self.git_root = settings.JOBSERVER_GIT_ROOT
        self.registry = None
        self.config = {}   # slug -> (remote_url, branch) the registry was built from
        self.sources = {}  # slug -> GitSource
        self.lock = threading.Lock()  # one sync or run preparation at a time

    # -- the registry follows the GitRepository table ------------------------
    def configure(self):
        """Give the registry one git source per GitRepository row: a new row
        is added, a removed one (or one whose URL or branch changed) is
        taken out with Registry.remove_source(), which publishes a
        generation without its jobs at once and imports nothing else."""
        wanted = {r.slug: (r.remote_url, r.branch)
                  for r in GitRepository.objects.order_by("slug")}
        if self.registry is None:
            self.registry = self.jobreg.Registry()
        for slug, conf in list(self.config.items()):
            if wanted.get(slug) != conf:
                log.info("git repository %r removed or changed: its source leaves", slug)
                self.registry.remove_source(self.sources.pop(slug))
                del self.config[slug]
        for slug, (remote_url, branch) in wanted.items():
            if slug in self.sources:
                continue
            try:
                src = self.jobreg.GitSource(slug, remote_url, self.git_root, branch or None)
                self.registry.add_source(src)
            except self.jobreg.Error as exc:  # a bad slug: the others still work
                log.error("git repository %r: %s", slug, exc.message)
                continue
            self.sources[slug] = src
            self.config[slug] = (remote_url, branch)

    # -- the syncer ------------------------------------------------------------
    def sync(self, slug):
        """Fetch ``slug``'s branch, try the new code, refresh its records, record its head."""
        with self.lock:
            self.configure()
            src = self.sources.get(slug)
            if src is None:
                raise self.jobreg.NotFound(f"git repository {slug!r} is not configured "
                                           "(or its slug was refused: see the worker's log)")
            return src.sync(self.storage)

    # -- a worker --------------------------------------------------------------------
    def prepare_to_run(self):
        """Every checkout to its recorded head, then a reload of what changed."""
        with self.lock:
            self.configure()
            for slug, src in self.sources.items():
                try:
                    src.ensure_recorded_head(self.storage)
                except self.jobreg.NotFound as exc:
                    log.info("git repository %r: %s", slug, exc.message)  # never synced
                except self.jobreg.Error as exc:
                    # The checkout keeps the code it has; its jobs run it.
                    log.warning("git repository %r: cannot reach the recorded head: %s",
                                slug, exc.message)
            self.registry.reload()
            return self.registry


def remove_source_records(storage, source_type, source_name):
    """A source gone for good: its records not installed (kept for review and
    delete), its stored load errors and sync state dropped."""
    return storage.retire_source(source_type, source_name)
