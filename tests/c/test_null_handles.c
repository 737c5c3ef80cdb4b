/*
 * test_null_handles.c: every getter of a handle accepts NULL and answers
 * NULL, 0 or 0.0 instead of crashing the host (as the snapshot getters
 * always did): jobs, load errors, sources, run results.
 */
#include <jobreg.h>

#include "harness.h"

static void test_job_getters_accept_null(void)
{
	const jobreg_job *job = NULL;

	CHECK(jobreg_job_class_path(job) == NULL);
	CHECK(jobreg_job_module_name(job) == NULL);
	CHECK(jobreg_job_class_name(job) == NULL);
	CHECK_INT(jobreg_job_source_type(job), 0);
	CHECK(jobreg_job_source_name(job) == NULL);
	CHECK(jobreg_job_grouping(job) == NULL);
	CHECK(jobreg_job_name(job) == NULL);
	CHECK(jobreg_job_description(job) == NULL);
	CHECK_INT(jobreg_job_hidden(job), 0);
	CHECK_INT(jobreg_job_dryrun_default(job), 0);
	CHECK_INT(jobreg_job_approval_required(job), 0);
	CHECK_INT(jobreg_job_has_sensitive_variables(job), 0);
	CHECK_INT(jobreg_job_is_singleton(job), 0);
	CHECK(jobreg_job_soft_time_limit(job) == 0.0);
	CHECK(jobreg_job_time_limit(job) == 0.0);
	CHECK_INT(jobreg_job_supports_dryrun(job), 0);
	CHECK(jobreg_job_variables_json(job) == NULL);
	CHECK_INT((int)jobreg_job_task_queue_count(job), 0);
	CHECK(jobreg_job_task_queue(job, 0) == NULL);
	jobreg_job_free(NULL);
}

static void test_load_error_getters_accept_null(void)
{
	const jobreg_load_error *err = NULL;

	CHECK_INT(jobreg_load_error_source_type(err), 0);
	CHECK(jobreg_load_error_source(err) == NULL);
	CHECK(jobreg_load_error_module(err) == NULL);
	CHECK(jobreg_load_error_file(err) == NULL);
	CHECK_INT(jobreg_load_error_line(err), 0);
	CHECK(jobreg_load_error_type(err) == NULL);
	CHECK(jobreg_load_error_message(err) == NULL);
	CHECK(jobreg_load_error_traceback(err) == NULL);
}

static void test_source_getters_accept_null(void)
{
	char head[JOBREG_GIT_HEAD_SIZE];

	CHECK_INT(jobreg_source_type(NULL), 0);
	CHECK(jobreg_source_name(NULL) == NULL);
	CHECK(jobreg_source_root(NULL) == NULL);
	CHECK(jobreg_source_git_remote_url(NULL) == NULL);
	CHECK(jobreg_source_git_branch(NULL) == NULL);
	CHECK(jobreg_source_git_head(head, NULL) < 0);
	CHECK_INT(jobreg_source_nautobot_compat(NULL), JOBREG_COMPAT_DEFAULT);
	jobreg_source_free(NULL);
}

static void test_snapshot_and_run_result_getters_accept_null(void)
{
	CHECK_INT((int)jobreg_snapshot_job_count(NULL), 0);
	CHECK(jobreg_snapshot_job(NULL, 0) == NULL);
	CHECK_INT((int)jobreg_snapshot_load_error_count(NULL), 0);
	CHECK(jobreg_snapshot_load_error(NULL, 0) == NULL);
	CHECK_INT((int)jobreg_run_result_file_count(NULL), 0);
	CHECK(jobreg_run_result_json(NULL) == NULL || *jobreg_run_result_json(NULL) == '\0');
	jobreg_snapshot_free(NULL);
	jobreg_run_result_free(NULL);
}

static const struct jr_test tests[] = {
	JR_TEST(job_getters_accept_null),
	JR_TEST(load_error_getters_accept_null),
	JR_TEST(source_getters_accept_null),
	JR_TEST(snapshot_and_run_result_getters_accept_null),
};

JR_TEST_MAIN(tests)
