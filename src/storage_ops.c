/*
 * storage_ops.c: what hosts do with stored records (jobreg/storage_ops.h):
 * list, get, enable, override, delete, and migrate a renamed source's
 * records. Each call is one transaction of the backend; the ones that
 * change something take the write lock before they read, so concurrent
 * callers never lose an update.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jobreg/storage_ops.h"
#include "names.h"
#include "options.h"
#include "record.h"
#include "storage_internal.h"
#include "strmap.h"
#include "util.h"

static const size_t filter_sizes[] = {
	JR_SIZE_THROUGH(jobreg_record_filter, limit), /* version 1 */
};

int jobreg_record_filter_init(jobreg_record_filter *filter, unsigned int version)
{
	static const jobreg_record_filter defaults = JOBREG_RECORD_FILTER_INIT;

	return jr_options_init(filter, &defaults, filter_sizes, JOBREG_RECORD_FILTER_VERSION, version,
	                       "jobreg_record_filter");
}

/* The caller's filter, of any version, as this library's; checked. */
static int read_filter(jobreg_record_filter *f, const jobreg_record_filter *given)
{
	int rc;

	jobreg_record_filter_init(f, JOBREG_RECORD_FILTER_VERSION);
	rc = jr_options_read(f, given, filter_sizes, JOBREG_RECORD_FILTER_VERSION,
	                     "jobreg_record_filter");
	if (rc < 0)
		return rc;
	f->version = JOBREG_RECORD_FILTER_VERSION;
	if (f->source_type && strcmp(f->source_type, "local") && strcmp(f->source_type, "git") &&
	    strcmp(f->source_type, "app")) {
		char *shown = jr_escape(f->source_type);
		if (!shown)
			return JOBREG_ENOMEM;
		jr_error_set(JOBREG_EINVAL,
		             "jobreg_record_filter: source_type \"%s\" is not \"local\", \"git\" or "
		             "\"app\" (NULL: any)",
		             shown);
		free(shown);
		return JOBREG_EINVAL;
	}
	if (f->installed != JOBREG_INSTALLED_ALL && f->installed != JOBREG_INSTALLED_YES &&
	    f->installed != JOBREG_INSTALLED_NO)
		return jr_error_set(JOBREG_EINVAL,
		                    "jobreg_record_filter: installed is %d, not one of "
		                    "JOBREG_INSTALLED_ALL, _YES, _NO",
		                    (int)f->installed);
	if (f->enabled < -1 || f->enabled > 1)
		return jr_error_set(JOBREG_EINVAL,
		                    "jobreg_record_filter: enabled is %d, not 1, 0 or -1 (both)",
		                    f->enabled);
	return 0;
}

/* The records `f` selects, in a read-only transaction of their own. */
static int list_records(jr_records *out, jobreg_storage *st, const jobreg_record_filter *f)
{
	int rc;

	if ((rc = jr_storage_begin(st, 0)) < 0)
		return rc;
	rc = jr_storage_list(out, st, f);
	rc = rc < 0 ? jr_storage_rollback(st, rc) : jr_storage_commit(st);
	if (rc < 0)
		jr_records_clear(out);
	return rc;
}

static long find_by(const jr_records *all, jobreg_field field, const char *value)
{
	size_t i;

	for (i = 0; i < all->count; i++)
		if (strcmp(jr_record_text(all->items[i], field), value) == 0)
			return (long)i;
	return -1;
}

int jobreg_storage_list_filtered(jobreg_record_list **out, jobreg_storage *st,
                                 const jobreg_record_filter *filter)
{
	jobreg_record_filter f;
	jr_records *list;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !st)
		return jr_error_set(JOBREG_EINVAL, "jobreg_storage_list_filtered: NULL %s",
		                    out ? "storage" : "out");
	if ((rc = read_filter(&f, filter)) < 0)
		return rc;
	if (!(list = jr_records_new()))
		return JOBREG_ENOMEM;
	if ((rc = list_records(list, st, &f)) < 0) {
		jobreg_record_list_free(list);
		return rc;
	}
	*out = list;
	return 0;
}

