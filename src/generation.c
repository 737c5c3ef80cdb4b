/*
 * generation.c: what a load generates: parts, and the snapshot built over
 * them with its indexes; resolving a reference within a snapshot. The
 * public getters are in snapshot.c and job.c.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "generation.h"
#include "isolate.h"
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

	if (!part->job_count || part->code || !jr_runtime_python_alive())
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
	jr_part_code_free(part->code);
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

	if (grow((void **)&part->errors, &part->error_capacity, part->error_count,
	         sizeof(*part->errors)) < 0)
		return JOBREG_ENOMEM;
	err = &part->errors[part->error_count];
	err->part = part;
	err->line = line;
	if (!(err->module = jr_part_strdup(part, module)) ||
	    !(err->file = jr_part_strdup(part, file)) || !(err->type = jr_part_strdup(part, type)) ||
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

static void snapshot_free(jobreg_snapshot *snap)
{
	size_t i;

	for (i = 0; i < snap->part_count; i++)
		jr_part_unref(snap->parts[i]);
	jr_strmap_free(&snap->by_class_path);
	jr_strmap_free(&snap->by_short_form);
	free(snap->parts);
	free(snap->jobs);
	free(snap->errors);
	free(snap);
}

/* Index the snapshot's jobs; the short-form keys live in `keys`. */
static int index_jobs(jobreg_snapshot *snap, jr_arena *keys)
{
	size_t i;
	int rc;

	if ((rc = jr_strmap_init(&snap->by_class_path, snap->job_count)) < 0 ||
	    (rc = jr_strmap_init(&snap->by_short_form, snap->job_count)) < 0)
		return rc;
	for (i = 0; i < snap->job_count; i++) {
		const jobreg_job *job = snap->jobs[i];
		struct jr_strmap_slot *slot = jr_strmap_slot(&snap->by_class_path, job->class_path);

		/* A class path taken by an earlier source stays with it; the
		 * loader has recorded the clash as a load error. */
		if (!slot->key) {
			slot->key = job->class_path;
			slot->value = (void *)job;
			jr_strmap_added(&snap->by_class_path);
		}
		if (has_short_form(job->part)) {
			char *key = jr_asprintf("%s.jobs.%s", job->part->source_name, job->class_name);
			const char *kept = key ? jr_arena_strdup(keys, key) : NULL;

			free(key);
			if (!kept)
				return JOBREG_ENOMEM;
			slot = jr_strmap_slot(&snap->by_short_form, kept);
			if (slot->key) {
				slot->value = AMBIGUOUS;
			} else {
				slot->key = kept;
				slot->value = (void *)job;
				jr_strmap_added(&snap->by_short_form);
			}
		}
	}
	return 0;
}

/* The short-form keys of every snapshot: kept for the snapshot's life. */
struct snapshot_with_keys {
	jobreg_snapshot snap;
	jr_arena keys;
};

int jr_snapshot_new(jobreg_snapshot **out, uint64_t number, jr_part **parts, size_t count)
{
	struct snapshot_with_keys *sk = calloc(1, sizeof(*sk));
	jobreg_snapshot *snap;
	size_t i, j, jobs = 0, errors = 0;
	int rc;

	if (!sk)
		return jr_error_oom();
	snap = &sk->snap;
	atomic_init(&snap->refcount, 1);
	snap->number = number;
	for (i = 0; i < count; i++) {
		jobs += parts[i]->job_count;
		errors += parts[i]->error_count;
	}
	snap->parts = calloc(count ? count : 1, sizeof(*snap->parts));
	snap->jobs = calloc(jobs ? jobs : 1, sizeof(*snap->jobs));
	snap->errors = calloc(errors ? errors : 1, sizeof(*snap->errors));
	if (!snap->parts || !snap->jobs || !snap->errors) {
		rc = jr_error_oom();
		goto fail;
	}
	for (i = 0; i < count; i++) {
		jr_part_ref(parts[i]);
		snap->parts[snap->part_count++] = parts[i];
		for (j = 0; j < parts[i]->job_count; j++)
			snap->jobs[snap->job_count++] = &parts[i]->jobs[j];
		for (j = 0; j < parts[i]->error_count; j++)
			snap->errors[snap->error_count++] = &parts[i]->errors[j];
	}
	rc = index_jobs(snap, &sk->keys);
	if (rc < 0)
		goto fail;
	*out = snap;
	return 0;
fail:
	jr_arena_free(&sk->keys);
	snapshot_free(snap);
	return rc;
}

