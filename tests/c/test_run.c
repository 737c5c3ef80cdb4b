/*
 * test_run.c: running jobs (SPEC 5 and 2.1): refusals, input, logs,
 * failures, threads; run options v2: the run context, files, host
 * operations; result getters.
 */
#include <jobreg/sys/storage.h>
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
	"# run options v2 (0.3): context, files, host operations\n"
	"import threading\n"
	"from jobreg import _runner\n"
	"from jobreg.jobs import enqueue_job_hooks, get_celery_queues, get_jobs\n"
	"\n"
	"class Context(Job):\n"
	"    def run(self):\n"
	"        return {'result_id': self.job_result.id,\n"
	"                'user': self.user.username if self.user else None,\n"
	"                'model': self.job_model.name, 'enabled': self.job_model.enabled}\n"
	"\n"
	"class Files(Job):\n"
	"    def run(self):\n"
	"        self.create_file('report.txt', 'h\\u00e9llo')\n"
	"        self.create_file('blob.bin', b'a\\x00b\\x00\\xff')\n"
	"        self.create_file('empty.txt', b'')\n"
	"        return 'made'\n"
	"\n"
	"class ManyFiles(Job):\n"
	"    def run(self):\n"
	"        for i in range(9):\n"
	"            self.create_file('f%d' % i, str(i) * i)\n"
	"\n"
	"class CatchesRefusal(Job):\n"
	"    def run(self):\n"
	"        try:\n"
	"            self.create_file('x.bin', b'1')\n"
	"        except RuntimeError as exc:\n"
	"            return 'refused: ' + str(exc)\n"
	"        return 'accepted'\n"
	"\n"
	"class NulName(Job):\n"
	"    def run(self):\n"
	"        try:\n"
	"            self.create_file('a\\x00b', b'1')\n"
	"        except ValueError as exc:\n"
	"            return 'ValueError: ' + str(exc)\n"
	"        return 'accepted'\n"
	"\n"
	"class Queues(Job):\n"
	"    def run(self):\n"
	"        return get_celery_queues()\n"
	"\n"
	"class Hooks(Job):\n"
	"    def run(self):\n"
	"        return list(enqueue_job_hooks({'action': 'create'}))\n"
	"\n"
	"class Reload(Job):\n"
	"    def run(self):\n"
	"        return 'runjobs.Greet' in get_jobs(reload=True)\n"
	"\n"
	"class FailsKeepingResult(Job):\n"
	"    def run(self):\n"
	"        self.fail('%d devices unreachable', 2)\n"
	"        return {'checked': 5}\n"
	"\n"
	"_kept = []\n"
	"\n"
	"class KeepsCallable(Job):\n"
	"    def run(self):\n"
	"        add_file = _runner._current_run()._add_file\n"
	"        _kept.append(add_file)\n"
	"        errors = []\n"
	"        def elsewhere():\n"
	"            try:\n"
	"                add_file('thread.txt', b'x')\n"
	"            except RuntimeError as exc:\n"
	"                errors.append(str(exc))\n"
	"        t = threading.Thread(target=elsewhere)\n"
	"        t.start()\n"
	"        t.join()\n"
	"        return errors\n"
	"\n"
	"class UsesKeptCallable(Job):\n"
	"    def run(self):\n"
	"        try:\n"
	"            _kept[-1]('late.txt', b'x')\n"
	"        except RuntimeError as exc:\n"
	"            return str(exc)\n"
	"        return 'called'\n"
	"\n"
	"register_jobs(Greet, Raises, Exits, NotJson, Disabled, Context, Files, ManyFiles, "
	"CatchesRefusal, NulName,\n"
	"              Queues, Hooks, Reload, FailsKeepingResult, KeepsCallable, UsesKeptCallable)\n";

static jobreg_registry *reg;
static jobreg_storage *st;

