/*
 * storage_backend.c: a storage backend written against jobreg/sys/storage.h,
 * the example of docs/storage-backend.md.
 *
 *   example_backend JOBS_ROOT
 *
 * The backend keeps records, git state and source state in plain arrays
 * and makes transactions by copying: `begin` saves a copy of everything,
 * `rollback` puts the copy back, `commit` drops it. That is the whole
 * contract in few lines; a backend over a real database maps the same
 * callbacks onto its own transactions (src/storage_sqlite.c does so for
 * SQLite). main() then drives the backend through the library: a sync of
 * the jobs root JOBS_ROOT, a second sync that skips it, git state, and a
 * write that fails and rolls back. Built (and run) with every build.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jobreg.h>
#include <jobreg/sys/storage.h>

/* One row of git state (slug, remote_url, branch, current_head) or of
 * source state (source_type, source_name, state, unused). */
struct row {
	char *col[4];
};

struct rows {
	struct row *items;
	size_t count;
};

/* Everything the backend stores. */
struct tables {
	jobreg_record **records;
	size_t record_count;
	struct rows git;
	struct rows sources;
};

/* The payload: the live tables and, inside a transaction, the copy to go back to. */
struct backend {
	struct tables live;
	struct tables saved;
	int in_transaction;
	int fail_next_write; /* for the demonstration of a rollback */
};

/* ---- the tables: copy, clear, find ---- */

static char *copy_text(const char *s)
{
	char *c = s ? malloc(strlen(s) + 1) : NULL;

	return c ? strcpy(c, s) : NULL;
}

static void rows_clear(struct rows *rows)
{
	size_t i, j;

	for (i = 0; i < rows->count; i++)
		for (j = 0; j < 4; j++)
			free(rows->items[i].col[j]);
	free(rows->items);
	rows->items = NULL;
	rows->count = 0;
}

static void tables_clear(struct tables *t)
{
	size_t i;

	for (i = 0; i < t->record_count; i++)
		jobreg_record_free(t->records[i]);
	free(t->records);
	t->records = NULL;
	t->record_count = 0;
	rows_clear(&t->git);
	rows_clear(&t->sources);
}

static int rows_copy(struct rows *dst, const struct rows *src)
{
	size_t i, j;

	dst->items = calloc(src->count ? src->count : 1, sizeof(*dst->items));
	if (!dst->items)
		return -1;
	dst->count = src->count;
	for (i = 0; i < src->count; i++)
		for (j = 0; j < 4; j++)
			if (src->items[i].col[j] && !(dst->items[i].col[j] = copy_text(src->items[i].col[j])))
				return -1;
	return 0;
}

/* A deep copy of `src` into the empty `dst`; on failure `dst` is cleared. */
static int tables_copy(struct tables *dst, const struct tables *src)
{
	size_t i;

	dst->records = calloc(src->record_count ? src->record_count : 1, sizeof(*dst->records));
	if (!dst->records)
		return -1;
	for (i = 0; i < src->record_count; i++) {
		if (jobreg_record_dup(&dst->records[i], src->records[i]) < 0)
			break;
		dst->record_count++;
	}
	if (i < src->record_count || rows_copy(&dst->git, &src->git) < 0 ||
	    rows_copy(&dst->sources, &src->sources) < 0) {
		tables_clear(dst);
		return -1;
	}
	return 0;
}

/* The row whose first column is `a` (and second `b`, unless NULL), or NULL. */
static struct row *rows_find(struct rows *rows, const char *a, const char *b)
{
	size_t i;

	for (i = 0; i < rows->count; i++)
		if (strcmp(rows->items[i].col[0], a) == 0 && (!b || strcmp(rows->items[i].col[1], b) == 0))
			return &rows->items[i];
	return NULL;
}

/* Insert or replace the row keyed by its first column (and second, for sources). */
static int rows_put(struct rows *rows, const char *const values[4], int keys)
{
	struct row *row = rows_find(rows, values[0], keys == 2 ? values[1] : NULL);
	struct row fresh = { { NULL, NULL, NULL, NULL } };
	size_t j;

	for (j = 0; j < 4; j++)
		if (values[j] && !(fresh.col[j] = copy_text(values[j])))
			goto oom;
	if (!row) {
		struct row *grown = realloc(rows->items, (rows->count + 1) * sizeof(*grown));
		if (!grown)
			goto oom;
		rows->items = grown;
		row = &rows->items[rows->count++];
	} else {
		for (j = 0; j < 4; j++)
			free(row->col[j]);
	}
	*row = fresh;
	return 0;
oom:
	for (j = 0; j < 4; j++)
		free(fresh.col[j]);
	return jobreg_storage_error_set(JOBREG_ENOMEM, "example backend: out of memory");
}

