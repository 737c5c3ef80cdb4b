/*
 * test_records.c: the record type, its JSON, the backend contract of
 * jobreg/sys/storage.h, and the host's record operations (list, get,
 * enable, override, delete, migrate) over a counting fake backend.
 * No Python: records are made by hand.
 */
#include <math.h>

#include "records_fixture.h"

static const char *const spec_fields[] = {
	"id",
	"module_name",
	"job_class_name",
	"class_path",
	"source_type",
	"source",
	"grouping",
	"name",
	"description",
	"installed",
	"enabled",
	"hidden",
	"dryrun_default",
	"approval_required",
	"has_sensitive_variables",
	"soft_time_limit",
	"time_limit",
	"task_queues",
	"is_singleton",
	"supports_dryrun",
	"variables",
	"grouping_override",
	"name_override",
	"description_override",
	"hidden_override",
	"dryrun_default_override",
	"approval_required_override",
	"has_sensitive_variables_override",
	"soft_time_limit_override",
	"time_limit_override",
	"is_singleton_override",
};
#define SPEC_FIELD_COUNT (sizeof(spec_fields) / sizeof(spec_fields[0]))

static void test_record_fields_are_exactly_those_of_the_spec(void)
{
	size_t f;
	jobreg_field found;

	CHECK_INT(jobreg_record_field_count(), SPEC_FIELD_COUNT);
	for (f = 0; f < SPEC_FIELD_COUNT; f++) {
		CHECK_STR(jobreg_record_field_name((jobreg_field)f), spec_fields[f]);
		CHECK_OK(jobreg_record_field_by_name(&found, spec_fields[f]));
		CHECK_INT(found, f);
	}
	CHECK(jobreg_record_field_name((jobreg_field)SPEC_FIELD_COUNT) == NULL);
	CHECK(jobreg_record_field_name((jobreg_field)-1) == NULL);
	CHECK_INT(jobreg_record_field_by_name(&found, "Name"), JOBREG_ENOTFOUND);
	CHECK_CONTAINS(jobreg_error_last()->message, "\"Name\"");
}

static void test_record_field_kinds(void)
{
	CHECK_INT(jobreg_record_field_kind(JOBREG_FIELD_CLASS_PATH), JOBREG_FIELD_KIND_TEXT);
	CHECK_INT(jobreg_record_field_kind(JOBREG_FIELD_TASK_QUEUES), JOBREG_FIELD_KIND_TEXT);
	CHECK_INT(jobreg_record_field_kind(JOBREG_FIELD_VARIABLES), JOBREG_FIELD_KIND_TEXT);
	CHECK_INT(jobreg_record_field_kind(JOBREG_FIELD_ENABLED), JOBREG_FIELD_KIND_BOOL);
	CHECK_INT(jobreg_record_field_kind(JOBREG_FIELD_NAME_OVERRIDE), JOBREG_FIELD_KIND_BOOL);
	CHECK_INT(jobreg_record_field_kind(JOBREG_FIELD_SOFT_TIME_LIMIT), JOBREG_FIELD_KIND_REAL);
	CHECK_INT(jobreg_record_field_kind(JOBREG_FIELD_TIME_LIMIT), JOBREG_FIELD_KIND_REAL);
	CHECK_INT(jobreg_record_field_kind((jobreg_field)99), 0);
}

static void test_new_record_has_the_documented_defaults(void)
{
	jobreg_record *rec = NULL;

	CHECK_OK(jobreg_record_new(&rec));
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_ID), "");
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_NAME), "");
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_SOURCE_TYPE), "local");
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_TASK_QUEUES), "[]");
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_VARIABLES), "{}");
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_INSTALLED), 0);
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_ENABLED), 0);
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_HAS_SENSITIVE_VARIABLES), 1);
	CHECK(jobreg_record_real(rec, JOBREG_FIELD_TIME_LIMIT) == 0.0);
	jobreg_record_free(rec);
	jobreg_record_free(NULL);
}

