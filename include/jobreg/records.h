/*
 * records.h: job records, the storage that keeps them, and the refresh that
 * brings them in line with a loaded registry (SPEC 4).
 *
 * A *record* is what the host's database knows about a job: its identity
 * (module_name, job_class_name), its metadata as last copied from the class,
 * whether it is installed (its job is loaded) and enabled (the host allows it
 * to run), and override flags that protect host edits from the next refresh.
 *
 * A *storage* handle (jobreg_storage) wraps a backend: the in-memory one, the
 * SQLite one, or a host's own (see jobreg/sys/storage.h). Every operation
 * below runs inside one backend transaction; a failure rolls it back, so
 * nothing is ever half-written.
 *
 * Thread-safety: a jobreg_record or jobreg_record_list is a plain value:
 * safe to read from many threads, not to modify concurrently. Calls on one
 * jobreg_storage are serialized by the handle itself (any thread may call).
 * Several handles, in one process or many, may open the same SQLite file:
 * write transactions serialize on the database, so no update is lost.
 * None of these functions touches Python or needs jobreg_init().
 */
#ifndef JOBREG_RECORDS_H
#define JOBREG_RECORDS_H

#include "common.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One job record, opaque: its fields are read and set through jobreg_field. */
typedef struct jobreg_record jobreg_record;

/** An ordered list of records owned by the caller. */
typedef struct jobreg_record_list jobreg_record_list;

/** A storage handle: a backend and its payload. */
typedef struct jobreg_storage jobreg_storage;

/** What a refresh did. */
typedef struct jobreg_refresh_result jobreg_refresh_result;

/**
 * The fields of a record. The values are part of the ABI: never renumbered,
 * only appended. Use jobreg_record_field_count() at run time rather than a
 * compile-time count, so that a host keeps working with later libraries.
 *
 * `<field>_OVERRIDE` flags: when set, a refresh leaves `<field>` as it is
 * instead of copying it from the job class.
 */
typedef enum jobreg_field {
	JOBREG_FIELD_ID = 0,                  /**< text: UUID v4, created once */
	JOBREG_FIELD_MODULE_NAME = 1,         /**< text: "inventory.check_inventory" */
	JOBREG_FIELD_JOB_CLASS_NAME = 2,      /**< text: "CheckInventory" */
	JOBREG_FIELD_CLASS_PATH = 3,          /**< text: module_name "." job_class_name */
	JOBREG_FIELD_SOURCE_TYPE = 4,         /**< text: "local", "git" or "app" */
	JOBREG_FIELD_SOURCE = 5,              /**< text: git slug, app package, or "" */
	JOBREG_FIELD_GROUPING = 6,            /**< text */
	JOBREG_FIELD_NAME = 7,                /**< text, unique among records */
	JOBREG_FIELD_DESCRIPTION = 8,         /**< text */
	JOBREG_FIELD_INSTALLED = 9,           /**< bool: the job is loaded */
	JOBREG_FIELD_ENABLED = 10,            /**< bool: the host allows runs */
	JOBREG_FIELD_HIDDEN = 11,             /**< bool */
	JOBREG_FIELD_DRYRUN_DEFAULT = 12,     /**< bool */
	JOBREG_FIELD_APPROVAL_REQUIRED = 13,  /**< bool */
	JOBREG_FIELD_HAS_SENSITIVE_VARIABLES = 14, /**< bool */
	JOBREG_FIELD_SOFT_TIME_LIMIT = 15,    /**< real: seconds, 0 = host default */
	JOBREG_FIELD_TIME_LIMIT = 16,         /**< real: seconds, 0 = host default */
	JOBREG_FIELD_TASK_QUEUES = 17,        /**< text: a JSON array of strings */
	JOBREG_FIELD_IS_SINGLETON = 18,       /**< bool */
	JOBREG_FIELD_SUPPORTS_DRYRUN = 19,    /**< bool */
	JOBREG_FIELD_VARIABLES = 20,          /**< text: a JSON object (the schema) */
	JOBREG_FIELD_GROUPING_OVERRIDE = 21,  /**< bool */
	JOBREG_FIELD_NAME_OVERRIDE = 22,      /**< bool */
	JOBREG_FIELD_DESCRIPTION_OVERRIDE = 23, /**< bool */
	JOBREG_FIELD_HIDDEN_OVERRIDE = 24,    /**< bool */
	JOBREG_FIELD_DRYRUN_DEFAULT_OVERRIDE = 25, /**< bool */
	JOBREG_FIELD_APPROVAL_REQUIRED_OVERRIDE = 26, /**< bool */
	JOBREG_FIELD_HAS_SENSITIVE_VARIABLES_OVERRIDE = 27, /**< bool */
	JOBREG_FIELD_SOFT_TIME_LIMIT_OVERRIDE = 28, /**< bool */
	JOBREG_FIELD_TIME_LIMIT_OVERRIDE = 29, /**< bool */
	JOBREG_FIELD_IS_SINGLETON_OVERRIDE = 30 /**< bool */
} jobreg_field;

