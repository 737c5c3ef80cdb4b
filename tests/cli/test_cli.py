"""The `jobreg` command (SPEC 6), run as a user would: a subprocess per call.

Every test builds its own site from docs/examples in a temporary folder.
JOBREG names the executable; JOBREG_EXAMPLES the examples folder.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import textwrap
import threading
from pathlib import Path

import pytest

JOBREG = os.environ["JOBREG"]
EXAMPLES = Path(os.environ.get("JOBREG_EXAMPLES",
                               Path(__file__).resolve().parents[2] / "docs" / "examples"))

CLEANUP = "device_jobs.CleanupDevices"
CHECK = "inventory.check_inventory.CheckInventory"

RECORD_FIELDS = [
    "id", "module_name", "job_class_name", "class_path", "source_type", "source",
    "grouping", "name", "description", "installed", "enabled", "hidden",
    "dryrun_default", "approval_required", "has_sensitive_variables",
    "soft_time_limit", "time_limit", "task_queues", "is_singleton",
    "supports_dryrun", "variables",
    "grouping_override", "name_override", "description_override", "hidden_override",
    "dryrun_default_override", "approval_required_override",
    "has_sensitive_variables_override", "soft_time_limit_override",
    "time_limit_override", "is_singleton_override",
]
SYNC_KEYS = ["created", "updated", "uninstalled", "unchanged", "errors"]
ERROR_KEYS = ["source", "module", "file", "line", "type", "message", "traceback"]


@pytest.fixture
def site(tmp_path):
    """A copy of docs/examples: jobreg.yaml and its jobs root (its app left out)."""
    dest = tmp_path / "site"
    shutil.copytree(EXAMPLES, dest, ignore=shutil.ignore_patterns("__pycache__", ".jobreg"))
    config = dest / "jobreg.yaml"
    config.write_text("".join(line for line in config.read_text().splitlines(keepends=True)
                              if not line.startswith(("apps:", "python_path:"))))
    return dest


def test_the_bundled_examples_sync_their_jobs_root_and_app(tmp_path):
    dest = tmp_path / "examples"
    shutil.copytree(EXAMPLES, dest, ignore=shutil.ignore_patterns("__pycache__", ".jobreg"))
    out = ok_json(dest, "sync")
    assert out["created"] == [CLEANUP, CHECK, "my_app.jobs.cleanup.PurgeStaleInterfaces",
                              "my_app.jobs.report.SoftwareComplianceReport"]
    assert out["errors"] == []


def jobreg(site, *args, config="jobreg.yaml", cwd=None):
    cmd = [JOBREG]
    if config is not None:
        cmd += ["-c", str(config)]
    return subprocess.run(cmd + [str(a) for a in args], cwd=cwd or site,
                          capture_output=True, text=True, timeout=300)


def ok(site, *args, **kw):
    proc = jobreg(site, *args, **kw)
    assert proc.returncode == 0, proc.stderr
    return proc


def ok_json(site, *args, **kw):
    proc = ok(site, *args, "--json", **kw)
    return json.loads(proc.stdout)


def one_line_reason(proc):
    """stderr holds exactly one line, starting with "jobreg: "."""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("jobreg: ")
    return lines[0]


def records(site, installed="yes"):
    return {r["class_path"]: r for r in ok_json(site, "list", "--installed", installed)}


# ---- sync ----

def test_sync_creates_the_records_then_a_second_sync_changes_nothing(site):
    first = ok_json(site, "sync")
    assert list(first) == SYNC_KEYS
    assert first == {"created": [CLEANUP, CHECK], "updated": [], "uninstalled": [],
                     "unchanged": 0, "errors": []}
    assert (site / ".jobreg" / "jobreg.db").is_file()

    second = ok_json(site, "sync")
    assert second == {"created": [], "updated": [], "uninstalled": [],
                      "unchanged": 2, "errors": []}


def test_sync_reports_in_words_without_json(site):
    out = ok(site, "sync").stdout
    assert f"Created:\n  {CLEANUP}\n  {CHECK}\n" in out
    assert out.splitlines()[-1] == "2 created, 0 updated, 0 uninstalled, 0 unchanged, 0 load errors"
    again = ok(site, "sync").stdout
    assert again == ("1 source unchanged since the last sync, not imported (--full imports it)\n"
                     "0 created, 0 updated, 0 uninstalled, 2 unchanged, 0 load errors\n")
    full = ok(site, "sync", "--full").stdout
    assert full == "0 created, 0 updated, 0 uninstalled, 2 unchanged, 0 load errors\n"


# ---- sync: sources that did not change are not imported again ----

def imported_marker(site):
    """A module of the jobs root that leaves a line in a file each time it is imported."""
    marker = site / "imports.log"
    (site / "jobs" / "marker.py").write_text(
        f"with open({str(marker)!r}, 'a') as f:\n    f.write('imported\\n')\n")
    return marker


def imports(marker):
    return len(marker.read_text().splitlines()) if marker.exists() else 0


def test_an_unchanged_jobs_root_is_not_imported_again_and_full_imports_it(site):
    marker = imported_marker(site)
    ok(site, "sync")
    assert imports(marker) == 1
    second = ok(site, "sync")
    assert imports(marker) == 1
    assert "1 source unchanged since the last sync" in second.stdout
    assert ok_json(site, "sync") == {"created": [], "updated": [], "uninstalled": [],
                                     "unchanged": 2, "errors": []}
    assert imports(marker) == 1
    assert ok_json(site, "sync", "--full")["unchanged"] == 2
    assert imports(marker) == 2


def test_the_fingerprint_is_stored_per_source_in_the_database(site):
    ok(site, "sync", "--offline")
    db = sqlite3.connect(site / ".jobreg" / "jobreg.db")
    rows = db.execute("SELECT source_type, source, state FROM jobreg_source_state").fetchall()
    db.close()
    assert [(t, s) for t, s, _ in rows] == [("local", "")]
    assert rows[0][2].startswith("sync-1 files=")


def test_a_changed_file_is_imported_and_refreshed(site):
    marker = imported_marker(site)
    ok(site, "sync")
    module = site / "jobs" / "device_jobs.py"
    module.write_text(module.read_text().replace("Cleanup Obsolete Devices", "Clean Up Devices"))
    result = ok_json(site, "sync")
    assert result["updated"] == [CLEANUP]
    assert records(site)[CLEANUP]["name"] == "Clean Up Devices"
    assert imports(marker) == 2


def test_an_added_module_is_seen_without_touching_the_others(site):
    ok(site, "sync")
    (site / "jobs" / "extra.py").write_text(textwrap.dedent("""\
        from nautobot.apps.jobs import Job, register_jobs

        class Extra(Job):
            pass

        register_jobs(Extra)
    """))
    assert ok_json(site, "sync")["created"] == ["extra.Extra"]


def test_a_deleted_record_is_created_again_though_no_file_changed(site):
    ok(site, "sync")
    old_id = records(site)[CHECK]["id"]
    ok(site, "delete", CHECK, "--force")
    result = ok_json(site, "sync")
    assert result["created"] == [CHECK]
    assert records(site)[CHECK]["id"] != old_id


def test_a_host_edit_of_a_record_is_repaired_but_enabling_keeps_the_skip(site):
    marker = imported_marker(site)
    ok(site, "sync")
    ok(site, "enable", CHECK)
    ok(site, "sync")
    assert imports(marker) == 1  # enabled is the host's: no reason to import
    db = sqlite3.connect(site / ".jobreg" / "jobreg.db")
    with db:
        db.execute("UPDATE jobreg_records SET description = 'edited' WHERE class_path = ?",
                   (CHECK,))
    db.close()
    result = ok_json(site, "sync")
    assert result["updated"] == [CHECK]
    assert imports(marker) == 2
    assert records(site)[CHECK]["description"] != "edited"
    assert records(site)[CHECK]["enabled"] is True


def test_a_source_with_load_errors_is_imported_by_every_sync(site):
    (site / "jobs" / "broken.py").write_text("raise RuntimeError('down')\n")
    for _ in range(2):
        proc = jobreg(site, "sync", "--json")
        assert proc.returncode == 3, proc.stderr
        assert [e["module"] for e in json.loads(proc.stdout)["errors"]] == ["broken"]
    (site / "jobs" / "broken.py").unlink()
    ok(site, "sync")
    assert "1 source unchanged" in ok(site, "sync").stdout


def test_a_helper_outside_the_source_needs_full(site):
    (site / "lib" / "names.py").write_text("NAME = 'First name'\n")
    (site / "jobs" / "named.py").write_text(textwrap.dedent("""\
        from nautobot.apps.jobs import Job, register_jobs
        from names import NAME

        class Named(Job):
            class Meta:
                name = NAME

        register_jobs(Named)
    """))
    (site / "jobreg.yaml").write_text("jobs_root: jobs\npython_path: [lib]\n")
    ok(site, "sync")
    (site / "lib" / "names.py").write_text("NAME = 'Second name'\n")
    ok(site, "sync")
    assert records(site)["named.Named"]["name"] == "First name"  # documented: not seen
    assert ok_json(site, "sync", "--full")["updated"] == ["named.Named"]
    assert records(site)["named.Named"]["name"] == "Second name"


def test_a_removed_source_has_its_records_uninstalled(site, tmp_path):
    lib = site / "lib" / "tiny_app"
    lib.mkdir(parents=True)
    (lib / "__init__.py").write_text("from nautobot.apps.apps import NautobotAppConfig\n\n"
                                     "class TinyConfig(NautobotAppConfig):\n"
                                     "    name = 'tiny_app'\n\nconfig = TinyConfig\n")
    (lib / "jobs.py").write_text("from nautobot.apps.jobs import Job, register_jobs\n\n"
                                 "class Tiny(Job):\n    pass\n\nregister_jobs(Tiny)\n")
    (site / "jobreg.yaml").write_text("jobs_root: jobs\npython_path: [lib]\napps: [tiny_app]\n")
    assert "tiny_app.jobs.Tiny" in ok_json(site, "sync")["created"]
    assert "2 sources unchanged" in ok(site, "sync").stdout
    (site / "jobreg.yaml").write_text("jobs_root: jobs\npython_path: [lib]\n")
    result = ok_json(site, "sync")
    assert result["uninstalled"] == ["tiny_app.jobs.Tiny"]
    assert result["unchanged"] == 2


def test_a_file_name_that_is_no_identifier_is_a_module_as_nautobot_imports_it(site):
    # pkgutil's names (Nautobot): `my-jobs.py` is the module `my-jobs`;
    # `a.b.py` names no module and a folder that is no identifier is skipped.
    (site / "jobs" / "my-jobs.py").write_text(textwrap.dedent("""\
        from jobreg.jobs import Job, register_jobs

        class CleanupJob(Job):
            def run(self):
                return {"module": __name__}

        register_jobs(CleanupJob)
    """))
    (site / "jobs" / "a.b.py").write_text("raise RuntimeError('no module: never imported')\n")
    (site / "jobs" / "not-a-package").mkdir()
    (site / "jobs" / "not-a-package" / "x.py").write_text("raise RuntimeError('skipped')\n")
    out = ok_json(site, "sync")
    assert out["created"] == [CLEANUP, CHECK, "my-jobs.CleanupJob"]
    assert out["errors"] == []
    shown = ok_json(site, "show", "my-jobs.CleanupJob")
    assert (shown["module_name"], shown["job_class_name"], shown["grouping"]) == (
        "my-jobs", "CleanupJob", "my-jobs")
    ok(site, "enable", "my-jobs.CleanupJob")
    ran = ok_json(site, "run", "my-jobs.CleanupJob")
    assert (ran["status"], ran["result"], ran["error"]) == ("success", {"module": "my-jobs"}, None)
    assert ok_json(site, "sync", "--full")["unchanged"] == 3


def test_sync_offline_is_accepted(site):
    assert ok_json(site, "sync", "--offline")["created"] == [CLEANUP, CHECK]


def test_config_defaults_to_jobreg_yaml_in_the_working_folder(site):
    proc = jobreg(site, "sync", "--json", config=None)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["created"] == [CLEANUP, CHECK]


def test_relative_paths_follow_the_config_file_not_the_working_folder(site, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = jobreg(site, "sync", "--json", config=site / "jobreg.yaml", cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    assert (site / ".jobreg" / "jobreg.db").is_file()
    # -c may also follow the command.
    proc = jobreg(site, "list", "--json", "-c", site / "jobreg.yaml", config=None, cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 2
    assert list(elsewhere.iterdir()) == []


def test_database_folder_is_created_where_configured(site):
    (site / "jobreg.yaml").write_text("jobs_root: jobs\ndatabase: var/lib/records.db\n")
    ok(site, "sync")
    assert (site / "var" / "lib" / "records.db").is_file()
    assert not (site / ".jobreg").exists()


def test_a_broken_module_exits_3_and_everything_else_is_refreshed(site):
    (site / "jobs" / "broken.py").write_text("x = 1\ndef oops(:\n    pass\n")
    proc = jobreg(site, "sync", "--json")
    assert proc.returncode == 3, proc.stderr
    result = json.loads(proc.stdout)
    assert list(result) == SYNC_KEYS
    assert result["created"] == [CLEANUP, CHECK]
    assert len(result["errors"]) == 1
    err = result["errors"][0]
    assert list(err) == ERROR_KEYS
    assert err["source"] == ""
    assert err["module"] == "broken"
    assert err["file"] == str(site / "jobs" / "broken.py")
    assert err["line"] == 2
    assert err["type"] == "SyntaxError"
    assert err["message"]
    assert isinstance(err["traceback"], str)
    reason = one_line_reason(proc)
    assert "broken.py:2" in reason and "SyntaxError" in reason
    # The refresh happened: the good jobs are recorded.
    assert set(records(site)) == {CLEANUP, CHECK}


def test_a_broken_module_is_listed_in_words_too(site):
    (site / "jobs" / "broken.py").write_text("raise RuntimeError('no inventory server')\n")
    proc = jobreg(site, "sync")
    assert proc.returncode == 3
    assert "Load errors:\n" in proc.stdout
    assert (f"  {site / 'jobs' / 'broken.py'}:1: RuntimeError: no inventory server "
            "(module broken)\n") in proc.stdout
    assert proc.stdout.splitlines()[-1].endswith(", 1 load error")


def test_a_missing_jobs_root_is_a_load_error_of_the_source(site):
    (site / "jobreg.yaml").write_text("jobs_root: nowhere\n")
    proc = jobreg(site, "sync", "--json")
    assert proc.returncode == 3
    err, = json.loads(proc.stdout)["errors"]
    assert (err["source"], err["module"], err["line"]) == ("", "", None)
    assert err["file"] == str(site / "nowhere")
    assert err["type"] == "FileNotFoundError"
    assert str(site / "nowhere") in one_line_reason(proc)


def test_import_timeout_from_the_config_stops_an_endless_module(site):
    (site / "jobreg.yaml").write_text("jobs_root: jobs\nimport_timeout: 0.5\n")
    (site / "jobs" / "endless.py").write_text("while True:\n    pass\n")
    proc = jobreg(site, "sync", "--json")
    assert proc.returncode == 3, proc.stderr
    result = json.loads(proc.stdout)
    assert [e["module"] for e in result["errors"]] == ["endless"]
    assert result["created"] == [CLEANUP, CHECK]


def test_python_path_and_nautobot_compat_reach_the_interpreter(site):
    (site / "lib").mkdir(exist_ok=True)
    (site / "lib" / "helpers.py").write_text("GREETING = 'hello'\n")
    (site / "jobs" / "uses_lib.py").write_text(textwrap.dedent("""\
        from helpers import GREETING
        from jobreg.jobs import Job, register_jobs

        class Greeter(Job):
            class Meta:
                description = GREETING

        register_jobs(Greeter)
        """))
    (site / "jobreg.yaml").write_text("jobs_root: jobs\npython_path: [lib]\nnautobot_compat: false\n")
    proc = jobreg(site, "sync", "--json")
    result = json.loads(proc.stdout)
    assert "uses_lib.Greeter" in result["created"]
    # Without compatibility, the Nautobot import path of device_jobs fails.
    assert proc.returncode == 3
    assert [e["module"] for e in result["errors"]] == ["device_jobs"]
    assert records(site)["uses_lib.Greeter"]["description"] == "hello"


def test_concurrent_syncs_never_duplicate_or_lose_records(site):
    results = []

    def sync():
        results.append(jobreg(site, "sync", "--json"))

    threads = [threading.Thread(target=sync) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [p.returncode for p in results] == [0, 0, 0, 0], [p.stderr for p in results]
    created = [c for p in results for c in json.loads(p.stdout)["created"]]
    assert sorted(created) == sorted([CLEANUP, CHECK])
    assert len(ok_json(site, "list", "--installed", "all")) == 2


# ---- list and show ----

def test_list_json_is_an_array_of_records_with_the_spec_fields(site):
    ok(site, "sync")
    listed = ok_json(site, "list")
    assert isinstance(listed, list) and len(listed) == 2
    for rec in listed:
        assert list(rec) == RECORD_FIELDS
    by_path = {r["class_path"]: r for r in listed}
    check = by_path[CHECK]
    assert check["module_name"] == "inventory.check_inventory"
    assert check["job_class_name"] == "CheckInventory"
    assert check["source_type"] == "local"
    assert check["source"] == ""
    assert check["grouping"] == "Inventory"
    assert check["name"] == "Check Inventory"
    assert check["installed"] is True
    assert check["enabled"] is False
    assert check["has_sensitive_variables"] is True
    assert check["task_queues"] == []
    assert check["variables"] == {}
    cleanup = by_path[CLEANUP]
    assert cleanup["grouping"] == "device_jobs"
    assert cleanup["name"] == "Cleanup Obsolete Devices"
    assert cleanup["description"].startswith("Looks for devices marked as decommissioned")
    assert "\n" in cleanup["description"] and not cleanup["description"].startswith(" ")


def test_list_groups_records_by_grouping(site):
    ok(site, "sync")
    out = ok(site, "list").stdout
    lines = out.splitlines()
    assert lines[0] == "Inventory"
    assert lines[1].startswith("  Check Inventory ")
    assert CHECK in lines[1] and "disabled" in lines[1]
    assert lines[2] == ""
    assert lines[3] == "device_jobs"
    assert lines[4].startswith("  Cleanup Obsolete Devices ")
    assert len(lines) == 5


def test_list_before_any_sync_is_empty_and_creates_nothing(site):
    assert ok_json(site, "list") == []
    assert ok(site, "list").stdout == "No installed job records yet (run 'jobreg sync').\n"
    assert not (site / ".jobreg").exists()


def test_show_finds_a_record_by_class_path_or_id(site):
    ok(site, "sync")
    by_path = ok_json(site, "show", CHECK)
    assert list(by_path) == RECORD_FIELDS
    assert by_path["class_path"] == CHECK
    assert ok_json(site, "show", by_path["id"]) == by_path
    text = ok(site, "show", CHECK).stdout
    assert text.splitlines()[0] == "Check Inventory"
    assert any(l.split() == ["class_path", CHECK] for l in text.splitlines())
    assert any(l.split() == ["enabled", "false"] for l in text.splitlines())


def test_show_of_an_unknown_ref_fails_naming_it(site):
    ok(site, "sync")
    proc = jobreg(site, "show", "nowhere.Nothing")
    assert proc.returncode == 1
    assert "'nowhere.Nothing'" in one_line_reason(proc)
    proc = jobreg(site, "show", "my_repo.jobs.Nothing")
    assert proc.returncode == 1
    assert "'my_repo.jobs.Nothing'" in one_line_reason(proc)


def test_show_before_any_sync_says_there_is_no_database(site):
    proc = jobreg(site, "enable", CHECK)
    assert proc.returncode == 1
    assert "run 'jobreg sync' first" in one_line_reason(proc)
    assert not (site / ".jobreg").exists()


# ---- enable, disable, delete ----

def test_enable_and_disable_set_enabled_and_sync_keeps_it(site):
    ok(site, "sync")
    proc = ok(site, "enable", CHECK)
    assert proc.stdout == f"Enabled 'Check Inventory' ({CHECK}).\n"
    assert records(site)[CHECK]["enabled"] is True
    assert records(site)[CLEANUP]["enabled"] is False
    ok(site, "sync")
    assert records(site)[CHECK]["enabled"] is True
    proc = ok(site, "disable", records(site)[CHECK]["id"])
    assert proc.stdout == f"Disabled 'Check Inventory' ({CHECK}).\n"
    assert records(site)[CHECK]["enabled"] is False


def test_a_removed_module_leaves_an_uninstalled_record_to_list_and_delete(site):
    ok(site, "sync")
    ok(site, "enable", CHECK)
    old_id = records(site)[CHECK]["id"]
    (site / "jobs" / "inventory" / "check_inventory.py").unlink()

    result = ok_json(site, "sync")
    assert result["uninstalled"] == [CHECK]
    assert result["unchanged"] == 1

    assert set(records(site, "yes")) == {CLEANUP}
    gone = records(site, "no")
    assert set(gone) == {CHECK}
    assert gone[CHECK]["installed"] is False
    assert gone[CHECK]["enabled"] is True  # kept, as everything else
    assert gone[CHECK]["id"] == old_id
    assert set(records(site, "all")) == {CLEANUP, CHECK}
    text = ok(site, "list", "--installed", "no").stdout
    assert "enabled, not installed" in text and old_id in text

    proc = ok(site, "delete", CHECK)
    assert proc.stdout == f"Deleted 'Check Inventory' ({CHECK}), id {old_id}.\n"
    assert ok_json(site, "list", "--installed", "no") == []


def test_delete_refuses_an_installed_record_without_force(site):
    ok(site, "sync")
    old_id = records(site)[CLEANUP]["id"]
    proc = jobreg(site, "delete", CLEANUP)
    assert proc.returncode == 1
    reason = one_line_reason(proc)
    assert CLEANUP in reason and "--force" in reason
    assert CLEANUP in records(site)

    ok(site, "delete", CLEANUP, "--force")
    assert CLEANUP not in records(site, "all")
    # The next sync creates it again: a new id, disabled.
    assert ok_json(site, "sync")["created"] == [CLEANUP]
    again = records(site)[CLEANUP]
    assert again["id"] != old_id and again["enabled"] is False


# ---- migrate-source and short forms (records of an app source) ----

def add_app_records(site, source, class_names):
    """Records of an app source, written as a previous host would have left them.

    The CLI cannot load apps yet, so the rows are made from a local record by
    copying it in the database: same schema, other identity.
    """
    db = site / ".jobreg" / "jobreg.db"
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        row = dict(conn.execute("SELECT * FROM jobreg_records WHERE class_path = ?",
                                (CLEANUP,)).fetchone())
        for i, (module, cls) in enumerate(class_names):
            new = dict(row)
            new.update(id=f"00000000-0000-4000-8000-{i:012d}", module_name=f"{source}.{module}",
                       job_class_name=cls, class_path=f"{source}.{module}.{cls}",
                       source_type="app", source=source, name=f"{cls} {i}",
                       installed=0, enabled=1)
            cols = ", ".join(new)
            marks = ", ".join("?" for _ in new)
            conn.execute(f"INSERT INTO jobreg_records ({cols}) VALUES ({marks})",
                         list(new.values()))


def test_migrate_source_moves_records_keeping_ids_and_enabled(site):
    ok(site, "sync")
    add_app_records(site, "old_app", [("jobs.cleanup", "Cleanup"), ("jobs.report", "Report")])
    before = records(site, "all")
    proc = ok(site, "migrate-source", "old_app", "new_app")
    assert proc.stdout == "Moved 2 records from source 'old_app' to 'new_app'.\n"
    after = records(site, "all")
    assert "new_app.jobs.cleanup.Cleanup" in after
    assert "old_app.jobs.cleanup.Cleanup" not in after
    moved = after["new_app.jobs.cleanup.Cleanup"]
    assert moved["id"] == before["old_app.jobs.cleanup.Cleanup"]["id"]
    assert moved["enabled"] is True and moved["source"] == "new_app"

    proc = jobreg(site, "migrate-source", "old_app", "new_app")
    assert proc.returncode == 1
    assert "old_app" in one_line_reason(proc)


def test_migrate_source_of_the_jobs_root_is_refused(site):
    ok(site, "sync")
    proc = jobreg(site, "migrate-source", "", "x")
    assert proc.returncode == 1
    one_line_reason(proc)


def test_short_form_names_the_one_job_of_a_source_with_that_class(site):
    ok(site, "sync")
    add_app_records(site, "my_app", [("jobs.cleanup", "Cleanup"), ("jobs.a", "Twice"),
                                     ("jobs.b", "Twice")])
    shown = ok_json(site, "show", "my_app.jobs.Cleanup")
    assert shown["class_path"] == "my_app.jobs.cleanup.Cleanup"
    proc = jobreg(site, "show", "my_app.jobs.Twice")
    assert proc.returncode == 1
    reason = one_line_reason(proc)
    assert "ambiguous" in reason
    assert "my_app.jobs.a.Twice" in reason and "my_app.jobs.b.Twice" in reason


# ---- usage ----

@pytest.mark.parametrize("args, needle", [
    ([], "no command"),
    (["frobnicate"], "unknown command 'frobnicate'"),
    (["--frob", "list"], "unknown option '--frob'"),
    (["list", "--force"], "unknown option '--force'"),
    (["list", "--installed", "maybe"], "--installed must be yes, no or all, not 'maybe'"),
    (["list", "--installed"], "--installed needs"),
    (["show"], "missing REF"),
    (["show", "a", "b"], "unexpected argument 'b'"),
    (["enable"], "missing REF"),
    (["migrate-source", "old"], "missing NEW"),
    (["sync", "extra"], "unexpected argument 'extra'"),
    (["-c"], "needs a file name"),
])
def test_bad_usage_exits_2(site, args, needle):
    proc = jobreg(site, *args, config=None)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert proc.stdout == ""
    assert not (site / ".jobreg").exists()


def test_help_and_version(site):
    out = ok(site, "--help", config=None).stdout
    for command in ["sync", "list", "show", "enable", "disable", "delete", "migrate-source", "run"]:
        assert f"\n  {command}" in out
    assert ok(site, "list", "--help").stdout.startswith(
        "usage: jobreg [-c FILE] list [--installed yes|no|all] [--json]")
    assert ok(site, "--version", config=None).stdout.startswith("jobreg 0.3.0")


# ---- configuration errors: exit 1, file:line:column and key, nothing on disk ----

@pytest.mark.parametrize("text, position, needles", [
    ("jobs_root: jobs\njobs_rot: jobs\n", "2:1", ["unknown key 'jobs_rot'", "'jobs_root'"]),
    ("jobs_root: jobs\nimport_timeout: soon\n", "2:17",
     ["'import_timeout'", "the string 'soon'"]),
    ("jobs_root: jobs\napps: my_app\n", "2:7", ["'apps' must be a list"]),
    ("jobs_root: jobs\npython_path: [lib\n", "3:1", ["YAML syntax error in 'python_path'"]),
    ("jobs_root: jobs\ndatabase: a.db\ndatabase: b.db\n", "3:1", ["duplicate key 'database'"]),
    ("", "1:1", ["empty"]),
])
def test_a_config_error_exits_1_names_the_place_and_writes_nothing(site, text, position, needles):
    (site / "jobreg.yaml").write_text(text)
    for command in (["sync"], ["list"], ["enable", CHECK]):
        proc = jobreg(site, *command)
        assert proc.returncode == 1
        reason = one_line_reason(proc)
        assert reason.startswith(f"jobreg: jobreg.yaml:{position}: "), reason
        for needle in needles:
            assert needle in reason
        assert proc.stdout == ""
    assert not (site / ".jobreg").exists()
    assert not list(site.rglob("__pycache__"))


def make_git_repo(path, jobs_body):
    """A real repository with the git layout (SPEC 1.2), one commit on main."""
    (path / "jobs").mkdir(parents=True)
    (path / "__init__.py").write_text("")
    (path / "jobs" / "__init__.py").write_text("from . import vlans  # noqa: F401\n")
    (path / "jobs" / "vlans.py").write_text(jobs_body)
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "jobs"]):
        subprocess.run(["git", *cmd], cwd=path, env=env, check=True)


AUDIT_VLANS = textwrap.dedent("""\
    from jobreg.jobs import Job, register_jobs

    class AuditVlans(Job):
        def run(self):
            return "ok"

    register_jobs(AuditVlans)
