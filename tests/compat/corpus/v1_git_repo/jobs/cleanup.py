from nautobot.extras.jobs import Job


class OldCleanup(Job):
    class Meta:
        commit_default = True

    def run(self, data, commit):
        self.log_info(message="cleaning")
        return f"commit={commit}"
