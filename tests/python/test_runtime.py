"""A job at run time (SPEC 2.1), through jobreg._runner.run as src/run.c calls it.

Run: cd /work/main && PYTHONPATH=src/py /usr/bin/python3 -m pytest -q tests/python/test_runtime.py
"""
import datetime
import decimal
import io
import json
import sys
import threading
import uuid

import pytest

from jobreg import _meta, _runner, jobs
from jobreg.jobs import (Job, JobButtonReceiver, JobHookReceiver, GitRepositorySync,
                         GitRepositoryDryRun, StringVar)


class Outcome:
    """What one run handed back: the outcome tuple, log records, files, host calls."""

    def __init__(self):
        self.log, self.files, self.calls = [], [], []

    def record(self, level, name, message, extra):
        self.log.append((name, message, json.loads(extra)))

    def add_file(self, name, content):
        self.files.append((name, content))


def run_job(cls, data=None, context=None, record=None, host=None):
    seen = Outcome()

    def host_call(operation, args_json):
        seen.calls.append((operation, json.loads(args_json)))
        reply = host[operation](**json.loads(args_json)) if operation in host else LookupError
        if reply is LookupError:
            raise LookupError(f"the host does not provide {operation!r}")
        return json.dumps(reply)

    seen.outcome = _runner.run(cls, json.dumps(data or {}), seen.record,
                               json.dumps(context) if context is not None else None,
                               json.dumps(record or {"name": "From the record", "enabled": True}),
                               seen.add_file, host_call if host is not None else None)
    return seen


def test_job_model_defaults_to_the_record_and_context_wins():
    class Who(Job):
        def run(self):
            return [self.job_model.name, self.job_model.enabled, self.user, self.job_result.id]

    seen = run_job(Who, context={"task_id": "t-1"})
    assert seen.outcome == ("ok", '["From the record", true, null, "t-1"]')
    seen = run_job(Who, context={"job_model": {"name": "Ctx", "enabled": False},
                                 "user": {"username": "bob"}, "job_result": {"id": "r-9"}})
    assert json.loads(seen.outcome[1])[:2] == ["Ctx", False]
    assert json.loads(seen.outcome[1])[3] == "r-9"


def test_context_objects_read_like_models_and_stay_read_only():
    class Reads(Job):
        def run(self):
            with pytest.raises(AttributeError, match="read-only"):
                self.user.username = "mallory"
            with pytest.raises(AttributeError, match="'email' is not in this object"):
                self.user.email
            return [self.user.username, self.user["groups"][0], self.job_result.user.username,
                    str(self.user)]

    seen = run_job(Reads, context={"user": {"username": "bob", "groups": ["ops"]}})
    assert json.loads(seen.outcome[1]) == ["bob", "ops", "bob", "bob"]


def test_create_file_takes_str_or_bytes_and_refuses_the_rest():
    class Files(Job):
        def run(self):
            self.create_file("a.txt", "h\u00e9")
            self.create_file("b.bin", b"\x00\x01")
            with pytest.raises(TypeError, match="content must be str or bytes"):
                self.create_file("c", 3)
            with pytest.raises(TypeError, match="filename must be a non-empty str"):
                self.create_file("", "x")
            with pytest.raises(ValueError, match="over the limit"):
                self.create_file("big", b"x" * (_runner.CREATE_FILE_MAX_SIZE + 1))

    seen = run_job(Files)
    assert seen.outcome[0] == "ok"
    assert seen.files == [("a.txt", "h\u00e9".encode()), ("b.bin", b"\x00\x01")]


def test_create_file_outside_a_run_says_so():
    with pytest.raises(RuntimeError, match="only while the job runs"):
        Job().create_file("x", "y")


def test_a_host_that_refuses_a_file_fails_the_job_that_does_not_catch_it():
    class Files(Job):
        def run(self):
            self.create_file("a.txt", "x")

    def refuse(name, content):
        raise RuntimeError("disk full")

    outcome = _runner.run(Files, "{}", None, None, "{}", refuse, None)
    assert outcome[:3] == ("failed", "RuntimeError", "disk full")


def test_print_goes_to_the_run_log_and_other_threads_keep_stdout(monkeypatch):
    captured = io.StringIO()
    monkeypatch.setattr(sys, "stdout", captured)

    class Prints(Job):
        def run(self):
            print("inside", 1)
            worker = threading.Thread(target=print, args=("from another thread",))
            worker.start()
            worker.join()
            print("no newline at the end", end="")

    seen = run_job(Prints)
    assert [(m, e) for _, m, e in seen.log] == [("inside 1", {"grouping": "print"}),
                                                ("no newline at the end", {"grouping": "print"})]
    print("after the run")
    assert captured.getvalue() == "from another thread\nafter the run\n"


def test_results_take_what_nautobots_encoder_takes():
    class Rich(Job):
        def run(self):
            return {"when": datetime.datetime(2026, 1, 2, 3, 4, 5), "id": uuid.UUID(int=1),
                    "price": decimal.Decimal("1.5"), "tags": {"a"}, "error": KeyError("k")}

    result = json.loads(run_job(Rich).outcome[1])
    assert result == {"when": "2026-01-02T03:04:05", "id": str(uuid.UUID(int=1)), "price": 1.5,
                      "tags": ["a"], "error": "KeyError: 'k'"}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object()])
