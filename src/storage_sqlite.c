/*
 * storage_sqlite.c: the SQLite backend.
 *
 * The schema is this file's: tables jobreg_records, jobreg_git_state,
 * (schema 2) jobreg_source_state, (schema 3) jobreg_load_errors and
 * (schema 4) jobreg_runs, versioned with PRAGMA user_version. Each schema is
 * written out literally below, as the history it is (not made from
 * src/job_fields.h), so that a field appended to records later needs an
 * explicit migration. A file of an older schema is migrated when opened
 * (tests/c/test_sqlite_migrate_020.c opens a file made by 0.2.0 itself).
 * The statements that read and write records name their columns from
 * src/job_fields.h (every column quoted); tests/c/test_storage_sqlite.c
 * checks that the schema a new file gets has those very columns, in order.
 *
 * Concurrency: WAL mode (readers never block the writer), a busy timeout,
 * and write transactions that take the write lock at BEGIN (IMMEDIATE), so
 * two processes' read-modify-write transactions serialize instead of one
 * overwriting the other's update.
 */
#include <errno.h>
#include <stdint.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jobreg/storage.h"
#include "options.h"
#include "storage_internal.h"
#include "util.h"

#define SCHEMA_VERSION 4

/* A field added after 0.1 needs its column added by a migration below (and a
 * test that the migrated schema has it): docs/job-fields.md. */
_Static_assert(JR_FIELD_COUNT == 31, "schema 1 stores exactly the 31 fields of 0.1");

static const char schema_1[] =
	"CREATE TABLE IF NOT EXISTS jobreg_records (\n"
	"  id TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),\n"
	"  module_name TEXT NOT NULL,\n"
	"  job_class_name TEXT NOT NULL,\n"
	"  class_path TEXT NOT NULL,\n"
	"  source_type TEXT NOT NULL CHECK (source_type IN ('local', 'git', 'app')),\n"
	"  source TEXT NOT NULL,\n"
	"  \"grouping\" TEXT NOT NULL,\n"
	"  name TEXT NOT NULL,\n"
	"  description TEXT NOT NULL,\n"
	"  installed INTEGER NOT NULL,\n"
	"  enabled INTEGER NOT NULL,\n"
	"  hidden INTEGER NOT NULL,\n"
	"  dryrun_default INTEGER NOT NULL,\n"
	"  approval_required INTEGER NOT NULL,\n"
	"  has_sensitive_variables INTEGER NOT NULL,\n"
	"  soft_time_limit REAL NOT NULL,\n"
	"  time_limit REAL NOT NULL,\n"
	"  task_queues TEXT NOT NULL,\n"
	"  is_singleton INTEGER NOT NULL,\n"
	"  supports_dryrun INTEGER NOT NULL,\n"
	"  variables TEXT NOT NULL,\n"
	"  grouping_override INTEGER NOT NULL,\n"
	"  name_override INTEGER NOT NULL,\n"
	"  description_override INTEGER NOT NULL,\n"
	"  hidden_override INTEGER NOT NULL,\n"
	"  dryrun_default_override INTEGER NOT NULL,\n"
	"  approval_required_override INTEGER NOT NULL,\n"
	"  has_sensitive_variables_override INTEGER NOT NULL,\n"
	"  soft_time_limit_override INTEGER NOT NULL,\n"
	"  time_limit_override INTEGER NOT NULL,\n"
	"  is_singleton_override INTEGER NOT NULL,\n"
	"  UNIQUE (module_name, job_class_name)\n"
	");\n"
	"CREATE TABLE IF NOT EXISTS jobreg_git_state (\n"
	"  slug TEXT PRIMARY KEY NOT NULL,\n"
	"  remote_url TEXT NOT NULL,\n"
	"  branch TEXT NOT NULL,\n"
	"  current_head TEXT NOT NULL\n"
	");\n"
	"PRAGMA user_version = 1;\n";

/* Schema 1 -> 2: what jobreg_registry_sync() keeps per source (0.2). */
static const char schema_2[] = "CREATE TABLE IF NOT EXISTS jobreg_source_state (\n"
							   "  source_type TEXT NOT NULL,\n"
							   "  source TEXT NOT NULL,\n"
							   "  state TEXT NOT NULL,\n"
							   "  PRIMARY KEY (source_type, source)\n"
							   ");\n"
							   "PRAGMA user_version = 2;\n";

/* Schema 2 -> 3 (0.3): indexes for the version 3 lookups and lists. The id
 * (primary key) and (module_name, job_class_name) (unique) have theirs
 * since schema 1; lists filter by source and sort as jobreg_storage_list().
 * And each source's load errors, in the order the load reported them
 * (position), replaced by every refresh of the source. */
