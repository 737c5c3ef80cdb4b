/*
 * sync.c: jobreg_registry_sync(), a load and a refresh that leave out the
 * sources whose stored fingerprint says nothing changed (jobreg/sync.h).
 *
 * A source's *state*, kept by the storage, is one line of text:
 *
 *	sync-1 files=<hex> env=<hex> nautobot=<2.x|1.x> records=<hex>/<count>
 *
 * files: the fingerprint its discovery computes (no code runs); env: the
 * library and Python versions, sys.path and the import time limit;
 * nautobot: the source's effective mode (jobreg_source_set_nautobot_compat(),
 * else jobreg_init()'s), which decides what its modules register; records:
 * an order-independent digest of the source's records, every field but
 * `enabled` (the host's alone), and how many there are. A sync skips a
 * source when the line it computes now is the stored one: same files, same
 * interpreter, same mode, and records exactly as the last refresh of that
 * source left them, so importing and refreshing it again could change
 * nothing.
 *
 * A sync is one load transaction of the registry (load_txn.h): begin,
 * discover, select by stored state, import, publish, refresh, end. Holding
 * it through the refresh means no other load comes between, so the states
 * stored describe the parts refreshed.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jobreg/job.h"
#include "jobreg/source.h"
#include "jobreg/sync.h"
#include "jobreg/version.h"
#include "load_txn.h"
#include "options.h"
#include "record.h"
#include "refresh.h"
#include "storage_internal.h"
#include "util.h"

/* What the sync knows about one source of the registry. */
struct sync_source {
	const char *type;        /* as records store it */
	const char *name;        /* the source's, borrowed */
	char *stored;            /* the state the last sync stored, or NULL */
	uint64_t records_digest; /* of its records as read before the load */
	size_t record_count, installed;
	int shared_key; /* another source has the same (type, name) */
	int skipped;
};

struct sync {
	jr_load_txn *txn;
	struct sync_source *sources; /* in the transaction's order */
	size_t count;
	uint64_t env;
	int keep_state;              /* the backend stores source state */
	size_t foreign;              /* records of no source of the registry */
	const jobreg_snapshot *snap; /* during refresh_sources() */
};

static void fold_text(uint64_t *h, const char *text)
{
	jr_fnv_fold(h, text, strlen(text) + 1);
}

/* A finalizer (splitmix64's): sums of mixed hashes do not cancel out. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t record_hash(const jobreg_record *rec)
{
	uint64_t h = JR_FNV_OFFSET;
	int f;

	for (f = 0; f < JR_FIELD_COUNT; f++) {
		jobreg_field field = (jobreg_field)f;

		if (field == JOBREG_FIELD_ENABLED)
			continue;
		switch (jobreg_record_field_kind(field)) {
		case JOBREG_FIELD_KIND_TEXT:
			fold_text(&h, jr_record_text(rec, field));
			break;
		case JOBREG_FIELD_KIND_BOOL: {
			unsigned char flag = (unsigned char)jr_record_flag(rec, field);
			jr_fnv_fold(&h, &flag, 1);
			break;
		}
		case JOBREG_FIELD_KIND_REAL: {
			double value = jr_record_real(rec, field);
			jr_fnv_fold(&h, &value, sizeof(value));
			break;
		}
		}
	}
	return mix(h);
}

static int record_is_of(const jobreg_record *rec, const struct sync_source *ss)
{
	return strcmp(jr_record_text(rec, JOBREG_FIELD_SOURCE_TYPE), ss->type) == 0 &&
	       strcmp(jr_record_text(rec, JOBREG_FIELD_SOURCE), ss->name) == 0;
}

/* The sync's source that `rec` belongs to, or NULL. */
static struct sync_source *source_of_record(struct sync *s, const jobreg_record *rec)
{
	size_t i;

	for (i = 0; i < s->count; i++)
		if (record_is_of(rec, &s->sources[i]))
			return &s->sources[i];
	return NULL;
}

