"""`jobreg` with `database: postgresql://...`, against a throw-away cluster.

Sync and list, a second process on the existing schema, 8 processes
syncing and enabling at once with no update lost and no duplicate record,
a connection killed in the middle of a refresh, and passwords kept out of
the file and of every message.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import cluster as pgcluster  # noqa: E402

JOBREG = os.environ["JOBREG"]

if not pgcluster.find_bindir():
    pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's "
                "postgresql package", allow_module_level=True)


@pytest.fixture(scope="module")
def pg():
    with pgcluster.Cluster() as c:
        yield c


def jobs_module(count, round_):
    text = "from jobreg.jobs import Job, register_jobs\n\n"
    for i in range(count):
        text += ("class J%d(Job):\n    class Meta:\n        name = 'Job %d'\n"
                 "        description = 'round %s'\n\n" % (i, i, round_))
    return text + "register_jobs(%s)\n" % ", ".join("J%d" % i for i in range(count))


def make_site(path, pg, db, count=4, round_=0, extra=""):
    (path / "jobs").mkdir(parents=True, exist_ok=True)
    (path / "jobs" / "__init__.py").write_text("")
    (path / "jobs" / "race.py").write_text(jobs_module(count, round_))
    (path / "jobreg.yaml").write_text("jobs_root: jobs\ndatabase: %s\n%s" % (pg.uri(db), extra))
    return path


def run(site, pg, *args, env=None):
    return subprocess.run([JOBREG, "-c", str(site / "jobreg.yaml")] + [str(a) for a in args],
                          cwd=site, capture_output=True, text=True, timeout=300,
                          env=env if env is not None else pg.env())


def ok_json(site, pg, *args):
    proc = run(site, pg, *args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def new_db(pg, name):
    pg.psql("DROP DATABASE IF EXISTS %s" % name)
    pg.psql("CREATE DATABASE %s" % name)
    return name


def test_sync_creates_the_schema_and_list_reads_it_from_another_process(pg, tmp_path):
    db = new_db(pg, "t_sync")
    site = make_site(tmp_path, pg, db)
    out = ok_json(site, pg, "sync")
    assert sorted(out["created"]) == ["race.J%d" % i for i in range(4)]
    assert pg.psql("SELECT version FROM jobreg.schema_version", db=db) == [["3"]]
    recs = ok_json(site, pg, "list")
    assert sorted(r["class_path"] for r in recs) == ["race.J%d" % i for i in range(4)]
    assert all(r["description"] == "round 0" for r in recs)
    again = ok_json(site, pg, "sync", "--full")
    assert again["created"] == [] and again["updated"] == []
    assert ok_json(site, pg, "show", "race.J1")["name"] == "Job 1"
    assert run(site, pg, "enable", "race.J1").returncode == 0
    assert ok_json(site, pg, "show", "race.J1")["enabled"] is True


def test_eight_processes_syncing_and_enabling_lose_no_update(pg, tmp_path):
    db = new_db(pg, "t_race")
    procs, sites = [], []
    rounds = 4
    for p in range(8):
        site = make_site(tmp_path / ("p%d" % p), pg, db, count=16, round_="p%d" % p)
        sites.append(site)
        # Each process rewrites the descriptions (so every sync writes every
        # record), syncs, and enables its own two jobs, several times over.
        script = "set -e\n"
        for r in range(rounds):
            script += ("printf '%%s' \"$(cat jobs/race.py | sed \"s/round [^']*/round p%d-%d/\")\" "
                       "> jobs/race.py.new && mv jobs/race.py.new jobs/race.py\n" % (p, r))
            script += "%s -c jobreg.yaml sync >/dev/null\n" % JOBREG
            script += "%s -c jobreg.yaml enable race.J%d\n" % (JOBREG, 2 * p + (r % 2))
        procs.append(subprocess.Popen(["sh", "-c", script], cwd=site, env=pg.env(),
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    rows = pg.psql("SELECT class_path, enabled FROM jobreg.records ORDER BY class_path", db=db)
    assert len(rows) == 16
    assert pg.psql("SELECT count(*) FROM (SELECT DISTINCT module_name, job_class_name "
                   "FROM jobreg.records) d", db=db) == [["16"]]
    assert all(enabled == "t" for _, enabled in rows), rows


def test_a_connection_killed_mid_refresh_leaves_the_old_records(pg, tmp_path):
    db = new_db(pg, "t_kill")
    site = make_site(tmp_path, pg, db, count=4, round_="old")
    ok_json(site, pg, "sync")
    (site / "jobs" / "race.py").write_text(jobs_module(4, "new"))
    # A session holds a row lock on one record: the refresh blocks on it
    # while its transaction is open, and is killed there.
    blocker = pg.psql_session(db)
    blocker.stdin.write("BEGIN; SELECT id FROM jobreg.records WHERE job_class_name = 'J3' "
                        "FOR UPDATE;\n")
    blocker.stdin.flush()
    sync = subprocess.Popen([JOBREG, "-c", "jobreg.yaml", "sync"], cwd=site, env=pg.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = []
    for _ in range(600):
        killed = pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                         "application_name = 'libjobreg' AND wait_event_type = 'Lock'", db=db)
        if killed or sync.poll() is not None:
            break
        time.sleep(0.1)
    out, err = sync.communicate(timeout=120)
    blocker.stdin.write("COMMIT;\n")
    blocker.stdin.close()
    blocker.wait(timeout=60)
    assert killed == [["t"]], (out, err)
    assert sync.returncode == 1, err
    assert "postgresql database" in err and "connection" in err, err
    descriptions = {r[0] for r in pg.psql("SELECT description FROM jobreg.records", db=db)}
    assert descriptions == {"round old"}
    # And the next sync goes through.
    assert ok_json(site, pg, "sync")["updated"]


def test_a_password_in_the_file_is_refused_without_echoing_it(pg, tmp_path):
    site = make_site(tmp_path, pg, "postgres")
    (site / "jobreg.yaml").write_text(
        "database: postgresql://%s:Sup3rSecret@127.0.0.1:%d/postgres\n" % (pg.user, pg.port))
    proc = run(site, pg, "list")
    assert proc.returncode == 1
    assert "jobreg.yaml:1" in proc.stderr and "password" in proc.stderr
    assert "Sup3rSecret" not in proc.stderr


def test_password_env_gives_the_password_and_a_wrong_one_is_never_shown(pg, tmp_path):
    db = new_db(pg, "t_pw")
    site = make_site(tmp_path, pg, db, extra="password_env: MY_DB_PASSWORD\n")
    env = {k: v for k, v in pg.env().items() if k != "PGPASSWORD"}
    proc = run(site, pg, "sync", env=env)
    assert proc.returncode == 1 and "MY_DB_PASSWORD" in proc.stderr, proc.stderr
    proc = run(site, pg, "sync", env=dict(env, MY_DB_PASSWORD=pg.password))
    assert proc.returncode == 0, proc.stderr
    proc = run(site, pg, "list", env=dict(env, MY_DB_PASSWORD="Wr0ngPassw0rd"))
    assert proc.returncode == 1
    assert "password authentication failed" in proc.stderr
    assert "Wr0ngPassw0rd" not in proc.stderr
