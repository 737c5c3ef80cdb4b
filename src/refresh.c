/*
 * refresh.c: bringing the stored records in line with the loaded jobs
 * (SPEC 4). One write transaction: read every record once, work out each
 * record's new value in memory, write only the records that changed.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "generation.h"
#include "jobreg/job.h"
#include "jobreg/refresh.h"
#include "jobreg/snapshot.h"
#include "jobreg/source.h"
#include "json.h"
#include "options.h"
#include "record.h"
#include "refresh.h"
#include "storage_internal.h"
#include "strmap.h"
#include "util.h"

/* What the refresh knows about one stored record. */
struct stored {
	jobreg_record *rec;     /* owned by `records` below, changed in place */
	const jr_job_desc *job; /* its job in this refresh, or NULL */
	unsigned char in_scope;
	unsigned char changed;
};

struct refresh {
	const jr_job_desc *jobs;
	size_t job_count;
	jr_records records;      /* as read */
	struct stored *stored;   /* one per record */
	size_t *record_of_job;   /* per job: index + 1 of its record, 0 when new */
	jobreg_record **created; /* per job: the new record, or NULL */
	char *identities;        /* every record's "module_name.job_class_name", one block */
	jr_strmap by_identity;   /* identity -> record index + 1, or a job's slot */
	jr_strmap names;         /* names taken so far */
};

static void refresh_free(struct refresh *r)
{
	size_t i;

	if (r->created)
		for (i = 0; i < r->job_count; i++)
			jobreg_record_free(r->created[i]);
	free(r->identities);
	free(r->created);
	free(r->record_of_job);
	free(r->stored);
	jr_strmap_free(&r->by_identity);
	jr_strmap_free(&r->names);
	jr_records_clear(&r->records);
}

/* ---- changing a record, noting whether anything changed ------------ */

static int set_text(jobreg_record *rec, jobreg_field field, const char *value,
                    unsigned char *changed)
{
	if (strcmp(jr_record_text(rec, field), value) == 0)
		return 0;
	*changed = 1;
	return jr_record_set_text(rec, field, value);
}

static void set_flag(jobreg_record *rec, jobreg_field field, int value, unsigned char *changed)
{
	if (jr_record_flag(rec, field) != (value ? 1 : 0)) {
		jr_record_set_flag(rec, field, value);
		*changed = 1;
	}
}

static void set_real(jobreg_record *rec, jobreg_field field, double value, unsigned char *changed)
{
	if (jr_record_real(rec, field) != value) {
		jr_record_set_real(rec, field, value);
		*changed = 1;
	}
}

/* A JSON field from a job: checked only when it differs from the stored one. */
static int set_json(jobreg_record *rec, jobreg_field field, const char *value,
                    const jr_job_desc *job, unsigned char *changed)
{
	if (strcmp(jr_record_text(rec, field), value) == 0)
		return 0;
	if (jobreg_record_set_text(rec, field, value) < 0)
		return jr_error_wrap(JOBREG_EINVAL, "job %s: ", job->class_path);
	*changed = 1;
	return 0;
}

/*
 * How a refresh copies one META field of src/job_fields.h, by its type:
 * nothing for the name (made unique by assign_names()) or when the field's
 * override flag (`override_of`, -1 for none) is set. Called with constants
 * for all but the value, so each call compiles to what one would write out.
 */
static inline int copy_unless_overridden(const jobreg_record *rec, jobreg_field field,
                                         int override_of)
{
	return field != JOBREG_FIELD_NAME &&
	       (override_of < 0 || !jr_record_flag(rec, (jobreg_field)override_of));
}

static inline int copy_TEXT(jobreg_record *rec, jobreg_field field, int override_of,
                            const char *value, const jr_job_desc *job, unsigned char *changed)
{
	(void)job;
	return copy_unless_overridden(rec, field, override_of) ? set_text(rec, field, value, changed)
	                                                       : 0;
}

static inline int copy_LIST(jobreg_record *rec, jobreg_field field, int override_of,
                            const char *value, const jr_job_desc *job, unsigned char *changed)
{
	return copy_unless_overridden(rec, field, override_of)
	           ? set_json(rec, field, value, job, changed)
	           : 0;
}
#define copy_OBJECT copy_LIST

