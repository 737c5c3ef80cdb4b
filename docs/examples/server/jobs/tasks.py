"""Celery tasks: the syncer's git sync and the workers' job runs (docs/workers.md).

The binding is imported in each pool process (worker_process_init), not in
Celery's parent process: the library starts after the fork.
"""
import itertools
import logging

from celery import shared_task
from celery.signals import worker_process_init
from django.conf import settings
from django.utils import timezone

from . import library
from .models import GitRepository, JobFile, JobLogEntry, RunRequest

log = logging.getLogger(__name__)


@worker_process_init.connect
def start_library(**kwargs):
    library.get()


@shared_task(name="jobs.sync_git_repository")
def sync_git_repository(slug):
    """The syncer: fetch, try the new commit, refresh the records, record the head.

    A commit that does not load is refused (the checkout, the jobs and the
    records stay on the recorded head): the refusal is kept on the
    repository's row for the pages to show.
    """
    lib = library.get()
    repos = GitRepository.objects.filter(slug=slug)
    repos.update(sync_status="running")
    try:
        result = lib.sync(slug)
    except lib.jobreg.Error as exc:
        log.warning("sync of %r failed: %s", slug, exc.message)
        repos.update(sync_status="failed", sync_message=f"{exc.name}: {exc.message}",
                     sync_finished=timezone.now())
        return {"status": "failed", "error": exc.message}
    refresh = result.refresh
    message = (f"{result.old_head[:12] or '(none)'} -> {result.new_head[:12]}"
               f"{'' if result.changed else ' (unchanged)'}")
    if refresh is not None:
        message += (f"; records: {len(refresh.created)} created, {len(refresh.updated)} updated, "
                    f"{len(refresh.uninstalled)} uninstalled")
    repos.update(sync_status="ok", sync_message=message, sync_finished=timezone.now())
    return {"status": "ok", "head": result.new_head}


@shared_task(name="jobs.run_job", bind=True)
def run_job(self, record_id, data):
    """A worker: converge on the recorded heads, reload, run the job, record the run.

    The run record's id is this task's id (the web redirects to its page
    before a worker picks the task up). Log lines and files go to their
    tables as the job makes them.
    """
    run_id = self.request.id
    lib = library.get()
    seq = itertools.count()

    def on_log(level, level_name, message, extra):
        JobLogEntry.objects.create(run_id=run_id, seq=next(seq), level=level,
                                   level_name=level_name, message=message, extra=extra)

    def on_file(name, content):
        JobFile.objects.create(run_id=run_id, name=name, content=content)

    jobreg = lib.jobreg
    try:
        registry = lib.prepare_to_run()
        record = lib.storage.get(record_id)
        # Kept with the run record, unread by the library.
        host = {"worker": settings.JOBSERVER_WORKER_NAME,
                "queue": (self.request.delivery_info or {}).get("routing_key", "")}
        result = registry.run(record.class_path, lib.storage, data=data, log=on_log,
                              on_file=on_file, context={"task_id": run_id},
                              record_in=lib.storage, run_id=run_id, host_json=host)
    except jobreg.Error as exc:
        # A refusal by the record check (not installed, disabled) or bad data
        # is in the run record too; a failure before the run (no such
        # record, a storage error) only here.
        log.warning("run %s of %s refused: %s", run_id, record_id, exc.message)
        RunRequest.objects.filter(id=run_id).update(refused=f"{exc.name}: {exc.message}")
        return {"status": "refused", "error": exc.message}
    return {"status": result.status}
