"""`jobreg run` records its run; `jobreg runs [REF] [--status S] [--limit N] [--json]` lists them.

Run as a user would (a subprocess per call, so every listing is read by
another process than the one that ran the job), on a copy of docs/examples.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import textwrap
from pathlib import Path

import pytest

JOBREG = os.environ["JOBREG"]
EXAMPLES = Path(os.environ.get("JOBREG_EXAMPLES",
                               Path(__file__).resolve().parents[2] / "docs" / "examples"))
KEYS = ["id", "job_id", "class_path", "source_type", "source", "code_version", "status",
        "started", "finished", "result_json", "error_type", "error_message", "host_json"]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
WHEN = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

RUNNABLE = textwrap.dedent("""\
    from jobreg.jobs import Job, register_jobs, IntegerVar

    class Double(Job):
        value = IntegerVar(max_value=100)

        def run(self, value):
            return {"doubled": value * 2}

    class Broken(Job):
        def run(self):
            raise RuntimeError("the switch did not answer")

    register_jobs(Double, Broken)
""")
DOUBLE, BROKEN = "runnable.Double", "runnable.Broken"


@pytest.fixture
def site(tmp_path):
    """docs/examples' jobs root plus two runnable jobs, synced and enabled."""
    dest = tmp_path / "site"
    shutil.copytree(EXAMPLES / "jobs", dest / "jobs", ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "jobs" / "runnable.py").write_text(RUNNABLE)
    (dest / "jobreg.yaml").write_text("jobs_root: jobs\n")
    ok(dest, "sync")
    ok(dest, "enable", DOUBLE)
    ok(dest, "enable", BROKEN)
    return dest


def jobreg(site, *args):
    return subprocess.run([JOBREG, "-c", "jobreg.yaml"] + [str(a) for a in args], cwd=site,
                          capture_output=True, text=True, timeout=300)


def ok(site, *args):
    proc = jobreg(site, *args)
    assert proc.returncode == 0, proc.stderr
    return proc


def runs(site, *args):
    return json.loads(ok(site, "runs", *args, "--json").stdout)


def run_json(site, ref, *args, status=0):
    """`jobreg run REF --json`: its object (and the exit status it must have)."""
    proc = jobreg(site, "run", ref, *args, "--json")
    assert proc.returncode == status, proc.stderr
    return json.loads(proc.stdout)


def record_id(site, ref):
    return json.loads(ok(site, "show", ref, "--json").stdout)["id"]


def test_a_success_and_a_failure_are_recorded_newest_first(site):
    good = run_json(site, DOUBLE, "--data", '{"value": 21}')
    bad = run_json(site, BROKEN, status=1)
    assert good["status"] == "success" and bad["status"] == "failed"
    assert UUID.match(good["run_id"]) and UUID.match(bad["run_id"])
    listed = runs(site)
    assert [list(r) for r in listed] == [KEYS, KEYS]
    assert [r["id"] for r in listed] == [bad["run_id"], good["run_id"]]
    failure, success = listed

    assert success["job_id"] == record_id(site, DOUBLE)
    assert (success["class_path"], success["source_type"], success["source"]) == \
        (DOUBLE, "local", "")
    assert success["status"] == "SUCCESS"
    assert json.loads(success["result_json"]) == {"doubled": 42}
    assert success["error_type"] == success["error_message"] == ""

    assert failure["job_id"] == record_id(site, BROKEN)
    assert failure["status"] == "FAILURE"
    assert failure["result_json"] == ""
    assert failure["error_type"] == "RuntimeError"
    assert failure["error_message"] == "the switch did not answer"

    for r in listed:
        assert WHEN.match(r["started"]) and WHEN.match(r["finished"]), r
        assert r["started"] <= r["finished"]
        # The fingerprint of the jobs root the code came from: the same files, the same one.
        assert re.fullmatch(r"[0-9a-f]{16}", r["code_version"]), r
    assert failure["started"] >= success["finished"]
    assert failure["code_version"] == success["code_version"]


