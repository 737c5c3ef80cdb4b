/*
 * test_pg_storage.c: the PostgreSQL backend through the public API, against
 * the throw-away cluster of tests/postgresql/cluster.py (JOBREG_PG_URI,
 * PGPASSWORD): schema creation, a second handle on an existing schema, a
 * newer schema refused, the upgrade from schema 2, every storage operation,
 * the version 3 lookups, lists and run records (each compared with the
 * memory backend given the same rows), git and source state, reals under a
 * host locale that writes ',', recorded runs, and connection errors that
 * never show a password. Skipped (77) without a cluster.
 *
 * Linked with the internal library: records and run rows are written
 * through the backend itself (jr_storage_write, jr_storage_run_write), so
 * both backends get exactly the same rows, ids included.
 */
#include <jobreg.h>
#include <libpq-fe.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../c/harness.h"
#include "../c/loadutil.h"
#include "../c/records_fixture.h"
#include "storage_internal.h"

static const char *uri;

static jobreg_storage *open_in(const char *conninfo, const char *schema)
{
	jobreg_storage_postgresql_options o = JOBREG_STORAGE_POSTGRESQL_OPTIONS_INIT;
	jobreg_storage *st = NULL;

	o.schema = schema;
	CHECK_OK(jobreg_storage_postgresql_new(&st, conninfo, &o));
	return st;
}

static jobreg_storage *open_schema(const char *schema)
{
	return open_in(uri, schema);
}

/* The first column of the first row of `sql` on `conninfo`'s database, in
 * a static buffer. */
