/*
 * test_runs.c: run records (jobreg/runs.h, run options version 4), on the
 * memory backend and on a SQLite file: what a recorded run stores when it
 * starts and when it ends, how runs are listed, and what is refused.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jobreg/sys/storage.h"
#include "loadutil.h"

static const char run_jobs[] = "from jobreg.jobs import Job, register_jobs, IntegerVar\n"
							   "\n"
							   "class Adds(Job):\n"
							   "    a = IntegerVar()\n"
							   "    def run(self, a):\n"
							   "        self.logger.info('adding')\n"
							   "        return a + 1\n"
							   "\n"
							   "class Fails(Job):\n"
							   "    def run(self):\n"
							   "        raise RuntimeError('it broke')\n"
							   "\n"
							   "register_jobs(Adds, Fails)\n";

static jobreg_registry *reg;
static jobreg_storage *st;
static const char *dir; /* the jobs root, and the SQLite file's folder */

/* The jobs, their records enabled, in `st`: memory, or a SQLite file. */
static void setup(int sqlite)
{
	jobreg_snapshot *snap;
	jobreg_record_list *list = NULL;
	size_t i;

	dir = jr_tmpdir();
	jr_write(dir, "runjobs.py", run_jobs);
	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 0);
	if (sqlite)
		CHECK_OK(jobreg_storage_sqlite_open(&st, jr_path(dir, "jobs.sqlite"), NULL));
	else
		CHECK_OK(jobreg_storage_memory_new(&st));
	CHECK_OK(jobreg_refresh(NULL, st, snap, NULL));
	CHECK_OK(jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL));
	for (i = 0; i < jobreg_record_list_count(list); i++)
		CHECK_OK(jobreg_storage_set_enabled(
			st, jobreg_record_text(jobreg_record_list_get(list, i), JOBREG_FIELD_ID), 1));
	jobreg_record_list_free(list);
	jobreg_snapshot_free(snap);
}

static void teardown(void)
{
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
	st = NULL;
	reg = NULL;
}

static char *record_id_of(const char *class_path)
{
	jobreg_record *rec = NULL;
	char *id;

	CHECK_OK(jobreg_storage_get(&rec, st, class_path));
	id = strdup(jobreg_record_text(rec, JOBREG_FIELD_ID));
	jobreg_record_free(rec);
	return id;
}

/* Run `ref` recorded in `st`, with `run_id` (NULL: the library's). */
static int recorded_run(jobreg_run_result **res, const char *ref, const char *data,
                        const char *run_id)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;

	opts.data_json = data;
	opts.run_storage = st;
	opts.run_id = run_id;
	*res = NULL;
	return jobreg_run(res, reg, st, ref, &opts);
}

static jobreg_run_list *runs_where(const char *id, const char *job_id, const char *status)
{
	jobreg_run_filter f = JOBREG_RUN_FILTER_INIT;
	jobreg_run_list *list = NULL;

	f.id = id;
	f.job_id = job_id;
	f.status = status;
	CHECK_OK(jobreg_storage_runs(&list, st, &f));
	return list;
}

/* 1 when `text` is `digits` lower-case hex digits. */
static int is_hex(const char *text, size_t digits)
{
	return strlen(text) == digits && strspn(text, "0123456789abcdef") == digits;
}

