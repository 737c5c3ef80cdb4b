/*
 * generation.c: parts, generations (snapshots), the job and load-error
 * getters, and resolving a reference within a generation.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "generation.h"
#include "jobreg/job.h"
#include "runtime.h"
#include "util.h"

/* Marks a short form that names several jobs. */
static const char ambiguous_marker;
#define AMBIGUOUS ((void *)&ambiguous_marker)

jr_part *jr_part_new(jobreg_source_t type, const char *source_name)
{
	jr_part *part = calloc(1, sizeof(*part));

	if (!part) {
		jr_error_oom();
		return NULL;
	}
	atomic_init(&part->refcount, 1);
	part->source_type = type;
	part->source_name = jr_arena_strdup(&part->strings, source_name);
	if (!part->source_name) {
		free(part);
		return NULL;
	}
	return part;
}

void jr_part_ref(jr_part *part)
{
	atomic_fetch_add_explicit(&part->refcount, 1, memory_order_relaxed);
}

static void release_classes(jr_part *part)
{
	PyGILState_STATE gil;
	size_t i;

	if (!part->job_count || !jr_runtime_python_alive())
		return; /* after finalization the classes are gone already */
	gil = PyGILState_Ensure();
	for (i = 0; i < part->job_count; i++)
		Py_XDECREF(part->jobs[i].cls);
	PyGILState_Release(gil);
}

void jr_part_unref(jr_part *part)
{
	if (!part || atomic_fetch_sub_explicit(&part->refcount, 1, memory_order_acq_rel) != 1)
		return;
	release_classes(part);
	free(part->jobs);
	free(part->errors);
	jr_arena_free(&part->strings);
	free(part);
}

const char *jr_part_strdup(jr_part *part, const char *s)
{
	return jr_arena_strdup(&part->strings, s);
}

void *jr_part_alloc(jr_part *part, size_t size)
{
	return jr_arena_alloc(&part->strings, size);
}

static int grow(void **items, size_t *capacity, size_t count, size_t size)
{
	size_t cap = *capacity ? *capacity * 2 : 8;
	void *p;

	if (count < *capacity)
		return 0;
	p = realloc(*items, cap * size);
	if (!p)
		return jr_error_oom();
	*items = p;
	*capacity = cap;
	return 0;
}

jobreg_job *jr_part_add_job(jr_part *part, PyObject *cls)
{
	jobreg_job *job;

	if (grow((void **)&part->jobs, &part->job_capacity, part->job_count, sizeof(*part->jobs)) < 0) {
		Py_XDECREF(cls);
		return NULL;
	}
	job = &part->jobs[part->job_count++];
	memset(job, 0, sizeof(*job));
	job->part = part;
	job->cls = cls;
	return job;
}

int jr_part_add_error(jr_part *part, const char *module, const char *file, int line,
                      const char *type, const char *message, const char *traceback)
{
	jobreg_load_error *err;

	if (grow((void **)&part->errors, &part->error_capacity, part->error_count, sizeof(*part->errors)) < 0)
		return JOBREG_ENOMEM;
	err = &part->errors[part->error_count];
	err->part = part;
	err->line = line;
	if (!(err->module = jr_part_strdup(part, module)) ||
	    !(err->file = jr_part_strdup(part, file)) ||
	    !(err->type = jr_part_strdup(part, type)) ||
	    !(err->message = jr_part_strdup(part, message)) ||
	    !(err->traceback = jr_part_strdup(part, traceback)))
		return JOBREG_ENOMEM;
	part->error_count++;
	return 0;
}

static int compare_jobs(const void *a, const void *b)
{
	return strcmp(((const jobreg_job *)a)->class_path, ((const jobreg_job *)b)->class_path);
}

void jr_part_finish(jr_part *part)
{
	size_t i;

	if (part->job_count > 1)
		qsort(part->jobs, part->job_count, sizeof(*part->jobs), compare_jobs);
	for (i = 0; i < part->job_count; i++)
		part->jobs[i].part = part;
}

/* Short forms exist for git and app sources: `<source>.jobs.<ClassName>`. */
static int has_short_form(const jr_part *part)
{
	return part->source_type == JOBREG_SOURCE_GIT || part->source_type == JOBREG_SOURCE_APP;
}

static void generation_free(jobreg_snapshot *gen)
{
	size_t i;

	for (i = 0; i < gen->part_count; i++)
		jr_part_unref(gen->parts[i]);
	jr_strmap_free(&gen->by_class_path);
	jr_strmap_free(&gen->by_short_form);
	free(gen->parts);
	free(gen->jobs);
	free(gen->errors);
	free(gen);
}

