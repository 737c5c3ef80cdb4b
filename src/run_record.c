/*
 * run_record.c: storing a run's record (jobreg/runs.h): once when the run
 * starts, once when it ends, each in a write transaction of its own, so
 * that other processes see the run while it runs and a failure of the job
 * never takes its record with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "error.h"
#include "generation.h"
#include "jobreg/job.h"
#include "jobreg/source.h"
#include "jobreg/runs.h"
#include "record.h"
#include "run_record.h"
#include "storage_internal.h"
#include "util.h"

#define RUN_ID_MAX 200
#define HOST_JSON_MAX 65536

/* Now, as UTC ISO 8601 to the microsecond (sorts as text). */
static void utc_now(char out[JR_RUN_TIME_SIZE])
{
	struct timeval tv;
	struct tm tm;
	char secs[24];

	gettimeofday(&tv, NULL);
	if (!gmtime_r(&tv.tv_sec, &tm) || strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(secs, sizeof(secs), "1970-01-01T00:00:00");
	snprintf(out, JR_RUN_TIME_SIZE, "%s.%06ldZ", secs, (long)tv.tv_usec);
}

static int check_text(const char *what, const char *text, size_t min, size_t max)
{
	size_t len = strlen(text);

	if (len < min || len > max || !jr_utf8_valid(text, len))
		return jr_error_set(JOBREG_EINVAL,
		                    "jobreg_run_options: %s must be %zu to %zu bytes of UTF-8 (it has "
		                    "%zu%s)",
		                    what, min, max, len, len >= min && len <= max ? ", not UTF-8" : "");
	return 0;
}

/* The run's id and host_json as `opts` gives them, checked; the id is new
 * when `opts` has none. */
static int take_options(jr_run_record *r, const jobreg_run_options *opts)
{
	int rc;

	if (opts->host_json && (rc = check_text("host_json", opts->host_json, 0, HOST_JSON_MAX)) < 0)
		return rc;
	r->host_json = opts->host_json ? opts->host_json : "";
	if (opts->run_id) {
		if ((rc = check_text("run_id", opts->run_id, 1, RUN_ID_MAX)) < 0)
			return rc;
		return (r->id = jr_strdup(opts->run_id)) ? 0 : jr_error_oom();
	}
	if (!(r->id = malloc(37)))
		return jr_error_oom();
	if ((rc = jr_uuid4(r->id)) < 0) {
		free(r->id);
		r->id = NULL;
	}
	return rc;
}

/* The row of `r` as it is now. */
static void fill_row(jobreg_run_row *row, const jr_run_record *r)
{
	const jobreg_job *job = r->job;

	memset(row, 0, sizeof(*row));
	row->id = r->id;
	row->job_id = r->record ? jobreg_record_text(r->record, JOBREG_FIELD_ID) : "";
	row->class_path = jobreg_job_class_path(job);
	row->source_type = jobreg_source_type_name(jobreg_job_source_type(job));
	row->source_name = jobreg_job_source_name(job);
	row->code_version = jobreg_job_code_version(job);
	row->status = r->status;
	row->started = r->started;
	row->finished = r->finished;
	row->result_json = "";
	row->error_type = "";
	row->error_message = "";
	row->host_json = r->host_json;
}

/* One write transaction: refuse a stored id when asked, then store `row`. */
static int store(jobreg_storage *st, const jobreg_run_row *row, int refuse_existing)
{
	jobreg_run_filter f = JOBREG_RUN_FILTER_INIT;
	jr_run_rows found = { NULL, 0, 0 };
	int rc;

	if ((rc = jr_storage_begin(st, JOBREG_STORAGE_BEGIN_WRITE)) < 0)
		return rc;
	if (refuse_existing) {
		f.id = row->id;
		f.limit = 1;
		rc = jr_storage_runs_read(&found, st, &f);
		if (rc == 0 && found.count)
			rc = jr_error_set(JOBREG_EEXISTS, "a run with id '%s' is already stored", row->id);
		jr_run_rows_clear(&found);
	}
	if (rc == 0)
		rc = jr_storage_run_write(st, row);
	return rc < 0 ? jr_storage_rollback(st, rc) : jr_storage_commit(st);
}

int jr_run_record_start(jr_run_record *r, const jobreg_run_options *opts, const jobreg_job *job,
                        const jobreg_record *record)
{
	jobreg_run_row row;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!opts->run_storage)
		return 0;
	if (!jr_storage_keeps_runs(opts->run_storage))
		return jr_error_set(JOBREG_EUNSUPPORTED,
		                    "the run of '%s' cannot be recorded: the storage's backend keeps no "
		                    "run records (run_write and runs_read, backend version 3)",
		                    job->class_path);
	if ((rc = take_options(r, opts)) < 0)
		return rc;
	r->st = opts->run_storage;
	r->job = job;
	r->record = record;
	r->status = JOBREG_RUN_STARTED;
	utc_now(r->started);
	fill_row(&row, r);
	if ((rc = store(r->st, &row, 1)) < 0) {
		free(r->id);
		memset(r, 0, sizeof(*r));
	}
	return rc;
}