static void check_success_and_failure_are_stored(int sqlite)
{
	jobreg_run_result *res;
	jobreg_run_list *list;
	jobreg_job *job = NULL;
	char *adds_id, *fails_id, *ok_run;

	setup(sqlite);
	adds_id = record_id_of("runjobs.Adds");
	fails_id = record_id_of("runjobs.Fails");
	CHECK_OK(jobreg_registry_resolve(&job, reg, "runjobs.Adds"));
	CHECK(is_hex(jobreg_job_code_version(job), 16)); /* a jobs root: its files' fingerprint */

	CHECK_OK(recorded_run(&res, "runjobs.Adds", "{\"a\": 41}", NULL));
	ok_run = strdup(jobreg_run_result_run_id(res));
	CHECK_INT((int)strlen(ok_run), 36); /* a UUID */
	CHECK_STR(jobreg_run_result_record_error(res), "");
	jobreg_run_result_free(res);
	CHECK_OK(recorded_run(&res, "runjobs.Fails", NULL, "task-7"));
	CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_FAILED);
	CHECK_STR(jobreg_run_result_run_id(res), "task-7");
	jobreg_run_result_free(res);

	list = runs_where(NULL, NULL, NULL);
	CHECK_INT((int)jobreg_run_list_count(list), 2);
	/* Newest first. */
	CHECK_STR(jobreg_run_list_id(list, 0), "task-7");
	CHECK_STR(jobreg_run_list_job_id(list, 0), fails_id);
	CHECK_STR(jobreg_run_list_class_path(list, 0), "runjobs.Fails");
	CHECK_STR(jobreg_run_list_status(list, 0), "FAILURE");
	CHECK_STR(jobreg_run_list_error_type(list, 0), "RuntimeError");
	CHECK_STR(jobreg_run_list_error_message(list, 0), "it broke");
	CHECK_STR(jobreg_run_list_result_json(list, 0), "");
	CHECK_STR(jobreg_run_list_id(list, 1), ok_run);
	CHECK_STR(jobreg_run_list_job_id(list, 1), adds_id);
	CHECK_STR(jobreg_run_list_status(list, 1), "SUCCESS");
	CHECK_STR(jobreg_run_list_result_json(list, 1), "42");
	CHECK_STR(jobreg_run_list_error_type(list, 1), "");
	CHECK_STR(jobreg_run_list_source_type(list, 1), "local");
	CHECK_STR(jobreg_run_list_source(list, 1), "");
	CHECK_STR(jobreg_run_list_code_version(list, 1), jobreg_job_code_version(job));
	CHECK_INT((int)strlen(jobreg_run_list_started(list, 1)), 27);
	CHECK(strcmp(jobreg_run_list_finished(list, 1), jobreg_run_list_started(list, 1)) >= 0);
	CHECK(strcmp(jobreg_run_list_started(list, 0), jobreg_run_list_started(list, 1)) >= 0);
	CHECK(jobreg_run_list_id(list, 2) == NULL);
	CHECK(jobreg_run_list_status(NULL, 0) == NULL);
	jobreg_run_list_free(list);

	/* Each filter alone, and paging. */
	list = runs_where(NULL, adds_id, NULL);
	CHECK_INT((int)jobreg_run_list_count(list), 1);
	CHECK_STR(jobreg_run_list_id(list, 0), ok_run);
	jobreg_run_list_free(list);
	list = runs_where("task-7", NULL, NULL);
	CHECK_INT((int)jobreg_run_list_count(list), 1);
	jobreg_run_list_free(list);
	list = runs_where(NULL, NULL, "SUCCESS");
	CHECK_INT((int)jobreg_run_list_count(list), 1);
	CHECK_STR(jobreg_run_list_id(list, 0), ok_run);
	jobreg_run_list_free(list);
	list = runs_where(NULL, fails_id, "SUCCESS");
	CHECK_INT((int)jobreg_run_list_count(list), 0);
	jobreg_run_list_free(list);
	{
		jobreg_run_filter f = JOBREG_RUN_FILTER_INIT;
		f.offset = 1;
		f.limit = 1;
		CHECK_OK(jobreg_storage_runs(&list, st, &f));
		CHECK_INT((int)jobreg_run_list_count(list), 1);
		CHECK_STR(jobreg_run_list_id(list, 0), ok_run);
		jobreg_run_list_free(list);
	}
	jobreg_job_free(job);
	free(adds_id);
	free(fails_id);
	free(ok_run);
	teardown();
}

static void test_success_and_failure_are_stored_in_memory(void)
{
	check_success_and_failure_are_stored(0);
}

static void test_success_and_failure_are_stored_in_sqlite(void)
{
	check_success_and_failure_are_stored(1);
}

/* The log callback of a run: what another reader sees while it runs. */
static char seen_status[32];

static void look_while_running(int level, const char *level_name, const char *message,
                               const char *extra_json, void *payload)
{
	jobreg_run_list *list = NULL;

	(void)level, (void)level_name, (void)message, (void)extra_json;
	if (jobreg_storage_runs(&list, payload, NULL) < 0)
		snprintf(seen_status, sizeof(seen_status), "%.31s", jobreg_error_last()->message);
	else if (jobreg_run_list_count(list) == 1)
		snprintf(seen_status, sizeof(seen_status), "%s %s", jobreg_run_list_status(list, 0),
		         jobreg_run_list_finished(list, 0)[0] ? "finished" : "unfinished");
	else
		snprintf(seen_status, sizeof(seen_status), "%zu runs", jobreg_run_list_count(list));
	jobreg_run_list_free(list);
}

