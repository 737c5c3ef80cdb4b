/*
 * sys/storage.h: what a storage backend implements (for plug-in authors).
 *
 * A host that keeps job records in its own database fills in a
 * jobreg_storage_backend table and hands it, with a `payload` pointer of
 * its own, to jobreg_storage_new(). The library ships two backends built
 * the same way: in-memory and SQLite (jobreg/storage.h).
 *
 * How the library calls a backend:
 *  - Every other callback runs between `begin` and `commit`/`rollback`, on
 *    the thread that called the libjobreg function; transactions never
 *    nest. Calls on one storage handle are serialized by the library, so a
 *    backend needs no locking of its own for one handle. A callback that
 *    calls jobreg_storage_* functions on the same handle gets JOBREG_ESTATE
 *    (since 0.3.0; before, a deadlock); other handles may be used.
 *  - Each callback returns 0 on success or a negative JOBREG_E* code
 *    (JOBREG_ESTORAGE for a database failure). Report the reason with
 *    jobreg_storage_error_set() before returning; otherwise the library
 *    records a generic message naming the callback. A positive or unknown
 *    code is treated as JOBREG_ESTORAGE.
 *  - When a callback after `begin` fails, the library calls `rollback` and
 *    returns the error to its caller (keeping the backend's message). When
 *    `commit` fails the library calls `rollback` too: after a failed
 *    commit, a rollback must leave the data as before `begin`. When `begin`
 *    itself fails, nothing follows it (no `rollback`): a failed `begin`
 *    must leave no transaction open.
 *  - The library never writes to the table, and copies only the bytes of
 *    the table's `version` (below) when the storage is created: the host
 *    may free or reuse its table afterwards.
 *
 * Compatibility: fields are only ever appended, each with a new version
 * number. A table of an older version keeps working with every later
 * library: the library treats the callbacks that version lacks as absent
 * (NULL) and does without them: a feature that needs an absent "may"
 * callback fails with JOBREG_EUNSUPPORTED and nothing else changes. A later
 * version never makes a new callback mandatory for older tables. A version
 * newer than the library knows is refused (JOBREG_EVERSION): the library
 * cannot honour what it does not know.
 *
 * Version history:
 *  - 1 (0.1.0): version, begin, commit, rollback, read_records,
 *    write_record, delete_record (must); git_state_read, git_state_write,
 *    free_payload (may).
 *  - 2 (0.2.0): source_state_read, source_state_write (may): what lets
 *    jobreg_registry_sync() recognise a source that has not changed since
 *    the last sync and skip importing it. Without them every sync imports
 *    every source.
 *  - 3 (0.3.0): get_record_by_id, get_record_by_class, list_records (may):
 *    lookups and filtered, paged lists without reading every record.
 *    Without them the library reads every record (read_records) and
 *    looks or filters itself: the same answers, only slower.
 *    load_errors_replace, load_errors_read (may): the load errors of each
 *    source, stored by every refresh so that other processes can read
 *    them (jobreg_storage_load_errors()). Without them none are stored.
 *    run_write, runs_read (may): run records, so that every run says
 *    which code it ran (jobreg/runs.h). Without them a run asked to be
 *    recorded is refused with JOBREG_EUNSUPPORTED.
 */
#ifndef JOBREG_SYS_STORAGE_H
#define JOBREG_SYS_STORAGE_H

#include "../common.h"
#include "../records.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Flags of `begin`. */
#define JOBREG_STORAGE_BEGIN_WRITE 1u /**< the transaction will write */

/**
 * Hands one record to the library during `read_records`.
 *
 * The library takes ownership of `rec` in every case, also when it returns
 * an error (it frees it). `rec` must have been made with jobreg_record_new()
 * (or _dup()) and filled with the jobreg_record_set_*() setters. Returns 0,
 * or a negative code that `read_records` must stop on and return.
 */
typedef int (*jobreg_storage_emit_fn)(jobreg_record *rec, void *emit_payload);

/**
 * One stored load error (since 0.3.0), as the library hands it to
 * `load_errors_replace` and a backend hands it back to its
 * jobreg_storage_load_error_emit_fn. Every string is NUL-terminated UTF-8,
 * never NULL ("" when unknown), borrowed for the call only.
 */
