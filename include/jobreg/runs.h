/*
 * runs.h: run records: which job ran, when, from which code, and how it
 * ended (SPEC 5; since 0.3.0).
 *
 * A run asked to be recorded (jobreg_run_options.run_storage, in
 * jobreg/run.h) is stored twice: with status "STARTED" before the job's
 * code runs, and with its end (status, finished, result or error) when it
 * returns, each in a write transaction of its own. So a process that did
 * not run the job (a UI, an operator's shell) sees a run in progress, and
 * every run says which code it ran: the commit of a git source, or the
 * fingerprint of the files of a jobs root or an app package
 * (jobreg_job_code_version()).
 *
 * Statuses are Celery's names, as Nautobot's JobResult uses them:
 * "STARTED" (running, or its host died before it could store the end),
 * "SUCCESS", "FAILURE" (the job failed, went past its hard time limit, or
 * was refused: its record not installed or not enabled — error types
 * "JobNotInstalled", "JobDisabled", stored without a STARTED first — or
 * its data invalid, "ValidationError") and "REVOKED" (cancelled). A
 * refusal is stored too because the host has already handed out the
 * run's id (a task id) and must find out what became of it.
 *
 * Thread-safety: any thread; the storage handle serializes its own calls.
 * A jobreg_run_list is a plain value. None of these functions touches
 * Python or needs jobreg_init().
 */
#ifndef JOBREG_RUNS_H
#define JOBREG_RUNS_H

#include <stddef.h>

#include "common.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Status of a run in progress (or whose host died). */
#define JOBREG_RUN_STARTED "STARTED"
/** Status of a run that ended well. */
#define JOBREG_RUN_SUCCEEDED "SUCCESS"
/** Status of a run that failed, or was refused after it was recorded. */
#define JOBREG_RUN_FAILURE "FAILURE"
/** Status of a cancelled run. */
#define JOBREG_RUN_REVOKED "REVOKED"

/** A list of run records (jobreg_storage_runs()). */
typedef struct jobreg_run_list jobreg_run_list;

/**
 * Which run records jobreg_storage_runs() returns, and which page of them.
 * Fill it with JOBREG_RUN_FILTER_INIT or jobreg_run_filter_init(), then
 * set the conditions wanted; a run is listed when it meets every one.
 *
 * Version history:
 *  - 1 (0.3.0): version, id, job_id, status, offset, limit.
 */
typedef struct jobreg_run_filter {
	/** The structure version the caller fills in: JOBREG_RUN_FILTER_VERSION. */
	unsigned int version;
	/** Only the run with this id; NULL: any. */
	const char *id;
	/** Only the runs of the record with this id; NULL: any. */
	const char *job_id;
	/** Only runs with this status (one of the four above); NULL: any. */
	const char *status;
	/** Skip this many matching runs first (default 0). */
	size_t offset;
	/** Return at most this many runs; 0 (the default): all. */
	size_t limit;
} jobreg_run_filter;

/** The version of jobreg_run_filter these headers describe. */
#define JOBREG_RUN_FILTER_VERSION 1
/* clang-format off */
/** Static initializer of jobreg_run_filter: this version, every run. */
#define JOBREG_RUN_FILTER_INIT { JOBREG_RUN_FILTER_VERSION, NULL, NULL, NULL, 0, 0 }
/* clang-format on */

/**
 * Fill `filter` with the defaults of `version` (every run, no paging).
 * Errors: JOBREG_EVERSION (unknown version), JOBREG_EINVAL (NULL).
 * Thread-safe. Since 0.3.0.
 */
JOBREG_EXTERN(int) jobreg_run_filter_init(jobreg_run_filter *filter, unsigned int version);

/**
 * The run records that meet every condition of `filter` (NULL: all),
 * newest first (by start time, then id), from the `offset`th match on and
 * at most `limit` of them.
 *
 * `*out` is owned by the caller: free it with jobreg_run_list_free().
 * `filter` is copied. Errors: JOBREG_EINVAL (NULL `out` or `st`, an
 * unknown status: the message names it), JOBREG_EVERSION (unknown filter
 * version), JOBREG_EUNSUPPORTED (the storage's backend keeps no run
 * records: jobreg/sys/storage.h), JOBREG_ENOMEM, backend errors. Since
 * 0.3.0.
 */
JOBREG_EXTERN(int)
jobreg_storage_runs(jobreg_run_list **out, jobreg_storage *st, const jobreg_run_filter *filter);

/** The number of runs in `list`; 0 for NULL. Since 0.3.0. */
JOBREG_EXTERN(size_t) jobreg_run_list_count(const jobreg_run_list *list);

/*
 * The fields of the `i`th run of `list`: strings borrowed from the list
 * (valid until jobreg_run_list_free()), never NULL ("" when none) for `i`
 * in range; NULL for a NULL list or an `i` out of range. Getters do not
 * fail. Since 0.3.0.
 */
/** The run's id. */
JOBREG_EXTERN(const char *) jobreg_run_list_id(const jobreg_run_list *list, size_t i);
/** The id of the job's record. */
JOBREG_EXTERN(const char *) jobreg_run_list_job_id(const jobreg_run_list *list, size_t i);
/** The job's class path when it ran. */
JOBREG_EXTERN(const char *) jobreg_run_list_class_path(const jobreg_run_list *list, size_t i);
/** "local", "git" or "app". */
JOBREG_EXTERN(const char *) jobreg_run_list_source_type(const jobreg_run_list *list, size_t i);
/** The source's name ("" for a jobs root). */
JOBREG_EXTERN(const char *) jobreg_run_list_source(const jobreg_run_list *list, size_t i);
/** The code it ran: jobreg_job_code_version() of the job. */
JOBREG_EXTERN(const char *) jobreg_run_list_code_version(const jobreg_run_list *list, size_t i);
/** "STARTED", "SUCCESS", "FAILURE" or "REVOKED". */
JOBREG_EXTERN(const char *) jobreg_run_list_status(const jobreg_run_list *list, size_t i);
/** When it started: UTC ISO 8601 to the microsecond ("2026-01-31T12:00:00.000000Z"). */
JOBREG_EXTERN(const char *) jobreg_run_list_started(const jobreg_run_list *list, size_t i);
/** When it ended, as `started`; "" while STARTED. */
JOBREG_EXTERN(const char *) jobreg_run_list_finished(const jobreg_run_list *list, size_t i);
/** What a successful job returned, as JSON text; "" otherwise. */
JOBREG_EXTERN(const char *) jobreg_run_list_result_json(const jobreg_run_list *list, size_t i);
/** The exception type of a failure ("RunCancelled" when revoked); "" otherwise. */
JOBREG_EXTERN(const char *) jobreg_run_list_error_type(const jobreg_run_list *list, size_t i);
/** The message of a failure; "" otherwise. */
JOBREG_EXTERN(const char *) jobreg_run_list_error_message(const jobreg_run_list *list, size_t i);
/** What the host said of the run (run options' host_json), or "". */
JOBREG_EXTERN(const char *) jobreg_run_list_host_json(const jobreg_run_list *list, size_t i);

/** Free a run list. Accepts NULL. Since 0.3.0. */
JOBREG_EXTERN(void) jobreg_run_list_free(jobreg_run_list *list);

#ifdef __cplusplus
}
#endif

#endif
