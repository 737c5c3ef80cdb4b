/* test_run.c: running jobs (SPEC 5): refusals, input, logs, failures, threads. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "loadutil.h"

static const char run_jobs[] =
	"import sys\n"
	"from jobreg.jobs import Job, register_jobs, StringVar, IntegerVar, BooleanVar\n"
	"\n"
	"class Greet(Job):\n"
	"    who = StringVar(max_length=10)\n"
	"    times = IntegerVar(min_value=1, max_value=3, default=1)\n"
	"    loud = BooleanVar()\n"
	"    def run(self, who, times, loud):\n"
	"        self.logger.info('greeting %s', who, extra={'object': who, 'times': times})\n"
	"        self.logger.warning('careful')\n"
	"        text = ('Hello ' + who) * times\n"
	"        return {'text': text.upper() if loud else text}\n"
	"\n"
	"class Raises(Job):\n"
	"    def run(self):\n"
	"        raise ValueError('the device is unreachable')\n"
	"\n"
	"class Exits(Job):\n"
	"    def run(self):\n"
	"        sys.exit(4)\n"
	"\n"
	"class NotJson(Job):\n"
	"    def run(self):\n"
	"        return object()\n"
	"\n"
	"class Disabled(Job):\n"
	"    def run(self):\n"
	"        return 'should never run'\n"
	"\n"
	"register_jobs(Greet, Raises, Exits, NotJson, Disabled)\n";

static jobreg_registry *reg;
static jobreg_storage *st;

/* Load the jobs, refresh them into memory storage, enable all but Disabled. */
static void setup(void)
{
	const char *dir = jr_tmpdir();
	jobreg_snapshot *snap;
	const char *enable[] = { "runjobs.Greet", "runjobs.Raises", "runjobs.Exits", "runjobs.NotJson" };
	size_t i;

	jr_write(dir, "runjobs.py", run_jobs);
	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_OK(jobreg_storage_memory_new(&st));
	CHECK_OK(jobreg_refresh(NULL, st, snap, NULL));
	for (i = 0; i < sizeof(enable) / sizeof(enable[0]); i++) {
		jobreg_record *rec = NULL;
		CHECK_OK(jobreg_storage_get(&rec, st, enable[i]));
		if (rec)
			CHECK_OK(jobreg_storage_set_enabled(st, jobreg_record_text(rec, JOBREG_FIELD_ID), 1));
		jobreg_record_free(rec);
	}
	jobreg_snapshot_free(snap);
}

static void teardown(void)
{
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

struct log_capture {
	char text[4096];
	int count;
};

static void capture(int level, const char *level_name, const char *message, const char *extra, void *payload)
{
	struct log_capture *c = payload;
	size_t len = strlen(c->text);
	snprintf(c->text + len, sizeof(c->text) - len, "%d %s %s %s\n", level, level_name, message, extra);
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

static void test_a_valid_run_returns_json_and_routes_logs(void)
{
	struct log_capture log = { "", 0 };
	jobreg_run_result *res;
	char *json = NULL;

	setup();
	CHECK_OK(run(&res, "runjobs.Greet", "{\"who\": \"R1\", \"times\": \"2\"}", &log));
	if (res) {
		CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_SUCCESS);
		CHECK_STR(jobreg_run_result_json(res), "{\"text\": \"Hello R1Hello R1\"}");
		CHECK_OK(jobreg_run_result_to_json(&json, res));
		CHECK_STR(json, "{\"status\": \"success\", \"result\": {\"text\": \"Hello R1Hello R1\"}, \"error\": null}");
		jobreg_free(json);
	}
	CHECK_INT(log.count, 2);
	CHECK_CONTAINS(log.text, "20 INFO greeting R1 {\"object\": \"R1\", \"times\": 2}\n");
	CHECK_CONTAINS(log.text, "30 WARNING careful {}\n");
	jobreg_run_result_free(res);
	teardown();
}

static void test_invalid_input_is_refused_naming_every_field(void)
{
	jobreg_run_result *res;

	setup();
	CHECK_INT(run(&res, "runjobs.Greet", "{\"who\": \"far too long a name\", \"times\": 7, \"colour\": 1}", NULL),
	          JOBREG_EVALIDATION);
	CHECK(res == NULL);
	CHECK_CONTAINS(jobreg_error_last()->message, "who");
	CHECK_CONTAINS(jobreg_error_last()->message, "times");
	CHECK_CONTAINS(jobreg_error_last()->message, "colour");
	CHECK_INT(run(&res, "runjobs.Greet", "{}", NULL), JOBREG_EVALIDATION);
	CHECK_CONTAINS(jobreg_error_last()->message, "who");
	CHECK_INT(run(&res, "runjobs.Greet", "[1, 2]", NULL), JOBREG_EVALIDATION);
	CHECK_INT(run(&res, "runjobs.Greet", "{not json", NULL), JOBREG_EVALIDATION);
	CHECK_CONTAINS(jobreg_error_last()->message, "JSON");
	teardown();
}

static void test_disabled_and_uninstalled_jobs_are_refused(void)
{
	jobreg_run_result *res;
	jobreg_record *rec = NULL;
	jobreg_snapshot *empty;

	setup();
	CHECK_INT(run(&res, "runjobs.Disabled", NULL, NULL), JOBREG_EDISABLED);
	CHECK_CONTAINS(jobreg_error_last()->message, "runjobs.Disabled");
	CHECK(res == NULL);

	/* A refresh against an empty generation uninstalls every record. */
	CHECK_OK(jobreg_storage_get(&rec, st, "runjobs.Greet"));
	{
		jobreg_registry *none = NULL;
		CHECK_OK(jobreg_registry_new(&none, NULL));
		CHECK_OK(jobreg_registry_snapshot(&empty, none));
		CHECK_OK(jobreg_refresh(NULL, st, empty, NULL));
		jobreg_snapshot_free(empty);
		jobreg_registry_free(none);
	}
	CHECK_INT(run(&res, "runjobs.Greet", "{\"who\": \"x\"}", NULL), JOBREG_ENOTINSTALLED);
	CHECK_CONTAINS(jobreg_error_last()->message, "not installed");
	jobreg_record_free(rec);
	teardown();
}

static void check_failed(const char *ref, const char *type, const char *message)
{
	jobreg_run_result *res;

	CHECK_OK(run(&res, ref, NULL, NULL));
	if (!res)
		return;
	CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_FAILED);
	CHECK_STR(jobreg_run_result_error_type(res), type);
	CHECK_CONTAINS(jobreg_run_result_error_message(res), message);
	CHECK_STR(jobreg_run_result_json(res), "null");
	jobreg_run_result_free(res);
}

