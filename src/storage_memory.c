/*
 * storage_memory.c: the in-memory backend. Records live in an array
 * indexed by id; a transaction keeps an undo log (each change's previous
 * value) that rollback replays backwards, so a rollback is exact and a
 * commit costs nothing.
 *
 * For tests of that rollback: with JOBREG_TEST_MEMORY_FAIL_WRITE=N in the
 * environment when a transaction begins, its Nth write or delete fails
 * (JOBREG_ESTORAGE) after the earlier ones were applied.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jobreg/storage.h"
#include "storage_internal.h"
#include "strmap.h"
#include "util.h"

struct git_state {
	char *slug, *remote_url, *branch, *current_head;
};

/* A source's state: key "type\nname" (no source name holds a newline). */
struct source_state {
	char *key, *state;
};

enum undo_kind {
	UNDO_RECORD,
	UNDO_GIT,
	UNDO_SOURCE,
	UNDO_ERRORS,
	UNDO_RUN
};

/* A source's load errors: key "type\nname"; absent is the same as empty. */
struct errset {
	char *key;
	jr_load_error_rows rows;
};

struct undo {
	enum undo_kind kind;
	char *key;                  /* the record's id, the repository's slug, the source's key */
	jobreg_record *record;      /* the record before the change, or NULL: absent */
	struct git_state *git;      /* the git state before, or NULL: absent */
	char *state;                /* the source state before, or NULL: absent */
	jr_load_error_rows *errors; /* the load errors before (UNDO_ERRORS) */
	jr_run_rows *run;           /* the run record before (UNDO_RUN): none or one row */
};

struct memory {
	jr_records records;
	jr_strmap by_id; /* id -> index + 1 */
	/* class path -> index + 1, rebuilt by the first lookup after a change */
	jr_strmap by_class;
	int by_class_stale;
	struct git_state *git;
	size_t git_count, git_capacity;
	struct source_state *sources;
	size_t source_count, source_capacity;
	struct errset *errsets;
	size_t errset_count, errset_capacity;
	jr_run_rows runs; /* in the order written */
	struct undo *undo;
	size_t undo_count, undo_capacity;
	int in_transaction;
	long changes, fail_change; /* this transaction's writes and deletes; test hook */
};

static const char *id_of(const jobreg_record *rec)
{
	return jr_record_text(rec, JOBREG_FIELD_ID);
}

static int reindex(struct memory *m, size_t expected)
{
	jr_strmap map;
	size_t i;

	if (jr_strmap_init(&map, expected) < 0)
		return JOBREG_ENOMEM;
	for (i = 0; i < m->records.count; i++) {
		struct jr_strmap_slot *slot = jr_strmap_slot(&map, id_of(m->records.items[i]));
		slot->key = id_of(m->records.items[i]);
		slot->value = (void *)(uintptr_t)(i + 1);
		jr_strmap_added(&map);
	}
	jr_strmap_free(&m->by_id);
	m->by_id = map;
	return 0;
}

static size_t find(const struct memory *m, const char *id) /* index + 1, or 0 */
{
	return (size_t)(uintptr_t)jr_strmap_get(&m->by_id, id);
}

/* Put a copy of `rec` in place of the record with its id, or append it. */
static int put(struct memory *m, const jobreg_record *rec)
{
	size_t at = find(m, id_of(rec));
	jobreg_record *copy = jr_record_dup(rec);

	if (!copy)
		return JOBREG_ENOMEM;
	m->by_class_stale = 1;
	if (at) {
		struct jr_strmap_slot *slot = jr_strmap_slot(&m->by_id, id_of(rec));
		jobreg_record_free(m->records.items[at - 1]);
		m->records.items[at - 1] = copy;
		slot->key = id_of(copy); /* the old key string is gone */
		return 0;
	}
	/* Keep the map at most half full, growing it before it is needed. */
	if ((m->by_id.count + 1) * 2 > m->by_id.capacity &&
	    reindex(m, (m->records.count + 1) * 2) < 0) {
		jobreg_record_free(copy);
		return JOBREG_ENOMEM;
	}
	if (jr_records_push(&m->records, copy) < 0)
		return JOBREG_ENOMEM;
	{
		struct jr_strmap_slot *slot = jr_strmap_slot(&m->by_id, id_of(copy));
		slot->key = id_of(copy);
		slot->value = (void *)(uintptr_t)m->records.count;
		jr_strmap_added(&m->by_id);
	}
	return 0;
}

