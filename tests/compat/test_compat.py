"""Job code written for Nautobot, loaded, registered and run unchanged (SPEC 2, 2.1).

The corpus (tests/compat/corpus) is our own, modelled on the patterns of
Nautobot's documentation and test jobs: every name of ``nautobot.apps.jobs``,
``nautobot.extras.jobs`` with ``get_task_logger``, ``nautobot.core.celery``,
each discovery layout (jobs root with packages, namespace folders and a file
name that is no identifier; a git repository whose ``jobs/`` sub-modules are
not imported by ``jobs/__init__.py``; an app), the run-time API (hooks,
``fail()``, files, context, ``print()``, data files, receivers), a host's own
``nautobot.dcim.models``, and Nautobot 1.x jobs (opt-in).

Each test copies the corpus into a temporary site, makes real git
repositories of the two repository folders, writes a jobreg.yaml and drives
the ``jobreg`` command (JOBREG names it) as a user would.
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

JOBREG = os.environ["JOBREG"]
CORPUS = Path(__file__).resolve().parent / "corpus"

JOBS_ROOT_JOBS = [
    "2024-maintenance.YearlyMaintenance",
    "custom_vars.PickDevice",
    "data_files.LoadSiteData",
    "device_audit.DeviceAudit",
    "every_name.ImportSurface",
    "extras_style.EchoMessage",
    "extras_style.RefuseEverything",
    "hello_world.HelloWorld",
    "host_models.CountDevices",
    "lenient.LenientJob",
    "lifecycle.Lifecycle",
    "receivers.AuditChanges",
    "receivers.RebootButton",
    "reports.zzz_checks.DnsCheck",
    "shared.checks.NtpCheck",
]
GIT_JOBS = ["compat_repo.jobs.sub.deep_check.DeepCheck", "compat_repo.jobs.sync_devices.SyncDevices",
            "legacy_repo.jobs.cleanup.OldCleanup"]
APP_JOBS = ["example_app.jobs.registry.ExportInventory"]


def git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main",
                    *args], cwd=cwd, check=True, capture_output=True)


def make_repository(folder, dest):
    """A real git repository holding the files of corpus/<folder>; its file:// URL."""
    shutil.copytree(CORPUS / folder, dest)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", f"{folder}")
    return f"file://{dest}"


class Site:
    """A site folder and what its first sync printed."""

    def __init__(self, path):
        self.path = Path(path)
        self.sync = None


def jobreg(site, *args):
    root = getattr(site, "path", site)
    return subprocess.run([JOBREG, "-c", str(root / "jobreg.yaml"), *[str(a) for a in args]],
                          cwd=root, capture_output=True, text=True, timeout=300)