/* Digest, count and installed count of each source's records. */
static void digest_records(struct sync *s, const jobreg_record *const *records, size_t n)
{
	size_t i;

	for (i = 0; i < s->count; i++) {
		s->sources[i].records_digest = 0;
		s->sources[i].record_count = s->sources[i].installed = 0;
	}
	s->foreign = 0;
	for (i = 0; i < n; i++) {
		struct sync_source *ss = source_of_record(s, records[i]);

		if (!ss) {
			s->foreign++;
			continue;
		}
		ss->records_digest += record_hash(records[i]);
		ss->record_count++;
		ss->installed += jr_record_flag(records[i], JOBREG_FIELD_INSTALLED) != 0;
	}
}

static char *state_text(uint64_t files, uint64_t env, int nautobot_1x, const struct sync_source *ss)
{
	return jr_asprintf("sync-1 files=%016" PRIx64 " env=%016" PRIx64 " nautobot=%s"
	                   " records=%016" PRIx64 "/%zu",
	                   files, env, nautobot_1x ? "1.x" : "2.x", ss->records_digest,
	                   ss->record_count);
}

/* Whether `nautobot` is absent, the library's compatibility module, or a real one. */
static const char *nautobot_kind(void)
{
	PyObject *name = PyUnicode_FromString("nautobot");
	PyObject *module = name ? PyImport_GetModule(name) : NULL;
	PyObject *file = module ? PyObject_GetAttrString(module, "__file__") : NULL;
	const char *kind = !module ? "absent" : file && PyUnicode_Check(file) ? "real" : "compat";

	Py_XDECREF(file);
	Py_XDECREF(module);
	Py_XDECREF(name);
	return kind;
}

/* What else decides what an import produces: versions, sys.path, time limit. */
static uint64_t environment(unsigned int import_timeout_ms)
{
	PyGILState_STATE gil = PyGILState_Ensure();
	PyObject *path = PySys_GetObject("path"); /* borrowed */
	uint64_t h = JR_FNV_OFFSET;
	Py_ssize_t i;

	fold_text(&h, jobreg_version(NULL, NULL, NULL));
	fold_text(&h, Py_GetVersion());
	jr_fnv_fold(&h, &import_timeout_ms, sizeof(import_timeout_ms));
	for (i = 0; path && PyList_Check(path) && i < PyList_GET_SIZE(path); i++) {
		PyObject *entry = PyList_GET_ITEM(path, i);
		const char *text = PyUnicode_Check(entry) ? PyUnicode_AsUTF8(entry) : NULL;

		if (!text) {
			PyErr_Clear();
			continue;
		}
		fold_text(&h, text);
	}
	fold_text(&h, nautobot_kind());
	PyErr_Clear();
	PyGILState_Release(gil);
	return h;
}

static void sync_free(struct sync *s)
{
	size_t i;

	for (i = 0; i < s->count; i++)
		free(s->sources[i].stored);
	free(s->sources);
}

/* The sync's view of the transaction's sources; `count` stays 0 until
 * they are all there, so sync_free() and the counts never read past them. */
static int sync_init(struct sync *s, jr_load_txn *txn, jobreg_storage *st)
{
	size_t i, j, n = jr_load_count(txn);

	memset(s, 0, sizeof(*s));
	s->txn = txn;
	s->keep_state = jr_storage_keeps_source_state(st);
	s->sources = calloc(n ? n : 1, sizeof(*s->sources));
	if (!s->sources)
		return jr_error_oom();
	for (i = 0; i < n; i++) {
		struct sync_source *ss = &s->sources[i];
		const jobreg_source *src = jr_load_source(txn, i);

		ss->type = jobreg_source_type_name(jobreg_source_type(src));
		ss->name = jobreg_source_name(src);
		for (j = 0; j < i; j++) {
			if (strcmp(s->sources[j].type, ss->type) == 0 &&
			    strcmp(s->sources[j].name, ss->name) == 0)
				ss->shared_key = s->sources[j].shared_key = 1;
		}
	}
	s->count = n;
	return 0;
}