static const char schema_3[] =
	"CREATE INDEX IF NOT EXISTS jobreg_records_by_source ON jobreg_records (source_type, source);\n"
	"CREATE INDEX IF NOT EXISTS jobreg_records_by_listing ON jobreg_records "
	"(\"grouping\", name, class_path, id);\n"
	"CREATE TABLE IF NOT EXISTS jobreg_load_errors (\n"
	"  source_type TEXT NOT NULL,\n"
	"  source TEXT NOT NULL,\n"
	"  position INTEGER NOT NULL,\n"
	"  module TEXT NOT NULL,\n"
	"  file TEXT NOT NULL,\n"
	"  line INTEGER NOT NULL,\n"
	"  type TEXT NOT NULL,\n"
	"  message TEXT NOT NULL,\n"
	"  traceback TEXT NOT NULL,\n"
	"  \"when\" TEXT NOT NULL,\n"
	"  PRIMARY KEY (source_type, source, position)\n"
	");\n"
	"PRAGMA user_version = 3;\n";

/* Schema 3 -> 4 (0.3): run records, the columns of jobreg_run_row. TEXT
 * compares with BINARY, bytewise as jr_run_row_compare(). One index serves
 * a job's runs newest first, the other the newest runs of every job (read
 * backwards). */
static const char schema_4[] = "CREATE TABLE IF NOT EXISTS jobreg_runs (\n"
							   "  id TEXT PRIMARY KEY NOT NULL,\n"
							   "  job_id TEXT NOT NULL,\n"
							   "  class_path TEXT NOT NULL,\n"
							   "  source_type TEXT NOT NULL,\n"
							   "  source_name TEXT NOT NULL,\n"
							   "  code_version TEXT NOT NULL,\n"
							   "  status TEXT NOT NULL,\n"
							   "  started TEXT NOT NULL,\n"
							   "  finished TEXT NOT NULL,\n"
							   "  result_json TEXT NOT NULL,\n"
							   "  error_type TEXT NOT NULL,\n"
							   "  error_message TEXT NOT NULL,\n"
							   "  host_json TEXT NOT NULL\n"
							   ");\n"
							   "CREATE INDEX IF NOT EXISTS jobreg_runs_by_job ON jobreg_runs "
							   "(job_id, started DESC, id DESC);\n"
							   "CREATE INDEX IF NOT EXISTS jobreg_runs_by_start ON jobreg_runs "
							   "(started, id);\n"
							   "PRAGMA user_version = 4;\n";

/* The columns of jobreg_runs in jobreg_run_row order (run_write binds and
 * runs_read reads them by this position). */
#define RUN_COLUMNS                                                                     \
	"id, job_id, class_path, source_type, source_name, code_version, status, started, " \
	"finished, result_json, error_type, error_message, host_json"
#define RUN_COLUMN_COUNT 13

struct store {
	sqlite3 *db;
	char *path;
	unsigned int busy_timeout_ms;
	sqlite3_stmt *select_records, *upsert_record, *delete_record;
	sqlite3_stmt *select_by_id, *select_by_class;
	char *select_columns; /* "SELECT <every record column> FROM jobreg_records" */
	sqlite3_stmt *select_git, *upsert_git;
	sqlite3_stmt *select_source, *upsert_source, *delete_source;
	sqlite3_stmt *delete_errors, *insert_error;
	sqlite3_stmt *upsert_run;
	char *git_values[3]; /* what git_state_read returned last */
	char *source_value;  /* what source_state_read returned last */
};

/* 1 when SQLite's last I/O error came from a full disk or quota. */
static int disk_full(struct store *s)
{
	int err = sqlite3_system_errno(s->db);

	return err == ENOSPC || err == EDQUOT;
}

/* Record SQLite's last error on `s->db` as JOBREG_ESTORAGE. */
static int sql_error(struct store *s, const char *doing)
{
	int code = sqlite3_extended_errcode(s->db);

	if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
		return jr_error_set(JOBREG_ESTORAGE,
		                    "sqlite database %s is locked by another connection "
		                    "(waited %u ms) while %s",
		                    s->path, s->busy_timeout_ms, doing);
	/* SQLite says "database or disk is full" or, for a failed write,
	 * "disk I/O error": say which, and what the host can do. */
	if ((code & 0xff) == SQLITE_FULL || ((code & 0xff) == SQLITE_IOERR && disk_full(s)))
		return jr_error_set(JOBREG_ESTORAGE,
		                    "sqlite database %s: the disk is full (or the database reached its "
		                    "size limit) while %s: free some space and try again",
		                    s->path, doing);
	return jr_error_set(JOBREG_ESTORAGE, "sqlite database %s: %s while %s", s->path,
	                    sqlite3_errmsg(s->db), doing);
}

static int exec(struct store *s, const char *sql, const char *doing)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sql_error(s, doing);
	return 0;
}

