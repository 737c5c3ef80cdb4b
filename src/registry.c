/*
 * registry.c: sources in; load, snapshot and resolve out.
 *
 * Two locks with different jobs: `load_lock` serializes whatever changes the
 * registry (adding sources, loading), and `current_lock` guards only the
 * pointer to the current generation, held for a few instructions, so that
 * resolves in other threads never wait for an import. The GIL is taken only
 * while importing, never while holding `current_lock`.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "generation.h"
#include "options.h"
#include "runtime.h"
#include "registry_internal.h"
#include "source.h"

struct jobreg_registry {
	pthread_mutex_t load_lock;
	pthread_rwlock_t current_lock;
	jobreg_snapshot *current;
	uint64_t last_number;
	jobreg_source **sources;
	size_t source_count;
	jobreg_registry_options opts;
};

static const size_t registry_options_sizes[] = {
	JR_SIZE_THROUGH(jobreg_registry_options, import_timeout_ms),
};

int jobreg_registry_options_init(jobreg_registry_options *opts, unsigned int version)
{
	static const jobreg_registry_options defaults = JOBREG_REGISTRY_OPTIONS_INIT;

	return jr_options_init(opts, &defaults, registry_options_sizes,
	                       JOBREG_REGISTRY_OPTIONS_VERSION, version, "jobreg_registry_options");
}

int jobreg_registry_new(jobreg_registry **out, const jobreg_registry_options *opts)
{
	jobreg_registry *reg;
	int rc;

	if (!out)
		return jr_error_set(JOBREG_EINVAL, "jobreg_registry_new: out is NULL");
	if ((rc = jr_runtime_require("jobreg_registry_new")) < 0)
		return rc;
	reg = calloc(1, sizeof(*reg));
	if (!reg)
		return jr_error_oom();
	reg->opts = (jobreg_registry_options)JOBREG_REGISTRY_OPTIONS_INIT;
	rc = jr_options_read(&reg->opts, opts, registry_options_sizes,
	                     JOBREG_REGISTRY_OPTIONS_VERSION, "jobreg_registry_options");
	if (rc == 0)
		rc = jr_generation_new(&reg->current, 0, NULL, 0);
	if (rc < 0) {
		free(reg);
		return rc;
	}
	{
		/* Recursive: a git sync holds it across checkout, import and a
		 * possible rollback, which load through this registry again. */
		pthread_mutexattr_t attr;
		pthread_mutexattr_init(&attr);
		pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&reg->load_lock, &attr);
		pthread_mutexattr_destroy(&attr);
	}
	pthread_rwlock_init(&reg->current_lock, NULL);
	*out = reg;
	return 0;
}

void jobreg_registry_free(jobreg_registry *reg)
{
	size_t i;

	if (!reg)
		return;
	jr_generation_unref(reg->current);
	for (i = 0; i < reg->source_count; i++)
		jr_source_destroy(reg->sources[i]);
	free(reg->sources);
	pthread_rwlock_destroy(&reg->current_lock);
	pthread_mutex_destroy(&reg->load_lock);
	free(reg);
}

static int same_source(const jobreg_source *a, const jobreg_source *b)
{
	if (a->type != b->type)
		return 0;
	/* Jobs roots have no name: two are the same when their folders are. */
	if (a->type == JOBREG_SOURCE_LOCAL)
		return strcmp(a->root, b->root) == 0;
	return strcmp(a->name, b->name) == 0;
}

int jobreg_registry_add_source(jobreg_registry *reg, jobreg_source *src)
{
	jobreg_source **grown;
	size_t i;
	int rc = 0;

	if (!reg || !src)
		return jr_error_set(JOBREG_EINVAL, "jobreg_registry_add_source: NULL argument");
	if (src->owned)
		return jr_error_set(JOBREG_EINVAL, "source '%s' already belongs to a registry", src->name);
	pthread_mutex_lock(&reg->load_lock);
	for (i = 0; i < reg->source_count; i++) {
		if (same_source(reg->sources[i], src)) {
			rc = jr_error_set(JOBREG_EEXISTS, "the registry already has the %s source '%s'",
			                  jobreg_source_type_name(src->type),
			                  src->type == JOBREG_SOURCE_LOCAL ? src->root : src->name);
			goto out;
		}
	}
	grown = realloc(reg->sources, (reg->source_count + 1) * sizeof(*grown));
	if (!grown) {
		rc = jr_error_oom();
		goto out;
	}
	reg->sources = grown;
	reg->sources[reg->source_count++] = src;
	src->owned = 1;
out:
	pthread_mutex_unlock(&reg->load_lock);
	return rc;
}

