/*
 * records_fixture.h: fixtures of the records and storage tests
 * (header-only): a counting fake backend written against
 * jobreg/sys/storage.h, hand-made records, dumps, and running
 * /usr/bin/python3 to inspect SQLite files.
 */
#ifndef JR_RECORDS_FIXTURE_H
#define JR_RECORDS_FIXTURE_H

#include <jobreg.h>
#include <jobreg/sys/storage.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#ifndef PYTHON_FOR_TESTS
#define PYTHON_FOR_TESTS "/usr/bin/python3"
#endif

/* ---- the fake backend ----------------------------------------------
 * A transaction works on a copy of the committed records (taken at
 * begin), which commit installs and rollback drops: obviously right, so
 * the library's behaviour can be compared against it. Every callback but
 * rollback and free counts as a call; `fail_at` = N makes call N fail.
 */
struct fake {
	jobreg_record **committed;
	size_t committed_count;
	jobreg_record **work;
	size_t work_count;
	int in_transaction;
	unsigned int begin_flags;
	long calls, fail_at;
	long begins, commits, rollbacks, reads, writes, deletes;
	int freed;
};

static inline void fake_records_free(jobreg_record **recs, size_t count)
{
	size_t i;
	for (i = 0; i < count; i++)
		jobreg_record_free(recs[i]);
	free(recs);
}

static inline jobreg_record **fake_records_dup(jobreg_record *const *recs, size_t count)
{
	jobreg_record **copy = calloc(count + 1, sizeof(*copy));
	size_t i;
	for (i = 0; i < count; i++)
		if (jobreg_record_dup(&copy[i], recs[i]) < 0)
			abort();
	return copy;
}

static inline int fake_call(struct fake *f, const char *what)
{
	char message[128];

	f->calls++;
	if (f->fail_at && f->calls == f->fail_at) {
		snprintf(message, sizeof(message), "fake backend: call %ld (%s) fails", f->calls, what);
		return jobreg_storage_error_set(JOBREG_ESTORAGE, message);
	}
	return 0;
}

static inline int fake_begin(unsigned int flags, void *payload)
{
	struct fake *f = payload;
	int rc;

	CHECK(!f->in_transaction); /* the library never nests */
	if ((rc = fake_call(f, "begin")) < 0)
		return rc;
	f->begins++;
	f->begin_flags = flags;
	f->work = fake_records_dup(f->committed, f->committed_count);
	f->work_count = f->committed_count;
	f->in_transaction = 1;
	return 0;
}

static inline int fake_commit(void *payload)
{
	struct fake *f = payload;
	int rc;

	CHECK(f->in_transaction);
	if ((rc = fake_call(f, "commit")) < 0)
		return rc;
	f->commits++;
	fake_records_free(f->committed, f->committed_count);
	f->committed = f->work;
	f->committed_count = f->work_count;
	f->work = NULL;
	f->work_count = 0;
	f->in_transaction = 0;
	return 0;
}

static inline int fake_rollback(void *payload)
{
	struct fake *f = payload;

	CHECK(f->in_transaction);
	f->rollbacks++;
	fake_records_free(f->work, f->work_count);
	f->work = NULL;
	f->work_count = 0;
	f->in_transaction = 0;
	return 0;
}

static inline int fake_read(jobreg_storage_emit_fn emit, void *emit_payload, void *payload)
{
	struct fake *f = payload;
	size_t i;
	int rc;

	CHECK(f->in_transaction);
	if ((rc = fake_call(f, "read_records")) < 0)
		return rc;
	f->reads++;
	for (i = 0; i < f->work_count; i++) {
		jobreg_record *copy = NULL;
		if (jobreg_record_dup(&copy, f->work[i]) < 0)
			return jobreg_error_last()->code;
		if ((rc = emit(copy, emit_payload)) != 0)
			return rc;
	}
	return 0;
}

static inline long fake_find(jobreg_record **recs, size_t count, const char *id)
{
	size_t i;
	for (i = 0; i < count; i++)
		if (strcmp(jobreg_record_text(recs[i], JOBREG_FIELD_ID), id) == 0)
			return (long)i;
	return -1;
}