/** The kind of a field's value. Part of the ABI. */
typedef enum jobreg_field_kind {
	JOBREG_FIELD_KIND_TEXT = 1, /**< a UTF-8 string (JSON text for task_queues, variables) */
	JOBREG_FIELD_KIND_BOOL = 2, /**< 0 or 1 */
	JOBREG_FIELD_KIND_REAL = 3  /**< a finite double >= 0 */
} jobreg_field_kind;

/* ------------------------------------------------------------------ */
/* Records                                                             */
/* ------------------------------------------------------------------ */

/**
 * A new record with every field at its default: texts "" except
 * source_type "local", task_queues "[]" and variables "{}"; bools 0 except
 * has_sensitive_variables 1 (the SPEC default); reals 0. The id is "": a
 * refresh gives the records it creates a fresh UUID; a backend reading
 * stored records sets the stored id. Free with jobreg_record_free().
 * Errors: JOBREG_EINVAL, JOBREG_ENOMEM.
 */
JOBREG_EXTERN(int) jobreg_record_new(jobreg_record **out);

/** A deep copy of `rec`. Free with jobreg_record_free(). Errors as _new. */
JOBREG_EXTERN(int) jobreg_record_dup(jobreg_record **out, const jobreg_record *rec);

/** Free a record. Accepts NULL. */
JOBREG_EXTERN(void) jobreg_record_free(jobreg_record *rec);

/** How many fields a record has in this library (31 in 0.1). */
JOBREG_EXTERN(size_t) jobreg_record_field_count(void);

/**
 * A field's name as used in JSON and in SPEC 4 ("class_path",
 * "name_override"); NULL for an unknown field. Static; never free it.
 */
JOBREG_EXTERN(const char *) jobreg_record_field_name(jobreg_field field);

/** A field's kind, or 0 for an unknown field. */
JOBREG_EXTERN(jobreg_field_kind) jobreg_record_field_kind(jobreg_field field);

/**
 * The field called `name` (exact, case-sensitive).
 * Errors: JOBREG_ENOTFOUND (message names it), JOBREG_EINVAL.
 */
JOBREG_EXTERN(int) jobreg_record_field_by_name(jobreg_field *out, const char *name);

/**
 * A text field's value, borrowed from the record: valid until that field is
 * set again or the record is freed. Never NULL for a text field; NULL (and
 * JOBREG_EINVAL recorded) when `field` is not a text field or `rec` is NULL.
 */
JOBREG_EXTERN(const char *) jobreg_record_text(const jobreg_record *rec, jobreg_field field);

/**
 * A bool field's value: 0 or 1. JOBREG_EINVAL (negative) when `field` is not
 * a bool field or `rec` is NULL.
 */
JOBREG_EXTERN(int) jobreg_record_bool(const jobreg_record *rec, jobreg_field field);

/**
 * A real field's value. 0.0 (and JOBREG_EINVAL recorded) when `field` is not
 * a real field or `rec` is NULL.
 */
JOBREG_EXTERN(double) jobreg_record_real(const jobreg_record *rec, jobreg_field field);

/**
 * Set a text field to a copy of `value`. Checked: source_type must be
 * "local", "git" or "app"; task_queues a JSON array of strings; variables a
 * JSON object. On error the record is unchanged.
 * Errors: JOBREG_EINVAL (wrong kind, NULL, or a value that fails the check;
 * the message names the field and the value), JOBREG_ENOMEM.
 */
