/*
 * test_author_api.c: the job-author API as job modules see it (SPEC 2).
 *
 * Start-up options apply to the first jobreg_init() of a process, so every
 * test runs in a child process of its own.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "loadutil.h"

static void run_in_child(void (*body)(void), const jobreg_init_options *opts)
{
	pid_t pid;
	int status = 0;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		jr_test_failed = 0;
		if (jobreg_init(opts) < 0) {
			fprintf(stderr, "jobreg_init: %s\n", jobreg_error_last()->message);
			_exit(2);
		}
		body();
		jobreg_shutdown();
		fflush(NULL);
		_exit(jr_test_failed ? 1 : 0);
	}
	CHECK(pid > 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Load `dir` and expect exactly `jobs` jobs and `errors` load errors. */
static jobreg_snapshot *expect_load(const char *dir, size_t jobs, size_t errors,
                                    jobreg_registry **reg)
{
	jobreg_snapshot *snap;

	*reg = load_jobs_root(dir);
	snap = take_snapshot(*reg);
	if (jobreg_snapshot_load_error_count(snap) != errors)
		print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_job_count(snap), jobs);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), errors);
	return snap;
}

static void identity_body(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	jr_write(dir, "identity.py",
	         "import jobreg.jobs, jobreg.apps\n"
	         "import nautobot.apps.jobs as compat_jobs\n"
	         "import nautobot.apps.apps as compat_apps\n"
	         "assert compat_jobs.Job is jobreg.jobs.Job\n"
	         "assert compat_jobs.register_jobs is jobreg.jobs.register_jobs\n"
	         "assert compat_jobs.StringVar is jobreg.jobs.StringVar\n"
	         "assert compat_apps.NautobotAppConfig is jobreg.apps.AppConfig\n"
	         "class ViaNative(jobreg.jobs.Job):\n    pass\n"
	         "class ViaCompat(compat_jobs.Job):\n    pass\n"
	         "compat_jobs.register_jobs(ViaNative)\n"
	         "jobreg.jobs.register_jobs(ViaCompat)\n");
	snap = expect_load(dir, 2, 0, &reg);
	CHECK(job_at(snap, "identity.ViaNative") != NULL);
	CHECK(job_at(snap, "identity.ViaCompat") != NULL);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_compat_and_native_api_are_the_same_objects(void)
{
	run_in_child(identity_body, NULL);
}

static void compat_off_body(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_load_error *err;

	jr_write(dir, "wants_nautobot.py", "from nautobot.apps.jobs import Job\n");
	jr_write(dir, "native.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class Native(Job):\n    pass\n"
	         "register_jobs(Native)\n");
	snap = expect_load(dir, 1, 1, &reg);
	err = error_for(snap, "wants_nautobot");
	CHECK(err != NULL);
	if (err)
		CHECK_STR(jobreg_load_error_type(err), "ModuleNotFoundError");
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_compat_off_when_the_host_says_so(void)
{
	jobreg_init_options opts = JOBREG_INIT_OPTIONS_INIT;

	opts.nautobot_compat = JOBREG_COMPAT_OFF;
	run_in_child(compat_off_body, &opts);
}

static void real_nautobot_body(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	jr_write(dir, "uses_real.py",
	         "import nautobot\n"
	         "assert nautobot.IS_THE_REAL_ONE\n"
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class BesideNautobot(Job):\n    pass\n"
	         "register_jobs(BesideNautobot)\n");
	snap = expect_load(dir, 1, 0, &reg);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_compat_off_when_a_real_nautobot_is_importable(void)
{
	const char *lib = jr_tmpdir();
	const char *path[1] = { lib };
	jobreg_init_options opts = JOBREG_INIT_OPTIONS_INIT;

	jr_write(lib, "nautobot/__init__.py", "IS_THE_REAL_ONE = True\n");
	/* What makes a Nautobot real: its own job API. */
	jr_write(lib, "nautobot/apps/__init__.py", "");
	jr_write(lib, "nautobot/apps/jobs.py", "");
	opts.python_path = path;
	opts.python_path_count = 1;
	run_in_child(real_nautobot_body, &opts);
}

static void meta_body(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_job *job;

	jr_write(dir, "meta_jobs.py",
	         "from jobreg.jobs import Job, register_jobs, DryRunVar, StringVar\n"
	         "class Everything(Job):\n"
	         "    dryrun = DryRunVar()\n"
	         "    device = StringVar(max_length=20)\n"
	         "    class Meta:\n"
	         "        name = 'All Meta Fields'\n"
	         "        description = '''\n"
	         "            First line.\n"
	         "              Indented line.\n"
	         "        '''\n"
	         "        hidden = True\n"
	         "        dryrun_default = True\n"
	         "        approval_required = True\n"
	         "        has_sensitive_variables = False\n"
	         "        soft_time_limit = 60\n"
	         "        time_limit = 90.5\n"
	         "        task_queues = ('fast', 'slow')\n"
	         "        is_singleton = True\n"
	         "class Defaults(Job):\n    pass\n"
	         "register_jobs(Everything, Defaults)\n");
	snap = expect_load(dir, 2, 0, &reg);
	job = job_at(snap, "meta_jobs.Everything");
	CHECK(job != NULL);
	if (job) {
		CHECK_STR(jobreg_job_name(job), "All Meta Fields");
		CHECK_STR(jobreg_job_description(job), "First line.\n  Indented line.");
		CHECK_INT(jobreg_job_hidden(job), 1);
		CHECK_INT(jobreg_job_dryrun_default(job), 1);
		CHECK_INT(jobreg_job_approval_required(job), 1);
		CHECK_INT(jobreg_job_has_sensitive_variables(job), 0);
		CHECK(jobreg_job_soft_time_limit(job) == 60.0);
		CHECK(jobreg_job_time_limit(job) == 90.5);
		CHECK_INT(jobreg_job_task_queue_count(job), 2);
		CHECK_STR(jobreg_job_task_queue(job, 0), "fast");
		CHECK_INT(jobreg_job_is_singleton(job), 1);
		CHECK_INT(jobreg_job_supports_dryrun(job), 1);
		CHECK_CONTAINS(jobreg_job_variables_json(job), "\"device\"");
		CHECK_CONTAINS(jobreg_job_variables_json(job), "\"maxLength\": 20");
	}
	job = job_at(snap, "meta_jobs.Defaults");
	CHECK(job != NULL);
	if (job) {
		CHECK_STR(jobreg_job_name(job), "Defaults");
		CHECK_STR(jobreg_job_description(job), "");
		CHECK_INT(jobreg_job_hidden(job), 0);
		CHECK_INT(jobreg_job_has_sensitive_variables(job), 1);
		CHECK_INT(jobreg_job_supports_dryrun(job), 0);
		CHECK(jobreg_job_time_limit(job) == 0.0);
	}
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_meta_fields_reach_the_job_getters(void)
{
	run_in_child(meta_body, NULL);
}

static const struct jr_test tests[] = {
	{ "compat_and_native_api_are_the_same_objects",
	  test_compat_and_native_api_are_the_same_objects },
	{ "compat_off_when_the_host_says_so", test_compat_off_when_the_host_says_so },
	{ "compat_off_when_a_real_nautobot_is_importable",
	  test_compat_off_when_a_real_nautobot_is_importable },
	{ "meta_fields_reach_the_job_getters", test_meta_fields_reach_the_job_getters },
};

JR_TEST_MAIN(tests)