static const char *sql1_in(const char *conninfo, const char *sql)
{
	static char out[256];
	PGconn *c = PQconnectdb(conninfo);
	PGresult *res = PQexec(c, sql);

	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
	CHECK(PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK);
	snprintf(out, sizeof(out), "%s", PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	PQfinish(c);
	return out;
}

static const char *sql1(const char *sql)
{
	return sql1_in(uri, sql);
}

static void test_a_new_schema_is_created_and_a_second_handle_opens_it(void)
{
	jobreg_storage *a, *b;
	jobreg_record_list *list = NULL;

	sql1("DROP SCHEMA IF EXISTS t_new CASCADE");
	a = open_schema("t_new");
	CHECK_STR(sql1("SELECT version FROM t_new.schema_version"), "3");
	CHECK_STR(sql1("SELECT count(*) FROM pg_tables WHERE schemaname = 't_new'"), "6");
	b = open_schema("t_new");
	CHECK_OK(jobreg_storage_list(&list, b, JOBREG_INSTALLED_ALL));
	CHECK_INT(jobreg_record_list_count(list), 0);
	jobreg_record_list_free(list);
	jobreg_storage_free(a);
	jobreg_storage_free(b);
}

static void test_a_newer_schema_is_refused_and_left_alone(void)
{
	jobreg_storage *st = open_schema("t_newer");

	jobreg_storage_free(st);
	sql1("UPDATE t_newer.schema_version SET version = 99");
	st = NULL;
	CHECK_INT(jobreg_storage_postgresql_new(&st, uri,
	                                        &(jobreg_storage_postgresql_options){
												JOBREG_STORAGE_POSTGRESQL_OPTIONS_VERSION,
												"t_newer", 10 }),
	          JOBREG_EVERSION);
	CHECK(st == NULL);
	CHECK_CONTAINS(jobreg_error_last()->message, "version 99");
	CHECK_STR(sql1("SELECT version FROM t_newer.schema_version"), "99");
}

static void test_bad_arguments_are_refused_naming_them(void)
{
	jobreg_storage *st = NULL;
	jobreg_storage_postgresql_options o = JOBREG_STORAGE_POSTGRESQL_OPTIONS_INIT;

	CHECK_INT(jobreg_storage_postgresql_new(&st, NULL, NULL), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "conninfo");
	o.schema = "x; DROP TABLE y";
	CHECK_INT(jobreg_storage_postgresql_new(&st, uri, &o), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "bad schema name 'x; DROP TABLE y'");
	o.version = 99;
	CHECK_INT(jobreg_storage_postgresql_new(&st, uri, &o), JOBREG_EVERSION);
	CHECK_INT(jobreg_storage_postgresql_options_init(&o, 1), 0);
	CHECK_INT(o.connect_timeout_s, 10);
}

/* Nothing listens on port 1: the connection fails, the message names the
 * database without its password, in both conninfo forms. */
static void test_connection_errors_never_show_the_password(void)
{
	static const char *const infos[] = {
		"postgresql://bob:hunter2pw@127.0.0.1:1/db?connect_timeout=5",
		"postgres://bob@127.0.0.1:1/db?password=hunter2pw&sslmode=disable",
		"host=127.0.0.1 port=1 user=bob password=hunter2pw dbname=db",
		"host=127.0.0.1 port=1 user=bob password = 'hunter2pw with \\' quote' dbname=db",
	};
	size_t i;

	for (i = 0; i < sizeof(infos) / sizeof(infos[0]); i++) {
		jobreg_storage *st = NULL;
		const char *msg;

		CHECK_INT(jobreg_storage_postgresql_new(&st, infos[i], NULL), JOBREG_ESTORAGE);
		msg = jobreg_error_last()->message;
		CHECK_CONTAINS(msg, "cannot connect to postgresql database");
		CHECK_CONTAINS(msg, "127.0.0.1");
		CHECK_CONTAINS(msg, "***");
		CHECK(strstr(msg, "hunter2pw") == NULL);
		CHECK(strstr(msg, "quote") == NULL);
	}
}

static void test_git_state_is_kept_redacted_across_handles(void)
{
	jobreg_storage *a = open_schema("t_git"), *b = open_schema("t_git");
	char *url = NULL, *branch = NULL, *head = NULL;

	CHECK_OK(jobreg_storage_git_state_set(a, "repo", "https://bob:t0ken@example.invalid/r.git",
	                                      "main", "1111"));
	CHECK_OK(jobreg_storage_git_state_set(a, "repo", "https://bob:t0ken@example.invalid/r.git",
	                                      "main", "2222"));
	CHECK(strstr(sql1("SELECT remote_url FROM t_git.git_state"), "t0ken") == NULL);
	CHECK_OK(jobreg_storage_git_state_get(&url, &branch, &head, b, "repo"));
	CHECK_CONTAINS(url, "example.invalid/r.git");
	CHECK_STR(branch, "main");
	CHECK_STR(head, "2222");
	CHECK_INT(jobreg_storage_git_state_get(&url, NULL, NULL, b, "other"), JOBREG_ENOTFOUND);
	jobreg_free(url);
	jobreg_free(branch);
	jobreg_free(head);
	jobreg_storage_free(a);
	jobreg_storage_free(b);
}

/* Refresh, then every host operation, read back through a second handle. */
static void test_every_operation_round_trips_through_postgresql(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	jobreg_storage *a, *b;
	jobreg_refresh_result *res = NULL;
	jobreg_record_list *list = NULL;
	jobreg_record *rec = NULL;
	char *id;
	size_t n;

	sql1("DROP SCHEMA IF EXISTS t_ops CASCADE");
	jr_write_seed_jobs_root(dir);
	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	a = open_schema("t_ops");
	b = open_schema("t_ops");
	CHECK_OK(jobreg_refresh(&res, a, snap, NULL));
	n = jobreg_refresh_result_created_count(res);
	CHECK(n > 0);
	jobreg_refresh_result_free(res);
	CHECK_OK(jobreg_refresh(&res, b, snap, NULL));
	CHECK_INT(jobreg_refresh_result_writes(res), 0);
	CHECK_INT(jobreg_refresh_result_unchanged(res), n);
	jobreg_refresh_result_free(res);

	CHECK_OK(jobreg_storage_list(&list, b, JOBREG_INSTALLED_YES));
	CHECK_INT(jobreg_record_list_count(list), n);
	id = strdup(jobreg_record_text(jobreg_record_list_get(list, 0), JOBREG_FIELD_ID));
	jobreg_record_list_free(list);

	CHECK_OK(jobreg_storage_set_enabled(a, id, 1));
	CHECK_OK(jobreg_storage_override_text(a, id, JOBREG_FIELD_DESCRIPTION, "edited é"));
	CHECK_OK(jobreg_storage_override_real(a, id, JOBREG_FIELD_TIME_LIMIT, 12.5));
	CHECK_OK(jobreg_storage_get(&rec, b, id));
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_ENABLED), 1);
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_DESCRIPTION), "edited é");
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_DESCRIPTION_OVERRIDE), 1);
	CHECK(jobreg_record_real(rec, JOBREG_FIELD_TIME_LIMIT) == 12.5);
	jobreg_record_free(rec);
	/* A refresh keeps the host's edits. */
	CHECK_OK(jobreg_refresh(NULL, b, snap, NULL));
	CHECK_OK(jobreg_storage_get(&rec, a, id));
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_DESCRIPTION), "edited é");
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_ENABLED), 1);
	jobreg_record_free(rec);
	CHECK_OK(jobreg_storage_override_clear(a, id, JOBREG_FIELD_DESCRIPTION));
	CHECK_INT(jobreg_storage_delete(a, id, 0), JOBREG_ESTATE); /* installed, not forced */
	CHECK_OK(jobreg_storage_delete(a, id, 1));
	CHECK_INT(jobreg_storage_get(&rec, b, id), JOBREG_ENOTFOUND);
	/* The next refresh makes it again, with a new id. */
	CHECK_OK(jobreg_refresh(&res, b, snap, NULL));
	CHECK_INT(jobreg_refresh_result_created_count(res), 1);
	jobreg_refresh_result_free(res);
	CHECK(atoi(sql1("SELECT count(*) FROM t_ops.records")) == (int)n);
	free(id);
	jobreg_storage_free(a);
	jobreg_storage_free(b);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

/* ---- version 3: the same rows in memory and in PostgreSQL ------------ */

/* 0, or -1 (with a note) when the server refuses `sql`. */
static int sql_try(const char *conninfo, const char *sql)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *res = PQexec(c, sql);
	int ok = PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		fprintf(stderr, "note: %s: %s", sql, PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
	return ok ? 0 : -1;
}

/* A database whose own collation (ICU en-US) sorts "alpha" before "Alpha"
 * and "é" before "f": there only COLLATE "C" gives strcmp's order. Without
 * ICU in the server, the cluster's "C" database. */
static const char *collating_uri(void)
{
	static char out[1024];
	const char *slash = strrchr(uri, '/');

	if (out[0])
		return out;
	CHECK(slash != NULL);
	sql_try(uri, "DROP DATABASE IF EXISTS jobreg_icu");
	if (!slash || sql_try(uri, "CREATE DATABASE jobreg_icu TEMPLATE template0 LOCALE_PROVIDER "
	                           "icu ICU_LOCALE 'en-US' LOCALE 'C'") < 0) {
		fprintf(stderr, "note: no ICU collation: orders are checked in a \"C\" database only\n");
		snprintf(out, sizeof(out), "%s", uri);
		return out;
	}
	snprintf(out, sizeof(out), "%.*s/jobreg_icu", (int)(slash - uri), uri);
	/* The premise: this database's own order is not strcmp's. */
	CHECK_STR(sql1_in(out, "SELECT string_agg(x, ' ' ORDER BY x) FROM (VALUES ('B'), ('a')) v(x)"),
	          "a B");
	return out;
}

