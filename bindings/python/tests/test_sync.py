"""Registry.sync() (jobreg_registry_sync, include/jobreg/sync.h): a source
whose files, interpreter and records are as the last sync into the same
storage left them is not imported again; anything else is.

Real jobs roots on disk with a module that counts its imports in a file
outside the root, real SQLite files, and storage backends written in Python
with and without source state (version-2 and version-1 tables). Each sync
but the ones that need the registry afterwards runs in a new registry, as a
new ``jobreg sync`` process would.
"""

import pytest

import jobreg
from conftest import JOBS_ROOT_LAYOUT, DictBackend, write_tree

CLEANUP = "device_jobs.CleanupDevices"
CHECK = "inventory.check_inventory.CheckInventory"
ROOT_KEY = ("local", "")  # the source key of a jobs root, as in records

RENAMED_CLEANUP = '''
    from jobreg.jobs import Job, register_jobs

    class CleanupDevices(Job):
        class Meta:
            name = "Cleanup, renamed"

    register_jobs(CleanupDevices)
    '''


class StateBackend(DictBackend):
    """DictBackend plus source state, kept (and rolled back) with the rows."""

    def __init__(self):
        super().__init__()
        self.states = {}
        self.open_states = None

    def begin(self, write):
        super().begin(write)
        self.open_states = dict(self.states)

    def commit(self):
        super().commit()
        self.open_states = None

    def rollback(self):
        super().rollback()
        self.states, self.open_states = self.open_states, None

    def source_state_read(self, source_type, source_name):
        assert self.open is not None
        self.calls.append(("source_state_read", source_type, source_name))
        return self.states.get((source_type, source_name))

    def source_state_write(self, source_type, source_name, state):
        assert self.open is not None
        self.calls.append(("source_state_write", source_type, source_name, state))
        if state is None:
            self.states.pop((source_type, source_name), None)
        else:
            self.states[(source_type, source_name)] = state


class FailingStateBackend(StateBackend):
    """Raises ``exc`` from ``method`` (source_state_read or _write) once armed."""

    fail = None

    def arm(self, method, exc):
        self.fail = (method, exc)

    def _maybe_fail(self, method):
        if self.fail and self.fail[0] == method:
            exc, self.fail = self.fail[1], None
            raise exc

    def source_state_read(self, source_type, source_name):
        self._maybe_fail("source_state_read")
        return super().source_state_read(source_type, source_name)

    def source_state_write(self, source_type, source_name, state):
        super().source_state_write(source_type, source_name, state)  # the rollback undoes it
        self._maybe_fail("source_state_write")


@pytest.fixture
def root(tmp_path):
    """The jobs-root layout plus ``sync_marker.py``, which counts its imports
    in ``imports.log`` (outside the root: writing it changes no fingerprint)."""
    marker = f"with open({str(marker_log(tmp_path / 'jobs'))!r}, 'a') as f:\n" \
             "    f.write('imported\\n')\n"
    return write_tree(tmp_path / "jobs", dict(JOBS_ROOT_LAYOUT, **{"sync_marker.py": marker}))


def marker_log(root):
    return root.parent / "imports.log"


def imports(root):
    """How many times the marker module of ``root`` was imported."""
    log = marker_log(root)
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture(params=["sqlite", "memory", "python"])
def storage(request, tmp_path):
    """Storages that keep source state: SQLite (a real file), memory, and a
    Python backend with source_state_read/_write."""
    if request.param == "sqlite":
        st = jobreg.Storage.sqlite(tmp_path / "jobreg.db")
    elif request.param == "memory":
        st = jobreg.Storage.memory()
    else:
        st = jobreg.Storage.from_backend(StateBackend())
    yield st
    st.close()


def sync_once(root, storage, full=False):
    """One sync of ``root`` into ``storage`` by a new registry."""
    with jobreg.Registry() as reg:
        reg.add_dir(root)
        return reg.sync(storage, full=full)


def counts(result):
    return (len(result.created), len(result.updated), len(result.uninstalled),
            result.unchanged, result.skipped)


# -- skipping ---------------------------------------------------------------------------


def test_a_second_sync_skips_the_unchanged_source_and_imports_nothing(root, storage):
    first = sync_once(root, storage)
    assert sorted(first.created) == sorted([CLEANUP, CHECK])
    assert first.skipped == 0 and imports(root) == 1
    before = storage.list().to_dicts()

    second = sync_once(root, storage)
    assert counts(second) == (0, 0, 0, 2, 1)
    assert second.writes == 0
    assert imports(root) == 1, "the unchanged source was imported again"
    assert storage.list().to_dicts() == before
    assert second.to_dict()["skipped"] == 1 and "skipped=1" in repr(second)


