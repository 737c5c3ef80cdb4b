/*
 * test_internal_refresh.c: the refresh rules of SPEC 4, driven directly
 * through src/refresh.h on hand-made job descriptions and an in-memory
 * storage: no Python, no registry, no load (test_refresh.c checks the same
 * rules end to end, from a loaded jobs root).
 *
 * Linked with the internal static library (jobreg_internal_dep), not with
 * libjobreg.so. What it uses of the inside: jr_job_desc (built in one
 * place, job() below), jr_refresh_jobs() and jr_refresh_scope.
 */
#include <jobreg.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "refresh.h"

/* ---- the per-test fixture: an empty in-memory storage ---- */

static jobreg_storage *st;

static void setup(void)
{
	st = NULL;
	CHECK_OK(jobreg_storage_memory_new(&st));
}

static void teardown(void)
{
	jobreg_storage_free(st);
	st = NULL;
}

/*
 * A job of the jobs root: `module`.`cls`, Meta name `name`, every other
 * field at the loader's default. The only place that knows every field of
 * jr_job_desc: a test changes the one it is about.
 */
static jr_job_desc job(const char *module, const char *cls, const char *name)
{
	static char paths[16][256];
	static int next;
	char *path = paths[next++ % 16];
	jr_job_desc d;

	snprintf(path, 256, "%s.%s", module, cls);
	memset(&d, 0, sizeof(d));
	d.class_path = path;
	d.module_name = module;
	d.class_name = cls;
	d.source_type = JOBREG_SOURCE_LOCAL;
	d.source_name = "";
	d.grouping = module;
	d.name = name;
	d.description = "";
	d.task_queues = "[]";
	d.variables = "{}";
	d.has_sensitive_variables = 1;
	return d;
}

/* Refresh `st` against `jobs`, every record in scope; the result (to free). */
static jobreg_refresh_result *refresh(const jr_job_desc *jobs, size_t count)
{
	jobreg_refresh_result *res = NULL;

	CHECK_OK(jr_refresh_jobs(&res, st, jobs, count, NULL));
	return res;
}

/* The same, when only the counts matter. */
static size_t refresh_writes(const jr_job_desc *jobs, size_t count)
{
	jobreg_refresh_result *res = refresh(jobs, count);
	size_t writes = jobreg_refresh_result_writes(res);

	jobreg_refresh_result_free(res);
	return writes;
}

/* The stored record of `class_path` (to free), or NULL. */
static jobreg_record *stored(const char *class_path)
{
	jobreg_record *rec = NULL;

	if (jobreg_storage_get(&rec, st, class_path) < 0)
		return NULL;
	return rec;
}

static int bool_field(const char *class_path, jobreg_field field)
{
	jobreg_record *rec = stored(class_path);
	int value = rec ? jobreg_record_bool(rec, field) : -1;

	jobreg_record_free(rec);
	return value;
}

static double real_field(const char *class_path, jobreg_field field)
{
	jobreg_record *rec = stored(class_path);
	double value = rec ? jobreg_record_real(rec, field) : -1;

	jobreg_record_free(rec);
	return value;
}

/* A text field of a stored record, copied into a rotating static buffer. */
static const char *text_field(const char *class_path, jobreg_field field)
{
	static char bufs[4][256];
	static int next;
	char *b = bufs[next++ % 4];
	jobreg_record *rec = stored(class_path);

	snprintf(b, 256, "%s", rec ? jobreg_record_text(rec, field) : "(no record)");
	jobreg_record_free(rec);
	return b;
}

/* The id of the stored record of `class_path`, for the host-side calls. */
static const char *id_of(const char *class_path)
{
	return text_field(class_path, JOBREG_FIELD_ID);
}

/* ---- the rules ---- */