size_t jobreg_registry_source_count(const jobreg_registry *reg)
{
	return reg ? reg->source_count : 0;
}

jobreg_source *jobreg_registry_source(const jobreg_registry *reg, size_t i)
{
	return reg && i < reg->source_count ? reg->sources[i] : NULL;
}

/* Replace the current generation; the old one is released outside the lock. */
static void publish(jobreg_registry *reg, jobreg_snapshot *gen)
{
	jobreg_snapshot *old;

	pthread_rwlock_wrlock(&reg->current_lock);
	old = reg->current;
	reg->current = gen;
	pthread_rwlock_unlock(&reg->current_lock);
	jr_generation_unref(old);
}

static void clear_plans(jr_load_plan *plans, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		jr_plan_clear(&plans[i]);
	free(plans);
}

/* 1 when a reload may keep what the source's last import produced: same
 * files, imported in the same Nautobot mode. */
static int unchanged(const jobreg_source *src, const jr_load_plan *plan)
{
	return src->loaded_part && plan->fingerprint && plan->fingerprint == src->loaded_fingerprint &&
	       plan->nautobot_1x == src->loaded_nautobot_1x;
}

/* What a load imports, and what it keeps. */
struct load_request {
	const char *what;        /* the public function, for errors */
	int only_changed;        /* reload: keep the parts of unchanged sources */
	jobreg_source *only;     /* import just this source (others keep theirs) */
	jr_accept_fn accept;     /* with `only`: may refuse the new part */
	jr_skip_fn skip;         /* may leave a source out of this load */
	void *payload;           /* of accept and skip */
};

/* A source left out of a load keeps its last part, or has an empty one. */
static int keep_or_empty(jobreg_source *src, jr_load_plan *plan)
{
	if (src->loaded_part) {
		jr_part_ref(src->loaded_part);
		plan->part = src->loaded_part;
		return 0;
	}
	if (!(plan->part = jr_part_new(src->type, src->name)))
		return JOBREG_ENOMEM;
	jr_part_finish(plan->part);
	return 0;
}

/*
 * Discover every source (no GIL), then import them (GIL held): all of them,
 * or with `only_changed` those whose fingerprint moved, or with `only` just
 * that one (and those never imported), never those `skip` leaves out; the
 * others keep their last part (none, when never imported).
 * `*imported` counts the sources imported.
 */
static int load_sources(jobreg_registry *reg, jr_load_plan *plans, const struct load_request *req,
                        size_t *imported)
{
	PyGILState_STATE gil;
	size_t i;
	int rc = 0;

	*imported = 0;
	for (i = 0; i < reg->source_count; i++) {
		jobreg_source *src = reg->sources[i];
		jr_part *found;

		if (!(found = jr_part_new(src->type, src->name)))
			return JOBREG_ENOMEM;
		plans[i].part = found;
		if ((rc = src->ops->discover(src, &plans[i])) < 0)
			return rc;
		jr_plan_read_nautobot_mode(src, &plans[i]);
		/* Left out: its checkout is being moved by someone else, skipped
		 * by a sync, another source's turn (once this registry imported
		 * it), or unchanged since it was imported. */
		if ((plans[i].keep_loaded && src->loaded_part) ||
		    (req->skip && req->skip(src, &plans[i], req->payload)) ||
		    (req->only && src != req->only && src->loaded_part) ||
		    (req->only_changed && unchanged(src, &plans[i]))) {
			plans[i].part = NULL;
			jr_part_unref(found);
			jr_plan_release_lock(&plans[i]);
			if ((rc = keep_or_empty(src, &plans[i])) < 0)
				return rc;
		} else {
			plans[i].reimport = 1;
			(*imported)++;
		}
	}
	if (*imported == 0)
		return 0;
	gil = PyGILState_Ensure();
	for (i = 0; rc == 0 && i < reg->source_count; i++) {
		jobreg_source *src = reg->sources[i];

		if (!plans[i].reimport)
			continue;
		plans[i].import_timeout = reg->opts.import_timeout_ms / 1000.0;
		rc = src->ops->import(src, &plans[i]);
		if (rc == 0)
			jr_part_finish(plans[i].part);
	}
	PyGILState_Release(gil);
	return rc;
}

/* The sources imported by this load keep what it produced, for reloads. */
static void remember_parts(jobreg_registry *reg, jr_load_plan *plans)
{
	size_t i;

	for (i = 0; i < reg->source_count; i++) {
		jobreg_source *src = reg->sources[i];

		if (plans[i].reimport) {
			jr_part_unref(src->loaded_part);
			jr_part_ref(plans[i].part);
			src->loaded_part = plans[i].part;
			src->loaded_fingerprint = plans[i].fingerprint;
			src->loaded_nautobot_1x = plans[i].nautobot_1x;
		}
	}
}

