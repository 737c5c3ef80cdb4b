/*
 * storage.c: the storage handle: a copy of the backend's table, its
 * payload and a lock; transactions and every call into the backend, with
 * their errors turned into the library's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jobreg/storage.h"
#include "options.h"
#include "storage_internal.h"
#include "util.h"

static const size_t backend_sizes[] = {
	JR_SIZE_THROUGH(jobreg_storage_backend, free_payload),       /* version 1 */
	JR_SIZE_THROUGH(jobreg_storage_backend, source_state_write), /* version 2 */
	JR_SIZE_THROUGH(jobreg_storage_backend, runs_read),          /* version 3 */
};

int jobreg_storage_error_set(int code, const char *message)
{
	return jr_error_set(code, "%s", message ? message : "storage backend error");
}

/*
 * What a backend callback returned, as the library's error: unknown or
 * positive codes become JOBREG_ESTORAGE, and a failure the backend did not
 * explain gets a message naming the callback.
 */
int jr_storage_backend_result(int rc, const char *callback)
{
	if (rc == 0)
		return 0;
	if (rc > 0 || strcmp(jobreg_error_name(rc), "JOBREG_UNKNOWN") == 0) {
		return jr_error_set(JOBREG_ESTORAGE, "storage backend: %s failed with code %d", callback,
		                    rc);
	}
	if (jr_error_code() != rc)
		jr_error_set(rc, "storage backend: %s failed: %s", callback, jobreg_strerror(rc));
	return rc;
}

/*
 * An error-checking mutex: a thread that already holds it (a backend
 * callback calling back into its own handle) gets EDEADLK from
 * pthread_mutex_lock() instead of waiting for itself forever.
 */
static int init_lock(pthread_mutex_t *lock)
{
	pthread_mutexattr_t attr;
	int rc;

	if (pthread_mutexattr_init(&attr) != 0)
		return -1;
	rc = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
	if (rc == 0)
		rc = pthread_mutex_init(lock, &attr);
	pthread_mutexattr_destroy(&attr);
	return rc;
}

/* Take the handle's lock; JOBREG_ESTATE when this thread holds it already. */
static int lock_handle(jobreg_storage *st, const char *doing)
{
	int rc = pthread_mutex_lock(&st->lock);

	if (rc == EDEADLK)
		return jr_error_set(JOBREG_ESTATE,
		                    "%s: this thread is already inside a call on this storage handle "
		                    "(a backend or host callback called back into it); calls on a "
		                    "storage handle do not nest",
		                    doing);
	if (rc != 0)
		return jr_error_set(JOBREG_ERROR, "%s: cannot lock the storage handle: %s", doing,
		                    strerror(rc));
	return 0;
}

int jobreg_storage_new(jobreg_storage **out, const jobreg_storage_backend *backend, void *payload)
{
	static const struct {
		size_t offset;
		const char *name;
	} required[] = {
		{ offsetof(jobreg_storage_backend, begin), "begin" },
		{ offsetof(jobreg_storage_backend, commit), "commit" },
		{ offsetof(jobreg_storage_backend, rollback), "rollback" },
		{ offsetof(jobreg_storage_backend, read_records), "read_records" },
		{ offsetof(jobreg_storage_backend, write_record), "write_record" },
		{ offsetof(jobreg_storage_backend, delete_record), "delete_record" },
	};
	jobreg_storage_backend table;
	jobreg_storage *st;
	size_t i;
	int rc;

	if (!out || !backend)
		return jr_error_set(JOBREG_EINVAL, "jobreg_storage_new: NULL %s", out ? "backend" : "out");
	*out = NULL;
	if (backend->version == 0)
		return jr_error_set(JOBREG_EVERSION,
		                    "jobreg_storage_backend: version 0 is not a version (use %u)",
		                    JOBREG_STORAGE_BACKEND_VERSION);
	memset(&table, 0, sizeof(table));
	rc = jr_options_read(&table, backend, backend_sizes,
	                     sizeof(backend_sizes) / sizeof(backend_sizes[0]),
	                     "jobreg_storage_backend");
	if (rc < 0)
		return rc;
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		void *fn;
		memcpy(&fn, (const char *)&table + required[i].offset, sizeof(fn));
		if (!fn)
			return jr_error_set(JOBREG_EINVAL,
			                    "jobreg_storage_backend: the required callback \"%s\" is NULL",
			                    required[i].name);
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return jr_error_oom();
	if (init_lock(&st->lock) != 0) {
		free(st);
		return jr_error_set(JOBREG_ERROR, "jobreg_storage_new: cannot create a mutex");
	}
	st->backend = table;
	st->payload = payload;
	*out = st;
	return 0;
}