static void test_getters_refuse_a_field_of_another_kind(void)
{
	jobreg_record *rec = NULL;

	CHECK_OK(jobreg_record_new(&rec));
	CHECK(jobreg_record_text(rec, JOBREG_FIELD_ENABLED) == NULL);
	CHECK_INT(jobreg_error_last()->code, JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "\"enabled\" is not a text field");
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_NAME), JOBREG_EINVAL);
	CHECK(jobreg_record_real(rec, JOBREG_FIELD_NAME) == 0.0);
	CHECK_INT(jobreg_error_last()->code, JOBREG_EINVAL);
	CHECK_INT(jobreg_record_set_bool(rec, JOBREG_FIELD_TIME_LIMIT, 1), JOBREG_EINVAL);
	CHECK_INT(jobreg_record_set_real(rec, JOBREG_FIELD_HIDDEN, 1.0), JOBREG_EINVAL);
	CHECK_INT(jobreg_record_set_text(rec, (jobreg_field)77, "x"), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "unknown record field 77");
	jobreg_record_free(rec);
}

static void test_set_text_checks_source_type_and_the_json_fields(void)
{
	jobreg_record *rec = NULL;

	CHECK_OK(jobreg_record_new(&rec));
	CHECK_OK(jobreg_record_set_text(rec, JOBREG_FIELD_SOURCE_TYPE, "git"));
	CHECK_INT(jobreg_record_set_text(rec, JOBREG_FIELD_SOURCE_TYPE, "svn"), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "\"svn\" is not local, git or app");
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_SOURCE_TYPE), "git"); /* unchanged */

	CHECK_OK(jobreg_record_set_text(rec, JOBREG_FIELD_TASK_QUEUES, "[\"default\", \"audit\"]"));
	CHECK_INT(jobreg_record_set_text(rec, JOBREG_FIELD_TASK_QUEUES, "[1, 2]"), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "task_queues");
	CHECK_INT(jobreg_record_set_text(rec, JOBREG_FIELD_TASK_QUEUES, "[\"a\""), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "invalid JSON");
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_TASK_QUEUES), "[\"default\", \"audit\"]");

	CHECK_OK(jobreg_record_set_text(rec, JOBREG_FIELD_VARIABLES,
	                                "{\"device\": {\"type\": \"StringVar\", \"max\": 1.5e3, "
	                                "\"ok\": [true, false, null]}}"));
	CHECK_INT(jobreg_record_set_text(rec, JOBREG_FIELD_VARIABLES, "[]"), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "must be a JSON object");
	CHECK_INT(jobreg_record_set_text(rec, JOBREG_FIELD_VARIABLES, "{} {}"), JOBREG_EINVAL);
	CHECK_INT(jobreg_record_set_text(rec, JOBREG_FIELD_VARIABLES, "{\"a\": 01}"), JOBREG_EINVAL);
	CHECK_INT(jobreg_record_set_text(rec, JOBREG_FIELD_NAME, NULL), JOBREG_EINVAL);
	jobreg_record_free(rec);
}

static void test_set_real_refuses_negative_and_non_finite_values(void)
{
	jobreg_record *rec = NULL;

	CHECK_OK(jobreg_record_new(&rec));
	CHECK_OK(jobreg_record_set_real(rec, JOBREG_FIELD_SOFT_TIME_LIMIT, 30.5));
	CHECK_INT(jobreg_record_set_real(rec, JOBREG_FIELD_SOFT_TIME_LIMIT, -1), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "soft_time_limit");
	CHECK_INT(jobreg_record_set_real(rec, JOBREG_FIELD_TIME_LIMIT, NAN), JOBREG_EINVAL);
	CHECK(jobreg_record_real(rec, JOBREG_FIELD_SOFT_TIME_LIMIT) == 30.5);
	jobreg_record_free(rec);
}

static void test_dup_is_a_deep_copy(void)
{
	jobreg_record *rec = make_record("id-1", "git", "repo", "repo.jobs", "A", "Job A", 1, 0);
	jobreg_record *copy = NULL;

	CHECK_OK(jobreg_record_dup(&copy, rec));
	CHECK_OK(jobreg_record_set_text(rec, JOBREG_FIELD_NAME, "changed"));
	CHECK_OK(jobreg_record_set_bool(rec, JOBREG_FIELD_ENABLED, 1));
	jobreg_record_free(rec);
	CHECK_STR(jobreg_record_text(copy, JOBREG_FIELD_NAME), "Job A");
	CHECK_STR(jobreg_record_text(copy, JOBREG_FIELD_SOURCE), "repo");
	CHECK_INT(jobreg_record_bool(copy, JOBREG_FIELD_ENABLED), 0);
	jobreg_record_free(copy);
}

