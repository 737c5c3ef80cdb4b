"""Hooks in Nautobot's order, fail(), create_file(), the run context, print()."""
import json

from nautobot.apps.jobs import BooleanVar, Job, register_jobs

CALLS = []


class Lifecycle(Job):
    fail_early = BooleanVar()
    fail_late = BooleanVar()
    explode = BooleanVar()

    def before_start(self, task_id, args, kwargs):
        CALLS.clear()
        CALLS.append(("before_start", task_id, kwargs["fail_early"]))
        if kwargs["fail_early"]:
            self.fail("refusing to start")
            return "stopped before run"

    def run(self, fail_early, fail_late, explode):
        CALLS.append(("run",))
        print("printed line one")
        print("printed", "line", "two")
        self.create_file("report.txt", "first line\nsecond line\n")
        self.create_file("raw.bin", bytes(range(256)))
        if explode:
            raise ValueError("boom")
        if fail_late:
            self.fail("%d devices failed", 3)
        return {"user": self.user.username if self.user else None,
                "job_result": self.job_result.id,
                "model_name": self.job_model.name}

    def on_success(self, retval, task_id, args, kwargs):
        CALLS.append(("on_success", retval is not None))

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        CALLS.append(("on_failure", type(exc).__name__, einfo is not None))

    def after_return(self, status, retval, task_id, args, kwargs, einfo):
        CALLS.append(("after_return", status))
        self.logger.info("calls: %s", json.dumps(CALLS))


register_jobs(Lifecycle)
