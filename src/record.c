/* record.c: the job record: fields, getters and setters, JSON, ids, lists. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "error.h"
#include "record.h"
#include "util.h"

static const struct field_info {
	const char *name;
	jobreg_field_kind kind;
	unsigned char slot; /* index in the array of its kind */
	signed char override_of; /* for a value field: its _override flag, or -1 */
} fields[JR_FIELD_COUNT] = {
	[JOBREG_FIELD_ID] = { "id", JOBREG_FIELD_KIND_TEXT, 0, -1 },
	[JOBREG_FIELD_MODULE_NAME] = { "module_name", JOBREG_FIELD_KIND_TEXT, 1, -1 },
	[JOBREG_FIELD_JOB_CLASS_NAME] = { "job_class_name", JOBREG_FIELD_KIND_TEXT, 2, -1 },
	[JOBREG_FIELD_CLASS_PATH] = { "class_path", JOBREG_FIELD_KIND_TEXT, 3, -1 },
	[JOBREG_FIELD_SOURCE_TYPE] = { "source_type", JOBREG_FIELD_KIND_TEXT, 4, -1 },
	[JOBREG_FIELD_SOURCE] = { "source", JOBREG_FIELD_KIND_TEXT, 5, -1 },
	[JOBREG_FIELD_GROUPING] = { "grouping", JOBREG_FIELD_KIND_TEXT, 6,
	                            JOBREG_FIELD_GROUPING_OVERRIDE },
	[JOBREG_FIELD_NAME] = { "name", JOBREG_FIELD_KIND_TEXT, 7, JOBREG_FIELD_NAME_OVERRIDE },
	[JOBREG_FIELD_DESCRIPTION] = { "description", JOBREG_FIELD_KIND_TEXT, 8,
	                               JOBREG_FIELD_DESCRIPTION_OVERRIDE },
	[JOBREG_FIELD_INSTALLED] = { "installed", JOBREG_FIELD_KIND_BOOL, 0, -1 },
	[JOBREG_FIELD_ENABLED] = { "enabled", JOBREG_FIELD_KIND_BOOL, 1, -1 },
	[JOBREG_FIELD_HIDDEN] = { "hidden", JOBREG_FIELD_KIND_BOOL, 2, JOBREG_FIELD_HIDDEN_OVERRIDE },
	[JOBREG_FIELD_DRYRUN_DEFAULT] = { "dryrun_default", JOBREG_FIELD_KIND_BOOL, 3,
	                                  JOBREG_FIELD_DRYRUN_DEFAULT_OVERRIDE },
	[JOBREG_FIELD_APPROVAL_REQUIRED] = { "approval_required", JOBREG_FIELD_KIND_BOOL, 4,
	                                     JOBREG_FIELD_APPROVAL_REQUIRED_OVERRIDE },
	[JOBREG_FIELD_HAS_SENSITIVE_VARIABLES] = { "has_sensitive_variables",
	                                           JOBREG_FIELD_KIND_BOOL, 5,
	                                           JOBREG_FIELD_HAS_SENSITIVE_VARIABLES_OVERRIDE },
	[JOBREG_FIELD_SOFT_TIME_LIMIT] = { "soft_time_limit", JOBREG_FIELD_KIND_REAL, 0,
	                                   JOBREG_FIELD_SOFT_TIME_LIMIT_OVERRIDE },
	[JOBREG_FIELD_TIME_LIMIT] = { "time_limit", JOBREG_FIELD_KIND_REAL, 1,
	                              JOBREG_FIELD_TIME_LIMIT_OVERRIDE },
	[JOBREG_FIELD_TASK_QUEUES] = { "task_queues", JOBREG_FIELD_KIND_TEXT, 9, -1 },
	[JOBREG_FIELD_IS_SINGLETON] = { "is_singleton", JOBREG_FIELD_KIND_BOOL, 6,
	                                JOBREG_FIELD_IS_SINGLETON_OVERRIDE },
	[JOBREG_FIELD_SUPPORTS_DRYRUN] = { "supports_dryrun", JOBREG_FIELD_KIND_BOOL, 7, -1 },
	[JOBREG_FIELD_VARIABLES] = { "variables", JOBREG_FIELD_KIND_TEXT, 10, -1 },
	[JOBREG_FIELD_GROUPING_OVERRIDE] = { "grouping_override", JOBREG_FIELD_KIND_BOOL, 8, -1 },
	[JOBREG_FIELD_NAME_OVERRIDE] = { "name_override", JOBREG_FIELD_KIND_BOOL, 9, -1 },
	[JOBREG_FIELD_DESCRIPTION_OVERRIDE] = { "description_override", JOBREG_FIELD_KIND_BOOL, 10, -1 },
	[JOBREG_FIELD_HIDDEN_OVERRIDE] = { "hidden_override", JOBREG_FIELD_KIND_BOOL, 11, -1 },
	[JOBREG_FIELD_DRYRUN_DEFAULT_OVERRIDE] = { "dryrun_default_override",
	                                           JOBREG_FIELD_KIND_BOOL, 12, -1 },
	[JOBREG_FIELD_APPROVAL_REQUIRED_OVERRIDE] = { "approval_required_override",
	                                              JOBREG_FIELD_KIND_BOOL, 13, -1 },
	[JOBREG_FIELD_HAS_SENSITIVE_VARIABLES_OVERRIDE] = { "has_sensitive_variables_override",
	                                                    JOBREG_FIELD_KIND_BOOL, 14, -1 },
	[JOBREG_FIELD_SOFT_TIME_LIMIT_OVERRIDE] = { "soft_time_limit_override",
	                                            JOBREG_FIELD_KIND_BOOL, 15, -1 },
	[JOBREG_FIELD_TIME_LIMIT_OVERRIDE] = { "time_limit_override", JOBREG_FIELD_KIND_BOOL, 16, -1 },
	[JOBREG_FIELD_IS_SINGLETON_OVERRIDE] = { "is_singleton_override", JOBREG_FIELD_KIND_BOOL, 17, -1 },
};

