"""Running jobs from Python with run options v2 (0.3.0; SPEC 2.1 and 5): the
run context, created files (on_file, RunResult.files), host operations, and
a job that calls fail()."""

import pytest

import jobreg
from conftest import write_tree

JOBS = {"ctx.py": '''
    from jobreg.jobs import Job, enqueue_job_hooks, get_celery_queues, register_jobs

    class Context(Job):
        def run(self):
            return {"result_id": self.job_result.id,
                    "user": self.user.username if self.user else None,
                    "model": self.job_model.name, "enabled": self.job_model.enabled}

    class Files(Job):
        def run(self):
            self.create_file("report.txt", "h\\u00e9llo")
            self.create_file("blob.bin", b"a\\x00b\\x00\\xff")
            self.create_file("empty.txt", b"")
            return "made"

    class CatchesRefusal(Job):
        def run(self):
            try:
                self.create_file("x.bin", b"1")
            except RuntimeError as exc:
                return "refused: " + str(exc)
            return "accepted"

    class Queues(Job):
        def run(self):
            return get_celery_queues()

    class Hooks(Job):
        def run(self):
            try:
                return list(enqueue_job_hooks({"action": "create"}))
            except LookupError as exc:
                return "lookup: " + str(exc)
            except RuntimeError as exc:
                return "runtime: " + str(exc)

    class FailsKeepingResult(Job):
        def run(self):
            self.fail("%d devices unreachable", 2)
            return {"checked": 5}

    register_jobs(Context, Files, CatchesRefusal, Queues, Hooks, FailsKeepingResult)
    '''}

FILES = [("report.txt", "h\u00e9llo".encode()), ("blob.bin", b"a\x00b\x00\xff"), ("empty.txt", b"")]


@pytest.fixture
def ready(registry, tmp_path):
    root = write_tree(tmp_path / "jobs", JOBS)
    reg = registry(root)
    reg.load()
    st = jobreg.Storage.memory()
    st.refresh(reg)
    for rec in st.list():
        st.enable(rec)
    yield reg, st
    st.close()


def test_the_context_reaches_job_result_user_and_job_model(ready):
    reg, st = ready
    result = reg.run("ctx.Context", st, context={
        "job_result": {"id": "jr-42"}, "user": {"username": "alice"},
        "job_model": {"name": "From the host", "enabled": False}, "task_id": "t-1"})
    assert result.result == {"result_id": "jr-42", "user": "alice", "model": "From the host",
                             "enabled": False}


def test_job_model_defaults_to_the_record(ready):
    reg, st = ready
    st.override(st.get("ctx.Context"), "name", "Context, renamed")
    result = reg.run("ctx.Context", st, context={"job_result": {"id": "jr-1"}})
    assert result.result == {"result_id": "jr-1", "user": None, "model": "Context, renamed",
                             "enabled": True}


def test_a_loaded_job_runs_with_the_same_keywords(ready):
    reg, st = ready
    job = reg.resolve("ctx.Context")
    try:
        result = job.run(st.get("ctx.Context"), context={"user": {"username": "bob"}})
    finally:
        job.close()
    assert result.result["user"] == "bob"


def test_a_context_must_be_a_dict_of_json_values(ready):
    reg, st = ready
    with pytest.raises(TypeError):
        reg.run("ctx.Context", st, context=[1, 2])
    with pytest.raises(TypeError):
        reg.run("ctx.Context", st, context={"user": object()})


def test_created_files_are_in_the_result_without_a_callback(ready):
    reg, st = ready
    result = reg.run("ctx.Files", st)
    assert result.succeeded and result.files == FILES
    assert result.to_dict()["files"] == [{"name": "report.txt", "size": 6},
                                         {"name": "blob.bin", "size": 5},
                                         {"name": "empty.txt", "size": 0}]


def test_created_files_reach_on_file_and_stay_in_the_result(ready):
    reg, st = ready
    seen = []
    result = reg.run("ctx.Files", st, on_file=lambda name, content: seen.append((name, content)))
    assert seen == FILES and result.files == FILES
    assert all(type(content) is bytes for _, content in seen)


def test_an_exception_in_on_file_refuses_the_file(ready):
    reg, st = ready

    def no_binaries(name, content):
        if name.endswith(".bin"):
            raise PermissionError("no binaries here")

    result = reg.run("ctx.Files", st, on_file=no_binaries)
    assert (result.status, result.error_type, result.error_message) == \
        ("failed", "RuntimeError", "no binaries here")
    assert result.files == FILES[:1]
    result = reg.run("ctx.CatchesRefusal", st, on_file=no_binaries)
    assert result.result == "refused: no binaries here" and result.files == []


def test_host_operations_through_a_callable(ready):
    reg, st = ready
    calls = []

    def host(operation, args):
        calls.append((operation, args))
        if operation == "get_celery_queues":
            return {"default": 2}
        raise LookupError(operation)

    assert reg.run("ctx.Queues", st, host=host).result == {"default": 2}
    assert reg.run("ctx.Hooks", st, host=host).result == \
        "lookup: the host does not provide 'enqueue_job_hooks'"
    assert calls == [("get_celery_queues", {}),
                     ("enqueue_job_hooks", {"object_change": {"action": "create"},
                                            "may_reload_jobs": True})]


def test_host_operations_through_a_dict(ready):
    reg, st = ready

    def hooks(args):
        raise KeyError("inside the operation: a failure, not 'not provided'")

    host = {"get_celery_queues": lambda args: {"default": 1, "slow": 0},
            "enqueue_job_hooks": hooks}
    assert reg.run("ctx.Queues", st, host=host).result == {"default": 1, "slow": 0}
    assert reg.run("ctx.Hooks", st, host=host).result.startswith("runtime: ")
    result = reg.run("ctx.Queues", st, host={"enqueue_job_hooks": hooks})
    assert (result.error_type, result.error_message) == \
        ("LookupError", "the host does not provide 'get_celery_queues'")


def test_a_failing_host_operation_gives_the_job_its_message(ready):
    reg, st = ready

    def host(operation, args):
        raise ConnectionError("the broker is down")

    result = reg.run("ctx.Queues", st, host=host)
    assert (result.error_type, result.error_message) == ("RuntimeError", "the broker is down")
    result = reg.run("ctx.Queues", st, host={"get_celery_queues": lambda args: object()})
    assert result.error_type == "RuntimeError" and "not JSON serializable" in result.error_message


def test_bad_callbacks_are_refused_before_the_run(ready):
    reg, st = ready
    with pytest.raises(TypeError):
        reg.run("ctx.Files", st, on_file="nope")
    with pytest.raises(TypeError):
        reg.run("ctx.Queues", st, host=42)
    with pytest.raises(TypeError):
        reg.run("ctx.Queues", st, host={"get_celery_queues": "not callable"})


def test_a_job_that_called_fail_is_failed_and_keeps_its_result(ready):
    reg, st = ready
    result = reg.run("ctx.FailsKeepingResult", st)
    assert result.status == "failed" and result.result == {"checked": 5}
    assert "2 devices unreachable" in result.error_message
    with pytest.raises(jobreg.JobFailed):
        result.raise_for_status()