def test_the_code_version_follows_the_files_of_the_jobs_root(site):
    run_json(site, DOUBLE, "--data", '{"value": 1}')
    (site / "jobs" / "extra.py").write_text("# another module of the jobs root\n")
    run_json(site, DOUBLE, "--data", '{"value": 2}')  # the code as it is on disk, unsynced
    newer, older = runs(site)
    assert newer["code_version"] != older["code_version"]
    assert re.fullmatch(r"[0-9a-f]{16}", newer["code_version"])


def test_text_output_keeps_stdout_the_result_and_names_the_run_on_stderr(site):
    proc = ok(site, "run", DOUBLE, "--data", '{"value": 4}')
    assert json.loads(proc.stdout) == {"doubled": 8}
    ids = re.findall(r"^run (\S+)$", proc.stderr, re.M)
    assert len(ids) == 1 and UUID.match(ids[0]), proc.stderr
    assert "warning" not in proc.stderr
    proc = jobreg(site, "run", BROKEN)
    assert proc.returncode == 1 and proc.stdout == ""
    failed_id = re.findall(r"^run (\S+)$", proc.stderr, re.M)
    assert [r["id"] for r in runs(site)] == failed_id + ids


def test_runs_in_words(site):
    run_json(site, DOUBLE, "--data", '{"value": 3}')
    run_json(site, BROKEN, status=1)
    failure, success = runs(site)
    lines = ok(site, "runs").stdout.splitlines()
    assert lines == [
        f"{failure['started']}  FAILURE  {BROKEN}  {failure['code_version'][:12]}  "
        f"{failure['id']}",
        "  RuntimeError: the switch did not answer",
        f"{success['started']}  SUCCESS  {DOUBLE}  {success['code_version'][:12]}  "
        f"{success['id']}",
    ]


def test_runs_of_one_job_by_class_path_short_form_or_record_id(site):
    ids = {DOUBLE: [], BROKEN: []}
    for _ in range(2):
        ids[DOUBLE].insert(0, run_json(site, DOUBLE, "--data", '{"value": 1}')["run_id"])
        ids[BROKEN].insert(0, run_json(site, BROKEN, status=1)["run_id"])
    for ref in (DOUBLE, record_id(site, DOUBLE)):
        assert [r["id"] for r in runs(site, ref)] == ids[DOUBLE]
    assert [r["id"] for r in runs(site, BROKEN)] == ids[BROKEN]
    assert [r["id"] for r in runs(site, "--status", "FAILURE")] == ids[BROKEN]
    assert [r["id"] for r in runs(site, "--status", "success")] == ids[DOUBLE]
    assert runs(site, "--status", "REVOKED") == []
    assert [r["id"] for r in runs(site, DOUBLE, "--limit", "1")] == ids[DOUBLE][:1]
    assert len(runs(site, "--limit", "3")) == 3
    # A job that never ran: none, and no error.
    assert runs(site, "device_jobs.CleanupDevices") == []
    assert ok(site, "runs", "device_jobs.CleanupDevices").stdout == "No runs recorded.\n"


def test_the_runs_of_a_deleted_record_are_still_listed_by_its_id(site):
    rid = record_id(site, BROKEN)
    run_id = run_json(site, BROKEN, status=1)["run_id"]
    (site / "jobs" / "runnable.py").write_text(RUNNABLE.replace("Broken", "Gone"))
    ok(site, "sync")
    ok(site, "delete", rid)
    assert [r["id"] for r in runs(site, rid)] == [run_id]
    proc = jobreg(site, "runs", BROKEN)  # its class path names no record any more
    assert proc.returncode == 1 and "no job record matches 'runnable.Broken'" in proc.stderr


def test_no_runs_is_an_empty_list(site, tmp_path):
    assert runs(site) == []
    assert ok(site, "runs").stdout == "No runs recorded.\n"
    fresh = tmp_path / "fresh"
    (fresh / "jobs").mkdir(parents=True)
    (fresh / "jobreg.yaml").write_text("jobs_root: jobs\n")
    assert runs(fresh) == []
    assert ok(fresh, "runs").stdout == "No runs recorded yet (run 'jobreg sync').\n"
    assert not (fresh / ".jobreg").exists()
    proc = jobreg(fresh, "runs", DOUBLE)
    assert proc.returncode == 1 and "there is no database" in proc.stderr


