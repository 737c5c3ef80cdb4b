/*
 * refresh.h: bringing the records of a storage in line with the jobs of a
 * snapshot (SPEC 4), and what a refresh did.
 *
 * jobreg_registry_sync() (jobreg/sync.h) loads and refreshes in one step;
 * its result is a jobreg_refresh_result too, read with the getters below
 * and with jobreg/sync.h's jobreg_refresh_result_skipped_count().
 *
 * Thread-safety: any thread; the storage handle serializes its own calls. A
 * result is immutable. None of these functions touches Python or needs
 * jobreg_init().
 *
 * A header of its own since 0.3.0; jobreg/records.h includes it.
 */
#ifndef JOBREG_REFRESH_H
#define JOBREG_REFRESH_H

#include "common.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

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
/* clang-format off */
/** Static initializer of jobreg_refresh_options: this version, the defaults. */
#define JOBREG_REFRESH_OPTIONS_INIT { JOBREG_REFRESH_OPTIONS_VERSION, 0, NULL }
/* clang-format on */

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

#ifdef __cplusplus
}
#endif

#endif
