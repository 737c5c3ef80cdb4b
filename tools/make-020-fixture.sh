#!/bin/sh
# Make tests/data/jobreg-0.2.0.sqlite: a SQLite database file written by
# libjobreg 0.2.0 itself, which tests/c/test_sqlite_migrate_020.c opens with
# the current library to prove that such a file upgrades in place.
#
#   sh tools/make-020-fixture.sh [OUTPUT]     (default: tests/data/jobreg-0.2.0.sqlite)
#
# The file in tests/data is this script's output; regenerate it only if it
# is lost: the ids in it are random (the rest is fixed), so a new file
# needs the ids this script prints copied into the test's table. It needs git
# history, meson, ninja, cc and Debian's build dependencies
# (tools/install-deps.sh). It builds 0.2.0 from git history (the parent of
# the commit that moved meson.build to version 0.3.0) in a temporary folder,
# without sanitizers, then runs a small C program against that library:
#   - jobreg_registry_sync() of the jobs root tests/data/jobs-0.2.0
#     (4 jobs in 2 modules; the sync also stores the source's state),
#   - enables backups.BackupConfigs and inventory.check.AuditSerials,
#   - overrides the name of backups.RestoreConfig ("Restore (approved)"),
#   - stores git state for the slug "netops-jobs",
# and VACUUMs the file (with /usr/bin/python3's sqlite3 module).
# Nothing in the checkout changes except OUTPUT.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
out=${1:-tests/data/jobreg-0.2.0.sqlite}
case $out in /*) ;; *) out=$top/$out ;; esac

next=$(git log --format=%H -S"version: '0.3.0'" -- meson.build | tail -n 1)
[ -n "$next" ] || { echo "make-020-fixture: no commit moves meson.build to 0.3.0" >&2; exit 1; }
release=$(git rev-parse "$next^")
git show "$release:meson.build" | grep -q "version: '0.2.0'" ||
	{ echo "make-020-fixture: $release is not version 0.2.0" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/jobreg-020.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/src" "$work/jobs"
git archive "$release" | tar -x -C "$work/src"
echo "make-020-fixture: building libjobreg 0.2.0 ($release) in $work" >&2
meson setup "$work/build" "$work/src" -Db_sanitize=none >"$work/setup.log" 2>&1 ||
	{ cat "$work/setup.log" >&2; exit 1; }
ninja -C "$work/build" src/libjobreg.so.0.2.0 >&2

cat >"$work/make.c" <<'PROGRAM'
/* Written against the 0.2.0 headers: records of a jobs root, as 0.2.0 stores them. */
#include <jobreg.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *what)
{
	fprintf(stderr, "make-020-fixture: %s: %s\n", what, jobreg_error_last()->message);
	return 1;
}

/* The id of the record of class path `path`. */
static int id_of(char *out, size_t size, jobreg_storage *st, const char *path)
{
	jobreg_record *rec = NULL;

	if (jobreg_storage_get(&rec, st, path) < 0)
		return fail(path);
	snprintf(out, size, "%s", jobreg_record_text(rec, JOBREG_FIELD_ID));
	jobreg_record_free(rec);
	return 0;
}

int main(int argc, char **argv)
{
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;
	jobreg_storage *st = NULL;
	jobreg_refresh_result *res = NULL;
	char id[3][64];
	int rc = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: make JOBS_ROOT DATABASE\n");
		return 2;
	}
	if (jobreg_init(NULL) < 0)
		return fail("jobreg_init");
	if (jobreg_registry_new(&reg, NULL) < 0 || jobreg_source_dir_new(&src, argv[1]) < 0 ||
	    jobreg_registry_add_source(reg, src) < 0)
		goto out;
	if (jobreg_registry_load(reg) < 0 || jobreg_storage_sqlite_open(&st, argv[2], NULL) < 0 ||
	    jobreg_registry_sync(&res, reg, st, NULL) < 0)
		goto out;
	if (jobreg_refresh_result_created_count(res) != 4) {
		fprintf(stderr, "make-020-fixture: the sync created %zu records, not 4\n",
		        jobreg_refresh_result_created_count(res));
		goto out;
	}
	if (id_of(id[0], sizeof(id[0]), st, "backups.BackupConfigs") ||
	    id_of(id[1], sizeof(id[1]), st, "inventory.check.AuditSerials") ||
	    id_of(id[2], sizeof(id[2]), st, "backups.RestoreConfig"))
		goto out;
	if (jobreg_storage_set_enabled(st, id[0], 1) < 0 || jobreg_storage_set_enabled(st, id[1], 1) < 0 ||
	    jobreg_storage_override_text(st, id[2], JOBREG_FIELD_NAME, "Restore (approved)") < 0 ||
	    jobreg_storage_git_state_set(st, "netops-jobs", "https://git.example.com/netops/jobs.git",
	                                 "main", "8d4c5e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d") < 0)
		goto out;
	rc = 0;
out:
	if (rc)
		fail("making the 0.2.0 database");
	jobreg_refresh_result_free(res);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
	jobreg_shutdown();
	return rc;
}
PROGRAM
cc -o "$work/make" "$work/make.c" -I"$work/src/include" -I"$work/build/include" \
	-L"$work/build/src" -Wl,-rpath,"$work/build/src" -ljobreg

cp -R tests/data/jobs-0.2.0/. "$work/jobs/"
rm -f "$work/out.sqlite"
PYTHONDONTWRITEBYTECODE=1 "$work/make" "$work/jobs" "$work/out.sqlite"
/usr/bin/python3 - "$work/out.sqlite" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("VACUUM")
# The ids are random: tests/c/test_sqlite_migrate_020.c names the committed ones.
for row in c.execute("SELECT class_path, id FROM jobreg_records ORDER BY class_path"):
    print("make-020-fixture: %s %s" % row, file=sys.stderr)
c.close()
PY
mkdir -p "$(dirname "$out")"
cp "$work/out.sqlite" "$out"
echo "make-020-fixture: wrote $out ($(wc -c <"$out") bytes)" >&2