static int remove_record(struct memory *m, const char *id)
{
	size_t at = find(m, id), i, kept = 0;
	jr_strmap map;

	if (!at)
		return 0;
	m->by_class_stale = 1;
	/* The new index first: running out of memory then changes nothing. */
	if (jr_strmap_init(&map, m->records.count * 2) < 0)
		return JOBREG_ENOMEM;
	for (i = 0; i < m->records.count; i++) {
		struct jr_strmap_slot *slot;
		if (i == at - 1)
			continue;
		slot = jr_strmap_slot(&map, id_of(m->records.items[i]));
		slot->key = id_of(m->records.items[i]);
		slot->value = (void *)(uintptr_t)(++kept);
		jr_strmap_added(&map);
	}
	jr_strmap_free(&m->by_id);
	m->by_id = map;
	jobreg_record_free(m->records.items[at - 1]);
	memmove(&m->records.items[at - 1], &m->records.items[at],
	        (m->records.count - at) * sizeof(m->records.items[0]));
	m->records.count--;
	return 0;
}

/* ---- git state --------------------------------------------------- */

static void git_state_free(struct git_state *g)
{
	if (!g)
		return;
	free(g->slug);
	free(g->remote_url);
	free(g->branch);
	free(g->current_head);
	g->slug = g->remote_url = g->branch = g->current_head = NULL;
}

static struct git_state *git_find(struct memory *m, const char *slug)
{
	size_t i;
	for (i = 0; i < m->git_count; i++)
		if (strcmp(m->git[i].slug, slug) == 0)
			return &m->git[i];
	return NULL;
}

static int git_fill(struct git_state *g, const char *slug, const char *url, const char *branch,
                    const char *head)
{
	g->slug = jr_strdup(slug);
	g->remote_url = jr_strdup(url);
	g->branch = jr_strdup(branch);
	g->current_head = jr_strdup(head);
	if (!g->slug || !g->remote_url || !g->branch || !g->current_head) {
		git_state_free(g);
		return JOBREG_ENOMEM;
	}
	return 0;
}

static int git_put(struct memory *m, const char *slug, const char *url, const char *branch,
                   const char *head)
{
	struct git_state fresh, *old = git_find(m, slug);

	if (git_fill(&fresh, slug, url, branch, head) < 0)
		return JOBREG_ENOMEM;
	if (old) {
		git_state_free(old);
		*old = fresh;
		return 0;
	}
	if (m->git_count == m->git_capacity) {
		size_t cap = m->git_capacity ? m->git_capacity * 2 : 4;
		struct git_state *p = realloc(m->git, cap * sizeof(*p));
		if (!p) {
			git_state_free(&fresh);
			return jr_error_oom();
		}
		m->git = p;
		m->git_capacity = cap;
	}
	m->git[m->git_count++] = fresh;
	return 0;
}

static void git_remove(struct memory *m, const char *slug)
{
	struct git_state *g = git_find(m, slug);

	if (!g)
		return;
	git_state_free(g);
	*g = m->git[--m->git_count];
}

/* ---- source state ------------------------------------------------ */

static struct source_state *source_find(struct memory *m, const char *key)
{
	size_t i;
	for (i = 0; i < m->source_count; i++)
		if (strcmp(m->sources[i].key, key) == 0)
			return &m->sources[i];
	return NULL;
}

static void source_remove(struct memory *m, const char *key)
{
	struct source_state *e = source_find(m, key);

	if (!e)
		return;
	free(e->key);
	free(e->state);
	*e = m->sources[--m->source_count];
}