static void test_a_run_is_stored_as_started_before_the_job_runs(void)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_run_result *res = NULL;
	jobreg_storage *other = NULL;

	setup(1);
	/* Another handle on the same file: another process, as far as SQLite goes. */
	CHECK_OK(jobreg_storage_sqlite_open(&other, jr_path(dir, "jobs.sqlite"), NULL));
	opts.data_json = "{\"a\": 1}";
	opts.run_storage = st;
	opts.log = look_while_running;
	opts.log_payload = other;
	seen_status[0] = '\0';
	CHECK_OK(jobreg_run(&res, reg, st, "runjobs.Adds", &opts));
	CHECK_STR(seen_status, "STARTED unfinished");
	jobreg_run_result_free(res);
	jobreg_storage_free(other);
	teardown();
}

static void test_refusals_are_stored_as_failures(void)
{
	jobreg_run_result *res;
	jobreg_run_list *list;
	char *adds_id;

	setup(0);
	adds_id = record_id_of("runjobs.Adds");
	/* Disabled: refused by the record check, stored once, finished. */
	CHECK_OK(jobreg_storage_set_enabled(st, adds_id, 0));
	CHECK_INT(recorded_run(&res, "runjobs.Adds", "{\"a\": 1}", "task-disabled"), JOBREG_EDISABLED);
	CHECK_CONTAINS(jobreg_error_last()->message, "not enabled"); /* the refusal's message */
	list = runs_where("task-disabled", NULL, NULL);
	CHECK_INT((int)jobreg_run_list_count(list), 1);
	CHECK_STR(jobreg_run_list_status(list, 0), "FAILURE");
	CHECK_STR(jobreg_run_list_error_type(list, 0), "JobDisabled");
	CHECK_CONTAINS(jobreg_run_list_error_message(list, 0), "not enabled");
	CHECK_STR(jobreg_run_list_job_id(list, 0), adds_id);
	CHECK_STR(jobreg_run_list_finished(list, 0), jobreg_run_list_started(list, 0));
	jobreg_run_list_free(list);
	CHECK_OK(jobreg_storage_set_enabled(st, adds_id, 1));
	/* No record at all: stored with no job id. */
	CHECK_OK(jobreg_storage_delete(st, adds_id, 1));
	CHECK_INT(recorded_run(&res, "runjobs.Adds", "{\"a\": 1}", "task-no-record"),
	          JOBREG_ENOTINSTALLED);
	list = runs_where("task-no-record", NULL, NULL);
	CHECK_INT((int)jobreg_run_list_count(list), 1);
	CHECK_STR(jobreg_run_list_error_type(list, 0), "JobNotInstalled");
	CHECK_STR(jobreg_run_list_job_id(list, 0), "");
	CHECK_STR(jobreg_run_list_class_path(list, 0), "runjobs.Adds");
	jobreg_run_list_free(list);
	teardown();
	setup(0);
	/* Bad data: refused by the job's variables, once the run is stored. */
	CHECK_INT(recorded_run(&res, "runjobs.Adds", "{\"a\": \"many\"}", "bad-data"),
	          JOBREG_EVALIDATION);
	CHECK(res == NULL);
	CHECK_CONTAINS(jobreg_error_last()->message, "a"); /* the run's error, not the storage's */
	list = runs_where("bad-data", NULL, NULL);
	CHECK_INT((int)jobreg_run_list_count(list), 1);
	CHECK_STR(jobreg_run_list_status(list, 0), "FAILURE");
	CHECK_STR(jobreg_run_list_error_type(list, 0), "ValidationError");
	CHECK(jobreg_run_list_finished(list, 0)[0] != '\0');
	jobreg_run_list_free(list);
	free(adds_id);
	teardown();
}

static void test_the_host_json_is_kept_as_given(void)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_run_result *res = NULL;
	jobreg_run_list *list;
	char *big;

	setup(1);
	opts.data_json = "{\"a\": 1}";
	opts.run_storage = st;
	opts.run_id = "with-host";
	opts.host_json = "{\"worker\": \"w1@db\", \"queue\": \"default\"}";
	CHECK_OK(jobreg_run(&res, reg, st, "runjobs.Adds", &opts));
	jobreg_run_result_free(res);
	list = runs_where("with-host", NULL, NULL);
	CHECK_STR(jobreg_run_list_host_json(list, 0),
	          "{\"worker\": \"w1@db\", \"queue\": \"default\"}");
	jobreg_run_list_free(list);
	/* Too long, or not UTF-8: refused before anything runs or is stored. */
	big = malloc(65538);
	memset(big, ' ', 65537);
	big[65537] = '\0';
	opts.host_json = big;
	opts.run_id = "too-big";
	CHECK_INT(jobreg_run(&res, reg, st, "runjobs.Adds", &opts), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "host_json");
	free(big);
	list = runs_where("too-big", NULL, NULL);
	CHECK_INT((int)jobreg_run_list_count(list), 0);
	jobreg_run_list_free(list);
	teardown();
}

