/*
 * run.h: running a job (SPEC 5).
 *
 * The library refuses a job whose record is not installed or not enabled,
 * validates the input against the job's variables, instantiates the class,
 * calls `run(**data)`, routes `self.logger` to the host's log callback, and
 * hands back the result as JSON text, or the exception with its traceback.
 * A job that raises, calls sys.exit() or returns something that is no JSON
 * value is a *failed run*, never a crashed host.
 *
 * Since 0.3.0 (jobreg_run_options version 2) a run also takes a context
 * (`self.job_result`, `self.user`, `self.job_model`), hands the files the
 * job creates to the host and keeps them in the result, and serves the
 * job API's *host operations* through a host callback (SPEC 2.1).
 *
 * Since 0.3.0 (jobreg_run_options version 3) a run can be cancelled
 * (a cancel token, jobreg/cancel.h) and its time limits hold: the job's
 * `Meta.soft_time_limit` and `Meta.time_limit` (or the record's overrides),
 * else the defaults the host gives in the options (Nautobot's rule: the
 * job's limit when > 0, else the server's setting).
 *
 * In the host's process (a job of a registry without process isolation)
 * the library cannot kill the thread that runs the job: it raises an
 * exception in it, from a watchdog thread, which the job sees between two
 * of its Python instructions:
 *  - soft limit: jobreg.jobs.SoftTimeLimitExceeded (an Exception), or
 *    celery.exceptions.SoftTimeLimitExceeded when the job's code imported
 *    `celery.exceptions` before the run; raised once. The job may catch it
 *    and clean up: the run's outcome is what the job makes of it (failed,
 *    type "SoftTimeLimitExceeded", when it does not catch it).
 *  - hard limit: jobreg.jobs.TimeLimitExceeded (a BaseException), raised
 *    again every second while the run goes on. The run is failed, type
 *    "TimeLimitExceeded", message "the job exceeded its time limit of N s",
 *    whatever the job did with the exception.
 *  - cancel: jobreg.jobs.RunCancelled (a BaseException) within about 20 ms
 *    of jobreg_cancel_request(), again every second while the run goes on.
 *    A run whose token is requested when it returns is cancelled, whatever
 *    the job did: JOBREG_ECANCELED, no result. The job's failure hooks
 *    (on_failure, after_return) run as for any exception.
 *
 * What this cannot stop, in the host's process: a job blocked in one call
 * that does not return to Python, i.e. time.sleep(), a blocking read or
 * accept on a socket, pipe or file, subprocess waits, acquiring a lock or
 * joining a thread, select()/poll(), a long computation inside one C
 * function (a regular expression, a C extension), and a host callback (log,
 * file, host operation) that does not return. The exception is raised when
 * that call returns. A job that catches BaseException in a loop can keep
 * running past both limits and a cancel (the run is reported as failed or
 * cancelled when it ends). Threads the job started are never interrupted.
 * Process isolation (registry.h) stops all of these by killing the worker.
 */
#ifndef JOBREG_RUN_H
#define JOBREG_RUN_H

#include "cancel.h"
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
 * Receives one file that the running job made with `self.create_file(name,
 * content)` (since 0.3.0). `name` is the name the job gave (UTF-8, no NUL
 * byte; the library does not check it as a path: a host that writes files
 * must refuse names with '/' or ".."); `data` holds `size` bytes (the job's
 * bytes as they are, or its text encoded as UTF-8; NUL bytes included). Both
 * are borrowed for the call: copy what you keep.
 *
 * Called on the thread that runs the job, as the job calls create_file(),
 * with the GIL held: it may call libjobreg, but should return soon.
 * Return 0 to accept the file. A negative value refuses it: create_file()
 * raises RuntimeError in the job (which fails unless it catches it) and the
 * file is not listed in the run result. The exception's message is the
 * calling thread's last libjobreg error when the callback leaves one (the
 * library clears it before the call; set one with
 * jobreg_storage_error_set() of jobreg/sys/storage.h, or leave the error of
 * a libjobreg call that failed), else "the host refused the file 'NAME'".
 * A Python exception the callback leaves pending is raised in the job
 * instead.
 */
