/*
 * job.h: a loaded job and the metadata read from its class (SPEC 2).
 *
 * Jobs belong to the snapshot (generation) that loaded them. A `const
 * jobreg_job *` is borrowed from a snapshot and lives as long as it; a
 * `jobreg_job *` returned by jobreg_registry_resolve() or jobreg_job_dup()
 * is a reference the caller owns and releases with jobreg_job_free(); it
 * keeps its whole generation alive. All getters are thread-safe, never
 * touch Python, and return borrowed strings (never NULL) that live as long
 * as the job. Every getter accepts a NULL job and then returns NULL, 0 or
 * 0.0 (since 0.3.0; before, NULL crashed).
 */
#ifndef JOBREG_JOB_H
#define JOBREG_JOB_H

#include "common.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** `module.ClassName`, the job's identity within a registry. */
JOBREG_EXTERN(const char *) jobreg_job_class_path(const jobreg_job *job);
/** The module that defines the class ("inventory.check_inventory"). */
JOBREG_EXTERN(const char *) jobreg_job_module_name(const jobreg_job *job);
/** The class's name ("CheckInventory"). */
JOBREG_EXTERN(const char *) jobreg_job_class_name(const jobreg_job *job);
/** The type of the source that loaded the job. */
JOBREG_EXTERN(jobreg_source_t) jobreg_job_source_type(const jobreg_job *job);
/** The name of that source ("" for a jobs root). */
JOBREG_EXTERN(const char *) jobreg_job_source_name(const jobreg_job *job);
/** The defining module's `name` attribute, or else its module name. */
JOBREG_EXTERN(const char *) jobreg_job_grouping(const jobreg_job *job);
/** Meta.name, or the class name. */
JOBREG_EXTERN(const char *) jobreg_job_name(const jobreg_job *job);
/** Meta.description, dedented and stripped, or "". */
JOBREG_EXTERN(const char *) jobreg_job_description(const jobreg_job *job);
/** Meta.hidden (default 0). */
JOBREG_EXTERN(int) jobreg_job_hidden(const jobreg_job *job);
/** Meta.dryrun_default (default 0). */
JOBREG_EXTERN(int) jobreg_job_dryrun_default(const jobreg_job *job);
/** Meta.approval_required (default 0). */
JOBREG_EXTERN(int) jobreg_job_approval_required(const jobreg_job *job);
/** Meta.has_sensitive_variables (default 1). */
JOBREG_EXTERN(int) jobreg_job_has_sensitive_variables(const jobreg_job *job);
/** Meta.is_singleton (default 0). */
JOBREG_EXTERN(int) jobreg_job_is_singleton(const jobreg_job *job);
/** Meta.soft_time_limit in seconds; 0 means the host's default. */
JOBREG_EXTERN(double) jobreg_job_soft_time_limit(const jobreg_job *job);
/** Meta.time_limit in seconds; 0 means the host's default. */
JOBREG_EXTERN(double) jobreg_job_time_limit(const jobreg_job *job);
/** How many names Meta.task_queues lists (default 0). */
JOBREG_EXTERN(size_t) jobreg_job_task_queue_count(const jobreg_job *job);
/** Queue `i` of Meta.task_queues; NULL when `i` is out of range. */
JOBREG_EXTERN(const char *)
jobreg_job_task_queue(const jobreg_job *job, size_t i);
/** 1 when the job declares a DryRunVar. */
JOBREG_EXTERN(int) jobreg_job_supports_dryrun(const jobreg_job *job);
/** The job's variables as a JSON schema text ("{}" when it has none). */
JOBREG_EXTERN(const char *) jobreg_job_variables_json(const jobreg_job *job);

/**
 * Which code the job was loaded from: the commit of a git source (40 hex
 * digits), or the fingerprint of the files of a jobs root or an app
 * package (16 hex digits: their paths, sizes and modification times), as
 * the load that imported it saw them; "" when the source could not be
 * read. Borrowed from the job. Thread-safe. Since 0.3.0.
 */
JOBREG_EXTERN(const char *) jobreg_job_code_version(const jobreg_job *job);

/**
 * Take a new reference to `job` (and so to its generation).
 * Errors: JOBREG_EINVAL. Thread-safe.
 */
JOBREG_EXTERN(int) jobreg_job_dup(jobreg_job **out, const jobreg_job *job);

/**
 * Release a reference returned by jobreg_registry_resolve() or
 * jobreg_job_dup(). Accepts NULL. Releasing the last reference of a
 * generation frees it, which takes the GIL briefly to drop its classes.
 * Thread-safe.
 */
JOBREG_EXTERN(void) jobreg_job_free(jobreg_job *job);

#ifdef __cplusplus
}
#endif

#endif