typedef struct jobreg_load_error_row {
	const char *source_type; /**< "local", "git" or "app", as in records */
	const char *source_name; /**< the source's name ("" for a jobs root) */
	const char *module;      /**< the module that failed to load, or "" */
	const char *file;        /**< the file at fault, or "" */
	int line;                /**< its line, or 0 */
	const char *type;        /**< the exception's type name */
	const char *message;     /**< the exception's message */
	const char *traceback;   /**< the formatted traceback, or "" */
	const char *when;        /**< when the refresh stored it: UTC ISO 8601 */
} jobreg_load_error_row;

/**
 * Hands one load error to the library during `load_errors_read` (since
 * 0.3.0). `row` is borrowed: the library copies it during the call.
 * Returns 0, or a negative code that `load_errors_read` must stop on and
 * return.
 */
typedef int (*jobreg_storage_load_error_emit_fn)(const jobreg_load_error_row *row,
                                                 void *emit_payload);

/**
 * One run record (since 0.3.0), as the library hands it to `run_write`
 * and a backend hands it back to its jobreg_storage_run_emit_fn. Every
 * string is NUL-terminated UTF-8, never NULL ("" when none), borrowed for
 * the call only. jobreg/runs.h says what each field holds.
 */
typedef struct jobreg_run_row {
	const char *id;            /**< the run's id (unique; a UUID unless the host chose it) */
	const char *job_id;        /**< the id of the job's record */
	const char *class_path;    /**< the job's class path when it ran */
	const char *source_type;   /**< "local", "git" or "app" */
	const char *source_name;   /**< the source's name ("" for a jobs root) */
	const char *code_version;  /**< the commit (git) or fingerprint (local, app) of its code */
	const char *status;        /**< "STARTED", "SUCCESS", "FAILURE" or "REVOKED" */
	const char *started;       /**< UTC ISO 8601, to the microsecond */
	const char *finished;      /**< UTC ISO 8601, or "" while it runs */
	const char *result_json;   /**< what the job returned, as JSON, or "" */
	const char *error_type;    /**< the failure's exception type name, or "" */
	const char *error_message; /**< the failure's message, or "" */
	const char *host_json;     /**< what the host said of the run (a JSON text), or "" */
} jobreg_run_row;

/**
 * Hands one run record to the library during `runs_read` (since 0.3.0).
 * `row` is borrowed: the library copies it during the call. Returns 0, or
 * a negative code that `runs_read` must stop on and return.
 */
typedef int (*jobreg_storage_run_emit_fn)(const jobreg_run_row *row, void *emit_payload);

/**
 * A storage backend. Fill it in (unused fields NULL), set `version` to
 * JOBREG_STORAGE_BACKEND_VERSION (or the version you implement), and pass it
 * to jobreg_storage_new().
 */
