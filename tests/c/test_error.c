/* test_error.c: the error model: codes, names, the thread-local last error. */
#include <pthread.h>

#include <jobreg.h>

#include "harness.h"

static void test_every_code_has_a_name_and_a_description(void)
{
#define CHECK_CODE(name, value, text)           \
	CHECK_STR(jobreg_error_name(value), #name); \
	CHECK_STR(jobreg_strerror(value), text);
	JOBREG_ERROR_CODES(CHECK_CODE)
#undef CHECK_CODE
	CHECK_STR(jobreg_strerror(-999), "unknown error");
	CHECK_STR(jobreg_error_name(12345), "JOBREG_UNKNOWN");
}

static void test_last_error_is_never_null(void)
{
	jobreg_error_clear();
	CHECK(jobreg_error_last() != NULL);
	CHECK_INT(jobreg_error_last()->code, 0);
	CHECK_STR(jobreg_error_last()->message, "no error");
}

static void *fail_in_thread(void *arg)
{
	jobreg_registry *reg = NULL;
	(void)arg;
	/* Not initialized: refused, and the error stays on this thread. */
	CHECK_INT(jobreg_registry_new(&reg, NULL), JOBREG_ESTATE);
	CHECK_INT(jobreg_error_last()->code, JOBREG_ESTATE);
	return NULL;
}

static void test_last_error_is_thread_local(void)
{
	pthread_t thread;

	jobreg_error_clear();
	CHECK(pthread_create(&thread, NULL, fail_in_thread, NULL) == 0);
	pthread_join(thread, NULL);
	CHECK_INT(jobreg_error_last()->code, 0);
}

static void test_null_arguments_are_invalid_not_crashes(void)
{
	jobreg_source *src = NULL;
	jobreg_snapshot *snap = NULL;

	CHECK_INT(jobreg_source_dir_new(NULL, "/tmp"), JOBREG_EINVAL);
	CHECK_INT(jobreg_source_dir_new(&src, NULL), JOBREG_EINVAL);
	CHECK_INT(jobreg_registry_snapshot(&snap, NULL), JOBREG_EINVAL);
	CHECK_INT(jobreg_registry_load(NULL), JOBREG_EINVAL);
	CHECK_INT(jobreg_job_dup(NULL, NULL), JOBREG_EINVAL);
	jobreg_registry_free(NULL);
	jobreg_snapshot_free(NULL);
	jobreg_source_free(NULL);
	jobreg_job_free(NULL);
	jobreg_free(NULL);
	CHECK_INT(jobreg_snapshot_job_count(NULL), 0);
	CHECK(jobreg_snapshot_job(NULL, 0) == NULL);
}

static const struct jr_test tests[] = {
	{ "every_code_has_a_name_and_a_description", test_every_code_has_a_name_and_a_description },
	{ "last_error_is_never_null", test_last_error_is_never_null },
	{ "last_error_is_thread_local", test_last_error_is_thread_local },
	{ "null_arguments_are_invalid_not_crashes", test_null_arguments_are_invalid_not_crashes },
};

JR_TEST_MAIN(tests)
