/*
 * storage_postgresql.c: the PostgreSQL backend (libpq).
 *
 * The schema is this file's: in a PostgreSQL schema of its own (default
 * "jobreg"), tables records, git_state, source_state, (schema 2)
 * load_errors, (schema 3) runs, and schema_version (one row: the
 * version). Each version's DDL is written out literally below, as the
 * SQLite backend's is, so a field appended later needs an explicit
 * migration. Migrations run in one transaction under an advisory lock, so
 * processes opening a new database at once do not race.
 *
 * Orders are bytewise (strcmp), as the library's: every ORDER BY names
 * COLLATE "C", and the indexes that serve them are built with it, whatever
 * the database's own collation.
 *
 * Concurrency: a write transaction (JOBREG_STORAGE_BEGIN_WRITE) is READ
 * COMMITTED and takes a transaction-level advisory lock of the schema
 * first: writers serialize, and each reads (after the lock) what the
 * previous one committed, so no update is lost and no duplicate record is
 * made. A read transaction is REPEATABLE READ: one consistent snapshot,
 * never blocked by writers. With the lock no serialization failure can
 * happen inside a transaction; `begin` retries the lock after a deadlock
 * or serialization failure, and reconnects once when the connection was
 * lost between transactions (both safe: nothing was done yet).
 *
 * Built without libpq (meson -Dpostgresql=disabled), only the stubs at
 * the end are compiled: the ABI is the same either way.
 */
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jobreg/storage_postgresql.h"
#include "options.h"
#include "util.h"

static const size_t pg_options_sizes[] = {
	JR_SIZE_THROUGH(jobreg_storage_postgresql_options, connect_timeout_s), /* version 1 */
};

int jobreg_storage_postgresql_options_init(jobreg_storage_postgresql_options *opts,
                                           unsigned int version)
{
	static const jobreg_storage_postgresql_options defaults =
		JOBREG_STORAGE_POSTGRESQL_OPTIONS_INIT;

	return jr_options_init(opts, &defaults, pg_options_sizes,
	                       JOBREG_STORAGE_POSTGRESQL_OPTIONS_VERSION, version,
	                       "jobreg_storage_postgresql_options");
}

#ifndef JR_HAVE_LIBPQ

int jobreg_storage_postgresql_new(jobreg_storage **out, const char *conninfo,
                                  const jobreg_storage_postgresql_options *opts)
{
	if (out)
		*out = NULL;
	return jr_error_set(JOBREG_EUNSUPPORTED,
	                    "jobreg_storage_postgresql_new: this libjobreg was built without "
	                    "PostgreSQL (libpq); rebuild it with meson -Dpostgresql=enabled");
}

#else /* JR_HAVE_LIBPQ */

#include <libpq-fe.h>

#include "jobreg/sys/storage.h"
#include "storage_internal.h"

#define SCHEMA_VERSION 3

/* A field added after 0.1 needs its column added by a migration below. */
_Static_assert(JR_FIELD_COUNT == 31, "schema 1 stores exactly the 31 fields of 0.1");

/* Schema 1 (0.3.0): the tables of storage backend version 2. `%1$s` is the
 * quoted schema name. `seq` keeps the order records were first written in,
 * as SQLite's rowid does. */
static const char schema_1[] =
	"CREATE TABLE %1$s.records (\n"
	"  seq bigserial NOT NULL,\n"
	"  id text PRIMARY KEY NOT NULL CHECK (id <> ''),\n"
	"  module_name text NOT NULL,\n"
	"  job_class_name text NOT NULL,\n"
	"  class_path text NOT NULL,\n"
	"  source_type text NOT NULL CHECK (source_type IN ('local', 'git', 'app')),\n"
	"  source text NOT NULL,\n"
	"  \"grouping\" text NOT NULL,\n"
	"  name text NOT NULL,\n"
	"  description text NOT NULL,\n"
	"  installed boolean NOT NULL,\n"
	"  enabled boolean NOT NULL,\n"
	"  hidden boolean NOT NULL,\n"
	"  dryrun_default boolean NOT NULL,\n"
	"  approval_required boolean NOT NULL,\n"
	"  has_sensitive_variables boolean NOT NULL,\n"
	"  soft_time_limit double precision NOT NULL,\n"
	"  time_limit double precision NOT NULL,\n"
	"  task_queues text NOT NULL,\n"
	"  is_singleton boolean NOT NULL,\n"
	"  supports_dryrun boolean NOT NULL,\n"
	"  variables text NOT NULL,\n"
	"  grouping_override boolean NOT NULL,\n"
	"  name_override boolean NOT NULL,\n"
	"  description_override boolean NOT NULL,\n"
	"  hidden_override boolean NOT NULL,\n"
	"  dryrun_default_override boolean NOT NULL,\n"
	"  approval_required_override boolean NOT NULL,\n"
	"  has_sensitive_variables_override boolean NOT NULL,\n"
	"  soft_time_limit_override boolean NOT NULL,\n"
	"  time_limit_override boolean NOT NULL,\n"
	"  is_singleton_override boolean NOT NULL,\n"
	"  UNIQUE (module_name, job_class_name)\n"
	");\n"
	"CREATE TABLE %1$s.git_state (\n"
	"  slug text PRIMARY KEY NOT NULL,\n"
	"  remote_url text NOT NULL,\n"
	"  branch text NOT NULL,\n"
	"  current_head text NOT NULL\n"
	");\n"
	"CREATE TABLE %1$s.source_state (\n"
	"  source_type text NOT NULL,\n"
	"  source text NOT NULL,\n"
	"  state text NOT NULL,\n"
	"  PRIMARY KEY (source_type, source)\n"
	");\n"
	"UPDATE %1$s.schema_version SET version = 1;\n";