/* Write `recs` through the storage's backend, in one transaction. */
static void put_records(jobreg_storage *st, jobreg_record *const *recs, size_t n)
{
	size_t i;
	int rc = jr_storage_begin(st, JOBREG_STORAGE_BEGIN_WRITE);

	CHECK_OK(rc);
	if (rc < 0)
		return;
	for (i = 0; i < n && rc == 0; i++)
		rc = jr_storage_write(st, recs[i]);
	CHECK_OK(rc < 0 ? jr_storage_rollback(st, rc) : jr_storage_commit(st));
}

#define MIXED_COUNT 14

/* Records of every source type, installed or not, enabled or not, whose
 * groupings, names, class paths and ids sort otherwise in a natural-language
 * collation; the last two share grouping, name and class path (told apart
 * by id alone). Reals that binary cannot hold exactly. */
static void mixed_records(jobreg_record *recs[MIXED_COUNT])
{
	static const struct {
		const char *id, *type, *source, *module, *cls, *grouping, *name;
		int installed, enabled;
	} rows[MIXED_COUNT] = {
		{ "id-01", "local", "", "alpha_jobs", "Zed", "alpha", "Beta", 1, 0 },
		{ "id-02", "local", "", "alpha_jobs", "Yak", "alpha", "beta", 1, 1 },
		{ "id-03", "local", "", "alpha_jobs", "Xu", "alpha", "Ébène", 1, 0 },
		{ "id-04", "local", "", "alpha_jobs", "Wa", "alpha", "far", 0, 0 },
		{ "id-05", "local", "", "upper_jobs", "Ab", "Alpha", "same", 1, 1 },
		{ "id-06", "local", "", "upper_jobs", "aa", "Alpha", "same", 1, 0 },
		{ "id-07", "local", "", "upper_jobs", "BB", "Alpha", "same", 0, 1 },
		{ "id-08", "git", "repo-one", "repo_one.jobs", "Sync", "Repo", "Sync", 1, 1 },
		{ "id-09", "git", "repo-one", "repo_one.jobs", "sync2", "Repo", "sync", 1, 0 },
		{ "id-10", "git", "Repo-Two", "repo_two.jobs", "Sync", "Repo", "Sync", 1, 0 },
		{ "id-11", "app", "pgapp", "pgapp.jobs", "Tidy", "apps", "Tidy", 1, 1 },
		{ "id-12", "app", "pgapp", "pgapp.jobs", "tidy2", "apps", "tidy", 0, 0 },
		{ "tie-a", "local", "", "tie_one", "T", "tie", "tie", 1, 0 },
		{ "Tie-B", "local", "", "tie_two", "T", "tie", "tie", 1, 0 },
	};
	int i;

	for (i = 0; i < MIXED_COUNT; i++) {
		recs[i] = make_record(rows[i].id, rows[i].type, rows[i].source, rows[i].module, rows[i].cls,
		                      rows[i].name, rows[i].installed, rows[i].enabled);
		CHECK_OK(jobreg_record_set_text(recs[i], JOBREG_FIELD_GROUPING, rows[i].grouping));
		CHECK_OK(jobreg_record_set_text(recs[i], JOBREG_FIELD_DESCRIPTION, "d 'é' \"q\""));
		CHECK_OK(jobreg_record_set_real(recs[i], JOBREG_FIELD_SOFT_TIME_LIMIT, 0.1 * (i + 1)));
		CHECK_OK(
			jobreg_record_set_real(recs[i], JOBREG_FIELD_TIME_LIMIT, 1e-7 * i + 1e300 * (i == 3)));
		if (i >= 12)
			CHECK_OK(jobreg_record_set_text(recs[i], JOBREG_FIELD_CLASS_PATH, "tie.T"));
	}
}

static void free_records(jobreg_record *recs[], size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		jobreg_record_free(recs[i]);
}

/* Text growing by appends; abort on a failed allocation (a test). */
struct text {
	char *p;
	size_t len;
};

static void text_add(struct text *t, const char *s)
{
	size_t n = strlen(s);
	char *p = realloc(t->p, t->len + n + 2);

	if (!p)
		abort();
	t->p = p;
	memcpy(p + t->len, s, n);
	t->len += n;
	p[t->len++] = '\n';
	p[t->len] = '\0';
}

/* Every field of every listed record (JSON, one a line), or the error. */
static char *list_text(jobreg_storage *st, const jobreg_record_filter *f)
{
	struct text t = { NULL, 0 };
	jobreg_record_list *list = NULL;
	size_t i;
	int rc = jobreg_storage_list_filtered(&list, st, f);

	if (rc < 0) {
		text_add(&t, jobreg_error_last()->message);
		return t.p;
	}
	text_add(&t, "");
	for (i = 0; i < jobreg_record_list_count(list); i++) {
		char *json = NULL;
		CHECK_OK(jobreg_record_to_json(&json, jobreg_record_list_get(list, i)));
		text_add(&t, json ? json : "(none)");
		jobreg_free(json);
	}
	jobreg_record_list_free(list);
	return t.p;
}

/* The ids of a list, joined by spaces. */
static const char *list_ids(jobreg_storage *st, const jobreg_record_filter *f)
{
	static char out[1024];
	jobreg_record_list *list = NULL;
	size_t i, len = 0;

	out[0] = '\0';
	CHECK_OK(jobreg_storage_list_filtered(&list, st, f));
	for (i = 0; i < jobreg_record_list_count(list); i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", i ? " " : "",
		                        jobreg_record_text(jobreg_record_list_get(list, i),
		                                           JOBREG_FIELD_ID));
	jobreg_record_list_free(list);
	return out;
}