static void rows_remove(struct rows *rows, struct row *row)
{
	size_t j;

	for (j = 0; j < 4; j++)
		free(row->col[j]);
	*row = rows->items[--rows->count];
}

static jobreg_record **find_record(struct backend *b, const char *id)
{
	size_t i;

	for (i = 0; i < b->live.record_count; i++)
		if (strcmp(jobreg_record_text(b->live.records[i], JOBREG_FIELD_ID), id) == 0)
			return &b->live.records[i];
	return NULL;
}

/* ---- the callbacks ---- */

static int ex_begin(unsigned int flags, void *payload)
{
	struct backend *b = payload;

	/* One transaction at a time per handle: the library guarantees it.
	 * A database would take its write lock here when flags say WRITE. */
	(void)flags;
	if (tables_copy(&b->saved, &b->live) < 0)
		return jobreg_storage_error_set(JOBREG_ENOMEM, "example backend: out of memory");
	b->in_transaction = 1;
	return 0;
}

static int ex_commit(void *payload)
{
	struct backend *b = payload;

	tables_clear(&b->saved); /* the live tables are the truth now */
	b->in_transaction = 0;
	return 0;
}

static int ex_rollback(void *payload)
{
	struct backend *b = payload;

	if (!b->in_transaction)
		return 0;
	tables_clear(&b->live);
	b->live = b->saved; /* exactly as at begin */
	memset(&b->saved, 0, sizeof(b->saved));
	b->in_transaction = 0;
	return 0;
}

static int ex_read_records(jobreg_storage_emit_fn emit, void *emit_payload, void *payload)
{
	struct backend *b = payload;
	size_t i;
	int rc;

	for (i = 0; i < b->live.record_count; i++) {
		jobreg_record *copy;

		if (jobreg_record_dup(&copy, b->live.records[i]) < 0)
			return JOBREG_ENOMEM;
		if ((rc = emit(copy, emit_payload)) != 0) /* emit owns `copy` now */
			return rc;
	}
	return 0;
}

static int ex_write_record(const jobreg_record *rec, void *payload)
{
	struct backend *b = payload;
	jobreg_record **slot, *copy, **grown;

	if (b->fail_next_write) {
		b->fail_next_write = 0;
		return jobreg_storage_error_set(JOBREG_ESTORAGE, "example backend: the disk is full");
	}
	if (jobreg_record_dup(&copy, rec) < 0) /* `rec` is only lent for the call */
		return JOBREG_ENOMEM;
	slot = find_record(b, jobreg_record_text(rec, JOBREG_FIELD_ID));
	if (slot) {
		jobreg_record_free(*slot);
		*slot = copy;
		return 0;
	}
	grown = realloc(b->live.records, (b->live.record_count + 1) * sizeof(*grown));
	if (!grown) {
		jobreg_record_free(copy);
		return jobreg_storage_error_set(JOBREG_ENOMEM, "example backend: out of memory");
	}
	b->live.records = grown;
	b->live.records[b->live.record_count++] = copy;
	return 0;
}

static int ex_delete_record(const char *id, void *payload)
{
	struct backend *b = payload;
	jobreg_record **slot = find_record(b, id);

	if (slot) { /* a missing id is no error */
		jobreg_record_free(*slot);
		*slot = b->live.records[--b->live.record_count];
	}
	return 0;
}

static int ex_git_state_read(const char **remote_url, const char **branch,
                             const char **current_head, const char *slug, void *payload)
{
	struct backend *b = payload;
	struct row *row = rows_find(&b->live.git, slug, NULL);

	if (!row)
		return JOBREG_ENOTFOUND;
	/* Borrowed until the next callback: the library copies them at once. */
	*remote_url = row->col[1];
	*branch = row->col[2];
	*current_head = row->col[3];
	return 0;
}

static int ex_git_state_write(const char *slug, const char *remote_url, const char *branch,
                              const char *current_head, void *payload)
{
	struct backend *b = payload;
	const char *values[4] = { slug, remote_url, branch, current_head };

	return rows_put(&b->live.git, values, 1);
}

static int ex_source_state_read(const char **state, const char *source_type,
                                const char *source_name, void *payload)
{
	struct backend *b = payload;
	struct row *row = rows_find(&b->live.sources, source_type, source_name);

	if (!row)
		return JOBREG_ENOTFOUND;
	*state = row->col[2]; /* opaque text: stored and returned as it is */
	return 0;
}

