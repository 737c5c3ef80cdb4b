/* record.h: the job record's layout and fast internal access (internal). */
#ifndef JR_RECORD_H
#define JR_RECORD_H

#include "job_fields.h"
#include "jobreg/records.h"
#include "json.h"

/* JR_SLOT_<FIELD>: a field's slot in the array of its kind (below). */
#define JR_TEXT_SLOT_(F, name, type, from, override, def) JR_IF_TEXT_##type(JR_SLOT_##F, )
#define JR_REAL_SLOT_(F, name, type, from, override, def) JR_IF_REAL_##type(JR_SLOT_##F, )
#define JR_FLAG_SLOT_(F, name, type, from, override, def) JR_IF_BOOL_##type(JR_SLOT_##F, )
enum {
	JR_JOB_FIELDS(JR_TEXT_SLOT_) JR_TEXT_SLOTS
};
enum {
	JR_JOB_FIELDS(JR_REAL_SLOT_) JR_REAL_SLOTS
};
enum {
	JR_JOB_FIELDS(JR_FLAG_SLOT_) JR_FLAG_SLOTS
};
#undef JR_TEXT_SLOT_
#undef JR_REAL_SLOT_
#undef JR_FLAG_SLOT_

/*
 * Values live in one array per kind; a static table maps each field to its
 * slot (both made from JR_JOB_FIELDS). A NULL text slot means the field's
 * default (most records read back have few non-empty texts, and this saves
 * an allocation each).
 */
struct jobreg_record {
	char *text[JR_TEXT_SLOTS];
	double real[JR_REAL_SLOTS];
	unsigned char flag[JR_FLAG_SLOTS];
};

/* A growable array of owned records: also the public jobreg_record_list. */
struct jobreg_record_list {
	jobreg_record **items;
	size_t count, capacity;
};
typedef struct jobreg_record_list jr_records;

/* The SQL backends' columns of the fields, in jobreg_field order: each
 * field's column is its name (src/job_fields.h), quoted. */
extern const char *const jr_record_columns[JR_FIELD_COUNT];

/* 1 when `field` is a known field of kind `kind`. */
int jr_field_is(jobreg_field field, jobreg_field_kind kind);
/* The _override flag of a value field, or -1 when it has none. */
int jr_field_override_of(jobreg_field field);

/* Unchecked access: the caller knows the field's kind. Never NULL. */
const char *jr_record_text(const jobreg_record *rec, jobreg_field field);
/* The source type a record's source_type text names, or 0 for none. */
jobreg_source_t jr_record_source_type(const jobreg_record *rec);
/* The source type called `name` ("local", "git", "app": jobreg_source_type_name()'s), or 0. */
jobreg_source_t jr_source_type_named(const char *name);
int jr_record_flag(const jobreg_record *rec, jobreg_field field);
double jr_record_real(const jobreg_record *rec, jobreg_field field);
void jr_record_set_flag(jobreg_record *rec, jobreg_field field, int value);
void jr_record_set_real(jobreg_record *rec, jobreg_field field, double value);
/* Copy `value` into a text field without the value checks; 0 or ENOMEM. */
int jr_record_set_text(jobreg_record *rec, jobreg_field field, const char *value);

/* A record with the defaults of jobreg_record_new(); NULL when out of memory. */
jobreg_record *jr_record_new(void);
jobreg_record *jr_record_dup(const jobreg_record *rec);
/* 1 when every field is equal. */
int jr_record_equal(const jobreg_record *a, const jobreg_record *b);

/* The identity key "module_name.job_class_name" (class names hold no dot). */
char *jr_record_identity(const jobreg_record *rec);

/* Write the record's JSON object. */
void jr_record_write_json(jr_json *w, const jobreg_record *rec);

/* A fresh random UUID v4 in lower-case text (36 characters + NUL). */
int jr_uuid4(char out[37]);

/* Record arrays. push takes ownership of `rec` (freed on failure too). */
int jr_records_push(jr_records *list, jobreg_record *rec);
void jr_records_clear(jr_records *list);
jr_records *jr_records_new(void);

#endif
