"""The whole server on one machine, thrown away afterwards: start.py and the
end-to-end test (tests/server) both use it.

``Stack`` starts, on 127.0.0.1 and free ports:

- a PostgreSQL cluster (initdb + pg_ctl in a temporary folder; as root they
  run as the user postgres through runuser, as initdb refuses root) and
  its database;
- a redis-server (Celery's broker), without persistence;
- the migrations (manage.py migrate);
- Celery workers, each with its own name (-n), its own queue, its own git
  root, and --concurrency pool processes;
- the web server (manage.py runserver --noreload).

Every process is started in a session of its own and stopped by its
process group; the temporary folders go too. Logs go to ``logs`` (a folder
given, or the stack's temporary folder).

The binding and the library come from the source tree and a build tree:
PYTHONPATH gets bindings/python, JOBREG_LIBRARY the build's
src/libjobreg.so (docs/python.md, "Installing and finding the library").
JOBSERVER_LD_PRELOAD, when set, becomes the LD_PRELOAD of the server's
python3 processes (the sanitizer runtimes of an ASan build).
"""
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE_ROOT = HERE.parents[2]
PYTHON = "/usr/bin/python3"  # Debian's: the interpreter libjobreg embeds
STEP_TIMEOUT = 120  # seconds for any one start-up step: a hung service fails, never hangs


class StackError(RuntimeError):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_library(build_dir):
    """The libjobreg.so of a build tree."""
    path = Path(build_dir).resolve() / "src" / "libjobreg.so"
    if not path.exists():
        raise StackError(f"{path} does not exist: build the library first "
                         f"(meson setup {build_dir} && ninja -C {build_dir})")
    return path


def find_pg_bindir():
    """The bin folder of the newest installed PostgreSQL server (Debian's layout)."""
    env = os.environ.get("JOBREG_PG_BINDIR")
    if env:
        return env
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[-3]) if p.split("/")[-3].isdigit() else 0)
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    raise StackError("PostgreSQL server binaries (initdb, pg_ctl) not found: "
                     "install Debian's postgresql package")


class Postgres:
    """A throw-away cluster (as tests/postgresql/cluster.py makes one)."""

    user = "jobserver"
    password = "jobserver-dev-password"
    database = "jobserver"

    def __init__(self):
        self.bindir = find_pg_bindir()
        self.folder = None
        self.port = None
        self.started = False

    def _as_owner(self, args):
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + args
        return args

    def _run(self, args):
        proc = subprocess.run(self._as_owner(args), capture_output=True, text=True,
                              timeout=STEP_TIMEOUT)
        if proc.returncode != 0:
            raise StackError(f"{' '.join(args)} failed ({proc.returncode}): "
                             f"{proc.stdout}{proc.stderr}")

    def start(self):
        self.folder = tempfile.mkdtemp(prefix="jobserver-pg-")
        owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        if owner:
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        os.chmod(self.folder, 0o700)
        data = os.path.join(self.folder, "data")
        pwfile = os.path.join(self.folder, "pw")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        if owner:
            os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        self._run([os.path.join(self.bindir, "initdb"), "-D", data, "-U", self.user,
                   "--pwfile", pwfile, "--auth-local=trust", "--auth-host=scram-sha-256",
                   "-E", "UTF8", "--locale=C", "--no-sync"])
        self.port = free_port()
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} "
                "-c fsync=off -c max_connections=100")
        self._run([os.path.join(self.bindir, "pg_ctl"), "-D", data, "-o", opts, "-w",
                   "-t", str(STEP_TIMEOUT), "-l", os.path.join(self.folder, "log"), "start"])
        self.started = True
        import psycopg2  # Debian's python3-psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user,
                                password=self.password, dbname="postgres", connect_timeout=10)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE {self.database}")
        finally:
            conn.close()

    def stop(self):
        if self.started:
            try:
                self._run([os.path.join(self.bindir, "pg_ctl"), "-D",
                           os.path.join(self.folder, "data"), "-m", "immediate", "-w", "stop"])
            except Exception as exc:  # the folder goes anyway
                print(f"devstack: stopping PostgreSQL: {exc}", file=sys.stderr)
            self.started = False
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def env(self):
        return {"JOBSERVER_DB_HOST": "127.0.0.1", "JOBSERVER_DB_PORT": str(self.port),
                "JOBSERVER_DB_NAME": self.database, "JOBSERVER_DB_USER": self.user,
                "JOBSERVER_DB_PASSWORD": self.password}