/* Texts whose default is not "": shared constants, never freed. */
static const char default_source_type[] = "local";
static const char default_task_queues[] = "[]";
static const char default_variables[] = "{}";

static int known(jobreg_field field)
{
	return (int)field >= 0 && (int)field < JR_FIELD_COUNT;
}

int jr_field_is(jobreg_field field, jobreg_field_kind kind)
{
	return known(field) && fields[field].kind == kind;
}

int jr_field_override_of(jobreg_field field)
{
	return known(field) ? fields[field].override_of : -1;
}

/* ---- unchecked access -------------------------------------------- */

static const char *default_text(jobreg_field field)
{
	switch (field) {
	case JOBREG_FIELD_SOURCE_TYPE: return default_source_type;
	case JOBREG_FIELD_TASK_QUEUES: return default_task_queues;
	case JOBREG_FIELD_VARIABLES: return default_variables;
	default: return "";
	}
}

const char *jr_record_text(const jobreg_record *rec, jobreg_field field)
{
	const char *s = rec->text[fields[field].slot];
	return s ? s : default_text(field);
}

int jr_record_flag(const jobreg_record *rec, jobreg_field field)
{
	return rec->flag[fields[field].slot];
}

double jr_record_real(const jobreg_record *rec, jobreg_field field)
{
	return rec->real[fields[field].slot];
}

void jr_record_set_flag(jobreg_record *rec, jobreg_field field, int value)
{
	rec->flag[fields[field].slot] = value ? 1 : 0;
}

void jr_record_set_real(jobreg_record *rec, jobreg_field field, double value)
{
	rec->real[fields[field].slot] = value;
}

