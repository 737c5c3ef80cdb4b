"""The seed layouts of the "Installing Jobs" page, loaded through Python: a jobs
root, an app, and (in test_git.py) a git repository; load errors as objects."""

import sys

import pytest

import jobreg
from conftest import write_tree


def test_the_jobs_root_layout_loads_both_jobs_with_their_groupings(registry, jobs_root):
    reg = registry(jobs_root)
    with reg.load() as snap:
        assert snap.generation == 1
        assert snap.class_paths == ["device_jobs.CleanupDevices",
                                    "inventory.check_inventory.CheckInventory"]
        assert snap.load_errors == []
        cleanup, check = snap
    assert cleanup.name == "Cleanup Obsolete Devices"
    assert cleanup.grouping == "device_jobs"  # no module `name`: the module name
    assert check.grouping == "Inventory"      # the module's `name`
    assert check.description == "Counts the line cards of every chassis."
    assert check.module_name == "inventory.check_inventory"
    assert check.class_name == "CheckInventory"
    assert (check.source_type, check.source) == ("local", "")
    assert check.has_sensitive_variables is True and check.hidden is False
    assert check.task_queues == [] and check.variables == {}


def test_the_root_init_is_not_a_module_and_no_job_comes_from_it(registry, jobs_root):
    (jobs_root / "__init__.py").write_text("raise RuntimeError('never imported')\n")
    reg = registry(jobs_root)
    assert reg.load().load_errors == []


def test_a_source_belongs_to_its_registry_and_reads_its_fields(registry, jobs_root):
    reg = registry()
    src = reg.add_dir(jobs_root)
    assert src.registry is reg and reg.sources == (src,)
    assert (src.type, src.name, src.root) == ("local", "", str(jobs_root))
    with pytest.raises(jobreg.StateError):
        registry().add_source(src)  # a source has one owner
    with pytest.raises(jobreg.AlreadyExists):
        reg.add_dir(jobs_root)      # one jobs root per registry
    assert reg.source("", type="local") is src


def test_the_app_layout_loads_the_jobs_its_jobs_package_registers(registry, app_path):
    reg = registry()
    app = reg.add_app("my_app")
    assert app.root == ""  # before the first load
    with reg.load() as snap:
        assert snap.load_errors == []
        assert snap.class_paths == ["my_app.jobs.cleanup.CleanupJob",
                                    "my_app.jobs.report.ComplianceReport"]
    assert app.root == str(app_path / "my_app")
    report = reg.resolve("my_app.jobs.ComplianceReport")  # the short form
    assert report.class_path == "my_app.jobs.report.ComplianceReport"
    assert (report.source_type, report.source) == ("app", "my_app")
    assert report.has_sensitive_variables is False
    assert report.variables["properties"]["platform"]["default"] == "ios"
    cleanup = reg["my_app.jobs.cleanup.CleanupJob"]
    assert cleanup.variables["properties"]["dry_run"]["type"] == "boolean"


def test_all_three_kinds_resolve_in_one_registry(registry, jobs_root, app_path, git_remote,
                                                  git_root):
    reg = registry(jobs_root)
    reg.add_app("my_app")
    repo = reg.add_git("my_repo", git_remote.url, git_root)
    repo.sync()
    reg.load()
    assert len(reg.jobs) == 5
    for ref in ("device_jobs.CleanupDevices", "my_app.jobs.CleanupJob",
                "my_repo.jobs.SyncDevices", "my_repo.jobs.sync_devices.SyncDevices"):
        assert ref in reg
    assert [s.type for s in reg.sources] == ["local", "app", "git"]


def test_broken_modules_become_load_error_objects_and_the_others_load(registry, jobs_root):
    write_tree(jobs_root, {
        "syntax_broken.py": "def oops(:\n",
        "raises.py": "x = 1\nraise ValueError('bad config')\n",
        "exits.py": "import sys\nsys.exit(3)\n",
        "json.py": "SHADOW = True\n",
        "misuse.py": "from jobreg.jobs import register_jobs\nregister_jobs(int)\n",
    })
    reg = registry(jobs_root)
    snap = reg.load()
    assert "device_jobs.CleanupDevices" in snap
    errors = {e.module: e for e in snap.load_errors}
    assert set(errors) == {"syntax_broken", "raises", "exits", "json", "misuse"}
    assert errors["syntax_broken"].type == "SyntaxError"
    assert errors["syntax_broken"].line == 1
    raised = errors["raises"]
    assert (raised.type, raised.message, raised.line) == ("ValueError", "bad config", 2)
    assert raised.file == str(jobs_root / "raises.py")
    assert "ValueError: bad config" in raised.traceback
    assert raised.source_type == "local" and raised.source == ""
    assert errors["exits"].type == "SystemExit"
    assert errors["misuse"].type == "TypeError"
    assert str(raised).startswith(f"{jobs_root / 'raises.py'}:2: raises: ValueError")
    assert raised.to_dict()["message"] == "bad config"
    import json  # the real one stays untouched

    assert not hasattr(json, "SHADOW") and "json" in sys.modules


