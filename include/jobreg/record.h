/*
 * record.h: a job record, its fields by a stable enum, and lists of records
 * (SPEC 4).
 *
 * A *record* is what the host's database knows about a job: its identity
 * (module_name, job_class_name), its metadata as last copied from the class,
 * whether it is installed (its job is loaded) and enabled (the host allows it
 * to run), and override flags that protect host edits from the next refresh.
 * Its fields are read and set through jobreg_field, so a record crosses the
 * ABI without a layout. Stored records are read and changed through a
 * storage handle (jobreg/storage.h, jobreg/storage_ops.h).
 *
 * Thread-safety: a jobreg_record or jobreg_record_list is a plain value:
 * safe to read from many threads, not to modify concurrently. None of these
 * functions touches Python or needs jobreg_init().
 *
 * A header of its own since 0.3.0; jobreg/records.h includes it.
 */
#ifndef JOBREG_RECORD_H
#define JOBREG_RECORD_H

#include "common.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The fields of a record. The values are part of the ABI: never renumbered,
 * only appended. Use jobreg_record_field_count() at run time rather than a
 * compile-time count, so that a host keeps working with later libraries.
 *
 * `<field>_OVERRIDE` flags: when set, a refresh leaves `<field>` as it is
 * instead of copying it from the job class.
 */
typedef enum jobreg_field {
	JOBREG_FIELD_ID = 0,                                /**< text: UUID v4, created once */
	JOBREG_FIELD_MODULE_NAME = 1,                       /**< text: "inventory.check_inventory" */
	JOBREG_FIELD_JOB_CLASS_NAME = 2,                    /**< text: "CheckInventory" */
	JOBREG_FIELD_CLASS_PATH = 3,                        /**< text: module_name "." job_class_name */
	JOBREG_FIELD_SOURCE_TYPE = 4,                       /**< text: "local", "git" or "app" */
	JOBREG_FIELD_SOURCE = 5,                            /**< text: git slug, app package, or "" */
	JOBREG_FIELD_GROUPING = 6,                          /**< text */
	JOBREG_FIELD_NAME = 7,                              /**< text, unique among records */
	JOBREG_FIELD_DESCRIPTION = 8,                       /**< text */
	JOBREG_FIELD_INSTALLED = 9,                         /**< bool: the job is loaded */
	JOBREG_FIELD_ENABLED = 10,                          /**< bool: the host allows runs */
	JOBREG_FIELD_HIDDEN = 11,                           /**< bool */
	JOBREG_FIELD_DRYRUN_DEFAULT = 12,                   /**< bool */
	JOBREG_FIELD_APPROVAL_REQUIRED = 13,                /**< bool */
	JOBREG_FIELD_HAS_SENSITIVE_VARIABLES = 14,          /**< bool */
	JOBREG_FIELD_SOFT_TIME_LIMIT = 15,                  /**< real: seconds, 0 = host default */
	JOBREG_FIELD_TIME_LIMIT = 16,                       /**< real: seconds, 0 = host default */
	JOBREG_FIELD_TASK_QUEUES = 17,                      /**< text: a JSON array of strings */
	JOBREG_FIELD_IS_SINGLETON = 18,                     /**< bool */
	JOBREG_FIELD_SUPPORTS_DRYRUN = 19,                  /**< bool */
	JOBREG_FIELD_VARIABLES = 20,                        /**< text: a JSON object (the schema) */
	JOBREG_FIELD_GROUPING_OVERRIDE = 21,                /**< bool */
	JOBREG_FIELD_NAME_OVERRIDE = 22,                    /**< bool */
	JOBREG_FIELD_DESCRIPTION_OVERRIDE = 23,             /**< bool */
	JOBREG_FIELD_HIDDEN_OVERRIDE = 24,                  /**< bool */
	JOBREG_FIELD_DRYRUN_DEFAULT_OVERRIDE = 25,          /**< bool */
	JOBREG_FIELD_APPROVAL_REQUIRED_OVERRIDE = 26,       /**< bool */
	JOBREG_FIELD_HAS_SENSITIVE_VARIABLES_OVERRIDE = 27, /**< bool */
	JOBREG_FIELD_SOFT_TIME_LIMIT_OVERRIDE = 28,         /**< bool */
	JOBREG_FIELD_TIME_LIMIT_OVERRIDE = 29,              /**< bool */
	JOBREG_FIELD_IS_SINGLETON_OVERRIDE = 30             /**< bool */
} jobreg_field;

/** The kind of a field's value. Part of the ABI. */
typedef enum jobreg_field_kind {
	JOBREG_FIELD_KIND_TEXT = 1, /**< a UTF-8 string (JSON text for task_queues, variables) */
	JOBREG_FIELD_KIND_BOOL = 2, /**< 0 or 1 */
	JOBREG_FIELD_KIND_REAL = 3  /**< a finite double >= 0 */
} jobreg_field_kind;

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
 * Set a text field to a copy of `value`. Checked: every text must be
 * well-formed UTF-8 (since 0.3.0; the message shows the bad bytes escaped,
 * `\xff`); source_type must be "local", "git" or "app"; task_queues a JSON
 * array of strings; variables a JSON object, nested at most 256 levels deep.
 * On error the record is unchanged. Backends build the records they read
 * with this function too, so a stored text that is not UTF-8 fails the read
 * with an error naming the record and the field (the SQLite backend:
 * JOBREG_ESTORAGE).
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
 * The output is always valid JSON in UTF-8: the setters refuse texts that
 * are not UTF-8, and should one reach a record anyway, each bad byte is
 * written as U+FFFD (and a task_queues or variables text that is no JSON,
 * as a string).
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

#ifdef __cplusplus
}
#endif

#endif