typedef int (*jobreg_file_fn)(const char *name, const unsigned char *data, size_t size,
                              void *payload);

/**
 * Performs one named *host operation* for the running job (since 0.3.0):
 * what the job-author API cannot do without the server around it. The
 * library's job API asks for these operations (the list, with their
 * arguments and answers, is in docs/host-in-c.md):
 * "get_celery_queues" (args {}), "enqueue_job_hooks" (args
 * {"object_change": ..., "may_reload_jobs": bool}), "git_repository_sync" (args {"repository": ...,
 * "dry_run": bool}), "get_object" (args {"model": "dcim.device", "pk":
 * ...}), "get_jobs_reload" (args {}). Hosts may serve others that their
 * own job code asks for.
 *
 * `operation` and `args_json` (a JSON object text) are borrowed for the
 * call. Answer with jobreg_host_reply_set_json() (no answer reads as JSON
 * `null`) and return 0. Return JOBREG_ENOTFOUND for an operation this host
 * does not provide: the job sees LookupError. Return another negative code
 * for a failure: the job sees RuntimeError with the message given to
 * jobreg_host_reply_set_error(), else the calling thread's last libjobreg
 * error (cleared before the call), else a generic one naming the operation.
 *
 * Called on the thread that runs the job, with the GIL held: it may call
 * libjobreg (even run another job), but should return soon.
 */
typedef int (*jobreg_host_fn)(jobreg_host_reply *reply, const char *operation,
                              const char *args_json, void *payload);

/**
 * Set the answer of a host operation: `json` is a JSON text (any value),
 * copied. A second call replaces the first. Returns 0, JOBREG_EINVAL (NULL
 * argument), JOBREG_ENOMEM. Only inside the jobreg_host_fn that received
 * `reply`. Touches no Python state. Since 0.3.0.
 */
JOBREG_EXTERN(int) jobreg_host_reply_set_json(jobreg_host_reply *reply, const char *json);

/**
 * Set the message of a failed host operation (the callback then returns a
 * negative code other than JOBREG_ENOTFOUND): the job's RuntimeError
 * carries it. `message` is copied; a second call replaces the first.
 * Returns 0, JOBREG_EINVAL (NULL argument), JOBREG_ENOMEM. Only inside the
 * jobreg_host_fn that received `reply`. Touches no Python state. Since
 * 0.3.0.
 */
JOBREG_EXTERN(int) jobreg_host_reply_set_error(jobreg_host_reply *reply, const char *message);

