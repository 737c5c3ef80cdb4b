"""The smallest Nautobot 2.x/3.x job: logger levels, the success level, a result."""
from nautobot.apps.jobs import Job, register_jobs

name = "Getting started"


class HelloWorld(Job):
    class Meta:
        name = "Hello World"
        description = """
            Says hello.

            Then says it again, louder.
        """

    def run(self):
        self.logger.debug("about to greet")
        self.logger.info("Hello, world!", extra={"grouping": "greeting"})
        self.logger.success("Greeted the world")
        self.logger.warning("HELLO, WORLD!")
        return {"greeted": "world"}


register_jobs(HelloWorld)