JOBREG_EXTERN(int)
jobreg_record_set_text(jobreg_record *rec, jobreg_field field, const char *value);

/** Set a bool field (any non-zero `value` is stored as 1). Errors: JOBREG_EINVAL. */
JOBREG_EXTERN(int) jobreg_record_set_bool(jobreg_record *rec, jobreg_field field, int value);

/**
 * Set a real field. Errors: JOBREG_EINVAL (wrong kind, or a value that is
 * negative, NaN or infinite; the message names the field).
 */
JOBREG_EXTERN(int) jobreg_record_set_real(jobreg_record *rec, jobreg_field field, double value);

/**
 * The record as one JSON object whose keys are exactly the field names, in
 * field order: texts as strings, bools as true/false, reals as numbers,
 * task_queues as an array and variables as an object (embedded, not quoted).
 * On success `*out` is a new NUL-terminated string; free it with
 * jobreg_free(). Errors: JOBREG_EINVAL, JOBREG_ENOMEM.
 */
JOBREG_EXTERN(int) jobreg_record_to_json(char **out, const jobreg_record *rec);

/** How many records the list holds. 0 for NULL. */
JOBREG_EXTERN(size_t) jobreg_record_list_count(const jobreg_record_list *list);

/** Record `i`, borrowed from the list; NULL when out of range. */
JOBREG_EXTERN(const jobreg_record *)
jobreg_record_list_get(const jobreg_record_list *list, size_t i);

/**
 * The list as a JSON array of record objects (as jobreg_record_to_json()).
 * Free `*out` with jobreg_free(). Errors: JOBREG_EINVAL, JOBREG_ENOMEM.
 */
JOBREG_EXTERN(int) jobreg_record_list_to_json(char **out, const jobreg_record_list *list);

/** Free a list and its records. Accepts NULL. */
JOBREG_EXTERN(void) jobreg_record_list_free(jobreg_record_list *list);

/* ------------------------------------------------------------------ */
/* Storage handles                                                     */
/* ------------------------------------------------------------------ */

/**
 * A storage over the in-memory backend: records live as long as the
 * handle. Transactions roll back exactly. For tests and ephemeral hosts.
 * Free with jobreg_storage_free(). Errors: JOBREG_EINVAL, JOBREG_ENOMEM.
 */
JOBREG_EXTERN(int) jobreg_storage_memory_new(jobreg_storage **out);

/**
 * Options of jobreg_storage_sqlite_open().
 *
 * Version history:
 *  - 1 (0.1.0): version, busy_timeout_ms.
 */
typedef struct jobreg_sqlite_options {
	/** The structure version the caller fills in: JOBREG_SQLITE_OPTIONS_VERSION. */
	unsigned int version;
	/**
	 * How long a call waits for another connection's write transaction
	 * before failing with JOBREG_ESTORAGE. Default 5000; 0 = do not wait.
	 */
	unsigned int busy_timeout_ms;
} jobreg_sqlite_options;

/** The version of jobreg_sqlite_options these headers describe. */
#define JOBREG_SQLITE_OPTIONS_VERSION 1
/** Static initializer of jobreg_sqlite_options: this version, the defaults. */
#define JOBREG_SQLITE_OPTIONS_INIT { JOBREG_SQLITE_OPTIONS_VERSION, 5000 }

/**
 * Fill `opts` with the defaults of `version`; JOBREG_EVERSION if unknown,
 * JOBREG_EINVAL for NULL. Thread-safe.
 */
JOBREG_EXTERN(int)
jobreg_sqlite_options_init(jobreg_sqlite_options *opts, unsigned int version);

/**
 * Open (creating it if missing) the SQLite database file `path` as a
 * storage. The file's parent folder must exist.
 *
 * The backend owns its schema: tables `jobreg_records`,
 * `jobreg_git_state` and `jobreg_source_state`, versioned with `PRAGMA
 * user_version` (schema 2 in this library; a schema-1 file of 0.1 is
 * migrated in place when opened), so a host may keep its own tables in the same file. The
 * database is put in WAL mode; every write runs in a transaction, and the
 * read-modify-write operations (refresh, set_enabled, ...) take the write
 * lock first (`BEGIN IMMEDIATE`), so concurrent processes serialize and
 * never lose an update. `opts` may be NULL for the defaults.
 *
 * The file's `user_version` belongs to libjobreg; tables of the host are
 * left alone.
 *
 * Errors: JOBREG_ESTORAGE (cannot open or create, not a database, locked
 * for longer than the busy timeout: the message names the file),
 * JOBREG_EVERSION (the file's schema is newer than this library knows, and
 * it is left untouched; the message names the file and both versions, or
 * an unknown `opts` version), JOBREG_EINVAL, JOBREG_ENOMEM.
 */