int jobreg_storage_list(jobreg_record_list **out, jobreg_storage *st, jobreg_installed_filter which)
{
	jobreg_record_filter f = JOBREG_RECORD_FILTER_INIT;

	if (!out || !st)
		return jr_error_set(JOBREG_EINVAL, "jobreg_storage_list: NULL %s", out ? "storage" : "out");
	if (which != JOBREG_INSTALLED_ALL && which != JOBREG_INSTALLED_YES &&
	    which != JOBREG_INSTALLED_NO)
		return jr_error_set(JOBREG_EINVAL, "jobreg_storage_list: unknown filter %d", (int)which);
	f.installed = which;
	return jobreg_storage_list_filtered(out, st, &f);
}

int jobreg_storage_get(jobreg_record **out, jobreg_storage *st, const char *ref)
{
	int rc;

	if (out)
		*out = NULL;
	if (!out || !st || !ref)
		return jr_error_set(JOBREG_EINVAL, "jobreg_storage_get: NULL argument");
	if ((rc = jr_storage_begin(st, 0)) < 0)
		return rc;
	rc = jr_storage_get_by_id(out, st, ref);
	if (rc == JOBREG_ENOTFOUND)
		rc = jr_storage_get_by_class_path(out, st, ref);
	if (rc == JOBREG_ENOTFOUND)
		rc = jr_error_set(JOBREG_ENOTFOUND, "no job record has the id or class path \"%s\"", ref);
	rc = rc < 0 ? jr_storage_rollback(st, rc) : jr_storage_commit(st);
	if (rc < 0) {
		jobreg_record_free(*out);
		*out = NULL;
	}
	return rc;
}

/*
 * Change the record `id` in one write transaction: `change` edits it in
 * place (with every record at hand, for checks) and says whether it
 * changed; only then is it written.
 */
typedef int (*change_fn)(jobreg_record *rec, const jr_records *all, int *changed, void *ctx);

static int change_record(jobreg_storage *st, const char *id, change_fn change, void *ctx,
                         int need_all)
{
	jr_records all = { NULL, 0, 0 };
	jobreg_record *rec = NULL;
	int rc, changed = 0;
	long at;

	if ((rc = jr_storage_begin(st, JOBREG_STORAGE_BEGIN_WRITE)) < 0)
		return rc;
	if (need_all) {
		rc = jr_storage_read_all(&all, st);
		if (rc == 0 && (at = find_by(&all, JOBREG_FIELD_ID, id)) >= 0)
			rec = all.items[at];
		else if (rc == 0)
			rc = JOBREG_ENOTFOUND;
	} else {
		/* Only this record: an index lookup with a version 3 backend. */
		rc = jr_storage_get_by_id(&rec, st, id);
	}
	if (rc == JOBREG_ENOTFOUND)
		rc = jr_error_set(JOBREG_ENOTFOUND, "no job record has the id \"%s\"", id);
	if (rc == 0)
		rc = change(rec, &all, &changed, ctx);
	if (rc == 0 && changed)
		rc = jr_storage_write(st, rec);
	rc = rc < 0 ? jr_storage_rollback(st, rc) : jr_storage_commit(st);
	if (!need_all)
		jobreg_record_free(rec);
	jr_records_clear(&all);
	return rc;
}

static int change_enabled(jobreg_record *rec, const jr_records *all, int *changed, void *ctx)
{
	int enabled = *(int *)ctx;

	(void)all;
	*changed = jr_record_flag(rec, JOBREG_FIELD_ENABLED) != enabled;
	jr_record_set_flag(rec, JOBREG_FIELD_ENABLED, enabled);
	return 0;
}

