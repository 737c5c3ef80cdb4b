/*
 * test_internal_refresh_match.c: how a refresh matches each job to its
 * stored record by identity ("module_name.job_class_name", SPEC 4), over
 * many records of different lengths, and the error for two records of one
 * identity. Driven through src/refresh.h on an in-memory storage.
 */
#include <jobreg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "record.h"
#include "refresh.h"
#include "storage_internal.h"

#define JOBS 300

static char modules[JOBS][64], classes[JOBS][64], paths[JOBS][130], names[JOBS][64];

/* Job i: module and class names of varied lengths, every other field at its default. */
static jr_job_desc job(int i)
{
	jr_job_desc d;

	snprintf(modules[i], sizeof(modules[i]), "mod%.*s%d", i % 7, "xxxxxxx", i / 10);
	snprintf(classes[i], sizeof(classes[i]), "Job%.*s%d", i % 5, "yyyyy", i);
	snprintf(paths[i], sizeof(paths[i]), "%s.%s", modules[i], classes[i]);
	snprintf(names[i], sizeof(names[i]), "Job %d", i);
	memset(&d, 0, sizeof(d));
	d.class_path = paths[i];
	d.module_name = modules[i];
	d.class_name = classes[i];
	d.source_type = JOBREG_SOURCE_LOCAL;
	d.source_name = "";
	d.grouping = modules[i];
	d.name = names[i];
	d.description = "";
	d.task_queues = "[]";
	d.variables = "{}";
	d.has_sensitive_variables = 1;
	return d;
}

static void test_every_job_finds_its_record_among_many(void)
{
	jobreg_storage *st = NULL;
	jobreg_refresh_result *res = NULL;
	jr_job_desc *jobs = calloc(JOBS, sizeof(*jobs));
	int i;

	CHECK(jobs != NULL);
	for (i = 0; i < JOBS; i++)
		jobs[i] = job(i);
	CHECK_OK(jobreg_storage_memory_new(&st));
	CHECK_OK(jr_refresh_jobs(&res, st, jobs, JOBS, NULL));
	CHECK_INT(jobreg_refresh_result_created_count(res), JOBS);
	jobreg_refresh_result_free(res);

	/* In reverse order: each job must still find its own record. */
	for (i = 0; i < JOBS; i++)
		jobs[i] = job(JOBS - 1 - i);
	CHECK_OK(jr_refresh_jobs(&res, st, jobs, JOBS, NULL));
	CHECK_INT(jobreg_refresh_result_created_count(res), 0);
	CHECK_INT(jobreg_refresh_result_updated_count(res), 0);
	CHECK_INT(jobreg_refresh_result_unchanged(res), JOBS);
	CHECK_INT(jobreg_refresh_result_writes(res), 0);
	jobreg_refresh_result_free(res);

	/* One job gone, one renamed: exactly those two records change. */
	jobs[0] = job(JOBS - 1);
	snprintf(names[JOBS - 1], sizeof(names[JOBS - 1]), "Renamed");
	CHECK_OK(jr_refresh_jobs(&res, st, jobs, JOBS - 1, NULL));
	CHECK_INT(jobreg_refresh_result_updated_count(res), 1);
	CHECK_STR(jobreg_refresh_result_updated(res, 0), paths[JOBS - 1]);
	CHECK_INT(jobreg_refresh_result_uninstalled_count(res), 1);
	CHECK_STR(jobreg_refresh_result_uninstalled(res, 0), paths[0]);
	CHECK_INT(jobreg_refresh_result_writes(res), 2);
	jobreg_refresh_result_free(res);
	jobreg_storage_free(st);
	free(jobs);
}

/* A stored record of module "m", class "C", with `id`. */
static void store(jobreg_storage *st, const char *id)
{
	jobreg_record *rec = jr_record_new();

	CHECK(rec != NULL);
	CHECK_OK(jr_record_set_text(rec, JOBREG_FIELD_ID, id));
	CHECK_OK(jr_record_set_text(rec, JOBREG_FIELD_MODULE_NAME, "m"));
	CHECK_OK(jr_record_set_text(rec, JOBREG_FIELD_JOB_CLASS_NAME, "C"));
	CHECK_OK(jr_record_set_text(rec, JOBREG_FIELD_CLASS_PATH, "m.C"));
	CHECK_OK(jr_record_set_text(rec, JOBREG_FIELD_NAME, id));
	CHECK_OK(jr_storage_write(st, rec));
	jobreg_record_free(rec);
}

static void test_two_records_of_one_identity_are_refused_by_name(void)
{
	jobreg_storage *st = NULL;
	jobreg_refresh_result *res = NULL;
	jr_job_desc one = job(3);

	CHECK_OK(jobreg_storage_memory_new(&st));
	CHECK_OK(jr_storage_begin(st, JOBREG_STORAGE_BEGIN_WRITE));
	store(st, "11111111-1111-4111-8111-111111111111");
	store(st, "22222222-2222-4222-8222-222222222222");
	CHECK_OK(jr_storage_commit(st));
	CHECK_INT(jr_refresh_jobs(&res, st, &one, 1, NULL), JOBREG_EEXISTS);
	CHECK(res == NULL);
	CHECK_CONTAINS(jobreg_error_last()->message, "two records for job m.C");
	CHECK_CONTAINS(jobreg_error_last()->message, "11111111-1111-4111-8111-111111111111");
	CHECK_CONTAINS(jobreg_error_last()->message, "22222222-2222-4222-8222-222222222222");
	jobreg_storage_free(st);
}

static const struct jr_test tests[] = {
	JR_TEST(every_job_finds_its_record_among_many),
	JR_TEST(two_records_of_one_identity_are_refused_by_name),
};

JR_TEST_MAIN(tests)