void jobreg_storage_free(jobreg_storage *st)
{
	if (!st)
		return;
	/* From a callback of this very handle: freeing it would pull it from
	 * under the call in progress. Refused (the error says so), never a
	 * crash; the host's next free works. */
	if (lock_handle(st, "jobreg_storage_free") < 0)
		return;
	pthread_mutex_unlock(&st->lock);
	if (st->backend.free_payload)
		st->backend.free_payload(st->payload);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/* ---- transactions ------------------------------------------------ */

int jr_storage_begin(jobreg_storage *st, unsigned int flags)
{
	int rc;

	if (!st)
		return jr_error_set(JOBREG_EINVAL, "storage handle is NULL");
	if ((rc = lock_handle(st, "storage transaction")) < 0)
		return rc;
	jobreg_error_clear();
	rc = jr_storage_backend_result(st->backend.begin(flags, st->payload), "begin");
	if (rc < 0)
		pthread_mutex_unlock(&st->lock);
	return rc;
}

int jr_storage_rollback(jobreg_storage *st, int rc)
{
	jr_saved_error cause;

	/* The caller wants the error that caused the rollback, not the rollback's. */
	jr_error_save(&cause, rc);
	st->backend.rollback(st->payload);
	jr_error_restore(&cause);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int jr_storage_commit(jobreg_storage *st)
{
	int rc;

	jobreg_error_clear();
	rc = jr_storage_backend_result(st->backend.commit(st->payload), "commit");
	if (rc < 0)
		return jr_storage_rollback(st, rc);
	pthread_mutex_unlock(&st->lock);
	return 0;
}

/* ---- records ----------------------------------------------------- */

static int collect(jobreg_record *rec, void *emit_payload)
{
	if (!rec)
		return jr_error_set(JOBREG_EINVAL, "storage backend: read_records emitted NULL");
	return jr_records_push(emit_payload, rec);
}

int jr_storage_read_all(jr_records *out, jobreg_storage *st)
{
	jobreg_error_clear();
	return jr_storage_backend_result(st->backend.read_records(collect, out, st->payload),
	                                 "read_records");
}

int jr_storage_write(jobreg_storage *st, const jobreg_record *rec)
{
	jobreg_error_clear();
	return jr_storage_backend_result(st->backend.write_record(rec, st->payload), "write_record");
}

int jr_storage_delete(jobreg_storage *st, const char *id)
{
	jobreg_error_clear();
	return jr_storage_backend_result(st->backend.delete_record(id, st->payload), "delete_record");
}

/* ---- lookups (version 3, or every record read) -------------------- */

int jr_record_compare_for_list(const void *pa, const void *pb)
{
	static const jobreg_field order[] = { JOBREG_FIELD_GROUPING, JOBREG_FIELD_NAME,
		                                  JOBREG_FIELD_CLASS_PATH, JOBREG_FIELD_ID };
	const jobreg_record *a = *(jobreg_record *const *)pa, *b = *(jobreg_record *const *)pb;
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int c = strcmp(jr_record_text(a, order[i]), jr_record_text(b, order[i]));
		if (c)
			return c;
	}
	return 0;
}

int jr_record_filter_match(const jobreg_record *rec, const jobreg_record_filter *f)
{
	if (f->source_type && strcmp(jr_record_text(rec, JOBREG_FIELD_SOURCE_TYPE), f->source_type))
		return 0;
	if (f->source_name && strcmp(jr_record_text(rec, JOBREG_FIELD_SOURCE), f->source_name))
		return 0;
	if (f->installed != JOBREG_INSTALLED_ALL &&
	    jr_record_flag(rec, JOBREG_FIELD_INSTALLED) != (f->installed == JOBREG_INSTALLED_YES))
		return 0;
	if (f->enabled >= 0 && jr_record_flag(rec, JOBREG_FIELD_ENABLED) != f->enabled)
		return 0;
	return 1;
}

void jr_records_page(jr_records *list, const jobreg_record_filter *f)
{
	size_t i, kept = 0;

	if (list->count > 1) /* items is NULL when empty: not for qsort */
		qsort(list->items, list->count, sizeof(list->items[0]), jr_record_compare_for_list);
	for (i = 0; i < list->count; i++) {
		if (i >= f->offset && (f->limit == 0 || kept < f->limit))
			list->items[kept++] = list->items[i];
		else
			jobreg_record_free(list->items[i]);
	}
	list->count = kept;
}

/* Every record, searched for `value` in `field`: for backends before version 3. */
static int find_in_all(jobreg_record **out, jobreg_storage *st, jobreg_field field,
                       const char *value)
{
	jr_records all = { NULL, 0, 0 };
	size_t i;
	int rc = jr_storage_read_all(&all, st);

	for (i = 0; rc == 0 && i < all.count; i++) {
		if (strcmp(jr_record_text(all.items[i], field), value) == 0) {
			*out = all.items[i];
			all.items[i] = NULL; /* taken */
			break;
		}
	}
	if (rc == 0 && !*out)
		rc = JOBREG_ENOTFOUND;
	jr_records_clear(&all);
	return rc;
}

/* A looked-up record from a backend: ENOTFOUND is an answer, not a failure. */
static int lookup_result(jobreg_record **out, int rc, const char *callback)
{
	if (rc == JOBREG_ENOTFOUND) {
		jobreg_record_free(*out); /* a backend that set it anyway */
		*out = NULL;
		return rc;
	}
	if ((rc = jr_storage_backend_result(rc, callback)) < 0) {
		jobreg_record_free(*out);
		*out = NULL;
		return rc;
	}
	if (!*out)
		return jr_error_set(JOBREG_ESTORAGE, "storage backend: %s returned no record", callback);
	return 0;
}

int jr_storage_get_by_id(jobreg_record **out, jobreg_storage *st, const char *id)
{
	*out = NULL;
	jobreg_error_clear();
	if (!st->backend.get_record_by_id)
		return find_in_all(out, st, JOBREG_FIELD_ID, id);
	return lookup_result(out, st->backend.get_record_by_id(out, id, st->payload),
	                     "get_record_by_id");
}

int jr_storage_get_by_class_path(jobreg_record **out, jobreg_storage *st, const char *class_path)
{
	const char *dot = strrchr(class_path, '.');
	char *module;
	int rc;

	*out = NULL;
	jobreg_error_clear();
	if (!st->backend.get_record_by_class)
		return find_in_all(out, st, JOBREG_FIELD_CLASS_PATH, class_path);
	/* A class name has no dot: the module is all before the last one. */
	if (!dot || dot == class_path || !dot[1])
		return JOBREG_ENOTFOUND;
	if (!(module = jr_strndup(class_path, (size_t)(dot - class_path))))
		return JOBREG_ENOMEM;
	rc = st->backend.get_record_by_class(out, module, dot + 1, st->payload);
	free(module);
	return lookup_result(out, rc, "get_record_by_class");
}

struct filtered {
	jr_records *out;
	const jobreg_record_filter *filter;
};

static int collect_matching(jobreg_record *rec, void *emit_payload)
{
	struct filtered *f = emit_payload;

	if (!rec)
		return jr_error_set(JOBREG_EINVAL, "storage backend: read_records emitted NULL");
	if (!jr_record_filter_match(rec, f->filter)) {
		jobreg_record_free(rec);
		return 0;
	}
	return jr_records_push(f->out, rec);
}

int jr_storage_list(jr_records *out, jobreg_storage *st, const jobreg_record_filter *filter)
{
	struct filtered f = { out, filter };
	int rc;

	jobreg_error_clear();
	if (st->backend.list_records)
		return jr_storage_backend_result(st->backend.list_records(collect, out, filter,
		                                                          st->payload),
		                                 "list_records");
	rc = jr_storage_backend_result(st->backend.read_records(collect_matching, &f, st->payload),
	                               "read_records");
	if (rc == 0)
		jr_records_page(out, filter);
	return rc;
}

/* ---- source state ------------------------------------------------ */

int jr_storage_keeps_source_state(const jobreg_storage *st)
{
	return st->backend.source_state_read && st->backend.source_state_write;
}

int jr_storage_source_state_read(char **out, jobreg_storage *st, const char *source_type,
                                 const char *source_name)
{
	const char *state = NULL;
	int rc;

	*out = NULL;
	jobreg_error_clear();
	rc = st->backend.source_state_read(&state, source_type, source_name, st->payload);
	if (rc == JOBREG_ENOTFOUND)
		return 0;
	if ((rc = jr_storage_backend_result(rc, "source_state_read")) < 0)
		return rc;
	if (state && !(*out = jr_strdup(state)))
		return JOBREG_ENOMEM;
	return 0;
}

int jr_storage_source_state_write(jobreg_storage *st, const char *source_type,
                                  const char *source_name, const char *state)
{
	jobreg_error_clear();
	return jr_storage_backend_result(st->backend.source_state_write(source_type, source_name, state,
	                                                                st->payload),
	                                 "source_state_write");
}

/* ---- load errors ------------------------------------------------- */

int jr_load_error_rows_push(jr_load_error_rows *rows, const jobreg_load_error_row *row)
{
	jobreg_load_error_row copy = *row;
	const char **const strings[] = { &copy.source_type, &copy.source_name, &copy.module,
		                             &copy.file,        &copy.type,        &copy.message,
		                             &copy.traceback,   &copy.when };

	jobreg_load_error_row *items = jr_array_room(rows->items, &rows->capacity, rows->count,
	                                             sizeof(*items));

	if (!items)
		return jr_error_oom();
	rows->items = items;
	/* The block starts at source_type: jr_load_error_rows_clear() frees that. */
	if (!jr_pack_strings(strings, sizeof(strings) / sizeof(strings[0])))
		return jr_error_oom();
	rows->items[rows->count++] = copy;
	return 0;
}

void jr_load_error_rows_clear(jr_load_error_rows *rows)
{
	size_t i;

	for (i = 0; i < rows->count; i++)
		free((char *)rows->items[i].source_type); /* the row's block */
	free(rows->items);
	memset(rows, 0, sizeof(*rows));
}

int jr_storage_keeps_load_errors(const jobreg_storage *st)
{
	return st->backend.load_errors_replace && st->backend.load_errors_read;
}

static int collect_load_error(const jobreg_load_error_row *row, void *emit_payload)
{
	if (!row)
		return jr_error_set(JOBREG_EINVAL, "storage backend: load_errors_read emitted NULL");
	return jr_load_error_rows_push(emit_payload, row);
}

int jr_storage_load_errors_read(jr_load_error_rows *out, jobreg_storage *st,
                                const char *source_type, const char *source_name)
{
	if (!jr_storage_keeps_load_errors(st))
		return 0;
	jobreg_error_clear();
	return jr_storage_backend_result(st->backend.load_errors_read(collect_load_error, out,
	                                                              source_type, source_name,
	                                                              st->payload),
	                                 "load_errors_read");
}

int jr_storage_load_errors_replace(jobreg_storage *st, const char *source_type,
                                   const char *source_name, const jobreg_load_error_row *rows,
                                   size_t count)
{
	if (!jr_storage_keeps_load_errors(st))
		return 0;
	jobreg_error_clear();
	return jr_storage_backend_result(st->backend.load_errors_replace(source_type, source_name, rows,
	                                                                 count, st->payload),
	                                 "load_errors_replace");
}