int jobreg_storage_set_enabled(jobreg_storage *st, const char *id, int enabled)
{
	int value = enabled ? 1 : 0;

	if (!st || !id)
		return jr_error_set(JOBREG_EINVAL, "jobreg_storage_set_enabled: NULL %s",
		                    st ? "id" : "storage");
	return change_record(st, id, change_enabled, &value, 0);
}

/* ---- overrides ----------------------------------------------------- */

struct override {
	jobreg_field field;
	jobreg_field_kind kind;
	const char *text;
	int flag;
	double real;
	int clear; /* clear the _override flag instead */
};

static int check_overridable(const char *function, jobreg_field field, jobreg_field_kind kind)
{
	const char *name = jobreg_record_field_name(field);

	if (!name)
		return jr_error_set(JOBREG_EINVAL, "%s: unknown record field %d", function, (int)field);
	if (jr_field_override_of(field) < 0) {
		char these[512] = "";
		size_t len = 0;
		int f;

		for (f = 0; f < JR_FIELD_COUNT; f++)
			if (jr_field_override_of((jobreg_field)f) >= 0 && len < sizeof(these))
				len += (size_t)snprintf(these + len, sizeof(these) - len, "%s%s", len ? ", " : "",
				                        jobreg_record_field_name((jobreg_field)f));
		return jr_error_set(JOBREG_EINVAL,
		                    "%s: record field \"%s\" cannot be overridden (these can: %s)",
		                    function, name, these);
	}
	if (kind && jobreg_record_field_kind(field) != kind)
		return jr_error_set(JOBREG_EINVAL, "%s: record field \"%s\" is not a %s field", function,
		                    name,
		                    kind == JOBREG_FIELD_KIND_TEXT   ? "text"
		                    : kind == JOBREG_FIELD_KIND_BOOL ? "bool"
		                                                     : "real");
	return 0;
}

static int change_override(jobreg_record *rec, const jr_records *all, int *changed, void *ctx)
{
	const struct override *o = ctx;
	jobreg_field flag = (jobreg_field)jr_field_override_of(o->field);
	jobreg_record *after = jr_record_dup(rec);
	int rc = 0;
	size_t i;

	if (!after)
		return JOBREG_ENOMEM;
	if (o->clear) {
		jr_record_set_flag(after, flag, 0);
	} else {
		switch (o->kind) {
		case JOBREG_FIELD_KIND_TEXT:
			rc = jobreg_record_set_text(after, o->field, o->text);
			break;
		case JOBREG_FIELD_KIND_BOOL:
			rc = jobreg_record_set_bool(after, o->field, o->flag);
			break;
		case JOBREG_FIELD_KIND_REAL:
			rc = jobreg_record_set_real(after, o->field, o->real);
			break;
		}
		jr_record_set_flag(after, flag, 1);
	}
	/* Names are unique among records (SPEC 4). */
	if (rc == 0 && !o->clear && o->field == JOBREG_FIELD_NAME) {
		for (i = 0; i < all->count; i++) {
			const jobreg_record *other = all->items[i];
			if (other != rec && strcmp(jr_record_text(other, JOBREG_FIELD_NAME), o->text) == 0) {
				rc = jr_error_set(JOBREG_EEXISTS, "the name \"%s\" is taken by job record %s (%s)",
				                  o->text, jr_record_text(other, JOBREG_FIELD_ID),
				                  jr_record_text(other, JOBREG_FIELD_CLASS_PATH));
				break;
			}
		}
	}
	if (rc == 0) {
		*changed = !jr_record_equal(rec, after);
		/* Swap the contents: `rec` stays the list's pointer. */
		jobreg_record tmp = *rec;
		*rec = *after;
		*after = tmp;
	}
	jobreg_record_free(after);
	return rc;
}

