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
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jobreg/job.h"
#include "jobreg/sync.h"
#include "jobreg/version.h"
#include "options.h"
#include "record.h"
#include "refresh.h"
#include "registry_internal.h"
#include "runtime.h"
#include "source.h"
#include "storage_internal.h"
#include "util.h"

/* What the sync knows about one source of the registry. */
struct sync_source {
	const jobreg_source *src;
	const char *type;         /* as records store it */
	char *stored;             /* the state the last sync stored, or NULL */
	uint64_t records_digest;  /* of its records as read before the load */
	size_t record_count, installed;
	int shared_key;           /* another source has the same (type, name) */
	int skipped;
};

struct sync {
	struct sync_source *sources;
	size_t count;
	uint64_t env;
	int keep_state;       /* the backend stores source state */
	size_t foreign;       /* records of no source of the registry */
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
	       strcmp(jr_record_text(rec, JOBREG_FIELD_SOURCE), ss->src->name) == 0;
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

static char *state_text(uint64_t files, uint64_t env, int nautobot_1x,
                        const struct sync_source *ss)
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
static int environment(uint64_t *out, unsigned int import_timeout_ms)
{
	PyGILState_STATE gil = PyGILState_Ensure();
	PyObject *path = PySys_GetObject("path"); /* borrowed */
	uint64_t h = JR_FNV_OFFSET;
	Py_ssize_t i;
	int rc = 0;

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
	*out = h;
	return rc;
}

static void sync_free(struct sync *s)
{
	size_t i;

	for (i = 0; i < s->count; i++)
		free(s->sources[i].stored);
	free(s->sources);
}

static int sync_init(struct sync *s, jobreg_registry *reg, jobreg_storage *st)
{
	size_t i, j;

	memset(s, 0, sizeof(*s));
	s->keep_state = jr_storage_keeps_source_state(st);
	s->count = jobreg_registry_source_count(reg);
	s->sources = calloc(s->count ? s->count : 1, sizeof(*s->sources));
	if (!s->sources)
		return jr_error_oom();
	for (i = 0; i < s->count; i++) {
		struct sync_source *ss = &s->sources[i];

		ss->src = jobreg_registry_source(reg, i);
		ss->type = jobreg_source_type_name(ss->src->type);
		for (j = 0; j < i; j++) {
			if (strcmp(s->sources[j].type, ss->type) == 0 &&
			    strcmp(s->sources[j].src->name, ss->src->name) == 0)
				ss->shared_key = s->sources[j].shared_key = 1;
		}
	}
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
			rc = jr_storage_source_state_read(&ss->stored, st, ss->type, ss->src->name);
	}
	rc = rc < 0 ? jr_storage_rollback(st, rc) : jr_storage_commit(st);
	if (rc == 0)
		digest_records(s, (const jobreg_record *const *)records.items, records.count);
	jr_records_clear(&records);
	return rc;
}

static struct sync_source *find_source(struct sync *s, const jobreg_source *src)
{
	size_t i;

	for (i = 0; i < s->count; i++)
		if (s->sources[i].src == src)
			return &s->sources[i];
	return NULL;
}

/* The load's question: leave `src` out? Only when its state is the stored one. */
static int skip_unchanged(const jobreg_source *src, const jr_load_plan *plan, void *payload)
{
	struct sync *s = payload;
	struct sync_source *ss = find_source(s, src);
	char *now;

	if (!ss || !ss->stored || ss->shared_key || !plan->fingerprint)
		return 0;
	if (!(now = state_text(plan->fingerprint, s->env, plan->nautobot_1x, ss)))
		return 0; /* out of memory: importing is always correct */
	ss->skipped = strcmp(now, ss->stored) == 0;
	free(now);
	return ss->skipped;
}

static int skipped_key(const struct sync *s, const char *type, const char *name)
{
	size_t i;

	for (i = 0; i < s->count; i++) {
		const struct sync_source *ss = &s->sources[i];
		if (ss->skipped && strcmp(ss->type, type) == 0 && strcmp(ss->src->name, name) == 0)
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

	if (!s->keep_state)
		return 0;
	digest_records(s, records, n);
	for (i = 0; rc == 0 && i < s->count; i++) {
		struct sync_source *ss = &s->sources[i];
		const jobreg_source *src = ss->src;
		char *state = NULL;

		if (ss->skipped || ss->shared_key)
			continue;
		if (src->loaded_part && src->loaded_part->error_count == 0 && src->loaded_fingerprint &&
		    !(state = state_text(src->loaded_fingerprint, s->env, src->loaded_nautobot_1x, ss)))
			return JOBREG_ENOMEM;
		rc = jr_storage_source_state_write(st, ss->type, src->name, state);
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

	return jr_options_init(opts, &defaults, sync_options_sizes,
	                       JOBREG_SYNC_OPTIONS_VERSION, version, "jobreg_sync_options");
}

static int refresh_sources(jobreg_refresh_result **out, jobreg_registry *reg, jobreg_storage *st,
                           struct sync *s)
{
	jr_refresh_scope scope = { record_not_skipped, s, store_states, s };
	jobreg_snapshot *snap = NULL;
	jr_job_descs descs;
	int rc;

	if ((rc = jobreg_registry_snapshot(&snap, reg)) < 0)
		return rc;
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
	if (rc < 0 || (rc = jr_runtime_require("jobreg_registry_sync")) < 0)
		return rc;
	/* No other load of `reg` between this sync's load and its refresh: the
	 * states stored must describe the parts that were refreshed. */
	jr_registry_lock(reg);
	rc = sync_init(&s, reg, st);
	if (rc == 0 && s.keep_state)
		rc = environment(&s.env, jr_registry_import_timeout_ms(reg));
	if (rc == 0 && s.keep_state && !o.full)
		rc = read_states(&s, st);
	if (rc == 0)
		rc = jr_registry_load_skipping(reg, o.full, skip_unchanged, &s, "jobreg_registry_sync");
	for (i = 0; i < s.count; i++) {
		if (s.sources[i].skipped) {
			skipped++;
			unchanged += s.sources[i].installed;
		}
	}
	/* Everything skipped and no other record to uninstall: no write
	 * transaction at all. */
	if (rc == 0 && (skipped < s.count || s.foreign || s.count == 0))
		rc = refresh_sources(&res, reg, st, &s);
	else if (rc == 0)
		res = jr_refresh_result_new_empty();
	if (rc == 0 && !res)
		rc = jr_error_oom();
	jr_registry_unlock(reg);
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