static int load(jobreg_registry *reg, const struct load_request *req)
{
	jr_load_plan *plans;
	jr_part **parts;
	jobreg_snapshot *gen = NULL;
	size_t i, imported = 0;
	int rc;

	if (!reg)
		return jr_error_set(JOBREG_EINVAL, "%s: reg is NULL", req->what);
	if ((rc = jr_runtime_require(req->what)) < 0)
		return rc;
	pthread_mutex_lock(&reg->load_lock);
	plans = calloc(reg->source_count + 1, sizeof(*plans));
	parts = calloc(reg->source_count + 1, sizeof(*parts));
	if (!plans || !parts) {
		free(parts);
		free(plans);
		pthread_mutex_unlock(&reg->load_lock);
		return jr_error_oom();
	}
	rc = load_sources(reg, plans, req, &imported);
	if (rc == 0 && req->accept) {
		for (i = 0; i < reg->source_count; i++) {
			if (reg->sources[i] == req->only)
				rc = req->accept(req->only, plans[i].part, req->payload);
		}
	}
	/* A reload that imported nothing keeps the current generation. */
	if (rc == 0 && (imported > 0 || !req->only_changed || reg->last_number == 0)) {
		for (i = 0; i < reg->source_count; i++)
			parts[i] = plans[i].part;
		rc = jr_generation_new(&gen, reg->last_number + 1, parts, reg->source_count);
		if (rc == 0) {
			reg->last_number++;
			remember_parts(reg, plans);
			publish(reg, gen);
		}
	}
	clear_plans(plans, reg->source_count);
	free(parts);
	pthread_mutex_unlock(&reg->load_lock);
	return rc;
}

int jobreg_registry_load(jobreg_registry *reg)
{
	struct load_request req = { "jobreg_registry_load", 0, NULL, NULL, NULL, NULL };
	return load(reg, &req);
}

int jobreg_registry_reload(jobreg_registry *reg)
{
	struct load_request req = { "jobreg_registry_reload", 1, NULL, NULL, NULL, NULL };
	return load(reg, &req);
}

int jr_registry_load_skipping(jobreg_registry *reg, int full, jr_skip_fn skip, void *payload,
                              const char *what)
{
	struct load_request req = { what, !full, NULL, NULL, full ? NULL : skip, payload };
	return load(reg, &req);
}

unsigned int jr_registry_import_timeout_ms(const jobreg_registry *reg)
{
	return reg->opts.import_timeout_ms;
}

void jr_registry_lock(jobreg_registry *reg)
{
	pthread_mutex_lock(&reg->load_lock);
}

void jr_registry_unlock(jobreg_registry *reg)
{
	pthread_mutex_unlock(&reg->load_lock);
}

int jr_registry_load_source(jobreg_registry *reg, jobreg_source *src, jr_accept_fn accept,
                            void *payload)
{
	size_t i;

	for (i = 0; reg && i < reg->source_count; i++) {
		if (reg->sources[i] == src)
		{
			struct load_request req = { "loading one source", 0, src, accept, NULL, payload };
			return load(reg, &req);
		}
	}
	return jr_error_set(JOBREG_EINVAL, "the source '%s' does not belong to this registry",
	                    src ? src->name : "(null)");
}

int jobreg_registry_snapshot(jobreg_snapshot **out, jobreg_registry *reg)
{
	if (!out || !reg)
		return jr_error_set(JOBREG_EINVAL, "jobreg_registry_snapshot: NULL argument");
	pthread_rwlock_rdlock(&reg->current_lock);
	jr_generation_ref(reg->current);
	*out = reg->current;
	pthread_rwlock_unlock(&reg->current_lock);
	return 0;
}

int jobreg_registry_resolve(jobreg_job **out, jobreg_registry *reg, const char *ref)
{
	const jobreg_job *job = NULL;
	int rc;

	if (!out || !reg || !ref)
		return jr_error_set(JOBREG_EINVAL, "jobreg_registry_resolve: NULL argument");
	pthread_rwlock_rdlock(&reg->current_lock);
	rc = jr_generation_resolve(&job, reg->current, ref);
	if (rc == 0)
		jr_part_ref(job->part);
	pthread_rwlock_unlock(&reg->current_lock);
	if (rc == 0)
		*out = (jobreg_job *)job;
	return rc;
}