static void test_lists_filter_sort_and_page_as_the_memory_backend(void)
{
	static const char *const types[] = { NULL, "local", "git", "app" };
	static const char *const sources[] = { NULL, "", "repo-one", "pgapp", "REPO-ONE" };
	static const jobreg_installed_filter installed[] = { JOBREG_INSTALLED_ALL, JOBREG_INSTALLED_YES,
		                                                 JOBREG_INSTALLED_NO };
	static const int enabled[] = { -1, 0, 1 };
	static const size_t pages[][2] = { { 0, 0 },        { 0, 1 },       { 1, 2 },  { 2, 0 },
		                               { 5, 5 },        { 13, 0 },      { 14, 0 }, { 100, 1 },
		                               { 0, SIZE_MAX }, { SIZE_MAX, 1 } };
	const char *db = collating_uri();
	jobreg_record *recs[MIXED_COUNT];
	jobreg_storage *mem = NULL, *pg;
	size_t a, b, c, d, e, compared = 0;

	sql1_in(db, "DROP SCHEMA IF EXISTS t_list CASCADE");
	pg = open_in(db, "t_list");
	CHECK_OK(jobreg_storage_memory_new(&mem));
	mixed_records(recs);
	put_records(mem, recs, MIXED_COUNT);
	put_records(pg, recs, MIXED_COUNT);
	free_records(recs, MIXED_COUNT);

	/* strcmp's order: "Alpha" < "Repo" < "alpha"; "Beta" < "beta" < "far"
	 * < "Ébène"; "...Ab" < "...BB" < "...aa"; "Tie-B" < "tie-a". */
	CHECK_STR(list_ids(pg, NULL), "id-05 id-07 id-06 id-08 id-10 id-09 id-01 id-02 id-04 id-03 "
	                              "id-11 id-12 Tie-B tie-a");
	for (a = 0; a < 4; a++)
		for (b = 0; b < 5; b++)
			for (c = 0; c < 3; c++)
				for (d = 0; d < 3; d++)
					for (e = 0; e < sizeof(pages) / sizeof(pages[0]); e++) {
						jobreg_record_filter f = JOBREG_RECORD_FILTER_INIT;
						char *want, *got;

						f.source_type = types[a];
						f.source_name = sources[b];
						f.installed = installed[c];
						f.enabled = enabled[d];
						f.offset = pages[e][0];
						f.limit = pages[e][1];
						want = list_text(mem, &f);
						got = list_text(pg, &f);
						if (strcmp(want, got) != 0)
							fprintf(stderr,
							        "filter source_type=%s source_name=%s installed=%d "
							        "enabled=%d offset=%zu limit=%zu:\n",
							        f.source_type ? f.source_type : "NULL",
							        f.source_name ? f.source_name : "NULL", (int)f.installed,
							        f.enabled, f.offset, f.limit);
						CHECK_STR(got, want);
						compared++;
						free(want);
						free(got);
					}
	CHECK_INT(compared, 4 * 5 * 3 * 3 * 10);
	jobreg_storage_free(mem);
	jobreg_storage_free(pg);
}

/* Every ref `jobreg_storage_get` is asked, on both backends: same answer. */
static void test_get_by_id_and_by_class_answer_as_the_memory_backend(void)
{
	static const char *const others[] = { "alpha_jobs.Nope", "upper_jobs.AB",      "nodot",
		                                  "tie.T",           "tie_one.T",          "ID-01",
		                                  "pgapp.jobs.Tidy", "repo_one.jobs.sync2" };
	const char *db = collating_uri();
	jobreg_record *recs[MIXED_COUNT], *rec = NULL;
	jobreg_storage *mem = NULL, *pg;
	char refs[2 * MIXED_COUNT + 8][128];
	size_t i, n = 0;
	int rc;

	sql1_in(db, "DROP SCHEMA IF EXISTS t_get CASCADE");
	pg = open_in(db, "t_get");
	CHECK_OK(jobreg_storage_memory_new(&mem));
	mixed_records(recs);
	put_records(mem, recs, MIXED_COUNT);
	put_records(pg, recs, MIXED_COUNT);
	for (i = 0; i < MIXED_COUNT; i++) {
		snprintf(refs[n++], sizeof(refs[0]), "%s", jobreg_record_text(recs[i], JOBREG_FIELD_ID));
		snprintf(refs[n++], sizeof(refs[0]), "%s.%s",
		         jobreg_record_text(recs[i], JOBREG_FIELD_MODULE_NAME),
		         jobreg_record_text(recs[i], JOBREG_FIELD_JOB_CLASS_NAME));
	}
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		snprintf(refs[n++], sizeof(refs[0]), "%s", others[i]);
	free_records(recs, MIXED_COUNT);

	for (i = 0; i < n; i++) {
		jobreg_record *m = NULL, *p = NULL;
		int rm = jobreg_storage_get(&m, mem, refs[i]), rp = jobreg_storage_get(&p, pg, refs[i]);
		char *jm = NULL, *jp = NULL;

		if (rm != rp)
			fprintf(stderr, "ref '%s'\n", refs[i]);
		CHECK_INT(rp, rm);
		if (m && p) {
			CHECK_OK(jobreg_record_to_json(&jm, m));
			CHECK_OK(jobreg_record_to_json(&jp, p));
			CHECK_STR(jp, jm);
		}
		jobreg_free(jm);
		jobreg_free(jp);
		jobreg_record_free(m);
		jobreg_record_free(p);
	}
	CHECK_OK(jobreg_storage_get(&rec, pg, "upper_jobs.aa"));
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_ID), "id-06");
	jobreg_record_free(rec);
	rec = NULL;
	CHECK_INT(jobreg_storage_get(&rec, pg, "alpha_jobs.Nope"), JOBREG_ENOTFOUND);
	CHECK(rec == NULL);

	/* The backend's own lookups: ENOTFOUND, no error recorded. */
	CHECK_OK(jr_storage_begin(pg, 0));
	CHECK_INT(jr_storage_get_by_id(&rec, pg, "id-99"), JOBREG_ENOTFOUND);
	CHECK_INT(jr_storage_get_by_class_path(&rec, pg, "alpha_jobs.Nope"), JOBREG_ENOTFOUND);
	CHECK(rec == NULL);
	CHECK_OK(jr_storage_get_by_class_path(&rec, pg, "repo_two.jobs.Sync"));
	CHECK_STR(rec ? jobreg_record_text(rec, JOBREG_FIELD_ID) : "", "id-10");
	jobreg_record_free(rec);
	rec = NULL;
	CHECK_OK(jr_storage_commit(pg));

	/* A record that cannot be read (a NaN time limit) breaks reading every
	 * record, not a lookup of another, nor a list that filters it out in
	 * the database. */
	sql1_in(db, "UPDATE t_get.records SET time_limit = 'NaN' WHERE id = 'id-04'");
	rc = jobreg_storage_get(&rec, pg, "id-04");
	CHECK_INT(rc, JOBREG_ESTORAGE);
	CHECK_CONTAINS(jobreg_error_last()->message, "record id-04 holds a bad value");
	CHECK_CONTAINS(jobreg_error_last()->message, "time_limit");
	CHECK_OK(jobreg_storage_get(&rec, pg, "id-02"));
	jobreg_record_free(rec);
	rec = NULL;
	CHECK_OK(jobreg_storage_get(&rec, pg, "alpha_jobs.Yak"));
	jobreg_record_free(rec);
	{
		jobreg_record_filter f = JOBREG_RECORD_FILTER_INIT;
		jobreg_record_list *list = NULL;

		CHECK_INT(jobreg_storage_list(&list, pg, JOBREG_INSTALLED_ALL), JOBREG_ESTORAGE);
		f.installed = JOBREG_INSTALLED_YES;
		CHECK_STR(list_ids(pg, &f), "id-05 id-06 id-08 id-10 id-09 id-01 id-02 id-03 id-11 "
		                            "Tie-B tie-a");
	}
	jobreg_storage_free(mem);
	jobreg_storage_free(pg);
}