static inline int copy_BOOL(jobreg_record *rec, jobreg_field field, int override_of,
                            unsigned char value, const jr_job_desc *job, unsigned char *changed)
{
	(void)job;
	if (copy_unless_overridden(rec, field, override_of))
		set_flag(rec, field, value, changed);
	return 0;
}

static inline int copy_REAL(jobreg_record *rec, jobreg_field field, int override_of, double value,
                            const jr_job_desc *job, unsigned char *changed)
{
	(void)job;
	if (copy_unless_overridden(rec, field, override_of))
		set_real(rec, field, value, changed);
	return 0;
}

/* A record holds no negative or non-finite REAL. */
static int check_real(const jr_job_desc *job, const char *name, double value)
{
	if (!isfinite(value) || value < 0)
		return jr_error_set(JOBREG_EINVAL, "job %s: %s is negative or not finite (%g)",
		                    job->class_path, name, value);
	return 0;
}

/* Copy the job's values into `rec`, except its name and overridden fields. */
static int apply_job(jobreg_record *rec, const jr_job_desc *job, unsigned char *changed)
{
	const char *type = jobreg_source_type_name(job->source_type);
	int rc = 0;

	if (job->source_type < JOBREG_SOURCE_LOCAL || job->source_type > JOBREG_SOURCE_APP)
		return jr_error_set(JOBREG_EINVAL, "job %s: unknown source type %d", job->class_path,
		                    (int)job->source_type);
		/* Checked first, overridden or not: a bad job changes nothing. */
#define CHECK_REAL(F, name, type, from, override, def) \
	JR_IF_META_##from(JR_IF_REAL_##type(if (rc == 0) rc = check_real(job, #name, job->name);))
	JR_JOB_FIELDS(CHECK_REAL)
#undef CHECK_REAL
	if (rc == 0)
		rc = set_text(rec, JOBREG_FIELD_MODULE_NAME, job->module_name, changed);
	if (rc == 0)
		rc = set_text(rec, JOBREG_FIELD_JOB_CLASS_NAME, job->class_name, changed);
	if (rc == 0)
		rc = set_text(rec, JOBREG_FIELD_CLASS_PATH, job->class_path, changed);
	if (rc == 0)
		rc = set_text(rec, JOBREG_FIELD_SOURCE_TYPE, type, changed);
	if (rc == 0)
		rc = set_text(rec, JOBREG_FIELD_SOURCE, job->source_name, changed);
		/* Every META field: copy_<type>(rec, its field, its override flag, its value, ...). */
#define COPY_META(F, name, type, from, override, def)                                        \
	JR_IF_META_##from(if (rc == 0)                                                           \
	                      rc = copy_##type(rec, JOBREG_FIELD_##F, JR_OVERRIDE_##override(F), \
	                                       job->name, job, changed);)
	JR_JOB_FIELDS(COPY_META)
#undef COPY_META
	if (rc < 0)
		return rc;
	/* Loaded, so installed; `enabled` is the host's alone. */
	set_flag(rec, JOBREG_FIELD_INSTALLED, 1, changed);
	return 0;
}

/* ---- planning ------------------------------------------------------ */

static int in_scope(const jobreg_record *rec, const jr_refresh_scope *scope)
{
	return !scope || !scope->contains || scope->contains(rec, scope->ctx);
}

/*
 * Every record's identity, "module_name.job_class_name", into one block
 * (no allocation or formatting per record: a refresh reads them all).
 */
static int make_identities(struct refresh *r)
{
	size_t total = 1, i;
	char *at;

	for (i = 0; i < r->records.count; i++) {
		const jobreg_record *rec = r->records.items[i];
		total += strlen(jr_record_text(rec, JOBREG_FIELD_MODULE_NAME)) +
		         strlen(jr_record_text(rec, JOBREG_FIELD_JOB_CLASS_NAME)) + 2;
	}
	if (!(r->identities = malloc(total)))
		return jr_error_oom();
	at = r->identities;
	for (i = 0; i < r->records.count; i++) {
		const jobreg_record *rec = r->records.items[i];
		const char *module = jr_record_text(rec, JOBREG_FIELD_MODULE_NAME);
		const char *class_name = jr_record_text(rec, JOBREG_FIELD_JOB_CLASS_NAME);
		size_t m = strlen(module), c = strlen(class_name);

		memcpy(at, module, m);
		at[m] = '.';
		memcpy(at + m + 1, class_name, c + 1);
		at += m + c + 2;
	}
	return 0;
}

