/*
 * storage_runs.c: run records (jobreg/runs.h): copies of run rows, the
 * backend's version 3 run callbacks, and listing them.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jobreg/runs.h"
#include "options.h"
#include "storage_internal.h"
#include "util.h"

int jr_run_rows_push(jr_run_rows *rows, const jobreg_run_row *row)
{
	jobreg_run_row copy = *row;
	const char **const strings[] = { &copy.id,          &copy.job_id,      &copy.class_path,
		                             &copy.source_type, &copy.source_name, &copy.code_version,
		                             &copy.status,      &copy.started,     &copy.finished,
		                             &copy.result_json, &copy.error_type,  &copy.error_message,
		                             &copy.host_json };

	jobreg_run_row *items = jr_array_room(rows->items, &rows->capacity, rows->count,
	                                      sizeof(*items));

	if (!items)
		return jr_error_oom();
	rows->items = items;
	/* The block starts at id: jr_run_rows_clear() frees that. */
	if (!jr_pack_strings(strings, sizeof(strings) / sizeof(strings[0])))
		return jr_error_oom();
	rows->items[rows->count++] = copy;
	return 0;
}

void jr_run_rows_clear(jr_run_rows *rows)
{
	size_t i;

	for (i = 0; i < rows->count; i++)
		free((char *)rows->items[i].id); /* the row's block */
	free(rows->items);
	memset(rows, 0, sizeof(*rows));
}

int jr_storage_keeps_runs(const jobreg_storage *st)
{
	return st->backend.run_write && st->backend.runs_read;
}

static int collect_run(const jobreg_run_row *row, void *emit_payload)
{
	if (!row)
		return jr_error_set(JOBREG_EINVAL, "storage backend: runs_read emitted NULL");
	return jr_run_rows_push(emit_payload, row);
}

int jr_storage_runs_read(jr_run_rows *out, jobreg_storage *st, const jobreg_run_filter *filter)
{
	jobreg_error_clear();
	return jr_storage_backend_result(st->backend.runs_read(collect_run, out, filter, st->payload),
	                                 "runs_read");
}

int jr_storage_run_write(jobreg_storage *st, const jobreg_run_row *row)
{
	jobreg_error_clear();
	return jr_storage_backend_result(st->backend.run_write(row, st->payload), "run_write");
}

int jr_run_status_known(const char *status)
{
	return strcmp(status, JOBREG_RUN_STARTED) == 0 || strcmp(status, JOBREG_RUN_SUCCEEDED) == 0 ||
	       strcmp(status, JOBREG_RUN_FAILURE) == 0 || strcmp(status, JOBREG_RUN_REVOKED) == 0;
}

int jr_run_row_matches(const jobreg_run_row *row, const jobreg_run_filter *f)
{
	return (!f->id || strcmp(row->id, f->id) == 0) &&
	       (!f->job_id || strcmp(row->job_id, f->job_id) == 0) &&
	       (!f->status || strcmp(row->status, f->status) == 0);
}

int jr_run_row_compare(const jobreg_run_row *a, const jobreg_run_row *b)
{
	int c = strcmp(b->started, a->started);
	return c ? c : strcmp(b->id, a->id);
}

/* ---- listing --------------------------------------------------------- */

static const size_t filter_sizes[] = {
	JR_SIZE_THROUGH(jobreg_run_filter, limit), /* version 1 */
};

int jobreg_run_filter_init(jobreg_run_filter *filter, unsigned int version)
{
	static const jobreg_run_filter defaults = JOBREG_RUN_FILTER_INIT;

	return jr_options_init(filter, &defaults, filter_sizes, JOBREG_RUN_FILTER_VERSION, version,
	                       "jobreg_run_filter");
}

struct jobreg_run_list {
	jr_run_rows rows;
};

int jobreg_storage_runs(jobreg_run_list **out, jobreg_storage *st, const jobreg_run_filter *filter)
{
	jobreg_run_list *list;
	jobreg_run_filter f;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !st)
		return jr_error_set(JOBREG_EINVAL, "jobreg_storage_runs: NULL %s", out ? "storage" : "out");
	jobreg_run_filter_init(&f, JOBREG_RUN_FILTER_VERSION);
	if ((rc = jr_options_read(&f, filter, filter_sizes, JOBREG_RUN_FILTER_VERSION,
	                          "jobreg_run_filter")) < 0)
		return rc;
	f.version = JOBREG_RUN_FILTER_VERSION;
	if (f.status && !jr_run_status_known(f.status)) {
		char *shown = jr_escape(f.status);
		if (!shown)
			return JOBREG_ENOMEM;
		jr_error_set(JOBREG_EINVAL,
		             "jobreg_run_filter: status \"%s\" is not STARTED, SUCCESS, FAILURE or "
		             "REVOKED (NULL: any)",
		             shown);
		free(shown);
		return JOBREG_EINVAL;
	}
	if (!jr_storage_keeps_runs(st))
		return jr_error_set(JOBREG_EUNSUPPORTED,
		                    "jobreg_storage_runs: this storage's backend keeps no run records "
		                    "(run_write and runs_read, backend version 3)");
	if (!(list = calloc(1, sizeof(*list))))
		return jr_error_oom();
	if ((rc = jr_storage_begin(st, 0)) == 0) {
		rc = jr_storage_runs_read(&list->rows, st, &f);
		rc = rc < 0 ? jr_storage_rollback(st, rc) : jr_storage_commit(st);
	}
	if (rc < 0) {
		jobreg_run_list_free(list);
		return rc;
	}
	*out = list;
	return 0;
}

size_t jobreg_run_list_count(const jobreg_run_list *list)
{
	return list ? list->rows.count : 0;
}

#define LIST_TEXT(name, field)                                                  \
	const char *jobreg_run_list_##name(const jobreg_run_list *list, size_t i)   \
	{                                                                           \
		return list && i < list->rows.count ? list->rows.items[i].field : NULL; \
	}
LIST_TEXT(id, id)
LIST_TEXT(job_id, job_id)
LIST_TEXT(class_path, class_path)
LIST_TEXT(source_type, source_type)
LIST_TEXT(source, source_name)
LIST_TEXT(code_version, code_version)
LIST_TEXT(status, status)
LIST_TEXT(started, started)
LIST_TEXT(finished, finished)
LIST_TEXT(result_json, result_json)
LIST_TEXT(error_type, error_type)
LIST_TEXT(error_message, error_message)
LIST_TEXT(host_json, host_json)
#undef LIST_TEXT

void jobreg_run_list_free(jobreg_run_list *list)
{
	if (!list)
		return;
	jr_run_rows_clear(&list->rows);
	free(list);
}
