"""The refresh rules (SPEC 4), held alike by the in-memory, SQLite and
Python-written storages (the ``storage`` fixture runs each test on all three)."""

import pytest

import jobreg
from conftest import records_by_class_path, write_tree

CLEANUP = "device_jobs.CleanupDevices"
CHECK = "inventory.check_inventory.CheckInventory"


def test_refresh_creates_installed_records_and_never_enables_jobs(registry, jobs_root, storage):
    reg = registry(jobs_root)
    reg.load()
    result = storage.refresh(reg)
    assert result.created == [CLEANUP, CHECK]
    assert (result.updated, result.uninstalled, result.unchanged, result.writes) == ([], [], 0, 2)
    records = records_by_class_path(storage)
    assert set(records) == {CLEANUP, CHECK}
    for rec in records.values():
        assert rec.installed is True and rec.enabled is False
        assert len(rec.id) == 36
    check = records[CHECK]
    assert (check.module_name, check.job_class_name, check.grouping, check.name) == \
        ("inventory.check_inventory", "CheckInventory", "Inventory", "Check Inventory")
    assert check.description == "Counts the line cards of every chassis."


def test_a_refresh_with_nothing_changed_writes_nothing(registry, jobs_root, storage):
    reg = registry(jobs_root)
    reg.load()
    storage.refresh(reg)
    before = storage.list().to_dicts()
    again = storage.refresh(reg)
    assert (again.created, again.updated, again.uninstalled) == ([], [], [])
    assert again.unchanged == 2 and again.writes == 0
    assert storage.list().to_dicts() == before
    if storage.kind == "python":
        backend = storage.backend
        backend.calls.clear()
        storage.refresh(reg)
        assert backend.count("write_record") == 0 and backend.count("read_records") == 1


def test_refresh_copies_metadata_keeps_ids_and_never_touches_enabled(registry, jobs_root, storage):
    reg = registry(jobs_root)
    reg.load()
    storage.refresh(reg)
    ids = {r.class_path: r.id for r in storage.list()}
    storage.enable(ids[CLEANUP])
    write_tree(jobs_root, {"device_jobs.py": '''
        from nautobot.apps.jobs import Job, register_jobs

        class CleanupDevices(Job):
            class Meta:
                name = "Cleanup Obsolete Devices"
                description = "now described"
                hidden = True
                time_limit = 60

        register_jobs(CleanupDevices)
        '''})
    reg.reload()
    result = storage.refresh(reg)
    assert result.updated == [CLEANUP] and result.unchanged == 1
    rec = storage.get(CLEANUP)
    assert rec.id == ids[CLEANUP] and rec.enabled is True
    assert (rec.description, rec.hidden, rec.time_limit) == ("now described", True, 60.0)


def test_a_job_gone_is_uninstalled_keeps_everything_and_comes_back_with_its_id(
        registry, jobs_root, storage):
    reg = registry(jobs_root)
    reg.load()
    storage.refresh(reg)
    rec = storage.get(CHECK)
    storage.enable(rec)
    module = jobs_root / "inventory" / "check_inventory.py"
    code = module.read_text()
    module.write_text("raise RuntimeError('broken for now')\n")
    snap = reg.reload()
    assert [e.module for e in snap.load_errors] == ["inventory.check_inventory"]
    result = storage.refresh(snap)
    assert result.uninstalled == [CHECK]
    gone = storage.get(CHECK)
    assert gone.installed is False and gone.enabled is True
    assert gone.id == rec.id and gone.name == "Check Inventory"
    assert [r.class_path for r in storage.list("no")] == [CHECK]
    assert [r.class_path for r in storage.list("yes")] == [CLEANUP]
    module.write_text(code)
    storage.refresh(reg.reload())
    back = storage.get(CHECK)
    assert back.installed is True and back.enabled is True and back.id == rec.id


def test_a_name_clash_gets_a_number_and_keeps_it(registry, jobs_root, storage):
    write_tree(jobs_root, {"more_jobs.py": '''
        from jobreg.jobs import Job, register_jobs

        class Another(Job):
            class Meta:
                name = "Cleanup Obsolete Devices"

        register_jobs(Another)
        '''})
    reg = registry(jobs_root)
    reg.load()
    storage.refresh(reg)
    first = storage.get(CLEANUP)
    second = storage.get("more_jobs.Another")
    assert first.name == "Cleanup Obsolete Devices" and first.name_override is False
    assert second.name == "Cleanup Obsolete Devices (2)" and second.name_override is True
    assert storage.refresh(reg).writes == 0


