/*
 * test_hostile_inprocess.c: job code that is hostile or odd, loaded and run
 * in the host's process (issue 14, parts 3c and 4): odd text in errors and
 * logs, results JSON cannot hold, odd input, and module bodies or runs that
 * change what every module shares, set alarms or fork. Each gives a load
 * error for that module or a failed run, never a failed load, a dropped log
 * line or JOBREG_EPYTHON; the neighbours are unharmed.
 */
#include <jobreg/sys/storage.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loadutil.h"

/* ---------------------------------------------------------------------- */
/* Runs */

static const char odd_jobs[] =
	"import os, signal, sys\n"
	"import jobreg.jobs as _jj\n"
	"from jobreg.jobs import Job, register_jobs\n"
	"_ORIGINAL = _jj.register_jobs\n"
	"\n"
	"class RaisesSurrogate(Job):\n"
	"    def run(self):\n"
	"        raise ValueError('bad \\ud800 here')\n"
	"\n"
	"class RaisesNul(Job):\n"
	"    def run(self):\n"
	"        raise ValueError('a\\x00b')\n"
	"\n"
	"class Unprintable(Exception):\n"
	"    def __str__(self):\n"
	"        raise SystemExit('no str')\n"
	"    def __repr__(self):\n"
	"        raise SystemExit('no repr')\n"
	"\n"
	"class RaisesUnprintable(Job):\n"
	"    def run(self):\n"
	"        raise Unprintable()\n"
	"\n"
	"class LogsOdd(Job):\n"
	"    def run(self):\n"
	"        self.logger.info('s \\ud800')\n"
	"        self.logger.warning('n a\\x00b')\n"
	"        print('p \\ud800')\n"
	"        self.logger.info('e', extra={'k': '\\ud800', 'f': float('nan')})\n"
	"        return 'logged'\n"
	"\n"
	"class DeepResult(Job):\n"
	"    def run(self):\n"
	"        x = []\n"
	"        for _ in range(100000):\n"
	"            x = [x]\n"
	"        return x\n"
	"\n"
	"class NanResult(Job):\n"
	"    def run(self):\n"
	"        return {'a': [1.0, float('nan')]}\n"
	"\n"
	"class InfResult(Job):\n"
	"    def run(self):\n"
	"        return {'a': {'b': float('inf')}}\n"
	"\n"
	"class NegInfResult(Job):\n"
	"    def run(self):\n"
	"        return [float('-inf')]\n"
	"\n"
	"class SurrogateResult(Job):\n"
	"    def run(self):\n"
	"        return 'x\\ud800'\n"
	"\n"
	"class ForksInRun(Job):\n"
	"    def run(self):\n"
	"        pid = os.fork()\n"
	"        if pid:\n"
	"            with open(__file__ + '.runpid', 'w') as f:\n"
	"                f.write(str(pid))\n"
	"        return 'forked'\n"
	"\n"
	"class ReplacesInRun(Job):\n"
	"    def run(self):\n"
	"        _jj.register_jobs = lambda *classes: None\n"
	"        return 'done'\n"
	"\n"
	"class AlarmInRun(Job):\n"
	"    def run(self):\n"
	"        signal.setitimer(signal.ITIMER_REAL, 3600)\n"
	"        return 'armed'\n"
	"\n"
	"class ChecksIntact(Job):\n"
	"    def run(self):\n"
	"        return sys.modules['jobreg.jobs'].register_jobs is _ORIGINAL\n"
	"\n"
	"register_jobs(RaisesSurrogate, RaisesNul, RaisesUnprintable, LogsOdd,\n"
	"              DeepResult, NanResult, InfResult, NegInfResult, SurrogateResult, ForksInRun,\n"
	"              ReplacesInRun, AlarmInRun, ChecksIntact)\n";

static jobreg_registry *reg;
static jobreg_storage *st;
static char root[4096];

/* Load odd_jobs, refresh them into memory storage, enable them all. */
static void setup(void)
{
	jobreg_snapshot *snap;

	snprintf(root, sizeof(root), "%s", jr_tmpdir());
	jr_write(root, "oddjobs.py", odd_jobs);
	reg = load_jobs_root(root);
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 0);
	st = enabled_records(snap);
	jobreg_snapshot_free(snap);
}

