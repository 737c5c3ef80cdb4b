#!/bin/sh
# The storage benchmarks with PostgreSQL beside memory and SQLite (issue 15),
# against a throw-away cluster started as the tests start theirs
# (tests/postgresql/cluster.py: initdb + pg_ctl in a temporary folder, on a
# free port of 127.0.0.1, with a password).
#
#   tools/bench-postgresql.sh [BUILD_DIR]     (default build-bench)
#
# BUILD_DIR is a release build with PostgreSQL; it is set up when missing:
#   meson setup BUILD_DIR --buildtype=release -Dpostgresql=enabled
# Runs BUILD_DIR/tests/bench/bench_storage (get by id, a run's record check,
# an unchanged refresh at 10 and 10,000 records) and
# tests/bench/bench_sync_procs.py (8 `jobreg sync` at once) with
# JOBREG_BENCH_POSTGRESQL and PGPASSWORD set, and prints their figures.
# The cluster is stopped and its folder removed at the end, also when a
# benchmark fails or the script is interrupted (INT, TERM, HUP).
# Exit status: the first failing benchmark's, 77 without PostgreSQL's server.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
python=/usr/bin/python3

if [ ! -d "$build" ]; then
	meson setup "$build" --buildtype=release -Dpostgresql=enabled
fi
ninja -C "$build" tests/bench/bench_storage src/cli/jobreg >/dev/null

# The Python half owns the cluster: its `with` stops it however it ends.
# It runs in the background so that this shell's trap can hand it the
# signal (a background job of sh ignores INT unless it installs a handler,
# which it does).
"$python" - "$build" <<'EOF' &
import os, signal, subprocess, sys

sys.path.insert(0, "tests/postgresql")
import cluster  # noqa: E402


def stop(signum, frame):
    raise SystemExit(128 + signum)


for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(sig, stop)
build = sys.argv[1]
if not cluster.find_bindir():
    print("bench-postgresql: PostgreSQL server binaries (initdb, pg_ctl) not found: "
          "install Debian's postgresql package", file=sys.stderr)
    sys.exit(cluster.SKIP)
with cluster.Cluster() as c:
    print("bench-postgresql: cluster at %s (PostgreSQL in %s)" % (c.uri(), c.bindir), flush=True)
    env = c.env(JOBREG_BENCH_POSTGRESQL=c.uri())
    rc = 0
    for cmd in ([os.path.join(build, "tests/bench/bench_storage")],
                [sys.executable, "tests/bench/bench_sync_procs.py",
                 "--jobreg", os.path.join(build, "src/cli/jobreg")]):
        print("\n$ %s" % " ".join(cmd), flush=True)
        status = subprocess.run(cmd, env=env, timeout=900).returncode
        rc = rc or status
sys.exit(rc)
EOF
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || :' INT TERM HUP
# wait returns early when a trapped signal arrives: wait again for the
# teardown to finish, then give its status.
rc=0
wait "$pid" || rc=$?
while kill -0 "$pid" 2>/dev/null; do
	rc=0
	wait "$pid" || rc=$?
done
exit "$rc"