JOBREG_EXTERN(int)
jobreg_storage_sqlite_open(jobreg_storage **out, const char *path,
                           const jobreg_sqlite_options *opts);

/**
 * Free a storage handle. Accepts NULL. Calls the backend's `free_payload` callback
 * on its payload (the SQLite backend closes its connection). Must not run
 * concurrently with another call on the same handle.
 */
JOBREG_EXTERN(void) jobreg_storage_free(jobreg_storage *st);

/* ------------------------------------------------------------------ */
/* Refresh                                                             */
/* ------------------------------------------------------------------ */

/**
 * Options of jobreg_refresh().
 *
 * Version history:
 *  - 1 (0.1.0): version, source_type, source_name.
 */
typedef struct jobreg_refresh_options {
	/** The structure version the caller fills in: JOBREG_REFRESH_OPTIONS_VERSION. */
	unsigned int version;
	/**
	 * 0 (default): refresh every record against every job of the snapshot.
	 * A jobreg_source_t value: refresh only the jobs of the source
	 * (source_type, source_name) and the records of that source; every
	 * other record is left untouched (a git sync of one repository).
	 */
	int source_type;
	/** With source_type: the source's name; NULL means "". */
	const char *source_name;
} jobreg_refresh_options;

/** The version of jobreg_refresh_options these headers describe. */
#define JOBREG_REFRESH_OPTIONS_VERSION 1
/** Static initializer of jobreg_refresh_options: this version, the defaults. */
#define JOBREG_REFRESH_OPTIONS_INIT { JOBREG_REFRESH_OPTIONS_VERSION, 0, NULL }

/**
 * Fill `opts` with the defaults of `version`; JOBREG_EVERSION if unknown,
 * JOBREG_EINVAL for NULL. Thread-safe.
 */
JOBREG_EXTERN(int)
jobreg_refresh_options_init(jobreg_refresh_options *opts, unsigned int version);

/**
 * Bring the records in line with the jobs of `snap` (SPEC 4):
 *
 *  - a job without a record (identity: module_name, job_class_name) gets
 *    a new one with a fresh id, installed = 1 and enabled = 0: a refresh
 *    never enables a job;
 *  - a job with a record: installed = 1; class_path, source_type, source,
 *    task_queues, supports_dryrun and variables are copied from the job,
 *    and grouping, name, description, hidden, dryrun_default,
 *    approval_required, has_sensitive_variables, soft_time_limit,
 *    time_limit and is_singleton too unless their _override flag is set;
 *    enabled is never touched;
 *  - a record (in scope) whose job is not in the snapshot becomes
 *    installed = 0 and keeps everything else; a refresh never deletes.
 *    A module or a whole source that failed to load has no jobs in the
 *    snapshot, so its records become installed = 0 too (its load errors are
 *    in the snapshot); the next successful load installs them again with
 *    their ids and enabled flags;
 *  - names stay unique among all records: records whose job keeps its name
 *    keep it; a job whose name is taken by another record gets "name (2)",
 *    "name (3)", ... (the first free one) and its name_override is set, so
 *    the next refresh keeps that name. Names already taken by records that
 *    this refresh does not rename (uninstalled ones, overridden ones,
 *    records of other sources) are never changed.
 *
 * It reads the records once and writes only the records that changed, in
 * one write transaction of the backend; nothing changed means no write. If
 * any backend call fails, the transaction is rolled back and the error
 * returned: the stored records are exactly as before.
 *
 * `opts` may be NULL (every record). On success `*out` (if `out` is not
 * NULL) is a result to free with jobreg_refresh_result_free().
 * Errors: JOBREG_EINVAL, JOBREG_EVERSION, JOBREG_ENOMEM, JOBREG_ESTORAGE or
 * any code the backend returned; JOBREG_EEXISTS when the stored records hold
 * the same identity twice (the message names both ids).
 */