""")


def test_git_repository_is_cloned_loaded_and_its_head_stored(site, tmp_path):
    make_git_repo(tmp_path / "upstream", AUDIT_VLANS)
    (site / "jobreg.yaml").write_text(
        "jobs_root: jobs\n"
        "git_repositories:\n"
        "  - slug: net_jobs\n"
        f"    remote_url: file://{tmp_path / 'upstream'}\n")
    out = ok_json(site, "sync")
    assert "net_jobs.jobs.vlans.AuditVlans" in out["created"]
    assert out["errors"] == []
    shown = ok_json(site, "show", "net_jobs.jobs.AuditVlans")
    assert shown["source_type"] == "git" and shown["source"] == "net_jobs"
    db = sqlite3.connect(site / ".jobreg" / "jobreg.db")
    heads = [row for row in db.execute("select * from sqlite_master where name like '%git%'")]
    db.close()
    assert heads, "the git state has a table"
    # Offline: no fetch, the checkout as it is, nothing changes.
    again = ok_json(site, "sync", "--offline")
    assert again["created"] == [] and again["uninstalled"] == []


def test_git_repository_that_cannot_be_fetched_fails_naming_it(site):
    (site / "jobreg.yaml").write_text(
        "jobs_root: jobs\n"
        "git_repositories:\n"
        "  - slug: unreachable\n"
        "    remote_url: https://user:s3cret@x.invalid/r.git\n")
    proc = jobreg(site, "sync")
    assert proc.returncode == 1
    assert "git repository 'unreachable'" in proc.stderr
    assert "s3cret" not in proc.stderr + proc.stdout
    # The jobs root was still refreshed.
    assert set(records(site)) >= {CLEANUP, CHECK}


def git_commit(path, message):
    """Commit everything in the repository at `path`; its new head."""
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    subprocess.run(["git", "add", "-A"], cwd=path, env=env, check=True)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=path, env=env, check=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, check=True,
                          capture_output=True, text=True).stdout.strip()


BROKEN_VLANS = textwrap.dedent("""\
    from jobreg.jobs import Job, register_jobs

    raise RuntimeError("the VLAN database is unreachable")