static void test_refresh_never_enables_jobs(void)
{
	jr_job_desc jobs[1];
	jobreg_refresh_result *res;

	jobs[0] = job("device_jobs", "CleanupDevices", "Cleanup");
	res = refresh(jobs, 1);
	CHECK_INT(jobreg_refresh_result_created_count(res), 1);
	CHECK_STR(jobreg_refresh_result_created(res, 0), "device_jobs.CleanupDevices");
	jobreg_refresh_result_free(res);
	CHECK_INT(bool_field("device_jobs.CleanupDevices", JOBREG_FIELD_INSTALLED), 1);
	CHECK_INT(bool_field("device_jobs.CleanupDevices", JOBREG_FIELD_ENABLED), 0);

	/* A changed job updates its record, and still does not enable it. */
	jobs[0].description = "now with a description";
	CHECK_INT(refresh_writes(jobs, 1), 1);
	CHECK_INT(bool_field("device_jobs.CleanupDevices", JOBREG_FIELD_ENABLED), 0);

	/* Enabled by the host: a refresh leaves it enabled. */
	CHECK_OK(jobreg_storage_set_enabled(st, id_of("device_jobs.CleanupDevices"), 1));
	jobs[0].description = "changed again";
	CHECK_INT(refresh_writes(jobs, 1), 1);
	CHECK_INT(bool_field("device_jobs.CleanupDevices", JOBREG_FIELD_ENABLED), 1);
}

static void test_override_flags_keep_the_host_values(void)
{
	jr_job_desc jobs[1];
	char id[64];

	jobs[0] = job("inventory", "Audit", "Audit");
	refresh_writes(jobs, 1);
	snprintf(id, sizeof(id), "%s", id_of("inventory.Audit"));
	CHECK_OK(jobreg_storage_override_text(st, id, JOBREG_FIELD_GROUPING, "Host group"));
	CHECK_OK(jobreg_storage_override_text(st, id, JOBREG_FIELD_NAME, "Host name"));
	CHECK_OK(jobreg_storage_override_bool(st, id, JOBREG_FIELD_HIDDEN, 1));
	CHECK_OK(jobreg_storage_override_real(st, id, JOBREG_FIELD_SOFT_TIME_LIMIT, 120));
	CHECK_INT(bool_field("inventory.Audit", JOBREG_FIELD_GROUPING_OVERRIDE), 1);

	/* The job changes every one of those, and its description. */
	jobs[0].grouping = "Job group";
	jobs[0].name = "Job name";
	jobs[0].hidden = 0;
	jobs[0].soft_time_limit = 30;
	jobs[0].description = "from the job";
	CHECK_INT(refresh_writes(jobs, 1), 1);
	CHECK_STR(text_field("inventory.Audit", JOBREG_FIELD_GROUPING), "Host group");
	CHECK_STR(text_field("inventory.Audit", JOBREG_FIELD_NAME), "Host name");
	CHECK_INT(bool_field("inventory.Audit", JOBREG_FIELD_HIDDEN), 1);
	CHECK(real_field("inventory.Audit", JOBREG_FIELD_SOFT_TIME_LIMIT) == 120);
	CHECK_STR(text_field("inventory.Audit", JOBREG_FIELD_DESCRIPTION), "from the job");

	/* Cleared: the next refresh copies the job's value again. */
	CHECK_OK(jobreg_storage_override_clear(st, id, JOBREG_FIELD_GROUPING));
	CHECK_INT(refresh_writes(jobs, 1), 1);
	CHECK_STR(text_field("inventory.Audit", JOBREG_FIELD_GROUPING), "Job group");
	CHECK_STR(text_field("inventory.Audit", JOBREG_FIELD_NAME), "Host name");
}

static void test_uninstalling_keeps_enabled_and_everything_else(void)
{
	jr_job_desc jobs[2];
	jobreg_refresh_result *res;

	jobs[0] = job("device_jobs", "Kept", "Kept");
	jobs[1] = job("device_jobs", "Removed", "Removed");
	refresh_writes(jobs, 2);
	CHECK_OK(jobreg_storage_set_enabled(st, id_of("device_jobs.Removed"), 1));

	res = refresh(jobs, 1); /* Removed is gone from the code */
	CHECK_INT(jobreg_refresh_result_uninstalled_count(res), 1);
	CHECK_STR(jobreg_refresh_result_uninstalled(res, 0), "device_jobs.Removed");
	CHECK_INT(jobreg_refresh_result_unchanged(res), 1);
	CHECK_INT(jobreg_refresh_result_writes(res), 1);
	jobreg_refresh_result_free(res);
	CHECK_INT(bool_field("device_jobs.Removed", JOBREG_FIELD_INSTALLED), 0);
	CHECK_INT(bool_field("device_jobs.Removed", JOBREG_FIELD_ENABLED), 1);
	CHECK_STR(text_field("device_jobs.Removed", JOBREG_FIELD_NAME), "Removed");

	/* Back in the code: installed again, still enabled, same record. */
	refresh_writes(jobs, 2);
	CHECK_INT(bool_field("device_jobs.Removed", JOBREG_FIELD_INSTALLED), 1);
	CHECK_INT(bool_field("device_jobs.Removed", JOBREG_FIELD_ENABLED), 1);
}