/* Schema 1 -> 2 (0.3): each source's load errors, in the order the load
 * reported them (position), replaced by every refresh of the source. */
static const char schema_2[] = "CREATE TABLE %1$s.load_errors (\n"
							   "  source_type text NOT NULL,\n"
							   "  source text NOT NULL,\n"
							   "  position integer NOT NULL,\n"
							   "  module text NOT NULL,\n"
							   "  file text NOT NULL,\n"
							   "  line integer NOT NULL,\n"
							   "  type text NOT NULL,\n"
							   "  message text NOT NULL,\n"
							   "  traceback text NOT NULL,\n"
							   "  \"when\" text NOT NULL,\n"
							   "  PRIMARY KEY (source_type, source, position)\n"
							   ");\n"
							   "UPDATE %1$s.schema_version SET version = 2;\n";

/* Schema 2 -> 3 (0.3): run records (jobreg_run_row, one column per field)
 * and the indexes of the version 3 lookups and lists. The id (primary key)
 * and (module_name, job_class_name) (unique) have theirs since schema 1;
 * lists filter by source and sort as jobreg_storage_list(), runs newest
 * first, all of them alone or of one job. */
static const char schema_3[] =
	"CREATE TABLE %1$s.runs (\n"
	"  id text PRIMARY KEY NOT NULL,\n"
	"  job_id text NOT NULL,\n"
	"  class_path text NOT NULL,\n"
	"  source_type text NOT NULL,\n"
	"  source_name text NOT NULL,\n"
	"  code_version text NOT NULL,\n"
	"  status text NOT NULL,\n"
	"  started text NOT NULL,\n"
	"  finished text NOT NULL,\n"
	"  result_json text NOT NULL,\n"
	"  error_type text NOT NULL,\n"
	"  error_message text NOT NULL,\n"
	"  host_json text NOT NULL\n"
	");\n"
	"CREATE INDEX runs_by_job ON %1$s.runs "
	"(job_id, started COLLATE \"C\" DESC, id COLLATE \"C\" DESC);\n"
	"CREATE INDEX runs_by_start ON %1$s.runs (started COLLATE \"C\" DESC, id COLLATE \"C\" DESC);\n"
	"CREATE INDEX records_by_source ON %1$s.records (source_type, source);\n"
	"CREATE INDEX records_by_listing ON %1$s.records (\"grouping\" COLLATE \"C\", "
	"name COLLATE \"C\", class_path COLLATE \"C\", id COLLATE \"C\");\n"
	"UPDATE %1$s.schema_version SET version = 3;\n";

struct store {
	PGconn *conn;
	char *where;  /* the redacted conninfo, for messages */
	char *schema; /* quoted: "jobreg" */
	long long write_lock, migrate_lock;
	char *sql_select, *sql_upsert, *sql_delete;
	char *sql_by_id, *sql_by_class, *sql_list;
	char *sql_run_write, *sql_runs_read;
	char *sql_git_read, *sql_git_write, *sql_src_read, *sql_src_write, *sql_src_delete;
	char *sql_errors_delete, *sql_errors_insert, *sql_errors_read;
	char *git_values[3]; /* what git_state_read returned last */
	char *source_value;  /* what source_state_read returned last */
	locale_t c_locale;   /* the "C" locale, for the text of reals */
};

/* ---- redacting a conninfo ------------------------------------------ */

/* Append `s` to `b` with a URI's password (user:PASSWORD@ and
 * ?password=...) replaced by "***". */
static void redact_uri(jr_buf *b, const char *s)
{
	const char *auth = strstr(s, "://") + 3;
	size_t auth_len = strcspn(auth, "/?");
	const char *at = NULL, *p, *q;

	for (p = auth; p < auth + auth_len; p++)
		if (*p == '@')
			at = p;
	jr_buf_put(b, s, (size_t)(auth - s));
	if (at && (q = memchr(auth, ':', (size_t)(at - auth)))) {
		jr_buf_put(b, auth, (size_t)(q - auth + 1));
		jr_buf_puts(b, "***");
		p = at;
	} else {
		p = auth;
	}
	/* The rest, with each query parameter password=... masked. */
	while (*p) {
		size_t n = strcspn(p, "?&");
		jr_buf_put(b, p, n);
		p += n;
		if (!*p)
			break;
		jr_buf_putc(b, *p++);
		if (strncmp(p, "password=", 9) == 0) {
			jr_buf_puts(b, "password=***");
			p += 9 + strcspn(p + 9, "&");
		}
	}
}

/* Append the key=value conninfo `s` to `b` with password's value masked. */
static void redact_pairs(jr_buf *b, const char *s)
{
	const char *p = s;

	while (*p) {
		size_t sp = strspn(p, " \t\n\r\f\v"), key_len;
		const char *key, *value;
		int secret;

		jr_buf_put(b, p, sp);
		p += sp;
		if (!*p)
			break;
		key = p;
		key_len = strcspn(p, "= \t\n\r\f\v");
		p += key_len;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=') { /* not a pair: libpq will refuse it; show the word */
			jr_buf_put(b, key, (size_t)(p - key));
			continue;
		}
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		secret = key_len == 8 && strncmp(key, "password", 8) == 0;
		value = p;
		if (*p == '\'') {
			for (p++; *p && *p != '\''; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p)
				p++;
		} else {
			p += strcspn(p, " \t\n\r\f\v");
		}
		jr_buf_put(b, key, key_len);
		jr_buf_putc(b, '=');
		if (secret)
			jr_buf_puts(b, "***");
		else
			jr_buf_put(b, value, (size_t)(p - value));
	}
}

