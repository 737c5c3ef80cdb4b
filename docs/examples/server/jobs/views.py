"""The pages: jobs (filter, enable/disable, clean-up), a job's run form, runs,
git repositories (add, sync, rename, remove) and load errors.

Pages read the server's own tables; changes to records go through the
library's storage (jobs/storage.py), so its rules hold (a delete of an
installed record is refused, writers take the write lock). Syncs and runs
are Celery tasks.
"""
import json
import uuid

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import library, tasks
from .forms import JobRunForm
from .models import (GitRepository, JobFile, JobLogEntry, JobRecord, JobRun, LoadError,
                     RunRequest, SourceState)

INSTALLED_CHOICES = (("all", "All"), ("yes", "Yes"), ("no", "No"))


def _storage():
    return library.get().storage


def _error_text(exc):
    return f"{exc.name}: {exc.message}" if hasattr(exc, "message") else str(exc)


# -- jobs ---------------------------------------------------------------------------
def job_list(request):
    installed = request.GET.get("installed", "all")
    records = JobRecord.objects.order_by("grouping", "name", "module_name", "job_class_name")
    if installed == "yes":
        records = records.filter(installed=True)
    elif installed == "no":
        records = records.filter(installed=False)
    return render(request, "jobs/job_list.html", {
        "records": records, "installed": installed, "installed_choices": INSTALLED_CHOICES})


@require_POST
def job_set_enabled(request, pk, enabled):
    jobreg = library.get().jobreg
    try:
        _storage().set_enabled(pk, enabled)
    except jobreg.Error as exc:
        messages.error(request, _error_text(exc))
    return redirect(request.POST.get("next") or "job_list")


@require_POST
def job_delete(request):
    """Two steps: review the selected records, then delete them."""
    ids = request.POST.getlist("selected")
    records = list(JobRecord.objects.filter(id__in=ids).order_by("module_name", "job_class_name"))
    if not records:
        messages.error(request, "Select the jobs to delete first.")
        return redirect(request.POST.get("next") or "job_list")
    if request.POST.get("confirm") != "yes":
        return render(request, "jobs/job_delete.html", {
            "records": records, "next": request.POST.get("next", "")})
    jobreg = library.get().jobreg
    deleted = 0
    for record in records:
        try:
            _storage().delete(record.id)  # an installed record is refused
            deleted += 1
        except jobreg.Error as exc:
            messages.error(request, f"{record.class_path}: {_error_text(exc)}")
    messages.success(request, f"Deleted {deleted} job record(s).")
    return redirect(request.POST.get("next") or "job_list")


def job_detail(request, pk):
    record = get_object_or_404(JobRecord, pk=pk)
    fields = record.fields
    variables = json.loads(fields.get("variables") or "{}")
    form = JobRunForm(variables, settings.JOBSERVER_WORKERS, request.POST or None)
    if request.method == "POST" and form.is_valid():
        run_id = str(uuid.uuid4())
        worker = form.cleaned_data.get("_worker") or ""
        queue = worker or settings.CELERY_TASK_DEFAULT_QUEUE
        data = form.job_data()
        RunRequest.objects.create(id=run_id, job_id=record.id, queue=queue, data=data)
        # After the commit: a worker must find the request row.
        transaction.on_commit(lambda: tasks.run_job.apply_async(
            args=[record.id, data], task_id=run_id, queue=queue))
        return redirect("run_detail", pk=run_id)
    runs = JobRun.objects.filter(job_id=record.id).order_by("-started", "-id")[:20]
    return render(request, "jobs/job_detail.html", {
        "record": record, "fields": fields, "form": form, "runs": runs,
        "variables_json": json.dumps(variables, indent=2)})


# -- runs ----------------------------------------------------------------------------
def run_list(request):
    runs = JobRun.objects.order_by("-started", "-id")[:100]
    return render(request, "jobs/run_list.html", {"runs": runs})


def run_detail(request, pk):
    run = JobRun.objects.filter(pk=pk).first()
    run_request = RunRequest.objects.filter(pk=pk).first()
    if run is None and run_request is None:
        raise Http404(f"no run {pk}")
    if run is not None:
        status = run.status
    elif run_request.refused:
        status = "REFUSED"
    else:
        status = "PENDING"  # queued: no worker has recorded it yet
    record = JobRecord.objects.filter(pk=run.job_id if run else run_request.job_id).first()
    result = None
    if run is not None and run.result_json:
        result = json.dumps(json.loads(run.result_json), indent=2)
    return render(request, "jobs/run_detail.html", {
        "run_id": pk, "run": run, "request_row": run_request, "status": status,
        "record": record, "result": result,
        "data_json": json.dumps(run_request.data) if run_request else "",
        "done": status not in ("PENDING", "STARTED"),
        "logs": JobLogEntry.objects.filter(run_id=pk).order_by("seq"),
        "files": JobFile.objects.filter(run_id=pk).only("id", "name", "run_id")})