@pytest.mark.parametrize("args, needle", [
    (["runs", "--status", "DONE"], "--status needs STARTED, SUCCESS, FAILURE or REVOKED, not 'DONE'"),
    (["runs", "--status"], "--status needs STARTED"),
    (["runs", "--limit", "0"], "--limit needs a whole number of runs >= 1, not '0'"),
    (["runs", "--limit", "-1"], "not '-1'"),
    (["runs", "--limit", "2x"], "not '2x'"),
    (["runs", "--limit"], "--limit needs a whole number"),
    (["runs", "a", "b"], "unexpected argument 'b'"),
    (["list", "--status", "FAILURE"], "unknown option '--status'"),
])
def test_bad_options_are_usage_errors(site, args, needle):
    proc = jobreg(site, *args)
    assert proc.returncode == 2 and needle in proc.stderr, proc.stderr


def test_an_unknown_ref_fails_naming_it(site):
    proc = jobreg(site, "runs", "nowhere.Nothing")
    assert proc.returncode == 1 and "'nowhere.Nothing'" in proc.stderr
    assert proc.stdout == ""


def test_the_runs_are_in_the_database_file(site):
    """Another process (here SQLite itself) finds every run in the configured file."""
    run_id = run_json(site, DOUBLE, "--data", '{"value": 5}')["run_id"]
    found = []
    with sqlite3.connect(site / ".jobreg" / "jobreg.db") as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            for row in db.execute(f'SELECT * FROM "{table}"'):
                if run_id in row:
                    found.append((table, row))
    assert len(found) == 1, found
    assert "SUCCESS" in found[0][1] and DOUBLE in found[0][1]


def git(path, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    return subprocess.run(["git", *args], cwd=path, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


AUDIT_VLANS = textwrap.dedent("""\
    from jobreg.jobs import Job, register_jobs

    class AuditVlans(Job):
        def run(self):
            return "ok"

    register_jobs(AuditVlans)
""")


def test_a_git_job_records_the_commit_it_ran(site, tmp_path):
    upstream = tmp_path / "upstream"
    (upstream / "jobs").mkdir(parents=True)
    (upstream / "__init__.py").write_text("")
    (upstream / "jobs" / "__init__.py").write_text("from . import vlans  # noqa: F401\n")
    (upstream / "jobs" / "vlans.py").write_text(AUDIT_VLANS)
    git(upstream, "init", "-q", "-b", "main")
    git(upstream, "add", "-A")
    git(upstream, "commit", "-q", "-m", "jobs")
    first = git(upstream, "rev-parse", "HEAD")
    (site / "jobreg.yaml").write_text(
        "jobs_root: jobs\n"
        "git_repositories:\n"
        "  - slug: net_jobs\n"
        f"    remote_url: file://{upstream}\n")
    ok(site, "sync")
    ok(site, "enable", "net_jobs.jobs.AuditVlans")
    run_json(site, "net_jobs.jobs.AuditVlans")
    (upstream / "jobs" / "vlans.py").write_text(AUDIT_VLANS.replace('"ok"', '"ok again"'))
    git(upstream, "commit", "-q", "-am", "again")
    second = git(upstream, "rev-parse", "HEAD")
    ok(site, "sync")
    run_json(site, "net_jobs.jobs.AuditVlans")
    newer, older = runs(site, "net_jobs.jobs.AuditVlans")
    assert (older["code_version"], json.loads(older["result_json"])) == (first, "ok")
    assert (newer["code_version"], json.loads(newer["result_json"])) == (second, "ok again")
    assert newer["source_type"] == "git" and newer["source"] == "net_jobs"
    assert newer["class_path"] == "net_jobs.jobs.vlans.AuditVlans"
