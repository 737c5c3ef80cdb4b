/*
 * test_pg_storage.c: the PostgreSQL backend through the public API, against
 * the throw-away cluster of tests/postgresql/cluster.py (JOBREG_PG_URI,
 * PGPASSWORD): schema creation, a second handle on an existing schema, a
 * newer schema refused, every storage operation, git and source state, and
 * connection errors that never show a password. Skipped (77) without a
 * cluster.
 */
#include <jobreg.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../c/harness.h"
#include "../c/loadutil.h"

static const char *uri;

static jobreg_storage *open_schema(const char *schema)
{
	jobreg_storage_postgresql_options o = JOBREG_STORAGE_POSTGRESQL_OPTIONS_INIT;
	jobreg_storage *st = NULL;

	o.schema = schema;
	CHECK_OK(jobreg_storage_postgresql_new(&st, uri, &o));
	return st;
}

/* The first column of the first row of `sql`, in a static buffer. */
static const char *sql1(const char *sql)
{
	static char out[256];
	PGconn *c = PQconnectdb(uri);
	PGresult *res = PQexec(c, sql);

	CHECK(PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK);
	snprintf(out, sizeof(out), "%s", PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	PQfinish(c);
	return out;
}

static void test_a_new_schema_is_created_and_a_second_handle_opens_it(void)
{
	jobreg_storage *a, *b;
	jobreg_record_list *list = NULL;

	sql1("DROP SCHEMA IF EXISTS t_new CASCADE");
	a = open_schema("t_new");
	CHECK_STR(sql1("SELECT version FROM t_new.schema_version"), "2");
	CHECK_STR(sql1("SELECT count(*) FROM pg_tables WHERE schemaname = 't_new'"), "5");
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

static const struct jr_test tests[] = {
	{ "test_a_new_schema_is_created_and_a_second_handle_opens_it",
	  test_a_new_schema_is_created_and_a_second_handle_opens_it },
	{ "test_a_newer_schema_is_refused_and_left_alone",
	  test_a_newer_schema_is_refused_and_left_alone },
	{ "test_bad_arguments_are_refused_naming_them", test_bad_arguments_are_refused_naming_them },
	{ "test_connection_errors_never_show_the_password",
	  test_connection_errors_never_show_the_password },
	{ "test_git_state_is_kept_redacted_across_handles",
	  test_git_state_is_kept_redacted_across_handles },
	{ "test_every_operation_round_trips_through_postgresql",
	  test_every_operation_round_trips_through_postgresql },
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