""")


def git_site(site, upstream, slug="net_jobs"):
    (site / "jobreg.yaml").write_text(
        "jobs_root: jobs\n"
        "git_repositories:\n"
        f"  - slug: {slug}\n"
        f"    remote_url: file://{upstream}\n")
    return site


def test_a_git_failure_names_the_repository_once(site, tmp_path):
    # A commit refused by the library (whose message names the repository)...
    make_git_repo(tmp_path / "upstream", BROKEN_VLANS)
    git_site(site, tmp_path / "upstream")
    for args in (["sync"], ["sync", "--json"]):
        proc = jobreg(site, *args)
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr.count("git repository 'net_jobs'") == 1, proc.stderr
        assert "jobreg: git repository 'net_jobs': commit " in proc.stderr
        assert "git repository 'net_jobs': git repository" not in proc.stdout + proc.stderr
    for err in json.loads(proc.stdout)["errors"]:
        assert err["message"].count("git repository 'net_jobs'") <= 1, err
    # ...and a fetch that fails (whose message does not): named once either way.
    (site / "jobreg.yaml").write_text(
        "jobs_root: jobs\n"
        "git_repositories:\n"
        "  - slug: gone_jobs\n"
        f"    remote_url: file://{tmp_path / 'nowhere'}\n")
    proc = jobreg(site, "sync")
    assert proc.returncode == 1
    assert proc.stderr.count("git repository 'gone_jobs'") == 1, proc.stderr
    assert "jobreg: git repository 'gone_jobs': " in proc.stderr


def test_a_refused_first_clone_reports_the_load_errors_of_its_commit(site, tmp_path):
    upstream = tmp_path / "upstream"
    make_git_repo(upstream, BROKEN_VLANS)
    git_site(site, upstream)
    proc = jobreg(site, "sync", "--json")
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert list(out) == SYNC_KEYS
    checkout = site / ".jobreg" / "git" / "net_jobs"
    assert not checkout.exists()  # refused whole
    by_module = {err["module"]: err for err in out["errors"]}
    for err in out["errors"]:
        assert list(err) == ERROR_KEYS
        assert err["source"] == "net_jobs"
    # The registry alone would only say "no checkout"; the refused commit's
    # errors say why, with file, line and traceback.
    assert "no checkout" in by_module["net_jobs"]["message"]
    vlans = by_module["net_jobs.jobs.vlans"]
    assert vlans["file"] == str(checkout / "jobs" / "vlans.py")
    assert vlans["line"] == 3
    assert vlans["type"] == "RuntimeError"
    assert vlans["message"] == "the VLAN database is unreachable"
    assert "vlans.py\", line 3" in vlans["traceback"]
    assert "the VLAN database is unreachable" in vlans["traceback"]
    assert by_module["net_jobs.jobs"]["file"] == str(checkout / "jobs" / "__init__.py")
    # The same in words.
    proc = jobreg(site, "sync")
    assert proc.returncode == 1
    assert "of git repository 'net_jobs' (refused, not loaded):\n" in proc.stdout
    assert (f"  {checkout / 'jobs' / 'vlans.py'}:3: RuntimeError: the VLAN database is "
            "unreachable (module net_jobs.jobs.vlans)\n") in proc.stdout

    # Fixed upstream: it loads, and nothing refused is reported any more.
    (upstream / "jobs" / "vlans.py").write_text(AUDIT_VLANS)
    git_commit(upstream, "fixed")
    out = ok_json(site, "sync")
    assert out["created"] == ["net_jobs.jobs.vlans.AuditVlans"] and out["errors"] == []
    # Broken again: refused, the loaded commit stays, the new one's errors are listed.
    (upstream / "jobs" / "vlans.py").write_text("def broken(:\n")
    bad = git_commit(upstream, "broken again")
    proc = jobreg(site, "sync", "--json")
    assert proc.returncode == 1
    assert bad[:12] in proc.stderr
    out = json.loads(proc.stdout)
    assert out["uninstalled"] == []
    err, = [e for e in out["errors"] if e["module"] == "net_jobs.jobs.vlans"]
    assert (err["type"], err["line"]) == ("SyntaxError", 1)
    assert "net_jobs.jobs.vlans.AuditVlans" in records(site)


def test_app_from_python_path_is_loaded(site):
    lib = site / "lib" / "route_app"
    (lib / "jobs").mkdir(parents=True)
    (lib / "__init__.py").write_text("")
    (lib / "apps.py").write_text(textwrap.dedent("""\
        from nautobot.apps.apps import NautobotAppConfig

        class RouteAppConfig(NautobotAppConfig):
            name = "route_app"
            jobs = "route_app.jobs"
    """))
    (lib / "jobs" / "__init__.py").write_text(textwrap.dedent("""\
        from nautobot.apps.jobs import register_jobs
        from .cleanup import CleanupJob

        register_jobs(CleanupJob)
    """))
    (lib / "jobs" / "cleanup.py").write_text(textwrap.dedent("""\
        from nautobot.apps.jobs import Job

        class CleanupJob(Job):
            pass
    """))
    (site / "jobreg.yaml").write_text("jobs_root: jobs\npython_path: [lib]\napps: [route_app]\n")
    out = ok_json(site, "sync")
    assert "route_app.jobs.cleanup.CleanupJob" in out["created"]
    shown = ok_json(site, "show", "route_app.jobs.CleanupJob")
    assert shown["source_type"] == "app" and shown["source"] == "route_app"


def test_empty_lists_of_git_repositories_and_apps_are_fine(site):
    (site / "jobreg.yaml").write_text("jobs_root: jobs\ngit_repositories: []\napps: []\n")
    assert ok_json(site, "sync")["created"] == [CLEANUP, CHECK]


def test_a_missing_config_file_is_named(site):
    proc = jobreg(site, "sync", config="absent.yaml")
    assert proc.returncode == 1
    reason = one_line_reason(proc)
    assert "absent.yaml" in reason and "No such file" in reason
    assert not (site / ".jobreg").exists()


# ---- run ----

RUNNABLE = textwrap.dedent("""\
    from jobreg.jobs import Job, register_jobs, IntegerVar

    class Double(Job):
        value = IntegerVar(max_value=100)

        def run(self, value):
            self.logger.info("doubling %d", value)
            return {"doubled": value * 2}

    class Broken(Job):
        def run(self):
            raise RuntimeError("the switch did not answer")

    register_jobs(Double, Broken)