int jr_record_set_text(jobreg_record *rec, jobreg_field field, const char *value)
{
	char **slot = &rec->text[fields[field].slot];
	char *copy = NULL;

	/* The default value is kept as NULL: no allocation. */
	if (strcmp(value, default_text(field)) != 0) {
		copy = jr_strdup(value);
		if (!copy)
			return JOBREG_ENOMEM;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

jobreg_record *jr_record_new(void)
{
	jobreg_record *rec = calloc(1, sizeof(*rec));

	if (!rec) {
		jr_error_oom();
		return NULL;
	}
	jr_record_set_flag(rec, JOBREG_FIELD_HAS_SENSITIVE_VARIABLES, 1);
	return rec;
}

jobreg_record *jr_record_dup(const jobreg_record *rec)
{
	jobreg_record *copy = malloc(sizeof(*copy));
	size_t i;

	if (!copy) {
		jr_error_oom();
		return NULL;
	}
	*copy = *rec;
	for (i = 0; i < JR_TEXT_SLOTS; i++) {
		if (rec->text[i] && !(copy->text[i] = jr_strdup(rec->text[i]))) {
			while (i-- > 0)
				free(copy->text[i]);
			free(copy);
			return NULL;
		}
	}
	return copy;
}

int jr_record_equal(const jobreg_record *a, const jobreg_record *b)
{
	int f;

	for (f = 0; f < JR_FIELD_COUNT; f++) {
		switch (fields[f].kind) {
		case JOBREG_FIELD_KIND_TEXT:
			if (strcmp(jr_record_text(a, f), jr_record_text(b, f)) != 0)
				return 0;
			break;
		case JOBREG_FIELD_KIND_BOOL:
			if (jr_record_flag(a, f) != jr_record_flag(b, f))
				return 0;
			break;
		case JOBREG_FIELD_KIND_REAL:
			if (jr_record_real(a, f) != jr_record_real(b, f))
				return 0;
			break;
		}
	}
	return 1;
}

char *jr_record_identity(const jobreg_record *rec)
{
	return jr_asprintf("%s.%s", jr_record_text(rec, JOBREG_FIELD_MODULE_NAME),
	                   jr_record_text(rec, JOBREG_FIELD_JOB_CLASS_NAME));
}

void jr_record_write_json(jr_json *w, const jobreg_record *rec)
{
	int f;

	jr_json_begin_object(w);
	for (f = 0; f < JR_FIELD_COUNT; f++) {
		jr_json_key(w, fields[f].name);
		switch (fields[f].kind) {
		case JOBREG_FIELD_KIND_TEXT:
			/* The JSON fields were checked when set: embed them. */
			if (f == JOBREG_FIELD_TASK_QUEUES || f == JOBREG_FIELD_VARIABLES)
				jr_json_raw(w, jr_record_text(rec, f));
			else
				jr_json_string(w, jr_record_text(rec, f));
			break;
		case JOBREG_FIELD_KIND_BOOL:
			jr_json_bool(w, jr_record_flag(rec, f));
			break;
		case JOBREG_FIELD_KIND_REAL:
			jr_json_number(w, jr_record_real(rec, f));
			break;
		}
	}
	jr_json_end_object(w);
}

int jr_uuid4(char out[37])
{
	unsigned char b[16];
	size_t got = 0;
	int i;
	char *p = out;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof(b)) { /* no getrandom(): an old kernel */
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read(fd, b, sizeof(b)) != (ssize_t)sizeof(b)) {
			if (fd >= 0)
				close(fd);
			return jr_error_set(JOBREG_EIO, "cannot read random bytes for a record id: %s",
			                    strerror(errno));
		}
		close(fd);
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		/* A table, not sprintf: a cold sync makes thousands of ids. */
		*p++ = "0123456789abcdef"[b[i] >> 4];
		*p++ = "0123456789abcdef"[b[i] & 0x0f];
	}
	*p = '\0';
	return 0;
}

/* ---- record arrays ----------------------------------------------- */

int jr_records_push(jr_records *list, jobreg_record *rec)
{
	if (list->count == list->capacity) {
		size_t cap = list->capacity ? list->capacity * 2 : 16;
		jobreg_record **items = realloc(list->items, cap * sizeof(*items));
		if (!items) {
			jobreg_record_free(rec);
			return jr_error_oom();
		}
		list->items = items;
		list->capacity = cap;
	}
	list->items[list->count++] = rec;
	return 0;
}

void jr_records_clear(jr_records *list)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		jobreg_record_free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = list->capacity = 0;
}

jr_records *jr_records_new(void)
{
	jr_records *list = calloc(1, sizeof(*list));
	if (!list)
		jr_error_oom();
	return list;
}

/* ---- public API -------------------------------------------------- */