static void test_a_cancelled_run_is_revoked(void)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_run_result *res = NULL;
	jobreg_cancel *c = NULL;
	jobreg_run_list *list;

	setup(0);
	CHECK_OK(jobreg_cancel_new(&c));
	jobreg_cancel_request(c);
	opts.data_json = "{\"a\": 1}";
	opts.run_storage = st;
	opts.run_id = "cancelled-1";
	opts.cancel = c;
	CHECK_INT(jobreg_run(&res, reg, st, "runjobs.Adds", &opts), JOBREG_ECANCELED);
	CHECK_CONTAINS(jobreg_error_last()->message, "cancelled");
	list = runs_where("cancelled-1", NULL, NULL);
	CHECK_INT((int)jobreg_run_list_count(list), 1);
	CHECK_STR(jobreg_run_list_status(list, 0), "REVOKED");
	CHECK_STR(jobreg_run_list_error_type(list, 0), "RunCancelled");
	CHECK_CONTAINS(jobreg_run_list_error_message(list, 0), "cancelled before it started");
	jobreg_run_list_free(list);
	jobreg_cancel_free(c);
	teardown();
}

static void test_run_ids_are_checked_and_unique(void)
{
	jobreg_run_result *res;
	char long_id[202];

	setup(1);
	CHECK_OK(recorded_run(&res, "runjobs.Adds", "{\"a\": 1}", "same"));
	jobreg_run_result_free(res);
	CHECK_INT(recorded_run(&res, "runjobs.Adds", "{\"a\": 1}", "same"), JOBREG_EEXISTS);
	CHECK_CONTAINS(jobreg_error_last()->message, "'same'");
	CHECK_INT(recorded_run(&res, "runjobs.Adds", "{\"a\": 1}", ""), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "run_id");
	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	CHECK_INT(recorded_run(&res, "runjobs.Adds", "{\"a\": 1}", long_id), JOBREG_EINVAL);
	CHECK_INT(recorded_run(&res, "runjobs.Adds", "{\"a\": 1}", "\xff\xfe"), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "not UTF-8");
	teardown();
}

/* The memory backend's test hook fails the next transaction's first write. */
static void fail_next_write(int level, const char *level_name, const char *message,
                            const char *extra_json, void *payload)
{
	(void)level, (void)level_name, (void)message, (void)extra_json, (void)payload;
	setenv("JOBREG_TEST_MEMORY_FAIL_WRITE", "1", 1);
}

static void test_an_end_that_cannot_be_stored_keeps_the_result(void)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_run_result *res = NULL;
	jobreg_run_list *list;

	setup(0);
	opts.data_json = "{\"a\": 1}";
	opts.run_storage = st;
	opts.run_id = "stuck";
	opts.log = fail_next_write;
	CHECK_OK(jobreg_run(&res, reg, st, "runjobs.Adds", &opts));
	unsetenv("JOBREG_TEST_MEMORY_FAIL_WRITE");
	CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_SUCCESS);
	CHECK_STR(jobreg_run_result_json(res), "2");
	CHECK_STR(jobreg_run_result_run_id(res), "stuck");
	CHECK_CONTAINS(jobreg_run_result_record_error(res), "JOBREG_TEST_MEMORY_FAIL_WRITE");
	CHECK_INT(jobreg_error_last()->code, 0);
	jobreg_run_result_free(res);
	list = runs_where("stuck", NULL, NULL);
	CHECK_STR(jobreg_run_list_status(list, 0), "STARTED"); /* what the host will find */
	CHECK_STR(jobreg_run_list_finished(list, 0), "");
	jobreg_run_list_free(list);
	teardown();
}

/* A host backend of version 2: no run records. */
static int nop_begin(unsigned int flags, void *payload)
{
	(void)flags, (void)payload;
	return 0;
}
static int nop(void *payload)
{
	(void)payload;
	return 0;
}
static int read_none(jobreg_storage_emit_fn emit, void *emit_payload, void *payload)
{
	(void)emit, (void)emit_payload, (void)payload;
	return 0;
}
static int write_any(const jobreg_record *rec, void *payload)
{
	(void)rec, (void)payload;
	return 0;
}
static int delete_any(const char *id, void *payload)
{
	(void)id, (void)payload;
	return 0;
}

