"""Running jobs from Python (SPEC 5): refusals as exceptions, results as objects,
self.logger records through the log callback."""

import json

import pytest

import jobreg
from conftest import write_tree


@pytest.fixture
def ready(registry, jobs_root, app_path):
    write_tree(jobs_root, {"tools.py": '''
        from jobreg.jobs import IntegerVar, Job, StringVar, register_jobs

        class Add(Job):
            a = IntegerVar()
            b = IntegerVar(default=1)
            label = StringVar(required=False)

            def run(self, a, b, label=None):
                self.logger.debug("adding", extra={"a": a, "b": b})
                return {"sum": a + b, "label": label or None}

        class Explode(Job):
            def run(self):
                self.logger.error("about to fail")
                raise ValueError("no such device")

        register_jobs(Add, Explode)
        '''})
    reg = registry(jobs_root)
    reg.add_app("my_app")
    reg.load()
    st = jobreg.Storage.memory()
    st.refresh(reg)
    for rec in st.list():
        st.enable(rec)
    yield reg, st
    st.close()


def test_a_job_runs_and_returns_its_result(ready):
    reg, st = ready
    result = reg.run("tools.Add", st, data={"a": 2, "b": 3})
    assert result.status == "success" and result.succeeded
    assert result.result == {"sum": 5, "label": None}
    assert json.loads(result.result_json) == result.result
    assert result.to_dict() == {"status": "success", "result": {"sum": 5, "label": None},
                                "error": None, "files": []}
    assert result.files == []
    assert result.raise_for_status() is result


def test_data_may_be_json_text(ready):
    reg, st = ready
    assert reg.run("tools.Add", st, data='{"a": 1}').result["sum"] == 2


def test_log_records_reach_the_callback_as_they_happen(ready):
    reg, st = ready
    seen = []
    result = reg.run("my_app.jobs.ComplianceReport", st, data={"platform": "eos"},
                     log=lambda *record: seen.append(record))
    assert result.result == {"platform": "eos"}
    assert seen == [(20, "INFO", "checking eos", {"platform": "eos"})]
    seen.clear()
    reg.run("tools.Add", st, data={"a": 1}, log=lambda *record: seen.append(record))
    assert seen == [(10, "DEBUG", "adding", {"a": 1, "b": 1})]


def test_a_job_that_raises_is_a_failed_run_not_an_exception(ready):
    reg, st = ready
    logs = []
    result = reg.run("tools.Explode", st, log=lambda lvl, name, msg, extra: logs.append(msg))
    assert result.status == "failed" and not result.succeeded
    assert (result.error_type, result.error_message) == ("ValueError", "no such device")
    assert "raise ValueError" in result.traceback
    assert result.result is None and logs == ["about to fail"]
    with pytest.raises(jobreg.JobFailed) as info:
        result.raise_for_status()
    assert info.value.error_type == "ValueError" and "no such device" in info.value.message
    assert result.to_dict()["error"]["type"] == "ValueError"


def test_an_exception_in_the_log_callback_is_reported_and_the_run_goes_on(ready, monkeypatch):
    import sys

    reg, st = ready
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)

    def bad_log(*record):
        raise RuntimeError("log sink broken")

    result = reg.run("tools.Add", st, data={"a": 1}, log=bad_log)
    assert result.succeeded
    assert len(reported) == 1 and isinstance(reported[0].exc_value, RuntimeError)


def test_invalid_input_is_refused_naming_every_field(ready):
    reg, st = ready
    with pytest.raises(jobreg.InvalidInput) as info:
        reg.run("tools.Add", st, data={"b": "three", "extra": 1})
    message = info.value.message
    assert "a" in message and "b" in message
    assert info.value.code == jobreg.InvalidInput.code == -15
    with pytest.raises(jobreg.InvalidInput):
        reg.run("tools.Add", st, data="{not json")


def test_a_disabled_or_uninstalled_job_is_refused(ready, jobs_root):
    reg, st = ready
    st.disable(st.get("tools.Add"))
    with pytest.raises(jobreg.NotEnabled):
        reg.run("tools.Add", st, data={"a": 1})
    (jobs_root / "tools.py").unlink()
    job = reg.resolve("tools.Explode")  # the old generation's job
    st.refresh(reg.reload())
    with pytest.raises(jobreg.NotInstalled):
        job.run(st.get("tools.Explode"))
    with pytest.raises(jobreg.NotFound):
        reg.run("tools.Explode", st)


def test_a_loaded_job_runs_with_its_record_and_refuses_another_jobs(ready):
    reg, st = ready
    job = reg.resolve("device_jobs.CleanupDevices")
    logs = []
    result = job.run(st.get(job.class_path), log=lambda *r: logs.append(r[2]))
    assert result.succeeded and logs == ["Cleaning old device entries"]
    with pytest.raises(jobreg.InvalidArgument):
        job.run(st.get("tools.Add"))
    with pytest.raises(TypeError):
        job.run({"class_path": job.class_path})


def test_a_job_without_a_record_is_not_installed(registry, jobs_root):
    reg = registry(jobs_root)
    reg.load()
    with jobreg.Storage.memory() as st:
        with pytest.raises(jobreg.NotInstalled) as info:
            reg.run("device_jobs.CleanupDevices", st)
    assert "refresh" in info.value.message


def test_runs_work_over_a_python_storage_backend(ready):
    from conftest import DictBackend

    reg, _ = ready
    with jobreg.Storage.from_backend(DictBackend()) as st:
        st.refresh(reg)
        st.enable(st.get("tools.Add"))
        assert reg.run("tools.Add", st, data={"a": 40, "b": 2}).result["sum"] == 42
