/*
 * run.h: running a job (SPEC 5).
 *
 * The library refuses a job whose record is not installed or not enabled,
 * validates the input against the job's variables, instantiates the class,
 * calls `run(**data)`, routes `self.logger` to the host's log callback, and
 * hands back the result as JSON text, or the exception with its traceback.
 * A job that raises, calls sys.exit() or returns something that is no JSON
 * value is a *failed run*, never a crashed host.
 */
#ifndef JOBREG_RUN_H
#define JOBREG_RUN_H

#include "common.h"
#include "records.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Log level DEBUG; the levels are numbered as Python's logging does. */
#define JOBREG_LOG_DEBUG 10
/** Log level INFO. */
#define JOBREG_LOG_INFO 20
/** Log level WARNING. */
#define JOBREG_LOG_WARNING 30
/** Log level ERROR. */
#define JOBREG_LOG_ERROR 40
/** Log level CRITICAL. */
#define JOBREG_LOG_CRITICAL 50

/**
 * Receives one `self.logger` record of a running job, on the thread that
 * runs it, as it happens. `extra_json` is a JSON object of the `extra=`
 * values the job passed ("{}" when none). The strings are borrowed for the
 * call. It runs with the GIL held: it may call libjobreg, but should return
 * soon.
 */
typedef void (*jobreg_log_fn)(int level, const char *level_name, const char *message,
                              const char *extra_json, void *payload);

/**
 * Options of a run.
 *
 * Version history:
 *  - 1 (0.1.0): version, data_json, log, log_payload.
 */
typedef struct jobreg_run_options {
	/** The structure version the caller fills in: JOBREG_RUN_OPTIONS_VERSION. */
	unsigned int version;
	/** The input: a JSON object text; NULL means "{}". Borrowed for the call. */
	const char *data_json;
	/** Where `self.logger` records go; NULL drops them. */
	jobreg_log_fn log;
	/** Handed to `log` as its last argument. */
	void *log_payload;
} jobreg_run_options;

/** The version of jobreg_run_options these headers describe. */
#define JOBREG_RUN_OPTIONS_VERSION 1
/** Static initializer of jobreg_run_options: this version, the defaults. */
#define JOBREG_RUN_OPTIONS_INIT { JOBREG_RUN_OPTIONS_VERSION, NULL, NULL, NULL }

/**
 * Fill `opts` with the defaults of `version`; JOBREG_EVERSION if unknown,
 * JOBREG_EINVAL for NULL. Thread-safe; needs no jobreg_init().
 */
JOBREG_EXTERN(int) jobreg_run_options_init(jobreg_run_options *opts, unsigned int version);

/** What a run produced. */
typedef struct jobreg_run_result jobreg_run_result;

/** The outcome of a run that took place. */
typedef enum jobreg_run_status {
	JOBREG_RUN_SUCCESS = 1,
	JOBREG_RUN_FAILED = 2
} jobreg_run_status;

/**
 * Run `job` as its record `record` allows (the record whose class path is
 * the job's: the host read it from its storage). `job`, `record` and
 * `opts` are borrowed for the call.
 *
 * Returns 0 when the job ran, whatever its outcome: `*out` then tells
 * success or failure (free it with jobreg_run_result_free()). Returns a
 * negative code, and creates no result, when the run is refused:
 * JOBREG_ENOTINSTALLED or JOBREG_EDISABLED (per the record),
 * JOBREG_EVALIDATION (the message names every bad field and why; bad JSON
 * too), JOBREG_EINVAL (NULL argument, or a record of another job),
 * JOBREG_EPYTHON, JOBREG_ENOMEM, JOBREG_ESTATE.
 *
 * Thread-safe: several jobs may run at once from several threads (they take
 * turns on the GIL). Takes the GIL itself and returns without it.
 */
JOBREG_EXTERN(int)
jobreg_job_run(jobreg_run_result **out, const jobreg_job *job, const jobreg_record *record,
               const jobreg_run_options *opts);

/**
 * Resolve `ref` in `reg` (class path, short form), read its record from
 * `st`, and jobreg_job_run() it. Ownership of `*out` and threads as
 * jobreg_job_run(). Errors as jobreg_registry_resolve(),
 * jobreg_storage_get() and jobreg_job_run(), except that a job without a
 * record is JOBREG_ENOTINSTALLED ("refresh the records first").
 */
JOBREG_EXTERN(int)
jobreg_run(jobreg_run_result **out, jobreg_registry *reg, jobreg_storage *st, const char *ref,
           const jobreg_run_options *opts);

/**
 * JOBREG_RUN_SUCCESS or JOBREG_RUN_FAILED. A result is immutable: its
 * getters may be called from any thread; their strings are borrowed,
 * never NULL, and live as long as the result.
 */
JOBREG_EXTERN(jobreg_run_status) jobreg_run_result_status(const jobreg_run_result *res);

/** What run() returned, as JSON text ("null" for None or a failed run). */
JOBREG_EXTERN(const char *) jobreg_run_result_json(const jobreg_run_result *res);

/** A failed run's exception type ("ValueError", "SystemExit", ...), or "". */
JOBREG_EXTERN(const char *) jobreg_run_result_error_type(const jobreg_run_result *res);

/** A failed run's one-line message, or "". */
JOBREG_EXTERN(const char *) jobreg_run_result_error_message(const jobreg_run_result *res);

/** A failed run's formatted traceback, or "". */
JOBREG_EXTERN(const char *) jobreg_run_result_traceback(const jobreg_run_result *res);

/**
 * The result as one JSON object, as `jobreg run --json` prints it:
 * `{"status": "success"|"failed", "result": <value>, "error": null |
 * {"type", "message", "traceback"}}`. On success `*out` is a new string:
 * free it with jobreg_free(). Errors: JOBREG_EINVAL, JOBREG_ENOMEM.
 */
JOBREG_EXTERN(int) jobreg_run_result_to_json(char **out, const jobreg_run_result *res);

/** Free a result. Accepts NULL. Any thread; does not touch Python. */
JOBREG_EXTERN(void) jobreg_run_result_free(jobreg_run_result *res);

#ifdef __cplusplus
}
#endif

#endif
