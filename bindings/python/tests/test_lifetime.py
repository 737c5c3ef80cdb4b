"""No leaks: every C object the binding makes is freed, by close() or by the
garbage collector, and objects that share a generation keep it alive exactly
as long as they live."""

import gc
import sys
import weakref

import pytest

import jobreg
from jobreg import _backend
from conftest import DictBackend, write_tree

MODULE = '''
from jobreg.jobs import Job, register_jobs

class Thing(Job):
    def run(self):
        return "thing"

register_jobs(Thing)
'''


@pytest.fixture
def root(tmp_path):
    return write_tree(tmp_path / "jobs", {"lifetime_jobs.py": MODULE})


def collect():
    # Twice: C objects freed during a collection drop the last references to
    # Python cycles (class <-> module globals) that only the next one frees.
    gc.collect()
    gc.collect()


def class_ref():
    return weakref.ref(sys.modules["lifetime_jobs"].Thing)


def test_a_generation_lives_exactly_as_long_as_its_snapshots_and_jobs(root):
    reg = jobreg.Registry()
    reg.add_dir(root)
    snap = reg.load()
    job = snap[0]
    thing = class_ref()
    reg.close()  # the modules are purged; the generation is still held
    assert "lifetime_jobs" not in sys.modules
    collect()
    assert thing() is not None
    snap.close()
    collect()
    assert thing() is not None and job.run  # the job holds it now
    del job
    collect()
    assert thing() is None, "the library still holds the job class: a generation leaked"


def test_objects_dropped_without_close_are_freed_by_the_garbage_collector(root):
    reg = jobreg.Registry()
    src = reg.add_dir(root)
    snap = reg.load()
    jobs = list(snap) + [reg.resolve("lifetime_jobs.Thing"), snap.resolve("lifetime_jobs.Thing")]
    thing = class_ref()
    del reg, src, snap, jobs
    collect()
    assert "lifetime_jobs" not in sys.modules  # the registry was freed: its source closed
    assert thing() is None


def test_runs_and_refreshes_leave_no_generation_behind(root):
    reg = jobreg.Registry()
    reg.add_dir(root)
    reg.load()
    with jobreg.Storage.from_backend(DictBackend()) as st:
        for _ in range(3):
            st.refresh(reg)
            st.enable(st.get("lifetime_jobs.Thing"))
            assert reg.run("lifetime_jobs.Thing", st).result == "thing"
        thing = class_ref()
    reg.close()
    collect()
    assert thing() is None


def test_python_backend_handles_are_released_with_their_storage():
    before = len(_backend._live)
    stores = [jobreg.Storage.from_backend(DictBackend()) for _ in range(5)]
    assert len(_backend._live) == before + 5
    stores[0].close()
    del stores
    collect()
    assert len(_backend._live) == before


def test_a_source_never_added_is_freed_and_one_added_is_not_freed_twice(root, tmp_path):
    lone = jobreg.DirSource(root)
    lone.close()
    with pytest.raises(jobreg.StateError):
        lone.root
    reg = jobreg.Registry()
    owned = reg.add_dir(tmp_path)
    owned.close()  # owned by the registry: nothing to do
    assert owned.root == str(tmp_path)
    reg.close()
    with pytest.raises(jobreg.StateError):
        owned.root  # freed with its registry
    del owned
    collect()


def test_many_objects_come_and_go(root):
    for _ in range(50):
        with jobreg.Registry() as reg:
            reg.add_dir(root)
            with reg.load() as snap, jobreg.Storage.memory() as st:
                st.refresh(snap)
                records = st.list()
                assert len(records) == 1
                assert records[0].copy() == records[0]
                [j.to_dict() for j in snap]
    collect()
    assert "lifetime_jobs" not in sys.modules
