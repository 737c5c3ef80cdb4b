/* loadutil.h: loading a jobs root in tests (header-only, for C tests). */
#ifndef JR_LOADUTIL_H
#define JR_LOADUTIL_H

#include <jobreg.h>

#include "harness.h"

/*
 * How a worker process that segfaults ends, as its load error or failed
 * run says: under AddressSanitizer (abort_on_error=1, as the tests run) it
 * reports the fault and aborts; under ThreadSanitizer it exits with 66. A
 * stack overflow may end it either way: JR_WORKER_CRASHED_SOMEHOW.
 */
#if defined(__SANITIZE_ADDRESS__)
#define JR_WORKER_CRASHED "killed by signal 6"
#elif defined(__SANITIZE_THREAD__)
#define JR_WORKER_CRASHED "exited with status 66"
#else
#define JR_WORKER_CRASHED "killed by signal 11"
#endif
#if defined(__SANITIZE_THREAD__)
#define JR_WORKER_CRASHED_SOMEHOW "exited with status 66"
#else
#define JR_WORKER_CRASHED_SOMEHOW "killed by signal"
#endif

/* Print the load errors of a snapshot (for failing tests' diagnostics). */
static inline void print_load_errors(const jobreg_snapshot *snap)
{
	size_t i;
	for (i = 0; i < jobreg_snapshot_load_error_count(snap); i++) {
		const jobreg_load_error *e = jobreg_snapshot_load_error(snap, i);
		fprintf(stderr, "  load error: %s %s:%d %s: %s\n", jobreg_load_error_module(e),
		        jobreg_load_error_file(e), jobreg_load_error_line(e), jobreg_load_error_type(e),
		        jobreg_load_error_message(e));
	}
}

/* A registry with one jobs-root source at `dir`, not loaded yet; each
 * import may run `limit_ms` (0: no limit). */
static inline jobreg_registry *jobs_root_registry(const char *dir, unsigned int limit_ms)
{
	jobreg_registry_options opts = JOBREG_REGISTRY_OPTIONS_INIT;
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;

	opts.import_timeout_ms = limit_ms;
	CHECK_OK(jobreg_registry_new(&reg, &opts));
	CHECK_OK(jobreg_source_dir_new(&src, dir));
	CHECK_OK(jobreg_registry_add_source(reg, src));
	return reg;
}

/* A registry with one jobs-root source at `dir`, loaded once. */
static inline jobreg_registry *load_jobs_root(const char *dir)
{
	jobreg_registry *reg = jobs_root_registry(dir, 0);

	CHECK_OK(jobreg_registry_load(reg));
	return reg;
}

static inline jobreg_snapshot *take_snapshot(jobreg_registry *reg)
{
	jobreg_snapshot *snap = NULL;
	CHECK_OK(jobreg_registry_snapshot(&snap, reg));
	return snap;
}

/* The load error about `module`, or NULL. */
static inline const jobreg_load_error *error_for(const jobreg_snapshot *snap, const char *module)
{
	size_t i;
	for (i = 0; i < jobreg_snapshot_load_error_count(snap); i++) {
		const jobreg_load_error *e = jobreg_snapshot_load_error(snap, i);
		if (strcmp(jobreg_load_error_module(e), module) == 0)
			return e;
	}
	return NULL;
}

/* The job with `class_path` in the snapshot, or NULL. */
static inline const jobreg_job *job_at(const jobreg_snapshot *snap, const char *class_path)
{
	const jobreg_job *job = NULL;
	if (jobreg_snapshot_resolve(&job, snap, class_path) < 0)
		return NULL;
	return job;
}

/* The records of `snap` in a new memory storage, every one enabled (so
 * that the tests' runs are allowed). */
static inline jobreg_storage *enabled_records(const jobreg_snapshot *snap)
{
	jobreg_storage *st = NULL;
	jobreg_record_list *list = NULL;
	size_t i;

	CHECK_OK(jobreg_storage_memory_new(&st));
	CHECK_OK(jobreg_refresh(NULL, st, snap, NULL));
	CHECK_OK(jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL));
	for (i = 0; i < jobreg_record_list_count(list); i++)
		CHECK_OK(jobreg_storage_set_enabled(
			st, jobreg_record_text(jobreg_record_list_get(list, i), JOBREG_FIELD_ID), 1));
	jobreg_record_list_free(list);
	return st;
}

#endif