/* Index the stored records by identity and match each job to its record. */
static int match_jobs(struct refresh *r, const jr_refresh_scope *scope)
{
	size_t n = r->records.count, i, j;
	const char *identity;

	if (make_identities(r) < 0)
		return JOBREG_ENOMEM;
	identity = r->identities;
	r->stored = calloc(n ? n : 1, sizeof(*r->stored));
	r->record_of_job = calloc(r->job_count ? r->job_count : 1, sizeof(*r->record_of_job));
	r->created = calloc(r->job_count ? r->job_count : 1, sizeof(*r->created));
	if (!r->stored || !r->record_of_job || !r->created)
		return jr_error_oom();
	if (jr_strmap_init(&r->by_identity, n + r->job_count) < 0)
		return JOBREG_ENOMEM;
	for (i = 0; i < n; i++) {
		struct jr_strmap_slot *slot;

		r->stored[i].rec = r->records.items[i];
		r->stored[i].in_scope = (unsigned char)in_scope(r->stored[i].rec, scope);
		slot = jr_strmap_slot(&r->by_identity, identity);
		if (slot->key) {
			size_t other = (size_t)(uintptr_t)slot->value - 1;
			return jr_error_set(JOBREG_EEXISTS,
			                    "storage holds two records for job %s (ids %s and %s): "
			                    "delete one of them",
			                    identity, jr_record_text(r->stored[other].rec, JOBREG_FIELD_ID),
			                    jr_record_text(r->stored[i].rec, JOBREG_FIELD_ID));
		}
		slot->key = identity;
		slot->value = (void *)(uintptr_t)(i + 1);
		jr_strmap_added(&r->by_identity);
		identity += strlen(identity) + 1;
	}
	for (j = 0; j < r->job_count; j++) {
		const jr_job_desc *job = &r->jobs[j];
		struct jr_strmap_slot *slot = jr_strmap_slot(&r->by_identity, job->class_path);
		size_t at = (size_t)(uintptr_t)slot->value;

		if (slot->key && (at > n || r->stored[at - 1].job))
			return jr_error_set(JOBREG_EINVAL, "refresh: job %s is listed twice", job->class_path);
		if (slot->key) {
			r->stored[at - 1].job = job;
			r->record_of_job[j] = at;
		} else {
			/* Marks the identity as taken by a new record. */
			slot->key = job->class_path;
			slot->value = (void *)(uintptr_t)(n + 1 + j);
			jr_strmap_added(&r->by_identity);
		}
	}
	return 0;
}

/* Build the record of every job and copy the jobs' values. */
static int apply_jobs(struct refresh *r)
{
	size_t j;
	int rc;

	for (j = 0; j < r->job_count; j++) {
		const jr_job_desc *job = &r->jobs[j];

		if (r->record_of_job[j]) {
			struct stored *s = &r->stored[r->record_of_job[j] - 1];
			if ((rc = apply_job(s->rec, job, &s->changed)) < 0)
				return rc;
		} else {
			char id[37];
			unsigned char changed = 0;
			jobreg_record *rec = jr_record_new();

			if (!rec)
				return JOBREG_ENOMEM;
			r->created[j] = rec;
			/* New: installed, never enabled by a refresh. */
			if ((rc = jr_uuid4(id)) < 0 ||
			    (rc = jr_record_set_text(rec, JOBREG_FIELD_ID, id)) < 0 ||
			    (rc = apply_job(rec, job, &changed)) < 0)
				return rc;
			jr_record_set_flag(rec, JOBREG_FIELD_ENABLED, 0);
		}
	}
	return 0;
}

static int name_taken(const struct refresh *r, const char *name)
{
	return jr_strmap_get(&r->names, name) != NULL;
}

/* Take `rec`'s current name (its own string is the key: never set it again). */
static void reserve_name(struct refresh *r, const jobreg_record *rec)
{
	const char *name = jr_record_text(rec, JOBREG_FIELD_NAME);
	struct jr_strmap_slot *slot = jr_strmap_slot(&r->names, name);

	if (slot->key)
		return; /* an old duplicate, stored before: left as it is */
	slot->key = name;
	slot->value = (void *)rec;
	jr_strmap_added(&r->names);
}