static int ex_source_state_write(const char *source_type, const char *source_name,
                                 const char *state, void *payload)
{
	struct backend *b = payload;
	const char *values[4] = { source_type, source_name, state, NULL };
	struct row *row;

	if (state)
		return rows_put(&b->live.sources, values, 2);
	if ((row = rows_find(&b->live.sources, source_type, source_name)))
		rows_remove(&b->live.sources, row); /* NULL deletes; nothing there is fine */
	return 0;
}

static void ex_free_payload(void *payload)
{
	struct backend *b = payload;

	tables_clear(&b->live);
	tables_clear(&b->saved);
	free(b);
}

/*
 * A storage over this backend; `*backend` lets main() reach the payload.
 * The table is copied by the library, so it may live on the stack.
 */
static int example_storage_new(jobreg_storage **out, struct backend **backend)
{
	jobreg_storage_backend table;
	struct backend *b = calloc(1, sizeof(*b));

	if (!b)
		return JOBREG_ENOMEM;
	memset(&table, 0, sizeof(table));
	table.version = JOBREG_STORAGE_BACKEND_VERSION;
	table.begin = ex_begin;
	table.commit = ex_commit;
	table.rollback = ex_rollback;
	table.read_records = ex_read_records;
	table.write_record = ex_write_record;
	table.delete_record = ex_delete_record;
	table.git_state_read = ex_git_state_read;
	table.git_state_write = ex_git_state_write;
	table.free_payload = ex_free_payload;
	table.source_state_read = ex_source_state_read;
	table.source_state_write = ex_source_state_write;
	if (jobreg_storage_new(out, &table, b) < 0) {
		free(b); /* on error the payload is still ours */
		return jobreg_error_last()->code;
	}
	*backend = b; /* the storage owns it now: free_payload frees it */
	return 0;
}

/* ---- driving it through the library ---- */

static int fail(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, jobreg_error_last()->message);
	return 1;
}

static int sync_once(jobreg_registry *reg, jobreg_storage *st)
{
	jobreg_refresh_result *res = NULL;

	if (jobreg_registry_sync(&res, reg, st, NULL) < 0)
		return fail("sync");
	printf("sync: %zu created, %zu unchanged, %zu source(s) skipped\n",
	       jobreg_refresh_result_created_count(res), jobreg_refresh_result_unchanged(res),
	       jobreg_refresh_result_skipped_count(res));
	jobreg_refresh_result_free(res);
	return 0;
}

static int demonstrate(jobreg_registry *reg, jobreg_storage *st, struct backend *b)
{
	jobreg_record_list *list = NULL;
	jobreg_record *rec = NULL;
	char *head = NULL;
	const char *id;
	int rc;

	if (sync_once(reg, st) || sync_once(reg, st))
		return 1;

	if (jobreg_storage_git_state_set(st, "net_jobs", "https://user:token@git.example/net.git",
	                                 "main", "0123456789abcdef0123456789abcdef01234567") < 0 ||
	    jobreg_storage_git_state_get(NULL, NULL, &head, st, "net_jobs") < 0)
		return fail("git state");
	printf("git state: current_head %s\n", head);
	jobreg_free(head);

	/* A write that fails: the transaction is rolled back, the error kept. */
	if (jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL) < 0 || !jobreg_record_list_count(list))
		return fail("list");
	id = jobreg_record_text(jobreg_record_list_get(list, 0), JOBREG_FIELD_ID);
	b->fail_next_write = 1;
	rc = jobreg_storage_set_enabled(st, id, 1);
	printf("enable: %s (%s)\n", jobreg_error_last()->message, jobreg_error_name(rc));
	if (jobreg_storage_get(&rec, st, id) < 0) {
		jobreg_record_list_free(list);
		return fail("get");
	}
	printf("enabled after the rollback: %d\n", jobreg_record_bool(rec, JOBREG_FIELD_ENABLED));
	jobreg_record_free(rec);
	rc = jobreg_storage_set_enabled(st, id, 1);
	printf("enable again: %s\n", rc == 0 ? "ok" : jobreg_error_last()->message);
	jobreg_record_list_free(list);
	return rc < 0;
}

int main(int argc, char **argv)
{
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;
	jobreg_storage *st = NULL;
	struct backend *b = NULL;
	int rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s JOBS_ROOT\n", argv[0]);
		return 2;
	}
	if (jobreg_init(NULL) < 0)
		return fail("init");
	if (jobreg_registry_new(&reg, NULL) < 0 || jobreg_source_dir_new(&src, argv[1]) < 0 ||
	    jobreg_registry_add_source(reg, src) < 0) {
		jobreg_source_free(src);
		rc = fail("registry");
		goto out;
	}
	if (example_storage_new(&st, &b) < 0) {
		rc = fail("storage");
		goto out;
	}
	rc = demonstrate(reg, st, b);
out:
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
	jobreg_shutdown();
	return rc;
}