static void test_record_json_has_the_spec_keys_and_json_types(void)
{
	jobreg_record *rec = make_record("id-1", "git", "repo", "repo.jobs", "A", "Say \"hi\"\n\t\x01",
	                                 1, 0);
	char *json = NULL;
	const char *check;

	CHECK_OK(jobreg_record_set_text(rec, JOBREG_FIELD_TASK_QUEUES, "[\"default\",\"audit\"]"));
	CHECK_OK(
		jobreg_record_set_text(rec, JOBREG_FIELD_VARIABLES, "{\"n\":{\"type\":\"IntegerVar\"}}"));
	CHECK_OK(jobreg_record_set_real(rec, JOBREG_FIELD_SOFT_TIME_LIMIT, 30));
	CHECK_OK(jobreg_record_set_real(rec, JOBREG_FIELD_TIME_LIMIT, 0.1));
	CHECK_OK(jobreg_record_to_json(&json, rec));
	CHECK_CONTAINS(json, "\"installed\":true");
	CHECK_CONTAINS(json, "\"enabled\":false");
	CHECK_CONTAINS(json, "\"task_queues\":[\"default\",\"audit\"]");
	CHECK_CONTAINS(json, "\"variables\":{\"n\":{\"type\":\"IntegerVar\"}}");
	CHECK_CONTAINS(json, "\"soft_time_limit\":30,");
	CHECK_CONTAINS(json, "\"time_limit\":0.1,");
	CHECK_CONTAINS(json, "\"name\":\"Say \\\"hi\\\"\\n\\t\\u0001\"");
	/* Python reads it back: every key of SPEC 4, in order, with its type. */
	check = python("import json, sys\n"
	               "d = json.loads(open(sys.argv[1]).read())\n"
	               "print(','.join(d))\n"
	               "assert d['name'] == 'Say \"hi\"\\n\\t\\x01'\n"
	               "assert d['installed'] is True and d['enabled'] is False\n"
	               "assert d['task_queues'] == ['default', 'audit']\n"
	               "assert d['variables'] == {'n': {'type': 'IntegerVar'}}\n"
	               "assert d['soft_time_limit'] == 30 and d['time_limit'] == 0.1\n",
	               jr_write(jr_tmpdir(), "record.json", json));
	CHECK_STR(check, "id,module_name,job_class_name,class_path,source_type,source,grouping,"
	                 "name,description,installed,enabled,hidden,dryrun_default,"
	                 "approval_required,has_sensitive_variables,soft_time_limit,time_limit,"
	                 "task_queues,is_singleton,supports_dryrun,variables,grouping_override,"
	                 "name_override,description_override,hidden_override,"
	                 "dryrun_default_override,approval_required_override,"
	                 "has_sensitive_variables_override,soft_time_limit_override,"
	                 "time_limit_override,is_singleton_override");
	jobreg_free(json);
	jobreg_record_free(rec);
}

/* ---- the backend contract ------------------------------------------ */

static void test_storage_new_refuses_unknown_backend_versions(void)
{
	jobreg_storage_backend t = fake_table();
	jobreg_storage *st = NULL;
	struct fake f;

	memset(&f, 0, sizeof(f));
	t.version = 0;
	CHECK_INT(jobreg_storage_new(&st, &t, &f), JOBREG_EVERSION);
	t.version = JOBREG_STORAGE_BACKEND_VERSION + 1;
	CHECK_INT(jobreg_storage_new(&st, &t, &f), JOBREG_EVERSION);
	CHECK_CONTAINS(jobreg_error_last()->message, "jobreg_storage_backend");
	CHECK(st == NULL);
	CHECK_INT(f.freed, 0); /* on error the caller keeps its payload */
}

static void test_storage_new_names_a_missing_required_callback(void)
{
	jobreg_storage_backend t = fake_table();
	jobreg_storage *st = NULL;
	struct fake f;

	memset(&f, 0, sizeof(f));
	t.read_records = NULL;
	CHECK_INT(jobreg_storage_new(&st, &t, &f), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "\"read_records\"");
	t = fake_table();
	t.delete_record = NULL;
	CHECK_INT(jobreg_storage_new(&st, &t, &f), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "\"delete_record\"");
}

static void test_storage_copies_the_table_and_frees_the_payload_once(void)
{
	jobreg_storage_backend t = fake_table();
	jobreg_storage *st = NULL;
	struct fake f;

	memset(&f, 0, sizeof(f));
	CHECK_OK(jobreg_storage_new(&st, &t, &f));
	memset(&t, 0, sizeof(t)); /* the host may reuse its table */
	CHECK_INT(count_records(st, JOBREG_INSTALLED_ALL), 0);
	CHECK_INT(f.begins, 1);
	CHECK_INT(f.begin_flags & JOBREG_STORAGE_BEGIN_WRITE, 0); /* a list only reads */
	jobreg_storage_free(st);
	CHECK_INT(f.freed, 1);
	fake_clear(&f);
}