/* Before the load: each source's stored state and its records' digest. */
static int read_states(struct sync *s, jobreg_storage *st)
{
	jr_records records = { NULL, 0, 0 };
	size_t i;
	int rc;

	if ((rc = jr_storage_begin(st, 0)) < 0)
		return rc;
	rc = jr_storage_read_all(&records, st);
	for (i = 0; rc == 0 && i < s->count; i++) {
		struct sync_source *ss = &s->sources[i];

		if (!ss->shared_key)
			rc = jr_storage_source_state_read(&ss->stored, st, ss->type, ss->name);
	}
	rc = rc < 0 ? jr_storage_rollback(st, rc) : jr_storage_commit(st);
	if (rc == 0)
		digest_records(s, (const jobreg_record *const *)records.items, records.count);
	jr_records_clear(&records);
	return rc;
}

/* 1 when source `i`'s state now is the stored one: nothing to import. */
static int unchanged_since_stored(const struct sync *s, size_t i, const jr_load_found *found)
{
	const struct sync_source *ss = &s->sources[i];
	char *now;
	int same;

	if (!ss->stored || ss->shared_key || !found->fingerprint)
		return 0;
	if (!(now = state_text(found->fingerprint, s->env, found->nautobot_1x, ss)))
		return 0; /* out of memory: importing is always correct */
	same = strcmp(now, ss->stored) == 0;
	free(now);
	return same;
}

/*
 * What the sync imports: of the sources that discovery does not keep as
 * they are, those whose stored state is unchanged are skipped, the others
 * imported when they changed since their last import (all with `full`).
 */
static void select_sources(struct sync *s, int full)
{
	size_t i;

	for (i = 0; i < s->count; i++) {
		jr_load_found found;

		jr_load_get_found(&found, s->txn, i);
		if (found.kept)
			continue;
		if (!full && (s->sources[i].skipped = unchanged_since_stored(s, i, &found)))
			continue;
		if (full || found.changed)
			jr_load_select(s->txn, i);
	}
}

static int skipped_key(const struct sync *s, const char *type, const char *name)
{
	size_t i;

	for (i = 0; i < s->count; i++) {
		const struct sync_source *ss = &s->sources[i];
		if (ss->skipped && strcmp(ss->type, type) == 0 && strcmp(ss->name, name) == 0)
			return 1;
	}
	return 0;
}

static int job_not_skipped(const jobreg_job *job, const void *ctx)
{
	return !skipped_key(ctx, jobreg_source_type_name(jobreg_job_source_type(job)),
	                    jobreg_job_source_name(job));
}

static int record_not_skipped(const jobreg_record *rec, const void *ctx)
{
	return !skipped_key(ctx, jr_record_text(rec, JOBREG_FIELD_SOURCE_TYPE),
	                    jr_record_text(rec, JOBREG_FIELD_SOURCE));
}

/*
 * Inside the refresh's transaction: store the state of every refreshed
 * source that loaded cleanly, and forget it for the others.
 */
static int store_states(jobreg_storage *st, const jobreg_record *const *records, size_t n,
                        void *ctx)
{
	struct sync *s = ctx;
	size_t i;
	int rc = 0;

	/* The load errors of each source refreshed, in the same transaction. */
	for (i = 0; rc == 0 && s->snap && i < s->count; i++)
		if (!s->sources[i].skipped)
			rc = jr_refresh_store_load_errors(st, s->snap, s->sources[i].type, s->sources[i].name);
	if (rc < 0 || !s->keep_state)
		return rc;
	digest_records(s, records, n);
	for (i = 0; rc == 0 && i < s->count; i++) {
		struct sync_source *ss = &s->sources[i];
		jr_load_result loaded;
		char *state = NULL;

		if (ss->skipped || ss->shared_key)
			continue;
		jr_load_get_result(&loaded, s->txn, i);
		if (loaded.fingerprint && loaded.clean &&
		    !(state = state_text(loaded.fingerprint, s->env, loaded.nautobot_1x, ss)))
			return JOBREG_ENOMEM;
		rc = jr_storage_source_state_write(st, ss->type, ss->name, state);
		free(state);
	}
	return rc;
}