static int override(const char *function, jobreg_storage *st, const char *id, struct override *o)
{
	int rc;

	if (!st || !id)
		return jr_error_set(JOBREG_EINVAL, "%s: NULL %s", function, st ? "id" : "storage");
	if ((rc = check_overridable(function, o->field, o->clear ? 0 : o->kind)) < 0)
		return rc;
	if (!o->clear && o->kind == JOBREG_FIELD_KIND_TEXT && !o->text)
		return jr_error_set(JOBREG_EINVAL, "%s: value is NULL", function);
	/* Only a new name is checked against every other record. */
	return change_record(st, id, change_override, o, !o->clear && o->field == JOBREG_FIELD_NAME);
}

int jobreg_storage_override_text(jobreg_storage *st, const char *id, jobreg_field field,
                                 const char *value)
{
	struct override o = { field, JOBREG_FIELD_KIND_TEXT, value, 0, 0.0, 0 };
	return override("jobreg_storage_override_text", st, id, &o);
}

int jobreg_storage_override_bool(jobreg_storage *st, const char *id, jobreg_field field, int value)
{
	struct override o = { field, JOBREG_FIELD_KIND_BOOL, NULL, value, 0.0, 0 };
	return override("jobreg_storage_override_bool", st, id, &o);
}

int jobreg_storage_override_real(jobreg_storage *st, const char *id, jobreg_field field,
                                 double value)
{
	struct override o = { field, JOBREG_FIELD_KIND_REAL, NULL, 0, value, 0 };
	return override("jobreg_storage_override_real", st, id, &o);
}

int jobreg_storage_override_clear(jobreg_storage *st, const char *id, jobreg_field field)
{
	struct override o = { field, (jobreg_field_kind)0, NULL, 0, 0.0, 1 };
	return override("jobreg_storage_override_clear", st, id, &o);
}

/* ---- delete -------------------------------------------------------- */

int jobreg_storage_delete(jobreg_storage *st, const char *id, int force)
{
	jobreg_record *rec = NULL;
	int rc;

	if (!st || !id)
		return jr_error_set(JOBREG_EINVAL, "jobreg_storage_delete: NULL %s", st ? "id" : "storage");
	if ((rc = jr_storage_begin(st, JOBREG_STORAGE_BEGIN_WRITE)) < 0)
		return rc;
	rc = jr_storage_get_by_id(&rec, st, id);
	if (rc == JOBREG_ENOTFOUND) {
		rc = jr_error_set(JOBREG_ENOTFOUND, "no job record has the id \"%s\"", id);
	} else if (rc == 0 && jr_record_flag(rec, JOBREG_FIELD_INSTALLED) && !force) {
		rc = jr_error_set(JOBREG_ESTATE,
		                  "job record %s (%s) is installed: its job is loaded, so the next "
		                  "refresh would create it again; delete it with force to do it anyway",
		                  id, jr_record_text(rec, JOBREG_FIELD_CLASS_PATH));
	} else if (rc == 0) {
		rc = jr_storage_delete(st, id);
	}
	rc = rc < 0 ? jr_storage_rollback(st, rc) : jr_storage_commit(st);
	jobreg_record_free(rec);
	return rc;
}

/* ---- migrate ------------------------------------------------------- */

/* `module` with its leading component(s) `old` replaced by `new`; NULL if not under `old`. */
static char *rebase_module(const char *module, const char *old, const char *new_name, int *oom)
{
	size_t n = strlen(old);
	char *out;

	*oom = 0;
	if (strncmp(module, old, n) != 0 || (module[n] != '\0' && module[n] != '.'))
		return NULL;
	out = jr_asprintf("%s%s", new_name, module + n);
	if (!out)
		*oom = 1;
	return out;
}

