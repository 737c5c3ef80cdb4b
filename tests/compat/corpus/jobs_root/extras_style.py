"""The import paths of Nautobot's own job code: nautobot.extras.jobs and
nautobot.core.celery, with a module-level task logger."""
from nautobot.core.celery import register_jobs
from nautobot.extras.jobs import Job, RunJobTaskFailed, StringVar, get_task_logger

logger = get_task_logger(__name__)


class EchoMessage(Job):
    message = StringVar(default="ping")

    def run(self, message):
        logger.info("module logger: %s", message)
        self.logger.info("job logger: %s", message)
        return message


class RefuseEverything(Job):
    class Meta:
        description = "Fails with Nautobot's exception for that."

    def run(self):
        raise RunJobTaskFailed("refused on purpose")


register_jobs(EchoMessage, RefuseEverything)
