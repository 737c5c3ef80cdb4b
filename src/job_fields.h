/*
 * job_fields.h: the one list of a job record's fields (internal).
 *
 * JR_JOB_FIELDS(X) calls X once per field of a job record, in jobreg_field
 * order. Everything that handles the fields one by one is made from it:
 *
 *   - the record's field table, its slots and defaults, its JSON (record.h,
 *     record.c), and the record columns the SQLite backend reads and writes
 *     (storage_sqlite.c);
 *   - a loaded job's metadata in C: struct jr_job_meta, inside struct
 *     jobreg_job (generation.h) and jr_job_desc (refresh.h);
 *   - the C side of the loader: the keys of the dict that jobreg._loader
 *     hands over for each job, and how each value is copied (loader.c);
 *   - what a refresh copies from a job into its record, and which override
 *     flag protects it (refresh.c).
 *
 * What cannot be made from a C header is checked against it by tests: the
 * public enum (below, at compile time), the author API's job_fields()
 * (tests/python/test_job_fields.py), the binding's cdef and LoadedJob
 * properties (bindings/python/tests/test_job_fields.py), the SQLite schema
 * (tests/c/test_storage_sqlite.c). docs/job-fields.md says how to add one.
 *
 * X(FIELD, name, type, from, override, default)
 *
 *   FIELD     its jobreg_field is JOBREG_FIELD_<FIELD> (include/jobreg/record.h)
 *   name      the field's name: in SPEC 4, JSON and the binding, the SQLite
 *             column, the struct member and the loader's dict key
 *   type      TEXT; BOOL; REAL; LIST (text: a JSON array of strings, a
 *             tuple of str in Python); OBJECT (text: a JSON object)
 *   from      META: read from the job class (Meta, variables) by the
 *             loader, copied into the record by every refresh unless its
 *             override flag is set;
 *             JOB: the job's identity and source, set by every refresh;
 *             RECORD: the record's own (id, installed, enabled, overrides)
 *   override  YES when a <name>_override flag (a RECORD field of type BOOL,
 *             FIELD <FIELD>_OVERRIDE) protects it from refreshes, else NO
 *   default   the value of a new record (jobreg_record_new())
 */
#ifndef JR_JOB_FIELDS_H
#define JR_JOB_FIELDS_H

#include <stddef.h>

#include "jobreg/records.h"

