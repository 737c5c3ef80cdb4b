"""Two machines, one PostgreSQL database: workers converge on the recorded head.

Issue 15, point 4. Machine A is the syncer (`jobreg sync`), machine B a
worker: each has its own git_root (two jobreg.yaml files), both name the
same database and the same remote, a bare repository served by
`git daemon` on a free port of 127.0.0.1 (tests/git/serve.py). B never
syncs: before each job it moves its checkout to the head the database
records (jobreg_git_ensure_recorded_head() through the Python binding, as
docs/workers.md's worker does; the `jobreg` command has no worker mode),
then `jobreg run` runs what its checkout holds. The job returns the
version of the commit it comes from, so each run says which code ran.
"""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import cluster as pgcluster  # noqa: E402

JOBREG = os.environ["JOBREG"]
SERVE = Path(__file__).resolve().parent.parent / "git" / "serve.py"
SLUG = "net_jobs"
REF = SLUG + ".jobs.AuditVlans"
GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid",
               GIT_CONFIG_NOSYSTEM="1", HOME=os.environ.get("HOME", "/nonexistent"))

if not pgcluster.find_bindir():
    pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's "
                "postgresql package", allow_module_level=True)
pytest.importorskip("cffi", reason="machine B's worker is the Python binding (Debian's "
                    "python3-cffi)")

# Machine B's step, a worker of the Python binding: argv = URI, git_root,
# remote URL. Moves the checkout only (no registry: `jobreg run` imports).
WORKER = textwrap.dedent("""\
    import json, sys
    import jobreg

    uri, git_root, remote = sys.argv[1:4]
    storage = jobreg.Storage.postgresql(uri)
    src = jobreg.GitSource(%r, remote, git_root)
    moved = src.ensure_recorded_head(storage)
    print(json.dumps({"moved": moved, "head": src.head}))
    storage.close()
""" % SLUG)


def git(*args, cwd):
    return subprocess.run(["git"] + list(args), cwd=cwd, env=GIT_ENV, check=True,
                          capture_output=True, text=True, timeout=60).stdout.strip()


def commit(work, version, broken=False):
    """A commit of the job's code on `main` of `work`; its id."""
    (work / "jobs").mkdir(parents=True, exist_ok=True)
    (work / "__init__.py").write_text("")
    (work / "jobs" / "__init__.py").write_text("from . import vlans  # noqa: F401\n")
    body = textwrap.dedent(f"""\
        from jobreg.jobs import Job, register_jobs

        class AuditVlans(Job):
            def run(self):
                return {version!r}

        register_jobs(AuditVlans)
    """)
    if broken:
        body = "raise RuntimeError('this commit does not load')\n" + body
    (work / "jobs" / "vlans.py").write_text(body)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", version, cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


@pytest.fixture(scope="module")
def pg():
    with pgcluster.Cluster() as c:
        yield c