JOBREG_EXTERN(int)
jobreg_refresh(jobreg_refresh_result **out, jobreg_storage *st, const jobreg_snapshot *snap,
               const jobreg_refresh_options *opts);

/**
 * How many records the refresh created.
 *
 * A refresh result lists the class paths of the records the refresh
 * created, updated (written for any reason: metadata changed, re-installed,
 * renamed for uniqueness) and uninstalled, each in snapshot order
 * (uninstalled: in class path order); created + updated + unchanged = the
 * jobs in scope. A result is immutable: its getters may be called from any
 * thread; a NULL result counts 0. The strings are borrowed from the result.
 */
JOBREG_EXTERN(size_t) jobreg_refresh_result_created_count(const jobreg_refresh_result *res);
/** The class path of created record `i`; borrowed; NULL when out of range. */
JOBREG_EXTERN(const char *)
jobreg_refresh_result_created(const jobreg_refresh_result *res, size_t i);
/** How many records the refresh updated (written for any reason). */
JOBREG_EXTERN(size_t) jobreg_refresh_result_updated_count(const jobreg_refresh_result *res);
/** The class path of updated record `i`; borrowed; NULL when out of range. */
JOBREG_EXTERN(const char *)
jobreg_refresh_result_updated(const jobreg_refresh_result *res, size_t i);
/** How many records the refresh marked installed = 0. */
JOBREG_EXTERN(size_t) jobreg_refresh_result_uninstalled_count(const jobreg_refresh_result *res);
/** The class path of uninstalled record `i`; borrowed; NULL when out of range. */
JOBREG_EXTERN(const char *)
jobreg_refresh_result_uninstalled(const jobreg_refresh_result *res, size_t i);
/** How many jobs in scope already had a record that needed no change. */
JOBREG_EXTERN(size_t) jobreg_refresh_result_unchanged(const jobreg_refresh_result *res);
/** How many records the refresh wrote (created + updated + uninstalled). */
JOBREG_EXTERN(size_t) jobreg_refresh_result_writes(const jobreg_refresh_result *res);
/** Free a result and its strings. Accepts NULL. Any thread. */
JOBREG_EXTERN(void) jobreg_refresh_result_free(jobreg_refresh_result *res);

/* ------------------------------------------------------------------ */
/* What hosts do with records                                          */
/* ------------------------------------------------------------------ */

/** Which records jobreg_storage_list() returns. Part of the ABI. */
typedef enum jobreg_installed_filter {
	JOBREG_INSTALLED_ALL = 0,
	JOBREG_INSTALLED_YES = 1,
	JOBREG_INSTALLED_NO = 2
} jobreg_installed_filter;

/**
 * The records (all, installed only, or not installed only), ordered by
 * grouping, then name, then class path, then id. Free the list with
 * jobreg_record_list_free(). Errors: JOBREG_EINVAL, JOBREG_ENOMEM, backend
 * errors.
 */
JOBREG_EXTERN(int)
jobreg_storage_list(jobreg_record_list **out, jobreg_storage *st, jobreg_installed_filter which);

/**
 * The record whose id is `ref`, or else the one whose class path is `ref`
 * (resolve short forms with jobreg_registry_resolve() first). A copy: free
 * it with jobreg_record_free(). Errors: JOBREG_ENOTFOUND (message names
 * `ref`), JOBREG_EINVAL, JOBREG_ENOMEM, backend errors.
 */
JOBREG_EXTERN(int) jobreg_storage_get(jobreg_record **out, jobreg_storage *st, const char *ref);

/**
 * Set `enabled` of the record with id `id` (non-zero: 1). Writes only when
 * the value changes. Errors: JOBREG_ENOTFOUND, JOBREG_EINVAL, backend
 * errors.
 */
JOBREG_EXTERN(int) jobreg_storage_set_enabled(jobreg_storage *st, const char *id, int enabled);