/* Store `state` under `key`; NULL removes it. */
static int source_put(struct memory *m, const char *key, const char *state)
{
	struct source_state *e = source_find(m, key);
	char *copy;

	if (!state) {
		source_remove(m, key);
		return 0;
	}
	if (!(copy = jr_strdup(state)))
		return JOBREG_ENOMEM;
	if (e) {
		free(e->state);
		e->state = copy;
		return 0;
	}
	if (m->source_count == m->source_capacity) {
		size_t cap = m->source_capacity ? m->source_capacity * 2 : 4;
		struct source_state *p = realloc(m->sources, cap * sizeof(*p));
		if (!p) {
			free(copy);
			return jr_error_oom();
		}
		m->sources = p;
		m->source_capacity = cap;
	}
	e = &m->sources[m->source_count];
	if (!(e->key = jr_strdup(key))) {
		free(copy);
		return JOBREG_ENOMEM;
	}
	e->state = copy;
	m->source_count++;
	return 0;
}

static char *source_key(const char *type, const char *name)
{
	return jr_asprintf("%s\n%s", type, name);
}

/* ---- load errors ------------------------------------------------- */

static struct errset *errset_find(struct memory *m, const char *key)
{
	size_t i;
	for (i = 0; i < m->errset_count; i++)
		if (strcmp(m->errsets[i].key, key) == 0)
			return &m->errsets[i];
	return NULL;
}

/* The set under `key`, added empty when absent; NULL when out of memory. */
static struct errset *errset_get(struct memory *m, const char *key)
{
	struct errset *e = errset_find(m, key);

	if (e)
		return e;
	if (m->errset_count == m->errset_capacity) {
		size_t cap = m->errset_capacity ? m->errset_capacity * 2 : 8;
		struct errset *p = realloc(m->errsets, cap * sizeof(*p));
		if (!p)
			return NULL;
		m->errsets = p;
		m->errset_capacity = cap;
	}
	e = &m->errsets[m->errset_count];
	memset(e, 0, sizeof(*e));
	if (!(e->key = jr_strdup(key)))
		return NULL;
	m->errset_count++;
	return e;
}

/* Rollback: put back the rows an UNDO_ERRORS entry saved (moved, not copied). */
static void errset_restore(struct memory *m, struct undo *u)
{
	struct errset *e = errset_find(m, u->key);

	if (!e)
		return; /* never added: nothing was replaced */
	jr_load_error_rows_clear(&e->rows);
	e->rows = *u->errors;
	memset(u->errors, 0, sizeof(*u->errors));
}

/* ---- run records -------------------------------------------------- */

static size_t run_find(const struct memory *m, const char *id) /* index + 1, or 0 */
{
	size_t i;

	for (i = 0; i < m->runs.count; i++)
		if (strcmp(m->runs.items[i].id, id) == 0)
			return i + 1;
	return 0;
}

/* Put the row of `from` (one row, moved) at index `at - 1`, or remove that
 * row when `from` is empty. */
static void run_replace(struct memory *m, size_t at, jr_run_rows *from)
{
	jr_run_rows *runs = &m->runs;

	free((char *)runs->items[at - 1].id); /* the row's block */
	if (from->count) {
		runs->items[at - 1] = from->items[0];
		from->count = 0;
	} else {
		memmove(&runs->items[at - 1], &runs->items[at],
		        (runs->count - at) * sizeof(runs->items[0]));
		runs->count--;
	}
}

/* Rollback: put back the run record an UNDO_RUN entry saved (or remove it). */
static void run_restore(struct memory *m, struct undo *u)
{
	size_t at = run_find(m, u->key);

	if (at)
		run_replace(m, at, u->run);
}

static void undo_free(struct undo *u)
{
	free(u->key);
	jobreg_record_free(u->record);
	git_state_free(u->git);
	free(u->git);
	free(u->state);
	if (u->errors) {
		jr_load_error_rows_clear(u->errors);
		free(u->errors);
	}
	if (u->run) {
		jr_run_rows_clear(u->run);
		free(u->run);
	}
}

static void undo_clear(struct memory *m)
{
	size_t i;
	for (i = 0; i < m->undo_count; i++)
		undo_free(&m->undo[i]);
	m->undo_count = 0;
}

