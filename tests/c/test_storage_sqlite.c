/*
 * test_storage_sqlite.c: the SQLite backend on real files: its schema and
 * version, reopening, refusing newer schemas and non-databases, rolling a
 * refresh back when a write fails, agreeing with the in-memory backend, and
 * two processes working on one database at once (this binary re-executes
 * itself as the worker: `test_storage_sqlite --worker KIND ARGS...`).
 * SQLite files are inspected with /usr/bin/python3's sqlite3 module.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loadutil.h"
#include "records_fixture.h"

#define RACE_JOBS 40

static jobreg_storage *open_db(const char *path)
{
	jobreg_storage *st = NULL;
	CHECK_OK(jobreg_storage_sqlite_open(&st, path, NULL));
	return st;
}

static const char *db_path(void)
{
	static char path[4][4096];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, 4096, "%s/jobreg.db", jr_tmpdir());
	return p;
}

/* A module of `count` jobs J0.. whose descriptions say `round`. */
static void write_round(const char *dir, const char *module, int count, int round)
{
	char text[65536], path[256];
	size_t len;
	int i;

	len = (size_t)snprintf(text, sizeof(text), "from jobreg.jobs import Job, register_jobs\n\n");
	for (i = 0; i < count; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		                        "class J%d(Job):\n    class Meta:\n        name = 'Job %d'\n"
		                        "        description = 'round %d'\n\n",
		                        i, i, round);
	len += (size_t)snprintf(text + len, sizeof(text) - len, "register_jobs(");
	for (i = 0; i < count; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%sJ%d", i ? ", " : "", i);
	snprintf(text + len, sizeof(text) - len, ")\n");
	snprintf(path, sizeof(path), "%s.py", module);
	jr_write(dir, path, text);
}

static jobreg_snapshot *load(jobreg_registry **reg, const char *dir)
{
	if (!*reg)
		*reg = load_jobs_root(dir);
	else
		CHECK_OK(jobreg_registry_load(*reg));
	return take_snapshot(*reg);
}

/* ---- workers (run in a child process) -------------------------------- */

static int fail(const char *what)
{
	fprintf(stderr, "worker: %s: %s\n", what, jobreg_error_last()->message);
	return 1;
}

/* refresh DB ROOT: one refresh of ROOT's jobs into DB. */
static int worker_refresh(const char *db, const char *root)
{
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;
	jobreg_snapshot *snap = NULL;
	jobreg_storage *st = NULL;
	int rc;

	if (jobreg_init(NULL) < 0)
		return fail("init");
	rc = jobreg_registry_new(&reg, NULL);
	if (rc == 0)
		rc = jobreg_source_dir_new(&src, root);
	if (rc == 0)
		rc = jobreg_registry_add_source(reg, src);
	if (rc == 0)
		rc = jobreg_registry_load(reg);
	if (rc == 0)
		rc = jobreg_registry_snapshot(&snap, reg);
	if (rc == 0)
		rc = jobreg_storage_sqlite_open(&st, db, NULL);
	if (rc == 0)
		rc = jobreg_refresh(NULL, st, snap, NULL);
	if (rc < 0)
		fail("refresh");
	jobreg_storage_free(st);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
	jobreg_shutdown();
	return rc < 0;
}

/* refresh-loop DB ROOT ROUNDS: rewrite race_jobs.py with each round's
 * descriptions, load and refresh, ROUNDS times. */
static int worker_refresh_loop(const char *db, const char *root, int rounds)
{
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;
	jobreg_storage *st = NULL;
	int rc, round;

	if (jobreg_init(NULL) < 0)
		return fail("init");
	rc = jobreg_registry_new(&reg, NULL);
	if (rc == 0)
		rc = jobreg_source_dir_new(&src, root);
	if (rc == 0)
		rc = jobreg_registry_add_source(reg, src);
	if (rc == 0)
		rc = jobreg_storage_sqlite_open(&st, db, NULL);
	for (round = 1; round <= rounds && rc == 0; round++) {
		jobreg_snapshot *snap = NULL;
		write_round(root, "race_jobs", RACE_JOBS, round);
		rc = jobreg_registry_load(reg);
		if (rc == 0)
			rc = jobreg_registry_snapshot(&snap, reg);
		if (rc == 0 && jobreg_snapshot_job_count(snap) != RACE_JOBS)
			rc = jobreg_storage_error_set(JOBREG_ERROR, "the jobs did not load");
		if (rc == 0)
			rc = jobreg_refresh(NULL, st, snap, NULL);
		jobreg_snapshot_free(snap);
	}
	if (rc < 0)
		fail("refresh loop");
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
	jobreg_shutdown();
	return rc < 0;
}

/* enable DB ROUNDS: set `enabled` of every record, one transaction each,
 * alternating so that the last round enables them all. */
static int worker_enable(const char *db, int rounds)
{
	jobreg_storage *st = NULL;
	jobreg_record_list *list = NULL;
	int rc, round;
	size_t i;

	rc = jobreg_storage_sqlite_open(&st, db, NULL);
	if (rc == 0)
		rc = jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL);
	for (round = 0; round < rounds && rc == 0; round++)
		for (i = 0; i < jobreg_record_list_count(list) && rc == 0; i++)
			rc = jobreg_storage_set_enabled(st,
			                                jobreg_record_text(jobreg_record_list_get(list, i),
			                                                   JOBREG_FIELD_ID),
			                                (rounds - 1 - round) % 2 == 0);
	if (rc < 0)
		fail("enable");
	jobreg_record_list_free(list);
	jobreg_storage_free(st);
	return rc < 0;
}