static void test_git_state_is_unsupported_without_its_callbacks(void)
{
	struct fake f;
	jobreg_storage *st;
	char *url = NULL;

	memset(&f, 0, sizeof(f));
	st = fake_storage(&f);
	CHECK_INT(jobreg_storage_git_state_get(&url, NULL, NULL, st, "repo"), JOBREG_EUNSUPPORTED);
	CHECK_INT(jobreg_storage_git_state_set(st, "repo", "https://x", "main", "abc"),
	          JOBREG_EUNSUPPORTED);
	CHECK_INT(f.begins, 0);
	jobreg_storage_free(st);
	fake_clear(&f);
}

static int positive_read(jobreg_storage_emit_fn emit, void *emit_payload, void *payload)
{
	(void)emit;
	(void)emit_payload;
	(void)payload;
	return 7;
}

static int silent_read(jobreg_storage_emit_fn emit, void *emit_payload, void *payload)
{
	(void)emit;
	(void)emit_payload;
	(void)payload;
	return JOBREG_ESTORAGE;
}

static void test_backend_failures_become_clear_library_errors(void)
{
	jobreg_storage_backend t = fake_table();
	jobreg_storage *st = NULL;
	jobreg_record_list *list = NULL;
	struct fake f;

	memset(&f, 0, sizeof(f));
	t.read_records = positive_read;
	CHECK_OK(jobreg_storage_new(&st, &t, &f));
	CHECK_INT(jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL), JOBREG_ESTORAGE);
	CHECK_CONTAINS(jobreg_error_last()->message, "read_records failed with code 7");
	CHECK_INT(f.rollbacks, 1);
	jobreg_storage_free(st);

	t.read_records = silent_read;
	CHECK_OK(jobreg_storage_new(&st, &t, &f));
	CHECK_INT(jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL), JOBREG_ESTORAGE);
	CHECK_CONTAINS(jobreg_error_last()->message, "read_records failed");
	jobreg_storage_free(st);

	/* A backend's own message survives the rollback. */
	st = fake_storage(&f);
	f.fail_at = f.calls + 2; /* begin passes, read fails */
	CHECK_INT(jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL), JOBREG_ESTORAGE);
	CHECK_CONTAINS(jobreg_error_last()->message, "(read_records) fails");
	CHECK(list == NULL);
	jobreg_storage_free(st);
	fake_clear(&f);
}

/* ---- host operations ------------------------------------------------- */

/* A fake with four records: two of git source old_repo, one local, one app. */
static jobreg_storage *seeded(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	fake_insert(f, make_record("id-a", "git", "old_repo", "old_repo.jobs", "Alpha", "Alpha", 1, 1));
	fake_insert(f,
	            make_record("id-b", "git", "old_repo", "old_repo.jobs.sub", "Beta", "Beta", 0, 0));
	fake_insert(f, make_record("id-c", "local", "", "cleanup", "Cleanup", "Cleanup", 1, 0));
	fake_insert(f, make_record("id-d", "app", "my_app", "my_app.jobs", "Delta", "Delta", 0, 1));
	return fake_storage(f);
}

static void test_list_filters_on_installed(void)
{
	struct fake f;
	jobreg_storage *st = seeded(&f);
	jobreg_record_list *list = NULL;

	CHECK_INT(count_records(st, JOBREG_INSTALLED_ALL), 4);
	CHECK_OK(jobreg_storage_list(&list, st, JOBREG_INSTALLED_YES));
	CHECK_INT(jobreg_record_list_count(list), 2);
	CHECK_STR(jobreg_record_text(jobreg_record_list_get(list, 0), JOBREG_FIELD_ID), "id-c");
	CHECK_STR(jobreg_record_text(jobreg_record_list_get(list, 1), JOBREG_FIELD_ID), "id-a");
	CHECK(jobreg_record_list_get(list, 2) == NULL);
	jobreg_record_list_free(list);
	CHECK_OK(jobreg_storage_list(&list, st, JOBREG_INSTALLED_NO));
	CHECK_INT(jobreg_record_list_count(list), 2);
	CHECK_STR(jobreg_record_text(jobreg_record_list_get(list, 0), JOBREG_FIELD_ID), "id-d");
	CHECK_STR(jobreg_record_text(jobreg_record_list_get(list, 1), JOBREG_FIELD_ID), "id-b");
	jobreg_record_list_free(list);
	CHECK_INT(jobreg_storage_list(&list, st, (jobreg_installed_filter)9), JOBREG_EINVAL);
	CHECK_INT(f.writes, 0);
	jobreg_storage_free(st);
	fake_clear(&f);
}

