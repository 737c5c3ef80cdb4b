/*
 * test_sqlite_schema4.c: the SQLite backend's schema 4, run records, on
 * real files: a schema 3 file migrated in place, runs_read answering as the
 * memory backend does for the same writes (bytewise order, filters,
 * offset and limit), two handles on one file, a rolled-back write, the
 * indexes the queries use, and failures that name the file. Links the
 * internal library to call the backend's run callbacks through
 * jr_storage_run_write() and jr_storage_runs_read() with rows of its own.
 * (tests/c/test_runs.c covers run records over the public API.)
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadutil.h"
#include "sqlutil.h"
#include "storage_internal.h"

/* ---- helpers ------------------------------------------------------------- */

static jobreg_storage *open_db(const char *path)
{
	jobreg_storage *st = NULL;
	CHECK_OK(jobreg_storage_sqlite_open(&st, path, NULL));
	return st;
}

static char *db_path(void)
{
	static char path[4][4096];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, 4096, "%s/jobreg.sqlite", jr_tmpdir());
	return p;
}

/* A run row whose other fields follow from `id` and `status`. */
static jobreg_run_row run_row(const char *id, const char *job_id, const char *status,
                              const char *started)
{
	jobreg_run_row row;

	row.id = id;
	row.job_id = job_id;
	row.class_path = "runs.Job";
	row.source_type = "local";
	row.source_name = "";
	row.code_version = "fp-1";
	row.status = status;
	row.started = started;
	row.finished = strcmp(status, "STARTED") == 0 ? "" : "2026-01-31T12:00:09.000000Z";
	row.result_json = strcmp(status, "SUCCESS") == 0 ? "{\"ok\": true}" : "";
	row.error_type = strcmp(status, "FAILURE") == 0 ? "RuntimeError" : "";
	row.error_message = strcmp(status, "FAILURE") == 0 ? "it broke: caf\xc3\xa9" : "";
	row.host_json = strcmp(status, "STARTED") == 0 ? "{\"worker\": \"w1\"}" : "";
	return row;
}

/* One write transaction storing `row`. */
static int write_run(jobreg_storage *st, const jobreg_run_row *row)
{
	int rc;

	if ((rc = jr_storage_begin(st, JOBREG_STORAGE_BEGIN_WRITE)) < 0)
		return rc;
	rc = jr_storage_run_write(st, row);
	return rc < 0 ? jr_storage_rollback(st, rc) : jr_storage_commit(st);
}

/* Every field of the runs `filter` (NULL: all) selects, one line per run
 * ("" for none): what two backends must agree on. Freed by the caller. */
static char *runs_text(jobreg_storage *st, const jobreg_run_filter *filter)
{
	static const jobreg_run_filter all = JOBREG_RUN_FILTER_INIT;
	jr_run_rows rows = { NULL, 0, 0 };
	char *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (!f)
		return NULL;
	if ((rc = jr_storage_begin(st, 0)) == 0) {
		rc = jr_storage_runs_read(&rows, st, filter ? filter : &all);
		rc = rc < 0 ? jr_storage_rollback(st, rc) : jr_storage_commit(st);
	}
	if (rc < 0)
		fprintf(f, "error %d: %s", rc, jobreg_error_last()->message);
	for (i = 0; i < rows.count; i++) {
		const jobreg_run_row *r = &rows.items[i];
		fprintf(f, "%s %s %s %s %s %s %s %s %s %s %s %s %s\n", r->id, r->job_id, r->class_path,
		        r->source_type, r->source_name, r->code_version, r->status, r->started, r->finished,
		        r->result_json, r->error_type, r->error_message, r->host_json);
	}
	fclose(f);
	jr_run_rows_clear(&rows);
	return text;
}

/* The ids of the runs `filter` selects, in order, joined by " ". */
static const char *run_ids(jobreg_storage *st, const jobreg_run_filter *filter)
{
	static char out[4096];
	jobreg_run_list *list = NULL;
	size_t len = 0, i;
	int rc = jobreg_storage_runs(&list, st, filter);

	out[0] = '\0';
	if (rc < 0)
		snprintf(out, sizeof(out), "error %d: %s", rc, jobreg_error_last()->message);
	for (i = 0; i < jobreg_run_list_count(list); i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", i ? " " : "",
		                        jobreg_run_list_id(list, i));
	jobreg_run_list_free(list);
	return out;
}