/* Load the jobs, refresh them into memory storage, enable all but Disabled. */
static void setup(void)
{
	const char *dir = jr_tmpdir();
	jobreg_snapshot *snap;
	jobreg_record_list *list = NULL;
	size_t i;

	jr_write(dir, "runjobs.py", run_jobs);
	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 0);
	CHECK_OK(jobreg_storage_memory_new(&st));
	CHECK_OK(jobreg_refresh(NULL, st, snap, NULL));
	CHECK_OK(jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL));
	for (i = 0; i < jobreg_record_list_count(list); i++) {
		const jobreg_record *rec = jobreg_record_list_get(list, i);
		if (strcmp(jobreg_record_text(rec, JOBREG_FIELD_CLASS_PATH), "runjobs.Disabled") != 0)
			CHECK_OK(jobreg_storage_set_enabled(st, jobreg_record_text(rec, JOBREG_FIELD_ID), 1));
	}
	jobreg_record_list_free(list);
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
		CHECK_STR(json, "{\"status\": \"success\", \"result\": {\"text\": \"Hello R1Hello R1\"}, "
		                "\"error\": null, \"files\": []}");
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
	CHECK_INT(run(&res, "runjobs.Greet",
	              "{\"who\": \"far too long a name\", \"times\": 7, \"colour\": 1}", NULL),
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
		if (run(&res, "runjobs.Greet", data, &log) < 0 ||
		    strcmp(jobreg_run_result_json(res), expected) != 0 || log.count != 2 ||
		    !strstr(log.text, logged))
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

/* ---- run options v2 (0.3.0): the run context, files, host operations ---- */

static int run_opts(jobreg_run_result **res, const char *ref, const jobreg_run_options *opts)
{
	*res = NULL;
	return jobreg_run(res, reg, st, ref, opts);
}

static void test_the_context_reaches_job_result_user_and_job_model(void)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_run_result *res;

	setup();
	opts.context_json =
		"{\"job_result\": {\"id\": \"jr-42\"}, \"user\": {\"username\": \"alice\"}, "
		"\"job_model\": {\"name\": \"From the host\", \"enabled\": false}, "
		"\"task_id\": \"t-1\"}";
	CHECK_OK(run_opts(&res, "runjobs.Context", &opts));
	if (res)
		CHECK_STR(jobreg_run_result_json(res),
		          "{\"enabled\": false, \"model\": \"From the host\", \"result_id\": \"jr-42\", "
		          "\"user\": \"alice\"}");
	jobreg_run_result_free(res);
	teardown();
}

static void test_job_model_defaults_to_the_record_the_run_was_checked_against(void)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_record *rec = NULL;
	jobreg_run_result *res;

	setup();
	/* A name override shows that the record, not the class, is what the job sees. */
	CHECK_OK(jobreg_storage_get(&rec, st, "runjobs.Context"));
	if (rec)
		CHECK_OK(jobreg_storage_override_text(st, jobreg_record_text(rec, JOBREG_FIELD_ID),
		                                      JOBREG_FIELD_NAME, "Context, renamed"));
	opts.context_json = "{\"job_result\": {\"id\": \"jr-1\"}}";
	CHECK_OK(run_opts(&res, "runjobs.Context", &opts));
	if (res)
		CHECK_STR(jobreg_run_result_json(res),
		          "{\"enabled\": true, \"model\": \"Context, renamed\", \"result_id\": \"jr-1\", "
		          "\"user\": null}");
	jobreg_run_result_free(res);
	/* No context at all: the same record. */
	CHECK_OK(run(&res, "runjobs.Context", NULL, NULL));
	if (res)
		CHECK_CONTAINS(jobreg_run_result_json(res), "\"model\": \"Context, renamed\"");
	jobreg_run_result_free(res);
	jobreg_record_free(rec);
	teardown();
}

static void test_a_context_that_is_no_json_object_is_refused(void)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_run_result *res;

	setup();
	opts.context_json = "[1, 2]";
	CHECK_INT(run_opts(&res, "runjobs.Context", &opts), JOBREG_EINVAL);
	CHECK(res == NULL);
	CHECK_CONTAINS(jobreg_error_last()->message, "context_json");
	opts.context_json = "{not json";
	CHECK_INT(run_opts(&res, "runjobs.Context", &opts), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "not JSON");
	teardown();
}

/* What the file callback saw; refuses per `refuse`. */
struct file_capture {
	char names[512];
	size_t bytes;
	int count;
	int refuse; /* 1: refuse *.bin with a message; 2: refuse *.bin silently */
	int refused;
	char first_data[16];
	size_t blob_size;
	unsigned char blob[16];
};

static int on_file(const char *name, const unsigned char *data, size_t size, void *payload)
{
	struct file_capture *c = payload;
	size_t len = strlen(name);

	if (c->refuse && len > 4 && strcmp(name + len - 4, ".bin") == 0) {
		c->refused++;
		if (c->refuse == 1)
			return jobreg_storage_error_set(JOBREG_ERROR, "no binaries here");
		return -1;
	}
	strncat(c->names, name, sizeof(c->names) - strlen(c->names) - 2);
	strcat(c->names, ",");
	c->bytes += size;
	c->count++;
	if (c->count == 1)
		snprintf(c->first_data, sizeof(c->first_data), "%s", (const char *)data);
	if (strcmp(name, "blob.bin") == 0 && size <= sizeof(c->blob)) {
		memcpy(c->blob, data, size);
		c->blob_size = size;
	}
	return 0;
}