typedef struct jobreg_storage_backend {
	/** The version of this table the backend implements (>= 1). */
	unsigned int version;

	/**
	 * Must. Start a transaction. With JOBREG_STORAGE_BEGIN_WRITE in
	 * `flags`, the transaction will read and then write: take the write
	 * lock now (SQLite: `BEGIN IMMEDIATE`) so that two writers serialize
	 * and neither overwrites what the other wrote in between. Without it,
	 * the transaction only reads; it must still see one consistent state.
	 */
	int (*begin)(unsigned int flags, void *payload);

	/** Must. Make the transaction's writes durable and visible, all at once. */
	int (*commit)(void *payload);

	/**
	 * Must. Undo every write since `begin`. Also called after a failed
	 * `commit`. Its own failure is reported but cannot be acted upon.
	 */
	int (*rollback)(void *payload);

	/**
	 * Must. Read every record and hand each to `emit`, with
	 * `emit_payload`, in any order. Build each record with
	 * jobreg_record_new() and the setters: every field stored, including
	 * `id`; fields the backend does not store keep their defaults. `emit`
	 * takes ownership of the record. Stop at the first non-zero return of
	 * `emit` and return it.
	 */
	int (*read_records)(jobreg_storage_emit_fn emit, void *emit_payload, void *payload);

	/**
	 * Must. Store `rec`, replacing the record with the same id or adding
	 * it. `rec` is borrowed for the call only. Every field counts
	 * (jobreg_record_field_count() and the getters enumerate them). The
	 * library keeps (module_name, job_class_name) unique; a backend may
	 * enforce it too and fail the write.
	 */
	int (*write_record)(const jobreg_record *rec, void *payload);

	/**
	 * Must. Delete the record with id `id`. Deleting an id that does not
	 * exist is not an error.
	 */
	int (*delete_record)(const char *id, void *payload);

	/**
	 * May. The stored state of the git repository `slug`: set the three
	 * out-pointers to NUL-terminated strings owned by the backend, valid
	 * until its next callback (the library copies them at once), and return
	 * 0; return JOBREG_ENOTFOUND when nothing is stored for `slug`.
	 * Without it (or git_state_write) git state is unsupported.
	 */
	int (*git_state_read)(const char **remote_url, const char **branch, const char **current_head,
	                      const char *slug, void *payload);

	/**
	 * May. Store (insert or replace) the state of git repository `slug`.
	 * `remote_url` is already redacted. Strings are borrowed for the call.
	 */
	int (*git_state_write)(const char *slug, const char *remote_url, const char *branch,
	                       const char *current_head, void *payload);

	/**
	 * May. Release `payload`; called once by jobreg_storage_free(), with
	 * no transaction open.
	 */
	void (*free_payload)(void *payload);

	/* ---- version 2 ---- */

	/**
	 * May (version 2). The state stored for the source (`source_type`,
	 * `source_name`) by the last jobreg_registry_sync(): set `*state` to a
	 * NUL-terminated string owned by the backend, valid until its next
	 * callback (the library copies it at once), and return 0; return
	 * JOBREG_ENOTFOUND when nothing is stored for that source.
	 * `source_type` is "local", "git" or "app", as in records. The state is
	 * opaque text of at most a few hundred bytes: store it as it is.
	 * Without it (or source_state_write) no source is ever skipped.
	 */
	int (*source_state_read)(const char **state, const char *source_type, const char *source_name,
	                         void *payload);

	/**
	 * May (version 2). Store (insert or replace) the state of the source
	 * (`source_type`, `source_name`); a NULL `state` deletes it (deleting
	 * what is not stored is no error). Called inside the write transaction
	 * that refreshes that source's records, so both land together or not at
	 * all. Strings are borrowed for the call.
	 */
	int (*source_state_write)(const char *source_type, const char *source_name, const char *state,
	                          void *payload);

	/* ---- version 3 ---- */

	/**
	 * May (version 3). The record whose id is `id`: build it as
	 * read_records does (jobreg_record_new() and the setters, every field
	 * stored), set `*out` to it and return 0; the library takes ownership
	 * of it (also when it then fails). Return JOBREG_ENOTFOUND, with
	 * `*out` untouched, when no record has that id. Runs inside a
	 * transaction; should not read every record (an index on id).
	 */
	int (*get_record_by_id)(jobreg_record **out, const char *id, void *payload);

	/**
	 * May (version 3). The record whose (module_name, job_class_name) is
	 * (`module_name`, `job_class_name`), as get_record_by_id returns it;
	 * JOBREG_ENOTFOUND when none has it. The pair is unique among records
	 * (the class path is module_name + "." + job_class_name).
	 */
	int (*get_record_by_class)(jobreg_record **out, const char *module_name,
	                           const char *job_class_name, void *payload);

	/**
	 * May (version 3). Hand to `emit` (as read_records does, ownership
	 * included) the records that match every condition of `filter`, in
	 * the order of jobreg_storage_list(): by grouping, then name, then
	 * class path, then id, each compared bytewise (strcmp; SQLite's
	 * BINARY collation). Skip the first `filter->offset` matches and emit
	 * at most `filter->limit` (0: no limit). `filter` is borrowed for the
	 * call, already checked by the library, and of version
	 * JOBREG_RECORD_FILTER_VERSION of the library's headers, never older
	 * than 1: a backend reads the fields of the version it knows. Stop at
	 * the first non-zero return of `emit` and return it.
	 */
	int (*list_records)(jobreg_storage_emit_fn emit, void *emit_payload,
	                    const jobreg_record_filter *filter, void *payload);

	/**
	 * May (version 3, with load_errors_read). Replace every load error
	 * stored for the source (`source_type`, `source_name`) by the `count`
	 * rows of `rows` (0: delete them all), keeping their order. The rows'
	 * own source fields equal the two arguments. Called inside the write
	 * transaction of the refresh of that source, so the errors and the
	 * records land together or not at all. Everything is borrowed for the
	 * call.
	 */
	int (*load_errors_replace)(const char *source_type, const char *source_name,
	                           const jobreg_load_error_row *rows, size_t count, void *payload);

	/**
	 * May (version 3, with load_errors_replace). Hand to `emit`, with
	 * `emit_payload`, the stored load errors of the source (`source_type`,
	 * `source_name`), or of every source of `source_type` when
	 * `source_name` is NULL, or of every source when both are NULL: each
	 * source's in the order they were stored, the sources in any order
	 * (the library sorts them). Stop at the first non-zero return of `emit`
	 * and return it. Runs inside a transaction.
	 */
	int (*load_errors_read)(jobreg_storage_load_error_emit_fn emit, void *emit_payload,
	                        const char *source_type, const char *source_name, void *payload);

	/**
	 * May (version 3, with runs_read). Store the run record `row`,
	 * replacing the one with the same id or adding it: a run is written
	 * once when it starts (status "STARTED", no `finished`) and once more
	 * when it ends; a run the record check refuses is written once,
	 * finished. Called inside a write transaction of its own, so a run
	 * record is stored whatever becomes of the job. `row` is borrowed for
	 * the call. A backend keeps every field as it is given.
	 */
	int (*run_write)(const jobreg_run_row *row, void *payload);

	/**
	 * May (version 3, with run_write). Hand to `emit`, with
	 * `emit_payload`, the run records that match every condition of
	 * `filter` (jobreg/runs.h: id, job id, status), newest first: by
	 * `started` descending, then id descending, each compared bytewise.
	 * Skip the first `filter->offset` matches and emit at most
	 * `filter->limit` (0: no limit). `filter` is borrowed for the call,
	 * already checked by the library, of version JOBREG_RUN_FILTER_VERSION
	 * of the library's headers. Stop at the first non-zero return of
	 * `emit` and return it. Runs inside a transaction.
	 */
	int (*runs_read)(jobreg_storage_run_emit_fn emit, void *emit_payload,
	                 const jobreg_run_filter *filter, void *payload);
} jobreg_storage_backend;

