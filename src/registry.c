/*
 * registry.c: sources in; load, snapshot and resolve out.
 *
 * Two locks with different jobs: `load_lock` serializes whatever changes the
 * registry (adding sources, load transactions: load_txn.c), and
 * `current_lock` guards only the pointer to the current snapshot, held
 * for a few instructions, so that resolves in other threads never wait for
 * an import. The GIL is taken only while importing, never while holding
 * `current_lock`.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "generation.h"
#include "isolate.h"
#include "load_txn.h"
#include "options.h"
#include "runtime.h"
#include "registry_internal.h"
#include "source.h"

static const size_t registry_options_sizes[] = {
	JR_SIZE_THROUGH(jobreg_registry_options, import_timeout_ms),
	JR_SIZE_THROUGH(jobreg_registry_options, worker_memory_limit_mb),
};

int jobreg_registry_options_init(jobreg_registry_options *opts, unsigned int version)
{
	static const jobreg_registry_options defaults = JOBREG_REGISTRY_OPTIONS_INIT;

	return jr_options_init(opts, &defaults, registry_options_sizes, JOBREG_REGISTRY_OPTIONS_VERSION,
	                       version, "jobreg_registry_options");
}

/* Error-checking, not recursive: nothing loads again while holding it. */
static int init_locks(jobreg_registry *reg)
{
	pthread_mutexattr_t attr;
	int err;

	if (pthread_mutexattr_init(&attr) != 0)
		return jr_error_oom();
	err = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
	if (err == 0)
		err = pthread_mutex_init(&reg->load_lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (err != 0)
		return jr_error_oom();
	if (pthread_rwlock_init(&reg->current_lock, NULL) != 0) {
		pthread_mutex_destroy(&reg->load_lock);
		return jr_error_oom();
	}
	return 0;
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
	rc = jr_options_read(&reg->opts, opts, registry_options_sizes, JOBREG_REGISTRY_OPTIONS_VERSION,
	                     "jobreg_registry_options");
	if (rc == 0 && reg->opts.isolation != JOBREG_ISOLATION_NONE &&
	    reg->opts.isolation != JOBREG_ISOLATION_PROCESS)
		rc = jr_error_set(JOBREG_EINVAL,
		                  "jobreg_registry_options.isolation: %d is no isolation mode",
		                  reg->opts.isolation);
	if (rc == 0 && reg->opts.isolation == JOBREG_ISOLATION_PROCESS)
		rc = jr_pool_new(&reg->pool, reg->opts.workers, reg->opts.worker_memory_limit_mb);
	if (rc == 0)
		rc = jr_snapshot_new(&reg->current, 0, NULL, 0);
	if (rc == 0)
		rc = init_locks(reg);
	if (rc < 0) {
		jr_snapshot_unref(reg->current);
		jr_pool_unref(reg->pool);
		free(reg);
		return rc;
	}
	*out = reg;
	return 0;
}

void jobreg_registry_free(jobreg_registry *reg)
{
	size_t i;

	if (!reg)
		return;
	jr_snapshot_unref(reg->current);
	for (i = 0; i < reg->source_count; i++)
		jr_source_destroy(reg->sources[i]);
	free(reg->sources);
	jr_pool_unref(reg->pool); /* the workers go with the last part that uses them */
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
	if ((rc = jr_registry_lock_loads(reg, "jobreg_registry_add_source")) < 0)
		return rc;
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

int jobreg_registry_remove_source(jobreg_registry *reg, jobreg_source *src)
{
	jr_load_txn *txn;
	size_t i;
	int rc;

	if (!reg || !src)
		return jr_error_set(JOBREG_EINVAL, "jobreg_registry_remove_source: NULL argument");
	if ((rc = jr_load_begin(&txn, reg, "jobreg_registry_remove_source")) < 0)
		return rc;
	i = jr_load_index(txn, src);
	if (i == jr_load_count(txn)) {
		rc = jr_error_set(JOBREG_ENOTFOUND, "the %s source '%s' is not one of this registry's",
		                  jobreg_source_type_name(src->type),
		                  src->type == JOBREG_SOURCE_LOCAL ? src->root : src->name);
	} else {
		/* Published first: when that fails, the source is still there. */
		jr_load_exclude(txn, i);
		if ((rc = jr_load_publish(txn, 1)) == 0)
			src = jr_load_detach(txn, i);
	}
	jr_load_end(txn);
	if (rc == 0)
		jr_source_destroy(src); /* purges its modules: takes the GIL */
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

/* One transaction: every source discovered, all or (`only_changed`) the
 * changed ones imported, published unless a reload found nothing new. */
static int load(jobreg_registry *reg, int only_changed, const char *what)
{
	jr_load_txn *txn;
	size_t i;
	int rc;

	if ((rc = jr_load_begin(&txn, reg, what)) < 0)
		return rc;
	rc = jr_load_discover_all(txn);
	for (i = 0; rc == 0 && i < jr_load_count(txn); i++) {
		jr_load_found found;

		jr_load_get_found(&found, txn, i);
		if (!only_changed || found.changed)
			jr_load_select(txn, i);
	}
	if (rc == 0)
		rc = jr_load_import(txn);
	if (rc == 0)
		rc = jr_load_publish(txn, !only_changed);
	jr_load_end(txn);
	return rc;
}

int jobreg_registry_load(jobreg_registry *reg)
{
	return load(reg, 0, "jobreg_registry_load");
}

int jobreg_registry_reload(jobreg_registry *reg)
{
	return load(reg, 1, "jobreg_registry_reload");
}

int jobreg_registry_snapshot(jobreg_snapshot **out, jobreg_registry *reg)
{
	if (!out || !reg)
		return jr_error_set(JOBREG_EINVAL, "jobreg_registry_snapshot: NULL argument");
	pthread_rwlock_rdlock(&reg->current_lock);
	jr_snapshot_ref(reg->current);
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
	rc = jr_snapshot_resolve(&job, reg->current, ref);
	if (rc == 0)
		jr_part_ref(job->part);
	pthread_rwlock_unlock(&reg->current_lock);
	if (rc == 0)
		*out = (jobreg_job *)job;
	return rc;
}
