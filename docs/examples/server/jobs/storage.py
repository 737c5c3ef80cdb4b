"""A libjobreg storage backend over the Django ORM (docs/storage-backend.md).

``jobreg.Storage.from_backend(OrmBackend())`` gives the library the
server's own tables (models.py) as its storage: the library never opens
the database itself. Every library call on the storage is one transaction:

- ``begin(write)`` enters ``transaction.atomic()`` by hand; a write
  transaction first takes a PostgreSQL transaction-level advisory lock,
  so writers on every machine take turns and none loses another's update
  (the library reads, then writes what it computed from what it read); a
  read transaction is a REPEATABLE READ snapshot and never waits;
- ``commit()`` / ``rollback()`` leave the atomic block, which commits or
  rolls back (and releases the advisory lock with the transaction).

The methods run on the thread that called the library, with that thread's
Django connection; the library serializes the calls on one storage, so a
web process's threads may share one.
"""
import json

import jobreg
from django.db import connections, transaction
from django.db.models import F, Value
from django.db.models.functions import Collate, Concat

from .models import GitRepository, JobRecord, JobRun, LoadError, SourceState

# The advisory lock key of the job tables ("jobreg" in ASCII, then 1): all
# processes writing job records, git state, load errors or runs take it.
WRITE_LOCK_KEY = 0x6A6F62726567_0001

RECORD_COLUMNS = ("module_name", "job_class_name", "source_type", "source", "grouping", "name",
                  "installed", "enabled")

RUN_FIELDS = ("id", "job_id", "class_path", "source_type", "source_name", "code_version",
              "status", "started", "finished", "result_json", "error_type", "error_message",
              "host_json")

LOAD_ERROR_FIELDS = ("module", "file", "line", "type", "message", "traceback", "when")


class _Rollback(Exception):
    """Handed to atomic.__exit__() to make it roll back."""


def _bytewise(expression):
    # The library orders lists bytewise (strcmp); the database's own
    # collation may not.
    return Collate(expression, "C")