/* The conninfo with its password masked; NULL when out of memory. */
static char *redact_conninfo(const char *conninfo)
{
	jr_buf b = JR_BUF_INIT;

	if (strncmp(conninfo, "postgresql://", 13) == 0 || strncmp(conninfo, "postgres://", 11) == 0)
		redact_uri(&b, conninfo);
	else
		redact_pairs(&b, conninfo);
	if (jr_buf_status(&b) < 0) {
		jr_buf_free(&b);
		return NULL;
	}
	return jr_buf_detach(&b);
}

/* ---- errors ---------------------------------------------------------- */

/* libpq's message without its trailing newline, in `buf`. */
static const char *trimmed(char *buf, size_t size, const char *msg)
{
	size_t n;

	snprintf(buf, size, "%s", msg ? msg : "");
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
}

/* Record the failure of `res` (NULL: of the connection) as JOBREG_ESTORAGE. */
static int pg_error(struct store *s, const PGresult *res, const char *doing)
{
	char msg[1024];
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (PQstatus(s->conn) == CONNECTION_BAD)
		return jr_error_set(JOBREG_ESTORAGE,
		                    "postgresql database %s: the connection was lost while %s: %s",
		                    s->where, doing, trimmed(msg, sizeof(msg), PQerrorMessage(s->conn)));
	if (!primary)
		primary = res ? PQresultErrorMessage(res) : PQerrorMessage(s->conn);
	return jr_error_set(JOBREG_ESTORAGE, "postgresql database %s: %s (SQLSTATE %s) while %s",
	                    s->where, trimmed(msg, sizeof(msg), primary), state ? state : "none",
	                    doing);
}

/* 1 when `res` failed with a serialization failure or a deadlock. */
static int retryable(const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
}