/* Index the generation's jobs; the short-form keys live in `keys`. */
static int index_jobs(jobreg_snapshot *gen, jr_arena *keys)
{
	size_t i;
	int rc;

	if ((rc = jr_strmap_init(&gen->by_class_path, gen->job_count)) < 0 ||
	    (rc = jr_strmap_init(&gen->by_short_form, gen->job_count)) < 0)
		return rc;
	for (i = 0; i < gen->job_count; i++) {
		const jobreg_job *job = gen->jobs[i];
		struct jr_strmap_slot *slot = jr_strmap_slot(&gen->by_class_path, job->class_path);

		/* A class path taken by an earlier source stays with it; the
		 * loader has recorded the clash as a load error. */
		if (!slot->key) {
			slot->key = job->class_path;
			slot->value = (void *)job;
			jr_strmap_added(&gen->by_class_path);
		}
		if (has_short_form(job->part)) {
			char *key = jr_asprintf("%s.jobs.%s", job->part->source_name, job->class_name);
			const char *kept = key ? jr_arena_strdup(keys, key) : NULL;

			free(key);
			if (!kept)
				return JOBREG_ENOMEM;
			slot = jr_strmap_slot(&gen->by_short_form, kept);
			if (slot->key) {
				slot->value = AMBIGUOUS;
			} else {
				slot->key = kept;
				slot->value = (void *)job;
				jr_strmap_added(&gen->by_short_form);
			}
		}
	}
	return 0;
}

/* The short-form keys of every generation: kept for the generation's life. */
struct generation_with_keys {
	jobreg_snapshot gen;
	jr_arena keys;
};

int jr_generation_new(jobreg_snapshot **out, uint64_t number, jr_part **parts, size_t count)
{
	struct generation_with_keys *g = calloc(1, sizeof(*g));
	jobreg_snapshot *gen;
	size_t i, j, jobs = 0, errors = 0;
	int rc;

	if (!g)
		return jr_error_oom();
	gen = &g->gen;
	atomic_init(&gen->refcount, 1);
	gen->number = number;
	for (i = 0; i < count; i++) {
		jobs += parts[i]->job_count;
		errors += parts[i]->error_count;
	}
	gen->parts = calloc(count ? count : 1, sizeof(*gen->parts));
	gen->jobs = calloc(jobs ? jobs : 1, sizeof(*gen->jobs));
	gen->errors = calloc(errors ? errors : 1, sizeof(*gen->errors));
	if (!gen->parts || !gen->jobs || !gen->errors) {
		rc = jr_error_oom();
		goto fail;
	}
	for (i = 0; i < count; i++) {
		jr_part_ref(parts[i]);
		gen->parts[gen->part_count++] = parts[i];
		for (j = 0; j < parts[i]->job_count; j++)
			gen->jobs[gen->job_count++] = &parts[i]->jobs[j];
		for (j = 0; j < parts[i]->error_count; j++)
			gen->errors[gen->error_count++] = &parts[i]->errors[j];
	}
	rc = index_jobs(gen, &g->keys);
	if (rc < 0)
		goto fail;
	*out = gen;
	return 0;
fail:
	jr_arena_free(&g->keys);
	generation_free(gen);
	return rc;
}

void jr_generation_ref(jobreg_snapshot *gen)
{
	atomic_fetch_add_explicit(&gen->refcount, 1, memory_order_relaxed);
}

void jr_generation_unref(jobreg_snapshot *gen)
{
	struct generation_with_keys *g;

	if (!gen || atomic_fetch_sub_explicit(&gen->refcount, 1, memory_order_acq_rel) != 1)
		return;
	g = (struct generation_with_keys *)gen;
	jr_arena_free(&g->keys);
	generation_free(gen);
}

size_t jr_generation_memory(const jobreg_snapshot *gen)
{
	const struct generation_with_keys *g = (const struct generation_with_keys *)gen;
	size_t i, total = sizeof(*g) + jr_arena_size(&g->keys);

	total += gen->part_count * sizeof(*gen->parts);
	total += gen->job_count * sizeof(*gen->jobs) + gen->error_count * sizeof(*gen->errors);
	total += (gen->by_class_path.capacity + gen->by_short_form.capacity) * sizeof(struct jr_strmap_slot);
	for (i = 0; i < gen->part_count; i++) {
		const jr_part *part = gen->parts[i];
		total += sizeof(*part) + jr_arena_size(&part->strings);
		total += part->job_capacity * sizeof(*part->jobs);
		total += part->error_capacity * sizeof(*part->errors);
	}
	return total;
}

/* Resolving a reference. */

/* `ref` is `<source>.jobs.<class_name>`; its first `source_len` bytes name the source. */
static int ambiguity_error(const jobreg_snapshot *gen, const char *ref, size_t source_len,
                           const char *class_name)
{
	jr_buf list = JR_BUF_INIT;
	size_t i;

	for (i = 0; i < gen->job_count; i++) {
		const jobreg_job *job = gen->jobs[i];
		const char *source = job->part->source_name;

		if (has_short_form(job->part) && strlen(source) == source_len &&
		    memcmp(source, ref, source_len) == 0 && strcmp(job->class_name, class_name) == 0)
			jr_buf_printf(&list, "%s%s", list.len ? ", " : "", job->class_path);
	}
	jr_error_set(JOBREG_EAMBIGUOUS, "job reference '%s' is ambiguous: it could be %s",
	             ref, list.ptr ? list.ptr : "several jobs");
	jr_buf_free(&list);
	return JOBREG_EAMBIGUOUS;
}

