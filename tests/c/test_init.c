/* test_init.c: start-up, shut-down, options and versions. */
#include <stddef.h>
#include <stdlib.h>

#include <jobreg.h>

#include "harness.h"

static void test_registry_before_init_is_refused(void)
{
	jobreg_registry *reg = NULL;

	CHECK_INT(jobreg_registry_new(&reg, NULL), JOBREG_ESTATE);
	CHECK_CONTAINS(jobreg_error_last()->message, "jobreg_init");
	CHECK(reg == NULL);
	CHECK_INT(jobreg_shutdown(), JOBREG_ESTATE);
}

static void test_init_is_reference_counted(void)
{
	jobreg_registry *reg = NULL;

	CHECK_INT(jobreg_init(NULL), 1);
	CHECK_INT(jobreg_init(NULL), 2);
	CHECK_INT(jobreg_shutdown(), 1);
	CHECK_OK(jobreg_registry_new(&reg, NULL));
	jobreg_registry_free(reg);
	CHECK_INT(jobreg_shutdown(), 0);
}

static void test_python_path_entries_are_importable(void)
{
	const char *dir = jr_tmpdir();
	const char *jobs = jr_tmpdir();
	const char *path[1];
	jobreg_init_options opts;
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;
	jobreg_snapshot *snap = NULL;
	const jobreg_job *job = NULL;

	jr_write(dir, "site_helpers.py", "GREETING = 'from python_path'\n");
	jr_write(jobs, "greeter.py",
	         "import site_helpers\n"
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class Greeter(Job):\n    class Meta:\n        name = site_helpers.GREETING\n"
	         "register_jobs(Greeter)\n");
	CHECK_OK(jobreg_init_options_init(&opts, JOBREG_INIT_OPTIONS_VERSION));
	path[0] = dir;
	opts.python_path = path;
	opts.python_path_count = 1;
	CHECK_INT(jobreg_init(&opts), 1);
	CHECK_OK(jobreg_registry_new(&reg, NULL));
	CHECK_OK(jobreg_source_dir_new(&src, jobs));
	CHECK_OK(jobreg_registry_add_source(reg, src));
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_OK(jobreg_registry_snapshot(&snap, reg));
	CHECK_OK(jobreg_snapshot_resolve(&job, snap, "greeter.Greeter"));
	if (job)
		CHECK_STR(jobreg_job_name(job), "from python_path");
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
	CHECK_INT(jobreg_shutdown(), 0);
}

static void test_unknown_option_versions_are_refused(void)
{
	jobreg_init_options opts = JOBREG_INIT_OPTIONS_INIT;
	jobreg_registry_options ropts = JOBREG_REGISTRY_OPTIONS_INIT;

	opts.version = 99;
	CHECK_INT(jobreg_init(&opts), JOBREG_EVERSION);
	CHECK_CONTAINS(jobreg_error_last()->message, "version 99");
	CHECK_INT(jobreg_init_options_init(&opts, 0), JOBREG_EVERSION);
	CHECK_INT(jobreg_registry_options_init(&ropts, 3), JOBREG_EVERSION);
	CHECK_OK(jobreg_registry_options_init(&ropts, 1));
	CHECK_INT(ropts.import_timeout_ms, 0);
}

/*
 * jobreg_<name>_options_init(opts, 1) of a host built against version 1
 * writes version 1's bytes only (its struct may be smaller than ours), the
 * defaults of JOBREG_<NAME>_OPTIONS_INIT, with version 1.
 */
#define CHECK_INIT_WRITES_ONLY_VERSION_1(type, init_fn, defaults_macro, last_v1_field)        \
	do {                                                                                      \
		static const type defaults_ = defaults_macro; /* padding zeroed */                    \
		size_t v1_ = offsetof(type, last_v1_field) + sizeof(defaults_.last_v1_field);         \
		unsigned char buf_[sizeof(type) + 32];                                                \
		unsigned int version_;                                                                \
		size_t i_, spoiled_ = 0;                                                              \
                                                                                              \
		memset(buf_, 0xA5, sizeof(buf_));                                                     \
		CHECK_OK(init_fn((type *)(void *)buf_, 1));                                           \
		memcpy(&version_, buf_, sizeof(version_));                                            \
		CHECK_INT(version_, 1);                                                               \
		CHECK(memcmp(buf_ + sizeof(version_), (unsigned char *)&defaults_ + sizeof(version_), \
		             v1_ - sizeof(version_)) == 0);                                           \
		for (i_ = v1_; i_ < sizeof(buf_); i_++)                                               \
			spoiled_ += buf_[i_] != 0xA5;                                                     \
		if (spoiled_)                                                                         \
			fprintf(stderr, "%s wrote %zu byte(s) past version 1\n", #init_fn, spoiled_);     \
		CHECK_INT(spoiled_, 0);                                                               \
		CHECK_INT(init_fn(NULL, 1), JOBREG_EINVAL);                                           \
		CHECK_CONTAINS(jobreg_error_last()->message, #init_fn);                               \
	} while (0)

static void test_options_init_writes_only_the_callers_version(void)
{
	CHECK_INIT_WRITES_ONLY_VERSION_1(jobreg_init_options, jobreg_init_options_init,
	                                 JOBREG_INIT_OPTIONS_INIT, nautobot_compat);
	CHECK_INIT_WRITES_ONLY_VERSION_1(jobreg_registry_options, jobreg_registry_options_init,
	                                 JOBREG_REGISTRY_OPTIONS_INIT, import_timeout_ms);
	CHECK_INIT_WRITES_ONLY_VERSION_1(jobreg_run_options, jobreg_run_options_init,
	                                 JOBREG_RUN_OPTIONS_INIT, log_payload);
	CHECK_INIT_WRITES_ONLY_VERSION_1(jobreg_git_options, jobreg_git_options_init,
	                                 JOBREG_GIT_OPTIONS_INIT, payload);
	CHECK_INIT_WRITES_ONLY_VERSION_1(jobreg_refresh_options, jobreg_refresh_options_init,
	                                 JOBREG_REFRESH_OPTIONS_INIT, source_name);
	CHECK_INIT_WRITES_ONLY_VERSION_1(jobreg_sqlite_options, jobreg_sqlite_options_init,
	                                 JOBREG_SQLITE_OPTIONS_INIT, busy_timeout_ms);
	CHECK_INIT_WRITES_ONLY_VERSION_1(jobreg_sync_options, jobreg_sync_options_init,
	                                 JOBREG_SYNC_OPTIONS_INIT, full);
}

static void test_version_matches_the_headers(void)
{
	int major = -1, minor = -1, patch = -1;

	CHECK_STR(jobreg_version(&major, &minor, &patch), JOBREG_VERSION);
	CHECK_INT(major, JOBREG_VERSION_MAJOR);
	CHECK_INT(minor, JOBREG_VERSION_MINOR);
	CHECK_INT(patch, JOBREG_VERSION_PATCH);
	CHECK_STR(JOBREG_VERSION, "0.3.0");
}

static const struct jr_test tests[] = {
	{ "registry_before_init_is_refused", test_registry_before_init_is_refused },
	{ "init_is_reference_counted", test_init_is_reference_counted },
	{ "python_path_entries_are_importable", test_python_path_entries_are_importable },
	{ "unknown_option_versions_are_refused", test_unknown_option_versions_are_refused },
	{ "options_init_writes_only_the_callers_version",
	  test_options_init_writes_only_the_callers_version },
	{ "version_matches_the_headers", test_version_matches_the_headers },
};

JR_TEST_MAIN(tests)
