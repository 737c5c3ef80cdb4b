"""A storage backend written in Python (a host's own database): transactions,
failures that become errors without anything half-written, and the same
records as the SQLite backend gives."""

import gc
import threading

import pytest

import jobreg
from conftest import DictBackend, write_tree

CLEANUP = "device_jobs.CleanupDevices"
CHECK = "inventory.check_inventory.CheckInventory"


class FailingBackend(DictBackend):
    """Raises ``exc`` from ``method`` on its ``nth`` call (counted from 1)."""

    def __init__(self):
        super().__init__()
        self.fail = None

    def arm(self, method, exc, nth=1):
        self.fail = [method, exc, nth]

    def _maybe_fail(self, method):
        if self.fail and self.fail[0] == method:
            self.fail[2] -= 1
            if self.fail[2] == 0:
                exc, self.fail = self.fail[1], None
                raise exc

    def write_record(self, record):
        super().write_record(record)  # written first: the rollback must undo it
        self._maybe_fail("write_record")

    def commit(self):
        self._maybe_fail("commit")
        super().commit()

    def read_records(self):
        self._maybe_fail("read_records")
        return super().read_records()

    def delete_record(self, id):
        self._maybe_fail("delete_record")
        super().delete_record(id)


@pytest.fixture
def failing():
    backend = FailingBackend()
    with jobreg.Storage.from_backend(backend) as st:
        yield backend, st


def loaded(registry, jobs_root):
    reg = registry(jobs_root)
    reg.load()
    return reg


def test_a_refresh_is_one_write_transaction_that_reads_once(registry, jobs_root):
    backend = DictBackend()
    with jobreg.Storage.from_backend(backend) as st:
        st.refresh(loaded(registry, jobs_root))
    assert backend.calls[0] == ("begin", True)
    assert backend.calls[1] == ("read_records",)
    assert sorted(backend.calls[2:4]) == [("write_record", CLEANUP), ("write_record", CHECK)]
    assert backend.calls[4:] == [("commit",)]
    assert backend.closed  # close() ran when the storage was freed


def test_a_backend_that_raises_mid_refresh_leaves_nothing_half_written(
        registry, jobs_root, failing):
    backend, st = failing
    reg = loaded(registry, jobs_root)
    st.refresh(reg)
    st.enable(st.get(CHECK))
    committed = {k: dict(v) for k, v in backend.rows.items()}
    # Both records change; the second write fails after the first went in.
    write_tree(jobs_root, {
        "device_jobs.py": "from jobreg.jobs import Job, register_jobs\n"
                          "class CleanupDevices(Job):\n"
                          "    class Meta:\n        description = 'v2'\n"
                          "register_jobs(CleanupDevices)\n",
        "inventory/check_inventory.py": "from jobreg.jobs import Job, register_jobs\n"
                                        "class CheckInventory(Job):\n"
                                        "    class Meta:\n        description = 'v2'\n"
                                        "register_jobs(CheckInventory)\n",
    })
    reg.reload()
    backend.calls.clear()
    backend.arm("write_record", OSError("disk full"), nth=2)
    with pytest.raises(jobreg.StorageError) as info:
        st.refresh(reg)
    err = info.value
    assert "disk full" in err.message and "write_record" in err.message
    assert isinstance(err.__cause__, OSError)
    assert backend.calls[-1] == ("rollback",) and ("commit",) not in backend.calls
    assert backend.rows == committed and backend.open is None
    # The next refresh (the disk has room again) does it all.
    result = st.refresh(reg)
    assert sorted(result.updated) == [CLEANUP, CHECK]
    assert st.get(CHECK).enabled is True and st.get(CHECK).description == "v2"


def test_a_failed_commit_is_rolled_back(registry, jobs_root, failing):
    backend, st = failing
    reg = loaded(registry, jobs_root)
    backend.arm("commit", RuntimeError("lost the connection"))
    with pytest.raises(jobreg.StorageError) as info:
        st.refresh(reg)
    assert "lost the connection" in info.value.message
    assert backend.calls[-1] == ("rollback",)
    assert backend.rows == {}
    assert len(st.refresh(reg).created) == 2


def test_a_backend_raising_a_jobreg_error_chooses_the_code(registry, jobs_root, failing):
    backend, st = failing
    backend.arm("read_records", jobreg.Unsupported("this database is read-only today"))
    with pytest.raises(jobreg.Unsupported) as info:
        st.refresh(loaded(registry, jobs_root))
    assert "read-only today" in info.value.message


def test_a_failing_delete_keeps_the_record(registry, jobs_root, failing):
    backend, st = failing
    st.refresh(loaded(registry, jobs_root))
    rec = st.get(CLEANUP)
    backend.arm("delete_record", ValueError("constraint"))
    with pytest.raises(jobreg.StorageError):
        st.delete(rec, force=True)
    assert st.get(CLEANUP).id == rec.id