def test_the_skip_survives_reopening_the_sqlite_file(root, tmp_path):
    path = tmp_path / "reopened.db"
    with jobreg.Storage.sqlite(path) as st:
        assert sync_once(root, st).skipped == 0
    with jobreg.Storage.sqlite(path) as st:  # another process, in effect
        assert counts(sync_once(root, st)) == (0, 0, 0, 2, 1)
    assert imports(root) == 1


def test_full_imports_and_refreshes_every_source(root, storage):
    sync_once(root, storage)
    storage.enable(storage.get(CHECK))
    full = sync_once(root, storage, full=True)
    assert counts(full) == (0, 0, 0, 2, 0) and full.writes == 0
    assert imports(root) == 2
    assert storage.get(CHECK).enabled is True  # a sync never touches enabled
    # The fingerprints were written anew: the next plain sync skips again.
    assert sync_once(root, storage).skipped == 1
    assert imports(root) == 2


def test_a_changed_file_is_imported_and_refreshed_again(root, storage):
    sync_once(root, storage)
    write_tree(root, {"device_jobs.py": RENAMED_CLEANUP})
    changed = sync_once(root, storage)
    assert changed.skipped == 0 and changed.updated == [CLEANUP]
    assert imports(root) == 2
    assert storage.get(CLEANUP).name == "Cleanup, renamed"
    assert counts(sync_once(root, storage)) == (0, 0, 0, 2, 1)
    assert imports(root) == 2


def test_a_record_deleted_by_someone_else_brings_the_import_back(root, storage):
    sync_once(root, storage)
    storage.delete(storage.get(CLEANUP), force=True)
    result = sync_once(root, storage)
    assert result.skipped == 0 and result.created == [CLEANUP]
    assert imports(root) == 2


def test_a_skipped_source_has_no_jobs_until_the_registry_loads_it(root, storage):
    sync_once(root, storage)
    with jobreg.Registry() as reg:
        reg.add_dir(root)
        assert reg.sync(storage).skipped == 1
        assert reg.jobs == [] and reg.load_errors == []
        snap = reg.load()
        assert sorted(snap.class_paths) == sorted([CLEANUP, CHECK])
        assert imports(root) == 2


def test_only_the_changed_source_of_two_is_imported(root, app_path, storage):
    def sync():
        with jobreg.Registry() as reg:
            reg.add_dir(root)
            reg.add_app("my_app")
            return reg.sync(storage)

    assert len(sync().created) == 4
    assert sync().skipped == 2
    write_tree(app_path, {"my_app/jobs/cleanup.py": '''
        from nautobot.apps.jobs import Job

        class CleanupJob(Job):
            class Meta:
                name = "Cleanup v2"
        '''})
    result = sync()
    assert result.skipped == 1 and result.updated == ["my_app.jobs.cleanup.CleanupJob"]
    assert imports(root) == 1  # the jobs root was never imported again


def test_a_source_with_load_errors_is_imported_by_every_sync(root, storage):
    write_tree(root, {"broken.py": "import does_not_exist_anywhere\n"})
    with jobreg.Registry() as reg:
        reg.add_dir(root)
        assert len(reg.sync(storage).created) == 2
        assert [e.module for e in reg.load_errors] == ["broken"]
    with jobreg.Registry() as reg:
        reg.add_dir(root)
        assert reg.sync(storage).skipped == 0
        assert [e.module for e in reg.load_errors] == ["broken"]  # reported again
    assert imports(root) == 2


def test_sync_refuses_what_is_no_storage(root, registry):
    reg = registry(root)
    with pytest.raises(TypeError):
        reg.sync(object())
    closed = jobreg.Storage.memory()
    closed.close()
    with pytest.raises(jobreg.StateError):
        reg.sync(closed)


# -- storage backends written in Python -------------------------------------------------


def test_a_python_backend_with_source_state_stores_it_and_skips(root):
    backend = StateBackend()
    with jobreg.Storage.from_backend(backend) as st:
        sync_once(root, st)
        assert list(backend.states) == [ROOT_KEY]
        assert backend.states[ROOT_KEY].startswith("sync-1 ")
        writes = [c for c in backend.calls if c[0] == "source_state_write"]
        assert writes == [("source_state_write", *ROOT_KEY, backend.states[ROOT_KEY])]
        rows = {k: dict(v) for k, v in backend.rows.items()}

        backend.calls.clear()
        result = sync_once(root, st)
        assert counts(result) == (0, 0, 0, 2, 1)
        assert imports(root) == 1
        assert ("source_state_read", *ROOT_KEY) in backend.calls
        # Everything skipped: one read transaction, no write transaction at all.
        assert ("begin", True) not in backend.calls
        assert not any(c[0] in ("write_record", "source_state_write") for c in backend.calls)
        assert backend.rows == rows