/* ---- run records ------------------------------------------------------ */

static jobreg_run_row run_row(const char *id, const char *job_id, const char *status,
                              const char *started, const char *finished)
{
	jobreg_run_row row;
	int failed = strcmp(status, JOBREG_RUN_FAILURE) == 0;

	row.id = id;
	row.job_id = job_id;
	row.class_path = strcmp(job_id, "job-A") == 0 ? "m.A" : "pkg.m.B";
	row.source_type = strcmp(job_id, "job-A") == 0 ? "local" : "git";
	row.source_name = strcmp(job_id, "job-A") == 0 ? "" : "repo";
	row.code_version = strcmp(job_id, "job-A") == 0 ? "fp-0123" : "c0ffee";
	row.status = status;
	row.started = started;
	row.finished = finished;
	row.result_json = strcmp(status, JOBREG_RUN_SUCCEEDED) == 0 ? "{\"n\": 1, \"s\": \"é\"}" : "";
	row.error_type = failed ? "ValueError" : "";
	row.error_message = failed ? "bad 'input' é" : "";
	row.host_json = failed ? "{\"worker\": \"w1\"}" : "";
	return row;
}

/* Store `rows` through the backend, in one transaction. */
static void put_runs(jobreg_storage *st, const jobreg_run_row *rows, size_t n)
{
	size_t i;
	int rc = jr_storage_begin(st, JOBREG_STORAGE_BEGIN_WRITE);

	CHECK_OK(rc);
	if (rc < 0)
		return;
	for (i = 0; i < n && rc == 0; i++)
		rc = jr_storage_run_write(st, &rows[i]);
	CHECK_OK(rc < 0 ? jr_storage_rollback(st, rc) : jr_storage_commit(st));
}

/* Every field of every run jobreg_storage_runs() lists, or the error. */
static char *runs_text(jobreg_storage *st, const jobreg_run_filter *f)
{
	struct text t = { NULL, 0 };
	jobreg_run_list *list = NULL;
	size_t i;

	if (jobreg_storage_runs(&list, st, f) < 0) {
		text_add(&t, jobreg_error_last()->message);
		return t.p;
	}
	text_add(&t, "");
	for (i = 0; i < jobreg_run_list_count(list); i++) {
		char line[2048];
		snprintf(line, sizeof(line), "%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s",
		         jobreg_run_list_id(list, i), jobreg_run_list_job_id(list, i),
		         jobreg_run_list_class_path(list, i), jobreg_run_list_source_type(list, i),
		         jobreg_run_list_source(list, i), jobreg_run_list_code_version(list, i),
		         jobreg_run_list_status(list, i), jobreg_run_list_started(list, i),
		         jobreg_run_list_finished(list, i), jobreg_run_list_result_json(list, i),
		         jobreg_run_list_error_type(list, i), jobreg_run_list_error_message(list, i),
		         jobreg_run_list_host_json(list, i));
		text_add(&t, line);
	}
	jobreg_run_list_free(list);
	return t.p;
}

/* The ids jobreg_storage_runs() lists, joined by spaces. */
static const char *run_ids(jobreg_storage *st, const jobreg_run_filter *f)
{
	static char out[1024];
	jobreg_run_list *list = NULL;
	size_t i, len = 0;

	out[0] = '\0';
	CHECK_OK(jobreg_storage_runs(&list, st, f));
	for (i = 0; i < jobreg_run_list_count(list); i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", i ? " " : "",
		                        jobreg_run_list_id(list, i));
	jobreg_run_list_free(list);
	return out;
}