int jobreg_record_new(jobreg_record **out)
{
	if (!out)
		return jr_error_set(JOBREG_EINVAL, "jobreg_record_new: out is NULL");
	*out = jr_record_new();
	return *out ? 0 : JOBREG_ENOMEM;
}

int jobreg_record_dup(jobreg_record **out, const jobreg_record *rec)
{
	if (!out || !rec)
		return jr_error_set(JOBREG_EINVAL, "jobreg_record_dup: NULL argument");
	*out = jr_record_dup(rec);
	return *out ? 0 : JOBREG_ENOMEM;
}

void jobreg_record_free(jobreg_record *rec)
{
	size_t i;

	if (!rec)
		return;
	for (i = 0; i < JR_TEXT_SLOTS; i++)
		free(rec->text[i]);
	free(rec);
}

size_t jobreg_record_field_count(void)
{
	return JR_FIELD_COUNT;
}

const char *jobreg_record_field_name(jobreg_field field)
{
	return known(field) ? fields[field].name : NULL;
}

jobreg_field_kind jobreg_record_field_kind(jobreg_field field)
{
	return known(field) ? fields[field].kind : (jobreg_field_kind)0;
}

int jobreg_record_field_by_name(jobreg_field *out, const char *name)
{
	int f;

	if (!out || !name)
		return jr_error_set(JOBREG_EINVAL, "jobreg_record_field_by_name: NULL argument");
	for (f = 0; f < JR_FIELD_COUNT; f++) {
		if (strcmp(fields[f].name, name) == 0) {
			*out = (jobreg_field)f;
			return 0;
		}
	}
	return jr_error_set(JOBREG_ENOTFOUND, "a record has no field \"%s\"", name);
}

static int wrong_kind(const char *function, jobreg_field field, const char *kind)
{
	if (!known(field))
		return jr_error_set(JOBREG_EINVAL, "%s: unknown record field %d", function, (int)field);
	return jr_error_set(JOBREG_EINVAL, "%s: record field \"%s\" is not a %s field", function,
	                    fields[field].name, kind);
}

const char *jobreg_record_text(const jobreg_record *rec, jobreg_field field)
{
	if (!rec) {
		jr_error_set(JOBREG_EINVAL, "jobreg_record_text: record is NULL");
		return NULL;
	}
	if (!jr_field_is(field, JOBREG_FIELD_KIND_TEXT)) {
		wrong_kind("jobreg_record_text", field, "text");
		return NULL;
	}
	return jr_record_text(rec, field);
}

int jobreg_record_bool(const jobreg_record *rec, jobreg_field field)
{
	if (!rec)
		return jr_error_set(JOBREG_EINVAL, "jobreg_record_bool: record is NULL");
	if (!jr_field_is(field, JOBREG_FIELD_KIND_BOOL))
		return wrong_kind("jobreg_record_bool", field, "bool");
	return jr_record_flag(rec, field);
}

double jobreg_record_real(const jobreg_record *rec, jobreg_field field)
{
	if (!rec) {
		jr_error_set(JOBREG_EINVAL, "jobreg_record_real: record is NULL");
		return 0.0;
	}
	if (!jr_field_is(field, JOBREG_FIELD_KIND_REAL)) {
		wrong_kind("jobreg_record_real", field, "real");
		return 0.0;
	}
	return jr_record_real(rec, field);
}

/* The checks of jobreg_record_set_text(): 0 or JOBREG_EINVAL with a message. */
static int check_text(jobreg_field field, const char *value)
{
	char why[128];
	int kind, elements;

	switch (field) {
	case JOBREG_FIELD_SOURCE_TYPE:
		if (strcmp(value, "local") && strcmp(value, "git") && strcmp(value, "app"))
			return jr_error_set(JOBREG_EINVAL,
			                    "record field \"source_type\": \"%.100s\" is not local, git or app",
			                    value);
		return 0;
	case JOBREG_FIELD_TASK_QUEUES:
		if (jr_json_check(value, &kind, &elements, why, sizeof(why)) < 0)
			return jr_error_set(JOBREG_EINVAL, "record field \"task_queues\": invalid JSON (%s): %.100s",
			                    why, value);
		if (kind != JR_JSON_ARRAY || (elements & ~JR_JSON_STRING))
			return jr_error_set(JOBREG_EINVAL,
			                    "record field \"task_queues\" must be a JSON array of strings, not %.100s",
			                    value);
		return 0;
	case JOBREG_FIELD_VARIABLES:
		if (jr_json_check(value, &kind, NULL, why, sizeof(why)) < 0)
			return jr_error_set(JOBREG_EINVAL, "record field \"variables\": invalid JSON (%s): %.100s",
			                    why, value);
		if (kind != JR_JSON_OBJECT)
			return jr_error_set(JOBREG_EINVAL,
			                    "record field \"variables\" must be a JSON object, not %.100s", value);
		return 0;
	default:
		return 0;
	}
}

