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

#ifdef __cplusplus
}
#endif

#endif
