"""A Nautobot 1.x job: no register_jobs, run(data, commit), log_*(obj, message),
test_* methods and post_run(), Meta.commit_default."""
from nautobot.extras.jobs import BooleanVar, Job, StringVar

name = "Legacy"


class LegacyAudit(Job):
    site_name = StringVar(default="ams01")
    strict = BooleanVar()

    class Meta:
        name = "Legacy audit"
        commit_default = False

    def run(self, data, commit):
        self.log_info(message=f"auditing {data['site_name']} (commit={commit})")
        self.log_success(obj=data["site_name"], message="site found")
        return f"run: commit={commit}"

    def test_interfaces(self):
        self.log_success("interfaces ok")

    def test_strictness(self):
        if self.active_test != "test_strictness":
            raise AssertionError(self.active_test)
        self.log_warning(message="strict mode is advisory")

    def post_run(self):
        self.log_debug("post_run called")
        return "post_run done"


class LegacyFailing(Job):
    class Meta:
        read_only = True

    def run(self, data, commit):
        self.log_failure(obj=None, message=f"commit was {commit}")


class _Helper:
    """Not a job: not a Job subclass."""