static void test_name_clashes_get_a_number(void)
{
	jr_job_desc jobs[3];

	jobs[0] = job("first", "Backup", "Backup");
	jobs[1] = job("second", "Backup", "Backup");
	jobs[2] = job("third", "Backup", "Backup");
	CHECK_INT(refresh_writes(jobs, 3), 3);
	CHECK_STR(text_field("first.Backup", JOBREG_FIELD_NAME), "Backup");
	CHECK_INT(bool_field("first.Backup", JOBREG_FIELD_NAME_OVERRIDE), 0);
	CHECK_STR(text_field("second.Backup", JOBREG_FIELD_NAME), "Backup (2)");
	CHECK_INT(bool_field("second.Backup", JOBREG_FIELD_NAME_OVERRIDE), 1);
	CHECK_STR(text_field("third.Backup", JOBREG_FIELD_NAME), "Backup (3)");

	/* The names stay where they are on the next refresh. */
	CHECK_INT(refresh_writes(jobs, 3), 0);
	CHECK_STR(text_field("second.Backup", JOBREG_FIELD_NAME), "Backup (2)");
}

static void test_nothing_changed_writes_nothing(void)
{
	jr_job_desc jobs[2];
	jobreg_refresh_result *res;

	jobs[0] = job("device_jobs", "CleanupDevices", "Cleanup");
	jobs[1] = job("inventory", "CheckInventory", "Check");
	jobs[1].task_queues = "[\"default\", \"audit\"]";
	jobs[1].soft_time_limit = 30;
	CHECK_INT(refresh_writes(jobs, 2), 2);

	res = refresh(jobs, 2);
	CHECK_INT(jobreg_refresh_result_writes(res), 0);
	CHECK_INT(jobreg_refresh_result_unchanged(res), 2);
	CHECK_INT(jobreg_refresh_result_created_count(res), 0);
	CHECK_INT(jobreg_refresh_result_updated_count(res), 0);
	CHECK_INT(jobreg_refresh_result_uninstalled_count(res), 0);
	jobreg_refresh_result_free(res);
}

/* What the scope of a sync looks like: the records of one source only. */
static int of_source(const jobreg_record *rec, const void *ctx)
{
	return strcmp(jobreg_record_text(rec, JOBREG_FIELD_SOURCE), ctx) == 0;
}

static void test_records_out_of_scope_are_never_uninstalled(void)
{
	jr_job_desc jobs[2];
	jr_refresh_scope scope;
	jobreg_refresh_result *res = NULL;

	jobs[0] = job("repo_a.jobs", "A", "A");
	jobs[0].source_type = JOBREG_SOURCE_GIT;
	jobs[0].source_name = "repo_a";
	jobs[1] = job("repo_b.jobs", "B", "B");
	jobs[1].source_type = JOBREG_SOURCE_GIT;
	jobs[1].source_name = "repo_b";
	refresh_writes(jobs, 2);

	/* Only repo_a's jobs are handed in, and only its records are in scope. */
	memset(&scope, 0, sizeof(scope));
	scope.contains = of_source;
	scope.ctx = "repo_a";
	CHECK_OK(jr_refresh_jobs(&res, st, jobs, 1, &scope));
	CHECK_INT(jobreg_refresh_result_writes(res), 0);
	CHECK_INT(jobreg_refresh_result_uninstalled_count(res), 0);
	jobreg_refresh_result_free(res);
	CHECK_INT(bool_field("repo_b.jobs.B", JOBREG_FIELD_INSTALLED), 1);

	/* Without a scope, the same call uninstalls repo_b's job. */
	CHECK_INT(refresh_writes(jobs, 1), 1);
	CHECK_INT(bool_field("repo_b.jobs.B", JOBREG_FIELD_INSTALLED), 0);
}

static const struct jr_test tests[] = {
	JR_TEST(refresh_never_enables_jobs),
	JR_TEST(override_flags_keep_the_host_values),
	JR_TEST(uninstalling_keeps_enabled_and_everything_else),
	JR_TEST(name_clashes_get_a_number),
	JR_TEST(nothing_changed_writes_nothing),
	JR_TEST(records_out_of_scope_are_never_uninstalled),
};

JR_SUITE_MAIN(tests, setup, teardown)