def test_a_keyboard_interrupt_inside_a_backend_still_interrupts_after_the_rollback(
        registry, jobs_root, failing):
    backend, st = failing
    backend.arm("write_record", KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        st.refresh(loaded(registry, jobs_root))
    assert backend.calls[-1] == ("rollback",) and backend.rows == {}


def test_read_records_may_yield_records_or_mappings_and_bad_items_fail_cleanly(registry,
                                                                               jobs_root):
    class Mixed(DictBackend):
        bad = False

        def read_records(self):
            rows = super().read_records()
            if self.bad:
                return rows + ["not a record"]
            return [jobreg.Record(r) if i % 2 else r for i, r in enumerate(rows)]

    backend = Mixed()
    with jobreg.Storage.from_backend(backend) as st:
        reg = loaded(registry, jobs_root)
        st.refresh(reg)
        assert st.refresh(reg).writes == 0
        backend.bad = True
        with pytest.raises(jobreg.StorageError) as info:
            st.list()
        assert "not a record" in info.value.message or "str" in info.value.message
        assert isinstance(info.value.__cause__, TypeError)


def test_duplicate_identities_from_a_backend_are_refused(registry, jobs_root):
    backend = DictBackend()
    with jobreg.Storage.from_backend(backend) as st:
        reg = loaded(registry, jobs_root)
        st.refresh(reg)
        row = dict(next(iter(backend.rows.values())))
        row["id"] = "00000000-0000-4000-8000-000000000000"
        backend.rows[row["id"]] = row
        before = dict(backend.rows)
        with pytest.raises(jobreg.AlreadyExists) as info:
            st.refresh(reg)
        assert row["id"] in info.value.message
        assert backend.rows == before


def test_a_python_backend_gives_the_same_records_as_sqlite(registry, jobs_root, app_path,
                                                           tmp_path):
    python = jobreg.Storage.from_backend(DictBackend())
    sqlite = jobreg.Storage.sqlite(tmp_path / "same.db")
    reg = registry(jobs_root)
    reg.add_app("my_app")
    reg.load()

    def steps(st):
        results = [st.refresh(reg).to_dict()]
        st.enable(st.get(CHECK))
        st.override(st.get(CLEANUP), "name", "Mine")
        (jobs_root / "device_jobs.py").unlink()
        results.append(st.refresh(reg.reload()).to_dict())
        st.delete(st.get(CLEANUP))
        return results

    def without_ids(st):
        return [{k: v for k, v in r.to_dict().items() if k != "id"} for r in st.list()]

    source = (jobs_root / "device_jobs.py").read_text()
    first = steps(python)
    (jobs_root / "device_jobs.py").write_text(source)
    reg.reload()
    second = steps(sqlite)
    assert first == second
    assert without_ids(python) == without_ids(sqlite)
    python.close()
    sqlite.close()


def test_a_backend_without_git_state_makes_git_state_unsupported():
    class NoGit(jobreg.StorageBackend):
        def begin(self, write):
            pass

        def commit(self):
            pass

        def rollback(self):
            pass

        def read_records(self):
            return []

        def write_record(self, record):
            pass

        def delete_record(self, id):
            pass

    with jobreg.Storage.from_backend(NoGit()) as st:
        assert list(st) == []
        with pytest.raises(jobreg.Unsupported):
            st.git_state("my_repo")
        with pytest.raises(jobreg.Unsupported):
            st.set_git_state("my_repo", "file:///x", "main", "")


def test_something_that_is_no_backend_is_refused_at_once():
    class Half:
        def begin(self, write):
            pass

    with pytest.raises(TypeError) as info:
        jobreg.Storage.from_backend(Half())
    assert "commit()" in str(info.value) and "read_records()" in str(info.value)

    class OnlyGitRead(DictBackend):
        git_state_write = None

    with pytest.raises(TypeError):
        jobreg.Storage.from_backend(OnlyGitRead())


def test_a_dropped_storage_closes_its_backend():
    backend = DictBackend()
    st = jobreg.Storage.from_backend(backend)
    assert not backend.closed
    del st
    gc.collect()
    assert backend.closed


def test_calls_from_many_threads_are_serialized_for_the_backend(registry, jobs_root):
    backend = DictBackend()  # asserts that transactions never nest
    with jobreg.Storage.from_backend(backend) as st:
        st.refresh(loaded(registry, jobs_root))
        ids = [r.id for r in st.list()]
        errors = []

        def flip(n):
            try:
                for i in range(30):
                    st.set_enabled(ids[(n + i) % 2], i % 2 == 0)
                    st.list()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=flip, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert backend.count("begin") == backend.count("commit") + backend.count("rollback")