#define T(hh) "2026-01-01T" hh ":00:00.000000Z"

static void test_runs_are_stored_filtered_and_ordered_as_the_memory_backend(void)
{
	static const char *const ids[] = { NULL, "run-2", "tie-a", "nope" };
	static const char *const jobs[] = { NULL, "job-A", "job-B", "job-C" };
	static const char *const statuses[] = { NULL, JOBREG_RUN_STARTED, JOBREG_RUN_SUCCEEDED,
		                                    JOBREG_RUN_FAILURE, JOBREG_RUN_REVOKED };
	static const size_t pages[][2] = { { 0, 0 }, { 0, 1 }, { 1, 2 },        { 2, 0 },
		                               { 6, 0 }, { 9, 3 }, { 0, SIZE_MAX }, { SIZE_MAX, 1 } };
	const char *db = collating_uri();
	const jobreg_run_row rows[] = {
		run_row("run-1", "job-A", JOBREG_RUN_SUCCEEDED, T("10"), T("10")),
		run_row("run-2", "job-B", JOBREG_RUN_FAILURE, T("11"), T("11")),
		run_row("Tie-B", "job-A", JOBREG_RUN_STARTED, T("12"), ""),
		run_row("tie-a", "job-A", JOBREG_RUN_SUCCEEDED, T("12"), T("13")),
		run_row("run-5", "job-B", JOBREG_RUN_REVOKED, T("09"), T("09")),
		run_row("run-6", "job-A", JOBREG_RUN_STARTED, T("23"), ""),
	};
	jobreg_run_row ended = run_row("run-6", "job-A", JOBREG_RUN_SUCCEEDED, T("23"), T("23"));
	jobreg_run_row gone = run_row("run-7", "job-A", JOBREG_RUN_STARTED, T("23"), "");
	jobreg_run_filter f = JOBREG_RUN_FILTER_INIT;
	jobreg_storage *mem = NULL, *pg, *other;
	jr_run_rows inside = { NULL, 0, 0 };
	size_t a, b, c, d, compared = 0;
	char *text;
	int rc;

	sql1_in(db, "DROP SCHEMA IF EXISTS t_runs CASCADE");
	pg = open_in(db, "t_runs");
	other = open_in(db, "t_runs");
	CHECK_OK(jobreg_storage_memory_new(&mem));
	put_runs(mem, rows, sizeof(rows) / sizeof(rows[0]));
	put_runs(pg, rows, sizeof(rows) / sizeof(rows[0]));

	/* Newest first; the same start: the greater id (bytewise) first. */
	CHECK_STR(run_ids(other, NULL), "run-6 tie-a Tie-B run-2 run-1 run-5");
	/* Written again when it ends: replaced, every field as given. */
	put_runs(mem, &ended, 1);
	put_runs(pg, &ended, 1);
	f.id = "run-6";
	text = runs_text(other, &f);
	CHECK_STR(text, "\nrun-6|job-A|m.A|local||fp-0123|SUCCESS|2026-01-01T23:00:00.000000Z|"
	                "2026-01-01T23:00:00.000000Z|{\"n\": 1, \"s\": \"é\"}|||\n");
	free(text);
	CHECK_STR(sql1_in(db, "SELECT count(*) FROM t_runs.runs"), "6");

	for (a = 0; a < 4; a++)
		for (b = 0; b < 4; b++)
			for (c = 0; c < 5; c++)
				for (d = 0; d < sizeof(pages) / sizeof(pages[0]); d++) {
					char *want, *got;

					f = (jobreg_run_filter)JOBREG_RUN_FILTER_INIT;
					f.id = ids[a];
					f.job_id = jobs[b];
					f.status = statuses[c];
					f.offset = pages[d][0];
					f.limit = pages[d][1];
					want = runs_text(mem, &f);
					got = runs_text(pg, &f);
					if (strcmp(want, got) != 0)
						fprintf(stderr, "filter id=%s job_id=%s status=%s offset=%zu limit=%zu:\n",
						        f.id ? f.id : "NULL", f.job_id ? f.job_id : "NULL",
						        f.status ? f.status : "NULL", f.offset, f.limit);
					CHECK_STR(got, want);
					compared++;
					free(want);
					free(got);
				}
	CHECK_INT(compared, 4 * 4 * 5 * 8);

	/* A run written in a transaction that rolls back is gone. */
	f = (jobreg_run_filter)JOBREG_RUN_FILTER_INIT;
	f.id = "run-7";
	CHECK_OK(jr_storage_begin(pg, JOBREG_STORAGE_BEGIN_WRITE));
	CHECK_OK(jr_storage_run_write(pg, &gone));
	rc = jr_storage_runs_read(&inside, pg, &f);
	CHECK_OK(rc);
	CHECK_INT(inside.count, 1);
	jr_run_rows_clear(&inside);
	CHECK_INT(jr_storage_rollback(pg, JOBREG_ESTORAGE), JOBREG_ESTORAGE);
	CHECK_STR(run_ids(pg, &f), "");
	CHECK_STR(run_ids(other, &f), "");
	CHECK_STR(sql1_in(db, "SELECT count(*) FROM t_runs.runs"), "6");

	jobreg_storage_free(mem);
	jobreg_storage_free(pg);
	jobreg_storage_free(other);
}

/* ---- schema 2 -> 3 ---------------------------------------------------- */