static int user_version(struct store *s, int *out)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK)
		return sql_error(s, "reading the schema version");
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
		return sql_error(s, "reading the schema version");
	return 0;
}

static int refuse_newer(struct store *s, int version)
{
	return jr_error_set(JOBREG_EVERSION,
	                    "sqlite database %s has schema version %d, newer than the version %d "
	                    "this libjobreg knows: use a newer libjobreg with this file",
	                    s->path, version, SCHEMA_VERSION);
}

/* Create the schema when the file has none, migrate an older one, refuse a newer one. */
static int ensure_schema(struct store *s)
{
	int version = 0, rc;

	/* First a plain read: a newer file must not be touched at all. */
	if ((rc = user_version(s, &version)) < 0)
		return rc;
	if (version > SCHEMA_VERSION)
		return refuse_newer(s, version);
	if (version == SCHEMA_VERSION)
		return 0;
	/* Another process may be creating it right now: decide under the lock. */
	if ((rc = exec(s, "BEGIN IMMEDIATE", "creating the schema")) < 0)
		return rc;
	if ((rc = user_version(s, &version)) == 0) {
		if (version > SCHEMA_VERSION)
			rc = refuse_newer(s, version);
		if (rc == 0 && version < 1)
			rc = exec(s, schema_1, "creating the schema");
		if (rc == 0 && version < 2)
			rc = exec(s, schema_2, "migrating the schema to version 2");
		if (rc == 0 && version < 3)
			rc = exec(s, schema_3, "migrating the schema to version 3");
		if (rc == 0 && version < 4)
			rc = exec(s, schema_4, "migrating the schema to version 4");
	}
	if (rc == 0)
		rc = exec(s, "COMMIT", "creating the schema");
	if (rc < 0 && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int set_wal(struct store *s)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL) != SQLITE_OK)
		return sql_error(s, "switching to WAL mode");
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	/* A file system without shared memory may refuse WAL: the answer then
	 * names the mode kept, which still works, only with less concurrency. */
	if (rc != SQLITE_ROW)
		return sql_error(s, "switching to WAL mode");
	return 0;
}

static int prepare(struct store *s, sqlite3_stmt **stmt, const char *sql)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, stmt, NULL) != SQLITE_OK)
		return sql_error(s, "preparing a statement");
	return 0;
}