static void teardown(void)
{
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
	st = NULL;
	reg = NULL;
}

struct log_capture {
	char text[4096];
	int count;
};

static void capture(int level, const char *level_name, const char *message, const char *extra,
                    void *payload)
{
	struct log_capture *c = payload;
	size_t len = strlen(c->text);

	snprintf(c->text + len, sizeof(c->text) - len, "%d %s %s %s\n", level, level_name, message,
	         extra);
	c->count++;
}

static int run(jobreg_run_result **res, const char *ref, const char *data, struct log_capture *log)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;

	opts.data_json = data;
	opts.log = log ? capture : NULL;
	opts.log_payload = log;
	*res = NULL;
	return jobreg_run(res, reg, st, ref, &opts);
}

/* The run of `ref` is a failed run of `type` whose message holds `message`. */
static void check_failed(const char *ref, const char *type, const char *message)
{
	jobreg_run_result *res;

	CHECK_OK(run(&res, ref, NULL, NULL));
	if (!res)
		return;
	CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_FAILED);
	CHECK_STR(jobreg_run_result_error_type(res), type);
	CHECK_CONTAINS(jobreg_run_result_error_message(res), message);
	jobreg_run_result_free(res);
}

static void test_odd_text_in_an_exception_is_a_failed_run_with_escaped_text(void)
{
	jobreg_run_result *res;

	check_failed("oddjobs.RaisesSurrogate", "ValueError", "bad \\ud800 here");
	check_failed("oddjobs.RaisesNul", "ValueError", "a\\x00b");
	check_failed("oddjobs.RaisesUnprintable", "Unprintable", "<Unprintable>");
	CHECK_OK(run(&res, "oddjobs.RaisesSurrogate", NULL, NULL));
	if (res) {
		CHECK_CONTAINS(jobreg_run_result_traceback(res), "ValueError: bad \\ud800 here");
		jobreg_run_result_free(res);
	}
}

static void test_odd_text_in_log_lines_is_escaped_never_dropped(void)
{
	struct log_capture log = { "", 0 };
	jobreg_run_result *res;

	CHECK_OK(run(&res, "oddjobs.LogsOdd", NULL, &log));
	if (res) {
		CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_SUCCESS);
		CHECK_STR(jobreg_run_result_json(res), "\"logged\"");
		jobreg_run_result_free(res);
	}
	CHECK_INT(log.count, 4);
	CHECK_CONTAINS(log.text, "20 INFO s \\ud800 {}\n");
	CHECK_CONTAINS(log.text, "30 WARNING n a\\x00b {}\n");
	CHECK_CONTAINS(log.text, "20 INFO p \\ud800 {\"grouping\": \"print\"}\n");
	CHECK_CONTAINS(log.text, "20 INFO e {\"f\": \"nan\", \"k\": \"\\\\ud800\"}\n");
}

static void test_a_result_json_cannot_hold_is_a_failed_run_saying_why(void)
{
	jobreg_run_result *res;

	check_failed("oddjobs.DeepResult", "RecursionError", "the result is nested deeper than");
	check_failed("oddjobs.NanResult", "ValueError", "the result holds NaN");
	check_failed("oddjobs.InfResult", "ValueError", "the result holds Infinity");
	check_failed("oddjobs.NegInfResult", "ValueError", "the result holds -Infinity");
	/* A lone surrogate in a string is a JSON escape: the run succeeds. */
	CHECK_OK(run(&res, "oddjobs.SurrogateResult", NULL, NULL));
	if (res) {
		CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_SUCCESS);
		CHECK_STR(jobreg_run_result_json(res), "\"x\\ud800\"");
		jobreg_run_result_free(res);
	}
}