""")


def runnable_site(site):
    (site / "jobs" / "runnable.py").write_text(RUNNABLE)
    ok(site, "sync")
    return site


def test_run_refuses_a_job_that_is_not_enabled(site):
    runnable_site(site)
    proc = jobreg(site, "run", "runnable.Double", "--data", '{"value": 2}')
    assert proc.returncode == 1
    assert "not enabled" in one_line_reason(proc)
    assert proc.stdout == ""


def test_run_prints_the_result_and_logs_to_stderr(site):
    runnable_site(site)
    ok(site, "enable", "runnable.Double")
    proc = jobreg(site, "run", "runnable.Double", "--data", '{"value": 21}')
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"doubled": 42}
    assert "INFO: doubling 21" in proc.stderr
    out = ok_json(site, "run", "runnable.Double", "--data", '{"value": 4}')
    assert out.pop("run_id")  # the run's record (test_cli_runs.py)
    assert out == {"status": "success", "result": {"doubled": 8}, "error": None, "files": []}


def test_run_of_a_failing_job_exits_1_with_the_error(site):
    runnable_site(site)
    ok(site, "enable", "runnable.Broken")
    proc = jobreg(site, "run", "runnable.Broken", "--json")
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert out["status"] == "failed" and out["result"] is None
    assert out["error"]["type"] == "RuntimeError"
    assert out["error"]["message"] == "the switch did not answer"
    assert "runnable.py" in out["error"]["traceback"]


def test_run_with_invalid_input_names_every_bad_field(site):
    runnable_site(site)
    ok(site, "enable", "runnable.Double")
    proc = jobreg(site, "run", "runnable.Double", "--data", '{"value": 500, "extra": 1}')
    assert proc.returncode == 1
    reason = one_line_reason(proc)
    assert "value: must be at most 100" in reason and "extra: unknown variable" in reason
    proc = jobreg(site, "run", "runnable.Double", "--data", "{not json")
    assert proc.returncode == 1 and "JSON" in one_line_reason(proc)


def test_run_before_any_sync_says_so(site):
    proc = jobreg(site, "run", "runnable.Double")
    assert proc.returncode == 1
    assert "jobreg sync" in one_line_reason(proc)
    assert not (site / ".jobreg").exists()


def test_run_needs_a_ref(site):
    proc = jobreg(site, "run")
    assert proc.returncode == 2


FILE_JOBS = textwrap.dedent("""\
    from jobreg.jobs import Job, StringVar, register_jobs

    class Report(Job):
        def run(self):
            self.create_file("report.txt", "h\\u00e9llo")
            self.create_file("blob.bin", b"a\\x00b\\x00\\xff")
            return "made"

    class Unsafe(Job):
        name = StringVar()

        def run(self, name):
            self.create_file(name, "escaped?")
            self.create_file("ok.txt", "fine")
            return "made"

    class FailsAfterAFile(Job):
        def run(self):
            self.create_file("partial.txt", "so far")
            raise RuntimeError("the switch did not answer")

    class Whoami(Job):
        def run(self):
            return {"user": self.user.username if self.user else None,
                    "result": self.job_result.id, "model": self.job_model.name,
                    "enabled": self.job_model.enabled}

    register_jobs(Report, Unsafe, FailsAfterAFile, Whoami)
