"""Cancelling a run and run time limits, in the host's process (run options
version 3): jobreg.Cancel, jobreg.Cancelled, Meta.soft_time_limit and
Meta.time_limit, the host's default limits; and the registry's isolation
options as the binding passes them."""

import sys
import threading
import time
import types

import pytest

import jobreg
from conftest import write_tree

JOBS = '''
    import time
    from jobreg.jobs import Job, register_jobs, StringVar, SoftTimeLimitExceeded

    def spin(seconds=30):
        # Python code all along, so the watchdog's exceptions get in; a
        # run that is not stopped ends after `seconds` with "not stopped".
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass

    class Spins(Job):
        def run(self):
            spin()
            return "not stopped"

    class Writes(Job):
        path = StringVar()

        def run(self, path):
            with open(path, "w") as f:
                f.write("ran")
            return "ran"

    class SoftLimit(Job):
        class Meta:
            soft_time_limit = 0.2

        def run(self):
            spin()
            return "not stopped"

    class SoftCleans(Job):
        class Meta:
            soft_time_limit = 0.2

        def run(self):
            try:
                spin()
            except SoftTimeLimitExceeded:
                return "cleaned"
            return "not stopped"

    class HardLimit(Job):
        class Meta:
            time_limit = 0.3

        def run(self):
            for _ in range(30):
                try:
                    spin(1)
                except Exception:
                    pass
            return "not stopped"

    class CeleryCatch(Job):
        class Meta:
            soft_time_limit = 0.2

        def run(self):
            from celery.exceptions import SoftTimeLimitExceeded as Celerys
            try:
                spin()
            except Celerys:
                return "celery's"
            return "not stopped"

    class Quick(Job):
        def run(self):
            return "quick"

    register_jobs(Spins, Writes, SoftLimit, SoftCleans, HardLimit, CeleryCatch, Quick)
'''


@pytest.fixture
def ready(registry, jobs_root):
    write_tree(jobs_root, {"limits.py": JOBS})
    reg = registry(jobs_root)
    snap = reg.load()
    assert not snap.load_errors, snap.load_errors
    st = jobreg.Storage.memory()
    st.refresh(reg)
    for rec in st.list():
        st.enable(rec)
    yield reg, st
    st.close()


def test_a_token_is_cancelled_once_and_for_good():
    with jobreg.Cancel() as token:
        assert not token.cancelled
        token.cancel()
        token.cancel()
        assert token.cancelled
    assert token.closed
    with pytest.raises(jobreg.StateError):
        token.cancel()


def test_cancel_from_another_thread_raises_cancelled_in_the_caller(ready):
    reg, st = ready
    token = jobreg.Cancel()
    timer = threading.Timer(0.2, token.cancel)
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(jobreg.Cancelled, match="the run of 'limits.Spins' was cancelled"):
            reg.run("limits.Spins", st, cancel=token)
    finally:
        timer.join()
        token.close()
    # A figure, not an assertion: not stopped, the job would end after 30 s.
    print(f"cancelled after {time.monotonic() - started - 0.2:.3f} s")


def test_a_token_cancelled_before_the_run_refuses_it(ready, tmp_path):
    reg, st = ready
    path = tmp_path / "ran.txt"
    with jobreg.Cancel() as token:
        token.cancel()
        with pytest.raises(jobreg.Cancelled, match="before it started"):
            reg.run("limits.Writes", st, data={"path": str(path)}, cancel=token)
    assert not path.exists()
    assert reg.run("limits.Writes", st, data={"path": str(path)}).result == "ran"
    assert path.read_text() == "ran"


def test_the_loaded_job_takes_a_token_too(ready):
    reg, st = ready
    job = reg.resolve("limits.Quick")
    with jobreg.Cancel() as token:
        assert job.run(st.get("limits.Quick"), cancel=token).result == "quick"
        token.cancel()
        with pytest.raises(jobreg.Cancelled):
            job.run(st.get("limits.Quick"), cancel=token)
    job.close()


def test_closing_a_token_during_its_run_frees_it_after(ready):
    reg, st = ready
    token = jobreg.Cancel()

    def close_then_cancel():
        ptr = token._ptr
        token.close()
        assert token._ptr is ptr  # still used by the run: not freed yet
        jobreg._ffi.lib.jobreg_cancel_request(ptr)

    timer = threading.Timer(0.2, close_then_cancel)
    timer.start()
    try:
        with pytest.raises(jobreg.Cancelled):
            reg.run("limits.Spins", st, cancel=token)
    finally:
        timer.join()
    assert token._ptr is None