static inline int fake_write(const jobreg_record *rec, void *payload)
{
	struct fake *f = payload;
	jobreg_record *copy = NULL;
	long at;
	int rc;

	CHECK(f->in_transaction);
	if ((rc = fake_call(f, "write_record")) < 0)
		return rc;
	f->writes++;
	if (jobreg_record_dup(&copy, rec) < 0)
		return jobreg_error_last()->code;
	at = fake_find(f->work, f->work_count, jobreg_record_text(rec, JOBREG_FIELD_ID));
	if (at >= 0) {
		jobreg_record_free(f->work[at]);
		f->work[at] = copy;
	} else {
		f->work = realloc(f->work, (f->work_count + 1) * sizeof(*f->work));
		f->work[f->work_count++] = copy;
	}
	return 0;
}

static inline int fake_delete(const char *id, void *payload)
{
	struct fake *f = payload;
	long at;
	int rc;

	CHECK(f->in_transaction);
	if ((rc = fake_call(f, "delete_record")) < 0)
		return rc;
	f->deletes++;
	at = fake_find(f->work, f->work_count, id);
	if (at >= 0) {
		jobreg_record_free(f->work[at]);
		memmove(&f->work[at], &f->work[at + 1],
		        (f->work_count - (size_t)at - 1) * sizeof(*f->work));
		f->work_count--;
	}
	return 0;
}

static inline void fake_free(void *payload)
{
	struct fake *f = payload;
	f->freed = 1;
}

static inline jobreg_storage_backend fake_table(void)
{
	jobreg_storage_backend t;
	memset(&t, 0, sizeof(t));
	t.version = JOBREG_STORAGE_BACKEND_VERSION;
	t.begin = fake_begin;
	t.commit = fake_commit;
	t.rollback = fake_rollback;
	t.read_records = fake_read;
	t.write_record = fake_write;
	t.delete_record = fake_delete;
	t.free_payload = fake_free;
	return t;
}

/* A storage over `f` (zeroed by the caller or left from a previous use). */
static inline jobreg_storage *fake_storage(struct fake *f)
{
	jobreg_storage_backend t = fake_table();
	jobreg_storage *st = NULL;

	CHECK_OK(jobreg_storage_new(&st, &t, f));
	return st;
}

static inline void fake_reset_counts(struct fake *f)
{
	f->calls = f->fail_at = 0;
	f->begins = f->commits = f->rollbacks = f->reads = f->writes = f->deletes = 0;
}

/* Forget everything (after jobreg_storage_free()). */
static inline void fake_clear(struct fake *f)
{
	fake_records_free(f->committed, f->committed_count);
	fake_records_free(f->work, f->work_count);
	memset(f, 0, sizeof(*f));
}

/* Store `rec` as committed (ownership taken). */
static inline void fake_insert(struct fake *f, jobreg_record *rec)
{
	f->committed = realloc(f->committed, (f->committed_count + 1) * sizeof(*f->committed));
	f->committed[f->committed_count++] = rec;
}

/* ---- hand-made records --------------------------------------------- */

/* A record of job `module`.`cls` from source (type, source), named `name`. */
static inline jobreg_record *make_record(const char *id, const char *type, const char *source,
                                         const char *module, const char *cls, const char *name,
                                         int installed, int enabled)
{
	jobreg_record *rec = NULL;
	char path[512];

	snprintf(path, sizeof(path), "%s.%s", module, cls);
	CHECK_OK(jobreg_record_new(&rec));
	CHECK_OK(jobreg_record_set_text(rec, JOBREG_FIELD_ID, id));
	CHECK_OK(jobreg_record_set_text(rec, JOBREG_FIELD_SOURCE_TYPE, type));
	CHECK_OK(jobreg_record_set_text(rec, JOBREG_FIELD_SOURCE, source));
	CHECK_OK(jobreg_record_set_text(rec, JOBREG_FIELD_MODULE_NAME, module));
	CHECK_OK(jobreg_record_set_text(rec, JOBREG_FIELD_JOB_CLASS_NAME, cls));
	CHECK_OK(jobreg_record_set_text(rec, JOBREG_FIELD_CLASS_PATH, path));
	CHECK_OK(jobreg_record_set_text(rec, JOBREG_FIELD_GROUPING, module));
	CHECK_OK(jobreg_record_set_text(rec, JOBREG_FIELD_NAME, name));
	CHECK_OK(jobreg_record_set_bool(rec, JOBREG_FIELD_INSTALLED, installed));
	CHECK_OK(jobreg_record_set_bool(rec, JOBREG_FIELD_ENABLED, enabled));
	return rec;
}

/* ---- dumps ---------------------------------------------------------- */