/* Remember the current value under `key` (a record id, git slug or source key). */
static int undo_save(struct memory *m, enum undo_kind kind, const char *key)
{
	struct undo u = { kind, jr_strdup(key), NULL, NULL, NULL, NULL, NULL };

	if (!u.key)
		return JOBREG_ENOMEM;
	if (kind == UNDO_RECORD) {
		size_t at = find(m, key);
		if (at && !(u.record = jr_record_dup(m->records.items[at - 1])))
			goto oom;
	} else if (kind == UNDO_GIT) {
		struct git_state *g = git_find(m, key);
		if (g) {
			u.git = calloc(1, sizeof(*u.git));
			if (!u.git || git_fill(u.git, g->slug, g->remote_url, g->branch, g->current_head) < 0)
				goto oom;
		}
	} else {
		struct source_state *e = source_find(m, key);
		if (e && !(u.state = jr_strdup(e->state)))
			goto oom;
	}
	if (m->undo_count == m->undo_capacity) {
		size_t cap = m->undo_capacity ? m->undo_capacity * 2 : 16;
		struct undo *p = realloc(m->undo, cap * sizeof(*p));
		if (!p)
			goto oom;
		m->undo = p;
		m->undo_capacity = cap;
	}
	m->undo[m->undo_count++] = u;
	return 0;
oom:
	undo_free(&u);
	return jr_error_oom();
}

/* Undo the last saved entry (the change it guarded failed). */
static void undo_drop_last(struct memory *m)
{
	undo_free(&m->undo[--m->undo_count]);
}

/* ---- the backend ------------------------------------------------- */

static int memory_begin(unsigned int flags, void *payload)
{
	struct memory *m = payload;

	const char *fail = getenv("JOBREG_TEST_MEMORY_FAIL_WRITE");

	(void)flags;
	if (m->in_transaction)
		return jr_error_set(JOBREG_ESTORAGE, "memory storage: a transaction is already open");
	m->in_transaction = 1;
	m->changes = 0;
	m->fail_change = fail ? strtol(fail, NULL, 10) : 0;
	return 0;
}

/* The test hook: 0, or the injected failure of this change. */
static int count_change(struct memory *m)
{
	if (++m->changes == m->fail_change)
		return jr_error_set(JOBREG_ESTORAGE,
		                    "memory storage: change %ld fails (JOBREG_TEST_MEMORY_FAIL_WRITE)",
		                    m->changes);
	return 0;
}

static int memory_commit(void *payload)
{
	struct memory *m = payload;

	undo_clear(m);
	m->in_transaction = 0;
	return 0;
}

static int memory_rollback(void *payload)
{
	struct memory *m = payload;
	int rc = 0;

	while (m->undo_count) {
		struct undo *u = &m->undo[m->undo_count - 1];
		int step;

		if (u->kind == UNDO_GIT) {
			if (u->git)
				step = git_put(m, u->git->slug, u->git->remote_url, u->git->branch,
				               u->git->current_head);
			else
				step = (git_remove(m, u->key), 0);
		} else if (u->kind == UNDO_SOURCE) {
			step = source_put(m, u->key, u->state);
		} else if (u->kind == UNDO_ERRORS) {
			step = 0;
			errset_restore(m, u);
		} else if (u->kind == UNDO_RUN) {
			step = 0;
			run_restore(m, u);
		} else {
			step = u->record ? put(m, u->record) : remove_record(m, u->key);
		}
		if (step < 0)
			rc = step; /* out of memory while undoing: keep going */
		undo_drop_last(m);
	}
	m->in_transaction = 0;
	return rc;
}

static int memory_read_records(jobreg_storage_emit_fn emit, void *emit_payload, void *payload)
{
	struct memory *m = payload;
	size_t i;
	int rc;

	for (i = 0; i < m->records.count; i++) {
		jobreg_record *copy = jr_record_dup(m->records.items[i]);
		if (!copy)
			return JOBREG_ENOMEM;
		if ((rc = emit(copy, emit_payload)) != 0)
			return rc;
	}
	return 0;
}

static int memory_write_record(const jobreg_record *rec, void *payload)
{
	struct memory *m = payload;
	int rc;

	if (!*id_of(rec))
		return jr_error_set(JOBREG_EINVAL, "memory storage: cannot write a record without an id");
	if ((rc = count_change(m)) < 0 || (rc = undo_save(m, UNDO_RECORD, id_of(rec))) < 0)
		return rc;
	if ((rc = put(m, rec)) < 0)
		undo_drop_last(m);
	return rc;
}