/**
 * Override a metadata field of the record `id`: set its value and its
 * `_override` flag, so that refreshes keep the host's value. `field` is
 * the value field (JOBREG_FIELD_NAME, not JOBREG_FIELD_NAME_OVERRIDE) and
 * must be one of the ten overridable fields, of the kind the function
 * names. A name must stay unique: another record's name is refused.
 * Errors: JOBREG_EINVAL (not overridable, wrong kind, bad value),
 * JOBREG_EEXISTS (name taken; the message names the other record),
 * JOBREG_ENOTFOUND, JOBREG_ENOMEM, backend errors.
 */
JOBREG_EXTERN(int)
jobreg_storage_override_text(jobreg_storage *st, const char *id, jobreg_field field,
                             const char *value);
/**
 * jobreg_storage_override_text() for a bool field (hidden, dryrun_default,
 * approval_required, has_sensitive_variables, is_singleton); any non-zero
 * `value` is stored as 1. Errors as jobreg_storage_override_text().
 */
JOBREG_EXTERN(int)
jobreg_storage_override_bool(jobreg_storage *st, const char *id, jobreg_field field, int value);
/**
 * jobreg_storage_override_text() for a real field (soft_time_limit,
 * time_limit: seconds, finite and >= 0). Errors as
 * jobreg_storage_override_text().
 */
JOBREG_EXTERN(int)
jobreg_storage_override_real(jobreg_storage *st, const char *id, jobreg_field field, double value);

/**
 * Clear the `_override` flag of an overridable `field` of record `id`. The
 * value stays until the next refresh copies the job's value again.
 * Errors as jobreg_storage_override_text().
 */
JOBREG_EXTERN(int)
jobreg_storage_override_clear(jobreg_storage *st, const char *id, jobreg_field field);

/**
 * Delete the record `id`. A record still installed is refused unless
 * `force` is non-zero (the next refresh would create it again, with a new
 * id, disabled). Errors: JOBREG_ENOTFOUND, JOBREG_ESTATE (installed and not
 * forced; the message says so and names the record), JOBREG_EINVAL,
 * backend errors.
 */
JOBREG_EXTERN(int) jobreg_storage_delete(jobreg_storage *st, const char *id, int force);

/**
 * Move the records of the git or app source `old_name` to the source
 * `new_name` (a git slug renamed), so that the next refresh updates them
 * instead of leaving them uninstalled beside new duplicates. Ids, enabled,
 * installed, names, overrides and all metadata are kept; source becomes
 * `new_name`, and module_name (and with it class_path) has its leading
 * `old_name` component replaced by `new_name` (`old.jobs.x` becomes
 * `new.jobs.x`). All or nothing, in one write transaction.
 *
 * `migrated` (may be NULL) receives the number of records moved.
 * Errors: JOBREG_ENOTFOUND (no record of source `old_name`),
 * JOBREG_EEXISTS (a record with a migrated identity already exists, e.g.
 * created by a refresh of `new_name`: the message names its class path and
 * id; delete it first), JOBREG_EINVAL (a name that is not a dotted Python
 * name, equal names, or a local source ""), JOBREG_ENOMEM, backend errors.
 */
JOBREG_EXTERN(int)
jobreg_storage_migrate_source(size_t *migrated, jobreg_storage *st, const char *old_name,
                              const char *new_name);

/**
 * The stored state of the git repository `slug`. Each out-parameter may be
 * NULL; each one set is a new string to free with jobreg_free().
 * `remote_url` is redacted (no credentials are ever stored).
 * Errors: JOBREG_ENOTFOUND (no state for `slug`), JOBREG_EUNSUPPORTED (the
 * backend keeps no git state), JOBREG_EINVAL, JOBREG_ENOMEM, backend errors.
 */
JOBREG_EXTERN(int)
jobreg_storage_git_state_get(char **remote_url, char **branch, char **current_head,
                             jobreg_storage *st, const char *slug);

/**
 * Store (insert or replace) the state of the git repository `slug`.
 * `remote_url` is redacted before it is stored (jobreg_git_redact_url()).
 * Errors: JOBREG_EUNSUPPORTED, JOBREG_EINVAL (a NULL argument),
 * JOBREG_ENOMEM, backend errors.
 */
JOBREG_EXTERN(int)
jobreg_storage_git_state_set(jobreg_storage *st, const char *slug, const char *remote_url,
                             const char *branch, const char *current_head);

#ifdef __cplusplus
}
#endif

#endif
