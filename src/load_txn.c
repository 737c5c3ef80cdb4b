/*
 * load_txn.c: the load transaction of a registry (load_txn.h).
 *
 * The transaction holds the registry's load lock from begin to end, so the
 * registry's sources, their remembered parts and the generation number are
 * its own meanwhile; `current` is still swapped under `current_lock`,
 * because readers in other threads take it without the load lock. The GIL
 * is taken only to import.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "load_txn.h"
#include "registry_internal.h"
#include "runtime.h"
#include "source.h"

/* One source of the registry in this transaction. */
struct entry {
	jobreg_source *src;
	jr_load_plan plan;        /* plan.part: discovery's errors, then the import */
	unsigned char touched;    /* discover was called: release is due */
	unsigned char discovered; /* and succeeded */
	unsigned char selected, imported;
	unsigned char excluded; /* left out of the published generation */
};

struct jr_load_txn {
	jobreg_registry *reg;
	struct entry *entries; /* in the registry's order */
	size_t count;
	size_t imported; /* sources imported by this transaction */
	int never_wait;
};

int jr_load_begin(jr_load_txn **out, jobreg_registry *reg, const char *what)
{
	jr_load_txn *txn;
	size_t i;
	int rc;

	*out = NULL;
	if (!reg)
		return jr_error_set(JOBREG_EINVAL, "%s: reg is NULL", what);
	if ((rc = jr_runtime_require(what)) < 0)
		return rc;
	if ((rc = jr_registry_lock_loads(reg, what)) < 0)
		return rc;
	txn = calloc(1, sizeof(*txn));
	if (txn)
		txn->entries = calloc(reg->source_count + 1, sizeof(*txn->entries));
	if (!txn || !txn->entries) {
		free(txn);
		pthread_mutex_unlock(&reg->load_lock);
		return jr_error_oom();
	}
	txn->reg = reg;
	txn->count = reg->source_count;
	for (i = 0; i < txn->count; i++)
		txn->entries[i].src = reg->sources[i];
	*out = txn;
	return 0;
}

/* The load is done with the source's files. */
static void release(struct entry *e)
{
	if (e->touched && e->src->ops->release)
		e->src->ops->release(e->src);
	e->touched = 0;
}

void jr_load_end(jr_load_txn *txn)
{
	size_t i;

	if (!txn)
		return;
	for (i = 0; i < txn->count; i++) {
		release(&txn->entries[i]);
		jr_plan_clear(&txn->entries[i].plan);
	}
	pthread_mutex_unlock(&txn->reg->load_lock);
	free(txn->entries);
	free(txn);
}

size_t jr_load_count(const jr_load_txn *txn)
{
	return txn->count;
}

jobreg_source *jr_load_source(const jr_load_txn *txn, size_t i)
{
	return txn->entries[i].src;
}

size_t jr_load_index(const jr_load_txn *txn, const jobreg_source *src)
{
	size_t i;

	for (i = 0; i < txn->count && txn->entries[i].src != src; i++)
		;
	return i;
}

int jr_load_has_code(const jr_load_txn *txn, size_t i)
{
	return txn->entries[i].src->loaded_part != NULL;
}

unsigned int jr_load_import_timeout_ms(const jr_load_txn *txn)
{
	return txn->reg->opts.import_timeout_ms;
}

void jr_load_never_wait(jr_load_txn *txn)
{
	txn->never_wait = 1;
}

int jr_load_discover(jr_load_txn *txn, size_t i)
{
	struct entry *e = &txn->entries[i];
	jobreg_source *src = e->src;
	int rc;

	release(e);
	jr_plan_clear(&e->plan);
	if (e->imported)
		txn->imported--;
	e->discovered = e->imported = 0;
	if (!(e->plan.part = jr_part_new(src->type, src->name)))
		return JOBREG_ENOMEM;
	e->plan.never_wait = txn->never_wait;
	e->plan.pool = txn->reg->pool;
	e->touched = 1;
	if ((rc = src->ops->discover(src, &e->plan)) < 0)
		return rc;
	jr_plan_read_nautobot_mode(src, &e->plan);
	e->discovered = 1;
	return 0;
}

int jr_load_discover_all(jr_load_txn *txn)
{
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < txn->count; i++)
		rc = jr_load_discover(txn, i);
	return rc;
}

/* Discovery says the source keeps the code it has (another process is moving its files). */
static int kept(const struct entry *e)
{
	return e->plan.keep_loaded && e->src->loaded_part;
}

void jr_load_get_found(jr_load_found *out, const jr_load_txn *txn, size_t i)
{
	const struct entry *e = &txn->entries[i];
	const jobreg_source *src = e->src;

	out->fingerprint = e->plan.fingerprint;
	out->nautobot_1x = e->plan.nautobot_1x;
	out->kept = kept(e);
	/* Same files, imported in the same Nautobot mode: nothing to import. */
	out->changed = !(src->loaded_part && e->plan.fingerprint &&
	                 e->plan.fingerprint == src->loaded_fingerprint &&
	                 e->plan.nautobot_1x == src->loaded_nautobot_1x);
}

void jr_load_select(jr_load_txn *txn, size_t i)
{
	txn->entries[i].selected = 1;
}

static int wants_import(const struct entry *e)
{
	return e->selected && e->discovered && !e->imported && !kept(e);
}