static int memory_delete_record(const char *id, void *payload)
{
	struct memory *m = payload;
	int rc;

	if ((rc = count_change(m)) < 0)
		return rc;
	if (!find(m, id))
		return 0;
	if ((rc = undo_save(m, UNDO_RECORD, id)) < 0)
		return rc;
	if ((rc = remove_record(m, id)) < 0)
		undo_drop_last(m);
	return rc;
}

static int memory_git_state_read(const char **remote_url, const char **branch,
                                 const char **current_head, const char *slug, void *payload)
{
	struct git_state *g = git_find(payload, slug);

	if (!g)
		return JOBREG_ENOTFOUND;
	*remote_url = g->remote_url;
	*branch = g->branch;
	*current_head = g->current_head;
	return 0;
}

static int memory_git_state_write(const char *slug, const char *remote_url, const char *branch,
                                  const char *current_head, void *payload)
{
	struct memory *m = payload;
	int rc;

	if ((rc = undo_save(m, UNDO_GIT, slug)) < 0)
		return rc;
	if ((rc = git_put(m, slug, remote_url, branch, current_head)) < 0)
		undo_drop_last(m);
	return rc;
}

static int memory_source_state_read(const char **state, const char *source_type,
                                    const char *source_name, void *payload)
{
	char *key = source_key(source_type, source_name);
	struct source_state *e;

	if (!key)
		return JOBREG_ENOMEM;
	e = source_find(payload, key);
	free(key);
	if (!e)
		return JOBREG_ENOTFOUND;
	*state = e->state;
	return 0;
}

static int memory_source_state_write(const char *source_type, const char *source_name,
                                     const char *state, void *payload)
{
	struct memory *m = payload;
	char *key = source_key(source_type, source_name);
	int rc;

	if (!key)
		return JOBREG_ENOMEM;
	if ((rc = undo_save(m, UNDO_SOURCE, key)) == 0 && (rc = source_put(m, key, state)) < 0)
		undo_drop_last(m);
	free(key);
	return rc;
}

static int memory_get_record_by_id(jobreg_record **out, const char *id, void *payload)
{
	struct memory *m = payload;
	size_t at = find(m, id);

	if (!at)
		return JOBREG_ENOTFOUND;
	if (!(*out = jr_record_dup(m->records.items[at - 1])))
		return JOBREG_ENOMEM;
	return 0;
}

static int rebuild_by_class(struct memory *m)
{
	jr_strmap map;
	size_t i;

	if (jr_strmap_init(&map, m->records.count * 2 + 1) < 0)
		return JOBREG_ENOMEM;
	for (i = 0; i < m->records.count; i++) {
		const char *key = jr_record_text(m->records.items[i], JOBREG_FIELD_CLASS_PATH);
		struct jr_strmap_slot *slot = jr_strmap_slot(&map, key);
		if (!slot->key) {
			slot->key = key;
			slot->value = (void *)(uintptr_t)(i + 1);
			jr_strmap_added(&map);
		}
	}
	jr_strmap_free(&m->by_class);
	m->by_class = map;
	m->by_class_stale = 0;
	return 0;
}

static int is_class(const jobreg_record *rec, const char *module_name, const char *job_class_name)
{
	return strcmp(jr_record_text(rec, JOBREG_FIELD_MODULE_NAME), module_name) == 0 &&
	       strcmp(jr_record_text(rec, JOBREG_FIELD_JOB_CLASS_NAME), job_class_name) == 0;
}

static int memory_get_record_by_class(jobreg_record **out, const char *module_name,
                                      const char *job_class_name, void *payload)
{
	struct memory *m = payload;
	char *path = jr_asprintf("%s.%s", module_name, job_class_name);
	size_t at, i;

	if (!path)
		return JOBREG_ENOMEM;
	if (m->by_class_stale && rebuild_by_class(m) < 0) {
		free(path);
		return JOBREG_ENOMEM;
	}
	at = (size_t)(uintptr_t)jr_strmap_get(&m->by_class, path);
	free(path);
	/* The class path is module + "." + class; a record that disagrees is
	 * found by a scan. */
	if (!at || !is_class(m->records.items[at - 1], module_name, job_class_name))
		for (at = 0, i = 0; i < m->records.count && !at; i++)
			if (is_class(m->records.items[i], module_name, job_class_name))
				at = i + 1;
	if (!at)
		return JOBREG_ENOTFOUND;
	if (!(*out = jr_record_dup(m->records.items[at - 1])))
		return JOBREG_ENOMEM;
	return 0;
}