static void test_empty_or_deeply_nested_data_json_is_refused(void)
{
	jobreg_run_result *res;
	size_t depth = 100000;
	char *deep = malloc(2 * depth + 16);

	CHECK_INT(run(&res, "oddjobs.SurrogateResult", "", NULL), JOBREG_EVALIDATION);
	CHECK(res == NULL);
	CHECK_CONTAINS(jobreg_error_last()->message, "data_json is empty: give a JSON object, e.g. {}");
	CHECK(deep != NULL);
	if (deep) {
		memcpy(deep, "{\"x\": ", 6);
		memset(deep + 6, '[', depth);
		memset(deep + 6 + depth, ']', depth);
		strcpy(deep + 6 + 2 * depth, "}");
		CHECK_INT(run(&res, "oddjobs.SurrogateResult", deep, NULL), JOBREG_EVALIDATION);
		CHECK(res == NULL);
		CHECK_CONTAINS(jobreg_error_last()->message, "nested deeper than");
		free(deep);
	}
	/* NULL is still {}. */
	CHECK_OK(run(&res, "oddjobs.SurrogateResult", NULL, NULL));
	jobreg_run_result_free(res);
}

/* The pid a job or module wrote into `file`, or 0. */
static pid_t read_pid(const char *file)
{
	FILE *f = fopen(file, "r");
	long pid = 0;

	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

/* The child `pid` ended with status 0 (the library's os._exit), not 42 (it came back to us). */
static void check_child_ended_at_once(pid_t pid)
{
	int status = 0;

	CHECK(pid > 0);
	if (pid <= 0)
		return;
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0);
}

static void test_a_run_that_forks_never_returns_in_the_child(void)
{
	jobreg_run_result *res;
	pid_t parent = getpid();

	CHECK_OK(run(&res, "oddjobs.ForksInRun", NULL, NULL));
	if (getpid() != parent)
		_exit(42); /* the child came back into the host */
	if (res) {
		CHECK_STR(jobreg_run_result_json(res), "\"forked\"");
		jobreg_run_result_free(res);
	}
	check_child_ended_at_once(read_pid(jr_path(root, "oddjobs.py.runpid")));
}

static int alarm_pending(void)
{
	struct itimerval now;

	return getitimer(ITIMER_REAL, &now) == 0 &&
	       (now.it_value.tv_sec || now.it_value.tv_usec || now.it_interval.tv_sec);
}

static void cancel_alarm(void)
{
	struct itimerval none;

	memset(&none, 0, sizeof(none));
	setitimer(ITIMER_REAL, &none, NULL);
}

static void test_a_run_that_changes_shared_things_fails_and_they_are_put_back(void)
{
	jobreg_run_result *res;

	CHECK_OK(run(&res, "oddjobs.ReplacesInRun", NULL, NULL));
	if (res) {
		CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_FAILED);
		CHECK_STR(jobreg_run_result_error_type(res), "TamperError");
		CHECK_CONTAINS(jobreg_run_result_error_message(res),
		               "the job replaced jobreg.jobs.register_jobs; the runner put it back");
		CHECK_STR(jobreg_run_result_json(res), "\"done\""); /* the result stays */
		jobreg_run_result_free(res);
	}
	CHECK_OK(run(&res, "oddjobs.ChecksIntact", NULL, NULL));
	if (res) {
		CHECK_STR(jobreg_run_result_json(res), "true");
		jobreg_run_result_free(res);
	}
	CHECK(!alarm_pending());
	check_failed("oddjobs.AlarmInRun", "TamperError", "alarm");
	CHECK(!alarm_pending());
	cancel_alarm();
}

/* ---------------------------------------------------------------------- */
/* Loads: each test its own jobs root */

static const char neighbour[] = "from jobreg.jobs import Job, register_jobs\n"
								"\n"
								"class Neighbour(Job):\n"
								"    def run(self):\n"
								"        return 'fine'\n"
								"\n"
								"register_jobs(Neighbour)\n";

static const char tamperer_job[] = "\n"
								   "class Tamperer(Job):\n"
								   "    def run(self):\n"
								   "        return 'mine'\n"
								   "\n"
								   "register_jobs(Tamperer)\n";

/* A jobs root of `a_bad.py` (the Tamperer job, then `bad`) and z_neighbour.py, loaded. */
static jobreg_registry *load_with_neighbour(const char *bad, jobreg_snapshot **snap)
{
	const char *dir = jr_tmpdir();
	char source[4096];
	jobreg_registry *r;

	snprintf(source, sizeof(source), "from jobreg.jobs import Job, register_jobs\n%s%s",
	         tamperer_job, bad);
	jr_write(dir, "a_bad.py", source);
	jr_write(dir, "z_neighbour.py", neighbour);
	r = jobs_root_registry(dir, 0);
	CHECK_OK(jobreg_registry_load(r));
	*snap = take_snapshot(r);
	return r;
}