/* The files of Files: "héllo" as UTF-8, five bytes with two NULs, nothing. */
static void check_files_job_result(const jobreg_run_result *res)
{
	const unsigned char *data;
	size_t size = 99;
	char *json = NULL;

	CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_SUCCESS);
	CHECK_INT(jobreg_run_result_file_count(res), 3);
	CHECK_STR(jobreg_run_result_file_name(res, 0), "report.txt");
	data = jobreg_run_result_file_data(res, 0, &size);
	CHECK_INT(size, 6);
	CHECK(data && memcmp(data, "h\xc3\xa9llo", 7) == 0); /* with the NUL that follows */
	CHECK_STR(jobreg_run_result_file_name(res, 1), "blob.bin");
	data = jobreg_run_result_file_data(res, 1, &size);
	CHECK_INT(size, 5);
	CHECK(data && memcmp(data, "a\0b\0\xff", 5) == 0);
	CHECK_STR(jobreg_run_result_file_name(res, 2), "empty.txt");
	data = jobreg_run_result_file_data(res, 2, &size);
	CHECK_INT(size, 0);
	CHECK(data && data[0] == '\0');
	CHECK(jobreg_run_result_file_data(res, 2, NULL) == data);
	/* Out of range. */
	CHECK(jobreg_run_result_file_name(res, 3) == NULL);
	size = 99;
	CHECK(jobreg_run_result_file_data(res, 3, &size) == NULL);
	CHECK_INT(size, 0);
	CHECK_OK(jobreg_run_result_to_json(&json, res));
	CHECK_STR(json,
	          "{\"status\": \"success\", \"result\": \"made\", \"error\": null, \"files\": "
	          "[{\"name\": \"report.txt\", \"size\": 6}, {\"name\": \"blob.bin\", \"size\": 5}, "
	          "{\"name\": \"empty.txt\", \"size\": 0}]}");
	jobreg_free(json);
}

static void test_created_files_are_in_the_result_without_a_callback(void)
{
	jobreg_run_result *res;

	setup();
	CHECK_OK(run(&res, "runjobs.Files", NULL, NULL));
	if (res)
		check_files_job_result(res);
	jobreg_run_result_free(res);
	/* More files than the first allocation holds. */
	CHECK_OK(run(&res, "runjobs.ManyFiles", NULL, NULL));
	CHECK_INT(jobreg_run_result_file_count(res), 9);
	if (jobreg_run_result_file_count(res) == 9) {
		size_t size = 0;
		CHECK_STR(jobreg_run_result_file_name(res, 8), "f8");
		CHECK_STR((const char *)jobreg_run_result_file_data(res, 8, &size), "88888888");
		CHECK_INT(size, 8);
		CHECK_STR((const char *)jobreg_run_result_file_data(res, 0, &size), "");
	}
	jobreg_run_result_free(res);
	teardown();
}

static void test_created_files_reach_the_callback_and_stay_in_the_result(void)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	struct file_capture c;
	jobreg_run_result *res;

	memset(&c, 0, sizeof(c));
	setup();
	opts.file = on_file;
	opts.file_payload = &c;
	CHECK_OK(run_opts(&res, "runjobs.Files", &opts));
	if (res)
		check_files_job_result(res);
	CHECK_INT(c.count, 3);
	CHECK_STR(c.names, "report.txt,blob.bin,empty.txt,");
	CHECK_INT(c.bytes, 11);
	CHECK_STR(c.first_data, "h\xc3\xa9llo");
	CHECK_INT(c.blob_size, 5);
	CHECK(memcmp(c.blob, "a\0b\0\xff", 5) == 0);
	jobreg_run_result_free(res);
	teardown();
}