def run_file(request, pk, file_id):
    f = get_object_or_404(JobFile, run_id=pk, pk=file_id)
    response = HttpResponse(bytes(f.content), content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{f.name}"'
    return response


# -- git repositories ------------------------------------------------------------------
def git_list(request):
    repos = GitRepository.objects.order_by("slug")
    pending = any(r.sync_status in ("pending", "running") for r in repos)
    return render(request, "jobs/git_list.html", {"repos": repos, "pending": pending})


def _request_sync(slug):
    GitRepository.objects.filter(slug=slug).update(
        sync_status="pending", sync_message="", sync_requested=timezone.now(), sync_finished=None)
    transaction.on_commit(lambda: tasks.sync_git_repository.delay(slug))


@require_POST
def git_add(request):
    slug = request.POST.get("slug", "").strip()
    remote_url = request.POST.get("remote_url", "").strip()
    branch = request.POST.get("branch", "").strip()
    jobreg = library.get().jobreg
    try:
        jobreg.check_slug(slug)
        jobreg.redact_url(remote_url)
    except jobreg.Error as exc:
        messages.error(request, _error_text(exc))
        return redirect("git_list")
    if not remote_url:
        messages.error(request, "The remote URL is required.")
        return redirect("git_list")
    _, created = GitRepository.objects.get_or_create(
        slug=slug, defaults={"remote_url": remote_url, "branch": branch})
    if not created:
        messages.error(request, f"A git repository with slug {slug!r} already exists.")
    else:
        messages.success(request, f"Added git repository {slug}; press Sync to fetch it.")
    return redirect("git_list")


@require_POST
def git_sync(request, slug):
    get_object_or_404(GitRepository, slug=slug)
    _request_sync(slug)
    messages.info(request, f"Sync of {slug} requested.")
    return redirect("git_list")


def _remove(slug):
    """Forget a repository: its records become not installed (the clean-up
    flow deletes them), its load errors and sync state go."""
    result = library.remove_source_records(_storage(), "git", slug)
    GitRepository.objects.filter(slug=slug).delete()
    return result


@require_POST
def git_delete(request, slug):
    get_object_or_404(GitRepository, slug=slug)
    retired = _remove(slug)
    messages.success(request, f"Removed git repository {slug}: {retired} "
                              "job record(s) marked not installed.")
    return redirect("git_list")


@require_POST
def git_rename(request, slug):
    """A new slug for the same repository: a new GitRepository, synced.

    Without "move the records" the old slug's records stay as duplicates,
    not installed, for the clean-up flow (what Nautobot does); with it they
    are moved to the new slug (Storage.migrate_source) and keep their ids
    and enabled state.
    """
    repo = get_object_or_404(GitRepository, slug=slug)
    new_slug = request.POST.get("new_slug", "").strip()
    jobreg = library.get().jobreg
    try:
        jobreg.check_slug(new_slug)
    except jobreg.Error as exc:
        messages.error(request, _error_text(exc))
        return redirect("git_list")
    if GitRepository.objects.filter(slug=new_slug).exists():
        messages.error(request, f"A git repository with slug {new_slug!r} already exists.")
        return redirect("git_list")
    GitRepository.objects.create(slug=new_slug, remote_url=repo.remote_url, branch=repo.branch)
    if request.POST.get("migrate") == "yes":
        try:
            moved = _storage().migrate_source(slug, new_slug)
        except jobreg.NotFound:
            moved = 0
        SourceState.objects.filter(source_type="git", source_name=slug).delete()
        GitRepository.objects.filter(slug=slug).delete()
        messages.success(request, f"Renamed {slug} to {new_slug}; {moved} record(s) moved.")
    else:
        retired = _remove(slug)
        messages.success(request, f"Renamed {slug} to {new_slug}; {retired} "
                                  "record(s) of the old slug marked not installed.")
    _request_sync(new_slug)
    return redirect("git_list")


# -- load errors --------------------------------------------------------------------------
def load_errors(request):
    """Per source: the errors its last refresh stored, and a sync's refusal."""
    sources = {}
    for err in LoadError.objects.order_by("source_type", "source_name", "position"):
        sources.setdefault((err.source_type, err.source_name), {"errors": [], "refused": ""})
        sources[(err.source_type, err.source_name)]["errors"].append(err)
    for repo in GitRepository.objects.filter(sync_status="failed"):
        entry = sources.setdefault(("git", repo.slug), {"errors": [], "refused": ""})
        entry["refused"] = repo.sync_message
    rows = [{"source_type": t, "source_name": n, "anchor": f"{t}-{n or 'jobs-root'}", **v}
            for (t, n), v in sorted(sources.items())]
    return render(request, "jobs/load_errors.html", {"sources": rows})
