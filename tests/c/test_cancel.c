/*
 * test_cancel.c: cancel tokens (jobreg/cancel.h) and, in the host's
 * process, cancelled runs and run time limits (run options version 3).
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "loadutil.h"

static const char cancel_jobs[] =
	"import time\n"
	"from jobreg.jobs import Job, register_jobs, StringVar, SoftTimeLimitExceeded\n"
	"\n"
	"def spin(seconds=30):\n"
	"    # Python code all along: the watchdog's exception gets in between\n"
	"    end = time.monotonic() + seconds\n"
	"    while time.monotonic() < end:\n"
	"        pass\n"
	"\n"
	"class Writes(Job):\n"
	"    path = StringVar()\n"
	"    def run(self, path):\n"
	"        with open(path, 'w') as f:\n"
	"            f.write('ran')\n"
	"        return 'ran'\n"
	"\n"
	"class Spins(Job):\n"
	"    def run(self):\n"
	"        spin()\n"
	"        return 'not stopped'\n"
	"\n"
	"class CatchesEverything(Job):\n"
	"    def run(self):\n"
	"        try:\n"
	"            spin()\n"
	"        except BaseException as exc:\n"
	"            return 'caught ' + type(exc).__name__\n"
	"        return 'not stopped'\n"
	"\n"
	"class HardLimit(Job):\n"
	"    class Meta:\n"
	"        time_limit = 0.3\n"
	"    def run(self):\n"
	"        for _ in range(30):\n"
	"            try:\n"
	"                spin(1)\n"
	"            except Exception:\n"
	"                pass\n"
	"        return 'not stopped'\n"
	"\n"
	"class SoftLimit(Job):\n"
	"    class Meta:\n"
	"        soft_time_limit = 0.2\n"
	"    def run(self):\n"
	"        spin()\n"
	"        return 'not stopped'\n"
	"\n"
	"class SoftCleans(Job):\n"
	"    class Meta:\n"
	"        soft_time_limit = 0.2\n"
	"    def run(self):\n"
	"        try:\n"
	"            spin()\n"
	"        except SoftTimeLimitExceeded:\n"
	"            return 'cleaned'\n"
	"        return 'not stopped'\n"
	"\n"
	"class Quick(Job):\n"
	"    def run(self):\n"
	"        return 'quick'\n"
	"\n"
	"register_jobs(Writes, Spins, CatchesEverything, HardLimit, SoftLimit, SoftCleans, Quick)\n";

static jobreg_registry *reg;
static jobreg_storage *st;

/* Load the jobs, refresh them into memory storage, enable them all. */
static void setup(void)
{
	const char *dir = jr_tmpdir();
	jobreg_snapshot *snap;

	jr_write(dir, "canceljobs.py", cancel_jobs);
	reg = load_jobs_root(dir);
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

static void test_the_token_api_handles_null(void)
{
	CHECK_INT(jobreg_cancel_new(NULL), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "jobreg_cancel_new");
	jobreg_cancel_request(NULL);
	CHECK_INT(jobreg_cancel_requested(NULL), 0);
	jobreg_cancel_free(NULL);
	CHECK_STR(jobreg_error_name(JOBREG_ECANCELED), "JOBREG_ECANCELED");
	CHECK_STR(jobreg_strerror(JOBREG_ECANCELED), "run cancelled");
}

static void test_a_request_is_seen_and_stays(void)
{
	jobreg_cancel *c = NULL;

	CHECK_OK(jobreg_cancel_new(&c));
	CHECK(c != NULL);
	CHECK_INT(jobreg_cancel_requested(c), 0);
	jobreg_cancel_request(c);
	CHECK_INT(jobreg_cancel_requested(c), 1);
	jobreg_cancel_request(c); /* idempotent */
	CHECK_INT(jobreg_cancel_requested(c), 1);
	jobreg_cancel_free(c);
}

static jobreg_cancel *signalled;

static void on_signal(int sig)
{
	(void)sig;
	jobreg_cancel_request(signalled);
}

static int run_with(jobreg_run_result **res, const char *ref, const jobreg_run_options *opts)
{
	*res = NULL;
	return jobreg_run(res, reg, st, ref, opts);
}

static void test_a_signal_handler_cancels_and_the_run_never_starts(void)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	struct sigaction sa, old;
	jobreg_run_result *res;
	char data[600];
	const char *path;

	setup();
	path = jr_path(jr_tmpdir(), "ran.txt");
	snprintf(data, sizeof(data), "{\"path\": \"%s\"}", path);
	CHECK_OK(jobreg_cancel_new(&signalled));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	CHECK_INT(sigaction(SIGUSR1, &sa, &old), 0);
	CHECK_INT(raise(SIGUSR1), 0);
	CHECK_INT(jobreg_cancel_requested(signalled), 1);
	opts.data_json = data;
	opts.cancel = signalled;
	CHECK_INT(run_with(&res, "canceljobs.Writes", &opts), JOBREG_ECANCELED);
	CHECK(res == NULL);
	CHECK_STR(jobreg_error_last()->message,
	          "the run of 'canceljobs.Writes' was cancelled before it started");
	CHECK(access(path, F_OK) != 0); /* the job did not run */
	/* The same run without the token runs: the refusal was the token's. */
	opts.cancel = NULL;
	CHECK_OK(run_with(&res, "canceljobs.Writes", &opts));
	CHECK(access(path, F_OK) == 0);
	jobreg_run_result_free(res);
	sigaction(SIGUSR1, &old, NULL);
	jobreg_cancel_free(signalled);
	signalled = NULL;
	teardown();
}