static void test_a_refused_file_raises_in_the_job(void)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	struct file_capture c;
	jobreg_run_result *res;

	memset(&c, 0, sizeof(c));
	setup();
	c.refuse = 1;
	opts.file = on_file;
	opts.file_payload = &c;
	/* Uncaught: the run fails with the host's message; the accepted file stays listed. */
	CHECK_OK(run_opts(&res, "runjobs.Files", &opts));
	if (res) {
		CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_FAILED);
		CHECK_STR(jobreg_run_result_error_type(res), "RuntimeError");
		CHECK_STR(jobreg_run_result_error_message(res), "no binaries here");
		CHECK_INT(jobreg_run_result_file_count(res), 1);
		CHECK_STR(jobreg_run_result_file_name(res, 0), "report.txt");
	}
	jobreg_run_result_free(res);
	/* Caught: the job goes on; a refusal without a message gets a generic one. */
	c.refuse = 2;
	CHECK_OK(run_opts(&res, "runjobs.CatchesRefusal", &opts));
	if (res) {
		CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_SUCCESS);
		CHECK_STR(jobreg_run_result_json(res), "\"refused: the host refused the file 'x.bin'\"");
		CHECK_INT(jobreg_run_result_file_count(res), 0);
	}
	CHECK_INT(c.refused, 2);
	jobreg_run_result_free(res);
	/* A name with a NUL byte never reaches the host. */
	CHECK_OK(run_opts(&res, "runjobs.NulName", &opts));
	if (res) {
		CHECK_STR(jobreg_run_result_json(res), "\"ValueError: embedded null character\"");
		CHECK_INT(jobreg_run_result_file_count(res), 0);
	}
	CHECK_INT(c.count, 1); /* report.txt of the first run only */
	jobreg_run_result_free(res);
	teardown();
}

enum host_mode {
	HOST_ANSWERS,
	HOST_FAILS,
	HOST_FAILS_SILENTLY,
	HOST_ANSWERS_NO_JSON
};

struct host_capture {
	enum host_mode mode;
	char calls[1024];
};

static int host_op(jobreg_host_reply *reply, const char *operation, const char *args_json,
                   void *payload)
{
	struct host_capture *h = payload;
	size_t len = strlen(h->calls);

	snprintf(h->calls + len, sizeof(h->calls) - len, "%s %s\n", operation, args_json);
	if (strcmp(operation, "get_celery_queues") == 0) {
		switch (h->mode) {
		case HOST_FAILS:
			CHECK_OK(jobreg_host_reply_set_json(reply, "{\"ignored\": 1}"));
			CHECK_OK(jobreg_host_reply_set_error(reply, "an earlier message"));
			CHECK_OK(jobreg_host_reply_set_error(reply, "the broker is down"));
			return JOBREG_ERROR;
		case HOST_FAILS_SILENTLY:
			return JOBREG_ESTORAGE;
		case HOST_ANSWERS_NO_JSON:
			return jobreg_host_reply_set_json(reply, "{not json");
		default:
			CHECK_OK(jobreg_host_reply_set_json(reply, "[\"replaced\"]"));
			return jobreg_host_reply_set_json(reply, "{\"default\": 2, \"priority\": 1}");
		}
	}
	if (strcmp(operation, "get_jobs_reload") == 0)
		return 0; /* no answer: null */
	return JOBREG_ENOTFOUND;
}