def test_the_soft_limit_fails_a_job_that_does_not_catch_it(ready):
    reg, st = ready
    result = reg.run("limits.SoftLimit", st)
    assert result.status == "failed"
    assert result.error_type == "SoftTimeLimitExceeded"
    assert result.error_message == "the job exceeded its soft time limit of 0.2 s"


def test_a_job_that_catches_the_soft_limit_cleans_up(ready):
    reg, st = ready
    result = reg.run("limits.SoftCleans", st)
    assert result.succeeded and result.result == "cleaned"


def test_the_hard_limit_fails_a_job_that_catches_exception(ready):
    reg, st = ready
    result = reg.run("limits.HardLimit", st)
    assert result.status == "failed"
    assert result.error_type == "TimeLimitExceeded"
    assert result.error_message == "the job exceeded its time limit of 0.3 s"


def test_default_limits_hold_for_a_job_without_its_own(ready):
    reg, st = ready
    result = reg.run("limits.Spins", st, default_soft_time_limit=0.1)
    assert (result.error_type, result.error_message) == (
        "SoftTimeLimitExceeded", "the job exceeded its soft time limit of 0.1 s")
    result = reg.run("limits.Spins", st, default_time_limit=0.2)
    assert (result.error_type, result.error_message) == (
        "TimeLimitExceeded", "the job exceeded its time limit of 0.2 s")
    # The job's own limit wins.
    result = reg.run("limits.HardLimit", st, default_time_limit=50)
    assert result.error_message == "the job exceeded its time limit of 0.3 s"


@pytest.fixture
def fake_celery():
    """celery.exceptions as job code sees it when Celery is installed."""
    saved = {name: sys.modules.get(name) for name in ("celery", "celery.exceptions")}
    celery = types.ModuleType("celery")
    exceptions = types.ModuleType("celery.exceptions")
    exceptions.SoftTimeLimitExceeded = type("SoftTimeLimitExceeded", (Exception,), {})
    celery.exceptions = exceptions
    sys.modules.update({"celery": celery, "celery.exceptions": exceptions})
    yield exceptions
    for name, module in saved.items():
        if module is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = module


def test_celerys_soft_time_limit_exceeded_is_raised_when_imported(ready, fake_celery):
    reg, st = ready
    assert reg.run("limits.CeleryCatch", st).result == "celery's"


def test_bad_run_options_are_refused_before_the_run(ready):
    reg, st = ready
    with pytest.raises(ValueError, match="default_time_limit"):
        reg.run("limits.Quick", st, default_time_limit=-1)
    with pytest.raises(ValueError, match="default_soft_time_limit"):
        reg.run("limits.Quick", st, default_soft_time_limit=float("nan"))
    with pytest.raises(TypeError, match="jobreg.Cancel"):
        reg.run("limits.Quick", st, cancel=object())


def test_cancelled_is_the_error_of_jobreg_ecanceled():
    assert jobreg.error_name(jobreg.Cancelled.code) == "JOBREG_ECANCELED"
    assert isinstance(jobreg._errors.error_for(jobreg.Cancelled.code, "x"), jobreg.Cancelled)


def test_the_registry_checks_its_isolation_options():
    with pytest.raises(ValueError, match="isolation"):
        jobreg.Registry(isolation="thread")
    with pytest.raises(TypeError, match="workers"):
        jobreg.Registry(workers="2")
    with pytest.raises(ValueError, match="worker_memory_limit_mb"):
        jobreg.Registry(worker_memory_limit_mb=-1)


def test_the_registry_passes_its_isolation_options(monkeypatch):
    seen = {}
    real_new = jobreg._ffi.lib.jobreg_registry_new

    class Spy:
        def __getattr__(self, name):
            return getattr(jobreg._ffi.lib, name)

        def jobreg_registry_new(self, out, opts):
            seen.update(version=opts.version, isolation=opts.isolation, workers=opts.workers,
                        memory=opts.worker_memory_limit_mb)
            return real_new(out, opts)

    monkeypatch.setattr(jobreg._registry, "lib", Spy())
    jobreg.Registry().close()
    assert seen["version"] == 1  # no version-2 option: a version-1 struct
    try:
        jobreg.Registry(isolation="process", workers=3, worker_memory_limit_mb=256).close()
    except jobreg.VersionError:
        pytest.skip("this library predates registry options version 2")
    assert seen == {"version": 2, "isolation": jobreg._ffi.lib.JOBREG_ISOLATION_PROCESS,
                    "workers": 3, "memory": 256}