""")


def file_site(site):
    (site / "jobs" / "filejobs.py").write_text(FILE_JOBS)
    ok(site, "sync")
    for job in ("Report", "Unsafe", "FailsAfterAFile", "Whoami"):
        ok(site, "enable", f"filejobs.{job}")
    return site


def test_run_saves_created_files_into_the_files_folder(site):
    file_site(site)
    proc = ok(site, "run", "filejobs.Report", "--files", "out")
    assert json.loads(proc.stdout) == "made"
    assert (site / "out" / "report.txt").read_bytes() == "h\u00e9llo".encode()
    assert (site / "out" / "blob.bin").read_bytes() == b"a\x00b\x00\xff"
    assert "created file report.txt (6 bytes): saved as out/report.txt" in proc.stderr
    assert "created file blob.bin (5 bytes): saved as out/blob.bin" in proc.stderr
    out = ok_json(site, "run", "filejobs.Report", "--files", site / "out")
    assert out["files"] == [{"name": "report.txt", "size": 6}, {"name": "blob.bin", "size": 5}]


def test_run_without_files_names_each_created_file_on_stderr(site):
    file_site(site)
    before = sorted(p.name for p in site.iterdir())
    proc = ok(site, "run", "filejobs.Report")
    assert "created file report.txt (6 bytes; not saved, use --files DIR)" in proc.stderr
    assert "created file blob.bin (5 bytes; not saved, use --files DIR)" in proc.stderr
    assert sorted(p.name for p in site.iterdir()) == before


@pytest.mark.parametrize("name", ["../escaped.txt", "sub/dir.txt", "..", ".", "line\nbreak"])
def test_run_refuses_to_save_a_file_name_that_is_no_plain_name(site, name):
    file_site(site)
    proc = jobreg(site, "run", "filejobs.Unsafe", "--data", json.dumps({"name": name}),
                  "--files", "out", "--json")
    # The run succeeded and says so; the file it could not save fails the command.
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert out["status"] == "success" and [f["name"] for f in out["files"]] == [name, "ok.txt"]
    assert f"jobreg: created file '{name}' not saved: its name" in proc.stderr
    assert "1 of the files the job created could not be saved" in proc.stderr
    assert sorted(p.name for p in (site / "out").iterdir()) == ["ok.txt"]
    assert not (site / "escaped.txt").exists()


def test_run_saves_the_files_of_a_failed_run_too(site):
    file_site(site)
    proc = jobreg(site, "run", "filejobs.FailsAfterAFile", "--files", "out")
    assert proc.returncode == 1
    assert "the switch did not answer" in proc.stderr
    assert (site / "out" / "partial.txt").read_text() == "so far"


def test_run_gives_the_job_the_context(site):
    file_site(site)
    out = ok_json(site, "run", "filejobs.Whoami", "--context",
                  '{"user": {"username": "alice"}, "job_result": {"id": "r-1"}}')
    assert out["result"] == {"user": "alice", "result": "r-1", "model": "Whoami",
                             "enabled": True}
    proc = jobreg(site, "run", "filejobs.Whoami", "--context", "[1]")
    assert proc.returncode == 1 and "context_json" in one_line_reason(proc)
    assert proc.stdout == ""


@pytest.mark.parametrize("args, needle", [
    (["run", "x", "--files"], "--files needs a folder"),
    (["run", "x", "--files="], "--files needs a folder"),
    (["run", "x", "--context"], "--context needs a JSON object"),
    (["list", "--files", "out"], "unknown option '--files'"),
])
def test_run_options_need_their_values(site, args, needle):
    proc = jobreg(site, *args)
    assert proc.returncode == 2 and needle in proc.stderr