static void test_host_operations_answer_fail_or_are_not_provided(void)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	struct host_capture h;
	jobreg_run_result *res;

	memset(&h, 0, sizeof(h));
	setup();
	opts.host = host_op;
	opts.host_payload = &h;
	CHECK_OK(run_opts(&res, "runjobs.Queues", &opts));
	if (res)
		CHECK_STR(jobreg_run_result_json(res), "{\"default\": 2, \"priority\": 1}");
	jobreg_run_result_free(res);
	CHECK_STR(h.calls, "get_celery_queues {}\n");

	/* An answer of null (no reply set). */
	CHECK_OK(run_opts(&res, "runjobs.Reload", &opts));
	if (res)
		CHECK_STR(jobreg_run_result_json(res), "true");
	jobreg_run_result_free(res);
	CHECK_CONTAINS(h.calls, "get_jobs_reload {}\n");

	/* JOBREG_ENOTFOUND: LookupError in the job; the args reached the host. */
	CHECK_OK(run_opts(&res, "runjobs.Hooks", &opts));
	if (res) {
		CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_FAILED);
		CHECK_STR(jobreg_run_result_error_type(res), "LookupError");
		CHECK_STR(jobreg_run_result_error_message(res),
		          "the host does not provide 'enqueue_job_hooks'");
	}
	jobreg_run_result_free(res);
	CHECK_CONTAINS(h.calls, "enqueue_job_hooks {\"may_reload_jobs\": true, \"object_change\": "
	                        "{\"action\": \"create\"}}\n");

	/* Failures: the message set on the reply, else a generic one. */
	h.mode = HOST_FAILS;
	CHECK_OK(run_opts(&res, "runjobs.Queues", &opts));
	if (res) {
		CHECK_STR(jobreg_run_result_error_type(res), "RuntimeError");
		CHECK_STR(jobreg_run_result_error_message(res), "the broker is down");
	}
	jobreg_run_result_free(res);
	h.mode = HOST_FAILS_SILENTLY;
	CHECK_OK(run_opts(&res, "runjobs.Queues", &opts));
	if (res)
		CHECK_STR(jobreg_run_result_error_message(res),
		          "the host operation 'get_celery_queues' failed (JOBREG_ESTORAGE)");
	jobreg_run_result_free(res);
	h.mode = HOST_ANSWERS_NO_JSON;
	CHECK_OK(run_opts(&res, "runjobs.Queues", &opts));
	if (res) {
		CHECK_STR(jobreg_run_result_error_type(res), "RuntimeError");
		CHECK_CONTAINS(jobreg_run_result_error_message(res),
		               "the host's answer to 'get_celery_queues' is not JSON");
	}
	jobreg_run_result_free(res);

	/* No host callback: the job API says the host gave none. */
	CHECK_OK(run(&res, "runjobs.Queues", NULL, NULL));
	if (res) {
		CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_FAILED);
		CHECK_CONTAINS(jobreg_run_result_error_message(res), "no host operations");
	}
	jobreg_run_result_free(res);
	teardown();
}

static void test_reply_setters_refuse_null(void)
{
	CHECK_INT(jobreg_host_reply_set_json(NULL, "1"), JOBREG_EINVAL);
	CHECK_INT(jobreg_host_reply_set_error(NULL, "x"), JOBREG_EINVAL);
}

static void test_a_job_that_called_fail_is_failed_and_keeps_its_result(void)
{
	jobreg_run_result *res;
	char *json = NULL;

	setup();
	CHECK_OK(run(&res, "runjobs.FailsKeepingResult", NULL, NULL));
	if (res) {
		CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_FAILED);
		CHECK_STR(jobreg_run_result_json(res), "{\"checked\": 5}");
		CHECK_CONTAINS(jobreg_run_result_error_message(res), "2 devices unreachable");
		CHECK_OK(jobreg_run_result_to_json(&json, res));
		CHECK_CONTAINS(json, "\"status\": \"failed\", \"result\": {\"checked\": 5}, \"error\": {");
		jobreg_free(json);
	}
	jobreg_run_result_free(res);
	teardown();
}

static void test_the_callables_of_a_run_work_only_on_its_thread_during_it(void)
{
	jobreg_run_result *res;

	setup();
	CHECK_OK(run(&res, "runjobs.KeepsCallable", NULL, NULL));
	if (res)
		CHECK_STR(jobreg_run_result_json(res),
		          "[\"add_file: only the thread that runs the job may call it\"]");
	CHECK_INT(jobreg_run_result_file_count(res), 0);
	jobreg_run_result_free(res);
	CHECK_OK(run(&res, "runjobs.UsesKeptCallable", NULL, NULL));
	if (res)
		CHECK_STR(jobreg_run_result_json(res), "\"add_file: the run this belongs to is over\"");
	CHECK_INT(jobreg_run_result_file_count(res), 0);
	jobreg_run_result_free(res);
	teardown();
}

/* jobreg_run_options as release 0.1 declared it, followed by bytes that are not ours. */
struct run_options_v1_with_canary {
	unsigned int version;
	const char *data_json;
	jobreg_log_fn log;
	void *log_payload;
	unsigned char canary[64];
};

