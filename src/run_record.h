/* run_record.h: storing a run's record when it starts and ends (internal). */
#ifndef JR_RUN_RECORD_H
#define JR_RUN_RECORD_H

#include "jobreg/record.h"
#include "jobreg/run.h"

/* "2026-01-31T12:00:00.000000Z" and its NUL. */
#define JR_RUN_TIME_SIZE 32

typedef struct jr_run_record {
	jobreg_storage *st; /* NULL: the run is not recorded */
	char *id;
	const jobreg_job *job;
	const jobreg_record *record;
	const char *status;
	const char *host_json; /* borrowed from the run's options */
	char started[JR_RUN_TIME_SIZE];
	char finished[JR_RUN_TIME_SIZE];
} jr_run_record;

/*
 * When `opts` asks for it (run_storage), store the run's record with
 * status STARTED; otherwise only clear `r`. On error nothing is stored,
 * and the run must not start.
 */
int jr_run_record_start(jr_run_record *r, const jobreg_run_options *opts, const jobreg_job *job,
                        const jobreg_record *record);

/*
 * Store the end of a run started with jr_run_record_start(): `res` when
 * the run returned 0, else the error `rc` (REVOKED for JOBREG_ECANCELED).
 * The result takes the run's id and, when storing failed, why. Keeps the
 * calling thread's last error as it was. Nothing when not recorded.
 */
void jr_run_record_finish(jr_run_record *r, jobreg_run_result *res, int rc);

/*
 * A run that `opts` asks to record (of any version) was refused by the
 * record check with `rc` (`record` NULL: the job has none): store it once,
 * finished, as a FAILURE. Best effort, and the calling thread's last error
 * stays the refusal's.
 */
void jr_run_record_refusal(const jobreg_run_options *opts, const jobreg_job *job,
                           const jobreg_record *record, int rc);

/* (run.c) The result of a recorded run: its id (taken) and, when its end
 * could not be stored, why (copied; NULL: it was). */
void jr_run_result_set_record(jobreg_run_result *res, char *run_id, const char *record_error);

#endif