static const size_t sync_options_sizes[] = {
	JR_SIZE_THROUGH(jobreg_sync_options, full), /* version 1 */
};

int jobreg_sync_options_init(jobreg_sync_options *opts, unsigned int version)
{
	static const jobreg_sync_options defaults = JOBREG_SYNC_OPTIONS_INIT;

	return jr_options_init(opts, &defaults, sync_options_sizes, JOBREG_SYNC_OPTIONS_VERSION,
	                       version, "jobreg_sync_options");
}

/* Refresh against what the transaction published (or kept). */
static int refresh_sources(jobreg_refresh_result **out, jobreg_storage *st, struct sync *s)
{
	jr_refresh_scope scope = { record_not_skipped, s, store_states, s };
	jobreg_snapshot *snap = jr_load_snapshot(s->txn);

	s->snap = snap;
	jr_job_descs descs;
	int rc;

	rc = jr_job_descs_from_snapshot(&descs, snap, job_not_skipped, s);
	if (rc == 0) {
		rc = jr_refresh_jobs(out, st, descs.items, descs.count, &scope);
		jr_job_descs_free(&descs);
	}
	jobreg_snapshot_free(snap);
	return rc;
}

int jobreg_registry_sync(jobreg_refresh_result **out, jobreg_registry *reg, jobreg_storage *st,
                         const jobreg_sync_options *opts)
{
	jobreg_sync_options o = JOBREG_SYNC_OPTIONS_INIT;
	jobreg_refresh_result *res = NULL;
	jr_load_txn *txn;
	struct sync s;
	size_t i, skipped = 0, unchanged = 0;
	int rc;

	if (out)
		*out = NULL;
	if (!reg || !st)
		return jr_error_set(JOBREG_EINVAL, "jobreg_registry_sync: NULL %s",
		                    reg ? "storage" : "registry");
	rc = jr_options_read(&o, opts, sync_options_sizes, JOBREG_SYNC_OPTIONS_VERSION,
	                     "jobreg_sync_options");
	if (rc < 0 || (rc = jr_load_begin(&txn, reg, "jobreg_registry_sync")) < 0)
		return rc;
	rc = sync_init(&s, txn, st);
	if (rc == 0 && s.keep_state)
		s.env = environment(jr_load_import_timeout_ms(txn));
	if (rc == 0 && s.keep_state && !o.full)
		rc = read_states(&s, st);
	if (rc == 0)
		rc = jr_load_discover_all(txn);
	if (rc == 0) {
		select_sources(&s, o.full);
		rc = jr_load_import(txn);
	}
	if (rc == 0)
		rc = jr_load_publish(txn, o.full);
	for (i = 0; i < s.count; i++) {
		if (s.sources[i].skipped) {
			skipped++;
			unchanged += s.sources[i].installed;
		}
	}
	/* Everything skipped and no other record to uninstall: no write
	 * transaction at all. */
	if (rc == 0 && (skipped < s.count || s.foreign || s.count == 0))
		rc = refresh_sources(&res, st, &s);
	else if (rc == 0)
		res = jr_refresh_result_new_empty();
	if (rc == 0 && !res)
		rc = jr_error_oom();
	jr_load_end(txn);
	if (rc == 0) {
		jr_refresh_result_add_skipped(res, skipped, unchanged);
		if (out)
			*out = res;
		else
			jobreg_refresh_result_free(res);
	}
	sync_free(&s);
	return rc;
}

/* A sync's own count in its refresh result (jobreg/sync.h; refresh.h has the struct). */
size_t jobreg_refresh_result_skipped_count(const jobreg_refresh_result *res)
{
	return res ? res->skipped : 0;
}