static void test_a_schema_2_database_is_upgraded_in_place_keeping_its_records(void)
{
	jobreg_record *recs[MIXED_COUNT];
	jobreg_storage *mem = NULL, *st;
	jobreg_run_row row = run_row("run-1", "id-02", JOBREG_RUN_STARTED, T("10"), "");
	char *want, *got;

	sql1("DROP SCHEMA IF EXISTS t_up CASCADE");
	st = open_schema("t_up");
	CHECK_OK(jobreg_storage_memory_new(&mem));
	mixed_records(recs);
	put_records(mem, recs, MIXED_COUNT);
	put_records(st, recs, MIXED_COUNT);
	free_records(recs, MIXED_COUNT);
	jobreg_storage_free(st);
	/* Back to what schema 2 was: no runs, no indexes of schema 3. */
	sql1("DROP TABLE t_up.runs; DROP INDEX t_up.records_by_source, t_up.records_by_listing; "
	     "UPDATE t_up.schema_version SET version = 2");
	CHECK_STR(sql1("SELECT count(*) FROM pg_tables WHERE schemaname = 't_up'"), "5");

	st = open_schema("t_up");
	CHECK_STR(sql1("SELECT version FROM t_up.schema_version"), "3");
	CHECK_STR(sql1("SELECT count(*) FROM pg_tables WHERE schemaname = 't_up'"), "6");
	CHECK_STR(sql1("SELECT string_agg(indexname, ' ' ORDER BY indexname) FROM pg_indexes WHERE "
	               "schemaname = 't_up' AND indexname NOT LIKE '%pkey' AND indexname NOT LIKE "
	               "'%key'"),
	          "records_by_listing records_by_source runs_by_job runs_by_start");
	want = list_text(mem, NULL);
	got = list_text(st, NULL);
	CHECK_STR(got, want);
	free(want);
	free(got);
	put_runs(st, &row, 1);
	CHECK_STR(run_ids(st, NULL), "run-1");
	jobreg_storage_free(st);
	jobreg_storage_free(mem);
}

/* ---- recorded runs through the public API ----------------------------- */

struct seen {
	jobreg_storage *other;
	int calls;
	size_t count;
	char id[64], status[16], started[64], finished[64];
};

/* The job's first log line: what another handle sees while it runs. */
static void see_the_run(int level, const char *level_name, const char *message,
                        const char *extra_json, void *payload)
{
	struct seen *s = payload;
	jobreg_run_list *list = NULL;

	(void)level;
	(void)level_name;
	(void)message;
	(void)extra_json;
	if (s->calls++)
		return;
	CHECK_OK(jobreg_storage_runs(&list, s->other, NULL));
	s->count = jobreg_run_list_count(list);
	if (s->count) {
		snprintf(s->id, sizeof(s->id), "%s", jobreg_run_list_id(list, 0));
		snprintf(s->status, sizeof(s->status), "%s", jobreg_run_list_status(list, 0));
		snprintf(s->started, sizeof(s->started), "%s", jobreg_run_list_started(list, 0));
		snprintf(s->finished, sizeof(s->finished), "%s", jobreg_run_list_finished(list, 0));
	}
	jobreg_run_list_free(list);
}

static void test_jobreg_run_records_started_then_success_in_postgresql(void)
{
	const char *dir = jr_tmpdir(), *path = "device_jobs.CleanupDevices";
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_run_filter f = JOBREG_RUN_FILTER_INIT;
	jobreg_run_result *res = NULL;
	jobreg_run_list *list = NULL;
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	jobreg_storage *a, *b;
	jobreg_record *rec = NULL;
	struct seen seen;
	char id[64] = "", run_id[64] = "", want[160];

	memset(&seen, 0, sizeof(seen));
	sql1("DROP SCHEMA IF EXISTS t_run CASCADE");
	jr_write_seed_jobs_root(dir);
	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	a = open_schema("t_run");
	b = open_schema("t_run");
	CHECK_OK(jobreg_refresh(NULL, a, snap, NULL));
	CHECK_OK(jobreg_storage_get(&rec, a, path));
	if (rec)
		snprintf(id, sizeof(id), "%s", jobreg_record_text(rec, JOBREG_FIELD_ID));
	jobreg_record_free(rec);
	CHECK_OK(jobreg_storage_set_enabled(a, id, 1));

	seen.other = b;
	opts.log = see_the_run;
	opts.log_payload = &seen;
	opts.run_storage = a;
	CHECK_OK(jobreg_run(&res, reg, a, path, &opts));
	CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_SUCCESS);
	CHECK_STR(jobreg_run_result_record_error(res), "");
	snprintf(run_id, sizeof(run_id), "%s", jobreg_run_result_run_id(res));
	jobreg_run_result_free(res);
	res = NULL;
	CHECK_INT(strlen(run_id), 36); /* a UUID */
	/* While it ran, another handle saw it STARTED. */
	CHECK(seen.calls > 0);
	CHECK_INT(seen.count, 1);
	CHECK_STR(seen.id, run_id);
	CHECK_STR(seen.status, JOBREG_RUN_STARTED);
	CHECK_STR(seen.finished, "");
	/* Then its end. */
	CHECK_OK(jobreg_storage_runs(&list, b, NULL));
	CHECK_INT(jobreg_run_list_count(list), 1);
	if (jobreg_run_list_count(list) == 1) {
		CHECK_STR(jobreg_run_list_id(list, 0), run_id);
		CHECK_STR(jobreg_run_list_job_id(list, 0), id);
		CHECK_STR(jobreg_run_list_class_path(list, 0), path);
		CHECK_STR(jobreg_run_list_source_type(list, 0), "local");
		CHECK_STR(jobreg_run_list_source(list, 0), "");
		CHECK_STR(jobreg_run_list_code_version(list, 0),
		          jobreg_job_code_version(job_at(snap, path)));
		CHECK(strlen(jobreg_run_list_code_version(list, 0)) > 0);
		CHECK_STR(jobreg_run_list_status(list, 0), JOBREG_RUN_SUCCEEDED);
		CHECK_STR(jobreg_run_list_started(list, 0), seen.started);
		CHECK(strcmp(jobreg_run_list_finished(list, 0), seen.started) >= 0);
		CHECK_STR(jobreg_run_list_error_type(list, 0), "");
	}
	jobreg_run_list_free(list);
	snprintf(want, sizeof(want), "SUCCESS %s", id);
	CHECK_STR(sql1("SELECT status || ' ' || job_id FROM t_run.runs"), want);

	/* A stored id is refused; a host's own id is kept. */
	opts.log = NULL;
	opts.run_id = run_id;
	CHECK_INT(jobreg_run(&res, reg, a, path, &opts), JOBREG_EEXISTS);
	CHECK(res == NULL);
	opts.run_id = "host-task-1";
	CHECK_OK(jobreg_run(&res, reg, a, path, &opts));
	CHECK_STR(jobreg_run_result_run_id(res), "host-task-1");
	jobreg_run_result_free(res);
	f.job_id = id;
	snprintf(want, sizeof(want), "host-task-1 %s", run_id);
	CHECK_STR(run_ids(b, &f), want); /* newest first */

	jobreg_storage_free(a);
	jobreg_storage_free(b);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