/* Request `arg` (a token) after 100 ms, from another thread. */
static void *cancel_later(void *arg)
{
	struct timespec pause = { 0, 100000000L };

	nanosleep(&pause, NULL);
	jobreg_cancel_request(arg);
	return NULL;
}

/* Run `ref` with a token that another thread requests while it runs. */
static void check_cancelled_while_running(const char *ref)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_run_result *res;
	jobreg_cancel *c = NULL;
	char expected[200];
	pthread_t t;

	CHECK_OK(jobreg_cancel_new(&c));
	opts.cancel = c;
	CHECK_INT(pthread_create(&t, NULL, cancel_later, c), 0);
	CHECK_INT(run_with(&res, ref, &opts), JOBREG_ECANCELED);
	CHECK(res == NULL);
	if (res) /* the job ran to its end: tell what it returned */
		fprintf(stderr, "  %s: %s\n", ref, jobreg_run_result_json(res));
	snprintf(expected, sizeof(expected), "the run of '%s' was cancelled", ref);
	CHECK_STR(jobreg_error_last()->message, expected);
	pthread_join(t, NULL);
	jobreg_run_result_free(res);
	jobreg_cancel_free(c);
}

static void test_a_running_job_is_cancelled_from_another_thread(void)
{
	setup();
	check_cancelled_while_running("canceljobs.Spins");
	teardown();
}

static void test_a_job_that_catches_the_cancel_is_still_cancelled(void)
{
	setup();
	check_cancelled_while_running("canceljobs.CatchesEverything");
	teardown();
}

static void test_a_token_never_requested_changes_nothing(void)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_run_result *res;
	jobreg_cancel *c = NULL;

	setup();
	CHECK_OK(jobreg_cancel_new(&c));
	opts.cancel = c;
	CHECK_OK(run_with(&res, "canceljobs.Quick", &opts));
	CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_SUCCESS);
	CHECK_STR(jobreg_run_result_json(res), "\"quick\"");
	jobreg_run_result_free(res);
	jobreg_cancel_free(c);
	teardown();
}

static void check_failed(const char *ref, const jobreg_run_options *opts, const char *type,
                         const char *message)
{
	jobreg_run_result *res;

	CHECK_OK(run_with(&res, ref, opts));
	CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_FAILED);
	CHECK_STR(jobreg_run_result_error_type(res), type);
	CHECK_STR(jobreg_run_result_error_message(res), message);
	CHECK_STR(jobreg_run_result_json(res), "null");
	jobreg_run_result_free(res);
}