/* ---- schema 3 -> 4 -------------------------------------------------------- */

/*
 * A file of schema 3 (as 0.3 development builds made it before run
 * records: no jobreg_runs) opened by this library: user_version 4, the
 * records, their enabled flags and the stored load errors kept, and runs
 * stored and read back.
 */
static void test_a_schema_3_file_is_migrated_to_4_keeping_its_records(void)
{
	const char *dir = jr_tmpdir(), *db = db_path();
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	jobreg_storage *st = open_db(db);
	jobreg_record *rec = NULL;
	jobreg_run_row row;
	char records[8192], errors[4096];

	jr_write(dir, "mig.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class One(Job):\n    pass\n"
	         "class Two(Job):\n    class Meta:\n        name = 'Second'\n"
	         "register_jobs(One, Two)\n");
	jr_write(dir, "broken.py", "raise ValueError('not today')\n");
	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	CHECK_OK(jobreg_refresh(NULL, st, snap, NULL));
	CHECK_OK(jobreg_storage_get(&rec, st, "mig.Two"));
	CHECK_OK(jobreg_storage_set_enabled(st, jobreg_record_text(rec, JOBREG_FIELD_ID), 1));
	jobreg_storage_free(st);
	/* Back to schema 3: no run table (its indexes go with it), user_version 3. */
	CHECK_STR(sql(db, "DROP TABLE jobreg_runs"), "");
	CHECK_STR(sql(db, "PRAGMA user_version = 3"), "");
	CHECK_STR(sql(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'jobreg_runs%'"), "0");
	snprintf(records, sizeof(records), "%s", sql(db, "SELECT * FROM jobreg_records ORDER BY id"));
	snprintf(errors, sizeof(errors), "%s",
	         sql(db, "SELECT source_type, source, position, module, type, message "
	                 "FROM jobreg_load_errors ORDER BY position"));
	CHECK_CONTAINS(errors, "broken,ValueError,not today");

	st = open_db(db);
	CHECK_STR(sql(db, "PRAGMA user_version"), "4");
	CHECK_STR(sql(db, "SELECT * FROM jobreg_records ORDER BY id"), records);
	CHECK_STR(sql(db, "SELECT source_type, source, position, module, type, message "
	                  "FROM jobreg_load_errors ORDER BY position"),
	          errors);
	CHECK_STR(sql(db, "SELECT enabled FROM jobreg_records ORDER BY class_path"), "0|1");
	/* The run table has jobreg_run_row's columns, in its order, all TEXT NOT NULL. */
	CHECK_STR(sql(db, "SELECT name, type, \"notnull\", pk FROM pragma_table_info('jobreg_runs') "
	                  "ORDER BY cid"),
	          "id,TEXT,1,1|job_id,TEXT,1,0|class_path,TEXT,1,0|source_type,TEXT,1,0|"
	          "source_name,TEXT,1,0|code_version,TEXT,1,0|status,TEXT,1,0|started,TEXT,1,0|"
	          "finished,TEXT,1,0|result_json,TEXT,1,0|error_type,TEXT,1,0|"
	          "error_message,TEXT,1,0|host_json,TEXT,1,0");
	CHECK_STR(sql(db, "SELECT name, \"desc\" FROM pragma_index_xinfo('jobreg_runs_by_job') "
	                  "WHERE key"),
	          "job_id,0|started,1|id,1");
	CHECK_STR(sql(db, "SELECT name, \"desc\" FROM pragma_index_xinfo('jobreg_runs_by_start') "
	                  "WHERE key"),
	          "started,0|id,0");

	row = run_row("run-1", jobreg_record_text(rec, JOBREG_FIELD_ID), "SUCCESS",
	              "2026-01-31T12:00:00.000000Z");
	CHECK_OK(write_run(st, &row));
	CHECK_STR(run_ids(st, NULL), "run-1");
	jobreg_storage_free(st);
	/* Opened again: nothing more to do, the run is there. */
	st = open_db(db);
	CHECK_STR(sql(db, "PRAGMA user_version"), "4");
	CHECK_STR(sql(db, "SELECT id, job_id, status, result_json FROM jobreg_runs"),
	          sql(db, "SELECT 'run-1', id, 'SUCCESS', '{\"ok\": true}' FROM jobreg_records "
	                  "WHERE class_path = 'mig.Two'"));
	CHECK_STR(run_ids(st, NULL), "run-1");
	jobreg_storage_free(st);
	jobreg_record_free(rec);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

/* ---- the same answers as the memory backend ---------------------------------- */

/*
 * The same writes on memory and SQLite, then every combination of filter
 * and page: the answers agree field by field. The rows test the order:
 * equal start times (then ids decide), ids that are prefixes of others or
 * differ in case only,
 * bytes above 0x7f (after 'z' bytewise, whatever the locale), a run
 * rewritten with its end, and a write that was rolled back.
 */
static void test_runs_read_answers_as_the_memory_backend(void)
{
	static const char *const ids[] = {
		NULL, "a", "a1", "B", "b", "\xc3\xa9t\xc3\xa9", "zz", "gone"
	};
	static const char *const jobs[] = { NULL, "job-1", "job-2", "job-\xc3\xa9" };
	static const char *const statuses[] = { NULL, "STARTED", "SUCCESS", "FAILURE", "REVOKED" };
	static const size_t offsets[] = { 0, 1, 2, 5, 6, 100 };
	static const size_t limits[] = { 0, 1, 2, 3, 100 };
	const jobreg_run_row rows[] = {
		run_row("a", "job-1", "STARTED", "2026-01-31T12:00:00.000000Z"),
		run_row("a1", "job-1", "FAILURE", "2026-01-31T12:00:00.000000Z"),
		run_row("B", "job-2", "SUCCESS", "2026-01-31T12:00:00.000000Z"), /* 'B' < 'a' bytewise */
		run_row("b", "job-2", "REVOKED", "2026-01-31T11:59:59.999999Z"),
		run_row("\xc3\xa9t\xc3\xa9", "job-\xc3\xa9", "SUCCESS", "2026-01-31T12:00:00.000000Z"),
		run_row("zz", "job-1", "SUCCESS", "2026-02-01T00:00:00.000000Z"),
		run_row("a", "job-1", "SUCCESS", "2026-01-31T12:00:00.000000Z"), /* a's end */
		run_row("c", "job-2", "STARTED", ""), /* not started yet: sorts last */
	};
	const jobreg_run_row gone = run_row("gone", "job-1", "STARTED", "2027-01-01T00:00:00.000000Z");
	jobreg_storage *mem = NULL, *lite = open_db(db_path());
	jobreg_storage *both[2];
	size_t i, a, b, c, o, l, compared = 0;
	int k;

	CHECK_OK(jobreg_storage_memory_new(&mem));
	both[0] = mem;
	both[1] = lite;
	for (k = 0; k < 2; k++) {
		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
			CHECK_OK(write_run(both[k], &rows[i]));
		CHECK_OK(jr_storage_begin(both[k], JOBREG_STORAGE_BEGIN_WRITE));
		CHECK_OK(jr_storage_run_write(both[k], &gone));
		CHECK_INT(jr_storage_rollback(both[k], JOBREG_ECANCELED), JOBREG_ECANCELED);
	}
	/* The order itself, not only agreement: newest first, then id descending bytewise. */
	CHECK_STR(run_ids(lite, NULL), "zz \xc3\xa9t\xc3\xa9 a1 a B b c");
	CHECK_STR(run_ids(mem, NULL), "zz \xc3\xa9t\xc3\xa9 a1 a B b c");
	for (a = 0; a < sizeof(ids) / sizeof(ids[0]); a++)
		for (b = 0; b < sizeof(jobs) / sizeof(jobs[0]); b++)
			for (c = 0; c < sizeof(statuses) / sizeof(statuses[0]); c++)
				for (o = 0; o < sizeof(offsets) / sizeof(offsets[0]); o++)
					for (l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
						jobreg_run_filter f = JOBREG_RUN_FILTER_INIT;
						char *from_mem, *from_lite;

						f.id = ids[a];
						f.job_id = jobs[b];
						f.status = statuses[c];
						f.offset = offsets[o];
						f.limit = limits[l];
						from_mem = runs_text(mem, &f);
						from_lite = runs_text(lite, &f);
						if (!from_mem || !from_lite || strcmp(from_mem, from_lite) != 0) {
							fprintf(stderr, "id %s job %s status %s offset %zu limit %zu\n",
							        f.id ? f.id : "-", f.job_id ? f.job_id : "-",
							        f.status ? f.status : "-", f.offset, f.limit);
							CHECK_STR(from_lite, from_mem);
						}
						compared++;
						free(from_mem);
						free(from_lite);
					}
	CHECK_INT(compared, 8 * 4 * 5 * 6 * 5);
	jobreg_storage_free(mem);
	jobreg_storage_free(lite);
}

/* Every field comes back as it was written, the last write of an id winning. */
static void test_a_run_is_kept_field_by_field_and_replaced_by_id(void)
{
	const char *db = db_path();
	jobreg_storage *st = open_db(db);
	jobreg_run_row started = run_row("r-1", "job-1", "STARTED", "2026-01-31T12:00:00.000001Z");
	jobreg_run_row ended = run_row("r-1", "job-1", "FAILURE", "2026-01-31T12:00:00.000001Z");
	jobreg_run_filter f = JOBREG_RUN_FILTER_INIT;
	char *text;

	ended.code_version = "0123456789abcdef0123456789abcdef01234567";
	ended.error_message = "line 1\nline 2 \"quoted\" 'single' %s \\";
	CHECK_OK(write_run(st, &started));
	CHECK_STR(sql(db, "SELECT status, finished FROM jobreg_runs"), "STARTED,");
	CHECK_OK(write_run(st, &ended));
	CHECK_STR(sql(db, "SELECT count(*), status, code_version FROM jobreg_runs"),
	          "1,FAILURE,0123456789abcdef0123456789abcdef01234567");
	f.status = "FAILURE";
	text = runs_text(st, &f);
	CHECK_STR(text, "r-1 job-1 runs.Job local  0123456789abcdef0123456789abcdef01234567 FAILURE "
	                "2026-01-31T12:00:00.000001Z 2026-01-31T12:00:09.000000Z  RuntimeError "
	                "line 1\nline 2 \"quoted\" 'single' %s \\ \n");
	free(text);
	f.status = "STARTED";
	CHECK_STR(run_ids(st, &f), "");
	jobreg_storage_free(st);
}

/* ---- files shared and transactions ------------------------------------------- */

/* Two handles on one file (two processes, as far as SQLite goes) see each other's runs. */
static void test_two_handles_on_one_file_see_each_others_runs(void)
{
	const char *db = db_path();
	jobreg_storage *one = open_db(db), *two = open_db(db);
	jobreg_run_row first = run_row("first", "job-1", "STARTED", "2026-01-31T12:00:00.000000Z");
	jobreg_run_row second = run_row("second", "job-2", "STARTED", "2026-01-31T12:00:01.000000Z");
	jobreg_run_filter f = JOBREG_RUN_FILTER_INIT;

	CHECK_STR(run_ids(two, NULL), "");
	CHECK_OK(write_run(one, &first));
	CHECK_STR(run_ids(two, NULL), "first");
	CHECK_OK(write_run(two, &second));
	first.status = "SUCCESS";
	first.finished = "2026-01-31T12:00:05.000000Z";
	CHECK_OK(write_run(two, &first)); /* the end, stored by the other handle */
	CHECK_STR(run_ids(one, NULL), "second first");
	f.status = "SUCCESS";
	CHECK_STR(run_ids(one, &f), "first");
	f.status = NULL;
	f.job_id = "job-2";
	CHECK_STR(run_ids(one, &f), "second");
	jobreg_storage_free(one);
	jobreg_storage_free(two);
}

/* A run written in a transaction that is rolled back is gone, and a run it
 * rewrote is as before; no other handle ever saw either. */
static void test_a_run_written_and_rolled_back_is_gone(void)
{
	const char *db = db_path();
	jobreg_storage *st = open_db(db), *other = open_db(db);
	jobreg_run_row kept = run_row("kept", "job-1", "STARTED", "2026-01-31T12:00:00.000000Z");
	jobreg_run_row gone = run_row("gone", "job-1", "STARTED", "2026-01-31T12:00:02.000000Z");
	jobreg_run_row rewritten = kept;
	char *before, *after;

	CHECK_OK(write_run(st, &kept));
	before = runs_text(st, NULL);
	rewritten.status = "SUCCESS";
	rewritten.finished = "2026-01-31T12:00:03.000000Z";
	CHECK_OK(jr_storage_begin(st, JOBREG_STORAGE_BEGIN_WRITE));
	CHECK_OK(jr_storage_run_write(st, &gone));
	CHECK_OK(jr_storage_run_write(st, &rewritten));
	CHECK_STR(run_ids(other, NULL), "kept"); /* WAL: the reader does not wait, nor see it */
	CHECK_INT(jr_storage_rollback(st, JOBREG_ESTORAGE), JOBREG_ESTORAGE);
	after = runs_text(st, NULL);
	CHECK_STR(after, before);
	CHECK_STR(run_ids(other, NULL), "kept");
	CHECK_STR(sql(db, "SELECT id, status FROM jobreg_runs"), "kept,STARTED");
	free(before);
	free(after);
	jobreg_storage_free(st);
	jobreg_storage_free(other);
}

/* ---- indexes and failures ----------------------------------------------------- */

/*
 * runs_read's two shapes (one job's runs, everyone's) are answered from an
 * index in order, without sorting: the plan has no temporary B-tree. The
 * queries are the backend's (src/storage_sqlite.c, sqlite_runs_read).
 */
static void test_the_run_queries_read_an_index_in_order(void)
{
	const char *db = db_path();
	const char *plan;

	jobreg_storage_free(open_db(db));
	plan = sql(db, "EXPLAIN QUERY PLAN SELECT * FROM jobreg_runs WHERE 1 AND job_id = 'j' "
	               "ORDER BY started DESC, id DESC LIMIT 10 OFFSET 0");
	CHECK_CONTAINS(plan, "jobreg_runs_by_job");
	CHECK(!strstr(plan, "TEMP B-TREE"));
	plan = sql(db, "EXPLAIN QUERY PLAN SELECT * FROM jobreg_runs WHERE 1 "
	               "ORDER BY started DESC, id DESC LIMIT -1 OFFSET 0");
	CHECK_CONTAINS(plan, "jobreg_runs_by_start");
	CHECK(!strstr(plan, "TEMP B-TREE"));
	plan = sql(db, "EXPLAIN QUERY PLAN SELECT * FROM jobreg_runs WHERE 1 AND id = 'r' "
	               "ORDER BY started DESC, id DESC LIMIT -1 OFFSET 0");
	CHECK_CONTAINS(plan, "sqlite_autoindex_jobreg_runs_1");
}

/* A write or a read that SQLite refuses says which file, and which run. */
static void test_run_failures_name_the_file_and_the_run(void)
{
	const char *db = db_path();
	jobreg_storage *st = open_db(db);
	jobreg_run_row row = run_row("r-9", "job-1", "STARTED", "2026-01-31T12:00:00.000000Z");
	char *text;

	/* Someone else's hand in the file: the table is gone under the open handle. */
	CHECK_STR(sql(db, "DROP TABLE jobreg_runs"), "");
	CHECK_INT(write_run(st, &row), JOBREG_ESTORAGE);
	CHECK_CONTAINS(jobreg_error_last()->message, db);
	CHECK_CONTAINS(jobreg_error_last()->message, "no such table: jobreg_runs");
	CHECK_CONTAINS(jobreg_error_last()->message, "writing run r-9 of runs.Job (status STARTED)");
	text = runs_text(st, NULL);
	CHECK_CONTAINS(text, "error -");
	CHECK_CONTAINS(text, db);
	CHECK_CONTAINS(text, "no such table: jobreg_runs");
	free(text);
	jobreg_storage_free(st);
}

static const struct jr_test tests[] = {
	JR_TEST(a_schema_3_file_is_migrated_to_4_keeping_its_records),
	JR_TEST(runs_read_answers_as_the_memory_backend),
	JR_TEST(a_run_is_kept_field_by_field_and_replaced_by_id),
	JR_TEST(two_handles_on_one_file_see_each_others_runs),
	JR_TEST(a_run_written_and_rolled_back_is_gone),
	JR_TEST(the_run_queries_read_an_index_in_order),
	JR_TEST(run_failures_name_the_file_and_the_run),
};

JR_TEST_MAIN_WITH_LIBRARY(tests)