/* ---- reals and the host's locale -------------------------------------- */

/* A host in a locale that writes "12,5" (de_DE, built into a temporary
 * LOCPATH): reals still reach the server as 12.5 and come back as 12.5. */
static void test_reals_keep_their_point_under_a_comma_locale(void)
{
	const char *dir = jr_tmpdir();
	char cmd[4096], shown[32];
	jobreg_storage *a, *b;
	jobreg_record *rec, *got = NULL;

	snprintf(cmd, sizeof(cmd), "localedef -i de_DE -f UTF-8 '%s/de_DE.UTF-8' >/dev/null 2>&1", dir);
	if (system(cmd) == -1)
		fprintf(stderr, "note: localedef could not run\n");
	setenv("LOCPATH", dir, 1);
	if (!setlocale(LC_NUMERIC, "de_DE.UTF-8")) {
		fprintf(stderr, "note: no de_DE locale (localedef, Debian's locales): skipped\n");
		unsetenv("LOCPATH");
		return;
	}
	snprintf(shown, sizeof(shown), "%.1f", 12.5);
	CHECK_STR(shown, "12,5"); /* the premise */

	sql1("DROP SCHEMA IF EXISTS t_locale CASCADE");
	a = open_schema("t_locale");
	b = open_schema("t_locale");
	rec = make_record("id-l", "local", "", "m", "C", "N", 1, 0);
	CHECK_OK(jobreg_record_set_real(rec, JOBREG_FIELD_SOFT_TIME_LIMIT, 12.5));
	CHECK_OK(jobreg_record_set_real(rec, JOBREG_FIELD_TIME_LIMIT, 0.1));
	put_records(a, &rec, 1);
	jobreg_record_free(rec);
	CHECK_STR(sql1("SELECT soft_time_limit || ' ' || time_limit FROM t_locale.records"),
	          "12.5 0.1");
	CHECK_OK(jobreg_storage_get(&got, b, "id-l"));
	CHECK(got && jobreg_record_real(got, JOBREG_FIELD_SOFT_TIME_LIMIT) == 12.5);
	CHECK(got && jobreg_record_real(got, JOBREG_FIELD_TIME_LIMIT) == 0.1);
	jobreg_record_free(got);
	got = NULL;
	CHECK_OK(jobreg_storage_override_real(a, "id-l", JOBREG_FIELD_TIME_LIMIT, 2.25));
	CHECK_OK(jobreg_storage_get(&got, b, "m.C"));
	CHECK(got && jobreg_record_real(got, JOBREG_FIELD_TIME_LIMIT) == 2.25);
	jobreg_record_free(got);
	jobreg_storage_free(a);
	jobreg_storage_free(b);
	setlocale(LC_NUMERIC, "C");
	unsetenv("LOCPATH");
}

static const struct jr_test tests[] = {
	JR_TEST(a_new_schema_is_created_and_a_second_handle_opens_it),
	JR_TEST(a_newer_schema_is_refused_and_left_alone),
	JR_TEST(bad_arguments_are_refused_naming_them),
	JR_TEST(connection_errors_never_show_the_password),
	JR_TEST(git_state_is_kept_redacted_across_handles),
	JR_TEST(every_operation_round_trips_through_postgresql),
	JR_TEST(lists_filter_sort_and_page_as_the_memory_backend),
	JR_TEST(get_by_id_and_by_class_answer_as_the_memory_backend),
	JR_TEST(runs_are_stored_filtered_and_ordered_as_the_memory_backend),
	JR_TEST(a_schema_2_database_is_upgraded_in_place_keeping_its_records),
	JR_TEST(jobreg_run_records_started_then_success_in_postgresql),
	JR_TEST(reals_keep_their_point_under_a_comma_locale),
};

int main(int argc, char **argv)
{
	int rc;

	uri = getenv("JOBREG_PG_URI");
	if (!uri) {
		fprintf(stderr,
		        "SKIP: JOBREG_PG_URI is not set (run through tests/postgresql/cluster.py)\n");
		return 77;
	}
	if (jobreg_init(NULL) < 0) {
		fprintf(stderr, "jobreg_init: %s\n", jobreg_error_last()->message);
		return 99;
	}
	rc = jr_test_run(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
	jobreg_shutdown();
	return rc;
}
