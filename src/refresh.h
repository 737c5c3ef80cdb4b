/*
 * refresh.h: the refresh rules over plain job descriptions (internal).
 *
 * jobreg_refresh() turns a snapshot's jobs into jr_job_desc values and
 * calls jr_refresh_jobs(); the rules never look at a snapshot, so they can
 * be driven from any list of jobs.
 */
#ifndef JR_REFRESH_H
#define JR_REFRESH_H

#include "job_fields.h"
#include "jobreg/records.h"

/* What a refresh did; a sync adds the sources it skipped (sync.c). */
struct jobreg_refresh_result {
	char **created, **updated, **uninstalled;
	size_t created_count, updated_count, uninstalled_count;
	size_t unchanged, writes;
	size_t skipped; /* sources a sync did not import */
};

typedef struct jr_job_desc {
	const char *class_path; /* module_name "." class_name */
	const char *module_name;
	const char *class_name;
	jobreg_source_t source_type;
	const char *source_name;
	/* The META fields of src/job_fields.h, by name (d.hidden; task_queues
	 * and variables as JSON text) or whole (d.meta = job->meta). */
	JR_JOB_META;
} jr_job_desc;

/*
 * Which stored records a refresh may uninstall, and what runs before its
 * commit. A NULL scope, or a NULL `contains`, puts every record in scope.
 */
typedef struct jr_refresh_scope {
	int (*contains)(const jobreg_record *rec, const void *ctx);
	const void *ctx;
	/* Inside the transaction, after the writes: every record as it now is
	 * (stored and created, `count` of them); a failure rolls back all. */
	int (*before_commit)(jobreg_storage *st, const jobreg_record *const *records, size_t count,
	                     void *hook_ctx);
	void *hook_ctx;
} jr_refresh_scope;

/*
 * Refresh the records of `st` against `jobs` (all of them in scope: the
 * caller filters). `out` may be NULL.
 */
int jr_refresh_jobs(jobreg_refresh_result **out, jobreg_storage *st, const jr_job_desc *jobs,
                    size_t count, const jr_refresh_scope *scope);

/* A result of no refresh at all (every getter answers 0); NULL when out of memory. */
jobreg_refresh_result *jr_refresh_result_new_empty(void);

/* A sync's skipped sources and their (installed) records, counted as unchanged. */
void jr_refresh_result_add_skipped(jobreg_refresh_result *res, size_t sources,
                                   size_t unchanged_records);

/* Turn a snapshot's jobs into descriptions: those for which `want` says 1
 * (all when NULL). Free with jr_job_descs_free(). */
typedef struct jr_job_descs {
	jr_job_desc *items;
	size_t count;
} jr_job_descs;
int jr_job_descs_from_snapshot(jr_job_descs *out, const jobreg_snapshot *snap,
                               int (*want)(const jobreg_job *job, const void *ctx),
                               const void *ctx);
void jr_job_descs_free(jr_job_descs *descs);

#endif