static int migrate(jr_records *all, jobreg_storage *st, const char *old_name, const char *new_name,
                   size_t *moved)
{
	jr_strmap identities;
	char **keys = calloc(all->count + 1, sizeof(char *));
	unsigned char *touched = calloc(all->count + 1, 1);
	size_t i;
	int rc = 0;

	*moved = 0;
	if (!keys || !touched || jr_strmap_init(&identities, all->count) < 0) {
		free(keys);
		free(touched);
		return jr_error_oom();
	}
	for (i = 0; i < all->count && rc == 0; i++) {
		struct jr_strmap_slot *slot;
		if (!(keys[i] = jr_record_identity(all->items[i]))) {
			rc = JOBREG_ENOMEM;
			break;
		}
		slot = jr_strmap_slot(&identities, keys[i]);
		if (!slot->key) {
			slot->key = keys[i];
			slot->value = all->items[i];
			jr_strmap_added(&identities);
		}
	}
	/* Plan and check everything before the first write. */
	for (i = 0; i < all->count && rc == 0; i++) {
		jobreg_record *rec = all->items[i];
		const jobreg_record *holder;
		char *module, *identity;
		int oom;

		if (strcmp(jr_record_text(rec, JOBREG_FIELD_SOURCE), old_name) != 0 ||
		    jr_record_source_type(rec) == JOBREG_SOURCE_LOCAL)
			continue;
		module = rebase_module(jr_record_text(rec, JOBREG_FIELD_MODULE_NAME), old_name, new_name,
		                       &oom);
		if (oom) {
			rc = JOBREG_ENOMEM;
			break;
		}
		if (!module && !(module = jr_strdup(jr_record_text(rec, JOBREG_FIELD_MODULE_NAME)))) {
			rc = JOBREG_ENOMEM;
			break;
		}
		identity = jr_asprintf("%s.%s", module, jr_record_text(rec, JOBREG_FIELD_JOB_CLASS_NAME));
		if (!identity) {
			free(module);
			rc = JOBREG_ENOMEM;
			break;
		}
		holder = jr_strmap_get(&identities, identity);
		if (holder && holder != rec) {
			rc = jr_error_set(JOBREG_EEXISTS,
			                  "cannot migrate source \"%s\" to \"%s\": job record %s already holds "
			                  "%s (source %s \"%s\"); delete it first",
			                  old_name, new_name, jr_record_text(holder, JOBREG_FIELD_ID), identity,
			                  jr_record_text(holder, JOBREG_FIELD_SOURCE_TYPE),
			                  jr_record_text(holder, JOBREG_FIELD_SOURCE));
		}
		if (rc == 0)
			rc = jr_record_set_text(rec, JOBREG_FIELD_MODULE_NAME, module);
		if (rc == 0)
			rc = jr_record_set_text(rec, JOBREG_FIELD_CLASS_PATH, identity);
		if (rc == 0)
			rc = jr_record_set_text(rec, JOBREG_FIELD_SOURCE, new_name);
		free(module);
		free(identity);
		touched[i] = 1;
		(*moved)++;
	}
	if (rc == 0 && *moved == 0)
		rc = jr_error_set(JOBREG_ENOTFOUND, "no job record belongs to a git or app source \"%s\"",
		                  old_name);
	for (i = 0; i < all->count && rc == 0; i++)
		if (touched[i])
			rc = jr_storage_write(st, all->items[i]);
	for (i = 0; i < all->count; i++)
		free(keys[i]);
	free(keys);
	free(touched);
	jr_strmap_free(&identities);
	return rc;
}