static void test_a_version_1_options_struct_still_works(void)
{
	struct run_options_v1_with_canary v1;
	struct log_capture log = { "", 0 };
	jobreg_run_result *res = NULL;
	size_t i;
	int intact = 1;

	memset(&v1, 0xAB, sizeof(v1));
	/* init writes only the bytes of version 1. */
	CHECK_OK(jobreg_run_options_init((jobreg_run_options *)(void *)&v1, 1));
	CHECK_INT(v1.version, 1);
	CHECK(v1.data_json == NULL && v1.log == NULL && v1.log_payload == NULL);
	for (i = 0; i < sizeof(v1.canary); i++)
		intact &= v1.canary[i] == 0xAB;
	CHECK(intact);

	setup();
	v1.data_json = "{\"who\": \"old\"}";
	v1.log = capture;
	v1.log_payload = &log;
	/* The canary would be a file and a host callback if it were read. */
	CHECK_OK(jobreg_run(&res, reg, st, "runjobs.Greet", (const jobreg_run_options *)(void *)&v1));
	if (res)
		CHECK_STR(jobreg_run_result_json(res), "{\"text\": \"Hello old\"}");
	CHECK_INT(log.count, 2);
	jobreg_run_result_free(res);
	res = NULL;
	v1.data_json = NULL;
	CHECK_OK(jobreg_run(&res, reg, st, "runjobs.Files", (const jobreg_run_options *)(void *)&v1));
	CHECK_INT(jobreg_run_result_file_count(res), 3);
	jobreg_run_result_free(res);
	res = NULL;
	CHECK_OK(jobreg_run(&res, reg, st, "runjobs.Queues", (const jobreg_run_options *)(void *)&v1));
	if (res)
		CHECK_CONTAINS(jobreg_run_result_error_message(res), "no host operations");
	jobreg_run_result_free(res);
	teardown();

	v1.version = 5;
	CHECK_INT(jobreg_run_options_init((jobreg_run_options *)(void *)&v1, 5), JOBREG_EVERSION);
}

static void test_result_getters_accept_null(void)
{
	size_t size = 7;
	char *json = NULL;

	CHECK_INT(jobreg_run_result_status(NULL), 0);
	CHECK_STR(jobreg_run_result_json(NULL), "");
	CHECK_STR(jobreg_run_result_error_type(NULL), "");
	CHECK_STR(jobreg_run_result_error_message(NULL), "");
	CHECK_STR(jobreg_run_result_traceback(NULL), "");
	CHECK_INT(jobreg_run_result_file_count(NULL), 0);
	CHECK(jobreg_run_result_file_name(NULL, 0) == NULL);
	CHECK(jobreg_run_result_file_data(NULL, 0, &size) == NULL);
	CHECK_INT(size, 0);
	CHECK(jobreg_run_result_file_data(NULL, 0, NULL) == NULL);
	CHECK_INT(jobreg_run_result_to_json(&json, NULL), JOBREG_EINVAL);
	CHECK(json == NULL);
	jobreg_run_result_free(NULL);
}

static const struct jr_test tests[] = {
	{ "a_valid_run_returns_json_and_routes_logs", test_a_valid_run_returns_json_and_routes_logs },
	{ "invalid_input_is_refused_naming_every_field",
	  test_invalid_input_is_refused_naming_every_field },
	{ "disabled_and_uninstalled_jobs_are_refused", test_disabled_and_uninstalled_jobs_are_refused },
	{ "every_kind_of_failure_is_a_failed_run", test_every_kind_of_failure_is_a_failed_run },
	{ "runs_from_several_threads_keep_their_own_logs",
	  test_runs_from_several_threads_keep_their_own_logs },
	{ "the_context_reaches_job_result_user_and_job_model",
	  test_the_context_reaches_job_result_user_and_job_model },
	{ "job_model_defaults_to_the_record_the_run_was_checked_against",
	  test_job_model_defaults_to_the_record_the_run_was_checked_against },
	{ "a_context_that_is_no_json_object_is_refused",
	  test_a_context_that_is_no_json_object_is_refused },
	{ "created_files_are_in_the_result_without_a_callback",
	  test_created_files_are_in_the_result_without_a_callback },
	{ "created_files_reach_the_callback_and_stay_in_the_result",
	  test_created_files_reach_the_callback_and_stay_in_the_result },
	{ "a_refused_file_raises_in_the_job", test_a_refused_file_raises_in_the_job },
	{ "host_operations_answer_fail_or_are_not_provided",
	  test_host_operations_answer_fail_or_are_not_provided },
	{ "reply_setters_refuse_null", test_reply_setters_refuse_null },
	{ "a_job_that_called_fail_is_failed_and_keeps_its_result",
	  test_a_job_that_called_fail_is_failed_and_keeps_its_result },
	{ "the_callables_of_a_run_work_only_on_its_thread_during_it",
	  test_the_callables_of_a_run_work_only_on_its_thread_during_it },
	{ "a_version_1_options_struct_still_works", test_a_version_1_options_struct_still_works },
	{ "result_getters_accept_null", test_result_getters_accept_null },
};

JR_TEST_MAIN_WITH_LIBRARY(tests)
