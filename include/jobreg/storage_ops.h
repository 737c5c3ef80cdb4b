/*
 * storage_ops.h: what hosts do with the records of a storage: list, get,
 * enable, override, delete, and move a renamed source's records (SPEC 4).
 *
 * Each call is one transaction of the backend; the ones that change
 * something take the write lock before they read, so concurrent callers
 * never lose an update. Records come back as copies (jobreg/record.h).
 *
 * Thread-safety: any thread; the storage handle serializes its own calls.
 * None of these functions touches Python or needs jobreg_init().
 *
 * A header of its own since 0.3.0; jobreg/records.h includes it.
 */
#ifndef JOBREG_STORAGE_OPS_H
#define JOBREG_STORAGE_OPS_H

#include "common.h"
#include "record.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

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
 * Which records jobreg_storage_list_filtered() returns, and which page of
 * them. Fill it with JOBREG_RECORD_FILTER_INIT or
 * jobreg_record_filter_init(), then set the conditions wanted; a record is
 * listed when it meets every one.
 *
 * Version history:
 *  - 1 (0.3.0): version, source_type, source_name, installed, enabled,
 *    offset, limit.
 */
typedef struct jobreg_record_filter {
	/** The structure version the caller fills in: JOBREG_RECORD_FILTER_VERSION. */
	unsigned int version;
	/** "local", "git" or "app": only records of that source type; NULL: any. */
	const char *source_type;
	/** Only records whose source is this name ("" for a jobs root); NULL: any. */
	const char *source_name;
	/** Installed, not installed, or both (the default). */
	jobreg_installed_filter installed;
	/** 1: enabled only; 0: disabled only; -1: both (the default). */
	int enabled;
	/** Skip this many matching records first (default 0). */
	size_t offset;
	/** Return at most this many records; 0 (the default): all. */
	size_t limit;
} jobreg_record_filter;

/** The version of jobreg_record_filter these headers describe. */
#define JOBREG_RECORD_FILTER_VERSION 1
/* clang-format off */
/** Static initializer of jobreg_record_filter: this version, every record. */
#define JOBREG_RECORD_FILTER_INIT \
	{ JOBREG_RECORD_FILTER_VERSION, NULL, NULL, JOBREG_INSTALLED_ALL, -1, 0, 0 }
/* clang-format on */

/**
 * Fill `filter` with the defaults of `version` (every record, no paging).
 * Errors: JOBREG_EVERSION (unknown version), JOBREG_EINVAL (NULL).
 * Thread-safe. Since 0.3.0.
 */
JOBREG_EXTERN(int)
jobreg_record_filter_init(jobreg_record_filter *filter, unsigned int version);

/**
 * The records that meet every condition of `filter` (NULL: all records),
 * in the order of jobreg_storage_list(), from the `offset`th match on and
 * at most `limit` of them: page through records with offset += limit until
 * a page comes back shorter than `limit`. A backend of version 3
 * (jobreg/sys/storage.h) filters and pages in its database; with an older
 * one the library reads every record and does it itself.
 *
 * `*out` is owned by the caller: free it with jobreg_record_list_free().
 * `filter` is copied. Errors: JOBREG_EINVAL (NULL `out` or `st`, an
 * unknown source type, `installed` or `enabled` value: the message names
 * the field and its value), JOBREG_EVERSION (unknown filter version),
 * JOBREG_ENOMEM, backend errors. Since 0.3.0.
 */
JOBREG_EXTERN(int)
jobreg_storage_list_filtered(jobreg_record_list **out, jobreg_storage *st,
                             const jobreg_record_filter *filter);

/**
 * The record whose id is `ref`, or else the one whose class path is `ref`
 * (resolve short forms with jobreg_registry_resolve() first). A copy: free
 * it with jobreg_record_free(). With a backend of version 3 (since 0.3.0)
 * it looks both up by index instead of reading every record. Errors: JOBREG_ENOTFOUND (message names
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
 * Errors: JOBREG_EINVAL (not overridable, wrong kind, bad value: as
 * jobreg_record_set_text() and _set_real() check it, so a text must be
 * valid UTF-8),
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
 * Retire the source (`source_type` "local", "git" or "app", `source_name`;
 * "" for a jobs root) from the storage once the host has removed it for
 * good (jobreg_registry_remove_source()): in one write transaction its
 * records are marked not installed (ids, enabled, overrides and metadata
 * kept: review them, then jobreg_storage_delete() them, or
 * jobreg_storage_migrate_source() them to a renamed source), and its
 * stored load errors and sync state are deleted, so that a source of that
 * name added later is imported afresh. The git state of a repository (its
 * recorded head) is kept: backends have no callback that deletes it (a
 * host deletes its own row; a later sync of the slug replaces it).
 *
 * `retired` (may be NULL) receives the number of records that were
 * installed and no longer are. A source with no record is no error (0).
 * Errors: JOBREG_EINVAL (NULL `st` or name, an unknown source type: the
 * message names it), JOBREG_ENOMEM, backend errors. Since 0.3.0.
 */