int jr_generation_resolve(const jobreg_job **out, const jobreg_snapshot *gen, const char *ref)
{
	const jobreg_job *job;
	const char *marker;

	if (!out || !gen || !ref)
		return jr_error_set(JOBREG_EINVAL, "resolve: NULL argument");
	job = jr_strmap_get(&gen->by_class_path, ref);
	if (!job)
		job = jr_strmap_get(&gen->by_short_form, ref);
	if (job == AMBIGUOUS) {
		const char *next;

		/* The last ".jobs." ends the source name: a class name has no dots,
		 * but an app's dotted package name may hold ".jobs." itself. */
		for (marker = strstr(ref, ".jobs."); (next = strstr(marker + 1, ".jobs.")) != NULL;)
			marker = next;
		return ambiguity_error(gen, ref, (size_t)(marker - ref), marker + strlen(".jobs."));
	}
	if (!job)
		return jr_error_set(JOBREG_ENOTFOUND, "no job '%s' is loaded", ref);
	*out = job;
	return 0;
}

/* The public snapshot API. */

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
	return jr_generation_resolve(out, snap, ref);
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
	return snap ? jr_generation_memory(snap) : 0;
}

void jobreg_snapshot_free(jobreg_snapshot *snap)
{
	jr_generation_unref(snap);
}

/* Load errors. */

jobreg_source_t jobreg_load_error_source_type(const jobreg_load_error *err) { return err->part->source_type; }
const char *jobreg_load_error_source(const jobreg_load_error *err) { return err->part->source_name; }
const char *jobreg_load_error_module(const jobreg_load_error *err) { return err->module; }
const char *jobreg_load_error_file(const jobreg_load_error *err) { return err->file; }
int jobreg_load_error_line(const jobreg_load_error *err) { return err->line; }
const char *jobreg_load_error_type(const jobreg_load_error *err) { return err->type; }
const char *jobreg_load_error_message(const jobreg_load_error *err) { return err->message; }
const char *jobreg_load_error_traceback(const jobreg_load_error *err) { return err->traceback; }

/* Jobs. */

const char *jobreg_job_class_path(const jobreg_job *job) { return job->class_path; }
const char *jobreg_job_module_name(const jobreg_job *job) { return job->module_name; }
const char *jobreg_job_class_name(const jobreg_job *job) { return job->class_name; }
jobreg_source_t jobreg_job_source_type(const jobreg_job *job) { return job->part->source_type; }
const char *jobreg_job_source_name(const jobreg_job *job) { return job->part->source_name; }
const char *jobreg_job_grouping(const jobreg_job *job) { return job->grouping; }
const char *jobreg_job_name(const jobreg_job *job) { return job->name; }
const char *jobreg_job_description(const jobreg_job *job) { return job->description; }
int jobreg_job_hidden(const jobreg_job *job) { return job->hidden; }
int jobreg_job_dryrun_default(const jobreg_job *job) { return job->dryrun_default; }
int jobreg_job_approval_required(const jobreg_job *job) { return job->approval_required; }
int jobreg_job_has_sensitive_variables(const jobreg_job *job) { return job->has_sensitive_variables; }
int jobreg_job_is_singleton(const jobreg_job *job) { return job->is_singleton; }
double jobreg_job_soft_time_limit(const jobreg_job *job) { return job->soft_time_limit; }
double jobreg_job_time_limit(const jobreg_job *job) { return job->time_limit; }
int jobreg_job_supports_dryrun(const jobreg_job *job) { return job->supports_dryrun; }
const char *jobreg_job_variables_json(const jobreg_job *job) { return job->variables; }

/* NULL-terminated (a count per job would cost every job 8 bytes). */
size_t jobreg_job_task_queue_count(const jobreg_job *job)
{
	size_t n = 0;

	if (job->task_queues_items)
		while (job->task_queues_items[n])
			n++;
	return n;
}

const char *jobreg_job_task_queue(const jobreg_job *job, size_t i)
{
	return i < jobreg_job_task_queue_count(job) ? job->task_queues_items[i] : NULL;
}

int jobreg_job_dup(jobreg_job **out, const jobreg_job *job)
{
	if (!out || !job)
		return jr_error_set(JOBREG_EINVAL, "jobreg_job_dup: NULL argument");
	jr_part_ref(job->part);
	*out = (jobreg_job *)job;
	return 0;
}

void jobreg_job_free(jobreg_job *job)
{
	if (job)
		jr_part_unref(job->part);
}
