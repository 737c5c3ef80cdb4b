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
#include "jobreg/record.h"
#include "jobreg/source.h"
#include "record.h"
#include "util.h"

const char *const jr_record_columns[JR_FIELD_COUNT] = {
#define COLUMN(F, name, type, from, override, def) "\"" #name "\"",
	JR_JOB_FIELDS(COLUMN)
#undef COLUMN
};

/* Every field as JR_JOB_FIELDS (job_fields.h) lists it. */
static const struct field_info {
	const char *name;
	jobreg_field_kind kind;
	unsigned char type;      /* enum jr_field_type */
	unsigned char slot;      /* index in the array of its kind */
	signed char override_of; /* for a value field: its _override flag, or -1 */
} fields[JR_FIELD_COUNT] = {
#define FIELD_INFO(F, name, type, from, override, def) \
	[JR_FIELD_##                                       \
		F] = { #name, JR_KIND_##type, JR_TYPE_##type, JR_SLOT_##F, JR_OVERRIDE_##override(F) },
	JR_JOB_FIELDS(FIELD_INFO)
#undef FIELD_INFO
};

/* Texts by default: "" for most (shared constants, never freed). */
static const char *const default_texts[JR_FIELD_COUNT] = {
#define DEFAULT_TEXT(F, name, type, from, override, def) JR_IF_TEXT_##type([JR_FIELD_##F] = def, )
	JR_JOB_FIELDS(DEFAULT_TEXT)
#undef DEFAULT_TEXT
};

/* A new record: every flag and real at its default, every text slot NULL. */
static const jobreg_record blank = {
#define DEFAULT_FLAG(F, name, type, from, override, def) JR_IF_BOOL_##type([JR_SLOT_##F] = def, )
#define DEFAULT_REAL(F, name, type, from, override, def) JR_IF_REAL_##type([JR_SLOT_##F] = def, )
	.flag = { JR_JOB_FIELDS(DEFAULT_FLAG) },
	.real = { JR_JOB_FIELDS(DEFAULT_REAL) },
#undef DEFAULT_FLAG
#undef DEFAULT_REAL
};

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
	return default_texts[field];
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
	jobreg_record *rec = malloc(sizeof(*rec));

	if (!rec) {
		jr_error_oom();
		return NULL;
	}
	*rec = blank;
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
			/* The JSON fields are embedded; checked again here, as a
			 * record's texts may have come from anywhere in the library
			 * (jr_record_set_text() does not check), so that the output
			 * is JSON whatever they hold: a value that is no JSON text is
			 * written as a string. */
			if ((fields[f].type == JR_TYPE_LIST || fields[f].type == JR_TYPE_OBJECT) &&
			    jr_json_check(jr_record_text(rec, f), NULL, NULL, NULL, 0) == 0)
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
	const char *name = fields[field].name;
	char why[128];
	int kind, elements;

	/* Texts are UTF-8 (SPEC 4, record.h): JSON and every host expect it. */
	if (!jr_utf8_valid(value, strlen(value))) {
		char *shown = jr_escape(value);

		if (!shown)
			return JOBREG_ENOMEM;
		jr_error_set(JOBREG_EINVAL, "record field \"%s\": the value is not valid UTF-8: %.200s",
		             name, shown);
		free(shown);
		return JOBREG_EINVAL;
	}
	if (field == JOBREG_FIELD_SOURCE_TYPE) {
		if (!jr_source_type_named(value))
			return jr_error_set(JOBREG_EINVAL,
			                    "record field \"source_type\": \"%.100s\" is not local, git or app",
			                    value);
		return 0;
	}
	switch (fields[field].type) {
	case JR_TYPE_LIST:
		if (jr_json_check(value, &kind, &elements, why, sizeof(why)) < 0)
			return jr_error_set(JOBREG_EINVAL, "record field \"%s\": invalid JSON (%s): %.100s",
			                    name, why, value);
		if (kind != JR_JSON_ARRAY || (elements & ~JR_JSON_STRING))
			return jr_error_set(JOBREG_EINVAL,
			                    "record field \"%s\" must be a JSON array of strings, not %.100s",
			                    name, value);
		return 0;
	case JR_TYPE_OBJECT:
		if (jr_json_check(value, &kind, NULL, why, sizeof(why)) < 0)
			return jr_error_set(JOBREG_EINVAL, "record field \"%s\": invalid JSON (%s): %.100s",
			                    name, why, value);
		if (kind != JR_JSON_OBJECT)
			return jr_error_set(JOBREG_EINVAL,
			                    "record field \"%s\" must be a JSON object, not %.100s", name,
			                    value);
		return 0;
	default:
		return 0;
	}
}

jobreg_source_t jr_source_type_named(const char *name)
{
	jobreg_source_t type;

	for (type = JOBREG_SOURCE_LOCAL; type <= JOBREG_SOURCE_APP; type++)
		if (strcmp(jobreg_source_type_name(type), name) == 0)
			return type;
	return 0;
}

jobreg_source_t jr_record_source_type(const jobreg_record *rec)
{
	return jr_source_type_named(jr_record_text(rec, JOBREG_FIELD_SOURCE_TYPE));
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