static int prepare_all(struct store *s)
{
	jr_buf select = JR_BUF_INIT, upsert = JR_BUF_INIT;
	int f, rc;

	jr_buf_puts(&select, "SELECT ");
	jr_buf_puts(&upsert, "INSERT INTO jobreg_records (");
	for (f = 0; f < JR_FIELD_COUNT; f++) {
		jr_buf_printf(&select, "%s%s", f ? ", " : "", jr_record_columns[f]);
		jr_buf_printf(&upsert, "%s%s", f ? ", " : "", jr_record_columns[f]);
	}
	jr_buf_puts(&select, " FROM jobreg_records");
	if (jr_buf_status(&select) == 0)
		s->select_columns = jr_strdup(select.ptr); /* checked below */
	jr_buf_puts(&select, " ORDER BY rowid");
	jr_buf_puts(&upsert, ") VALUES (");
	for (f = 0; f < JR_FIELD_COUNT; f++)
		jr_buf_printf(&upsert, "%s?%d", f ? ", " : "", f + 1);
	/* An upsert, not INSERT OR REPLACE: that would silently delete another
	 * record holding the same (module_name, job_class_name). */
	jr_buf_puts(&upsert, ") ON CONFLICT (id) DO UPDATE SET ");
	for (f = 1; f < JR_FIELD_COUNT; f++)
		jr_buf_printf(&upsert, "%s%s = excluded.%s", f > 1 ? ", " : "", jr_record_columns[f],
		              jr_record_columns[f]);
	rc = jr_buf_status(&select);
	if (rc == 0)
		rc = jr_buf_status(&upsert);
	if (rc == 0 && !s->select_columns)
		rc = jr_error_oom();
	if (rc == 0)
		rc = prepare(s, &s->select_records, select.ptr);
	if (rc == 0)
		rc = prepare(s, &s->upsert_record, upsert.ptr);
	if (rc == 0)
		rc = prepare(s, &s->delete_record, "DELETE FROM jobreg_records WHERE id = ?1");
	if (rc == 0) {
		char *sql = jr_asprintf("%s WHERE id = ?1", s->select_columns);
		rc = sql ? prepare(s, &s->select_by_id, sql) : JOBREG_ENOMEM;
		free(sql);
	}
	if (rc == 0) {
		char *sql = jr_asprintf("%s WHERE module_name = ?1 AND job_class_name = ?2",
		                        s->select_columns);
		rc = sql ? prepare(s, &s->select_by_class, sql) : JOBREG_ENOMEM;
		free(sql);
	}
	if (rc == 0)
		rc = prepare(
			s, &s->select_git,
			"SELECT remote_url, branch, current_head FROM jobreg_git_state WHERE slug = ?1");
	if (rc == 0)
		rc = prepare(s, &s->upsert_git,
		             "INSERT INTO jobreg_git_state (slug, remote_url, branch, current_head) "
		             "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (slug) DO UPDATE SET "
		             "remote_url = excluded.remote_url, branch = excluded.branch, "
		             "current_head = excluded.current_head");
	if (rc == 0)
		rc =
			prepare(s, &s->select_source,
		            "SELECT state FROM jobreg_source_state WHERE source_type = ?1 AND source = ?2");
	if (rc == 0)
		rc = prepare(s, &s->upsert_source,
		             "INSERT INTO jobreg_source_state (source_type, source, state) "
		             "VALUES (?1, ?2, ?3) ON CONFLICT (source_type, source) DO UPDATE SET "
		             "state = excluded.state");
	if (rc == 0)
		rc = prepare(s, &s->delete_source,
		             "DELETE FROM jobreg_source_state WHERE source_type = ?1 AND source = ?2");
	if (rc == 0)
		rc = prepare(s, &s->delete_errors,
		             "DELETE FROM jobreg_load_errors WHERE source_type = ?1 AND source = ?2");
	if (rc == 0)
		rc = prepare(s, &s->insert_error,
		             "INSERT INTO jobreg_load_errors (source_type, source, position, module, "
		             "file, line, type, message, traceback, \"when\") "
		             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
	if (rc == 0)
		rc = prepare(s, &s->upsert_run,
		             "INSERT INTO jobreg_runs (" RUN_COLUMNS ") "
		             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
		             "ON CONFLICT (id) DO UPDATE SET job_id = excluded.job_id, "
		             "class_path = excluded.class_path, source_type = excluded.source_type, "
		             "source_name = excluded.source_name, code_version = excluded.code_version, "
		             "status = excluded.status, started = excluded.started, "
		             "finished = excluded.finished, result_json = excluded.result_json, "
		             "error_type = excluded.error_type, error_message = excluded.error_message, "
		             "host_json = excluded.host_json");
	jr_buf_free(&select);
	jr_buf_free(&upsert);
	return rc;
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
	sqlite3_finalize(s->select_records);
	sqlite3_finalize(s->upsert_record);
	sqlite3_finalize(s->delete_record);
	sqlite3_finalize(s->select_by_id);
	sqlite3_finalize(s->select_by_class);
	free(s->select_columns);
	sqlite3_finalize(s->select_git);
	sqlite3_finalize(s->upsert_git);
	sqlite3_finalize(s->select_source);
	sqlite3_finalize(s->upsert_source);
	sqlite3_finalize(s->delete_source);
	sqlite3_finalize(s->delete_errors);
	sqlite3_finalize(s->insert_error);
	sqlite3_finalize(s->upsert_run);
	sqlite3_close(s->db);
	clear_git_values(s);
	free(s->source_value);
	free(s->path);
	free(s);
}

/* ---- the backend ------------------------------------------------- */

static int sqlite_begin(unsigned int flags, void *payload)
{
	struct store *s = payload;

	return exec(s, (flags & JOBREG_STORAGE_BEGIN_WRITE) ? "BEGIN IMMEDIATE" : "BEGIN",
	            "starting a transaction");
}

static int sqlite_commit(void *payload)
{
	return exec(payload, "COMMIT", "committing");
}

static int sqlite_rollback(void *payload)
{
	struct store *s = payload;

	/* SQLite may have rolled back already (after some failed COMMITs). */
	if (sqlite3_get_autocommit(s->db))
		return 0;
	return exec(s, "ROLLBACK", "rolling back");
}

/* A row of select_records as a record; NULL with the error set. */
static jobreg_record *row_to_record(struct store *s, sqlite3_stmt *stmt)
{
	jobreg_record *rec = jr_record_new();
	int f, rc = 0;

	if (!rec)
		return NULL;
	for (f = 0; f < JR_FIELD_COUNT && rc == 0; f++) {
		switch (jobreg_record_field_kind(f)) {
		case JOBREG_FIELD_KIND_TEXT: {
			const char *text = (const char *)sqlite3_column_text(stmt, f);
			if (!text && sqlite3_errcode(s->db) == SQLITE_NOMEM)
				rc = jr_error_oom();
			else
				rc = jobreg_record_set_text(rec, f, text ? text : "");
			break;
		}
		case JOBREG_FIELD_KIND_BOOL:
			jr_record_set_flag(rec, f, sqlite3_column_int64(stmt, f) != 0);
			break;
		case JOBREG_FIELD_KIND_REAL:
			rc = jobreg_record_set_real(rec, f, sqlite3_column_double(stmt, f));
			break;
		}
	}
	if (rc < 0) {
		if (rc != JOBREG_ENOMEM)
			jr_error_wrap(JOBREG_ESTORAGE,
			              "sqlite database %s: record %s holds a bad value: ", s->path,
			              (const char *)sqlite3_column_text(stmt, 0));
		jobreg_record_free(rec);
		return NULL;
	}
	return rec;
}

/* A page as parameters `at` (LIMIT) and `at` + 1 (OFFSET): limit 0 (all)
 * is SQLite's LIMIT -1; offsets past INT64_MAX match nothing anyway. */
static void bind_page(sqlite3_stmt *stmt, int at, size_t limit, size_t offset)
{
	sqlite3_bind_int64(stmt, at, limit && limit <= INT64_MAX ? (sqlite3_int64)limit : -1);
	sqlite3_bind_int64(stmt, at + 1, offset <= INT64_MAX ? (sqlite3_int64)offset : INT64_MAX);
}

/* Every row of `stmt` (bound) as a record, handed to `emit`; `doing` names
 * the query in an error. The caller resets or finalizes `stmt`. */
static int emit_records(struct store *s, sqlite3_stmt *stmt, jobreg_storage_emit_fn emit,
                        void *emit_payload, const char *doing)
{
	int rc = 0, step;

	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		jobreg_record *rec = row_to_record(s, stmt);
		if (!rec) {
			rc = jr_error_code() < 0 ? jr_error_code() : JOBREG_ESTORAGE;
			break;
		}
		if ((rc = emit(rec, emit_payload)) != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = sql_error(s, doing);
	return rc;
}

static int sqlite_read_records(jobreg_storage_emit_fn emit, void *emit_payload, void *payload)
{
	struct store *s = payload;
	sqlite3_stmt *stmt = s->select_records;
	int rc = emit_records(s, stmt, emit, emit_payload, "reading the records");
	sqlite3_reset(stmt);
	return rc;
}

/* One row of `stmt` (bound) as *out; JOBREG_ENOTFOUND when it has none. */
static int select_one(jobreg_record **out, struct store *s, sqlite3_stmt *stmt, const char *doing)
{
	int rc = 0, step = sqlite3_step(stmt);

	if (step == SQLITE_ROW) {
		if (!(*out = row_to_record(s, stmt)))
			rc = jr_error_code() < 0 ? jr_error_code() : JOBREG_ESTORAGE;
	} else if (step == SQLITE_DONE) {
		rc = JOBREG_ENOTFOUND;
	} else {
		rc = sql_error(s, doing);
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return rc;
}

static int sqlite_get_record_by_id(jobreg_record **out, const char *id, void *payload)
{
	struct store *s = payload;

	sqlite3_bind_text(s->select_by_id, 1, id, -1, SQLITE_STATIC);
	return select_one(out, s, s->select_by_id, "reading a record by id");
}

static int sqlite_get_record_by_class(jobreg_record **out, const char *module_name,
                                      const char *job_class_name, void *payload)
{
	struct store *s = payload;

	sqlite3_bind_text(s->select_by_class, 1, module_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->select_by_class, 2, job_class_name, -1, SQLITE_STATIC);
	return select_one(out, s, s->select_by_class, "reading a record by class");
}

/* The filter as SQL: each condition a bound parameter, so no value is ever quoted. */
static int sqlite_list_records(jobreg_storage_emit_fn emit, void *emit_payload,
                               const jobreg_record_filter *f, void *payload)
{
	struct store *s = payload;
	jr_buf sql = JR_BUF_INIT;
	sqlite3_stmt *stmt = NULL;
	int rc;

	jr_buf_printf(&sql, "%s WHERE 1", s->select_columns);
	if (f->source_type)
		jr_buf_puts(&sql, " AND source_type = ?1");
	if (f->source_name)
		jr_buf_puts(&sql, " AND source = ?2");
	if (f->installed != JOBREG_INSTALLED_ALL)
		jr_buf_puts(&sql, " AND installed = ?3");
	if (f->enabled >= 0)
		jr_buf_puts(&sql, " AND enabled = ?4");
	jr_buf_puts(&sql, " ORDER BY \"grouping\", name, class_path, id LIMIT ?5 OFFSET ?6");
	if ((rc = jr_buf_status(&sql)) == 0)
		rc = prepare(s, &stmt, sql.ptr);
	jr_buf_free(&sql);
	if (rc < 0)
		return rc;
	if (f->source_type)
		sqlite3_bind_text(stmt, 1, f->source_type, -1, SQLITE_STATIC);
	if (f->source_name)
		sqlite3_bind_text(stmt, 2, f->source_name, -1, SQLITE_STATIC);
	if (f->installed != JOBREG_INSTALLED_ALL)
		sqlite3_bind_int(stmt, 3, f->installed == JOBREG_INSTALLED_YES);
	if (f->enabled >= 0)
		sqlite3_bind_int(stmt, 4, f->enabled);
	bind_page(stmt, 5, f->limit, f->offset);
	rc = emit_records(s, stmt, emit, emit_payload, "listing the records");
	sqlite3_finalize(stmt);
	return rc;
}

static int sqlite_write_record(const jobreg_record *rec, void *payload)
{
	struct store *s = payload;
	sqlite3_stmt *stmt = s->upsert_record;
	int f, rc = 0;

	for (f = 0; f < JR_FIELD_COUNT; f++) {
		switch (jobreg_record_field_kind(f)) {
		case JOBREG_FIELD_KIND_TEXT:
			sqlite3_bind_text(stmt, f + 1, jr_record_text(rec, f), -1, SQLITE_STATIC);
			break;
		case JOBREG_FIELD_KIND_BOOL:
			sqlite3_bind_int(stmt, f + 1, jr_record_flag(rec, f));
			break;
		case JOBREG_FIELD_KIND_REAL:
			sqlite3_bind_double(stmt, f + 1, jr_record_real(rec, f));
			break;
		}
	}
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		char *doing = jr_asprintf("writing record %s (%s)", jr_record_text(rec, JOBREG_FIELD_ID),
		                          jr_record_text(rec, JOBREG_FIELD_CLASS_PATH));
		rc = sql_error(s, doing ? doing : "writing a record");
		free(doing);
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return rc;
}

static int sqlite_delete_record(const char *id, void *payload)
{
	struct store *s = payload;
	sqlite3_stmt *stmt = s->delete_record;
	int rc = 0;

	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		rc = sql_error(s, "deleting a record");
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return rc;
}

static int sqlite_git_state_read(const char **remote_url, const char **branch,
                                 const char **current_head, const char *slug, void *payload)
{
	struct store *s = payload;
	sqlite3_stmt *stmt = s->select_git;
	int rc = 0, step, i;

	clear_git_values(s);
	sqlite3_bind_text(stmt, 1, slug, -1, SQLITE_STATIC);
	step = sqlite3_step(stmt);
	if (step == SQLITE_ROW) {
		for (i = 0; i < 3 && rc == 0; i++) {
			const char *text = (const char *)sqlite3_column_text(stmt, i);
			if (!(s->git_values[i] = jr_strdup(text ? text : "")))
				rc = JOBREG_ENOMEM;
		}
		if (rc == 0) {
			*remote_url = s->git_values[0];
			*branch = s->git_values[1];
			*current_head = s->git_values[2];
		}
	} else if (step == SQLITE_DONE) {
		rc = JOBREG_ENOTFOUND;
	} else {
		rc = sql_error(s, "reading git state");
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return rc;
}

static int sqlite_git_state_write(const char *slug, const char *remote_url, const char *branch,
                                  const char *current_head, void *payload)
{
	struct store *s = payload;
	sqlite3_stmt *stmt = s->upsert_git;
	int rc = 0;

	sqlite3_bind_text(stmt, 1, slug, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, remote_url, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, branch, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, current_head, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		rc = sql_error(s, "writing git state");
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return rc;
}

static int sqlite_source_state_read(const char **state, const char *source_type,
                                    const char *source_name, void *payload)
{
	struct store *s = payload;
	sqlite3_stmt *stmt = s->select_source;
	int rc = 0, step;

	free(s->source_value);
	s->source_value = NULL;
	sqlite3_bind_text(stmt, 1, source_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, source_name, -1, SQLITE_STATIC);
	step = sqlite3_step(stmt);
	if (step == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(stmt, 0);
		if (!(s->source_value = jr_strdup(text ? text : "")))
			rc = JOBREG_ENOMEM;
		else
			*state = s->source_value;
	} else if (step == SQLITE_DONE) {
		rc = JOBREG_ENOTFOUND;
	} else {
		rc = sql_error(s, "reading source state");
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return rc;
}

static int sqlite_source_state_write(const char *source_type, const char *source_name,
                                     const char *state, void *payload)
{
	struct store *s = payload;
	sqlite3_stmt *stmt = state ? s->upsert_source : s->delete_source;
	int rc = 0;

	sqlite3_bind_text(stmt, 1, source_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, source_name, -1, SQLITE_STATIC);
	if (state)
		sqlite3_bind_text(stmt, 3, state, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		rc = sql_error(s, "writing source state");
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return rc;
}

static int run_done(struct store *s, sqlite3_stmt *stmt, const char *doing)
{
	int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : sql_error(s, doing);

	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return rc;
}

static int sqlite_load_errors_replace(const char *source_type, const char *source_name,
                                      const jobreg_load_error_row *rows, size_t count,
                                      void *payload)
{
	struct store *s = payload;
	sqlite3_stmt *ins = s->insert_error;
	size_t i;
	int rc;

	sqlite3_bind_text(s->delete_errors, 1, source_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->delete_errors, 2, source_name, -1, SQLITE_STATIC);
	rc = run_done(s, s->delete_errors, "deleting load errors");
	for (i = 0; i < count && rc == 0; i++) {
		const jobreg_load_error_row *r = &rows[i];
		sqlite3_bind_text(ins, 1, source_type, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, source_name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, (sqlite3_int64)i);
		sqlite3_bind_text(ins, 4, r->module, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 5, r->file, -1, SQLITE_STATIC);
		sqlite3_bind_int(ins, 6, r->line);
		sqlite3_bind_text(ins, 7, r->type, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 8, r->message, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 9, r->traceback, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 10, r->when, -1, SQLITE_STATIC);
		rc = run_done(s, ins, "storing load errors");
	}
	return rc;
}

static const char *column_text(sqlite3_stmt *stmt, int col)
{
	const char *text = (const char *)sqlite3_column_text(stmt, col);
	return text ? text : "";
}

static int sqlite_load_errors_read(jobreg_storage_load_error_emit_fn emit, void *emit_payload,
                                   const char *source_type, const char *source_name, void *payload)
{
	struct store *s = payload;
	sqlite3_stmt *stmt = NULL;
	jr_buf sql = JR_BUF_INIT;
	int rc, step;

	jr_buf_puts(&sql, "SELECT source_type, source, module, file, line, type, message, "
	                  "traceback, \"when\" FROM jobreg_load_errors WHERE 1");
	if (source_type)
		jr_buf_puts(&sql, " AND source_type = ?1");
	if (source_name)
		jr_buf_puts(&sql, " AND source = ?2");
	jr_buf_puts(&sql, " ORDER BY source_type, source, position");
	if ((rc = jr_buf_status(&sql)) == 0)
		rc = prepare(s, &stmt, sql.ptr);
	jr_buf_free(&sql);
	if (rc < 0)
		return rc;
	if (source_type)
		sqlite3_bind_text(stmt, 1, source_type, -1, SQLITE_STATIC);
	if (source_name)
		sqlite3_bind_text(stmt, 2, source_name, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		jobreg_load_error_row row;
		row.source_type = column_text(stmt, 0);
		row.source_name = column_text(stmt, 1);
		row.module = column_text(stmt, 2);
		row.file = column_text(stmt, 3);
		row.line = sqlite3_column_int(stmt, 4);
		row.type = column_text(stmt, 5);
		row.message = column_text(stmt, 6);
		row.traceback = column_text(stmt, 7);
		row.when = column_text(stmt, 8);
		if ((rc = emit(&row, emit_payload)) != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = sql_error(s, "reading load errors");
	sqlite3_finalize(stmt);
	return rc;
}

/* The strings of `row` in RUN_COLUMNS order; a NULL one (a row that breaks
 * its contract) is kept as "", as the memory backend keeps it. */
static void run_strings(const char *out[RUN_COLUMN_COUNT], const jobreg_run_row *row)
{
	const char *in[RUN_COLUMN_COUNT] = { row->id,          row->job_id,      row->class_path,
		                                 row->source_type, row->source_name, row->code_version,
		                                 row->status,      row->started,     row->finished,
		                                 row->result_json, row->error_type,  row->error_message,
		                                 row->host_json };
	int i;

	for (i = 0; i < RUN_COLUMN_COUNT; i++)
		out[i] = in[i] ? in[i] : "";
}

static int sqlite_run_write(const jobreg_run_row *row, void *payload)
{
	struct store *s = payload;
	sqlite3_stmt *stmt = s->upsert_run;
	const char *value[RUN_COLUMN_COUNT];
	int i, rc = 0;

	run_strings(value, row);
	for (i = 0; i < RUN_COLUMN_COUNT; i++)
		sqlite3_bind_text(stmt, i + 1, value[i], -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		char *doing = jr_asprintf("writing run %s of %s (status %s)", value[0], value[2], value[6]);
		rc = sql_error(s, doing ? doing : "writing a run record");
		free(doing);
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return rc;
}

/* The filter as SQL, each condition a bound parameter; the order is
 * jr_run_row_compare()'s (BINARY is bytewise), the page SQLite's. */
static int sqlite_runs_read(jobreg_storage_run_emit_fn emit, void *emit_payload,
                            const jobreg_run_filter *f, void *payload)
{
	struct store *s = payload;
	jr_buf sql = JR_BUF_INIT;
	sqlite3_stmt *stmt = NULL;
	int rc = 0, step;

	jr_buf_puts(&sql, "SELECT " RUN_COLUMNS " FROM jobreg_runs WHERE 1");
	if (f->id)
		jr_buf_puts(&sql, " AND id = ?1");
	if (f->job_id)
		jr_buf_puts(&sql, " AND job_id = ?2");
	if (f->status)
		jr_buf_puts(&sql, " AND status = ?3");
	jr_buf_puts(&sql, " ORDER BY started DESC, id DESC LIMIT ?4 OFFSET ?5");
	if ((rc = jr_buf_status(&sql)) == 0)
		rc = prepare(s, &stmt, sql.ptr);
	jr_buf_free(&sql);
	if (rc < 0)
		return rc;
	if (f->id)
		sqlite3_bind_text(stmt, 1, f->id, -1, SQLITE_STATIC);
	if (f->job_id)
		sqlite3_bind_text(stmt, 2, f->job_id, -1, SQLITE_STATIC);
	if (f->status)
		sqlite3_bind_text(stmt, 3, f->status, -1, SQLITE_STATIC);
	bind_page(stmt, 4, f->limit, f->offset);
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *value[RUN_COLUMN_COUNT];
		jobreg_run_row row;
		int i;

		for (i = 0; i < RUN_COLUMN_COUNT && rc == 0; i++) {
			value[i] = (const char *)sqlite3_column_text(stmt, i);
			if (!value[i] && sqlite3_errcode(s->db) == SQLITE_NOMEM)
				rc = jr_error_oom();
			else if (!value[i])
				value[i] = "";
		}
		if (rc < 0)
			break;
		row.id = value[0];
		row.job_id = value[1];
		row.class_path = value[2];
		row.source_type = value[3];
		row.source_name = value[4];
		row.code_version = value[5];
		row.status = value[6];
		row.started = value[7];
		row.finished = value[8];
		row.result_json = value[9];
		row.error_type = value[10];
		row.error_message = value[11];
		row.host_json = value[12];
		if ((rc = emit(&row, emit_payload)) != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = sql_error(s, "reading run records");
	sqlite3_finalize(stmt);
	return rc;
}

static const jobreg_storage_backend sqlite_backend = {
	.version = 3,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.read_records = sqlite_read_records,
	.write_record = sqlite_write_record,
	.delete_record = sqlite_delete_record,
	.git_state_read = sqlite_git_state_read,
	.git_state_write = sqlite_git_state_write,
	.free_payload = store_close,
	.source_state_read = sqlite_source_state_read,
	.source_state_write = sqlite_source_state_write,
	.get_record_by_id = sqlite_get_record_by_id,
	.get_record_by_class = sqlite_get_record_by_class,
	.list_records = sqlite_list_records,
	.load_errors_replace = sqlite_load_errors_replace,
	.load_errors_read = sqlite_load_errors_read,
	.run_write = sqlite_run_write,
	.runs_read = sqlite_runs_read,
};

/* ---- opening ----------------------------------------------------- */

static const size_t sqlite_options_sizes[] = {
	JR_SIZE_THROUGH(jobreg_sqlite_options, busy_timeout_ms), /* version 1 */
};

int jobreg_sqlite_options_init(jobreg_sqlite_options *opts, unsigned int version)
{
	static const jobreg_sqlite_options defaults = JOBREG_SQLITE_OPTIONS_INIT;

	return jr_options_init(opts, &defaults, sqlite_options_sizes, JOBREG_SQLITE_OPTIONS_VERSION,
	                       version, "jobreg_sqlite_options");
}

int jobreg_storage_sqlite_open(jobreg_storage **out, const char *path,
                               const jobreg_sqlite_options *opts)
{
	jobreg_sqlite_options o = JOBREG_SQLITE_OPTIONS_INIT;
	struct store *s;
	int rc;

	if (!out || !path)
		return jr_error_set(JOBREG_EINVAL, "jobreg_storage_sqlite_open: NULL %s",
		                    out ? "path" : "out");
	*out = NULL;
	rc = jr_options_read(&o, opts, sqlite_options_sizes, JOBREG_SQLITE_OPTIONS_VERSION,
	                     "jobreg_sqlite_options");
	if (rc < 0)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s)
		return jr_error_oom();
	s->busy_timeout_ms = o.busy_timeout_ms;
	if (!(s->path = jr_strdup(path))) {
		free(s);
		return JOBREG_ENOMEM;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		rc = s->db ? jr_error_set(JOBREG_ESTORAGE, "cannot open sqlite database %s: %s", path,
		                          sqlite3_errmsg(s->db))
		           : jr_error_oom();
		store_close(s);
		return rc;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db,
	                     (int)(o.busy_timeout_ms > 0x7fffffff ? 0x7fffffff : o.busy_timeout_ms));
	rc = ensure_schema(s);
	if (rc == 0)
		rc = set_wal(s);
	if (rc == 0)
		rc = prepare_all(s);
	if (rc == 0)
		rc = jobreg_storage_new(out, &sqlite_backend, s);
	if (rc < 0)
		store_close(s);
	return rc;
}
