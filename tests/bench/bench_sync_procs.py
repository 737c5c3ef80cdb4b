#!/usr/bin/python3
"""bench_sync_procs.py: 8 `jobreg sync` processes at once (issue 15), per backend.

usage: bench_sync_procs.py --jobreg PATH [--jobs N] [--procs P] [--runs R]

Writes a jobs root of N jobs (modules of 100) and, for each backend, a
jobreg.yaml naming it and a database: a SQLite file, and a PostgreSQL
database when JOBREG_BENCH_POSTGRESQL holds a URI without password (the
password from PGPASSWORD; tools/bench-postgresql.sh sets both). Each run
starts from a new, empty database and measures the wall time of

  alone:    one `jobreg sync` (creates every record);
  at once:  P processes `jobreg sync` started together on another empty
            database (each imports, then refreshes under the write lock);
  again:    P processes at once on the synced database (nothing changed).

and prints the medians and minimums over R runs. After every run it checks
that each process exited 0 and that the records are exactly the N
expected class paths, once each, all installed: through `jobreg list
--json` and the database itself (SQLite directly, PostgreSQL with psql).
Exits 1 when a check fails.
"""
import argparse
import glob
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse


def write_tree(jobs_dir, jobs):
    os.makedirs(jobs_dir)
    expected = []
    for m in range(0, (jobs + 99) // 100):
        n = min(100, jobs - m * 100)
        text = "from jobreg.jobs import Job, register_jobs\n\n"
        for j in range(n):
            text += "class Job%d(Job):\n    class Meta:\n        name = 'Job %d.%d'\n\n" % (j, m, j)
            expected.append("bench_mod_%03d.Job%d" % (m, j))
        text += "register_jobs(%s)\n" % ", ".join("Job%d" % j for j in range(n))
        with open(os.path.join(jobs_dir, "bench_mod_%03d.py" % m), "w") as f:
            f.write(text)
    return sorted(expected)


def find_psql():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
    return found[-1] if found else shutil.which("psql")


class SqliteBackend:
    name = "sqlite"

    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    def new_database(self):
        self.count += 1
        return os.path.join(self.folder, "run%d.db" % self.count)

    def rows(self, database):
        with sqlite3.connect(database) as db:
            total = db.execute("SELECT count(*) FROM jobreg_records").fetchone()[0]
            distinct = db.execute("SELECT count(*) FROM (SELECT DISTINCT module_name, "
                                  "job_class_name FROM jobreg_records)").fetchone()[0]
        return total, distinct

    def drop(self, database):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(database + suffix):
                os.remove(database + suffix)


class PostgresqlBackend:
    name = "postgresql"

    def __init__(self, uri, psql):
        self.uri = uri
        self.psql_exe = psql
        self.count = 0

    def _uri(self, db):
        parts = urllib.parse.urlsplit(self.uri)
        return urllib.parse.urlunsplit(parts._replace(path="/" + db))

    def psql(self, sql, db=None):
        proc = subprocess.run([self.psql_exe, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                               "-d", self._uri(db) if db else self.uri, "-c", sql],
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError("psql: %s: %s" % (sql, proc.stderr.strip()))
        return proc.stdout.split()

    def new_database(self):
        self.count += 1
        name = "bench_sync_procs_%d" % self.count
        self.psql("DROP DATABASE IF EXISTS %s" % name)
        self.psql("CREATE DATABASE %s" % name)
        return name

    def database_setting(self, name):
        return self._uri(name)

    def rows(self, name):
        total = int(self.psql("SELECT count(*) FROM jobreg.records", name)[0])
        distinct = int(self.psql("SELECT count(*) FROM (SELECT DISTINCT module_name, "
                                 "job_class_name FROM jobreg.records) d", name)[0])
        return total, distinct

    def drop(self, name):
        self.psql("DROP DATABASE IF EXISTS %s" % name)


def site(folder, jobs_dir, setting, label):
    path = os.path.join(folder, label)
    os.makedirs(path, exist_ok=True)
    config = os.path.join(path, "jobreg.yaml")
    with open(config, "w") as f:
        f.write("jobs_root: %s\ndatabase: %s\n" % (jobs_dir, setting))
    return config


def syncs(jobreg, config, procs):
    """Wall time of `procs` syncs started together; the processes' outcomes."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    t0 = time.monotonic()
    running = [subprocess.Popen([jobreg, "-c", config, "sync", "--json"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(procs)]
    outcomes = [(p, *p.communicate(timeout=600)) for p in running]
    took = time.monotonic() - t0
    failed = ["exit %d: %s" % (p.returncode, err.strip()[-400:])
              for p, out, err in outcomes if p.returncode != 0]
    created = sum(len(json.loads(out)["created"]) for p, out, err in outcomes
                  if p.returncode == 0)
    return took, failed, created


def check(jobreg, config, backend, database, expected, what):
    problems = []
    proc = subprocess.run([jobreg, "-c", config, "list", "--installed", "all", "--json"],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        return ["%s: jobreg list: %s" % (what, proc.stderr.strip())]
    listed = sorted(r["class_path"] for r in json.loads(proc.stdout))
    if listed != expected:
        extra = len(listed) - len(set(listed))
        problems.append("%s: jobreg list shows %d records (%d duplicates), %d expected"
                        % (what, len(listed), extra, len(expected)))
    uninstalled = [r for r in json.loads(proc.stdout) if not r["installed"]]
    if uninstalled:
        problems.append("%s: %d records not installed" % (what, len(uninstalled)))
    total, distinct = backend.rows(database)
    if (total, distinct) != (len(expected), len(expected)):
        problems.append("%s: the database holds %d records, %d distinct (module, class); "
                        "%d expected" % (what, total, distinct, len(expected)))
    return problems


def fmt(values):
    return "%7.2f / %6.2f" % (statistics.median(values), min(values))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobreg", required=True, help="the built jobreg command")
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--procs", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    jobreg = os.path.abspath(args.jobreg)

    folder = tempfile.mkdtemp(prefix="jobreg-bench-procs-")
    problems, rows = [], []
    try:
        jobs_dir = os.path.join(folder, "jobs")
        expected = write_tree(jobs_dir, args.jobs)
        backends = [SqliteBackend(folder)]
        uri = os.environ.get("JOBREG_BENCH_POSTGRESQL")
        if not uri:
            print("postgresql: skipped (JOBREG_BENCH_POSTGRESQL not set; "
                  "tools/bench-postgresql.sh starts a server and sets it)")
        elif not find_psql():
            print("postgresql: skipped (psql not found: Debian's postgresql-client)")
        else:
            backends.append(PostgresqlBackend(uri, find_psql()))
        for backend in backends:
            alone, together, again = [], [], []
            for run in range(args.runs):
                for kind, times in (("alone", alone), ("at once", together)):
                    database = backend.new_database()
                    setting = getattr(backend, "database_setting", lambda d: d)(database)
                    config = site(folder, jobs_dir, setting, "%s-%d-%s" % (backend.name, run,
                                                                            kind.replace(" ", "")))
                    procs = 1 if kind == "alone" else args.procs
                    took, failed, created = syncs(jobreg, config, procs)
                    what = "%s, run %d, %d process%s %s" % (backend.name, run + 1, procs,
                                                             "es" if procs > 1 else "", kind)
                    problems += ["%s: %s" % (what, f) for f in failed]
                    if not failed and created != len(expected):
                        problems.append("%s: the syncs together created %d records, %d expected"
                                        % (what, created, len(expected)))
                    problems += check(jobreg, config, backend, database, expected, what)
                    times.append(took)
                    if kind == "at once":
                        took, failed, created = syncs(jobreg, config, procs)
                        problems += ["%s again: %s" % (what, f) for f in failed]
                        if created:
                            problems.append("%s again: created %d records" % (what, created))
                        problems += check(jobreg, config, backend, database, expected,
                                          what + " again")
                        again.append(took)
                    backend.drop(database)
            rows.append((backend.name, alone, together, again))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print("\n%d jobs, %d processes, wall time in s (median / min of %d runs; "
          "each run on an empty database)" % (args.jobs, args.procs, args.runs))
    print("%-11s %16s %16s %7s %24s" % ("backend", "1 alone", "%d at once" % args.procs,
                                         "ratio", "%d at once, synced db" % args.procs))
    for name, alone, together, again in rows:
        print("%-11s %16s %16s %6.2fx %24s" % (name, fmt(alone), fmt(together),
                                               statistics.median(together) /
                                               statistics.median(alone), fmt(again)))
    print("records after every run: %s" % ("exactly the %d expected, once each, installed"
                                           % args.jobs if not problems else "WRONG"))
    for p in problems:
        print("bench_sync_procs: %s" % p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