@pytest.fixture
def remote(tmp_path):
    """(work tree, git:// URL of the bare remote it pushes to)."""
    base = tmp_path / "served"
    base.mkdir()
    git("init", "-q", "--bare", "-b", "main", str(base / "upstream.git"), cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    git("remote", "add", "origin", str(base / "upstream.git"), cwd=work)
    server = subprocess.Popen([sys.executable, str(SERVE), "daemon", str(base)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        yield work, "git://127.0.0.1:%d/upstream.git" % port
    finally:
        server.stdin.close()  # serve.py stops when its stdin closes
        server.wait(timeout=30)


def machine(path, pg, db, url):
    path.mkdir()
    (path / "jobreg.yaml").write_text(
        "git_root: git\ndatabase: %s\ngit_repositories:\n  - slug: %s\n    remote_url: %s\n"
        % (pg.uri(db), SLUG, url))
    return path


def jobreg(site, pg, *args):
    return subprocess.run([JOBREG, "-c", str(site / "jobreg.yaml")] + list(args), cwd=site,
                          capture_output=True, text=True, timeout=300, env=pg.env())


def worker_env(pg):
    env = pg.env(PYTHONPATH=os.environ["JOBREG_BINDING_PATH"],
                 JOBREG_LIBRARY=os.environ["JOBREG_LIBRARY"])
    # An ASan library needs its runtimes loaded before python3 dlopen()s it;
    # CPython's own allocations at exit are no leaks of ours.
    if os.environ.get("JOBREG_BINDING_PRELOAD"):
        env["LD_PRELOAD"] = os.environ["JOBREG_BINDING_PRELOAD"]
        env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1:detect_odr_violation=0"
    return env


def recorded_head(pg, db):
    rows = pg.psql("SELECT current_head FROM jobreg.git_state WHERE slug = '%s'" % SLUG, db=db)
    return rows[0][0] if rows else None


def checkout_head(site):
    return git("rev-parse", "HEAD", cwd=site / "git" / SLUG)


def work_on_b(site, pg, db, url):
    """B before a job: to the recorded head, then run; (moved, head, job's result)."""
    proc = subprocess.run([sys.executable, "-c", WORKER, pg.uri(db), str(site / "git"), url],
                          capture_output=True, text=True, timeout=300, env=worker_env(pg))
    assert proc.returncode == 0, proc.stderr
    step = json.loads(proc.stdout)
    assert step["head"] == checkout_head(site)
    run = jobreg(site, pg, "run", REF, "--json")
    assert run.returncode == 0, run.stderr
    return step["moved"], step["head"], json.loads(run.stdout)["result"]


def test_two_machines_converge_on_the_recorded_head(pg, remote, tmp_path):
    work, url = remote
    db = "t_two_machines"
    pg.psql("DROP DATABASE IF EXISTS %s" % db)
    pg.psql("CREATE DATABASE %s" % db)
    a = machine(tmp_path / "a", pg, db, url)
    b = machine(tmp_path / "b", pg, db, url)

    h1 = commit(work, "v1")
    git("push", "-q", "origin", "main", cwd=work)
    sync = jobreg(a, pg, "sync")
    assert sync.returncode == 0, sync.stderr
    assert recorded_head(pg, db) == h1 == checkout_head(a)
    enable = jobreg(a, pg, "enable", REF)
    assert enable.returncode == 0, enable.stderr
    # B has no checkout yet: it clones the recorded head.
    assert work_on_b(b, pg, db, url) == (True, h1, "v1")
    assert work_on_b(b, pg, db, url) == (False, h1, "v1")

    # The branch moves on; B follows the database, not the branch tip.
    h2 = commit(work, "v2")
    git("push", "-q", "origin", "main", cwd=work)
    assert work_on_b(b, pg, db, url) == (False, h1, "v1")
    assert recorded_head(pg, db) == h1
    sync = jobreg(a, pg, "sync")
    assert sync.returncode == 0, sync.stderr
    assert recorded_head(pg, db) == h2 == checkout_head(a)
    assert checkout_head(b) == h1  # until B's next job
    assert work_on_b(b, pg, db, url) == (True, h2, "v2")

    # A commit that does not load: A's sync refuses it, nothing moves.
    h3 = commit(work, "v3", broken=True)
    git("push", "-q", "origin", "main", cwd=work)
    sync = jobreg(a, pg, "sync")
    assert sync.returncode != 0
    assert h3[:12] in sync.stderr and "does not load" in sync.stdout + sync.stderr, sync.stderr
    assert recorded_head(pg, db) == h2 == checkout_head(a)
    assert work_on_b(b, pg, db, url) == (False, h2, "v2")
    assert checkout_head(b) == h2
    # And A's own run still serves H2's code.
    run = jobreg(a, pg, "run", REF, "--json")
    assert run.returncode == 0 and json.loads(run.stdout)["result"] == "v2", run.stderr
