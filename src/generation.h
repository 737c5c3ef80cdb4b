/*
 * generation.h: what a load generates (internal).
 *
 * A *part* is one source's share of a load: its jobs, its load errors, the
 * strings they point to and the Python classes they hold. A *snapshot*
 * (struct jobreg_snapshot) is what a publish builds over every source's
 * part: the parts plus lookup tables, numbered by its generation (1, 2, ...:
 * jobreg_snapshot_generation()). Both are reference-counted and immutable
 * once built, so a reload can carry an unchanged source's part into the
 * next snapshot as it is, and a job reference (jobreg_job *) keeps just its
 * part alive. The registry holds a reference to its current snapshot; every
 * snapshot a host takes is another.
 *
 * Built here (generation.c); the public getters are in snapshot.c
 * (jobreg/snapshot.h) and job.c (jobreg/job.h).
 */
#ifndef JR_GENERATION_H
#define JR_GENERATION_H

#include <stdatomic.h>
#include <stdint.h>

#include "arena.h"
#include "job_fields.h"
#include "jobreg/snapshot.h"
#include "strmap.h"

typedef struct _object PyObject; /* as CPython declares it */

/* For each LIST field of the metadata: its strings, NULL-terminated. */
#define JR_JOB_LIST_ITEMS_(F, name, type, from, override, def) \
	JR_IF_META_##from(JR_IF_LIST_##type(const char **name##_items;))

struct jobreg_job {
	struct jr_part *part;
	const char *class_path;
	const char *module_name;
	const char *class_name;
	/* Everything read from the class: src/job_fields.h's META fields, by
	 * name (job->hidden, job->variables: JSON text) or whole (job->meta). */
	JR_JOB_META;
	/* task_queues_items: the queues of job->task_queues, one by one. */
	JR_JOB_FIELDS(JR_JOB_LIST_ITEMS_)
	PyObject *cls; /* strong reference, dropped under the GIL */
};

struct jobreg_load_error {
	struct jr_part *part;
	const char *module;
	const char *file;
	const char *type;
	const char *message;
	const char *traceback;
	int line;
};

typedef struct jr_part {
	atomic_size_t refcount;
	jobreg_source_t source_type;
	const char *source_name;
	jr_arena strings;
	jobreg_job *jobs; /* sorted by class path */
	size_t job_count, job_capacity;
	jobreg_load_error *errors;
	size_t error_count, error_capacity;
	/* Isolation mode: the classes live in worker processes, which load
	 * them again from this (src/isolate.h); NULL: the jobs' `cls`. */
	struct jr_part_code *code;
	/* Which code: jobreg_job_code_version() of its jobs ("" unknown). */
	char code_version[41];
} jr_part;

struct jobreg_snapshot {
	atomic_size_t refcount;
	uint64_t number; /* its generation: jobreg_snapshot_generation() */
	jr_part **parts;
	size_t part_count;
	const jobreg_job **jobs; /* in source order, then class path */
	size_t job_count;
	const jobreg_load_error **errors;
	size_t error_count;
	jr_strmap by_class_path;
	jr_strmap by_short_form; /* value: the job, or `ambiguous` */
};

/* A new, empty part for a source; NULL when out of memory (error set). */
jr_part *jr_part_new(jobreg_source_t type, const char *source_name);
void jr_part_ref(jr_part *part);
/* Drop a reference; the last one frees the part, taking the GIL if the
 * part holds Python classes and the interpreter is still alive. */
void jr_part_unref(jr_part *part);

/* Add a job (fields copied into the part; `cls` reference stolen). */
jobreg_job *jr_part_add_job(jr_part *part, PyObject *cls);
/* Copy a string into the part's arena; NULL when out of memory. */
const char *jr_part_strdup(jr_part *part, const char *s);
/* Record a load error (strings copied). 0 or JOBREG_ENOMEM. */
int jr_part_add_error(jr_part *part, const char *module, const char *file, int line,
                      const char *type, const char *message, const char *traceback);
/* Sort the jobs by class path once the part is complete. */
void jr_part_finish(jr_part *part);

/* Allocate `size` bytes that live as long as the part. */
void *jr_part_alloc(jr_part *part, size_t size);

/* Find a job by class path or short form (SPEC 2); borrowed result. */
int jr_snapshot_resolve(const jobreg_job **out, const jobreg_snapshot *snap, const char *ref);

/* Build the snapshot of generation `number` over `parts` (each referenced,
 * not stolen). */
int jr_snapshot_new(jobreg_snapshot **out, uint64_t number, jr_part **parts, size_t count);
void jr_snapshot_ref(jobreg_snapshot *snap);
void jr_snapshot_unref(jobreg_snapshot *snap);

/* Library-side bytes held by a snapshot (parts counted whole). */
size_t jr_snapshot_memory(const jobreg_snapshot *snap);

#endif