/* A run that returned the error `saved`, as a run record's end. */
static void error_of_code(jobreg_run_row *row, const jr_saved_error *saved)
{
	row->status = saved->code == JOBREG_ECANCELED ? JOBREG_RUN_REVOKED : JOBREG_RUN_FAILURE;
	row->error_type = saved->code == JOBREG_ECANCELED     ? "RunCancelled"
	                  : saved->code == JOBREG_EVALIDATION ? "ValidationError"
	                                                      : "RunError";
	row->error_message = saved->message;
}

void jr_run_record_refusal(const jobreg_run_options *opts, const jobreg_job *job,
                           const jobreg_record *record, int rc)
{
	jr_saved_error saved;
	jr_run_record r;
	jobreg_run_row row;

	if (!opts || opts->version < 4 || !opts->run_storage ||
	    !jr_storage_keeps_runs(opts->run_storage))
		return;
	jr_error_save(&saved, rc);
	memset(&r, 0, sizeof(r));
	if (take_options(&r, opts) == 0) {
		r.job = job;
		r.record = record;
		utc_now(r.started);
		memcpy(r.finished, r.started, sizeof(r.finished));
		fill_row(&row, &r);
		row.status = JOBREG_RUN_FAILURE;
		row.error_type = rc == JOBREG_ENOTINSTALLED ? "JobNotInstalled"
		                 : rc == JOBREG_EDISABLED   ? "JobDisabled"
		                                            : "RunError";
		row.error_message = saved.message;
		store(opts->run_storage, &row, 1);
	}
	free(r.id);
	jr_error_restore(&saved);
}

void jr_run_record_finish(jr_run_record *r, jobreg_run_result *res, int rc)
{
	jr_saved_error saved;
	jobreg_run_row row;
	int stored;

	if (!r->st)
		return;
	/* The run's own error (the caller's to read) outlives storing it. */
	jr_error_save(&saved, rc < 0 ? rc : JOBREG_ERROR);
	utc_now(r->finished);
	fill_row(&row, r);
	if (rc == 0 && res) {
		int ok = jobreg_run_result_status(res) == JOBREG_RUN_SUCCESS;
		row.status = ok ? JOBREG_RUN_SUCCEEDED : JOBREG_RUN_FAILURE;
		row.result_json = ok ? jobreg_run_result_json(res) : "";
		row.error_type = jobreg_run_result_error_type(res);
		row.error_message = jobreg_run_result_error_message(res);
	} else {
		error_of_code(&row, &saved);
	}
	stored = store(r->st, &row, 0);
	if (res) {
		jr_run_result_set_record(res, r->id, stored < 0 ? jobreg_error_last()->message : NULL);
		r->id = NULL; /* the result took it */
	}
	if (rc < 0)
		jr_error_restore(&saved);
	else
		jobreg_error_clear();
	free(r->id);
	r->id = NULL;
}