static void test_list_is_ordered_by_grouping_then_name(void)
{
	struct fake f;
	jobreg_storage *st;
	jobreg_record_list *list = NULL;
	jobreg_record *rec;

	memset(&f, 0, sizeof(f));
	rec = make_record("1", "local", "", "m", "C", "Zed", 1, 0);
	jobreg_record_set_text(rec, JOBREG_FIELD_GROUPING, "Alpha");
	fake_insert(&f, rec);
	rec = make_record("2", "local", "", "m", "B", "Bee", 1, 0);
	jobreg_record_set_text(rec, JOBREG_FIELD_GROUPING, "Beta");
	fake_insert(&f, rec);
	rec = make_record("3", "local", "", "m", "A", "Ant", 1, 0);
	jobreg_record_set_text(rec, JOBREG_FIELD_GROUPING, "Alpha");
	fake_insert(&f, rec);
	st = fake_storage(&f);
	CHECK_OK(jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL));
	CHECK_STR(jobreg_record_text(jobreg_record_list_get(list, 0), JOBREG_FIELD_NAME), "Ant");
	CHECK_STR(jobreg_record_text(jobreg_record_list_get(list, 1), JOBREG_FIELD_NAME), "Zed");
	CHECK_STR(jobreg_record_text(jobreg_record_list_get(list, 2), JOBREG_FIELD_NAME), "Bee");
	jobreg_record_list_free(list);
	jobreg_storage_free(st);
	fake_clear(&f);
}

static void test_list_to_json_is_an_array_of_records(void)
{
	struct fake f;
	jobreg_storage *st = seeded(&f);
	jobreg_record_list *list = NULL;
	char *json = NULL;

	CHECK_OK(jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL));
	CHECK_OK(jobreg_record_list_to_json(&json, list));
	CHECK_STR(python("import json, sys\n"
	                 "d = json.loads(open(sys.argv[1]).read())\n"
	                 "print(len(d), d[0]['class_path'], d[1]['enabled'], d[3]['enabled'])\n",
	                 jr_write(jr_tmpdir(), "list.json", json)),
	          "4 cleanup.Cleanup True False");
	jobreg_free(json);
	jobreg_record_list_free(list);
	jobreg_record_list_free(NULL);
	jobreg_storage_free(st);
	fake_clear(&f);
}

static void test_get_finds_a_record_by_id_or_class_path(void)
{
	struct fake f;
	jobreg_storage *st = seeded(&f);
	jobreg_record *rec = NULL;

	CHECK_OK(jobreg_storage_get(&rec, st, "id-b"));
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_CLASS_PATH), "old_repo.jobs.sub.Beta");
	jobreg_record_free(rec);
	rec = NULL;
	CHECK_OK(jobreg_storage_get(&rec, st, "cleanup.Cleanup"));
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_ID), "id-c");
	jobreg_record_free(rec);
	CHECK_INT(jobreg_storage_get(&rec, st, "nope.Nope"), JOBREG_ENOTFOUND);
	CHECK_CONTAINS(jobreg_error_last()->message, "\"nope.Nope\"");
	jobreg_storage_free(st);
	fake_clear(&f);
}

static void test_set_enabled_writes_only_a_change(void)
{
	struct fake f;
	jobreg_storage *st = seeded(&f);

	fake_reset_counts(&f);
	CHECK_OK(jobreg_storage_set_enabled(st, "id-c", 1));
	CHECK_INT(f.writes, 1);
	CHECK(f.begin_flags & JOBREG_STORAGE_BEGIN_WRITE);
	CHECK_INT(bool_of(st, "cleanup.Cleanup", JOBREG_FIELD_ENABLED), 1);
	CHECK_OK(jobreg_storage_set_enabled(st, "id-c", 5)); /* already enabled */
	CHECK_INT(f.writes, 1);
	CHECK_OK(jobreg_storage_set_enabled(st, "id-c", 0));
	CHECK_INT(f.writes, 2);
	CHECK_INT(bool_of(st, "cleanup.Cleanup", JOBREG_FIELD_ENABLED), 0);
	CHECK_INT(jobreg_storage_set_enabled(st, "id-zz", 1), JOBREG_ENOTFOUND);
	CHECK_CONTAINS(jobreg_error_last()->message, "\"id-zz\"");
	CHECK_INT(f.rollbacks, 1);
	jobreg_storage_free(st);
	fake_clear(&f);
}

