"""A throw-away PostgreSQL cluster for the 'postgresql' test suite.

initdb + pg_ctl in a temporary folder, listening on a free port of
127.0.0.1 (its unix socket in that folder too), torn down afterwards, also
on failure. initdb and pg_ctl refuse to run as root: as root they run as the
user postgres (runuser), who then owns the folder.

Host connections need the superuser's password (scram-sha-256), so the
tests exercise passwords for real: `Cluster.password`, `Cluster.uri(...)`
without it, `Cluster.env()` with PGPASSWORD.

As a module: `with Cluster() as c: ...`; `find_bindir()` is None when the
PostgreSQL server binaries are absent (the tests then skip).
As a script: `cluster.py run -- CMD ARGS...` runs CMD with JOBREG_PG_URI and
PGPASSWORD set and exits with its status (77, meson's "skipped", without
PostgreSQL).
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile

SKIP = 77
USER = "jobreg_test"
PASSWORD = "pw-Xq7-s3cret"
TIMEOUT = 120  # seconds for any one step: a hung server fails the test, never hangs it


def find_bindir():
    """The bin folder of the newest installed PostgreSQL server, or None."""
    env = os.environ.get("JOBREG_PG_BINDIR")
    if env:
        return env if os.path.exists(os.path.join(env, "initdb")) else None
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[-3]) if p.split("/")[-3].isdigit() else 0)
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, bindir=None):
        self.bindir = bindir or find_bindir()
        if not self.bindir:
            raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found: "
                               "install Debian's postgresql package")
        self.password = PASSWORD
        self.user = USER
        self.folder = None
        self.port = None
        self.started = False

    def _as_owner(self, args):
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + args
        return args

    def _run(self, args):
        proc = subprocess.run(self._as_owner(args), capture_output=True, text=True,
                              timeout=TIMEOUT)
        if proc.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s" % (" ".join(args), proc.returncode,
                                                          proc.stdout, proc.stderr))
        return proc

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
        self.folder = tempfile.mkdtemp(prefix="jobreg-pg-")
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(self.folder, pg.pw_uid, pg.pw_gid)
        os.chmod(self.folder, 0o700)
        data = os.path.join(self.folder, "data")
        pwfile = os.path.join(self.folder, "pw")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        if os.geteuid() == 0:
            os.chown(pwfile, pg.pw_uid, pg.pw_gid)
        self._run([os.path.join(self.bindir, "initdb"), "-D", data, "-U", self.user,
                   "--pwfile", pwfile, "--auth-local=trust", "--auth-host=scram-sha-256",
                   "-E", "UTF8", "--locale=C", "--no-sync"])
        self.port = free_port()
        opts = ("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off "
                "-c max_connections=60" % (self.port, self.folder))
        self._run([os.path.join(self.bindir, "pg_ctl"), "-D", data, "-o", opts, "-w",
                   "-t", str(TIMEOUT), "-l", os.path.join(self.folder, "log"), "start"])
        self.started = True

    def stop(self):
        if self.started:
            try:
                self._run([os.path.join(self.bindir, "pg_ctl"), "-D",
                           os.path.join(self.folder, "data"), "-m", "immediate", "-w", "stop"])
            except Exception as e:  # the folder goes anyway
                print("cluster.py: stopping the cluster: %s" % e, file=sys.stderr)
            self.started = False
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def uri(self, db="postgres"):
        """A URI without the password (give it through PGPASSWORD)."""
        return "postgresql://%s@127.0.0.1:%d/%s" % (self.user, self.port, db)

    def env(self, **extra):
        env = dict(os.environ, PGPASSWORD=self.password, JOBREG_PG_URI=self.uri())
        env.update(extra)
        return env

    def psql(self, sql, db="postgres", check=True):
        """Run `sql` with psql; its rows as lists of strings."""
        proc = subprocess.run([os.path.join(self.bindir, "psql"), "-X", "-q", "-A", "-t",
                               "-v", "ON_ERROR_STOP=1", "-F", "\t", "-d", self.uri(db),
                               "-c", sql], env=self.env(), capture_output=True, text=True,
                              timeout=TIMEOUT)
        if check and proc.returncode != 0:
            raise RuntimeError("psql failed: %s" % proc.stderr)
        return [line.split("\t") for line in proc.stdout.splitlines() if line]

    def psql_session(self, db="postgres"):
        """A psql reading SQL from its stdin (a session kept open by the test)."""
        return subprocess.Popen([os.path.join(self.bindir, "psql"), "-X", "-q", "-A", "-t",
                                 "-d", self.uri(db)], env=self.env(), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def main(argv):
    if len(argv) < 3 or argv[1] != "run" or argv[2] != "--":
        print("usage: cluster.py run -- CMD ARGS...", file=sys.stderr)
        return 2
    if not find_bindir():
        print("SKIP: PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's "
              "postgresql package", file=sys.stderr)
        return SKIP
    with Cluster() as c:
        return subprocess.run(argv[3:], env=c.env(), timeout=600).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
