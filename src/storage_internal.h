/*
 * storage_internal.h: the storage handle and calling its backend (internal).
 *
 * Every library operation on records is one transaction:
 *
 *	if ((rc = jr_storage_begin(st, JOBREG_STORAGE_BEGIN_WRITE)) < 0)
 *		return rc;
 *	rc = ...jr_storage_read_all / _write / _delete...;
 *	return rc < 0 ? jr_storage_rollback(st, rc) : jr_storage_commit(st);
 *
 * begin takes the handle's lock; commit and rollback release it.
 */
#ifndef JR_STORAGE_INTERNAL_H
#define JR_STORAGE_INTERNAL_H

#include <pthread.h>

#include "jobreg/storage_ops.h"
#include "jobreg/sys/storage.h"
#include "record.h"

struct jobreg_storage {
	jobreg_storage_backend backend; /* the bytes of the caller's version, rest zero */
	void *payload;
	pthread_mutex_t lock;
};

/*
 * What a backend callback returned, as the library's error (0 or a
 * negative JOBREG_E* code with a message); `callback` names it.
 */
int jr_storage_backend_result(int rc, const char *callback);

/* Start a transaction (flags as the backend's begin). */
int jr_storage_begin(jobreg_storage *st, unsigned int flags);
/* Commit; on failure roll back. Returns 0 or the error. */
int jr_storage_commit(jobreg_storage *st);
/* Roll back, keeping the error that caused it; returns `rc`. */
int jr_storage_rollback(jobreg_storage *st, int rc);

/* Every stored record, appended to `out` (owned by the caller). */
int jr_storage_read_all(jr_records *out, jobreg_storage *st);
int jr_storage_write(jobreg_storage *st, const jobreg_record *rec);
int jr_storage_delete(jobreg_storage *st, const char *id);

/*
 * Inside a transaction: the record with id `id`, or whose class path is
 * `class_path`, owned by the caller in *out; JOBREG_ENOTFOUND (no message
 * recorded) when there is none. The backend's version 3 lookups, or else
 * every record read and searched.
 */
int jr_storage_get_by_id(jobreg_record **out, jobreg_storage *st, const char *id);
int jr_storage_get_by_class_path(jobreg_record **out, jobreg_storage *st, const char *class_path);
/* Inside a transaction: the records `filter` selects (a checked filter of
 * this library's version), in list order, appended to `out`. */
int jr_storage_list(jr_records *out, jobreg_storage *st, const jobreg_record_filter *filter);

/* 1 when `rec` meets every condition of `filter` (paging aside). */
int jr_record_filter_match(const jobreg_record *rec, const jobreg_record_filter *filter);
/* qsort comparator of jobreg_record pointers: the order of jobreg_storage_list(). */
int jr_record_compare_for_list(const void *pa, const void *pb);
/* Sort `list`, keep its page (filter offset and limit), free the rest. */
void jr_records_page(jr_records *list, const jobreg_record_filter *filter);

/* 1 when the backend keeps source state (version 2 callbacks). */
int jr_storage_keeps_source_state(const jobreg_storage *st);
/* Inside a transaction: the stored state of a source, a copy in *out (NULL
 * when none is stored); write stores it, NULL deletes it. */
int jr_storage_source_state_read(char **out, jobreg_storage *st, const char *source_type,
                                 const char *source_name);
int jr_storage_source_state_write(jobreg_storage *st, const char *source_type,
                                  const char *source_name, const char *state);

/* ---- load errors (backend version 3) ---- */

/* Owned copies of load error rows: each row's strings are one block that
 * starts at its source_type. */
typedef struct jr_load_error_rows {
	jobreg_load_error_row *items;
	size_t count, capacity;
} jr_load_error_rows;

/* Append a copy of `row` (NULL strings become ""). */
int jr_load_error_rows_push(jr_load_error_rows *rows, const jobreg_load_error_row *row);
/* Free every row (the array too). */
void jr_load_error_rows_clear(jr_load_error_rows *rows);

/* 1 when the backend stores load errors (both version 3 callbacks). */
int jr_storage_keeps_load_errors(const jobreg_storage *st);
/* Inside a transaction: the stored load errors of a source (NULL name: of
 * every source of the type; both NULL: all), appended to `out`. */
int jr_storage_load_errors_read(jr_load_error_rows *out, jobreg_storage *st,
                                const char *source_type, const char *source_name);
/* Inside a write transaction: replace a source's stored load errors. */
int jr_storage_load_errors_replace(jobreg_storage *st, const char *source_type,
                                   const char *source_name, const jobreg_load_error_row *rows,
                                   size_t count);

/*
 * (refresh.c) Inside a write transaction: store the load errors of `snap`
 * for the source (`source_type` "local", "git" or "app", `source_name`),
 * or for every source when `source_type` is NULL (then the stored errors
 * of sources `snap` lacks are deleted). Nothing when the backend keeps no
 * load errors.
 */
int jr_refresh_store_load_errors(jobreg_storage *st, const struct jobreg_snapshot *snap,
                                 const char *source_type, const char *source_name);

/* ---- run records (backend version 3; storage_runs.c) ---- */

/* Owned copies of run rows: each row's strings are one block that starts
 * at its id. */
typedef struct jr_run_rows {
	jobreg_run_row *items;
	size_t count, capacity;
} jr_run_rows;

/* Append a copy of `row` (NULL strings become ""). */
int jr_run_rows_push(jr_run_rows *rows, const jobreg_run_row *row);
/* Free every row (the array too). */
void jr_run_rows_clear(jr_run_rows *rows);

/* 1 when the backend keeps run records (both version 3 callbacks). */
int jr_storage_keeps_runs(const jobreg_storage *st);
/* Inside a transaction: the runs `filter` (checked, this version) selects,
 * newest first, appended to `out`. */
int jr_storage_runs_read(jr_run_rows *out, jobreg_storage *st, const jobreg_run_filter *filter);
/* Inside a write transaction: store `row` (insert or replace by id). */
int jr_storage_run_write(jobreg_storage *st, const jobreg_run_row *row);

/* For backends that filter and sort runs themselves (memory): 1 when `row`
 * meets every condition of `f`; the order of runs_read (newest first) as a
 * comparator; 1 when `status` is one of the four. */
int jr_run_row_matches(const jobreg_run_row *row, const jobreg_run_filter *f);
int jr_run_row_compare(const jobreg_run_row *a, const jobreg_run_row *b);
int jr_run_status_known(const char *status);

/* The built-in backends' tables and payload constructors. */
extern const jobreg_storage_backend jr_storage_memory_backend;

#endif