void jr_snapshot_ref(jobreg_snapshot *snap)
{
	atomic_fetch_add_explicit(&snap->refcount, 1, memory_order_relaxed);
}

void jr_snapshot_unref(jobreg_snapshot *snap)
{
	struct snapshot_with_keys *sk;

	if (!snap || atomic_fetch_sub_explicit(&snap->refcount, 1, memory_order_acq_rel) != 1)
		return;
	sk = (struct snapshot_with_keys *)snap;
	jr_arena_free(&sk->keys);
	snapshot_free(snap);
}

size_t jr_snapshot_memory(const jobreg_snapshot *snap)
{
	const struct snapshot_with_keys *sk = (const struct snapshot_with_keys *)snap;
	size_t i, total = sizeof(*sk) + jr_arena_size(&sk->keys);

	total += snap->part_count * sizeof(*snap->parts);
	total += snap->job_count * sizeof(*snap->jobs) + snap->error_count * sizeof(*snap->errors);
	total += (snap->by_class_path.capacity + snap->by_short_form.capacity) *
	         sizeof(struct jr_strmap_slot);
	for (i = 0; i < snap->part_count; i++) {
		const jr_part *part = snap->parts[i];
		total += sizeof(*part) + jr_arena_size(&part->strings);
		total += part->job_capacity * sizeof(*part->jobs);
		total += part->error_capacity * sizeof(*part->errors);
	}
	return total;
}

/* Resolving a reference. */

/* `ref` is `<source>.jobs.<class_name>`; its first `source_len` bytes name the source. */
static int ambiguity_error(const jobreg_snapshot *snap, const char *ref, size_t source_len,
                           const char *class_name)
{
	jr_buf list = JR_BUF_INIT;
	size_t i;

	for (i = 0; i < snap->job_count; i++) {
		const jobreg_job *job = snap->jobs[i];
		const char *source = job->part->source_name;

		if (has_short_form(job->part) && strlen(source) == source_len &&
		    memcmp(source, ref, source_len) == 0 && strcmp(job->class_name, class_name) == 0)
			jr_buf_printf(&list, "%s%s", list.len ? ", " : "", job->class_path);
	}
	jr_error_set(JOBREG_EAMBIGUOUS, "job reference '%s' is ambiguous: it could be %s", ref,
	             list.ptr ? list.ptr : "several jobs");
	jr_buf_free(&list);
	return JOBREG_EAMBIGUOUS;
}

int jr_snapshot_resolve(const jobreg_job **out, const jobreg_snapshot *snap, const char *ref)
{
	const jobreg_job *job;
	const char *marker;

	if (!out || !snap || !ref)
		return jr_error_set(JOBREG_EINVAL, "resolve: NULL argument");
	job = jr_strmap_get(&snap->by_class_path, ref);
	if (!job)
		job = jr_strmap_get(&snap->by_short_form, ref);
	if (job == AMBIGUOUS) {
		const char *next;

		/* The last ".jobs." ends the source name: a class name has no dots,
		 * but an app's dotted package name may hold ".jobs." itself. */
		for (marker = strstr(ref, ".jobs."); (next = strstr(marker + 1, ".jobs.")) != NULL;)
			marker = next;
		return ambiguity_error(snap, ref, (size_t)(marker - ref), marker + strlen(".jobs."));
	}
	if (!job)
		return jr_error_set(JOBREG_ENOTFOUND, "no job '%s' is loaded", ref);
	*out = job;
	return 0;
}