def _stop_group(proc, timeout=15):
    """Stop a process started with start_new_session=True, and its children."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    try:  # whatever is left of the group (Celery's pool processes)
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        print(f"devstack: process {proc.pid} did not exit", file=sys.stderr)


class Stack:
    """PostgreSQL, Redis, migrations, Celery workers and the web server.

    ``build_dir``: the libjobreg build tree; ``workers``: the workers'
    names; ``logs``: where each process's log goes (default: the stack's
    temporary folder, removed with it).
    """

    def __init__(self, build_dir, workers=("w1", "w2"), concurrency=2, logs=None):
        self.library = find_library(build_dir)
        self.workers = list(workers)
        self.concurrency = concurrency
        self.logs_given = logs
        self.folder = None
        self.logs = None
        self.pg = Postgres()
        self.procs = {}  # name -> Popen
        self.redis_port = None
        self.web_port = None

    # -- start and stop ------------------------------------------------------
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self.folder = Path(tempfile.mkdtemp(prefix="jobserver-"))
        self.logs = Path(self.logs_given) if self.logs_given else self.folder / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        for old in self.logs.glob("*.log"):  # a log is this stack's only
            old.unlink()
        self.pg.start()
        self._start_redis()
        self.manage("migrate", "--no-input")
        for name in self.workers:
            self._start_worker(name)
        self._start_web()
        for name in self.workers:
            self._wait_for_log(f"worker-{name}", f"{name}@")
            self._wait_for_log(f"worker-{name}", "ready.")

    def stop(self):
        for name in reversed(list(self.procs)):
            _stop_group(self.procs.pop(name))
        self.pg.stop()
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.web_port}/"

    # -- the processes ---------------------------------------------------------------
    def env(self, **extra):
        """The environment of a server process (settings come from it)."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("JOBSERVER_", "DJANGO_", "CELERY_"))}
        # An ASan build of the library needs its runtimes preloaded into
        # python3 (tests/server/meson.build), and only there.
        if os.environ.get("JOBSERVER_LD_PRELOAD"):
            env["LD_PRELOAD"] = os.environ["JOBSERVER_LD_PRELOAD"]
        paths = [str(HERE), str(SOURCE_ROOT / "bindings" / "python")]
        env.update(self.pg.env())
        env.update({
            "PYTHONPATH": os.pathsep.join(paths + ([env["PYTHONPATH"]]
                                                   if env.get("PYTHONPATH") else [])),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "JOBREG_LIBRARY": str(self.library),
            "DJANGO_SETTINGS_MODULE": "jobserver.settings",
            "JOBSERVER_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "JOBSERVER_WORKERS": ",".join(self.workers),
            "JOBSERVER_GIT_ROOT": str(self.folder / "git-web"),
        })
        env.update(extra)
        return env

    def manage(self, *args):
        """Run manage.py with the stack's environment; its output, or StackError."""
        proc = subprocess.run([PYTHON, str(HERE / "manage.py"), *args], env=self.env(),
                              cwd=HERE, capture_output=True, text=True, timeout=STEP_TIMEOUT)
        if proc.returncode != 0:
            raise StackError(f"manage.py {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout}{proc.stderr}")
        return proc.stdout

    def _spawn(self, name, args, env):
        log = open(self.logs / f"{name}.log", "ab")
        try:
            self.procs[name] = subprocess.Popen(args, env=env, cwd=HERE, stdout=log,
                                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                start_new_session=True)
        finally:
            log.close()

    def log_text(self, name):
        try:
            return (self.logs / f"{name}.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _wait(self, name, ready, what):
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            if ready():
                return
            if self.procs[name].poll() is not None:
                raise StackError(f"{name} exited ({self.procs[name].returncode}) before {what}:\n"
                                 f"{self.log_text(name)[-4000:]}")
            time.sleep(0.1)
        raise StackError(f"{name}: no {what} within {STEP_TIMEOUT} s:\n"
                         f"{self.log_text(name)[-4000:]}")

    def _wait_for_log(self, name, text):
        self._wait(name, lambda: text in self.log_text(name), f"{text!r} in its log")

    def _start_redis(self):
        self.redis_port = free_port()
        redis_dir = self.folder / "redis"
        redis_dir.mkdir()
        self._spawn("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", str(redis_dir),
                              "--daemonize", "no"], dict(os.environ))

        def answers():
            try:
                with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    return s.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        self._wait("redis", answers, "an answer to PING")

    def _start_worker(self, name):
        git_root = self.folder / f"git-{name}"
        git_root.mkdir()
        env = self.env(JOBSERVER_WORKER_NAME=name, JOBSERVER_GIT_ROOT=str(git_root))
        self._spawn(f"worker-{name}", [
            PYTHON, "-m", "celery", "-A", "jobserver", "worker", "-n", f"{name}@%h",
            "-Q", f"default,{name}", "--concurrency", str(self.concurrency), "-l", "info",
            "--without-gossip", "--without-mingle", "--without-heartbeat"], env)

    def _start_web(self):
        self.web_port = free_port()
        self._spawn("web", [PYTHON, str(HERE / "manage.py"), "runserver", "--noreload",
                            f"127.0.0.1:{self.web_port}"], self.env())

        def answers():
            try:
                with urllib.request.urlopen(self.url + "jobs/", timeout=5) as r:
                    return r.status == 200
            except OSError:
                return False

        self._wait("web", answers, "an answer on " + self.url)