def ok_json(site, *args):
    proc = jobreg(site, *args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def run(site, ref, data=None, context=None, files=None):
    """Enable ``ref`` and run it: (the --json outcome, the log lines on stderr)."""
    proc = jobreg(site, "enable", ref)
    assert proc.returncode == 0, proc.stderr
    args = ["run", ref, "--json"]
    if data is not None:
        args += ["--data", json.dumps(data)]
    if context is not None:
        args += ["--context", json.dumps(context)]
    if files is not None:
        args += ["--files", files]
    proc = jobreg(site, *args)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout), [line for line in proc.stderr.splitlines()
                                     if not line.startswith("jobreg: ")]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The 2.x site, synced once: jobs root, two git repositories (one in 1.x mode), an app."""
    site = Site(tmp_path_factory.mktemp("site"))
    for folder in ("jobs_root", "hostlib", "app"):
        shutil.copytree(CORPUS / folder, site.path / folder)
    remotes = tmp_path_factory.mktemp("remotes")
    compat_url = make_repository("git_repo", remotes / "compat")
    legacy_url = make_repository("v1_git_repo", remotes / "legacy")
    (site.path / "jobreg.yaml").write_text(
        "jobs_root: jobs_root\n"
        "python_path: [hostlib, app]\n"
        "apps: [example_app]\n"
        "git_repositories:\n"
        f"  - {{slug: compat_repo, remote_url: '{compat_url}', branch: main}}\n"
        f"  - {{slug: legacy_repo, remote_url: '{legacy_url}', branch: main, nautobot_compat: '1.x'}}\n")
    proc = jobreg(site, "sync", "--json")
    assert proc.returncode == 3, proc.stderr  # bad_meta.py: a load error, everything else refreshed
    site.sync = json.loads(proc.stdout)
    return site


def test_the_corpus_registers_what_nautobot_would(site):
    assert sorted(site.sync["created"]) == sorted(JOBS_ROOT_JOBS + GIT_JOBS + APP_JOBS)
    # Defined but never registered (2.x): not a job.
    assert "lenient.NotRegistered" not in site.sync["created"]


def test_a_wrong_meta_type_is_still_the_one_error(site):
    [error] = site.sync["errors"]
    assert (error["module"], error["type"], error["line"]) == ("bad_meta", "TypeError", 5)
    assert error["file"].endswith("jobs_root/bad_meta.py")
    assert error["message"] == "BadMeta.Meta.hidden must be a bool, not str ('yes')"


def test_every_meta_field_reaches_the_record(site):
    record = ok_json(site, "show", "device_audit.DeviceAudit")
    assert {k: record[k] for k in ("name", "description", "hidden", "dryrun_default",
                                   "approval_required", "has_sensitive_variables",
                                   "soft_time_limit", "time_limit", "task_queues",
                                   "is_singleton", "supports_dryrun", "grouping")} == {
        "name": "Device audit", "description": "Audit the devices of a site.", "hidden": False,
        "dryrun_default": True, "approval_required": True, "has_sensitive_variables": False,
        "soft_time_limit": 300.0, "time_limit": 600.0, "task_queues": ["default", "audits"],
        "is_singleton": True, "supports_dryrun": True, "grouping": "device_audit"}
    schema = record["variables"]
    # field_order first (its unknown name ignored), then declaration order.
    assert schema["order"][:3] == ["site", "status", "hostname_pattern"]
    assert len(schema["order"]) == 14
    assert schema["properties"]["prefix"]["format"] == "ipvanynetwork"
    assert schema["properties"]["site"]["model"] == "dcim.site"
    assert schema["properties"]["status"]["enum"] == ["active", "planned", "retired"]


def test_grouping_and_description_as_nautobot_gives_them(site):
    record = ok_json(site, "show", "hello_world.HelloWorld")
    assert record["grouping"] == "Getting started"
    assert record["description"] == "Says hello.\n\nThen says it again, louder."
    assert ok_json(site, "show", "compat_repo.jobs.sync_devices.SyncDevices")["grouping"] == "Git jobs"


def test_the_short_form_reaches_a_job_of_a_jobs_sub_module(site):
    record = ok_json(site, "show", "compat_repo.jobs.DeepCheck")
    assert record["class_path"] == "compat_repo.jobs.sub.deep_check.DeepCheck"


def test_a_run_logs_every_level_and_returns_its_result(site):
    outcome, log = run(site, "hello_world.HelloWorld")
    assert outcome["status"] == "success" and outcome["result"] == {"greeted": "world"}
    assert log == ["DEBUG: about to greet", 'INFO: Hello, world! {"grouping": "greeting"}',
                   "SUCCESS: Greeted the world", "WARNING: HELLO, WORLD!"]


def test_every_variable_type_takes_input(site):
    outcome, _ = run(site, "device_audit.DeviceAudit", data={
        "max_devices": "20", "include_spares": True, "roles": ["leaf"], "site": "ams01",
        "mgmt_address": "10.0.0.1", "loopback": "10.0.0.1/32", "prefix": "10.1.0.0/16",
        "options": '{"deep": true}', "dryrun": False})
    assert outcome["status"] == "success", outcome
    assert outcome["result"] == {
        "pattern": "edge-01", "max": 20, "spares": True, "status": "active", "roles": ["leaf"],
        "site": "ams01", "dryrun": False, "mgmt": "10.0.0.1", "loopback": "10.0.0.1/32",
        "prefix": "10.1.0.0/16", "options": {"deep": True}}


def test_extras_paths_and_the_module_task_logger(site):
    outcome, log = run(site, "extras_style.EchoMessage", data={"message": "hi"})
    assert outcome["result"] == "hi"
    assert log == ["INFO: module logger: hi", "INFO: job logger: hi"]
    outcome, _ = run(site, "extras_style.RefuseEverything")
    assert outcome["status"] == "failed"
    assert (outcome["error"]["type"], outcome["error"]["message"]) == ("RunJobTaskFailed",
                                                                      "refused on purpose")


def calls_of(log):
    [line] = [line for line in log if line.startswith("INFO: calls: ")]
    return [call[0] for call in json.loads(line[len("INFO: calls: "):])]


def test_hooks_run_in_nautobot_order_with_context_files_and_print(site, tmp_path):
    context = {"job_result": {"id": "result-7"}, "user": {"username": "alice"}}
    outcome, log = run(site, "lifecycle.Lifecycle", context=context, files=tmp_path)
    assert outcome["status"] == "success"
    assert outcome["result"] == {"user": "alice", "job_result": "result-7", "model_name": "Lifecycle"}
    assert calls_of(log) == ["before_start", "run", "on_success", "after_return"]
    assert 'INFO: printed line one {"grouping": "print"}' in log
    assert 'INFO: printed line two {"grouping": "print"}' in log
    assert outcome["files"] == [{"name": "report.txt", "size": 23}, {"name": "raw.bin", "size": 256}]
    assert (tmp_path / "report.txt").read_text() == "first line\nsecond line\n"
    assert (tmp_path / "raw.bin").read_bytes() == bytes(range(256))


def test_fail_keeps_running_and_fails_the_run_with_its_result(site):
    outcome, log = run(site, "lifecycle.Lifecycle", data={"fail_late": True})
    assert outcome["status"] == "failed"
    assert outcome["error"]["type"] == "JobFailed"
    assert "3 devices failed" in outcome["error"]["message"]
    assert outcome["result"]["model_name"] == "Lifecycle"  # run() finished: its result is kept
    assert "FAILURE: 3 devices failed" in log
    assert calls_of(log) == ["before_start", "run", "on_failure", "after_return"]


def test_fail_in_before_start_skips_run(site):
    outcome, log = run(site, "lifecycle.Lifecycle", data={"fail_early": True})
    assert outcome["status"] == "failed" and outcome["result"] == "stopped before run"
    assert calls_of(log) == ["before_start", "on_failure", "after_return"]


def test_an_exception_calls_the_failure_hooks(site):
    outcome, log = run(site, "lifecycle.Lifecycle", data={"explode": True})
    assert outcome["status"] == "failed"
    assert (outcome["error"]["type"], outcome["error"]["message"]) == ("ValueError", "boom")
    assert "lifecycle.py" in outcome["error"]["traceback"]
    assert calls_of(log) == ["before_start", "run", "on_failure", "after_return"]


def test_data_files_beside_the_job(site):
    outcome, _ = run(site, "data_files.LoadSiteData")
    expected = {"sites": ["ams01", "fra02"], "count": 2}
    assert outcome["result"] == {"json": expected, "yaml": expected}


def test_receivers_run_through_the_run_api(site):
    outcome, log = run(site, "receivers.RebootButton",
                       data={"object_pk": "42", "object_model_name": "dcim.device"})
    assert outcome["status"] == "success"
    assert log == ['INFO: rebooting 42 {"object": "42"}']
    outcome, log = run(site, "receivers.AuditChanges", data={
        "object_change": {"action": "update", "changed_object": {"name": "edge-01"}}})
    assert outcome["status"] == "success"
    assert log == ["INFO: update of edge-01"]


def test_the_whole_import_surface_is_the_librarys(site):
    outcome, _ = run(site, "every_name.ImportSurface")
    result = outcome["result"]
    assert len(result["names"]) == 31 and result["same_objects"] is True
    assert result["self_found"] is True and result["is_job"] == [True, False]
    # A server-only name says clearly that this host (the command) gave none.
    assert "get_celery_queues() needs the host application" in result["queues_error"]


def test_one_class_object_per_file_whatever_the_import_order(site):
    assert run(site, "shared.checks.NtpCheck")[0]["result"] == {"same_base": True}
    assert run(site, "reports.zzz_checks.DnsCheck")[0]["result"] == {"module_bodies": 1,
                                                                       "same_class": True}
    outcome, _ = run(site, "compat_repo.jobs.DeepCheck")
    assert outcome["result"] == {"one_class": True, "module": "compat_repo.jobs.sub.deep_check"}


def test_host_supplied_nautobot_models(site):
    outcome, _ = run(site, "host_models.CountDevices")
    assert outcome["result"] == {"count": 3, "model": "dcim.device"}
    schema = ok_json(site, "show", "host_models.CountDevices")["variables"]
    assert schema["properties"]["device"]["model"] == "dcim.device"


def test_variables_as_apps_write_them(site):
    outcome, _ = run(site, "custom_vars.PickDevice", data={"device": "d1"},
                     context={"task_id": "task-5"})
    assert outcome["result"] == {"device": "d1", "spare": None, "request": "task-5",
                                 "attrs": ["label", "required"]}
    schema = ok_json(site, "show", "custom_vars.PickDevice")["variables"]
    assert schema["properties"]["device"]["model"] == "dcim.device"  # from the queryset
    assert schema["required"] == ["device"]  # field_attrs["required"] = False is honoured


def test_a_file_name_that_is_no_identifier(site):
    assert run(site, "2024-maintenance.YearlyMaintenance")[0]["result"] == "2024-maintenance"


def test_an_app_with_a_nautobot_app_config(site, tmp_path):
    outcome, _ = run(site, "example_app.jobs.registry.ExportInventory",
                     data={"formats": ["csv", "yaml"]}, files=tmp_path)
    assert outcome["result"] == ["csv", "yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inventory.csv", "inventory.yaml"]


def test_lenient_where_nautobot_is(site):
    assert run(site, "lenient.LenientJob")[0]["result"] == "lenient"
    schema = ok_json(site, "show", "lenient.LenientJob")["variables"]
    assert schema["order"] == ["label", "no_choices_yet"]
    assert schema["properties"]["no_choices_yet"]["enum"] == []


def test_a_1x_repository_beside_2x_sources(site):
    record = ok_json(site, "show", "legacy_repo.jobs.cleanup.OldCleanup")
    assert record["supports_dryrun"] is True and record["dryrun_default"] is False
    outcome, log = run(site, "legacy_repo.jobs.cleanup.OldCleanup")
    assert outcome["result"] == "commit=True"
    assert log == ['INFO: cleaning {"grouping": "run"}']


# --------------------------------------------------------------------------
# Nautobot 1.x, opt-in for a whole site

@pytest.fixture(scope="module")
def v1_site(tmp_path_factory):
    site = Site(tmp_path_factory.mktemp("v1site"))
    shutil.copytree(CORPUS / "v1_jobs_root", site.path / "jobs")
    (site.path / "jobreg.yaml").write_text("jobs_root: jobs\nnautobot_compat: '1.x'\n")
    site.sync = ok_json(site, "sync")
    return site


def test_1x_jobs_register_without_register_jobs(v1_site):
    assert sorted(v1_site.sync["created"]) == ["legacy_audit.LegacyAudit",
                                               "legacy_audit.LegacyFailing", "listed.Listed",
                                               "modern.Modern",  # ModernBase: register_jobs decides
                                               "scripts_and_reports.CablingReport",
                                               "scripts_and_reports.CountTo"]
    assert v1_site.sync["errors"] == []


def test_1x_commit_is_a_variable_and_commit_default_the_dry_run_default(v1_site):
    record = ok_json(v1_site, "show", "legacy_audit.LegacyAudit")
    schema = record["variables"]
    assert schema["order"] == ["site_name", "strict", "commit"]
    assert schema["properties"]["commit"]["default"] is False
    assert (record["supports_dryrun"], record["dryrun_default"]) == (True, True)
    read_only = ok_json(v1_site, "show", "legacy_audit.LegacyFailing")
    assert "commit" not in read_only["variables"].get("order", [])
    assert read_only["supports_dryrun"] is False


def test_1x_run_test_methods_and_post_run(v1_site):
    outcome, log = run(v1_site, "legacy_audit.LegacyAudit", data={"commit": True})
    assert outcome["status"] == "success"
    assert outcome["result"] == "run: commit=True\npost_run done"
    assert log == [
        'INFO: auditing ams01 (commit=True) {"grouping": "run"}',
        'SUCCESS: site found {"grouping": "run", "object": "ams01"}',
        'SUCCESS: interfaces ok {"grouping": "test_interfaces"}',
        'WARNING: strict mode is advisory {"grouping": "test_strictness"}',
        'DEBUG: post_run called {"grouping": "post_run"}',
    ]


def test_1x_log_failure_fails_the_run_and_read_only_forces_commit_off(v1_site):
    outcome, log = run(v1_site, "legacy_audit.LegacyFailing", data={"commit": True})
    assert outcome["status"] == "failed" and outcome["error"]["type"] == "JobFailed"
    assert log == ['FAILURE: commit was False {"grouping": "run"}']


def test_1x_scripts_and_reports(v1_site):
    outcome, log = run(v1_site, "scripts_and_reports.CountTo", data={"limit": 4})
    assert outcome["result"] == "4" and log == ['INFO: 1, 2, 3, 4 {"grouping": "run"}']
    outcome, log = run(v1_site, "scripts_and_reports.CablingReport")
    assert outcome["status"] == "success"
    assert log == ['SUCCESS: all cables connected {"grouping": "test_cables"}']


def test_2x_code_in_a_1x_source_runs_as_2x(v1_site):
    assert run(v1_site, "modern.Modern", data={"who": "R1"})[0]["result"] == "hello R1"


def test_without_the_opt_in_1x_modules_register_nothing_and_say_how_to(tmp_path):
    shutil.copytree(CORPUS / "v1_jobs_root", tmp_path / "jobs")
    (tmp_path / "jobreg.yaml").write_text("jobs_root: jobs\n")
    proc = jobreg(tmp_path, "sync", "--json")
    assert proc.returncode == 3
    out = json.loads(proc.stdout)
    assert out["created"] == ["modern.Modern"]
    assert [(e["module"], e["type"], e["line"]) for e in out["errors"]] == [
        ("legacy_audit", "UserWarning", 8), ("listed", "UserWarning", 5),
        ("scripts_and_reports", "UserWarning", 6)]
    assert out["errors"][0]["message"] == (
        "LegacyAudit, LegacyFailing: Nautobot 1.x jobs (run(self, data, commit)) that "
        'register_jobs() never named; set nautobot_compat to "1.x" for this source to load them')


def test_a_namespace_folder_elsewhere_on_the_path_does_not_shadow_a_module(tmp_path):
    """A `tools/` folder without __init__.py on python_path: Python would import
    the jobs root's tools.py first, so the library does not refuse it."""
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "tools.py").write_text(
        "from nautobot.apps.jobs import Job, register_jobs\n"
        "class Tool(Job):\n    pass\n"
        "register_jobs(Tool)\n")
    (tmp_path / "lib" / "tools").mkdir(parents=True)
    (tmp_path / "lib" / "tools" / "helper.py").write_text("")
    (tmp_path / "jobreg.yaml").write_text("jobs_root: jobs\npython_path: [lib]\n")
    out = ok_json(tmp_path, "sync")
    assert out["created"] == ["tools.Tool"] and out["errors"] == []
    # A real package of that name is still refused.
    (tmp_path / "lib" / "tools" / "__init__.py").write_text("")
    proc = jobreg(tmp_path, "sync", "--full", "--json")
    assert proc.returncode == 3
    [error] = json.loads(proc.stdout)["errors"]
    assert error["module"] == "tools" and "would shadow" in error["message"]