static void test_a_backend_without_runs_refuses_a_recorded_run(void)
{
	jobreg_storage_backend table = { 0 };
	jobreg_storage *plain = NULL;
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_run_result *res = NULL;
	jobreg_run_list *list = NULL;
	const char *marker;
	char data[600];

	table.version = 2;
	table.begin = nop_begin;
	table.commit = nop;
	table.rollback = nop;
	table.read_records = read_none;
	table.write_record = write_any;
	table.delete_record = delete_any;
	CHECK_OK(jobreg_storage_new(&plain, &table, NULL));
	CHECK_INT(jobreg_storage_runs(&list, plain, NULL), JOBREG_EUNSUPPORTED);
	CHECK(list == NULL);
	CHECK_CONTAINS(jobreg_error_last()->message, "keeps no run records");

	setup(0);
	marker = jr_path(jr_tmpdir(), "never.txt");
	snprintf(data, sizeof(data), "{\"a\": 1}");
	opts.data_json = data;
	opts.run_storage = plain;
	CHECK_INT(jobreg_run(&res, reg, st, "runjobs.Adds", &opts), JOBREG_EUNSUPPORTED);
	CHECK(res == NULL);
	CHECK_CONTAINS(jobreg_error_last()->message, "runjobs.Adds");
	CHECK(access(marker, F_OK) != 0);
	jobreg_storage_free(plain);
	teardown();
}

static void test_filters_and_options_are_checked(void)
{
	jobreg_run_filter f;
	jobreg_run_list *list = (jobreg_run_list *)1;
	jobreg_run_options opts;

	CHECK_OK(jobreg_run_filter_init(&f, 1));
	CHECK(f.id == NULL && f.job_id == NULL && f.status == NULL && f.limit == 0);
	CHECK_INT(jobreg_run_filter_init(&f, 2), JOBREG_EVERSION);
	CHECK_INT(jobreg_run_filter_init(NULL, 1), JOBREG_EINVAL);
	CHECK_OK(jobreg_run_options_init(&opts, 4));
	CHECK(opts.run_storage == NULL && opts.run_id == NULL);

	setup(0);
	f.status = "DONE";
	CHECK_INT(jobreg_storage_runs(&list, st, &f), JOBREG_EINVAL);
	CHECK(list == NULL);
	CHECK_CONTAINS(jobreg_error_last()->message, "\"DONE\"");
	f.status = NULL;
	f.version = 9;
	CHECK_INT(jobreg_storage_runs(&list, st, &f), JOBREG_EVERSION);
	CHECK_INT(jobreg_storage_runs(NULL, st, NULL), JOBREG_EINVAL);
	CHECK_INT(jobreg_storage_runs(&list, NULL, NULL), JOBREG_EINVAL);
	CHECK_STR(jobreg_run_result_run_id(NULL), "");
	CHECK_STR(jobreg_run_result_record_error(NULL), "");
	CHECK(jobreg_job_code_version(NULL) == NULL);
	teardown();
}

static void test_an_unrecorded_run_has_no_run_id(void)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_run_result *res = NULL;
	jobreg_run_list *list;

	setup(0);
	opts.data_json = "{\"a\": 1}";
	CHECK_OK(jobreg_run(&res, reg, st, "runjobs.Adds", &opts));
	CHECK_STR(jobreg_run_result_run_id(res), "");
	jobreg_run_result_free(res);
	list = runs_where(NULL, NULL, NULL);
	CHECK_INT((int)jobreg_run_list_count(list), 0);
	jobreg_run_list_free(list);
	teardown();
}

static const struct jr_test tests[] = {
	JR_TEST(success_and_failure_are_stored_in_memory),
	JR_TEST(success_and_failure_are_stored_in_sqlite),
	JR_TEST(a_run_is_stored_as_started_before_the_job_runs),
	JR_TEST(refusals_are_stored_as_failures),
	JR_TEST(the_host_json_is_kept_as_given),
	JR_TEST(a_cancelled_run_is_revoked),
	JR_TEST(run_ids_are_checked_and_unique),
	JR_TEST(an_end_that_cannot_be_stored_keeps_the_result),
	JR_TEST(a_backend_without_runs_refuses_a_recorded_run),
	JR_TEST(filters_and_options_are_checked),
	JR_TEST(an_unrecorded_run_has_no_run_id),
};

JR_TEST_MAIN_WITH_LIBRARY(tests)
