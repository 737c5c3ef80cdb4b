/* test_reload.c: re-importing only what changed (SPEC 3, reload). */
#include <unistd.h>

#include "loadutil.h"

static char log_path[4096];

/* A module that logs each run of its body, and registers one job. */
static const char *logging_job(const char *class_name, const char *job_name)
{
	static char text[8192];
	snprintf(text, sizeof(text),
	         "with open('%s', 'a') as f:\n"
	         "    f.write(__name__ + '\\n')\n"
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class %s(Job):\n"
	         "    class Meta:\n"
	         "        name = '%s'\n"
	         "register_jobs(%s)\n",
	         log_path, class_name, job_name, class_name);
	return text;
}

static const char *read_log(void)
{
	static char buf[8192];
	FILE *f = fopen(log_path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	unlink(log_path);
	return buf;
}

static jobreg_registry *two_roots(const char *a, const char *b)
{
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;

	CHECK_OK(jobreg_registry_new(&reg, NULL));
	CHECK_OK(jobreg_source_dir_new(&src, a));
	CHECK_OK(jobreg_registry_add_source(reg, src));
	CHECK_OK(jobreg_source_dir_new(&src, b));
	CHECK_OK(jobreg_registry_add_source(reg, src));
	return reg;
}

static void test_reload_with_nothing_changed_imports_nothing(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *before, *after;

	snprintf(log_path, sizeof(log_path), "%s/log", jr_tmpdir());
	jr_write(dir, "steady.py", logging_job("Steady", "steady"));
	reg = load_jobs_root(dir);
	CHECK_STR(read_log(), "steady\n");
	before = take_snapshot(reg);
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_STR(read_log(), "");
	after = take_snapshot(reg);
	CHECK(before == after); /* the same generation: nothing was built */
	CHECK_INT(jobreg_snapshot_generation(after), 1);
	jobreg_snapshot_free(before);
	jobreg_snapshot_free(after);
	jobreg_registry_free(reg);
}

static void test_reload_after_an_edit_reimports_only_that_source(void)
{
	const char *a = jr_tmpdir(), *b = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_job *job;

	snprintf(log_path, sizeof(log_path), "%s/log", jr_tmpdir());
	jr_write(a, "alpha_one.py", logging_job("One", "one"));
	jr_write(a, "alpha_two.py", logging_job("Two", "two"));
	jr_write(b, "beta_one.py", logging_job("Three", "three"));
	reg = two_roots(a, b);
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_STR(read_log(), "alpha_one\nalpha_two\nbeta_one\n");

	/* Same size, same second: only the nanoseconds tell. */
	jr_write(b, "beta_one.py", logging_job("Three", "THREE"));
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_STR(read_log(), "beta_one\n");
	snap = take_snapshot(reg);
	CHECK_INT(jobreg_snapshot_generation(snap), 2);
	job = job_at(snap, "beta_one.Three");
	CHECK(job != NULL);
	if (job)
		CHECK_STR(jobreg_job_name(job), "THREE");
	CHECK(job_at(snap, "alpha_two.Two") != NULL);
	jobreg_snapshot_free(snap);

	/* Adding a file is a change too; removing one as well. */
	jr_write(a, "alpha_three.py", logging_job("Four", "four"));
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_STR(read_log(), "alpha_one\nalpha_three\nalpha_two\n");
	unlink(jr_path(a, "alpha_one.py"));
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_STR(read_log(), "alpha_three\nalpha_two\n");
	snap = take_snapshot(reg);
	CHECK(job_at(snap, "alpha_one.One") == NULL);
	CHECK(job_at(snap, "alpha_three.Four") != NULL);
	CHECK(job_at(snap, "beta_one.Three") != NULL);
	CHECK_INT(jobreg_snapshot_job_count(snap), 3);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_full_load_reimports_everything(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;

	snprintf(log_path, sizeof(log_path), "%s/log", jr_tmpdir());
	jr_write(dir, "again.py", logging_job("Again", "again"));
	reg = load_jobs_root(dir);
	CHECK_STR(read_log(), "again\n");
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_STR(read_log(), "again\n");
	jobreg_registry_free(reg);
}

static void test_reload_before_any_load_loads(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	snprintf(log_path, sizeof(log_path), "%s/log", jr_tmpdir());
	jr_write(dir, "first.py", logging_job("First", "first"));
	reg = jobs_root_registry(dir, 0);
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_STR(read_log(), "first\n");
	snap = take_snapshot(reg);
	CHECK_INT(jobreg_snapshot_generation(snap), 1);
	CHECK_INT(jobreg_snapshot_job_count(snap), 1);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static const struct jr_test tests[] = {
	{ "reload_with_nothing_changed_imports_nothing",
	  test_reload_with_nothing_changed_imports_nothing },
	{ "reload_after_an_edit_reimports_only_that_source",
	  test_reload_after_an_edit_reimports_only_that_source },
	{ "full_load_reimports_everything", test_full_load_reimports_everything },
	{ "reload_before_any_load_loads", test_reload_before_any_load_loads },
};

JR_TEST_MAIN_WITH_LIBRARY(tests)