static void test_the_hard_limit_fails_a_run_that_swallows_exceptions(void)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;

	setup();
	check_failed("canceljobs.HardLimit", &opts, "TimeLimitExceeded",
	             "the job exceeded its time limit of 0.3 s");
	/* The record's limit wins over the host's default. */
	opts.default_time_limit = 100;
	check_failed("canceljobs.HardLimit", &opts, "TimeLimitExceeded",
	             "the job exceeded its time limit of 0.3 s");
	teardown();
}

static void test_the_default_hard_limit_holds_for_a_job_without_one(void)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;

	setup();
	opts.default_time_limit = 0.25;
	/* Even catching BaseException: past its hard limit a run is failed. */
	check_failed("canceljobs.CatchesEverything", &opts, "TimeLimitExceeded",
	             "the job exceeded its time limit of 0.25 s");
	check_failed("canceljobs.Spins", &opts, "TimeLimitExceeded",
	             "the job exceeded its time limit of 0.25 s");
	teardown();
}

static void test_the_soft_limit_is_what_the_job_makes_of_it(void)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_run_result *res;

	setup();
	check_failed("canceljobs.SoftLimit", &opts, "SoftTimeLimitExceeded",
	             "the job exceeded its soft time limit of 0.2 s");
	CHECK_OK(run_with(&res, "canceljobs.SoftCleans", &opts));
	CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_SUCCESS);
	CHECK_STR(jobreg_run_result_json(res), "\"cleaned\"");
	jobreg_run_result_free(res);
	opts.default_soft_time_limit = 0.15;
	check_failed("canceljobs.Spins", &opts, "SoftTimeLimitExceeded",
	             "the job exceeded its soft time limit of 0.15 s");
	teardown();
}

static void test_bad_default_limits_are_refused(void)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_run_result *res;

	setup();
	opts.default_soft_time_limit = -1;
	CHECK_INT(run_with(&res, "canceljobs.Quick", &opts), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "default_soft_time_limit");
	CHECK_CONTAINS(jobreg_error_last()->message, "-1");
	opts.default_soft_time_limit = 0;
	opts.default_time_limit = NAN;
	CHECK_INT(run_with(&res, "canceljobs.Quick", &opts), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "default_time_limit");
	CHECK(res == NULL);
	teardown();
}

static void test_options_init_knows_version_3(void)
{
	jobreg_run_options opts;

	memset(&opts, 0x5a, sizeof(opts));
	CHECK_OK(jobreg_run_options_init(&opts, 3));
	CHECK_INT(opts.version, 3);
	CHECK(opts.cancel == NULL);
	CHECK(opts.default_soft_time_limit == 0);
	CHECK(opts.default_time_limit == 0);
	CHECK_INT(jobreg_run_options_init(&opts, 5), JOBREG_EVERSION);
}

static void test_a_version_2_options_struct_reads_no_version_3_field(void)
{
	jobreg_run_options opts;
	jobreg_run_result *res;

	/* A cancel pointer and limits of garbage, which a version-2 host never set. */
	memset(&opts, 0xAB, sizeof(opts));
	CHECK_OK(jobreg_run_options_init(&opts, 2));
	CHECK(opts.cancel != NULL);
	setup();
	CHECK_OK(run_with(&res, "canceljobs.Quick", &opts));
	CHECK_STR(jobreg_run_result_json(res), "\"quick\"");
	jobreg_run_result_free(res);
	teardown();
}

static const struct jr_test tests[] = {
	JR_TEST(the_token_api_handles_null),
	JR_TEST(a_request_is_seen_and_stays),
	JR_TEST(a_signal_handler_cancels_and_the_run_never_starts),
	JR_TEST(a_running_job_is_cancelled_from_another_thread),
	JR_TEST(a_job_that_catches_the_cancel_is_still_cancelled),
	JR_TEST(a_token_never_requested_changes_nothing),
	JR_TEST(the_hard_limit_fails_a_run_that_swallows_exceptions),
	JR_TEST(the_default_hard_limit_holds_for_a_job_without_one),
	JR_TEST(the_soft_limit_is_what_the_job_makes_of_it),
	JR_TEST(bad_default_limits_are_refused),
	JR_TEST(options_init_knows_version_3),
	JR_TEST(a_version_2_options_struct_reads_no_version_3_field),
};

JR_TEST_MAIN_WITH_LIBRARY(tests)