/* clang-format off */
#define JR_JOB_FIELDS(X)                                                                  \
	X(ID,                               id,                               TEXT,   RECORD, NO,  "")      \
	X(MODULE_NAME,                      module_name,                      TEXT,   JOB,    NO,  "")      \
	X(JOB_CLASS_NAME,                   job_class_name,                   TEXT,   JOB,    NO,  "")      \
	X(CLASS_PATH,                       class_path,                       TEXT,   JOB,    NO,  "")      \
	X(SOURCE_TYPE,                      source_type,                      TEXT,   JOB,    NO,  "local") \
	X(SOURCE,                           source,                           TEXT,   JOB,    NO,  "")      \
	X(GROUPING,                         grouping,                         TEXT,   META,   YES, "")      \
	X(NAME,                             name,                             TEXT,   META,   YES, "")      \
	X(DESCRIPTION,                      description,                      TEXT,   META,   YES, "")      \
	X(INSTALLED,                        installed,                        BOOL,   RECORD, NO,  0)       \
	X(ENABLED,                          enabled,                          BOOL,   RECORD, NO,  0)       \
	X(HIDDEN,                           hidden,                           BOOL,   META,   YES, 0)       \
	X(DRYRUN_DEFAULT,                   dryrun_default,                   BOOL,   META,   YES, 0)       \
	X(APPROVAL_REQUIRED,                approval_required,                BOOL,   META,   YES, 0)       \
	X(HAS_SENSITIVE_VARIABLES,          has_sensitive_variables,          BOOL,   META,   YES, 1)       \
	X(SOFT_TIME_LIMIT,                  soft_time_limit,                  REAL,   META,   YES, 0)       \
	X(TIME_LIMIT,                       time_limit,                       REAL,   META,   YES, 0)       \
	X(TASK_QUEUES,                      task_queues,                      LIST,   META,   NO,  "[]")    \
	X(IS_SINGLETON,                     is_singleton,                     BOOL,   META,   YES, 0)       \
	X(SUPPORTS_DRYRUN,                  supports_dryrun,                  BOOL,   META,   NO,  0)       \
	X(VARIABLES,                        variables,                        OBJECT, META,   NO,  "{}")    \
	X(GROUPING_OVERRIDE,                grouping_override,                BOOL,   RECORD, NO,  0)       \
	X(NAME_OVERRIDE,                    name_override,                    BOOL,   RECORD, NO,  0)       \
	X(DESCRIPTION_OVERRIDE,             description_override,             BOOL,   RECORD, NO,  0)       \
	X(HIDDEN_OVERRIDE,                  hidden_override,                  BOOL,   RECORD, NO,  0)       \
	X(DRYRUN_DEFAULT_OVERRIDE,          dryrun_default_override,          BOOL,   RECORD, NO,  0)       \
	X(APPROVAL_REQUIRED_OVERRIDE,       approval_required_override,       BOOL,   RECORD, NO,  0)       \
	X(HAS_SENSITIVE_VARIABLES_OVERRIDE, has_sensitive_variables_override, BOOL,   RECORD, NO,  0)       \
	X(SOFT_TIME_LIMIT_OVERRIDE,         soft_time_limit_override,         BOOL,   RECORD, NO,  0)       \
	X(TIME_LIMIT_OVERRIDE,              time_limit_override,              BOOL,   RECORD, NO,  0)       \
	X(IS_SINGLETON_OVERRIDE,            is_singleton_override,            BOOL,   RECORD, NO,  0)
/* clang-format on */

/* ---- reading the list ---------------------------------------------- */

/* JR_IF_<KIND>_<type>(...): the arguments when a field of `type` is stored
 * as a record's KIND (TEXT, BOOL or REAL), else nothing. */
#define JR_IF_TEXT_TEXT(...) __VA_ARGS__
#define JR_IF_TEXT_LIST(...) __VA_ARGS__
#define JR_IF_TEXT_OBJECT(...) __VA_ARGS__
#define JR_IF_TEXT_BOOL(...)
#define JR_IF_TEXT_REAL(...)
#define JR_IF_BOOL_BOOL(...) __VA_ARGS__
#define JR_IF_BOOL_TEXT(...)
#define JR_IF_BOOL_LIST(...)
#define JR_IF_BOOL_OBJECT(...)
#define JR_IF_BOOL_REAL(...)
#define JR_IF_REAL_REAL(...) __VA_ARGS__
#define JR_IF_REAL_TEXT(...)
#define JR_IF_REAL_LIST(...)
#define JR_IF_REAL_OBJECT(...)
#define JR_IF_REAL_BOOL(...)
/* JR_IF_LIST_<type>(...): the arguments for a LIST field only. */
#define JR_IF_LIST_LIST(...) __VA_ARGS__
#define JR_IF_LIST_TEXT(...)
#define JR_IF_LIST_OBJECT(...)
#define JR_IF_LIST_BOOL(...)
#define JR_IF_LIST_REAL(...)

/* JR_IF_META_<from>(...): the arguments for a META field only. */
#define JR_IF_META_META(...) __VA_ARGS__
#define JR_IF_META_JOB(...)
#define JR_IF_META_RECORD(...)

/* JR_OVERRIDE_<override>(FIELD): the field's _override flag, or -1. */
#define JR_OVERRIDE_YES(F) JR_FIELD_##F##_OVERRIDE
#define JR_OVERRIDE_NO(F) (-1)