def test_an_overridden_field_survives_refreshes_until_cleared(registry, jobs_root, storage):
    reg = registry(jobs_root)
    reg.load()
    storage.refresh(reg)
    rec = storage.get(CLEANUP)
    storage.override(rec, "description", "the host's words")
    storage.override(rec, "time_limit", 5)
    storage.override(rec.id, "hidden", True)
    storage.refresh(reg)
    rec = storage.get(CLEANUP)
    assert (rec.description, rec.time_limit, rec.hidden) == ("the host's words", 5.0, True)
    assert rec.description_override and rec.time_limit_override and rec.hidden_override
    storage.clear_override(rec, "description")
    storage.refresh(reg)
    rec = storage.get(CLEANUP)
    assert rec.description == "" and rec.description_override is False
    assert rec.time_limit == 5.0
    with pytest.raises(jobreg.InvalidArgument):
        storage.override(rec, "enabled", True)  # not overridable
    with pytest.raises(jobreg.AlreadyExists):
        storage.override(rec, "name", "Check Inventory")  # taken by the other record


def test_a_scoped_refresh_leaves_other_sources_alone(registry, jobs_root, app_path, storage):
    reg = registry(jobs_root)
    app = reg.add_app("my_app")
    reg.load()
    result = storage.refresh(reg, source=app)
    assert result.created == ["my_app.jobs.cleanup.CleanupJob",
                              "my_app.jobs.report.ComplianceReport"]
    assert CLEANUP not in records_by_class_path(storage)
    assert storage.refresh(reg, source=("local", "")).created == [CLEANUP, CHECK]


def test_records_can_be_deleted_only_when_uninstalled_unless_forced(registry, jobs_root, storage):
    reg = registry(jobs_root)
    reg.load()
    storage.refresh(reg)
    rec = storage.get(CLEANUP)
    with pytest.raises(jobreg.StateError) as info:
        storage.delete(rec)
    assert rec.id in info.value.message or CLEANUP in info.value.message
    storage.delete(rec, force=True)
    assert storage.find(CLEANUP) is None
    with pytest.raises(jobreg.NotFound):
        storage.delete(rec.id)
    created = storage.refresh(reg).created
    assert created == [CLEANUP] and storage.get(CLEANUP).id != rec.id


def test_migrating_a_source_keeps_ids_and_enabled(registry, app_path, storage):
    reg = registry()
    reg.add_app("my_app")
    reg.load()
    storage.refresh(reg)
    old = records_by_class_path(storage)
    storage.enable(old["my_app.jobs.report.ComplianceReport"])
    assert storage.migrate_source("my_app", "their_app") == 2
    moved = records_by_class_path(storage)
    assert set(moved) == {"their_app.jobs.cleanup.CleanupJob",
                          "their_app.jobs.report.ComplianceReport"}
    report = moved["their_app.jobs.report.ComplianceReport"]
    assert report.id == old["my_app.jobs.report.ComplianceReport"].id
    assert report.enabled is True and report.source == "their_app"
    with pytest.raises(jobreg.NotFound):
        storage.migrate_source("nobody", "somebody")


def test_git_state_is_stored_redacted(storage):
    with pytest.raises(jobreg.NotFound):
        storage.git_state("my_repo")
    storage.set_git_state("my_repo", "https://me:secret@example.invalid/r.git", "main", "a" * 40)
    state = storage.git_state("my_repo")
    assert state == jobreg.GitState("https://***@example.invalid/r.git", "main", "a" * 40)
    assert "secret" not in repr(state)


def test_listing_filters_and_serializes(registry, jobs_root, storage):
    reg = registry(jobs_root)
    reg.load()
    storage.refresh(reg)
    listing = storage.list()
    assert isinstance(listing, jobreg.RecordList) and len(listing) == 2
    import json

    assert json.loads(listing.to_json()) == listing.to_dicts()
    assert [r.class_path for r in storage] == [r.class_path for r in listing]
    assert set(listing.by_id()) == {r.id for r in listing}
    with pytest.raises(ValueError):
        storage.list("maybe")
    assert storage.get(listing[0].id) == listing[0]