class OrmBackend(jobreg.StorageBackend):
    """The job tables of models.py as a libjobreg storage (backend version 3).

    A run record's ``host_json`` (what run_job kept with it: the worker and
    queue) is stored as it is; its worker is copied to JobRun.worker too, a
    column the pages filter on.
    """

    def __init__(self, using="default"):
        self.using = using
        self._atomic = None

    # -- transactions ------------------------------------------------------
    def begin(self, write):
        connection = connections[self.using]
        outermost = not connection.in_atomic_block
        atomic = transaction.atomic(using=self.using)
        atomic.__enter__()
        try:
            with connection.cursor() as cursor:
                if write:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK_KEY])
                elif outermost:
                    # One consistent state for all the reads of this call.
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        except BaseException as exc:
            atomic.__exit__(type(exc), exc, exc.__traceback__)  # no transaction left open
            raise
        self._atomic = atomic

    def commit(self):
        atomic, self._atomic = self._atomic, None
        if atomic is not None:
            atomic.__exit__(None, None, None)  # on failure Django rolls back and raises

    def rollback(self):
        atomic, self._atomic = self._atomic, None
        if atomic is not None:
            atomic.__exit__(_Rollback, _Rollback(), None)

    # -- records (version 1) ---------------------------------------------------
    def read_records(self):
        return [row for row in JobRecord.objects.using(self.using).values_list("fields", flat=True)]

    def write_record(self, record):
        row = record.to_row()
        columns = {name: row[name] for name in RECORD_COLUMNS}
        records = JobRecord.objects.using(self.using)
        # Under the advisory lock nobody inserts between the two statements.
        if not records.filter(id=row["id"]).update(fields=row, **columns):
            records.create(id=row["id"], fields=row, **columns)

    def delete_record(self, id):
        JobRecord.objects.using(self.using).filter(id=id).delete()

    # -- git state -------------------------------------------------------------
    def git_state_read(self, slug):
        repo = GitRepository.objects.using(self.using).filter(slug=slug).first()
        if repo is None or not (repo.recorded_remote_url or repo.current_head):
            return None  # configured, never synced: no state stored
        return repo.recorded_remote_url, repo.recorded_branch, repo.current_head

    def git_state_write(self, slug, remote_url, branch, current_head):
        repos = GitRepository.objects.using(self.using)
        state = dict(recorded_remote_url=remote_url, recorded_branch=branch,
                     current_head=current_head)
        if not repos.filter(slug=slug).update(**state):
            # Synced by another host of the same database (the jobreg command).
            repos.create(slug=slug, remote_url=remote_url, branch=branch, **state)

    # -- source state (version 2) ---------------------------------------------
    def source_state_read(self, source_type, source_name):
        row = (SourceState.objects.using(self.using)
               .filter(source_type=source_type, source_name=source_name).first())
        return None if row is None else row.state

    def source_state_write(self, source_type, source_name, state):
        rows = SourceState.objects.using(self.using).filter(source_type=source_type,
                                                             source_name=source_name)
        if state is None:
            rows.delete()
        elif not rows.update(state=state):
            SourceState.objects.using(self.using).create(source_type=source_type,
                                                         source_name=source_name, state=state)

    # -- lookups and lists (version 3) ------------------------------------------
    def get_record_by_id(self, id):
        return (JobRecord.objects.using(self.using).filter(id=id)
                .values_list("fields", flat=True).first())

    def get_record_by_class(self, module_name, job_class_name):
        return (JobRecord.objects.using(self.using)
                .filter(module_name=module_name, job_class_name=job_class_name)
                .values_list("fields", flat=True).first())

    def list_records(self, filter):
        rows = JobRecord.objects.using(self.using)
        source_type = filter["source_type"]
        if source_type is not None:
            rows = rows.filter(source_type=source_type)
        source_name = filter["source_name"]
        if source_name is not None:
            rows = rows.filter(source=source_name)
        for column in ("installed", "enabled"):  # True, False or None (either)
            if filter[column] is not None:
                rows = rows.filter(**{column: bool(filter[column])})
        rows = rows.annotate(
            o_grouping=_bytewise(F("grouping")), o_name=_bytewise(F("name")),
            o_class=_bytewise(Concat(F("module_name"), Value("."), F("job_class_name"))),
            o_id=_bytewise(F("id"))).order_by("o_grouping", "o_name", "o_class", "o_id")
        offset = filter["offset"] or 0
        limit = filter["limit"] or 0
        rows = rows[offset:offset + limit] if limit else rows[offset:]
        return list(rows.values_list("fields", flat=True))

    # -- load errors (version 3) -------------------------------------------------
    def load_errors_replace(self, source_type, source_name, rows):
        errors = LoadError.objects.using(self.using)
        errors.filter(source_type=source_type, source_name=source_name).delete()
        errors.bulk_create([
            LoadError(source_type=source_type, source_name=source_name, position=i,
                      **{name: getattr(row, name) for name in LOAD_ERROR_FIELDS})
            for i, row in enumerate(rows)])

    def load_errors_read(self, source_type, source_name):
        errors = LoadError.objects.using(self.using)
        if source_type is not None:
            errors = errors.filter(source_type=source_type)
        if source_name is not None:
            errors = errors.filter(source_name=source_name)
        return list(errors.order_by("source_type", "source_name", "position").values(
            "source_type", "source_name", *LOAD_ERROR_FIELDS))

    # -- run records (version 3) ----------------------------------------------------
    def run_write(self, row):
        values = {name: row[name] for name in RUN_FIELDS}
        values["worker"] = json.loads(row["host_json"]).get("worker", "") if row["host_json"] else ""
        runs = JobRun.objects.using(self.using)
        if not runs.filter(id=values["id"]).update(**values):
            runs.create(**values)

    def runs_read(self, filter):
        runs = JobRun.objects.using(self.using)
        for name in ("id", "job_id", "status"):
            value = filter[name]
            if value is not None:
                runs = runs.filter(**{name: value})
        runs = runs.annotate(o_started=_bytewise(F("started")), o_id=_bytewise(F("id")))
        runs = runs.order_by("-o_started", "-o_id")
        offset = filter["offset"] or 0
        limit = filter["limit"] or 0
        runs = runs[offset:offset + limit] if limit else runs[offset:]
        return list(runs.values(*RUN_FIELDS))