/* Run `sql` (no parameters, no rows wanted). */
static int exec(struct store *s, const char *sql, const char *doing)
{
	PGresult *res = PQexec(s->conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = res ? pg_error(s, res, doing) : jr_error_oom();
	PQclear(res);
	return rc;
}

/* Run `sql` with text parameters; `*out` gets the result (PQclear it). */
static int query(PGresult **out, struct store *s, const char *sql, int n, const char *const *values,
                 const char *doing)
{
	PGresult *res = PQexecParams(s->conn, sql, n, NULL, values, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	*out = NULL;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		int rc = res ? pg_error(s, res, doing) : jr_error_oom();
		PQclear(res);
		return rc;
	}
	*out = res;
	return 0;
}

static int command(struct store *s, const char *sql, int n, const char *const *values,
                   const char *doing)
{
	PGresult *res;
	int rc = query(&res, s, sql, n, values, doing);

	PQclear(res);
	return rc;
}

/* ---- the schema ------------------------------------------------------ */

/* The stored schema version, 0 when there is none yet. */
static int read_version(struct store *s, int *out)
{
	char *sql;
	PGresult *res;
	int rc;

	/* Two steps: a query naming a missing table would fail to plan. */
	sql = jr_asprintf("SELECT to_regclass('%s.schema_version') IS NOT NULL", s->schema);
	if (!sql)
		return JOBREG_ENOMEM;
	rc = query(&res, s, sql, 0, NULL, "reading the schema version");
	free(sql);
	if (rc < 0)
		return rc;
	*out = 0;
	if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
		PQclear(res);
		if (!(sql = jr_asprintf("SELECT coalesce(max(version), 0) FROM %s.schema_version",
		                        s->schema)))
			return JOBREG_ENOMEM;
		rc = query(&res, s, sql, 0, NULL, "reading the schema version");
		free(sql);
		if (rc < 0)
			return rc;
		*out = atoi(PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	return 0;
}

static int refuse_newer(struct store *s, int version)
{
	return jr_error_set(JOBREG_EVERSION,
	                    "postgresql database %s: schema %s has version %d, newer than the "
	                    "version %d this libjobreg knows: use a newer libjobreg with it",
	                    s->where, s->schema, version, SCHEMA_VERSION);
}

static int migrate_locked(struct store *s)
{
	char *sql = jr_asprintf("SELECT pg_advisory_xact_lock(%lld);\n"
	                        "CREATE SCHEMA IF NOT EXISTS %s;\n"
	                        "CREATE TABLE IF NOT EXISTS %s.schema_version (version integer NOT "
	                        "NULL);\n"
	                        "INSERT INTO %s.schema_version SELECT 0 WHERE NOT EXISTS "
	                        "(SELECT 1 FROM %s.schema_version);",
	                        s->migrate_lock, s->schema, s->schema, s->schema, s->schema);
	int version = 0, rc;

	if (!sql)
		return JOBREG_ENOMEM;
	rc = exec(s, sql, "creating the schema");
	free(sql);
	if (rc == 0)
		rc = read_version(s, &version);
	if (rc == 0 && version > SCHEMA_VERSION)
		rc = refuse_newer(s, version);
	if (rc == 0 && version < 1) {
		if (!(sql = jr_asprintf(schema_1, s->schema)))
			return JOBREG_ENOMEM;
		rc = exec(s, sql, "creating the tables of schema version 1");
		free(sql);
	}
	if (rc == 0 && version < 2) {
		if (!(sql = jr_asprintf(schema_2, s->schema)))
			return JOBREG_ENOMEM;
		rc = exec(s, sql, "migrating the schema to version 2");
		free(sql);
	}
	if (rc == 0 && version < 3) {
		if (!(sql = jr_asprintf(schema_3, s->schema)))
			return JOBREG_ENOMEM;
		rc = exec(s, sql, "migrating the schema to version 3");
		free(sql);
	}
	return rc;
}

/* Create the schema when there is none, migrate an older one, refuse a newer one. */
static int ensure_schema(struct store *s)
{
	int version = 0, rc;

	/* First a plain read: a newer schema must not be touched at all, and
	 * a current one needs no lock (nor the right to create anything). */
	if ((rc = read_version(s, &version)) < 0)
		return rc;
	if (version > SCHEMA_VERSION)
		return refuse_newer(s, version);
	if (version == SCHEMA_VERSION)
		return 0;
	if ((rc = exec(s, "BEGIN ISOLATION LEVEL READ COMMITTED", "creating the schema")) < 0)
		return rc;
	rc = migrate_locked(s);
	if (rc == 0)
		rc = exec(s, "COMMIT", "creating the schema");
	if (rc < 0 && PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		PQclear(PQexec(s->conn, "ROLLBACK"));
	return rc;
}

/* ---- statements ------------------------------------------------------ */

static int make_statements(struct store *s)
{
	jr_buf select = JR_BUF_INIT, upsert = JR_BUF_INIT;
	const char *q = s->schema;
	int f;

	jr_buf_puts(&select, "SELECT ");
	jr_buf_printf(&upsert, "INSERT INTO %s.records (", q);
	for (f = 0; f < JR_FIELD_COUNT; f++) {
		jr_buf_printf(&select, "%s%s", f ? ", " : "", jr_record_columns[f]);
		jr_buf_printf(&upsert, "%s%s", f ? ", " : "", jr_record_columns[f]);
	}
	jr_buf_printf(&select, " FROM %s.records", q);
	jr_buf_puts(&upsert, ") VALUES (");
	for (f = 0; f < JR_FIELD_COUNT; f++)
		jr_buf_printf(&upsert, "%s$%d", f ? ", " : "", f + 1);
	/* Not a delete + insert: that would hide another record holding the
	 * same (module_name, job_class_name) instead of failing. */
	jr_buf_puts(&upsert, ") ON CONFLICT (id) DO UPDATE SET ");
	for (f = 1; f < JR_FIELD_COUNT; f++)
		jr_buf_printf(&upsert, "%s%s = excluded.%s", f > 1 ? ", " : "", jr_record_columns[f],
		              jr_record_columns[f]);
	if (jr_buf_status(&select) < 0 || jr_buf_status(&upsert) < 0) {
		jr_buf_free(&select);
		jr_buf_free(&upsert);
		return JOBREG_ENOMEM;
	}
	s->sql_select = jr_asprintf("%s ORDER BY seq", select.ptr);
	s->sql_by_id = jr_asprintf("%s WHERE id = $1", select.ptr);
	s->sql_by_class = jr_asprintf("%s WHERE module_name = $1 AND job_class_name = $2", select.ptr);
	/* A NULL parameter is no condition (folded away when the statement is
	 * planned with its values); LIMIT NULL is no limit. */
	s->sql_list = jr_asprintf(
		"%s WHERE ($1::text IS NULL OR source_type = $1) AND ($2::text IS NULL OR source = $2) "
		"AND ($3::boolean IS NULL OR installed = $3) AND ($4::boolean IS NULL OR enabled = $4) "
		"ORDER BY \"grouping\" COLLATE \"C\", name COLLATE \"C\", class_path COLLATE \"C\", "
		"id COLLATE \"C\" OFFSET $5::bigint LIMIT $6::bigint",
		select.ptr);
	jr_buf_free(&select);
	s->sql_upsert = jr_buf_detach(&upsert);
	s->sql_delete = jr_asprintf("DELETE FROM %s.records WHERE id = $1", q);
	s->sql_run_write = jr_asprintf(
		"INSERT INTO %s.runs (id, job_id, class_path, source_type, source_name, code_version, "
		"status, started, finished, result_json, error_type, error_message, host_json) VALUES "
		"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (id) DO UPDATE SET "
		"job_id = excluded.job_id, class_path = excluded.class_path, "
		"source_type = excluded.source_type, source_name = excluded.source_name, "
		"code_version = excluded.code_version, status = excluded.status, "
		"started = excluded.started, finished = excluded.finished, "
		"result_json = excluded.result_json, error_type = excluded.error_type, "
		"error_message = excluded.error_message, host_json = excluded.host_json",
		q);
	s->sql_runs_read = jr_asprintf(
		"SELECT id, job_id, class_path, source_type, source_name, code_version, status, started, "
		"finished, result_json, error_type, error_message, host_json FROM %s.runs "
		"WHERE ($1::text IS NULL OR id = $1) AND ($2::text IS NULL OR job_id = $2) "
		"AND ($3::text IS NULL OR status = $3) "
		"ORDER BY started COLLATE \"C\" DESC, id COLLATE \"C\" DESC "
		"OFFSET $4::bigint LIMIT $5::bigint",
		q);
	s->sql_git_read =
		jr_asprintf("SELECT remote_url, branch, current_head FROM %s.git_state WHERE slug = $1", q);
	s->sql_git_write =
		jr_asprintf("INSERT INTO %s.git_state (slug, remote_url, branch, current_head) "
	                "VALUES ($1, $2, $3, $4) ON CONFLICT (slug) DO UPDATE SET "
	                "remote_url = excluded.remote_url, branch = excluded.branch, "
	                "current_head = excluded.current_head",
	                q);
	s->sql_src_read =
		jr_asprintf("SELECT state FROM %s.source_state WHERE source_type = $1 AND source = $2", q);
	s->sql_src_write = jr_asprintf("INSERT INTO %s.source_state (source_type, source, state) "
	                               "VALUES ($1, $2, $3) ON CONFLICT (source_type, source) DO "
	                               "UPDATE SET state = excluded.state",
	                               q);
	s->sql_src_delete =
		jr_asprintf("DELETE FROM %s.source_state WHERE source_type = $1 AND source = $2", q);
	s->sql_errors_delete =
		jr_asprintf("DELETE FROM %s.load_errors WHERE source_type = $1 AND source = $2", q);
	s->sql_errors_insert =
		jr_asprintf("INSERT INTO %s.load_errors (source_type, source, position, module, file, "
	                "line, type, message, traceback, \"when\") "
	                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
	                q);
	/* $1/$2 NULL: any type/source. */
	s->sql_errors_read =
		jr_asprintf("SELECT source_type, source, module, file, line, type, message, traceback, "
	                "\"when\" FROM %s.load_errors WHERE ($1::text IS NULL OR source_type = $1) "
	                "AND ($2::text IS NULL OR source = $2) ORDER BY source_type, source, position",
	                q);
	if (!s->sql_select || !s->sql_by_id || !s->sql_by_class || !s->sql_list || !s->sql_upsert ||
	    !s->sql_delete || !s->sql_run_write || !s->sql_runs_read || !s->sql_git_read ||
	    !s->sql_git_write || !s->sql_src_read || !s->sql_src_write || !s->sql_src_delete ||
	    !s->sql_errors_delete || !s->sql_errors_insert || !s->sql_errors_read)
		return JOBREG_ENOMEM;
	return 0;
}

static void clear_git_values(struct store *s)
{
	int i;
	for (i = 0; i < 3; i++) {
		free(s->git_values[i]);
		s->git_values[i] = NULL;
	}
}

static void store_close(void *payload)
{
	struct store *s = payload;

	if (!s)
		return;
	if (s->conn)
		PQfinish(s->conn);
	clear_git_values(s);
	free(s->source_value);
	free(s->sql_select);
	free(s->sql_by_id);
	free(s->sql_by_class);
	free(s->sql_list);
	free(s->sql_upsert);
	free(s->sql_delete);
	free(s->sql_run_write);
	free(s->sql_runs_read);
	free(s->sql_git_read);
	free(s->sql_git_write);
	free(s->sql_src_read);
	free(s->sql_src_write);
	free(s->sql_src_delete);
	free(s->sql_errors_delete);
	free(s->sql_errors_insert);
	free(s->sql_errors_read);
	free(s->schema);
	free(s->where);
	if (s->c_locale != (locale_t)0)
		freelocale(s->c_locale);
	free(s);
}

/* ---- the backend ----------------------------------------------------- */

static int pg_begin(unsigned int flags, void *payload)
{
	struct store *s = payload;
	char sql[128];
	int attempt, rc = 0;

	/* No transaction is open: reconnecting loses nothing. */
	if (PQstatus(s->conn) == CONNECTION_BAD)
		PQreset(s->conn);
	if (PQstatus(s->conn) == CONNECTION_BAD)
		return pg_error(s, NULL, "starting a transaction");
	if (!(flags & JOBREG_STORAGE_BEGIN_WRITE))
		return exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "starting a transaction");
	/* READ COMMITTED: after the lock, every statement sees what the writer
	 * before committed (a snapshot taken before the lock would not). */
	snprintf(sql, sizeof(sql),
	         "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(%lld)",
	         s->write_lock);
	for (attempt = 0; attempt < 3; attempt++) {
		PGresult *res = PQexec(s->conn, sql);
		int failed = PQresultStatus(res) != PGRES_TUPLES_OK;
		int again = failed && res && retryable(res);

		rc = failed ? (res ? pg_error(s, res, "taking the write lock") : jr_error_oom()) : 0;
		PQclear(res);
		if (!failed)
			return 0;
		if (PQtransactionStatus(s->conn) != PQTRANS_IDLE)
			PQclear(PQexec(s->conn, "ROLLBACK"));
		if (!again)
			break;
	}
	return rc;
}

static int pg_commit(void *payload)
{
	return exec(payload, "COMMIT", "committing");
}

static int pg_rollback(void *payload)
{
	struct store *s = payload;

	/* A lost connection has rolled back on the server already. */
	if (PQstatus(s->conn) == CONNECTION_BAD || PQtransactionStatus(s->conn) == PQTRANS_IDLE)
		return 0;
	return exec(s, "ROLLBACK", "rolling back");
}

/* PostgreSQL's float8 text always has a '.', and so must ours: strtod()
 * and printf() follow the host's LC_NUMERIC (',' in de_DE), so both run in
 * the "C" locale, on this thread only. */
static int real_from_text(double *out, struct store *s, const char *text)
{
	locale_t old = uselocale(s->c_locale);
	char *end;

	*out = strtod(text, &end);
	uselocale(old);
	return end != text && *end == '\0' ? 0 : -1;
}

static void real_to_text(char *buf, size_t size, struct store *s, double value)
{
	locale_t old = uselocale(s->c_locale);

	snprintf(buf, size, "%.17g", value);
	uselocale(old);
}

/* Row `row` of a records result as a record; NULL with the error set. */
static jobreg_record *row_to_record(struct store *s, PGresult *res, int row)
{
	jobreg_record *rec = jr_record_new();
	int f, rc = 0;

	if (!rec) {
		jr_error_oom();
		return NULL;
	}
	for (f = 0; f < JR_FIELD_COUNT && rc == 0; f++) {
		const char *v = PQgetvalue(res, row, f);
		switch (jobreg_record_field_kind(f)) {
		case JOBREG_FIELD_KIND_TEXT:
			rc = jobreg_record_set_text(rec, f, v);
			break;
		case JOBREG_FIELD_KIND_BOOL:
			jr_record_set_flag(rec, f, v[0] == 't');
			break;
		case JOBREG_FIELD_KIND_REAL: {
			double d;
			if (real_from_text(&d, s, v) < 0)
				rc = jr_error_set(JOBREG_ESTORAGE, "%s is '%s', not a number",
				                  jobreg_record_field_name(f), v);
			else
				rc = jobreg_record_set_real(rec, f, d);
			break;
		}
		}
	}
	if (rc < 0) {
		if (rc != JOBREG_ENOMEM)
			jr_error_wrap(JOBREG_ESTORAGE,
			              "postgresql database %s: record %s holds a bad value: ", s->where,
			              PQgetvalue(res, row, 0));
		jobreg_record_free(rec);
		return NULL;
	}
	return rec;
}

/* Hand every row of `res` (a records result) to `emit`; clears `res`. */
static int emit_rows(struct store *s, PGresult *res, jobreg_storage_emit_fn emit,
                     void *emit_payload)
{
	int rc = 0, row, rows = PQntuples(res);

	for (row = 0; row < rows && rc == 0; row++) {
		jobreg_record *rec = row_to_record(s, res, row);
		if (!rec)
			rc = jr_error_code() < 0 ? jr_error_code() : JOBREG_ESTORAGE;
		else
			rc = emit(rec, emit_payload);
	}
	PQclear(res);
	return rc;
}

static int pg_read_records(jobreg_storage_emit_fn emit, void *emit_payload, void *payload)
{
	struct store *s = payload;
	PGresult *res;
	int rc;

	if ((rc = query(&res, s, s->sql_select, 0, NULL, "reading the records")) < 0)
		return rc;
	return emit_rows(s, res, emit, emit_payload);
}

/* The one record `sql` selects, as *out; JOBREG_ENOTFOUND when none. */
static int select_one(jobreg_record **out, struct store *s, const char *sql, int n,
                      const char *const *values, const char *doing)
{
	PGresult *res;
	int rc;

	if ((rc = query(&res, s, sql, n, values, doing)) < 0)
		return rc;
	if (PQntuples(res) == 0)
		rc = JOBREG_ENOTFOUND;
	else if (!(*out = row_to_record(s, res, 0)))
		rc = jr_error_code() < 0 ? jr_error_code() : JOBREG_ESTORAGE;
	PQclear(res);
	return rc;
}

static int pg_get_record_by_id(jobreg_record **out, const char *id, void *payload)
{
	const char *values[1] = { id };

	return select_one(out, payload, ((struct store *)payload)->sql_by_id, 1, values,
	                  "reading a record by id");
}

static int pg_get_record_by_class(jobreg_record **out, const char *module_name,
                                  const char *job_class_name, void *payload)
{
	const char *values[2] = { module_name, job_class_name };

	return select_one(out, payload, ((struct store *)payload)->sql_by_class, 2, values,
	                  "reading a record by class");
}

/* OFFSET and LIMIT as bigint text; `limit` NULL (none) for 0 or past bigint. */
static void page_values(const char **offset, const char **limit, char offset_buf[32],
                        char limit_buf[32], size_t off, size_t lim)
{
	/* An offset past bigint matches nothing: as INT64_MAX does. */
	snprintf(offset_buf, 32, "%llu",
	         (unsigned long long)(off <= INT64_MAX ? off : (size_t)INT64_MAX));
	*offset = offset_buf;
	if (lim == 0 || lim > INT64_MAX) {
		*limit = NULL;
	} else {
		snprintf(limit_buf, 32, "%llu", (unsigned long long)lim);
		*limit = limit_buf;
	}
}

/* The filter as parameters (NULL: no condition), so no value is ever quoted. */
static int pg_list_records(jobreg_storage_emit_fn emit, void *emit_payload,
                           const jobreg_record_filter *f, void *payload)
{
	struct store *s = payload;
	const char *values[6];
	char offset[32], limit[32];
	PGresult *res;
	int rc;

	values[0] = f->source_type;
	values[1] = f->source_name;
	values[2] = f->installed == JOBREG_INSTALLED_ALL
	                ? NULL
	                : (f->installed == JOBREG_INSTALLED_YES ? "true" : "false");
	values[3] = f->enabled < 0 ? NULL : (f->enabled ? "true" : "false");
	page_values(&values[4], &values[5], offset, limit, f->offset, f->limit);
	if ((rc = query(&res, s, s->sql_list, 6, values, "listing the records")) < 0)
		return rc;
	return emit_rows(s, res, emit, emit_payload);
}

static int pg_write_record(const jobreg_record *rec, void *payload)
{
	struct store *s = payload;
	const char *values[JR_FIELD_COUNT];
	char reals[JR_FIELD_COUNT][32];
	int f, rc;

	for (f = 0; f < JR_FIELD_COUNT; f++) {
		switch (jobreg_record_field_kind(f)) {
		case JOBREG_FIELD_KIND_TEXT:
			values[f] = jr_record_text(rec, f);
			break;
		case JOBREG_FIELD_KIND_BOOL:
			values[f] = jr_record_flag(rec, f) ? "true" : "false";
			break;
		case JOBREG_FIELD_KIND_REAL:
			real_to_text(reals[f], sizeof(reals[f]), s, jr_record_real(rec, f));
			values[f] = reals[f];
			break;
		}
	}
	rc = command(s, s->sql_upsert, JR_FIELD_COUNT, values, "writing a record");
	if (rc < 0)
		jr_error_wrap(rc, "record %s (%s): ", jr_record_text(rec, JOBREG_FIELD_ID),
		              jr_record_text(rec, JOBREG_FIELD_CLASS_PATH));
	return rc;
}

static int pg_delete_record(const char *id, void *payload)
{
	struct store *s = payload;
	const char *values[1] = { id };

	return command(s, s->sql_delete, 1, values, "deleting a record");
}

static int pg_git_state_read(const char **remote_url, const char **branch,
                             const char **current_head, const char *slug, void *payload)
{
	struct store *s = payload;
	const char *values[1] = { slug };
	PGresult *res;
	int rc, i;

	clear_git_values(s);
	if ((rc = query(&res, s, s->sql_git_read, 1, values, "reading git state")) < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return JOBREG_ENOTFOUND;
	}
	for (i = 0; i < 3 && rc == 0; i++)
		if (!(s->git_values[i] = jr_strdup(PQgetvalue(res, 0, i))))
			rc = JOBREG_ENOMEM;
	PQclear(res);
	if (rc == 0) {
		*remote_url = s->git_values[0];
		*branch = s->git_values[1];
		*current_head = s->git_values[2];
	}
	return rc;
}

static int pg_git_state_write(const char *slug, const char *remote_url, const char *branch,
                              const char *current_head, void *payload)
{
	const char *values[4] = { slug, remote_url, branch, current_head };

	return command(payload, ((struct store *)payload)->sql_git_write, 4, values,
	               "writing git state");
}

static int pg_source_state_read(const char **state, const char *source_type,
                                const char *source_name, void *payload)
{
	struct store *s = payload;
	const char *values[2] = { source_type, source_name };
	PGresult *res;
	int rc;

	free(s->source_value);
	s->source_value = NULL;
	if ((rc = query(&res, s, s->sql_src_read, 2, values, "reading source state")) < 0)
		return rc;
	if (PQntuples(res) == 0)
		rc = JOBREG_ENOTFOUND;
	else if (!(s->source_value = jr_strdup(PQgetvalue(res, 0, 0))))
		rc = JOBREG_ENOMEM;
	else
		*state = s->source_value;
	PQclear(res);
	return rc;
}

static int pg_source_state_write(const char *source_type, const char *source_name,
                                 const char *state, void *payload)
{
	struct store *s = payload;
	const char *values[3] = { source_type, source_name, state };

	return command(s, state ? s->sql_src_write : s->sql_src_delete, state ? 3 : 2, values,
	               "writing source state");
}

static int pg_load_errors_replace(const char *source_type, const char *source_name,
                                  const jobreg_load_error_row *rows, size_t count, void *payload)
{
	struct store *s = payload;
	const char *values[10] = { source_type, source_name };
	char position[32], line[32];
	size_t i;
	int rc;

	rc = command(s, s->sql_errors_delete, 2, values, "deleting load errors");
	for (i = 0; i < count && rc == 0; i++) {
		snprintf(position, sizeof(position), "%zu", i);
		snprintf(line, sizeof(line), "%d", rows[i].line);
		values[2] = position;
		values[3] = rows[i].module;
		values[4] = rows[i].file;
		values[5] = line;
		values[6] = rows[i].type;
		values[7] = rows[i].message;
		values[8] = rows[i].traceback;
		values[9] = rows[i].when;
		rc = command(s, s->sql_errors_insert, 10, values, "storing load errors");
	}
	return rc;
}

static int pg_load_errors_read(jobreg_storage_load_error_emit_fn emit, void *emit_payload,
                               const char *source_type, const char *source_name, void *payload)
{
	struct store *s = payload;
	const char *values[2] = { source_type, source_name };
	PGresult *res;
	int rc, i, n;

	if ((rc = query(&res, s, s->sql_errors_read, 2, values, "reading load errors")) < 0)
		return rc;
	n = PQntuples(res);
	for (i = 0; i < n && rc == 0; i++) {
		jobreg_load_error_row row;
		row.source_type = PQgetvalue(res, i, 0);
		row.source_name = PQgetvalue(res, i, 1);
		row.module = PQgetvalue(res, i, 2);
		row.file = PQgetvalue(res, i, 3);
		row.line = atoi(PQgetvalue(res, i, 4));
		row.type = PQgetvalue(res, i, 5);
		row.message = PQgetvalue(res, i, 6);
		row.traceback = PQgetvalue(res, i, 7);
		row.when = PQgetvalue(res, i, 8);
		rc = emit(&row, emit_payload);
	}
	PQclear(res);
	return rc;
}

static int pg_run_write(const jobreg_run_row *row, void *payload)
{
	struct store *s = payload;
	const char *values[13] = { row->id,          row->job_id,      row->class_path,
		                       row->source_type, row->source_name, row->code_version,
		                       row->status,      row->started,     row->finished,
		                       row->result_json, row->error_type,  row->error_message,
		                       row->host_json };
	int rc, i;

	for (i = 0; i < 13; i++)
		if (!values[i])
			values[i] = ""; /* a row that breaks its contract: kept as "", as SQLite does */
	rc = command(s, s->sql_run_write, 13, values, "storing a run record");

	if (rc < 0)
		jr_error_wrap(rc, "run %s of %s: ", row->id, row->class_path);
	return rc;
}

static int pg_runs_read(jobreg_storage_run_emit_fn emit, void *emit_payload,
                        const jobreg_run_filter *f, void *payload)
{
	struct store *s = payload;
	const char *values[5] = { f->id, f->job_id, f->status };
	char offset[32], limit[32];
	PGresult *res;
	int rc, i, n;

	page_values(&values[3], &values[4], offset, limit, f->offset, f->limit);
	if ((rc = query(&res, s, s->sql_runs_read, 5, values, "reading run records")) < 0)
		return rc;
	n = PQntuples(res);
	for (i = 0; i < n && rc == 0; i++) {
		jobreg_run_row row;
		row.id = PQgetvalue(res, i, 0);
		row.job_id = PQgetvalue(res, i, 1);
		row.class_path = PQgetvalue(res, i, 2);
		row.source_type = PQgetvalue(res, i, 3);
		row.source_name = PQgetvalue(res, i, 4);
		row.code_version = PQgetvalue(res, i, 5);
		row.status = PQgetvalue(res, i, 6);
		row.started = PQgetvalue(res, i, 7);
		row.finished = PQgetvalue(res, i, 8);
		row.result_json = PQgetvalue(res, i, 9);
		row.error_type = PQgetvalue(res, i, 10);
		row.error_message = PQgetvalue(res, i, 11);
		row.host_json = PQgetvalue(res, i, 12);
		rc = emit(&row, emit_payload);
	}
	PQclear(res);
	return rc;
}

static const jobreg_storage_backend pg_backend = {
	.version = 3,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.read_records = pg_read_records,
	.write_record = pg_write_record,
	.delete_record = pg_delete_record,
	.git_state_read = pg_git_state_read,
	.git_state_write = pg_git_state_write,
	.free_payload = store_close,
	.source_state_read = pg_source_state_read,
	.source_state_write = pg_source_state_write,
	.get_record_by_id = pg_get_record_by_id,
	.get_record_by_class = pg_get_record_by_class,
	.list_records = pg_list_records,
	.load_errors_replace = pg_load_errors_replace,
	.load_errors_read = pg_load_errors_read,
	.run_write = pg_run_write,
	.runs_read = pg_runs_read,
};

/* ---- opening --------------------------------------------------------- */

/* A stable 63-bit key for the advisory lock `what` of schema `name`. */
static long long lock_key(const char *name, const char *what)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	const char *parts[3] = { "libjobreg:", name, what };
	int i;

	for (i = 0; i < 3; i++)
		for (const char *p = parts[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return (long long)(h >> 1);
}

static int check_schema_name(const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < n; i++) {
		char c = name[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		         (i > 0 && c >= '0' && c <= '9');
		if (!ok)
			break;
	}
	if (n == 0 || n > 63 || i < n)
		return jr_error_set(JOBREG_EINVAL,
		                    "jobreg_storage_postgresql_new: bad schema name '%s' (letters, "
		                    "digits and '_', not starting with a digit, 1 to 63 bytes)",
		                    name);
	return 0;
}

static int connect_to(struct store *s, const char *conninfo, unsigned int timeout_s)
{
	char timeout[16], msg[1024];
	/* Processed in order, the last value wins: the conninfo's own
	 * connect_timeout and application_name override ours; the encoding is
	 * the library's (records are UTF-8). */
	const char *keys[] = { "connect_timeout", "fallback_application_name", "dbname",
		                   "client_encoding", NULL };
	const char *values[] = { timeout, "libjobreg", conninfo, "UTF8", NULL };

	snprintf(timeout, sizeof(timeout), "%u", timeout_s);
	if (timeout_s == 0)
		keys[0] = "fallback_application_name", values[0] = "libjobreg";
	s->conn = PQconnectdbParams(keys, values, 1);
	if (!s->conn)
		return jr_error_oom();
	if (PQstatus(s->conn) != CONNECTION_OK)
		return jr_error_set(JOBREG_ESTORAGE, "cannot connect to postgresql database %s: %s",
		                    s->where, trimmed(msg, sizeof(msg), PQerrorMessage(s->conn)));
	return exec(s, "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
	            "setting up the connection");
}

int jobreg_storage_postgresql_new(jobreg_storage **out, const char *conninfo,
                                  const jobreg_storage_postgresql_options *opts)
{
	jobreg_storage_postgresql_options o = JOBREG_STORAGE_POSTGRESQL_OPTIONS_INIT;
	const char *schema;
	struct store *s;
	int rc;

	if (!out || !conninfo)
		return jr_error_set(JOBREG_EINVAL, "jobreg_storage_postgresql_new: NULL %s",
		                    out ? "conninfo" : "out");
	*out = NULL;
	rc = jr_options_read(&o, opts, pg_options_sizes, JOBREG_STORAGE_POSTGRESQL_OPTIONS_VERSION,
	                     "jobreg_storage_postgresql_options");
	if (rc < 0)
		return rc;
	schema = o.schema ? o.schema : "jobreg";
	if ((rc = check_schema_name(schema)) < 0)
		return rc;
	if (!(s = calloc(1, sizeof(*s))))
		return jr_error_oom();
	s->write_lock = lock_key(schema, ":write");
	s->migrate_lock = lock_key(schema, ":migrate");
	s->where = redact_conninfo(conninfo);
	s->schema = jr_asprintf("\"%s\"", schema);
	s->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (!s->where || !s->schema || s->c_locale == (locale_t)0) {
		store_close(s);
		return jr_error_oom();
	}
	rc = connect_to(s, conninfo, o.connect_timeout_s);
	if (rc == 0)
		rc = ensure_schema(s);
	if (rc == 0 && (rc = make_statements(s)) < 0)
		jr_error_oom();
	if (rc == 0)
		rc = jobreg_storage_new(out, &pg_backend, s);
	if (rc < 0)
		store_close(s);
	return rc;
}

#endif /* JR_HAVE_LIBPQ */