static void test_override_sets_the_value_and_its_flag(void)
{
	struct fake f;
	jobreg_storage *st = seeded(&f);
	jobreg_record *rec = NULL;

	CHECK_OK(jobreg_storage_override_text(st, "id-c", JOBREG_FIELD_DESCRIPTION, "Ours"));
	CHECK_OK(jobreg_storage_override_bool(st, "id-c", JOBREG_FIELD_HIDDEN, 1));
	CHECK_OK(jobreg_storage_override_real(st, "id-c", JOBREG_FIELD_TIME_LIMIT, 90));
	CHECK_OK(jobreg_storage_get(&rec, st, "id-c"));
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_DESCRIPTION), "Ours");
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_DESCRIPTION_OVERRIDE), 1);
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_HIDDEN), 1);
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_HIDDEN_OVERRIDE), 1);
	CHECK(jobreg_record_real(rec, JOBREG_FIELD_TIME_LIMIT) == 90);
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_TIME_LIMIT_OVERRIDE), 1);
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_NAME_OVERRIDE), 0);
	jobreg_record_free(rec);
	rec = NULL;
	CHECK_OK(jobreg_storage_override_clear(st, "id-c", JOBREG_FIELD_HIDDEN));
	CHECK_OK(jobreg_storage_get(&rec, st, "id-c"));
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_HIDDEN_OVERRIDE), 0);
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_HIDDEN), 1); /* until the next refresh */
	jobreg_record_free(rec);
	jobreg_storage_free(st);
	fake_clear(&f);
}

static void test_override_refuses_fields_that_cannot_be_overridden(void)
{
	struct fake f;
	jobreg_storage *st = seeded(&f);

	fake_reset_counts(&f);
	CHECK_INT(jobreg_storage_override_bool(st, "id-c", JOBREG_FIELD_ENABLED, 1), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "\"enabled\" cannot be overridden");
	/* The fields that can, named from the field list (src/job_fields.h). */
	CHECK_CONTAINS(jobreg_error_last()->message,
	               "(these can: grouping, name, description, hidden, dryrun_default, "
	               "approval_required, has_sensitive_variables, soft_time_limit, time_limit, "
	               "is_singleton)");
	CHECK_INT(jobreg_storage_override_text(st, "id-c", JOBREG_FIELD_CLASS_PATH, "x.Y"),
	          JOBREG_EINVAL);
	CHECK_INT(jobreg_storage_override_bool(st, "id-c", JOBREG_FIELD_NAME, 1), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "\"name\" is not a bool field");
	CHECK_INT(jobreg_storage_override_real(st, "id-c", JOBREG_FIELD_TIME_LIMIT, -5), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "time_limit");
	CHECK_INT(jobreg_storage_override_clear(st, "id-c", JOBREG_FIELD_INSTALLED), JOBREG_EINVAL);
	CHECK_INT(f.writes, 0);
	jobreg_storage_free(st);
	fake_clear(&f);
}

static void test_override_of_a_name_refuses_another_record_s_name(void)
{
	struct fake f;
	jobreg_storage *st = seeded(&f);

	CHECK_INT(jobreg_storage_override_text(st, "id-c", JOBREG_FIELD_NAME, "Beta"), JOBREG_EEXISTS);
	CHECK_CONTAINS(jobreg_error_last()->message, "id-b");
	CHECK_STR(text_of(st, "cleanup.Cleanup", JOBREG_FIELD_NAME), "Cleanup");
	CHECK_OK(jobreg_storage_override_text(st, "id-c", JOBREG_FIELD_NAME, "Cleanup")); /* its own */
	CHECK_INT(bool_of(st, "cleanup.Cleanup", JOBREG_FIELD_NAME_OVERRIDE), 1);
	jobreg_storage_free(st);
	fake_clear(&f);
}