static int worker(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[2], "refresh") == 0)
		return worker_refresh(argv[3], argv[4]);
	if (argc == 6 && strcmp(argv[2], "refresh-loop") == 0)
		return worker_refresh_loop(argv[3], argv[4], atoi(argv[5]));
	if (argc == 5 && strcmp(argv[2], "enable") == 0)
		return worker_enable(argv[3], atoi(argv[4]));
	fprintf(stderr, "worker: bad arguments\n");
	return 2;
}

/* This test binary, as main() was started (not /proc/self/exe, which is
 * valgrind's own tool when run under it). */
static const char *self_path = "/proc/self/exe";

/* Start this binary as a worker: `--worker` and the NULL-terminated args. */
static pid_t spawn(const char *kind, ...)
{
	const char *args[8] = { "test_storage_sqlite", "--worker", kind };
	int n = 3;
	va_list ap;
	pid_t pid;

	va_start(ap, kind);
	while (n < 7 && (args[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	args[n] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		execv(self_path, (char *const *)args);
		_exit(127);
	}
	return pid;
}

static int wait_ok(pid_t pid)
{
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* ---- schema and files -------------------------------------------------- */

static void test_open_creates_the_schema_at_user_version_4_in_wal_mode(void)
{
	const char *db = db_path();
	jobreg_storage *st = open_db(db);

	CHECK_INT(count_records(st, JOBREG_INSTALLED_ALL), 0);
	jobreg_storage_free(st);
	CHECK_STR(sql_query(db, "PRAGMA user_version"), "4");
	CHECK_STR(sql_query(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"),
	          "jobreg_git_state|jobreg_load_errors|jobreg_records|jobreg_runs|jobreg_source_state");
	CHECK_STR(sql_query(db, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT "
	                        "NULL ORDER BY name"),
	          "jobreg_records_by_listing|jobreg_records_by_source|jobreg_runs_by_job|"
	          "jobreg_runs_by_start");
	CHECK_STR(sql_query(db, "PRAGMA journal_mode"), "wal");
	CHECK_STR(sql_query(db, "SELECT count(*) FROM pragma_table_info('jobreg_records')"), "31");
	/* A second open of the same file changes nothing. */
	st = open_db(db);
	jobreg_storage_free(st);
	CHECK_STR(sql_query(db, "PRAGMA user_version"), "4");
}

/*
 * The columns of jobreg_records are schema 1's, as libjobreg 0.1 made them,
 * and they are the record's fields in order (the fields come from the one
 * list, src/job_fields.h; the schema is written out literally): a field
 * added to the list without its migration fails here.
 */
static void test_the_record_columns_are_schema_1s_and_the_fields_in_order(void)
{
	static const char schema_1[] =
		"id TEXT|module_name TEXT|job_class_name TEXT|class_path TEXT|source_type TEXT|"
		"source TEXT|grouping TEXT|name TEXT|description TEXT|installed INTEGER|"
		"enabled INTEGER|hidden INTEGER|dryrun_default INTEGER|approval_required INTEGER|"
		"has_sensitive_variables INTEGER|soft_time_limit REAL|time_limit REAL|"
		"task_queues TEXT|is_singleton INTEGER|supports_dryrun INTEGER|variables TEXT|"
		"grouping_override INTEGER|name_override INTEGER|description_override INTEGER|"
		"hidden_override INTEGER|dryrun_default_override INTEGER|"
		"approval_required_override INTEGER|has_sensitive_variables_override INTEGER|"
		"soft_time_limit_override INTEGER|time_limit_override INTEGER|"
		"is_singleton_override INTEGER";
	static const char *const sql_type[] = { "?", "TEXT", "INTEGER", "REAL" };
	const char *db = db_path(), *columns;
	char fields[4096] = "";
	size_t len = 0, f;

	jobreg_storage_free(open_db(db));
	columns = sql_query(db, "SELECT name || ' ' || type "
	                        "FROM pragma_table_info('jobreg_records') ORDER BY cid");
	CHECK_STR(columns, schema_1);
	for (f = 0; f < jobreg_record_field_count(); f++)
		len += (size_t)snprintf(fields + len, sizeof(fields) - len, "%s%s %s", f ? "|" : "",
		                        jobreg_record_field_name((jobreg_field)f),
		                        sql_type[jobreg_record_field_kind((jobreg_field)f)]);
	CHECK_STR(columns, fields);
}

/* The reopened storage holds what `before` (freed here) showed, and a
 * refresh of the same snapshot writes nothing. */
static void expect_as_before(jobreg_storage *st, char *before, jobreg_snapshot *snap)
{
	jobreg_refresh_result *res = NULL;
	char *after = dump_storage(st, 1);

	CHECK_STR(after, before);
	CHECK_OK(jobreg_refresh(&res, st, snap, NULL));
	CHECK_INT(jobreg_refresh_result_writes(res), 0);
	jobreg_refresh_result_free(res);
	free(before);
	free(after);
}

/* A file written by libjobreg 0.1 (schema 1) is migrated, keeping its records. */
static void test_a_schema_1_file_is_migrated_keeping_its_records(void)
{
	const char *dir = jr_tmpdir(), *db = db_path();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_storage *st = open_db(db);
	char *before;

	write_round(dir, "mig_jobs", 3, 1);
	snap = load(&reg, dir);
	CHECK_OK(jobreg_refresh(NULL, st, snap, NULL));
	CHECK_OK(jobreg_storage_set_enabled(st, text_of(st, "mig_jobs.J1", JOBREG_FIELD_ID), 1));
	before = dump_storage(st, 1);
	jobreg_storage_free(st);
	/* Back to what 0.1 wrote: no source state table, user_version 1. */
	CHECK_STR(sql_query(db, "DROP TABLE jobreg_source_state"), "");
	CHECK_STR(sql_query(db, "PRAGMA user_version = 1"), "");

	st = open_db(db);
	CHECK_STR(sql_query(db, "PRAGMA user_version"), "4");
	CHECK_STR(sql_query(db, "SELECT count(*) FROM jobreg_source_state"), "0");
	expect_as_before(st, before, snap);
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

static void test_reopening_keeps_records_ids_and_host_edits(void)
{
	const char *dir = jr_tmpdir(), *db = db_path();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_storage *st = open_db(db);
	char *before;

	write_round(dir, "ro_jobs", 5, 1);
	snap = load(&reg, dir);
	CHECK_OK(jobreg_refresh(NULL, st, snap, NULL));
	CHECK_OK(jobreg_storage_set_enabled(st, text_of(st, "ro_jobs.J2", JOBREG_FIELD_ID), 1));
	CHECK_OK(jobreg_storage_override_real(st, text_of(st, "ro_jobs.J3", JOBREG_FIELD_ID),
	                                      JOBREG_FIELD_TIME_LIMIT, 12.5));
	before = dump_storage(st, 1);
	jobreg_storage_free(st);

	st = open_db(db);
	expect_as_before(st, before, snap);
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

static void test_a_newer_schema_is_refused_and_the_file_left_alone(void)
{
	const char *db = db_path(), *other = db_path();
	jobreg_storage *st = open_db(db);

	jobreg_storage_free(st);
	CHECK_STR(sql_query(db, "PRAGMA user_version = 5"), "");
	st = (jobreg_storage *)&st;
	CHECK_INT(jobreg_storage_sqlite_open(&st, db, NULL), JOBREG_EVERSION);
	CHECK(st == NULL);
	CHECK_CONTAINS(jobreg_error_last()->message, db);
	CHECK_CONTAINS(jobreg_error_last()->message, "schema version 5");
	CHECK_STR(sql_query(db, "PRAGMA user_version"), "5");

	/* Someone else's file of a newer version is not even put in WAL mode. */
	CHECK_STR(sql_query(other, "PRAGMA user_version = 7"), "");
	CHECK_INT(jobreg_storage_sqlite_open(&st, other, NULL), JOBREG_EVERSION);
	CHECK_STR(sql_query(other, "PRAGMA journal_mode"), "delete");
	CHECK_STR(sql_query(other, "SELECT count(*) FROM sqlite_master"), "0");
}

static void test_a_file_that_is_not_a_database_is_refused_naming_it(void)
{
	const char *dir = jr_tmpdir();
	char path[4096];
	jobreg_storage *st = NULL;

	snprintf(path, sizeof(path), "%s",
	         jr_write(dir, "notes.db",
	                  "these are not the tables you want\n"
	                  "0123456789abcdef0123456789abcdef\n"));
	CHECK_INT(jobreg_storage_sqlite_open(&st, path, NULL), JOBREG_ESTORAGE);
	CHECK_CONTAINS(jobreg_error_last()->message, path);
	CHECK_CONTAINS(jobreg_error_last()->message, "not a database");

	snprintf(path, sizeof(path), "%s/missing/folder/jobreg.db", dir);
	CHECK_INT(jobreg_storage_sqlite_open(&st, path, NULL), JOBREG_ESTORAGE);
	CHECK_CONTAINS(jobreg_error_last()->message, path);
	CHECK(st == NULL);
}

static void test_sqlite_options_are_versioned(void)
{
	jobreg_sqlite_options opts;
	jobreg_storage *st = NULL;

	CHECK_OK(jobreg_sqlite_options_init(&opts, 1));
	CHECK_INT(opts.version, 1);
	CHECK_INT(opts.busy_timeout_ms, 5000);
	CHECK_INT(jobreg_sqlite_options_init(&opts, 2), JOBREG_EVERSION);
	opts.version = 7;
	CHECK_INT(jobreg_storage_sqlite_open(&st, db_path(), &opts), JOBREG_EVERSION);
	CHECK_CONTAINS(jobreg_error_last()->message, "jobreg_sqlite_options");
	CHECK_INT(jobreg_storage_sqlite_open(&st, NULL, NULL), JOBREG_EINVAL);
}

/* ---- transactions ---------------------------------------------------- */

static void test_a_failing_write_rolls_back_the_whole_refresh(void)
{
	const char *dir = jr_tmpdir(), *db = db_path();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *first, *second;
	jobreg_storage *st = open_db(db);
	jobreg_refresh_result *res = NULL;
	char *before, *after;

	write_round(dir, "tw_jobs", 5, 1);
	first = load(&reg, dir);
	CHECK_OK(jobreg_refresh(NULL, st, first, NULL));
	before = dump_storage(st, 1);

	/* Round 2 changes the 5 records and adds J5, J6; the database refuses J6,
	 * which is written last: the 6 writes before it must be undone. */
	write_round(dir, "tw_jobs", 7, 2);
	second = load(&reg, dir);
	CHECK_STR(sql_query(db, "CREATE TRIGGER refuse_j6 BEFORE INSERT ON jobreg_records "
	                        "WHEN NEW.class_path = 'tw_jobs.J6' "
	                        "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"),
	          "");
	CHECK_INT(jobreg_refresh(&res, st, second, NULL), JOBREG_ESTORAGE);
	CHECK(res == NULL);
	CHECK_CONTAINS(jobreg_error_last()->message, "refused by the test trigger");
	CHECK_CONTAINS(jobreg_error_last()->message, db);
	CHECK_CONTAINS(jobreg_error_last()->message, "tw_jobs.J6");
	after = dump_storage(st, 1);
	CHECK_STR(after, before);
	free(after);

	CHECK_STR(sql_query(db, "DROP TRIGGER refuse_j6"), "");
	CHECK_OK(jobreg_refresh(&res, st, second, NULL));
	CHECK_INT(jobreg_refresh_result_writes(res), 7);
	jobreg_refresh_result_free(res);
	free(before);
	jobreg_snapshot_free(first);
	jobreg_snapshot_free(second);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

static void test_a_locked_database_fails_after_the_busy_timeout_with_a_clear_message(void)
{
	const char *db = db_path();
	jobreg_sqlite_options opts = JOBREG_SQLITE_OPTIONS_INIT;
	jobreg_storage *st = open_db(db), *impatient = NULL;
	char command[8192], line[64] = "";
	FILE *holder;
	time_t start;

	jobreg_storage_free(st);
	/* Another process takes the write lock and holds it for a while. */
	snprintf(command, sizeof(command),
	         "'%s' -c \"import sqlite3, sys, time\n"
	         "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
	         "c.execute('BEGIN IMMEDIATE')\n"
	         "print('locked', flush=True)\n"
	         "time.sleep(2)\n"
	         "c.execute('ROLLBACK')\" '%s'",
	         PYTHON_FOR_TESTS, db);
	holder = popen(command, "r");
	CHECK(holder != NULL);
	if (!holder)
		return;
	CHECK(fgets(line, sizeof(line), holder) != NULL);
	CHECK_STR(line, "locked\n");

	opts.busy_timeout_ms = 100;
	CHECK_OK(jobreg_storage_sqlite_open(&impatient, db, &opts));
	start = time(NULL);
	CHECK_INT(jobreg_storage_git_state_set(impatient, "repo", "https://x.invalid/r", "main", "abc"),
	          JOBREG_ESTORAGE);
	CHECK(time(NULL) - start < 2);
	CHECK_CONTAINS(jobreg_error_last()->message, db);
	CHECK_CONTAINS(jobreg_error_last()->message, "locked by another connection (waited 100 ms)");
	/* Reading still works while another connection writes (WAL). */
	CHECK_INT(count_records(impatient, JOBREG_INSTALLED_ALL), 0);
	pclose(holder);
	CHECK_OK(jobreg_storage_git_state_set(impatient, "repo", "https://x.invalid/r", "main", "abc"));
	jobreg_storage_free(impatient);
}

static void test_git_state_is_stored_redacted_and_survives_reopening(void)
{
	const char *db = db_path();
	jobreg_storage *st = open_db(db);
	char *url = NULL, *branch = NULL, *head = NULL;

	CHECK_OK(jobreg_storage_git_state_set(st, "my_repo",
	                                      "https://bob:t0ken@example.invalid/my_repo.git", "main",
	                                      "1111"));
	CHECK_OK(jobreg_storage_git_state_set(st, "my_repo",
	                                      "https://bob:t0ken@example.invalid/my_repo.git", "main",
	                                      "2222"));
	jobreg_storage_free(st);
	CHECK(strstr(sql_query(db, "SELECT remote_url FROM jobreg_git_state"), "t0ken") == NULL);
	CHECK_STR(sql_query(db, "SELECT count(*) FROM jobreg_git_state"), "1");
	st = open_db(db);
	CHECK_OK(jobreg_storage_git_state_get(&url, &branch, &head, st, "my_repo"));
	CHECK_CONTAINS(url, "example.invalid/my_repo.git");
	CHECK(url && !strstr(url, "t0ken"));
	CHECK_STR(branch, "main");
	CHECK_STR(head, "2222");
	CHECK_INT(jobreg_storage_git_state_get(&url, NULL, NULL, st, "other"), JOBREG_ENOTFOUND);
	jobreg_free(url);
	jobreg_free(branch);
	jobreg_free(head);
	jobreg_storage_free(st);
}

/* ---- the same as memory ---------------------------------------------- */

static void run_sequence_step(jobreg_storage *st, int step, const jobreg_snapshot *snap, char *log,
                              size_t log_size)
{
	jobreg_refresh_result *res = NULL;
	size_t len = strlen(log);

	switch (step) {
	case 1:
		CHECK_OK(jobreg_storage_set_enabled(st, text_of(st, "seq_jobs.A", JOBREG_FIELD_ID), 1));
		CHECK_OK(jobreg_storage_override_text(st, text_of(st, "seq_jobs.B", JOBREG_FIELD_ID),
		                                      JOBREG_FIELD_DESCRIPTION, "host words"));
		return;
	case 2:
		CHECK_OK(jobreg_storage_delete(st, text_of(st, "seq_jobs.B", JOBREG_FIELD_ID), 0));
		CHECK_OK(jobreg_storage_set_enabled(st, text_of(st, "seq_jobs.C", JOBREG_FIELD_ID), 1));
		return;
	default:
		CHECK_OK(jobreg_refresh(&res, st, snap, NULL));
		snprintf(log + len, log_size - len,
		         "created %zu updated %zu uninstalled %zu unchanged %zu; ",
		         jobreg_refresh_result_created_count(res), jobreg_refresh_result_updated_count(res),
		         jobreg_refresh_result_uninstalled_count(res),
		         jobreg_refresh_result_unchanged(res));
		jobreg_refresh_result_free(res);
	}
}

static void test_memory_and_sqlite_end_with_the_same_records_for_the_same_sequence(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snaps[3];
	jobreg_storage *mem = NULL, *sql = open_db(db_path());
	char mem_log[1024] = "", sql_log[1024] = "", *mem_dump, *sql_dump;
	int i;

	CHECK_OK(jobreg_storage_memory_new(&mem));
	jr_write(dir, "seq_jobs.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class A(Job):\n    pass\n"
	         "class B(Job):\n    pass\n"
	         "class C(Job):\n    class Meta:\n        name = 'Same'\n"
	         "register_jobs(A, B, C)\n");
	snaps[0] = load(&reg, dir);
	jr_write(dir, "seq_jobs.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class A(Job):\n    class Meta:\n        description = 'changed'\n"
	         "class C(Job):\n    class Meta:\n        name = 'Same'\n"
	         "class D(Job):\n    class Meta:\n        name = 'Same'\n        task_queues = ['q1', "
	         "'q2']\n"
	         "class E(Job):\n    class Meta:\n        soft_time_limit = 0.25\n"
	         "register_jobs(A, C, D, E)\n");
	snaps[1] = load(&reg, dir);
	jr_write(dir, "seq_jobs.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class A(Job):\n    pass\n"
	         "class D(Job):\n    class Meta:\n        name = 'Same'\n"
	         "class E(Job):\n    pass\n"
	         "class F(Job):\n    class Meta:\n        name = 'A'\n"
	         "register_jobs(A, D, E, F)\n");
	snaps[2] = load(&reg, dir);

	/* refresh 1, edits, refresh 2, delete + enable, refresh 3 */
	{
		static const int steps[] = { 0, 1, 0, 2, 0 };
		int snap_index = 0;
		for (i = 0; i < 5; i++) {
			const jobreg_snapshot *snap = steps[i] == 0 ? snaps[snap_index++] : NULL;
			run_sequence_step(mem, steps[i], snap, mem_log, sizeof(mem_log));
			run_sequence_step(sql, steps[i], snap, sql_log, sizeof(sql_log));
		}
	}
	CHECK_STR(sql_log, mem_log);
	CHECK_STR(mem_log, "created 3 updated 0 uninstalled 0 unchanged 0; "
	                   "created 2 updated 1 uninstalled 1 unchanged 1; "
	                   "created 1 updated 3 uninstalled 1 unchanged 0; ");
	mem_dump = dump_storage(mem, 0);
	sql_dump = dump_storage(sql, 0);
	CHECK_STR(sql_dump, mem_dump);
	CHECK_CONTAINS(mem_dump, "class_path=seq_jobs.D;");
	CHECK_CONTAINS(mem_dump, "name=Same (2);");
	CHECK_CONTAINS(mem_dump, "name=A (2);");
	free(mem_dump);
	free(sql_dump);
	for (i = 0; i < 3; i++)
		jobreg_snapshot_free(snaps[i]);
	jobreg_storage_free(mem);
	jobreg_storage_free(sql);
	jobreg_registry_free(reg);
}

/* ---- two processes ---------------------------------------------------- */

static void test_two_processes_refreshing_a_new_database_create_each_record_once(void)
{
	const char *dir = jr_tmpdir();
	int attempt;

	write_round(dir, "twin_jobs", RACE_JOBS, 1);
	for (attempt = 0; attempt < 3; attempt++) {
		char db[4096];
		pid_t a, b;

		snprintf(db, sizeof(db), "%s", db_path());
		a = spawn("refresh", db, dir, NULL);
		b = spawn("refresh", db, dir, NULL);
		CHECK(wait_ok(a));
		CHECK(wait_ok(b));
		CHECK_STR(sql_query(db, "PRAGMA integrity_check"), "ok");
		CHECK_STR(sql_query(db, "SELECT count(*) FROM jobreg_records"), "40");
		CHECK_STR(sql_query(db, "SELECT count(DISTINCT id) FROM jobreg_records"), "40");
		CHECK_STR(sql_query(db, "SELECT count(DISTINCT name) FROM jobreg_records"), "40");
		CHECK_STR(sql_query(db, "SELECT sum(installed) + sum(enabled) * 1000 FROM jobreg_records"),
		          "40");
	}
}

static void test_two_processes_enabling_and_refreshing_lose_no_update(void)
{
	const char *dir = jr_tmpdir(), *db = db_path();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_storage *st = open_db(db);
	pid_t enabler, refresher;

	write_round(dir, "race_jobs", RACE_JOBS, 0);
	snap = load(&reg, dir);
	CHECK_OK(jobreg_refresh(NULL, st, snap, NULL));
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
	jobreg_storage_free(st);

	/* One rewrites every record 15 times (a refresh copies descriptions),
	 * the other flips `enabled` of each record 10 times, ending enabled. */
	refresher = spawn("refresh-loop", db, dir, "15", NULL);
	enabler = spawn("enable", db, "10", NULL);
	CHECK(wait_ok(enabler));
	CHECK(wait_ok(refresher));

	CHECK_STR(sql_query(db, "PRAGMA integrity_check"), "ok");
	CHECK_STR(sql_query(db, "SELECT count(*) FROM jobreg_records"), "40");
	/* No enable was lost to a refresh, and every refresh landed. */
	CHECK_STR(sql_query(db, "SELECT count(*) FROM jobreg_records WHERE enabled = 1"), "40");
	CHECK_STR(sql_query(db, "SELECT count(*) FROM jobreg_records WHERE description = 'round 15'"),
	          "40");
}

static const struct jr_test tests[] = {
	{ "test_open_creates_the_schema_at_user_version_4_in_wal_mode",
	  test_open_creates_the_schema_at_user_version_4_in_wal_mode },
	{ "test_the_record_columns_are_schema_1s_and_the_fields_in_order",
	  test_the_record_columns_are_schema_1s_and_the_fields_in_order },
	{ "test_a_schema_1_file_is_migrated_keeping_its_records",
	  test_a_schema_1_file_is_migrated_keeping_its_records },
	{ "test_reopening_keeps_records_ids_and_host_edits",
	  test_reopening_keeps_records_ids_and_host_edits },
	{ "test_a_newer_schema_is_refused_and_the_file_left_alone",
	  test_a_newer_schema_is_refused_and_the_file_left_alone },
	{ "test_a_file_that_is_not_a_database_is_refused_naming_it",
	  test_a_file_that_is_not_a_database_is_refused_naming_it },
	{ "test_sqlite_options_are_versioned", test_sqlite_options_are_versioned },
	{ "test_a_failing_write_rolls_back_the_whole_refresh",
	  test_a_failing_write_rolls_back_the_whole_refresh },
	{ "test_a_locked_database_fails_after_the_busy_timeout_with_a_clear_message",
	  test_a_locked_database_fails_after_the_busy_timeout_with_a_clear_message },
	{ "test_git_state_is_stored_redacted_and_survives_reopening",
	  test_git_state_is_stored_redacted_and_survives_reopening },
	{ "test_memory_and_sqlite_end_with_the_same_records_for_the_same_sequence",
	  test_memory_and_sqlite_end_with_the_same_records_for_the_same_sequence },
	{ "test_two_processes_refreshing_a_new_database_create_each_record_once",
	  test_two_processes_refreshing_a_new_database_create_each_record_once },
	{ "test_two_processes_enabling_and_refreshing_lose_no_update",
	  test_two_processes_enabling_and_refreshing_lose_no_update },
};

int main(int argc, char **argv)
{
	int rc;

	if (argc > 1 && strcmp(argv[1], "--worker") == 0)
		return worker(argc, argv);
	if (strchr(argv[0], '/'))
		self_path = argv[0];
	if (jobreg_init(NULL) < 0) {
		fprintf(stderr, "jobreg_init: %s\n", jobreg_error_last()->message);
		return 99;
	}
	rc = jr_test_run(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
	jobreg_shutdown();
	return rc;
}