static int memory_list_records(jobreg_storage_emit_fn emit, void *emit_payload,
                               const jobreg_record_filter *filter, void *payload)
{
	struct memory *m = payload;
	jobreg_record **match = malloc((m->records.count + 1) * sizeof(*match));
	size_t i, count = 0, sent = 0;
	int rc = 0;

	if (!match)
		return jr_error_oom();
	for (i = 0; i < m->records.count; i++)
		if (jr_record_filter_match(m->records.items[i], filter))
			match[count++] = m->records.items[i];
	if (count > 1)
		qsort(match, count, sizeof(*match), jr_record_compare_for_list);
	for (i = filter->offset; i < count && rc == 0; i++) {
		jobreg_record *copy;
		if (filter->limit && sent == filter->limit)
			break;
		if (!(copy = jr_record_dup(match[i]))) {
			rc = JOBREG_ENOMEM;
			break;
		}
		rc = emit(copy, emit_payload);
		sent++;
	}
	free(match);
	return rc;
}

static int memory_load_errors_replace(const char *source_type, const char *source_name,
                                      const jobreg_load_error_row *rows, size_t count,
                                      void *payload)
{
	struct memory *m = payload;
	jr_load_error_rows fresh = { NULL, 0, 0 };
	struct undo u = { UNDO_ERRORS, NULL, NULL, NULL, NULL, NULL, NULL };
	struct errset *e;
	size_t i;
	int rc;

	if ((rc = count_change(m)) < 0)
		return rc;
	for (i = 0; i < count && rc == 0; i++)
		rc = jr_load_error_rows_push(&fresh, &rows[i]);
	if (rc == 0 && m->undo_count == m->undo_capacity) {
		size_t cap = m->undo_capacity ? m->undo_capacity * 2 : 16;
		struct undo *p = realloc(m->undo, cap * sizeof(*p));
		if (p) {
			m->undo = p;
			m->undo_capacity = cap;
		}
		rc = p ? 0 : jr_error_oom();
	}
	if (rc == 0 && !((u.key = source_key(source_type, source_name)) &&
	                 (u.errors = calloc(1, sizeof(*u.errors))) && (e = errset_get(m, u.key))))
		rc = jr_error_oom();
	if (rc < 0) {
		jr_load_error_rows_clear(&fresh);
		undo_free(&u);
		return rc;
	}
	/* The old rows move to the undo log; rollback moves them back. */
	*u.errors = e->rows;
	e->rows = fresh;
	m->undo[m->undo_count++] = u;
	return 0;
}

static int memory_load_errors_read(jobreg_storage_load_error_emit_fn emit, void *emit_payload,
                                   const char *source_type, const char *source_name, void *payload)
{
	struct memory *m = payload;
	size_t i, j;
	int rc;

	for (i = 0; i < m->errset_count; i++) {
		const jr_load_error_rows *rows = &m->errsets[i].rows;
		for (j = 0; j < rows->count; j++) {
			const jobreg_load_error_row *row = &rows->items[j];
			if (source_type && strcmp(row->source_type, source_type) != 0)
				continue;
			if (source_name && strcmp(row->source_name, source_name) != 0)
				continue;
			if ((rc = emit(row, emit_payload)) != 0)
				return rc;
		}
	}
	return 0;
}