/**
 * Options of a run.
 *
 * Version history:
 *  - 1 (0.1.0): version, data_json, log, log_payload.
 *  - 2 (0.3.0): context_json, file, file_payload, host, host_payload.
 *  - 3 (0.3.0): cancel, default_soft_time_limit, default_time_limit.
 *  - 4 (0.3.0): run_storage, run_id, host_json.
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
	/**
	 * Version 2. What the host tells the job about this run: a JSON object
	 * text `{"job_result": {...}, "user": {...}, "job_model": {...},
	 * "task_id": "..."}`, every key optional. The job sees them as
	 * `self.job_result`, `self.user`, `self.job_model` (by default the
	 * record the run was checked against). NULL: none. Borrowed for the
	 * call. Not JSON, or not an object: the run is refused with
	 * JOBREG_EINVAL.
	 */
	const char *context_json;
	/**
	 * Version 2. Receives each file the job creates; NULL accepts every
	 * file. Either way the run result keeps every accepted file, name and
	 * content (jobreg_run_result_file_count()).
	 */
	jobreg_file_fn file;
	/** Version 2. Handed to `file` as its last argument. */
	void *file_payload;
	/**
	 * Version 2. Performs the host operations that the job asks for; NULL:
	 * the host provides none (the job-author API then behaves as it does
	 * outside a server, or raises LookupError).
	 */
	jobreg_host_fn host;
	/** Version 2. Handed to `host` as its last argument. */
	void *host_payload;
	/**
	 * Version 3. A cancel token (jobreg/cancel.h): once it is requested the
	 * run stops and jobreg_job_run() returns JOBREG_ECANCELED; a token
	 * already requested refuses the run before it starts. NULL: the run
	 * cannot be cancelled. Borrowed: it must live until the run returns.
	 */
	jobreg_cancel *cancel;
	/**
	 * Version 3. The soft time limit, in seconds, of a job whose record's
	 * soft_time_limit is 0; 0 (the default): none. Finite and >= 0, else
	 * the run is refused with JOBREG_EINVAL.
	 */
	double default_soft_time_limit;
	/**
	 * Version 3. The hard time limit, in seconds, of a job whose record's
	 * time_limit is 0; 0 (the default): none. Finite and >= 0, else the
	 * run is refused with JOBREG_EINVAL.
	 */
	double default_time_limit;
	/**
	 * Version 4. Record the run in this storage (jobreg/runs.h): once the
	 * record check passes, a run record with status "STARTED" is stored,
	 * and when the run ends it is stored again with its end (also for a
	 * cancelled run, which still returns JOBREG_ECANCELED); a run the
	 * record check refuses is stored once, as a FAILURE. NULL: not
	 * recorded. Its backend must keep run records, else the run is refused
	 * with JOBREG_EUNSUPPORTED; a failure to store the start refuses the
	 * run too (the job does not start). Borrowed for the call.
	 */
	jobreg_storage *run_storage;
	/**
	 * Version 4. The id of the run record (a task id of the host, say): 1
	 * to 200 bytes of UTF-8, unique among the storage's runs (a stored id
	 * is refused with JOBREG_EEXISTS). NULL: a new random UUID.
	 */
	const char *run_id;
	/**
	 * Version 4. What the host wants kept with the run record, as a JSON
	 * text the library stores as it is, unread (the worker, the user, the
	 * queue, the input the host was given...): at most 64 KiB of UTF-8,
	 * else the run is refused with JOBREG_EINVAL. NULL: "". The job does
	 * not see it (context_json is what the job sees).
	 */
	const char *host_json;
} jobreg_run_options;

/** The version of jobreg_run_options these headers describe. */
#define JOBREG_RUN_OPTIONS_VERSION 4
/** Static initializer of jobreg_run_options: this version, the defaults. */
#define JOBREG_RUN_OPTIONS_INIT                                                                 \
	{                                                                                           \
		JOBREG_RUN_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, \
			NULL, NULL, NULL                                                                    \
	}

/**
 * Fill `opts` with the defaults of `version`; JOBREG_EVERSION if unknown,
 * JOBREG_EINVAL for NULL. Thread-safe; needs no jobreg_init().
 */
JOBREG_EXTERN(int) jobreg_run_options_init(jobreg_run_options *opts, unsigned int version);

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
 * too), JOBREG_EINVAL (NULL argument, a record of another job, or a
 * `context_json` that is no JSON object, a default time limit that is
 * negative or not finite), JOBREG_EVERSION (an options version this
 * library does not know), JOBREG_ECANCELED (the run's cancel token was
 * requested: before the run, which then did not start, or during it, see
 * the top of this header), JOBREG_EPYTHON, JOBREG_ENOMEM, JOBREG_ESTATE.
 * A run past its hard time limit is a failed run (0 and a result), not an
 * error.
 *
 * The callbacks of `opts` (log, file, host) are called only during the
 * call, on the calling thread, with the GIL held; a job that keeps the
 * callables it was given and calls them after its run, or from another
 * thread, gets RuntimeError and the host is not called.
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
 * JOBREG_RUN_SUCCESS or JOBREG_RUN_FAILED (0 for a NULL result). A
 * result is immutable: its getters may be called from any thread; their
 * strings are borrowed, never NULL, and live as long as the result.
 * Every getter accepts a NULL result (since 0.3.0): 0, "" or NULL then,
 * as each says.
 */
