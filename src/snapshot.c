/*
 * snapshot.c: the public snapshot API (jobreg/snapshot.h): a snapshot's
 * jobs and load errors, resolving within it, releasing it. What a snapshot
 * is, and how a load builds one over its parts: generation.h.
 */
#include <stdint.h>

#include "generation.h"
#include "jobreg/snapshot.h"

uint64_t jobreg_snapshot_generation(const jobreg_snapshot *snap)
{
	return snap ? snap->number : 0;
}

size_t jobreg_snapshot_job_count(const jobreg_snapshot *snap)
{
	return snap ? snap->job_count : 0;
}

const jobreg_job *jobreg_snapshot_job(const jobreg_snapshot *snap, size_t i)
{
	return snap && i < snap->job_count ? snap->jobs[i] : NULL;
}

int jobreg_snapshot_resolve(const jobreg_job **out, const jobreg_snapshot *snap, const char *ref)
{
	return jr_snapshot_resolve(out, snap, ref);
}

size_t jobreg_snapshot_load_error_count(const jobreg_snapshot *snap)
{
	return snap ? snap->error_count : 0;
}

const jobreg_load_error *jobreg_snapshot_load_error(const jobreg_snapshot *snap, size_t i)
{
	return snap && i < snap->error_count ? snap->errors[i] : NULL;
}

size_t jobreg_snapshot_memory(const jobreg_snapshot *snap)
{
	return snap ? jr_snapshot_memory(snap) : 0;
}

void jobreg_snapshot_free(jobreg_snapshot *snap)
{
	jr_snapshot_unref(snap);
}

/* Load errors. */

/* clang-format off */
jobreg_source_t jobreg_load_error_source_type(const jobreg_load_error *err) { return err ? err->part->source_type : 0; }
const char *jobreg_load_error_source(const jobreg_load_error *err) { return err ? err->part->source_name : NULL; }
const char *jobreg_load_error_module(const jobreg_load_error *err) { return err ? err->module : NULL; }
const char *jobreg_load_error_file(const jobreg_load_error *err) { return err ? err->file : NULL; }
int jobreg_load_error_line(const jobreg_load_error *err) { return err ? err->line : 0; }
const char *jobreg_load_error_type(const jobreg_load_error *err) { return err ? err->type : NULL; }
const char *jobreg_load_error_message(const jobreg_load_error *err) { return err ? err->message : NULL; }
const char *jobreg_load_error_traceback(const jobreg_load_error *err) { return err ? err->traceback : NULL; }
/* clang-format on */