static void test_every_kind_of_failure_is_a_failed_run(void)
{
	jobreg_run_result *res;

	setup();
	check_failed("runjobs.Raises", "ValueError", "the device is unreachable");
	check_failed("runjobs.Exits", "SystemExit", "sys.exit(4)");
	check_failed("runjobs.NotJson", "TypeError", "not JSON-serialisable");
	CHECK_OK(run(&res, "runjobs.Raises", NULL, NULL));
	if (res) {
		CHECK_CONTAINS(jobreg_run_result_traceback(res), "runjobs.py\", line 16, in run");
		jobreg_run_result_free(res);
	}
	/* The host is fine: a good run still works. */
	CHECK_OK(run(&res, "runjobs.Greet", "{\"who\": \"ok\", \"loud\": true}", NULL));
	if (res) {
		CHECK_STR(jobreg_run_result_json(res), "{\"text\": \"HELLO OK\"}");
		jobreg_run_result_free(res);
	}
	teardown();
}

static atomic_int thread_failures;

static void *run_many(void *arg)
{
	char who[16], data[64], expected[64], logged[64];
	int i, id = (int)(long)arg;

	for (i = 0; i < 20; i++) {
		struct log_capture log = { "", 0 };
		jobreg_run_result *res = NULL;

		snprintf(who, sizeof(who), "t%d-%d", id, i);
		snprintf(data, sizeof(data), "{\"who\": \"%s\"}", who);
		snprintf(expected, sizeof(expected), "{\"text\": \"Hello %s\"}", who);
		snprintf(logged, sizeof(logged), "greeting %s ", who);
		/* Each run sees only its own two log lines. */
		if (run(&res, "runjobs.Greet", data, &log) < 0 || strcmp(jobreg_run_result_json(res), expected) != 0 ||
		    log.count != 2 || !strstr(log.text, logged))
			atomic_fetch_add(&thread_failures, 1);
		jobreg_run_result_free(res);
	}
	return NULL;
}

static void test_runs_from_several_threads_keep_their_own_logs(void)
{
	pthread_t threads[4];
	long i;

	setup();
	for (i = 0; i < 4; i++)
		CHECK(pthread_create(&threads[i], NULL, run_many, (void *)i) == 0);
	for (i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
	CHECK_INT(atomic_load(&thread_failures), 0);
	teardown();
}

static const struct jr_test tests[] = {
	{ "a_valid_run_returns_json_and_routes_logs", test_a_valid_run_returns_json_and_routes_logs },
	{ "invalid_input_is_refused_naming_every_field", test_invalid_input_is_refused_naming_every_field },
	{ "disabled_and_uninstalled_jobs_are_refused", test_disabled_and_uninstalled_jobs_are_refused },
	{ "every_kind_of_failure_is_a_failed_run", test_every_kind_of_failure_is_a_failed_run },
	{ "runs_from_several_threads_keep_their_own_logs", test_runs_from_several_threads_keep_their_own_logs },
};

JR_TEST_MAIN_WITH_LIBRARY(tests)