def test_a_result_that_is_no_json_fails_the_run(value):
    class Odd(Job):
        def run(self):
            return value

    outcome = run_job(Odd).outcome
    assert outcome[0] == "failed" and "not JSON-serialisable" in outcome[2]


def test_a_failing_hook_does_not_hide_the_run_error():
    class BadHooks(Job):
        def run(self):
            raise KeyError("first")

        def on_failure(self, exc, task_id, args, kwargs, einfo):
            assert "KeyError" in einfo.traceback and einfo.exception is exc
            raise RuntimeError("hook broke")

    seen = run_job(BadHooks)
    assert seen.outcome[:3] == ("failed", "KeyError", "'first'")
    assert "a failure hook raised RuntimeError: hook broke" in [m for _, m, _ in seen.log]


def test_job_button_gets_the_hosts_object_or_a_reference():
    class Button(JobButtonReceiver):
        def receive_job_button(self, obj):
            self.logger.info("%s", [obj.pk, obj.get("name"), obj.get("model")])

    data = {"object_pk": "7", "object_model_name": "dcim.device"}
    seen = run_job(Button, data, host={"get_object": lambda model, pk: {"pk": pk, "name": "edge-7"}})
    assert seen.calls == [("get_object", {"model": "dcim.device", "pk": "7"})]
    assert seen.log[-1][1] == "['7', 'edge-7', None]"
    seen = run_job(Button, data)  # no host: a reference
    assert seen.log[-1][1] == "['7', None, 'dcim.device']"


def test_job_hook_takes_a_change_object_or_an_id_the_host_resolves():
    class Hook(JobHookReceiver):
        def receive_job_hook(self, change, action, changed_object):
            return None if self.logger.info("%s %s", action, changed_object.name) else None

    change = {"action": "delete", "changed_object": {"name": "r1"}}
    assert run_job(Hook, {"object_change": change}).log[-1][1] == "delete r1"
    seen = run_job(Hook, {"object_change": 12}, host={"get_object": lambda model, pk: change})
    assert seen.calls == [("get_object", {"model": "extras.objectchange", "pk": 12})]
    assert seen.log[-1][1] == "delete r1"


def test_git_system_jobs_call_the_host_and_fail_clearly_without_one():
    synced = []
    host = {"git_repository_sync": lambda repository, dry_run: synced.append((repository, dry_run))
            or {"head": "abc"}}
    assert run_job(GitRepositorySync, {"repository": "r1"}, host=host).outcome == ("ok", '{"head": "abc"}')
    assert run_job(GitRepositoryDryRun, {"repository": "r1"}, host=host).outcome[0] == "ok"
    assert synced == [("r1", False), ("r1", True)]
    outcome = run_job(GitRepositorySync, {"repository": "r1"}).outcome
    assert outcome[:2] == ("failed", "RuntimeError")
    assert "GitRepositorySync needs the host application" in outcome[2]
    outcome = run_job(GitRepositorySync, {"repository": "r1"}, host={}).outcome
    assert outcome[:3] == ("failed", "LookupError", "the host does not provide 'git_repository_sync'")


def test_server_functions_go_to_the_host():
    class Server(Job):
        def run(self):
            return [jobs.get_celery_queues(), jobs.enqueue_job_hooks({"id": 3})]

    host = {"get_celery_queues": lambda: {"default": 2},
            "enqueue_job_hooks": lambda object_change, may_reload_jobs: [True, ["hook-1"]]}
    assert json.loads(run_job(Server, host=host).outcome[1]) == [{"default": 2}, [True, ["hook-1"]]]
    with pytest.raises(RuntimeError, match=r"get_celery_queues\(\) needs the host application, "
                                           "which gave no run on this thread"):
        jobs.get_celery_queues()


def test_get_jobs_reads_the_loaded_jobs_and_reload_needs_the_host(monkeypatch, caplog):
    class Loaded(Job):
        pass

    monkeypatch.setattr(jobs, "_loaded", {1: {"x.Loaded": Loaded}})
    assert jobs.get_job("x.Loaded") is Loaded and jobs.get_job("x.Other") is None
    assert jobs.get_jobs(reload=True) == {"x.Loaded": Loaded}
    assert "not reloaded" in caplog.text

    class Reloads(Job):
        def run(self):
            return sorted(jobs.get_jobs(reload=True))

    reloads = []
    seen = run_job(Reloads, host={"get_jobs_reload": lambda: reloads.append(1)})
    assert reloads == [1] and seen.outcome == ("ok", '["x.Loaded"]')


def test_1x_style_is_decided_by_the_run_signature():
    class Old(Job):
        def run(self, data, commit):
            pass

    class New(Job):
        def run(self, data):
            pass

    assert _meta.runs_1x_style(Old) and not _meta.runs_1x_style(New)
    _meta.mark_1x(Old)
    _meta.mark_1x(New)
    assert _meta.is_1x(Old) and not _meta.is_1x(New)

    class Child(Old):
        pass

    assert not _meta.is_1x(Child)  # marked per class, as each is loaded


def test_1x_jobs_list_wins_over_the_classes_defined_in_the_module():
    module = type(sys)("legacy_module")
    exec("from jobreg.jobs import Job\n"
         "class A(Job):\n    pass\n"
         "class B(Job):\n    pass\n", vars(module))
    assert [c.__name__ for c in jobs._jobs_1x_of(module)] == ["A", "B"]
    module.Imported = StringVar  # not a job
    module.jobs = [module.B]
    assert jobs._jobs_1x_of(module) == [module.B]
