#!/usr/bin/python3
"""Start the reference server on this machine, thrown away on Ctrl-C.

    /usr/bin/python3 docs/examples/server/start.py --build-dir build

A PostgreSQL cluster and a redis-server on free loopback ports, the
migrations, two Celery workers (w1, w2; --concurrency 2 each, a git root
each) and the web server; prints the URL and waits. Ctrl-C stops every
process and removes every folder (devstack.py).

--demo also makes a git repository of example jobs in the stack's folder
and configures it (slug demo_jobs, a file:// URL): press Sync on the Git
repositories page, enable a job on the Jobs page, run it.
"""
import argparse
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import devstack  # noqa: E402

DEMO_JOBS = '''\
from jobreg.jobs import Job, IntegerVar, StringVar, register_jobs


class Hello(Job):
    """Greets someone, a few times, and writes what it said to a file."""

    who = StringVar(default="world", description="whom to greet")
    times = IntegerVar(default=3, min_value=1, max_value=20)

    class Meta:
        name = "Hello"
        description = "Greets someone"

    def run(self, who, times):
        lines = [f"hello {who} ({i + 1})" for i in range(times)]
        for line in lines:
            self.logger.info(line)
        self.create_file("greetings.txt", "\\n".join(lines) + "\\n")
        return {"greeted": who, "times": times}


register_jobs(Hello)
'''


def make_demo_repository(folder):
    """A git repository of one job (the git layout: <repo>/__init__.py, jobs.py)."""
    repo = Path(folder) / "demo_jobs"
    (repo).mkdir(parents=True)
    (repo / "__init__.py").write_text("")
    (repo / "jobs.py").write_text(textwrap.dedent(DEMO_JOBS))
    git = ["git", "-C", str(repo), "-c", "user.name=demo", "-c", "user.email=demo@example.net"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "demo jobs"], check=True)
    return repo


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=os.environ.get("JOBREG_BUILD_DIR", "build"),
                        help="the libjobreg build tree (default: $JOBREG_BUILD_DIR or ./build)")
    parser.add_argument("--workers", default="w1,w2", help="worker names (default: w1,w2)")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--logs", help="keep the processes' logs in this folder")
    parser.add_argument("--demo", action="store_true", help="add a git repository of example jobs")
    args = parser.parse_args()

    # Ctrl-C and kill both end in the finally of the with block.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        with devstack.Stack(args.build_dir, workers=args.workers.split(","),
                            concurrency=args.concurrency, logs=args.logs) as stack:
            if args.demo:
                repo = make_demo_repository(stack.folder / "demo")
                stack.manage("shell", "-c",
                             "from jobs.models import GitRepository; "
                             f"GitRepository.objects.create(slug='demo_jobs', "
                             f"remote_url='file://{repo}', branch='main')")
            print(f"jobserver: {stack.url}  (PostgreSQL on 127.0.0.1:{stack.pg.port}, "
                  f"Redis on 127.0.0.1:{stack.redis_port}, workers {', '.join(stack.workers)}; "
                  f"logs in {stack.logs})", flush=True)
            print("Ctrl-C stops everything.", flush=True)
            signal.pause()
    except KeyboardInterrupt:
        pass
    except devstack.StackError as exc:
        print(f"start.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
