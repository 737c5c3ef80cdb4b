/*
 * refresh.h: the refresh rules over plain job descriptions (internal).
 *
 * jobreg_refresh() turns a snapshot's jobs into jr_job_desc values and
 * calls jr_refresh_jobs(); the rules never look at a snapshot, so they can
 * be driven from any list of jobs.
 */
#ifndef JR_REFRESH_H
#define JR_REFRESH_H

#include "jobreg/records.h"

typedef struct jr_job_desc {
	const char *class_path; /* module_name "." class_name */
	const char *module_name;
	const char *class_name;
	jobreg_source_t source_type;
	const char *source_name;
	const char *grouping;
	const char *name;
	const char *description;
	const char *task_queues; /* a JSON array of strings */
	const char *variables;   /* a JSON object */
	double soft_time_limit;
	double time_limit;
	unsigned char hidden;
	unsigned char dryrun_default;
	unsigned char approval_required;
	unsigned char has_sensitive_variables;
	unsigned char is_singleton;
	unsigned char supports_dryrun;
} jr_job_desc;

/*
 * Refresh the records of `st` against `jobs` (all of them in scope: the
 * caller filters). `scope_type` 0 puts every record in scope; otherwise
 * only records of (scope_type, scope_name) may be uninstalled.
 * `out` may be NULL.
 */
int jr_refresh_jobs(jobreg_refresh_result **out, jobreg_storage *st, const jr_job_desc *jobs,
                    size_t count, int scope_type, const char *scope_name);

#endif
