"""The server's own tables for what libjobreg keeps (include/jobreg/sys/storage.h).

The library never opens the database: it reads and writes these rows
through the storage backend of storage.py. Columns exist for what pages
filter and list; a record's every field is also kept whole in `fields`,
which is what the backend hands back to the library.
"""
from django.db import models


class JobRecord(models.Model):
    """A job record (jobreg_record): one per job class the syncer has seen."""

    id = models.CharField(primary_key=True, max_length=64)
    module_name = models.CharField(max_length=255)
    job_class_name = models.CharField(max_length=255)
    source_type = models.CharField(max_length=8)  # "local", "git", "app"
    source = models.CharField(max_length=255)      # "" for a jobs root
    grouping = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    installed = models.BooleanField()
    enabled = models.BooleanField()
    fields = models.JSONField()  # Record.to_row(): every field as the library stores it

    class Meta:
        constraints = [models.UniqueConstraint(fields=["module_name", "job_class_name"],
                                               name="jobrecord_class_unique")]
        indexes = [models.Index(fields=["source_type", "source"]),
                   models.Index(fields=["grouping", "name", "module_name", "job_class_name", "id"])]

    @property
    def class_path(self):
        return f"{self.module_name}.{self.job_class_name}"


class GitRepository(models.Model):
    """A git repository of jobs: what the operator configures (slug, URL,
    branch) and the git state the syncer records (jobreg_git_state)."""

    slug = models.CharField(primary_key=True, max_length=100)
    remote_url = models.CharField(max_length=1000)  # as configured (may hold credentials)
    branch = models.CharField(max_length=255, blank=True, default="")
    # Written by the library (git_state_write): the URL already redacted.
    recorded_remote_url = models.CharField(max_length=1000, blank=True, default="")
    recorded_branch = models.CharField(max_length=255, blank=True, default="")
    current_head = models.CharField(max_length=64, blank=True, default="")
    # The server's own bookkeeping of sync requests.
    sync_status = models.CharField(max_length=16, blank=True, default="")  # pending, ok, failed
    sync_message = models.TextField(blank=True, default="")
    sync_requested = models.DateTimeField(null=True, blank=True)
    sync_finished = models.DateTimeField(null=True, blank=True)


class SourceState(models.Model):
    """Sync fingerprints (source_state_read/_write): opaque text per source."""

    source_type = models.CharField(max_length=8)
    source_name = models.CharField(max_length=255)
    state = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source_type", "source_name"],
                                               name="sourcestate_unique")]


class LoadError(models.Model):
    """A load error stored by the last refresh of its source (load_errors_replace)."""

    source_type = models.CharField(max_length=8)
    source_name = models.CharField(max_length=255)
    position = models.IntegerField()
    module = models.CharField(max_length=255, blank=True)
    file = models.TextField(blank=True)
    line = models.IntegerField(default=0)
    type = models.CharField(max_length=255, blank=True)
    message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    when = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["source_type", "source_name", "position"]
        constraints = [models.UniqueConstraint(fields=["source_type", "source_name", "position"],
                                               name="loaderror_unique")]


class JobRun(models.Model):
    """A run record (jobreg_run_row), written by the library at start and end,
    plus `worker`: which worker ran it (the host's own column)."""

    id = models.CharField(primary_key=True, max_length=64)  # the Celery task id
    job_id = models.CharField(max_length=64, db_index=True)
    class_path = models.CharField(max_length=512)
    source_type = models.CharField(max_length=8)
    source_name = models.CharField(max_length=255)
    code_version = models.CharField(max_length=64)
    status = models.CharField(max_length=16, db_index=True)
    started = models.CharField(max_length=40)  # UTC ISO 8601: text order is time order
    finished = models.CharField(max_length=40, blank=True)
    result_json = models.TextField(blank=True)
    error_type = models.CharField(max_length=255, blank=True)
    error_message = models.TextField(blank=True)
    host_json = models.TextField(blank=True)  # what run_job said of the run: worker, queue
    worker = models.CharField(max_length=255, blank=True)  # from host_json, to filter on

    class Meta:
        indexes = [models.Index(fields=["-started", "-id"])]


class RunRequest(models.Model):
    """A run the web asked for, before a worker picks it up (and its refusal,
    if the worker refuses it before the library records it)."""

    id = models.CharField(primary_key=True, max_length=64)  # the Celery task id = run id
    job_id = models.CharField(max_length=64)
    queue = models.CharField(max_length=100)
    data = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)
    refused = models.TextField(blank=True, default="")


class JobLogEntry(models.Model):
    """A log line of a run, stored as the job logs it."""

    run_id = models.CharField(max_length=64, db_index=True)
    seq = models.IntegerField()
    level = models.IntegerField()
    level_name = models.CharField(max_length=16)
    message = models.TextField()
    extra = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run_id", "seq"]


class JobFile(models.Model):
    """A file a run created (self.create_file())."""

    run_id = models.CharField(max_length=64, db_index=True)
    name = models.CharField(max_length=255)
    content = models.BinaryField()
    created = models.DateTimeField(auto_now_add=True)