int jobreg_storage_migrate_source(size_t *migrated, jobreg_storage *st, const char *old_name,
                                  const char *new_name)
{
	jr_records all = { NULL, 0, 0 };
	size_t moved = 0;
	int rc;

	if (migrated)
		*migrated = 0;
	if (!st || !old_name || !new_name)
		return jr_error_set(JOBREG_EINVAL, "jobreg_storage_migrate_source: NULL argument");
	if (!*old_name || !*new_name)
		return jr_error_set(JOBREG_EINVAL,
		                    "migrate source: a jobs root (source \"\") cannot be migrated");
	if (!jr_is_dotted_name(old_name) || !jr_is_dotted_name(new_name)) {
		char *shown = jr_escape(jr_is_dotted_name(old_name) ? new_name : old_name);

		if (!shown)
			return JOBREG_ENOMEM;
		jr_error_set(JOBREG_EINVAL, "migrate source: \"%s\" is not a Python module name", shown);
		free(shown);
		return JOBREG_EINVAL;
	}
	if (strcmp(old_name, new_name) == 0)
		return jr_error_set(JOBREG_EINVAL, "migrate source: old and new name are both \"%s\"",
		                    old_name);
	if ((rc = jr_storage_begin(st, JOBREG_STORAGE_BEGIN_WRITE)) < 0)
		return rc;
	rc = jr_storage_read_all(&all, st);
	if (rc == 0)
		rc = migrate(&all, st, old_name, new_name, &moved);
	rc = rc < 0 ? jr_storage_rollback(st, rc) : jr_storage_commit(st);
	jr_records_clear(&all);
	if (rc == 0 && migrated)
		*migrated = moved;
	return rc;
}

/* ---- retiring a source ------------------------------------------------ */

/* Inside a write transaction: the source's records not installed, its
 * load errors and sync state gone. */
static int retire(size_t *retired, jobreg_storage *st, const jobreg_record_filter *f)
{
	jr_records mine = { NULL, 0, 0 };
	size_t i;
	int rc = jr_storage_list(&mine, st, f);

	for (i = 0; rc == 0 && i < mine.count; i++) {
		jr_record_set_flag(mine.items[i], JOBREG_FIELD_INSTALLED, 0);
		if ((rc = jr_storage_write(st, mine.items[i])) == 0)
			(*retired)++;
	}
	jr_records_clear(&mine);
	if (rc == 0)
		rc = jr_storage_load_errors_replace(st, f->source_type, f->source_name, NULL, 0);
	if (rc == 0 && jr_storage_keeps_source_state(st))
		rc = jr_storage_source_state_write(st, f->source_type, f->source_name, NULL);
	return rc;
}

int jobreg_storage_retire_source(size_t *retired, jobreg_storage *st, const char *source_type,
                                 const char *source_name)
{
	jobreg_record_filter given = JOBREG_RECORD_FILTER_INIT, f;
	size_t count = 0;
	int rc;

	if (retired)
		*retired = 0;
	if (!st || !source_type || !source_name)
		return jr_error_set(JOBREG_EINVAL, "jobreg_storage_retire_source: NULL %s",
		                    !st           ? "storage"
		                    : source_type ? "source_name"
		                                  : "source_type");
	given.source_type = source_type;
	given.source_name = source_name;
	given.installed = JOBREG_INSTALLED_YES;
	if ((rc = read_filter(&f, &given)) < 0) /* checks the source type */
		return rc;
	if ((rc = jr_storage_begin(st, JOBREG_STORAGE_BEGIN_WRITE)) < 0)
		return rc;
	rc = retire(&count, st, &f);
	rc = rc < 0 ? jr_storage_rollback(st, rc) : jr_storage_commit(st);
	if (rc == 0 && retired)
		*retired = count;
	return rc;
}

/* ---- stored load errors ---------------------------------------------- */

struct jobreg_load_error_list {
	jr_load_error_rows rows;
};

static int compare_rows(const void *pa, const void *pb)
{
	const jobreg_load_error_row *a = pa, *b = pb;
	int c = strcmp(a->source_type, b->source_type);

	if (c == 0)
		c = strcmp(a->source_name, b->source_name);
	return c;
}

/* Sort by source, keeping each source's own order (qsort is not stable). */
static void sort_rows(jr_load_error_rows *rows)
{
	size_t i, j;

	/* Insertion sort: stable, and the rows of a source arrive together. */
	for (i = 1; i < rows->count; i++) {
		jobreg_load_error_row row = rows->items[i];
		for (j = i; j > 0 && compare_rows(&rows->items[j - 1], &row) > 0; j--)
			rows->items[j] = rows->items[j - 1];
		rows->items[j] = row;
	}
}