/* Module `a_bad` failed with a TamperError saying `what`; the neighbour loaded. */
static void check_blamed(const char *bad, const char *what)
{
	jobreg_snapshot *snap = NULL;
	jobreg_registry *r = load_with_neighbour(bad, &snap);
	const jobreg_load_error *err;

	if (!snap) {
		jobreg_registry_free(r);
		return;
	}
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 1);
	err = error_for(snap, "a_bad");
	CHECK(err != NULL);
	if (err) {
		CHECK_STR(jobreg_load_error_type(err), "TamperError");
		CHECK_CONTAINS(jobreg_load_error_message(err), what);
		CHECK_CONTAINS(jobreg_load_error_file(err), "a_bad.py");
	}
	CHECK(job_at(snap, "z_neighbour.Neighbour") != NULL);
	CHECK(job_at(snap, "a_bad.Tamperer") == NULL); /* a module that failed gives no jobs */
	jobreg_snapshot_free(snap);
	jobreg_registry_free(r);
}

static void test_a_module_that_replaces_register_jobs_is_blamed_and_neighbours_load(void)
{
	check_blamed("import jobreg.jobs\n"
	             "jobreg.jobs.register_jobs = lambda *classes: None\n",
	             "replaced jobreg.jobs.register_jobs; the loader put it back");
	check_blamed("import nautobot.apps.jobs, jobreg.jobs\n"
	             "nautobot.apps.jobs.Job = None\n"
	             "del jobreg.jobs.Job\n",
	             "deleted jobreg.jobs.Job; replaced nautobot.apps.jobs.Job; the loader put them "
	             "back");
}

static void test_a_module_that_replaces_library_modules_is_blamed(void)
{
	check_blamed("import sys, types\n"
	             "sys.modules['jobreg.jobs'] = types.ModuleType('jobreg.jobs')\n",
	             "replaced sys.modules['jobreg.jobs']");
	check_blamed("import sys\n"
	             "del sys.modules['nautobot.apps.jobs']\n",
	             "deleted sys.modules['nautobot.apps.jobs']");
	check_blamed("import builtins\n"
	             "builtins.print = lambda *args, **kwargs: None\n"
	             "builtins.__import__ = None\n",
	             "replaced builtins.__import__; replaced builtins.print");
	check_blamed("import jobreg.jobs\n"
	             "jobreg.jobs._registrar = lambda *args: None\n",
	             "replaced jobreg.jobs._registrar");
}

/* a_outer does `tamper`, then imports b_inner: a_outer is blamed (`what`), b_inner loads. */
static void check_outer_blamed(const char *tamper, const char *what)
{
	const char *dir = jr_tmpdir();
	char outer[1024];
	jobreg_registry *r;
	jobreg_snapshot *snap;
	const jobreg_load_error *err;

	snprintf(outer, sizeof(outer), "%simport b_inner\n", tamper);
	jr_write(dir, "a_outer.py", outer);
	jr_write(dir, "b_inner.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class Inner(Job):\n"
	         "    pass\n"
	         "register_jobs(Inner)\n");
	r = load_jobs_root(dir);
	snap = take_snapshot(r);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 1);
	err = error_for(snap, "a_outer");
	CHECK(err != NULL);
	if (err)
		CHECK_CONTAINS(jobreg_load_error_message(err), what);
	CHECK(error_for(snap, "b_inner") == NULL);
	CHECK(job_at(snap, "b_inner.Inner") != NULL);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(r);
}

static void test_a_module_that_tampers_then_imports_another_is_the_one_blamed(void)
{
	check_outer_blamed("import jobreg.jobs\n"
	                   "jobreg.jobs.register_jobs = lambda *classes: None\n",
	                   "replaced jobreg.jobs.register_jobs");
	check_outer_blamed("import signal\n"
	                   "signal.alarm(3600)\n",
	                   "left an alarm running");
	CHECK(!alarm_pending());
	cancel_alarm();
}

