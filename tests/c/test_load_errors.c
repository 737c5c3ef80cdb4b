/* test_load_errors.c: every failure is recorded and never stops the load (SPEC 3). */
#include "loadutil.h"

#define GOOD_MODULE                                \
	"from jobreg.jobs import Job, register_jobs\n" \
	"class StillHere(Job):\n"                      \
	"    pass\n"                                   \
	"register_jobs(StillHere)\n"

/* Load `dir` (which also holds good.py) and return the snapshot. */
static jobreg_snapshot *load_with_good_module(const char *dir, jobreg_registry **reg)
{
	jobreg_snapshot *snap;

	jr_write(dir, "good.py", GOOD_MODULE);
	*reg = load_jobs_root(dir);
	snap = take_snapshot(*reg);
	CHECK(job_at(snap, "good.StillHere") != NULL); /* one broken module never stops the others */
	return snap;
}

static const jobreg_load_error *only_error(const jobreg_snapshot *snap, const char *module)
{
	const jobreg_load_error *err = error_for(snap, module);

	if (!err) {
		fprintf(stderr, "no load error for %s; errors were:\n", module);
		print_load_errors(snap);
	}
	CHECK(err != NULL);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 1);
	return err;
}

static void test_syntax_error_names_file_and_line(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_load_error *err;

	jr_write(dir, "broken.py", "x = 1\n\ndef oops(:\n    pass\n");
	snap = load_with_good_module(dir, &reg);
	err = only_error(snap, "broken");
	if (err) {
		CHECK_STR(jobreg_load_error_type(err), "SyntaxError");
		CHECK_CONTAINS(jobreg_load_error_file(err), "broken.py");
		CHECK_INT(jobreg_load_error_line(err), 3);
		CHECK_INT(jobreg_load_error_source_type(err), JOBREG_SOURCE_LOCAL);
		CHECK_STR(jobreg_load_error_source(err), "");
		CHECK_CONTAINS(jobreg_load_error_traceback(err), "SyntaxError");
	}
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_exception_at_import_names_the_raising_line(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_load_error *err;

	jr_write(dir, "raises.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class Lost(Job):\n    pass\n"
	         "register_jobs(Lost)\n"
	         "settings = {}\n"
	         "timeout = settings['timeout']\n");
	snap = load_with_good_module(dir, &reg);
	err = only_error(snap, "raises");
	if (err) {
		CHECK_STR(jobreg_load_error_type(err), "KeyError");
		CHECK_STR(jobreg_load_error_message(err), "'timeout'");
		CHECK_INT(jobreg_load_error_line(err), 6);
		CHECK_CONTAINS(jobreg_load_error_traceback(err), "raises.py\", line 6");
		CHECK(strstr(jobreg_load_error_traceback(err), "importlib") == NULL);
	}
	/* A module that failed contributes no jobs, even those it registered. */
	CHECK(job_at(snap, "raises.Lost") == NULL);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_system_exit_at_import_is_recorded(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_load_error *err;

	jr_write(dir, "quits.py", "import sys\nsys.exit(3)\n");
	snap = load_with_good_module(dir, &reg);
	err = only_error(snap, "quits");
	if (err) {
		CHECK_STR(jobreg_load_error_type(err), "SystemExit");
		CHECK_CONTAINS(jobreg_load_error_message(err), "sys.exit(3)");
		CHECK_INT(jobreg_load_error_line(err), 2);
	}
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_registering_a_non_job_fails_that_module(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_load_error *err;

	jr_write(dir, "misuse.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class Fine(Job):\n    pass\n"
	         "class NotAJob:\n    pass\n"
	         "register_jobs(Fine, NotAJob)\n");
	snap = load_with_good_module(dir, &reg);
	err = only_error(snap, "misuse");
	if (err) {
		CHECK_STR(jobreg_load_error_type(err), "TypeError");
		CHECK_CONTAINS(jobreg_load_error_message(err), "NotAJob");
		CHECK_INT(jobreg_load_error_line(err), 6);
	}
	CHECK(job_at(snap, "misuse.Fine") == NULL);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_duplicate_class_path_keeps_the_first(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_load_error *err;
	const jobreg_job *job;

	/* The second class statement rebinds the name; both classes have the
	 * same class path, and the second registration is the error. */
	jr_write(dir, "twice.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class Same(Job):\n    class Meta:\n        name = 'first'\n"
	         "register_jobs(Same)\n"
	         "register_jobs(Same)\n"
	         "class Same(Job):\n    class Meta:\n        name = 'second'\n"
	         "register_jobs(Same)\n");
	snap = load_with_good_module(dir, &reg);
	err = only_error(snap, "twice");
	if (err) {
		CHECK_CONTAINS(jobreg_load_error_message(err), "'twice.Same' is already taken");
		CHECK_INT(jobreg_load_error_line(err), 10);
	}
	job = job_at(snap, "twice.Same");
	CHECK(job != NULL);
	if (job)
		CHECK_STR(jobreg_job_name(job), "first");
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_meta_value_of_wrong_type_fails_only_that_job(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_load_error *err;

	jr_write(dir, "badmeta.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class Neighbour(Job):\n    pass\n"
	         "class WrongType(Job):\n"
	         "    class Meta:\n"
	         "        hidden = 'yes'\n"
	         "register_jobs(Neighbour, WrongType)\n");
	snap = load_with_good_module(dir, &reg);
	err = only_error(snap, "badmeta");
	if (err) {
		CHECK_STR(jobreg_load_error_type(err), "TypeError");
		CHECK_CONTAINS(jobreg_load_error_message(err), "WrongType.Meta.hidden");
		CHECK_CONTAINS(jobreg_load_error_file(err), "badmeta.py");
		CHECK_INT(jobreg_load_error_line(err), 4);
	}
	CHECK(job_at(snap, "badmeta.Neighbour") != NULL);
	CHECK(job_at(snap, "badmeta.WrongType") == NULL);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_failed_package_fails_its_modules_without_running_it_twice(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_load_error *err;

	jr_write(dir, "pkg/__init__.py", "raise ValueError('package is broken')\n");
	jr_write(dir, "pkg/child.py", GOOD_MODULE);
	jr_write(dir, "importer.py", "import pkg.child\n");
	jr_write(dir, "good.py", GOOD_MODULE);
	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 3);
	err = error_for(snap, "pkg");
	CHECK(err != NULL);
	if (err) {
		CHECK_STR(jobreg_load_error_type(err), "ValueError");
		CHECK_CONTAINS(jobreg_load_error_file(err), "pkg/__init__.py");
	}
	/* importer.py ran first and saw the package fail; pkg.child is then
	 * refused with a reason instead of running pkg's body again. */
	err = error_for(snap, "importer");
	CHECK(err != NULL);
	if (err)
		CHECK_INT(jobreg_load_error_line(err), 1);
	err = error_for(snap, "pkg.child");
	CHECK(err != NULL);
	if (err) {
		CHECK_STR(jobreg_load_error_type(err), "ImportError");
		CHECK_CONTAINS(jobreg_load_error_message(err), "'pkg' failed to load");
	}
	CHECK(job_at(snap, "good.StillHere") != NULL);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_errors_are_replaced_by_the_next_load(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	jr_write(dir, "flaky.py", "raise RuntimeError('first time')\n");
	snap = load_with_good_module(dir, &reg);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 1);
	jobreg_snapshot_free(snap);
	jr_write(dir, "flaky.py", GOOD_MODULE);
	CHECK_OK(jobreg_registry_load(reg));
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 0);
	CHECK(job_at(snap, "flaky.StillHere") != NULL);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_endless_import_is_interrupted_by_the_time_limit(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_load_error *err;
	int round;

	jr_write(dir, "forever.py",
	         "try:\n"
	         "    while True:\n"
	         "        pass\n"
	         "except Exception:\n"
	         "    pass  # a time limit is no Exception: this cannot swallow it\n");
	jr_write(dir, "good.py", GOOD_MODULE);
	reg = jobs_root_registry(dir, 300);
	/* Twice: the host stays healthy and the limit works again. */
	for (round = 0; round < 2; round++) {
		CHECK_OK(jobreg_registry_load(reg));
		snap = take_snapshot(reg);
		err = only_error(snap, "forever");
		if (err) {
			CHECK_STR(jobreg_load_error_type(err), "ImportTimeLimitExceeded");
			CHECK_CONTAINS(jobreg_load_error_message(err), "time limit");
			CHECK_CONTAINS(jobreg_load_error_file(err), "forever.py");
		}
		CHECK(job_at(snap, "good.StillHere") != NULL);
		jobreg_snapshot_free(snap);
	}
	jobreg_registry_free(reg);
}

static void test_modules_within_the_time_limit_are_untouched(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	jr_write(dir, "quick.py", "import time\ntime.sleep(0.05)\n" GOOD_MODULE);
	reg = jobs_root_registry(dir, 2000);
	CHECK_OK(jobreg_registry_load(reg));
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 0);
	CHECK(job_at(snap, "quick.StillHere") != NULL);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static const struct jr_test tests[] = {
	{ "endless_import_is_interrupted_by_the_time_limit",
	  test_endless_import_is_interrupted_by_the_time_limit },
	{ "modules_within_the_time_limit_are_untouched",
	  test_modules_within_the_time_limit_are_untouched },
	{ "syntax_error_names_file_and_line", test_syntax_error_names_file_and_line },
	{ "exception_at_import_names_the_raising_line",
	  test_exception_at_import_names_the_raising_line },
	{ "system_exit_at_import_is_recorded", test_system_exit_at_import_is_recorded },
	{ "registering_a_non_job_fails_that_module", test_registering_a_non_job_fails_that_module },
	{ "duplicate_class_path_keeps_the_first", test_duplicate_class_path_keeps_the_first },
	{ "meta_value_of_wrong_type_fails_only_that_job",
	  test_meta_value_of_wrong_type_fails_only_that_job },
	{ "failed_package_fails_its_modules_without_running_it_twice",
	  test_failed_package_fails_its_modules_without_running_it_twice },
	{ "errors_are_replaced_by_the_next_load", test_errors_are_replaced_by_the_next_load },
};

JR_TEST_MAIN_WITH_LIBRARY(tests)