def test_a_python_backend_deletes_the_state_of_a_source_with_load_errors(root):
    backend = StateBackend()
    with jobreg.Storage.from_backend(backend) as st:
        sync_once(root, st)
        assert ROOT_KEY in backend.states
        write_tree(root, {"broken.py": "raise RuntimeError('broken at import')\n"})
        backend.calls.clear()
        assert sync_once(root, st).skipped == 0
        assert ("source_state_write", *ROOT_KEY, None) in backend.calls
        assert backend.states == {}
        assert sync_once(root, st).skipped == 0
        assert imports(root) == 3


def test_a_python_backend_without_source_state_never_skips_but_syncs(root):
    backend = DictBackend()  # no source_state_*: a version-1 table
    with jobreg.Storage.from_backend(backend) as st:
        first = sync_once(root, st)
        assert sorted(first.created) == sorted([CLEANUP, CHECK]) and first.skipped == 0
        second = sync_once(root, st)
        assert counts(second) == (0, 0, 0, 2, 0) and second.writes == 0
        write_tree(root, {"device_jobs.py": RENAMED_CLEANUP})
        third = sync_once(root, st)
        assert third.updated == [CLEANUP] and third.skipped == 0
        assert sync_once(root, st, full=True).skipped == 0
        assert imports(root) == 4
        assert st.get(CLEANUP).name == "Cleanup, renamed"


def test_a_backend_gives_both_source_state_methods_or_neither():
    class OnlyRead(DictBackend):
        def source_state_read(self, source_type, source_name):
            return None

    with pytest.raises(TypeError) as info:
        jobreg.Storage.from_backend(OnlyRead())
    assert "source_state_write()" in str(info.value)

    class OnlyWrite(StateBackend):
        source_state_read = None

    with pytest.raises(TypeError):
        jobreg.Storage.from_backend(OnlyWrite())


@pytest.mark.parametrize("exc, error", [
    (OSError("the state table is locked"), jobreg.StorageError),
    (jobreg.Unsupported("no state today"), jobreg.Unsupported),
])
def test_an_error_in_source_state_read_fails_the_sync_and_changes_nothing(root, exc, error):
    backend = FailingStateBackend()
    with jobreg.Storage.from_backend(backend) as st:
        sync_once(root, st)
        write_tree(root, {"device_jobs.py": RENAMED_CLEANUP})  # something to write
        rows, states = {k: dict(v) for k, v in backend.rows.items()}, dict(backend.states)
        backend.arm("source_state_read", exc)
        with pytest.raises(error) as info:
            sync_once(root, st)
        assert "source_state_read" in info.value.message
        assert str(exc.args[0]) in info.value.message
        assert info.value.__cause__ is exc
        assert backend.rows == rows and backend.states == states and backend.open is None
        assert imports(root) == 1  # failed before any import
        # Once the backend works again, the sync does it all.
        assert sync_once(root, st).updated == [CLEANUP]
        assert st.get(CLEANUP).name == "Cleanup, renamed"


def test_an_error_in_source_state_write_rolls_the_records_back(root):
    backend = FailingStateBackend()
    with jobreg.Storage.from_backend(backend) as st:
        sync_once(root, st)
        write_tree(root, {"device_jobs.py": RENAMED_CLEANUP})
        rows, states = {k: dict(v) for k, v in backend.rows.items()}, dict(backend.states)
        backend.calls.clear()
        backend.arm("source_state_write", OSError("disk full"))
        with pytest.raises(jobreg.StorageError) as info:
            sync_once(root, st)
        err = info.value
        assert "source_state_write" in err.message and "disk full" in err.message
        assert isinstance(err.__cause__, OSError)
        # The record was written in the same transaction, then rolled back.
        write_tx = backend.calls[backend.calls.index(("begin", True)):]
        assert ("write_record", CLEANUP) in write_tx
        assert write_tx[-1] == ("rollback",) and ("commit",) not in write_tx
        assert backend.rows == rows and backend.states == states
        assert st.get(CLEANUP).name == "Cleanup Obsolete Devices"
        result = sync_once(root, st)
        assert result.updated == [CLEANUP] and result.skipped == 0
        assert sync_once(root, st).skipped == 1


@pytest.mark.parametrize("bad", [b"sync-1 bytes", 42, "sync-1\0hidden"])
def test_a_bad_state_from_source_state_read_is_a_storage_error(root, bad):
    backend = StateBackend()
    with jobreg.Storage.from_backend(backend) as st:
        sync_once(root, st)
        backend.states[ROOT_KEY] = bad
        rows = {k: dict(v) for k, v in backend.rows.items()}
        with pytest.raises(jobreg.StorageError) as info:
            sync_once(root, st)
        assert "source_state_read" in info.value.message
        assert isinstance(info.value.__cause__, (TypeError, ValueError))
        assert backend.rows == rows


def test_a_plain_refresh_reports_nothing_skipped(root, storage):
    with jobreg.Registry() as reg:
        reg.add_dir(root)
        reg.load()
        assert storage.refresh(reg).skipped == 0