static void test_a_module_that_sets_an_alarm_or_its_handler_is_blamed_and_undone(void)
{
	struct sigaction now;

	check_blamed("import signal\n"
	             "signal.alarm(3600)\n",
	             "left an alarm running");
	CHECK(!alarm_pending());
	check_blamed("import signal\n"
	             "signal.setitimer(signal.ITIMER_REAL, 3600, 5)\n",
	             "left an alarm running");
	CHECK(!alarm_pending());
	cancel_alarm();
	check_blamed("import signal\n"
	             "signal.signal(signal.SIGALRM, lambda *args: None)\n",
	             "installed a SIGALRM handler");
	CHECK_INT(sigaction(SIGALRM, NULL, &now), 0);
	CHECK(now.sa_handler == SIG_DFL);
}

static void test_a_module_that_forks_never_goes_on_in_the_child(void)
{
	const char *dir = jr_tmpdir();
	char pid_file[4096];
	jobreg_registry *r;
	jobreg_snapshot *snap;
	pid_t parent = getpid();

	jr_write(dir, "a_fork.py",
	         "import os\n"
	         "pid = os.fork()\n"
	         "if pid:\n"
	         "    with open(__file__ + '.pid', 'w') as f:\n"
	         "        f.write(str(pid))\n");
	jr_write(dir, "z_neighbour.py", neighbour);
	snprintf(pid_file, sizeof(pid_file), "%s", jr_path(dir, "a_fork.py.pid"));
	r = load_jobs_root(dir);
	if (getpid() != parent)
		_exit(42); /* the child went on with the load and came back here */
	snap = take_snapshot(r);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 0);
	CHECK(job_at(snap, "z_neighbour.Neighbour") != NULL);
	check_child_ended_at_once(read_pid(pid_file));
	jobreg_snapshot_free(snap);
	jobreg_registry_free(r);
}

static void test_an_import_error_with_odd_text_is_one_load_error(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *r;
	jobreg_snapshot *snap;
	const jobreg_load_error *err;

	jr_write(dir, "a_odd.py", "raise ValueError('import \\ud800 a\\x00b')\n");
	jr_write(dir, "b_odd_name.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "register_jobs(type('Odd', (Job,), {'__module__': 'b_odd_name\\ud800'}))\n");
	jr_write(dir, "z_neighbour.py", neighbour);
	r = jobs_root_registry(dir, 0);
	CHECK_OK(jobreg_registry_load(r));
	snap = take_snapshot(r);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 2);
	err = error_for(snap, "a_odd");
	CHECK(err != NULL);
	if (err) {
		CHECK_STR(jobreg_load_error_message(err), "import \\ud800 a\\x00b");
		CHECK_CONTAINS(jobreg_load_error_traceback(err), "ValueError: import \\ud800 a\\x00b");
	}
	err = error_for(snap, "b_odd_name");
	CHECK(err != NULL);
	if (err)
		CHECK_CONTAINS(jobreg_load_error_message(err), "lone surrogate");
	CHECK(job_at(snap, "z_neighbour.Neighbour") != NULL);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(r);
}

static const struct jr_test tests[] = {
	JR_TEST(odd_text_in_an_exception_is_a_failed_run_with_escaped_text),
	JR_TEST(odd_text_in_log_lines_is_escaped_never_dropped),
	JR_TEST(a_result_json_cannot_hold_is_a_failed_run_saying_why),
	JR_TEST(empty_or_deeply_nested_data_json_is_refused),
	JR_TEST(a_run_that_forks_never_returns_in_the_child),
	JR_TEST(a_run_that_changes_shared_things_fails_and_they_are_put_back),
	JR_TEST(a_module_that_replaces_register_jobs_is_blamed_and_neighbours_load),
	JR_TEST(a_module_that_replaces_library_modules_is_blamed),
	JR_TEST(a_module_that_tampers_then_imports_another_is_the_one_blamed),
	JR_TEST(a_module_that_sets_an_alarm_or_its_handler_is_blamed_and_undone),
	JR_TEST(a_module_that_forks_never_goes_on_in_the_child),
	JR_TEST(an_import_error_with_odd_text_is_one_load_error),
};

/* Every test gets the run fixture (the load tests make their own roots too). */
JR_SUITE_MAIN_WITH_LIBRARY(tests, setup, teardown)