static int memory_run_write(const jobreg_run_row *row, void *payload)
{
	struct memory *m = payload;
	struct undo u = { UNDO_RUN, NULL, NULL, NULL, NULL, NULL, NULL };
	jr_run_rows fresh = { NULL, 0, 0 };
	size_t at = run_find(m, row->id);
	int rc;

	if ((rc = count_change(m)) < 0)
		return rc;
	if (!(u.key = jr_strdup(row->id)) || !(u.run = calloc(1, sizeof(*u.run))))
		rc = jr_error_oom();
	if (rc == 0 && at)
		rc = jr_run_rows_push(u.run, &m->runs.items[at - 1]);
	if (rc == 0)
		rc = jr_run_rows_push(at ? &fresh : &m->runs, row);
	if (rc == 0 && m->undo_count == m->undo_capacity) {
		size_t cap = m->undo_capacity ? m->undo_capacity * 2 : 16;
		struct undo *p = realloc(m->undo, cap * sizeof(*p));
		if (p) {
			m->undo = p;
			m->undo_capacity = cap;
		} else {
			rc = jr_error_oom();
			if (!at)
				run_replace(m, m->runs.count, &fresh); /* take the new row back out */
		}
	}
	if (rc < 0) {
		jr_run_rows_clear(&fresh);
		undo_free(&u);
		return rc;
	}
	if (at)
		run_replace(m, at, &fresh);
	jr_run_rows_clear(&fresh);
	m->undo[m->undo_count++] = u;
	return 0;
}

static int compare_run_pointers(const void *pa, const void *pb)
{
	return jr_run_row_compare(*(const jobreg_run_row *const *)pa,
	                          *(const jobreg_run_row *const *)pb);
}

static int memory_runs_read(jobreg_storage_run_emit_fn emit, void *emit_payload,
                            const jobreg_run_filter *filter, void *payload)
{
	struct memory *m = payload;
	const jobreg_run_row **match = malloc((m->runs.count + 1) * sizeof(*match));
	size_t i, count = 0, sent = 0;
	int rc = 0;

	if (!match)
		return jr_error_oom();
	for (i = 0; i < m->runs.count; i++)
		if (jr_run_row_matches(&m->runs.items[i], filter))
			match[count++] = &m->runs.items[i];
	if (count > 1)
		qsort(match, count, sizeof(*match), compare_run_pointers);
	for (i = filter->offset; i < count && rc == 0; i++) {
		if (filter->limit && sent == filter->limit)
			break;
		rc = emit(match[i], emit_payload);
		sent++;
	}
	free(match);
	return rc;
}

static void memory_free(void *payload)
{
	struct memory *m = payload;
	size_t i;

	if (!m)
		return;
	undo_clear(m);
	free(m->undo);
	for (i = 0; i < m->git_count; i++)
		git_state_free(&m->git[i]);
	free(m->git);
	for (i = 0; i < m->source_count; i++) {
		free(m->sources[i].key);
		free(m->sources[i].state);
	}
	free(m->sources);
	for (i = 0; i < m->errset_count; i++) {
		free(m->errsets[i].key);
		jr_load_error_rows_clear(&m->errsets[i].rows);
	}
	free(m->errsets);
	jr_run_rows_clear(&m->runs);
	jr_strmap_free(&m->by_id);
	jr_strmap_free(&m->by_class);
	jr_records_clear(&m->records);
	free(m);
}

const jobreg_storage_backend jr_storage_memory_backend = {
	.version = 3,
	.begin = memory_begin,
	.commit = memory_commit,
	.rollback = memory_rollback,
	.read_records = memory_read_records,
	.write_record = memory_write_record,
	.delete_record = memory_delete_record,
	.git_state_read = memory_git_state_read,
	.git_state_write = memory_git_state_write,
	.free_payload = memory_free,
	.source_state_read = memory_source_state_read,
	.source_state_write = memory_source_state_write,
	.get_record_by_id = memory_get_record_by_id,
	.get_record_by_class = memory_get_record_by_class,
	.list_records = memory_list_records,
	.load_errors_replace = memory_load_errors_replace,
	.load_errors_read = memory_load_errors_read,
	.run_write = memory_run_write,
	.runs_read = memory_runs_read,
};

int jobreg_storage_memory_new(jobreg_storage **out)
{
	struct memory *m;
	int rc;

	if (!out)
		return jr_error_set(JOBREG_EINVAL, "jobreg_storage_memory_new: out is NULL");
	m = calloc(1, sizeof(*m));
	if (!m)
		return jr_error_oom();
	m->by_class_stale = 1;
	if ((rc = jr_strmap_init(&m->by_id, 16)) == 0)
		rc = jobreg_storage_new(out, &jr_storage_memory_backend, m);
	if (rc < 0)
		memory_free(m);
	return rc;
}