static void test_delete_refuses_an_installed_record_unless_forced(void)
{
	struct fake f;
	jobreg_storage *st = seeded(&f);

	CHECK_INT(jobreg_storage_delete(st, "id-a", 0), JOBREG_ESTATE);
	CHECK_CONTAINS(jobreg_error_last()->message, "old_repo.jobs.Alpha");
	CHECK_CONTAINS(jobreg_error_last()->message, "installed");
	CHECK_INT(f.deletes, 0);
	CHECK_INT(count_records(st, JOBREG_INSTALLED_ALL), 4);
	CHECK_OK(jobreg_storage_delete(st, "id-b", 0)); /* not installed: fine */
	CHECK_OK(jobreg_storage_delete(st, "id-a", 1)); /* forced */
	CHECK_INT(count_records(st, JOBREG_INSTALLED_ALL), 2);
	CHECK_INT(jobreg_storage_delete(st, "id-a", 1), JOBREG_ENOTFOUND);
	jobreg_storage_free(st);
	fake_clear(&f);
}

static void test_migrate_moves_a_source_keeping_ids_and_enabled(void)
{
	struct fake f;
	jobreg_storage *st = seeded(&f);
	jobreg_record *rec = NULL;
	size_t moved = 0;

	fake_reset_counts(&f);
	CHECK_OK(jobreg_storage_migrate_source(&moved, st, "old_repo", "new_repo"));
	CHECK_INT(moved, 2);
	CHECK_INT(f.writes, 2);
	CHECK_INT(f.commits, 1);
	CHECK_OK(jobreg_storage_get(&rec, st, "id-a"));
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_SOURCE), "new_repo");
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_SOURCE_TYPE), "git");
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_MODULE_NAME), "new_repo.jobs");
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_CLASS_PATH), "new_repo.jobs.Alpha");
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_NAME), "Alpha");
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_ENABLED), 1);
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_INSTALLED), 1);
	jobreg_record_free(rec);
	CHECK_STR(text_of(st, "id-b", JOBREG_FIELD_CLASS_PATH), "new_repo.jobs.sub.Beta");
	CHECK_STR(text_of(st, "id-c", JOBREG_FIELD_CLASS_PATH), "cleanup.Cleanup"); /* untouched */
	jobreg_storage_free(st);
	fake_clear(&f);
}

static void test_migrate_refuses_an_identity_the_new_source_already_has(void)
{
	struct fake f;
	jobreg_storage *st = seeded(&f);
	char *before, *after;

	jobreg_storage_free(st);
	fake_insert(&f, make_record("id-n", "git", "new_repo", "new_repo.jobs.sub", "Beta", "Beta 2", 1,
	                            0));
	st = fake_storage(&f);
	before = dump_storage(st, 1);
	fake_reset_counts(&f);
	CHECK_INT(jobreg_storage_migrate_source(NULL, st, "old_repo", "new_repo"), JOBREG_EEXISTS);
	CHECK_CONTAINS(jobreg_error_last()->message, "id-n");
	CHECK_CONTAINS(jobreg_error_last()->message, "new_repo.jobs.sub.Beta");
	CHECK_INT(f.writes, 0);
	after = dump_storage(st, 1);
	CHECK_STR(after, before);
	free(before);
	free(after);
	jobreg_storage_free(st);
	fake_clear(&f);
}

static void test_migrate_refuses_bad_or_unknown_source_names(void)
{
	struct fake f;
	jobreg_storage *st = seeded(&f);

	CHECK_INT(jobreg_storage_migrate_source(NULL, st, "nobody", "new_repo"), JOBREG_ENOTFOUND);
	CHECK_CONTAINS(jobreg_error_last()->message, "\"nobody\"");
	CHECK_INT(jobreg_storage_migrate_source(NULL, st, "old_repo", "my-repo"), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "\"my-repo\"");
	CHECK_INT(jobreg_storage_migrate_source(NULL, st, "", "x"), JOBREG_EINVAL);
	CHECK_INT(jobreg_storage_migrate_source(NULL, st, "old_repo", "old_repo"), JOBREG_EINVAL);
	CHECK_INT(jobreg_storage_migrate_source(NULL, st, "old_repo", "class"), JOBREG_EINVAL);
	CHECK_INT(f.writes, 0);
	jobreg_storage_free(st);
	fake_clear(&f);
}