/* Which code the part holds: the commit of a git source, else the fingerprint of its files. */
static void set_code_version(jr_part *part, const jobreg_source *src, const jr_load_plan *plan)
{
	if (src->type == JOBREG_SOURCE_GIT)
		snprintf(part->code_version, sizeof(part->code_version), "%s", plan->commit);
	else if (plan->fingerprint)
		snprintf(part->code_version, sizeof(part->code_version), "%016" PRIx64, plan->fingerprint);
}

int jr_load_import(jr_load_txn *txn)
{
	PyGILState_STATE gil;
	size_t i, todo = 0;
	int rc = 0;

	for (i = 0; i < txn->count; i++)
		todo += (size_t)wants_import(&txn->entries[i]);
	if (todo > 0) {
		gil = PyGILState_Ensure();
		for (i = 0; rc == 0 && i < txn->count; i++) {
			struct entry *e = &txn->entries[i];

			if (!wants_import(e))
				continue;
			e->plan.import_timeout = txn->reg->opts.import_timeout_ms / 1000.0;
			if ((rc = e->src->ops->import(e->src, &e->plan)) < 0)
				continue;
			set_code_version(e->plan.part, e->src, &e->plan);
			jr_part_finish(e->plan.part);
			e->imported = 1;
			txn->imported++;
		}
		PyGILState_Release(gil);
	}
	for (i = 0; i < txn->count; i++)
		release(&txn->entries[i]);
	return rc;
}

const jr_part *jr_load_part(const jr_load_txn *txn, size_t i)
{
	const struct entry *e = &txn->entries[i];

	return e->imported ? e->plan.part : e->src->loaded_part;
}

void jr_load_get_result(jr_load_result *out, const jr_load_txn *txn, size_t i)
{
	const struct entry *e = &txn->entries[i];
	const jr_part *part = jr_load_part(txn, i);

	/* A source never imported has a loaded fingerprint of 0. */
	out->fingerprint = e->imported ? e->plan.fingerprint : e->src->loaded_fingerprint;
	out->nautobot_1x = e->imported ? e->plan.nautobot_1x : e->src->loaded_nautobot_1x;
	out->clean = part && part->error_count == 0;
}

/* What source `i` brings to the snapshot: its import, or the part it has, or an empty one. */
static jr_part *part_to_publish(struct entry *e)
{
	if (e->imported)
		return e->plan.part;
	jr_part_unref(e->plan.part); /* discovery's errors of a source not imported */
	if (e->src->loaded_part) {
		jr_part_ref(e->src->loaded_part);
		e->plan.part = e->src->loaded_part;
	} else if ((e->plan.part = jr_part_new(e->src->type, e->src->name)) != NULL) {
		jr_part_finish(e->plan.part);
	}
	return e->plan.part;
}

/* An imported source keeps its part for reloads, and hears that it is published. */
static void remember(struct entry *e)
{
	jobreg_source *src = e->src;

	jr_part_unref(src->loaded_part);
	jr_part_ref(e->plan.part);
	src->loaded_part = e->plan.part;
	src->loaded_fingerprint = e->plan.fingerprint;
	src->loaded_nautobot_1x = e->plan.nautobot_1x;
	if (src->ops->published)
		src->ops->published(src);
}

int jr_load_publish(jr_load_txn *txn, int even_if_unchanged)
{
	jobreg_registry *reg = txn->reg;
	jobreg_snapshot *snap = NULL, *old;
	jr_part **parts;
	size_t i, count = 0;
	int rc;

	if (!even_if_unchanged && txn->imported == 0 && reg->last_number > 0)
		return 0;
	if (!(parts = calloc(txn->count + 1, sizeof(*parts))))
		return jr_error_oom();
	for (i = 0; i < txn->count; i++) {
		if (txn->entries[i].excluded)
			continue;
		if (!(parts[count++] = part_to_publish(&txn->entries[i]))) {
			free(parts);
			return JOBREG_ENOMEM;
		}
	}
	rc = jr_snapshot_new(&snap, reg->last_number + 1, parts, count);
	free(parts);
	if (rc < 0)
		return rc;
	reg->last_number++;
	pthread_rwlock_wrlock(&reg->current_lock);
	old = reg->current;
	reg->current = snap;
	pthread_rwlock_unlock(&reg->current_lock);
	jr_snapshot_unref(old); /* outside the lock: it may take the GIL */
	for (i = 0; i < txn->count; i++) {
		if (txn->entries[i].imported)
			remember(&txn->entries[i]);
	}
	return 0;
}

void jr_load_exclude(jr_load_txn *txn, size_t i)
{
	txn->entries[i].excluded = 1;
}

jobreg_source *jr_load_detach(jr_load_txn *txn, size_t i)
{
	jobreg_registry *reg = txn->reg;
	struct entry *e = &txn->entries[i];
	jobreg_source *src = e->src;

	release(e);
	jr_plan_clear(&e->plan);
	memmove(e, e + 1, (txn->count - i - 1) * sizeof(*e));
	txn->count--;
	memmove(&reg->sources[i], &reg->sources[i + 1], (reg->source_count - i - 1) * sizeof(src));
	reg->source_count--;
	return src;
}

jobreg_snapshot *jr_load_snapshot(jr_load_txn *txn)
{
	jobreg_snapshot *snap;

	pthread_rwlock_rdlock(&txn->reg->current_lock);
	snap = txn->reg->current;
	jr_snapshot_ref(snap);
	pthread_rwlock_unlock(&txn->reg->current_lock);
	return snap;
}