/* Give `rec` its job's name, or the first free "name (n)" with the name kept. */
static int assign_name(struct refresh *r, jobreg_record *rec, const char *wanted,
                       unsigned char *changed)
{
	unsigned long n;
	int rc;

	if (!name_taken(r, wanted)) {
		if ((rc = set_text(rec, JOBREG_FIELD_NAME, wanted, changed)) < 0)
			return rc;
		reserve_name(r, rec);
		return 0;
	}
	for (n = 2;; n++) {
		char *candidate = jr_asprintf("%s (%lu)", wanted, n);

		if (!candidate)
			return JOBREG_ENOMEM;
		if (!name_taken(r, candidate)) {
			rc = set_text(rec, JOBREG_FIELD_NAME, candidate, changed);
			free(candidate);
			if (rc < 0)
				return rc;
			set_flag(rec, JOBREG_FIELD_NAME_OVERRIDE, 1, changed);
			reserve_name(r, rec);
			return 0;
		}
		free(candidate);
	}
}

/*
 * Names stay unique. First every name that is not being (re)assigned is
 * taken: records without a job here, overridden names, and names that
 * already equal their job's. Then the remaining jobs get theirs, in
 * snapshot order, with " (n)" on a clash.
 */
static int assign_names(struct refresh *r)
{
	size_t i, j;
	int rc;

	if (jr_strmap_init(&r->names, r->records.count + r->job_count) < 0)
		return JOBREG_ENOMEM;
	for (i = 0; i < r->records.count; i++) {
		const struct stored *s = &r->stored[i];
		if (!s->job || jr_record_flag(s->rec, JOBREG_FIELD_NAME_OVERRIDE) ||
		    strcmp(jr_record_text(s->rec, JOBREG_FIELD_NAME), s->job->name) == 0)
			reserve_name(r, s->rec);
	}
	for (j = 0; j < r->job_count; j++) {
		const jr_job_desc *job = &r->jobs[j];
		unsigned char ignored = 0;

		if (r->record_of_job[j]) {
			struct stored *s = &r->stored[r->record_of_job[j] - 1];
			if (jr_record_flag(s->rec, JOBREG_FIELD_NAME_OVERRIDE) ||
			    strcmp(jr_record_text(s->rec, JOBREG_FIELD_NAME), job->name) == 0)
				continue;
			rc = assign_name(r, s->rec, job->name, &s->changed);
		} else {
			rc = assign_name(r, r->created[j], job->name, &ignored);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Records in scope whose job is gone: installed = 0, nothing else. */
static void uninstall_missing(struct refresh *r)
{
	size_t i;

	for (i = 0; i < r->records.count; i++) {
		struct stored *s = &r->stored[i];
		if (s->in_scope && !s->job)
			set_flag(s->rec, JOBREG_FIELD_INSTALLED, 0, &s->changed);
	}
}

static int write_changes(struct refresh *r, jobreg_storage *st, size_t *writes)
{
	size_t i, j;
	int rc;

	*writes = 0;
	for (i = 0; i < r->records.count; i++) {
		if (!r->stored[i].changed)
			continue;
		if ((rc = jr_storage_write(st, r->stored[i].rec)) < 0)
			return rc;
		(*writes)++;
	}
	for (j = 0; j < r->job_count; j++) {
		if (!r->created[j])
			continue;
		if ((rc = jr_storage_write(st, r->created[j])) < 0)
			return rc;
		(*writes)++;
	}
	return 0;
}

/* Every record as the transaction leaves it, for the scope's hook. */
static int run_hook(struct refresh *r, jobreg_storage *st, const jr_refresh_scope *scope)
{
	const jobreg_record **all;
	size_t n = 0, i;
	int rc;

	if (!scope || !scope->before_commit)
		return 0;
	all = malloc((r->records.count + r->job_count + 1) * sizeof(*all));
	if (!all)
		return jr_error_oom();
	for (i = 0; i < r->records.count; i++)
		all[n++] = r->stored[i].rec;
	for (i = 0; i < r->job_count; i++)
		if (r->created[i])
			all[n++] = r->created[i];
	rc = scope->before_commit(st, all, n, scope->hook_ctx);
	free(all);
	return rc;
}

/* ---- the result ---------------------------------------------------- */

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_path(char **list, size_t *count, const char *path)
{
	if (!(list[*count] = jr_strdup(path)))
		return JOBREG_ENOMEM;
	(*count)++;
	return 0;
}

static int make_result(jobreg_refresh_result **out, const struct refresh *r, size_t writes)
{
	jobreg_refresh_result *res = calloc(1, sizeof(*res));
	size_t slots = r->job_count + 1, i, j;
	int rc = 0;

	if (!res)
		return jr_error_oom();
	res->created = calloc(slots, sizeof(char *));
	res->updated = calloc(slots, sizeof(char *));
	res->uninstalled = calloc(r->records.count + 1, sizeof(char *));
	if (!res->created || !res->updated || !res->uninstalled)
		rc = jr_error_oom();
	for (j = 0; j < r->job_count && rc == 0; j++) {
		if (!r->record_of_job[j])
			rc = add_path(res->created, &res->created_count, r->jobs[j].class_path);
		else if (r->stored[r->record_of_job[j] - 1].changed)
			rc = add_path(res->updated, &res->updated_count, r->jobs[j].class_path);
		else
			res->unchanged++;
	}
	for (i = 0; i < r->records.count && rc == 0; i++) {
		const struct stored *s = &r->stored[i];
		if (!s->job && s->changed)
			rc = add_path(res->uninstalled, &res->uninstalled_count,
			              jr_record_text(s->rec, JOBREG_FIELD_CLASS_PATH));
	}
	if (rc < 0) {
		jobreg_refresh_result_free(res);
		return rc;
	}
	qsort(res->uninstalled, res->uninstalled_count, sizeof(char *), compare_strings);
	res->writes = writes;
	*out = res;
	return 0;
}

/* ---- entry points -------------------------------------------------- */

int jr_refresh_jobs(jobreg_refresh_result **out, jobreg_storage *st, const jr_job_desc *jobs,
                    size_t count, const jr_refresh_scope *scope)
{
	struct refresh r;
	jobreg_refresh_result *res = NULL;
	size_t writes = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	r.jobs = jobs;
	r.job_count = count;
	if ((rc = jr_storage_begin(st, JOBREG_STORAGE_BEGIN_WRITE)) < 0)
		return rc;
	rc = jr_storage_read_all(&r.records, st);
	if (rc == 0)
		rc = match_jobs(&r, scope);
	if (rc == 0)
		rc = apply_jobs(&r);
	if (rc == 0)
		rc = assign_names(&r);
	if (rc == 0) {
		uninstall_missing(&r);
		rc = write_changes(&r, st, &writes);
	}
	if (rc == 0)
		rc = run_hook(&r, st, scope);
	/* Built before the commit: running out of memory here still undoes all. */
	if (rc == 0 && out)
		rc = make_result(&res, &r, writes);
	if (rc < 0)
		jr_storage_rollback(st, rc);
	else
		rc = jr_storage_commit(st);
	refresh_free(&r);
	if (rc < 0) {
		jobreg_refresh_result_free(res);
		return rc;
	}
	if (out)
		*out = res;
	return 0;
}

static const size_t refresh_options_sizes[] = {
	JR_SIZE_THROUGH(jobreg_refresh_options, source_name), /* version 1 */
};

int jobreg_refresh_options_init(jobreg_refresh_options *opts, unsigned int version)
{
	static const jobreg_refresh_options defaults = JOBREG_REFRESH_OPTIONS_INIT;

	return jr_options_init(opts, &defaults, refresh_options_sizes, JOBREG_REFRESH_OPTIONS_VERSION,
	                       version, "jobreg_refresh_options");
}

void jr_job_descs_free(jr_job_descs *descs)
{
	free(descs->items);
	memset(descs, 0, sizeof(*descs));
}

int jr_job_descs_from_snapshot(jr_job_descs *out, const jobreg_snapshot *snap,
                               int (*want)(const jobreg_job *job, const void *ctx), const void *ctx)
{
	size_t total = jobreg_snapshot_job_count(snap), i;

	memset(out, 0, sizeof(*out));
	out->items = calloc(total ? total : 1, sizeof(*out->items));
	if (!out->items)
		return jr_error_oom();
	for (i = 0; i < total; i++) {
		const jobreg_job *job = jobreg_snapshot_job(snap, i);
		jr_job_desc *d = &out->items[out->count];

		if (want && !want(job, ctx))
			continue;
		d->class_path = job->class_path;
		d->module_name = job->module_name;
		d->class_name = job->class_name;
		d->source_type = job->part->source_type;
		d->source_name = job->part->source_name;
		d->meta = job->meta;
		out->count++;
	}
	return 0;
}

/* The one source jobreg_refresh_options names. */
struct one_source {
	jobreg_source_t type;
	const char *name;
};

static int job_of_source(const jobreg_job *job, const void *ctx)
{
	const struct one_source *o = ctx;
	return jobreg_job_source_type(job) == o->type &&
	       strcmp(jobreg_job_source_name(job), o->name) == 0;
}

static int record_of_source(const jobreg_record *rec, const void *ctx)
{
	const struct one_source *o = ctx;
	return strcmp(jr_record_text(rec, JOBREG_FIELD_SOURCE_TYPE),
	              jobreg_source_type_name(o->type)) == 0 &&
	       strcmp(jr_record_text(rec, JOBREG_FIELD_SOURCE), o->name) == 0;
}

/* ---- stored load errors (backend version 3) ------------------------ */

/* Now, as the `when` of stored load errors: UTC ISO 8601. */
static void utc_now(char *out, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;

	if (!gmtime_r(&now, &tm) || strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, size, "1970-01-01T00:00:00Z");
}

/* Replace the stored errors of one source by those of `snap`'s parts of it. */
static int store_source_errors(jobreg_storage *st, const jobreg_snapshot *snap, const char *type,
                               const char *name, const char *when)
{
	jr_load_error_rows rows = { NULL, 0, 0 };
	size_t p, i;
	int rc = 0;

	for (p = 0; p < snap->part_count && rc == 0; p++) {
		const jr_part *part = snap->parts[p];
		if (strcmp(jobreg_source_type_name(part->source_type), type) != 0 ||
		    strcmp(part->source_name, name) != 0)
			continue;
		for (i = 0; i < part->error_count && rc == 0; i++) {
			const jobreg_load_error *e = &part->errors[i];
			jobreg_load_error_row row = { type,    name,       e->module,    e->file, e->line,
				                          e->type, e->message, e->traceback, when };
			rc = jr_load_error_rows_push(&rows, &row);
		}
	}
	if (rc == 0)
		rc = jr_storage_load_errors_replace(st, type, name, rows.items, rows.count);
	jr_load_error_rows_clear(&rows);
	return rc;
}

static int part_of(const jobreg_snapshot *snap, const char *type, const char *name)
{
	size_t p;
	for (p = 0; p < snap->part_count; p++)
		if (strcmp(jobreg_source_type_name(snap->parts[p]->source_type), type) == 0 &&
		    strcmp(snap->parts[p]->source_name, name) == 0)
			return 1;
	return 0;
}

int jr_refresh_store_load_errors(jobreg_storage *st, const jobreg_snapshot *snap,
                                 const char *source_type, const char *source_name)
{
	jr_load_error_rows stored = { NULL, 0, 0 };
	char when[32];
	size_t i;
	int rc = 0;

	if (!jr_storage_keeps_load_errors(st))
		return 0;
	utc_now(when, sizeof(when));
	if (source_type)
		return store_source_errors(st, snap, source_type, source_name ? source_name : "", when);
	for (i = 0; i < snap->part_count && rc == 0; i++)
		rc = store_source_errors(st, snap, jobreg_source_type_name(snap->parts[i]->source_type),
		                         snap->parts[i]->source_name, when);
	/* A refresh of every source also forgets the sources no longer loaded. */
	if (rc == 0)
		rc = jr_storage_load_errors_read(&stored, st, NULL, NULL);
	for (i = 0; i < stored.count && rc == 0; i++) {
		const jobreg_load_error_row *r = &stored.items[i];
		if (i > 0 && strcmp(r->source_type, stored.items[i - 1].source_type) == 0 &&
		    strcmp(r->source_name, stored.items[i - 1].source_name) == 0)
			continue; /* that source was handled */
		if (!part_of(snap, r->source_type, r->source_name))
			rc = jr_storage_load_errors_replace(st, r->source_type, r->source_name, NULL, 0);
	}
	jr_load_error_rows_clear(&stored);
	return rc;
}

struct errors_hook {
	const jobreg_snapshot *snap;
	const char *source_type; /* NULL: every source */
	const char *source_name;
};

static int store_errors_hook(jobreg_storage *st, const jobreg_record *const *records, size_t count,
                             void *hook_ctx)
{
	const struct errors_hook *h = hook_ctx;

	(void)records;
	(void)count;
	return jr_refresh_store_load_errors(st, h->snap, h->source_type, h->source_name);
}

int jobreg_refresh(jobreg_refresh_result **out, jobreg_storage *st, const jobreg_snapshot *snap,
                   const jobreg_refresh_options *opts)
{
	struct errors_hook errors_hook;
	jobreg_refresh_options o = JOBREG_REFRESH_OPTIONS_INIT;
	jr_refresh_scope scope = { NULL, NULL, NULL, NULL };
	struct one_source one;
	jr_job_descs descs;
	int rc;

	if (out)
		*out = NULL;
	if (!st || !snap)
		return jr_error_set(JOBREG_EINVAL, "jobreg_refresh: NULL %s", st ? "snapshot" : "storage");
	rc = jr_options_read(&o, opts, refresh_options_sizes, JOBREG_REFRESH_OPTIONS_VERSION,
	                     "jobreg_refresh_options");
	if (rc < 0)
		return rc;
	if (o.source_type != 0 &&
	    (o.source_type < JOBREG_SOURCE_LOCAL || o.source_type > JOBREG_SOURCE_APP))
		return jr_error_set(JOBREG_EINVAL, "jobreg_refresh_options: unknown source_type %d",
		                    o.source_type);
	one.type = (jobreg_source_t)o.source_type;
	one.name = o.source_name ? o.source_name : "";
	errors_hook.snap = snap;
	errors_hook.source_type = o.source_type ? jobreg_source_type_name(one.type) : NULL;
	errors_hook.source_name = one.name;
	scope.before_commit = store_errors_hook; /* the load errors land with the records */
	scope.hook_ctx = &errors_hook;
	if (o.source_type != 0) {
		scope.contains = record_of_source;
		scope.ctx = &one;
	}
	rc = jr_job_descs_from_snapshot(&descs, snap, o.source_type != 0 ? job_of_source : NULL, &one);
	if (rc < 0)
		return rc;
	rc = jr_refresh_jobs(out, st, descs.items, descs.count, &scope);
	jr_job_descs_free(&descs);
	return rc;
}

/* ---- result getters ------------------------------------------------ */

size_t jobreg_refresh_result_created_count(const jobreg_refresh_result *res)
{
	return res ? res->created_count : 0;
}

const char *jobreg_refresh_result_created(const jobreg_refresh_result *res, size_t i)
{
	return res && i < res->created_count ? res->created[i] : NULL;
}

size_t jobreg_refresh_result_updated_count(const jobreg_refresh_result *res)
{
	return res ? res->updated_count : 0;
}

const char *jobreg_refresh_result_updated(const jobreg_refresh_result *res, size_t i)
{
	return res && i < res->updated_count ? res->updated[i] : NULL;
}

size_t jobreg_refresh_result_uninstalled_count(const jobreg_refresh_result *res)
{
	return res ? res->uninstalled_count : 0;
}

const char *jobreg_refresh_result_uninstalled(const jobreg_refresh_result *res, size_t i)
{
	return res && i < res->uninstalled_count ? res->uninstalled[i] : NULL;
}

size_t jobreg_refresh_result_unchanged(const jobreg_refresh_result *res)
{
	return res ? res->unchanged : 0;
}

size_t jobreg_refresh_result_writes(const jobreg_refresh_result *res)
{
	return res ? res->writes : 0;
}

jobreg_refresh_result *jr_refresh_result_new_empty(void)
{
	return calloc(1, sizeof(jobreg_refresh_result));
}

void jr_refresh_result_add_skipped(jobreg_refresh_result *res, size_t sources,
                                   size_t unchanged_records)
{
	res->skipped += sources;
	res->unchanged += unchanged_records;
}

void jobreg_refresh_result_free(jobreg_refresh_result *res)
{
	size_t i;

	if (!res)
		return;
	for (i = 0; i < res->created_count; i++)
		free(res->created[i]);
	for (i = 0; i < res->updated_count; i++)
		free(res->updated[i]);
	for (i = 0; i < res->uninstalled_count; i++)
		free(res->uninstalled[i]);
	free(res->created);
	free(res->updated);
	free(res->uninstalled);
	free(res);
}