/* Append every field of `rec` as "name=value;" (the id only if asked). */
static inline void dump_record(char **text, size_t *len, const jobreg_record *rec, int with_id)
{
	size_t f, n = jobreg_record_field_count();

	for (f = 0; f < n; f++) {
		char value[4096];
		const char *name = jobreg_record_field_name((jobreg_field)f);
		size_t add;

		if (f == JOBREG_FIELD_ID && !with_id)
			continue;
		switch (jobreg_record_field_kind((jobreg_field)f)) {
		case JOBREG_FIELD_KIND_TEXT:
			snprintf(value, sizeof(value), "%s", jobreg_record_text(rec, (jobreg_field)f));
			break;
		case JOBREG_FIELD_KIND_BOOL:
			snprintf(value, sizeof(value), "%d", jobreg_record_bool(rec, (jobreg_field)f));
			break;
		default:
			snprintf(value, sizeof(value), "%.17g", jobreg_record_real(rec, (jobreg_field)f));
			break;
		}
		add = strlen(name) + strlen(value) + 3;
		*text = realloc(*text, *len + add + 1);
		*len += (size_t)sprintf(*text + *len, "%s=%s;", name, value);
	}
	*text = realloc(*text, *len + 2);
	(*text)[(*len)++] = '\n';
	(*text)[*len] = '\0';
}

/* Every stored record, through the library (list order), as text. Free it. */
static inline char *dump_storage(jobreg_storage *st, int with_ids)
{
	jobreg_record_list *list = NULL;
	char *text = calloc(1, 1);
	size_t len = 0, i;

	CHECK_OK(jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL));
	for (i = 0; i < jobreg_record_list_count(list); i++)
		dump_record(&text, &len, jobreg_record_list_get(list, i), with_ids);
	jobreg_record_list_free(list);
	return text;
}

/* The record of `class_path` (a copy to free), or NULL. */
static inline jobreg_record *record_of(jobreg_storage *st, const char *class_path)
{
	jobreg_record *rec = NULL;
	if (jobreg_storage_get(&rec, st, class_path) < 0)
		return NULL;
	return rec;
}

/* A text field of the record of `class_path`, copied into a static buffer. */
static inline const char *text_of(jobreg_storage *st, const char *class_path, jobreg_field field)
{
	static char buf[4][1024];
	static int next;
	char *b = buf[next++ % 4];
	jobreg_record *rec = record_of(st, class_path);

	snprintf(b, 1024, "%s", rec ? jobreg_record_text(rec, field) : "(no record)");
	jobreg_record_free(rec);
	return b;
}

/* A bool field of the record of `class_path`; -1 when there is no record. */
static inline int bool_of(jobreg_storage *st, const char *class_path, jobreg_field field)
{
	jobreg_record *rec = record_of(st, class_path);
	int value = rec ? jobreg_record_bool(rec, field) : -1;
	jobreg_record_free(rec);
	return value;
}

static inline size_t count_records(jobreg_storage *st, jobreg_installed_filter which)
{
	jobreg_record_list *list = NULL;
	size_t n;

	CHECK_OK(jobreg_storage_list(&list, st, which));
	n = jobreg_record_list_count(list);
	jobreg_record_list_free(list);
	return n;
}

/* ---- Python, to look inside SQLite files ---------------------------- */

/*
 * Run `code` with /usr/bin/python3 -c, `arg` as sys.argv[1]; return its
 * stdout (static, trailing newline removed) or "(failed)".
 */
static inline const char *python(const char *code, const char *arg)
{
	static char out[8192];
	char script[4096], argument[8192], command[16384];
	FILE *p;
	size_t n;

	/* `arg` may be jr_write()'s static buffer, which the next call reuses. */
	snprintf(argument, sizeof(argument), "%s", arg);
	snprintf(script, sizeof(script), "%s", jr_write(jr_tmpdir(), "script.py", code));
	snprintf(command, sizeof(command), "'%s' '%s' '%s'", PYTHON_FOR_TESTS, script, argument);
	p = popen(command, "r");
	if (!p)
		return "(failed)";
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	if (pclose(p) != 0)
		return "(failed)";
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return out;
}

/* The result of one SQL query on the database file `db`, rows joined by "|". */
static inline const char *sql_query(const char *db, const char *query)
{
	char code[4096];

	snprintf(code, sizeof(code),
	         "import sqlite3, sys\n"
	         "c = sqlite3.connect(sys.argv[1])\n"
	         "print('|'.join(str(r[0]) for r in c.execute(\"\"\"%s\"\"\")))\n"
	         "c.commit()\n",
	         query);
	return python(code, db);
}

#endif