/** The newest jobreg_storage_backend version these headers describe. */
#define JOBREG_STORAGE_BACKEND_VERSION 3

/**
 * Create a storage handle over a host backend. The library copies the
 * table (the bytes of its version only) and keeps `payload`, which it
 * passes as the last argument of every callback.
 *
 * On success the handle owns `payload`: jobreg_storage_free() calls the
 * table's `free_payload` on it (when given). On error nothing is called and the
 * caller still owns `payload`. On success `*out` is owned by the caller:
 * free it with jobreg_storage_free().
 * Errors: JOBREG_EVERSION (version 0 or newer than this library),
 * JOBREG_EINVAL (a "must" callback is NULL: the message names it),
 * JOBREG_ENOMEM. Any thread; calls no callback; needs no jobreg_init().
 */
JOBREG_EXTERN(int)
jobreg_storage_new(jobreg_storage **out, const jobreg_storage_backend *backend, void *payload);

/**
 * For backends: record why a callback fails, on the calling thread, and
 * return `code` (so `return jobreg_storage_error_set(JOBREG_ESTORAGE,
 * "disk full");` works). `message` is copied; NULL gives a generic one.
 * Thread-safe (the last error is per thread).
 */
JOBREG_EXTERN(int) jobreg_storage_error_set(int code, const char *message);

#ifdef __cplusplus
}
#endif

#endif
