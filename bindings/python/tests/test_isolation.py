"""Isolation mode from a Python host (docs/isolation.md): Registry(isolation=
"process") imports and runs job code in worker processes forked from this
interpreter, so a module that exits or crashes is a load error, a run that
does is a failed run, and the host, its threads and its own modules go on."""

import os
import threading

import pytest

import jobreg
from conftest import write_tree

JOBS = '''
    import os, time
    from jobreg.jobs import Job, register_jobs, StringVar

    class Where(Job):
        text = StringVar(required=False)

        def run(self, text=None):
            self.logger.info("in %s", os.getpid())
            return {"pid": os.getpid(), "text": text}

    class Dies(Job):
        def run(self):
            os._exit(3)

    class Blocks(Job):
        def run(self):
            time.sleep(60)

    register_jobs(Where, Dies, Blocks)
'''


@pytest.fixture
def isolated(registry, jobs_root):
    write_tree(jobs_root, {
        "work.py": JOBS,
        "exits.py": "import os\nos._exit(0)\n",
        "crashes.py": "import ctypes\nctypes.string_at(0)\n",
    })
    reg = registry(jobs_root, isolation="process", workers=2, worker_memory_limit_mb=512)
    snap = reg.load()
    st = jobreg.Storage.memory()
    st.refresh(reg)
    for rec in st.list():
        st.enable(rec)
    yield reg, st, snap
    st.close()


def test_modules_that_exit_or_crash_are_load_errors_and_the_host_goes_on(isolated):
    reg, st, snap = isolated
    errors = {err.module: err for err in snap.load_errors}
    assert set(errors) == {"exits", "crashes"}
    assert errors["exits"].type == "WorkerDied"
    assert "exited with status 0" in errors["exits"].message
    assert "killed by signal" in errors["crashes"].message
    assert errors["crashes"].file.endswith("crashes.py")
    assert {"work.Blocks", "work.Dies", "work.Where"} <= {job.class_path for job in snap.jobs}
    # The job classes never came into this interpreter.
    assert "work" not in __import__("sys").modules


def test_a_run_happens_in_a_worker_and_logs_reach_the_host(isolated):
    reg, st, _ = isolated
    logs = []
    result = reg.run("work.Where", st, data={"text": "hi"},
                     log=lambda level, name, message, extra: logs.append(message))
    assert result.status == "success"
    assert result.result["text"] == "hi"
    assert result.result["pid"] != os.getpid()
    assert logs == [f"in {result.result['pid']}"]


def test_a_run_that_exits_is_a_failed_run(isolated):
    reg, st, _ = isolated
    result = reg.run("work.Dies", st)
    assert result.status == "failed"
    assert result.error_type == "WorkerDied"
    assert "exited with status 3" in result.error_message
    assert reg.run("work.Where", st).status == "success"  # a new worker


def test_cancel_kills_a_blocked_run_and_raises_in_the_caller(isolated):
    reg, st, _ = isolated
    with jobreg.Cancel() as token:
        threading.Timer(0.2, token.cancel).start()
        with pytest.raises(jobreg.Cancelled):
            reg.run("work.Blocks", st, cancel=token)


def test_runs_from_several_threads_use_several_workers(isolated):
    reg, st, _ = isolated
    pids, failures = [], []

    def runs():
        for _ in range(10):
            result = reg.run("work.Where", st)
            if result.status != "success":
                failures.append(result.error_message)
            else:
                pids.append(result.result["pid"])

    threads = [threading.Thread(target=runs) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len(pids) == 30
    assert 1 <= len(set(pids)) <= 2  # at most `workers` processes
    assert os.getpid() not in pids


def test_an_unknown_isolation_mode_is_refused(registry):
    with pytest.raises(ValueError, match="isolation"):
        registry(isolation="threads")
