/* run_internal.h: what other parts of the library share with run.c (internal). */
#ifndef JR_RUN_INTERNAL_H
#define JR_RUN_INTERNAL_H

#include <stddef.h>

#include "jobreg/record.h"

typedef struct _object PyObject; /* as CPython declares it */
#include "jobreg/run.h"

/*
 * The time limits of a run, in seconds (0: none): the record's
 * soft_time_limit and time_limit when > 0 (the job's Meta, or the host's
 * override), else the defaults of `opts` (a version-3 copy, as
 * jobreg_job_run() read it). Nautobot's rule: job_model.soft_time_limit if
 * > 0 else settings.CELERY_TASK_SOFT_TIME_LIMIT. Touches no Python state.
 */
void jr_run_limits(const jobreg_record *record, const jobreg_run_options *opts, double *soft,
                   double *hard);

/* GIL held. A context_json that is no JSON object is the host's mistake:
 * JOBREG_EINVAL (before the job runs, in either mode). */
int jr_run_check_context(const char *context_json);

/* One file a job created: `data` holds `size` bytes and one NUL after them. */
struct jr_run_file {
	char *name;
	unsigned char *data;
	size_t size;
};

/* The files of a run so far (a result takes them). */
struct jr_run_files {
	struct jr_run_file *items;
	size_t count, cap;
};
void jr_run_files_free(struct jr_run_files *files);

/*
 * GIL held. A file the job created: hand it to the host's file callback
 * and keep it in `files`. 0, or -1 with the Python exception the job gets
 * (the host refused it, or memory ran out).
 */
int jr_run_offer_file(const jobreg_run_options *opts, struct jr_run_files *files, const char *name,
                      const unsigned char *data, size_t size);

/*
 * GIL held. A host operation the job asked for: the answer's JSON text
 * (a new str), or NULL with the exception the job gets (LookupError: the
 * host does not provide it; RuntimeError: it failed).
 */
PyObject *jr_run_call_host(const jobreg_run_options *opts, PyObject *op, const char *args_json);

/*
 * GIL held. The result of jobreg._runner.run()'s outcome tuple; takes
 * `files`. `soft` > 0: the soft time limit (seconds) that was raised in
 * the job, which names it in an uncaught SoftTimeLimitExceeded's message.
 */
int jr_run_result_from_outcome(jobreg_run_result **out, PyObject *outcome,
                               struct jr_run_files *files, double soft);

#endif