JOBREG_EXTERN(jobreg_run_status) jobreg_run_result_status(const jobreg_run_result *res);

/**
 * What run() returned, as JSON text ("null" for None, or for a run that
 * raised). A job that called `self.fail()` fails but keeps what its run()
 * returned here. "" for a NULL result.
 */
JOBREG_EXTERN(const char *) jobreg_run_result_json(const jobreg_run_result *res);

/**
 * A failed run's exception type ("ValueError", "SystemExit",
 * "JobFailed" for a job that called `self.fail()` ...), or "" (also for
 * a NULL result).
 */
JOBREG_EXTERN(const char *) jobreg_run_result_error_type(const jobreg_run_result *res);

/** A failed run's one-line message, or "" (also for a NULL result). */
JOBREG_EXTERN(const char *) jobreg_run_result_error_message(const jobreg_run_result *res);

/** A failed run's formatted traceback, or "" (also for a NULL result). */
JOBREG_EXTERN(const char *) jobreg_run_result_traceback(const jobreg_run_result *res);

/**
 * The id of the run's record when the run was recorded (run options
 * version 4), else "" (also for a NULL result). Since 0.3.0.
 */
JOBREG_EXTERN(const char *) jobreg_run_result_run_id(const jobreg_run_result *res);

/**
 * Why the end of a recorded run could not be stored (its record then
 * stays "STARTED"), or "" when it was, or when the run was not recorded
 * (also for a NULL result). The run itself took place: its result stands.
 * Since 0.3.0.
 */
JOBREG_EXTERN(const char *) jobreg_run_result_record_error(const jobreg_run_result *res);

/**
 * How many files the job created with `self.create_file()` (and the host's
 * jobreg_file_fn, if any, accepted), in the order it made them; 0 for a
 * NULL result. Names may repeat. Any thread; does not touch Python.
 * Since 0.3.0.
 */
JOBREG_EXTERN(size_t) jobreg_run_result_file_count(const jobreg_run_result *res);

/**
 * The name of file `i` (0 <= i < jobreg_run_result_file_count()): borrowed,
 * lives as long as the result. NULL for a NULL result or an `i` out of
 * range. Any thread; does not touch Python. Since 0.3.0.
 */
JOBREG_EXTERN(const char *) jobreg_run_result_file_name(const jobreg_run_result *res, size_t i);

/**
 * The content of file `i`: `*size` bytes (when `size` is not NULL), NUL
 * bytes included, followed by one NUL byte that `*size` does not count (so
 * text content may be read as a C string). Borrowed, lives as long as the
 * result. NULL and `*size` = 0 for a NULL result or an `i` out of range.
 * Any thread; does not touch Python. Since 0.3.0.
 */
JOBREG_EXTERN(const unsigned char *)
jobreg_run_result_file_data(const jobreg_run_result *res, size_t i, size_t *size);

/**
 * The result as one JSON object, as `jobreg run --json` prints it:
 * `{"status": "success"|"failed", "result": <value>, "error": null |
 * {"type", "message", "traceback"}, "files": [{"name", "size"}]}` (the
 * files since 0.3.0; their content is not in it). On success `*out` is a
 * new string: free it with jobreg_free(). Errors: JOBREG_EINVAL,
 * JOBREG_ENOMEM.
 */
JOBREG_EXTERN(int) jobreg_run_result_to_json(char **out, const jobreg_run_result *res);

/** Free a result. Accepts NULL. Any thread; does not touch Python. */
JOBREG_EXTERN(void) jobreg_run_result_free(jobreg_run_result *res);

#ifdef __cplusplus
}
#endif

#endif