JOBREG_EXTERN(int)
jobreg_storage_retire_source(size_t *retired, jobreg_storage *st, const char *source_type,
                             const char *source_name);

/**
 * The load errors stored by the last refresh of each source (backend
 * version 3's load_errors_* callbacks; jobreg/sys/storage.h): what a
 * process that did not load the code (a UI, an operator's shell) shows
 * to explain why a job is missing. Each refresh replaces the errors of the
 * sources it refreshed, in its transaction.
 *
 * `filter` (NULL: every source) selects by its `source_type` and
 * `source_name` and pages with `offset` and `limit`; its `installed` and
 * `enabled` must keep their defaults (load errors have neither). The list
 * is sorted by source type, then source name (bytewise), then the order
 * the load reported them. A backend without those callbacks stores none:
 * the list is empty, and no error.
 *
 * `*out` is owned by the caller: free it with
 * jobreg_load_error_list_free(). `filter` is copied. Errors:
 * JOBREG_EINVAL (NULL `out` or `st`, an unknown source type, `installed`
 * or `enabled` not at its default: the message names the field and its
 * value), JOBREG_EVERSION (unknown filter version), JOBREG_ENOMEM, backend
 * errors. Any thread (calls on one handle are serialized). Since 0.3.0.
 */
JOBREG_EXTERN(int)
jobreg_storage_load_errors(jobreg_load_error_list **out, jobreg_storage *st,
                           const jobreg_record_filter *filter);

/** The number of load errors in `list`; 0 for NULL. Since 0.3.0. */
JOBREG_EXTERN(size_t) jobreg_load_error_list_count(const jobreg_load_error_list *list);

/*
 * The fields of the `i`th load error of `list`: strings borrowed from the
 * list (valid until jobreg_load_error_list_free()), never NULL ("" when
 * unknown) for `i` in range; NULL (0 for the line) for a NULL list or an
 * `i` out of range. Getters do not fail. Since 0.3.0.
 */
/** "local", "git" or "app". */
JOBREG_EXTERN(const char *)
jobreg_load_error_list_source_type(const jobreg_load_error_list *list, size_t i);
/** The source's name ("" for a jobs root). */
JOBREG_EXTERN(const char *)
jobreg_load_error_list_source(const jobreg_load_error_list *list, size_t i);
/** The module that failed, or "". */
JOBREG_EXTERN(const char *)
jobreg_load_error_list_module(const jobreg_load_error_list *list, size_t i);
/** The file at fault, or "". */
JOBREG_EXTERN(const char *)
jobreg_load_error_list_file(const jobreg_load_error_list *list, size_t i);
/** Its line, or 0. */
JOBREG_EXTERN(int) jobreg_load_error_list_line(const jobreg_load_error_list *list, size_t i);
/** The exception's type name. */
JOBREG_EXTERN(const char *)
jobreg_load_error_list_type(const jobreg_load_error_list *list, size_t i);
/** The exception's message. */
JOBREG_EXTERN(const char *)
jobreg_load_error_list_message(const jobreg_load_error_list *list, size_t i);
/** The formatted traceback, or "". */
JOBREG_EXTERN(const char *)
jobreg_load_error_list_traceback(const jobreg_load_error_list *list, size_t i);
/** When the refresh stored it: UTC ISO 8601 ("2026-01-31T12:00:00Z"). */
JOBREG_EXTERN(const char *)
jobreg_load_error_list_when(const jobreg_load_error_list *list, size_t i);

/** Free a load error list. Accepts NULL. Since 0.3.0. */
JOBREG_EXTERN(void) jobreg_load_error_list_free(jobreg_load_error_list *list);

#ifdef __cplusplus
}
#endif

#endif