/* The types of the list, and the record kind each is stored as. */
enum jr_field_type {
	JR_TYPE_TEXT = 1,
	JR_TYPE_BOOL,
	JR_TYPE_REAL,
	JR_TYPE_LIST,
	JR_TYPE_OBJECT
};
#define JR_KIND_TEXT JOBREG_FIELD_KIND_TEXT
#define JR_KIND_LIST JOBREG_FIELD_KIND_TEXT
#define JR_KIND_OBJECT JOBREG_FIELD_KIND_TEXT
#define JR_KIND_BOOL JOBREG_FIELD_KIND_BOOL
#define JR_KIND_REAL JOBREG_FIELD_KIND_REAL

/* ---- the fields, numbered by the list ------------------------------- */

#define JR_FIELD_ENUM_(F, name, type, from, override, def) JR_FIELD_##F,
/* JR_FIELD_<FIELD>: a field's place in the list; JR_FIELD_COUNT of them. */
enum {
	JR_JOB_FIELDS(JR_FIELD_ENUM_) JR_FIELD_COUNT
};
#undef JR_FIELD_ENUM_

/*
 * The public enum (include/jobreg/record.h) stays written out, with its
 * documentation, as the ABI it is. Every field of the list must be there,
 * under its name, with its place as value: a row added to the list alone
 * does not compile. The list must end where the enum does (its last value
 * is named below: move it when both grow); a value added to the enum alone
 * fails tests/python/test_job_fields.py.
 */
#define JR_FIELD_CHECK_(F, name, type, from, override, def) \
	_Static_assert(JR_FIELD_##F == (int)JOBREG_FIELD_##F,   \
	               "JOBREG_FIELD_" #F " is not its place in JR_JOB_FIELDS");
JR_JOB_FIELDS(JR_FIELD_CHECK_)
#undef JR_FIELD_CHECK_
_Static_assert(JR_FIELD_COUNT == (int)JOBREG_FIELD_IS_SINGLETON_OVERRIDE + 1,
               "the list's last field is the public jobreg_field enum's last value: "
               "append a field to both (include/jobreg/record.h, docs/job-fields.md)");

/* JR_META_<FIELD>: a META field's place among the META fields. */
#define JR_META_ENUM_(F, name, type, from, override, def) JR_IF_META_##from(JR_META_##F, )
enum {
	JR_JOB_FIELDS(JR_META_ENUM_) JR_META_FIELD_COUNT
};
#undef JR_META_ENUM_

/* ---- a job's metadata in C ------------------------------------------ */

#define JR_META_TEXT_MEMBER_(F, name, type, from, override, def) \
	JR_IF_META_##from(JR_IF_TEXT_##type(const char *name;))
#define JR_META_REAL_MEMBER_(F, name, type, from, override, def) \
	JR_IF_META_##from(JR_IF_REAL_##type(double name;))
#define JR_META_BOOL_MEMBER_(F, name, type, from, override, def) \
	JR_IF_META_##from(JR_IF_BOOL_##type(unsigned char name;))

/*
 * One member per META field, named as the field: TEXT as a string, LIST
 * and OBJECT as their JSON text (what a record stores), REAL as a double,
 * BOOL as 0 or 1. Grouped by size, so no padding is wasted.
 */
#define JR_JOB_META_MEMBERS             \
	JR_JOB_FIELDS(JR_META_TEXT_MEMBER_) \
	JR_JOB_FIELDS(JR_META_REAL_MEMBER_) \
	JR_JOB_FIELDS(JR_META_BOOL_MEMBER_)

struct jr_job_meta {
	JR_JOB_META_MEMBERS
};

/*
 * A struct's metadata members: read by field name (job->hidden), or whole
 * (job->meta, to copy it; offsetof(struct jr_job_meta, name) to reach a
 * field from the list). Both views have the same members in the same order.
 */
#define JR_JOB_META              \
	union {                      \
		struct jr_job_meta meta; \
		struct {                 \
			JR_JOB_META_MEMBERS  \
		};                       \
	}

#endif