static void test_every_host_operation_leaves_nothing_behind_when_the_backend_fails(void)
{
	struct fake f;
	jobreg_storage *st = seeded(&f);
	char *before = dump_storage(st, 1), *after;
	long n;
	int rc, failures = 0;

	/* Each operation, failing at each of its calls in turn. */
	for (n = 1; n <= 6; n++) {
		int op;
		for (op = 0; op < 4; op++) {
			fake_reset_counts(&f);
			f.fail_at = n;
			switch (op) {
			case 0:
				rc = jobreg_storage_set_enabled(st, "id-c", 1);
				break;
			case 1:
				rc = jobreg_storage_override_text(st, "id-c", JOBREG_FIELD_NAME, "X");
				break;
			case 2:
				rc = jobreg_storage_delete(st, "id-b", 0);
				break;
			default:
				rc = jobreg_storage_migrate_source(NULL, st, "old_repo", "new_repo");
				break;
			}
			if (rc == 0) {
				/* Fewer calls than n: it succeeded; undo by reseeding. */
				jobreg_storage_free(st);
				fake_clear(&f);
				st = seeded(&f);
				continue;
			}
			failures++;
			CHECK_INT(rc, JOBREG_ESTORAGE);
			CHECK(!f.in_transaction);
			f.fail_at = 0;
			after = dump_storage(st, 1);
			CHECK_STR(after, before);
			free(after);
		}
	}
	CHECK(failures >= 12); /* begin, read and write/commit of each operation */
	free(before);
	jobreg_storage_free(st);
	fake_clear(&f);
}

static const struct jr_test tests[] = {
	{ "test_record_fields_are_exactly_those_of_the_spec",
	  test_record_fields_are_exactly_those_of_the_spec },
	{ "test_record_field_kinds", test_record_field_kinds },
	{ "test_new_record_has_the_documented_defaults", test_new_record_has_the_documented_defaults },
	{ "test_getters_refuse_a_field_of_another_kind", test_getters_refuse_a_field_of_another_kind },
	{ "test_set_text_checks_source_type_and_the_json_fields",
	  test_set_text_checks_source_type_and_the_json_fields },
	{ "test_set_real_refuses_negative_and_non_finite_values",
	  test_set_real_refuses_negative_and_non_finite_values },
	{ "test_dup_is_a_deep_copy", test_dup_is_a_deep_copy },
	{ "test_record_json_has_the_spec_keys_and_json_types",
	  test_record_json_has_the_spec_keys_and_json_types },
	{ "test_storage_new_refuses_unknown_backend_versions",
	  test_storage_new_refuses_unknown_backend_versions },
	{ "test_storage_new_names_a_missing_required_callback",
	  test_storage_new_names_a_missing_required_callback },
	{ "test_storage_copies_the_table_and_frees_the_payload_once",
	  test_storage_copies_the_table_and_frees_the_payload_once },
	{ "test_git_state_is_unsupported_without_its_callbacks",
	  test_git_state_is_unsupported_without_its_callbacks },
	{ "test_backend_failures_become_clear_library_errors",
	  test_backend_failures_become_clear_library_errors },
	{ "test_list_filters_on_installed", test_list_filters_on_installed },
	{ "test_list_is_ordered_by_grouping_then_name", test_list_is_ordered_by_grouping_then_name },
	{ "test_list_to_json_is_an_array_of_records", test_list_to_json_is_an_array_of_records },
	{ "test_get_finds_a_record_by_id_or_class_path", test_get_finds_a_record_by_id_or_class_path },
	{ "test_set_enabled_writes_only_a_change", test_set_enabled_writes_only_a_change },
	{ "test_override_sets_the_value_and_its_flag", test_override_sets_the_value_and_its_flag },
	{ "test_override_refuses_fields_that_cannot_be_overridden",
	  test_override_refuses_fields_that_cannot_be_overridden },
	{ "test_override_of_a_name_refuses_another_record_s_name",
	  test_override_of_a_name_refuses_another_record_s_name },
	{ "test_delete_refuses_an_installed_record_unless_forced",
	  test_delete_refuses_an_installed_record_unless_forced },
	{ "test_migrate_moves_a_source_keeping_ids_and_enabled",
	  test_migrate_moves_a_source_keeping_ids_and_enabled },
	{ "test_migrate_refuses_an_identity_the_new_source_already_has",
	  test_migrate_refuses_an_identity_the_new_source_already_has },
	{ "test_migrate_refuses_bad_or_unknown_source_names",
	  test_migrate_refuses_bad_or_unknown_source_names },
	{ "test_every_host_operation_leaves_nothing_behind_when_the_backend_fails",
	  test_every_host_operation_leaves_nothing_behind_when_the_backend_fails },
};

JR_TEST_MAIN(tests)