def test_a_missing_explicit_app_jobs_module_is_a_load_error(registry, tmp_path, monkeypatch):
    lib = write_tree(tmp_path / "lib2", {
        "odd_app/__init__.py": "",
        "odd_app/apps.py": '''
            from nautobot.apps.apps import NautobotAppConfig

            class OddConfig(NautobotAppConfig):
                name = "odd_app"
                jobs = "tasks.jobs"
            ''',
    })
    monkeypatch.syspath_prepend(str(lib))
    reg = registry()
    reg.add_app("odd_app")
    errors = reg.load().load_errors
    assert len(errors) == 1 and errors[0].source == "odd_app"
    assert errors[0].module == "odd_app.tasks.jobs"
    assert errors[0].type == "ModuleNotFoundError"


def test_reload_imports_only_what_changed(registry, jobs_root, tmp_path):
    counter = tmp_path / "count"
    write_tree(jobs_root, {"counted.py": f'''
        with open({str(counter)!r}, "a") as f:
            f.write("x")
        '''})
    reg = registry(jobs_root)
    first = reg.load()
    assert counter.read_text() == "x"
    same = reg.reload()
    assert same.generation == first.generation and counter.read_text() == "x"
    write_tree(jobs_root, {"device_jobs.py": '''
        from jobreg.jobs import Job, register_jobs

        class CleanupDevices(Job):
            class Meta:
                name = "Renamed"

        register_jobs(CleanupDevices)
        '''})
    changed = reg.reload()
    assert changed.generation == first.generation + 1
    assert changed["device_jobs.CleanupDevices"].name == "Renamed"
    assert first["device_jobs.CleanupDevices"].name == "Cleanup Obsolete Devices"  # frozen
    assert reg.resolve("device_jobs.CleanupDevices") == changed["device_jobs.CleanupDevices"]
    assert first["device_jobs.CleanupDevices"] != changed["device_jobs.CleanupDevices"]


def test_import_timeout_turns_an_endless_module_into_a_load_error(registry, jobs_root):
    write_tree(jobs_root, {"endless.py": "while True:\n    pass\n"})
    reg = registry(jobs_root, import_timeout=0.3)
    snap = reg.load()
    assert [e.module for e in snap.load_errors] == ["endless"]
    assert "time limit" in snap.load_errors[0].message
    assert "device_jobs.CleanupDevices" in snap


def test_an_ambiguous_short_form_lists_the_candidates(registry, tmp_path, monkeypatch):
    lib = write_tree(tmp_path / "lib3", {
        "twice_app/__init__.py": '''
            from nautobot.apps.apps import NautobotAppConfig

            class TwiceConfig(NautobotAppConfig):
                name = "twice_app"

            config = TwiceConfig  # the package's `config`: no apps module needed
            ''',
        "twice_app/jobs/__init__.py": "from . import a, b  # noqa: F401\n",
        "twice_app/jobs/a.py": '''
            from jobreg.jobs import Job, register_jobs
            class Same(Job):
                pass
            register_jobs(Same)
            ''',
        "twice_app/jobs/b.py": '''
            from jobreg.jobs import Job, register_jobs
            class Same(Job):
                pass
            register_jobs(Same)
            ''',
    })
    monkeypatch.syspath_prepend(str(lib))
    reg = registry()
    reg.add_app("twice_app")
    snap = reg.load()
    with pytest.raises(jobreg.Ambiguous) as info:
        reg.resolve("twice_app.jobs.Same")
    assert "twice_app.jobs.a.Same" in info.value.message
    assert "twice_app.jobs.b.Same" in info.value.message
    with pytest.raises(jobreg.Ambiguous):
        snap.resolve("twice_app.jobs.Same")
    assert "twice_app.jobs.Same" not in reg


def test_closing_a_registry_purges_its_modules(jobs_root):
    reg = jobreg.Registry()
    reg.add_dir(jobs_root)
    reg.load()
    assert "device_jobs" in sys.modules
    job = reg.resolve("device_jobs.CleanupDevices")
    reg.close()
    assert "device_jobs" not in sys.modules
    assert job.name == "Cleanup Obsolete Devices"  # a job keeps its generation
    job.close()