/* Keep the rows `f` selects, then its page. */
static void filter_rows(jr_load_error_rows *rows, const jobreg_record_filter *f)
{
	size_t i, kept = 0, matched = 0;

	for (i = 0; i < rows->count; i++) {
		jobreg_load_error_row *r = &rows->items[i];
		int keep = (!f->source_type || strcmp(r->source_type, f->source_type) == 0) &&
		           (!f->source_name || strcmp(r->source_name, f->source_name) == 0);
		if (keep && matched++ < f->offset)
			keep = 0;
		if (keep && f->limit && kept == f->limit)
			keep = 0;
		if (keep)
			rows->items[kept++] = *r;
		else
			free((char *)r->source_type);
	}
	rows->count = kept;
}

int jobreg_storage_load_errors(jobreg_load_error_list **out, jobreg_storage *st,
                               const jobreg_record_filter *filter)
{
	jobreg_load_error_list *list;
	jobreg_record_filter f;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !st)
		return jr_error_set(JOBREG_EINVAL, "jobreg_storage_load_errors: NULL %s",
		                    out ? "storage" : "out");
	if ((rc = read_filter(&f, filter)) < 0)
		return rc;
	if (f.installed != JOBREG_INSTALLED_ALL)
		return jr_error_set(JOBREG_EINVAL,
		                    "jobreg_storage_load_errors: filter field installed is %d; load "
		                    "errors have none (keep JOBREG_INSTALLED_ALL)",
		                    (int)f.installed);
	if (f.enabled != -1)
		return jr_error_set(JOBREG_EINVAL,
		                    "jobreg_storage_load_errors: filter field enabled is %d; load "
		                    "errors have none (keep -1)",
		                    f.enabled);
	if (!(list = calloc(1, sizeof(*list))))
		return jr_error_oom();
	if ((rc = jr_storage_begin(st, 0)) == 0) {
		/* A name alone narrows nothing at the backend: filtered below. */
		rc = jr_storage_load_errors_read(&list->rows, st, f.source_type,
		                                 f.source_type ? f.source_name : NULL);
		rc = rc < 0 ? jr_storage_rollback(st, rc) : jr_storage_commit(st);
	}
	if (rc < 0) {
		jobreg_load_error_list_free(list);
		return rc;
	}
	sort_rows(&list->rows);
	filter_rows(&list->rows, &f);
	*out = list;
	return 0;
}

size_t jobreg_load_error_list_count(const jobreg_load_error_list *list)
{
	return list ? list->rows.count : 0;
}

static const jobreg_load_error_row *row_at(const jobreg_load_error_list *list, size_t i)
{
	return list && i < list->rows.count ? &list->rows.items[i] : NULL;
}

#define ROW_TEXT(field)                                                                      \
	const char *jobreg_load_error_list_##field(const jobreg_load_error_list *list, size_t i) \
	{                                                                                        \
		const jobreg_load_error_row *r = row_at(list, i);                                    \
		return r ? r->field : NULL;                                                          \
	}
ROW_TEXT(source_type)
ROW_TEXT(module)
ROW_TEXT(file)
ROW_TEXT(type)
ROW_TEXT(message)
ROW_TEXT(traceback)
ROW_TEXT(when)
#undef ROW_TEXT

const char *jobreg_load_error_list_source(const jobreg_load_error_list *list, size_t i)
{
	const jobreg_load_error_row *r = row_at(list, i);
	return r ? r->source_name : NULL;
}

int jobreg_load_error_list_line(const jobreg_load_error_list *list, size_t i)
{
	const jobreg_load_error_row *r = row_at(list, i);
	return r ? r->line : 0;
}

void jobreg_load_error_list_free(jobreg_load_error_list *list)
{
	if (!list)
		return;
	jr_load_error_rows_clear(&list->rows);
	free(list);
}