int jobreg_record_set_text(jobreg_record *rec, jobreg_field field, const char *value)
{
	int rc;

	if (!rec || !value)
		return jr_error_set(JOBREG_EINVAL, "jobreg_record_set_text: NULL %s",
		                    rec ? "value" : "record");
	if (!jr_field_is(field, JOBREG_FIELD_KIND_TEXT))
		return wrong_kind("jobreg_record_set_text", field, "text");
	if ((rc = check_text(field, value)) < 0)
		return rc;
	return jr_record_set_text(rec, field, value);
}

int jobreg_record_set_bool(jobreg_record *rec, jobreg_field field, int value)
{
	if (!rec)
		return jr_error_set(JOBREG_EINVAL, "jobreg_record_set_bool: record is NULL");
	if (!jr_field_is(field, JOBREG_FIELD_KIND_BOOL))
		return wrong_kind("jobreg_record_set_bool", field, "bool");
	jr_record_set_flag(rec, field, value);
	return 0;
}

int jobreg_record_set_real(jobreg_record *rec, jobreg_field field, double value)
{
	if (!rec)
		return jr_error_set(JOBREG_EINVAL, "jobreg_record_set_real: record is NULL");
	if (!jr_field_is(field, JOBREG_FIELD_KIND_REAL))
		return wrong_kind("jobreg_record_set_real", field, "real");
	if (!isfinite(value) || value < 0)
		return jr_error_set(JOBREG_EINVAL,
		                    "record field \"%s\" must be a finite number >= 0, not %g",
		                    fields[field].name, value);
	jr_record_set_real(rec, field, value);
	return 0;
}

int jobreg_record_to_json(char **out, const jobreg_record *rec)
{
	jr_buf b = JR_BUF_INIT;
	jr_json w;
	int rc;

	if (!out || !rec)
		return jr_error_set(JOBREG_EINVAL, "jobreg_record_to_json: NULL argument");
	jr_json_init(&w, &b);
	jr_record_write_json(&w, rec);
	if ((rc = jr_json_status(&w)) < 0) {
		jr_buf_free(&b);
		return rc;
	}
	*out = jr_buf_detach(&b);
	return *out ? 0 : JOBREG_ENOMEM;
}

size_t jobreg_record_list_count(const jobreg_record_list *list)
{
	return list ? list->count : 0;
}

const jobreg_record *jobreg_record_list_get(const jobreg_record_list *list, size_t i)
{
	return list && i < list->count ? list->items[i] : NULL;
}

int jobreg_record_list_to_json(char **out, const jobreg_record_list *list)
{
	jr_buf b = JR_BUF_INIT;
	jr_json w;
	size_t i;
	int rc;

	if (!out || !list)
		return jr_error_set(JOBREG_EINVAL, "jobreg_record_list_to_json: NULL argument");
	jr_json_init(&w, &b);
	jr_json_begin_array(&w);
	for (i = 0; i < list->count; i++)
		jr_record_write_json(&w, list->items[i]);
	jr_json_end_array(&w);
	if ((rc = jr_json_status(&w)) < 0) {
		jr_buf_free(&b);
		return rc;
	}
	*out = jr_buf_detach(&b);
	return *out ? 0 : JOBREG_ENOMEM;
}

void jobreg_record_list_free(jobreg_record_list *list)
{
	if (!list)
		return;
	jr_records_clear(list);
	free(list);
}
