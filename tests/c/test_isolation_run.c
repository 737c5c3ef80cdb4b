/*
 * test_isolation_run.c: runs in isolation mode (issue 14): a run in a worker
 * reaches the host's log, file and host-operation callbacks as in-process;
 * a crash or exit is a failed run, the hard time limit and a cancel kill
 * the worker of a run blocked in a call, a soft limit is raised in the job,
 * and the next run gets a new worker.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "loadutil.h"

static jobreg_registry *isolated_registry(const char *dir, unsigned int memory_mb)
{
	jobreg_registry_options opts = JOBREG_REGISTRY_OPTIONS_INIT;
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;

	opts.isolation = JOBREG_ISOLATION_PROCESS;
	opts.worker_memory_limit_mb = memory_mb;
	CHECK_OK(jobreg_registry_new(&reg, &opts));
	CHECK_OK(jobreg_source_dir_new(&src, dir));
	CHECK_OK(jobreg_registry_add_source(reg, src));
	return reg;
}

#define RUN_JOBS                                                          \
	"import os, sys, time, threading\n"                                   \
	"from jobreg.jobs import Job, register_jobs, StringVar\n"             \
	"class Echo(Job):\n"                                                  \
	"    text = StringVar()\n"                                            \
	"    def run(self, text):\n"                                          \
	"        self.logger.info('echo %s', text)\n"                         \
	"        print('printed', text)\n"                                    \
	"        self.create_file('echo.txt', text)\n"                        \
	"        return {'text': text, 'pid': os.getpid()}\n"                 \
	"class Crash(Job):\n"                                                 \
	"    def run(self):\n"                                                \
	"        import ctypes\n"                                             \
	"        ctypes.string_at(0)\n"                                       \
	"class Exit(Job):\n"                                                  \
	"    def run(self):\n"                                                \
	"        os._exit(7)\n"                                               \
	"class Sleeps(Job):\n"                                                \
	"    class Meta:\n"                                                   \
	"        time_limit = 0.5\n"                                          \
	"    def run(self):\n"                                                \
	"        time.sleep(60)\n"                                            \
	"class Soft(Job):\n"                                                  \
	"    class Meta:\n"                                                   \
	"        soft_time_limit = 0.2\n"                                     \
	"    def run(self):\n"                                                \
	"        try:\n"                                                      \
	"            while True:\n"                                           \
	"                pass\n"                                              \
	"        except Exception as exc:\n"                                  \
	"            return 'cleaned up after ' + type(exc).__name__\n"       \
	"class Forks(Job):\n"                                                 \
	"    def run(self):\n"                                                \
	"        os.fork()\n"                                                 \
	"        return 'once'\n"                                             \
	"class Threads(Job):\n"                                               \
	"    def run(self):\n"                                                \
	"        threading.Thread(target=time.sleep, args=(3600,)).start()\n" \
	"        return 'left a thread'\n"                                    \
	"class Host(Job):\n"                                                  \
	"    def run(self):\n"                                                \
	"        from jobreg.jobs import get_celery_queues\n"                 \
	"        return get_celery_queues()\n"                                \
	"register_jobs(Echo, Crash, Exit, Sleeps, Soft, Forks, Threads, Host)\n"

static jobreg_registry *run_reg;
static jobreg_storage *run_st;

static void setup_runs(void)
{
	const char *dir = jr_tmpdir();
	jobreg_snapshot *snap;

	jr_write(dir, "runjobs.py", RUN_JOBS);
	run_reg = isolated_registry(dir, 512);
	CHECK_OK(jobreg_registry_load(run_reg));
	snap = take_snapshot(run_reg);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_job_count(snap), 8);
	run_st = enabled_records(snap);
	jobreg_snapshot_free(snap);
}

static void teardown_runs(void)
{
	jobreg_storage_free(run_st);
	jobreg_registry_free(run_reg);
	run_st = NULL;
	run_reg = NULL;
}

struct seen {
	char log[512];
	char file[64];
	int files;
};

static void record_log(int level, const char *name, const char *message, const char *extra,
                       void *payload)
{
	struct seen *seen = payload;
	size_t n = strlen(seen->log);

	(void)extra;
	snprintf(seen->log + n, sizeof(seen->log) - n, "%d %s %s|", level, name, message);
}

static int record_file(const char *name, const unsigned char *data, size_t size, void *payload)
{
	struct seen *seen = payload;

	snprintf(seen->file, sizeof(seen->file), "%s=%.*s", name, (int)size, (const char *)data);
	seen->files++;
	return 0;
}

static int serve_host(jobreg_host_reply *reply, const char *operation, const char *args_json,
                      void *payload)
{
	(void)args_json;
	(void)payload;
	if (strcmp(operation, "get_celery_queues") != 0)
		return JOBREG_ENOTFOUND;
	return jobreg_host_reply_set_json(reply, "{\"default\": 2}");
}

/* Run `ref` with `data`; the result (free it), or NULL when refused. */
static jobreg_run_result *run_job(const char *ref, const char *data, struct seen *seen)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_run_result *res = NULL;

	opts.data_json = data;
	opts.log = record_log;
	opts.log_payload = seen;
	opts.file = record_file;
	opts.file_payload = seen;
	opts.host = serve_host;
	if (jobreg_run(&res, run_reg, run_st, ref, &opts) < 0)
		return NULL;
	return res;
}

static void check_failed(jobreg_run_result *res, const char *type, const char *said)
{
	CHECK(res != NULL);
	if (!res)
		return;
	CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_FAILED);
	CHECK_STR(jobreg_run_result_error_type(res), type);
	CHECK_CONTAINS(jobreg_run_result_error_message(res), said);
	jobreg_run_result_free(res);
}

static void test_a_run_in_a_worker_reaches_the_host_callbacks(void)
{
	struct seen seen = { "", "", 0 };
	jobreg_run_result *res = run_job("runjobs.Echo", "{\"text\": \"hi\"}", &seen);
	char pid[32];

	CHECK(res != NULL);
	if (!res)
		return;
	CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_SUCCESS);
	CHECK_CONTAINS(jobreg_run_result_json(res), "\"text\": \"hi\"");
	snprintf(pid, sizeof(pid), "\"pid\": %d}", (int)getpid());
	CHECK(strstr(jobreg_run_result_json(res), pid) == NULL); /* not the host's process */
	CHECK_CONTAINS(seen.log, "20 INFO echo hi|");
	CHECK_CONTAINS(seen.log, "printed hi");
	CHECK_STR(seen.file, "echo.txt=hi");
	CHECK_INT(jobreg_run_result_file_count(res), 1);
	CHECK_STR(jobreg_run_result_file_name(res, 0), "echo.txt");
	jobreg_run_result_free(res);

	res = run_job("runjobs.Host", NULL, &seen);
	CHECK(res != NULL);
	if (res)
		CHECK_STR(jobreg_run_result_json(res), "{\"default\": 2}");
	jobreg_run_result_free(res);

	/* Bad input is refused as in the host's process. */
	CHECK(run_job("runjobs.Echo", "{}", &seen) == NULL);
	CHECK_INT(jobreg_error_last()->code, JOBREG_EVALIDATION);
	CHECK_CONTAINS(jobreg_error_last()->message, "text");
}

static void test_a_crash_or_exit_in_run_is_a_failed_run(void)
{
	struct seen seen = { "", "", 0 };
	jobreg_run_result *res;

	check_failed(run_job("runjobs.Crash", NULL, &seen), "WorkerDied", JR_WORKER_CRASHED);
	check_failed(run_job("runjobs.Exit", NULL, &seen), "WorkerDied", "exited with status 7");
	/* The next run gets a new worker. */
	res = run_job("runjobs.Echo", "{\"text\": \"again\"}", &seen);
	CHECK(res != NULL);
	CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_SUCCESS);
	jobreg_run_result_free(res);
}

static void test_time_limits_hold_in_a_worker(void)
{
	struct seen seen = { "", "", 0 };
	jobreg_run_result *res;

	check_failed(run_job("runjobs.Sleeps", NULL, &seen), "TimeLimitExceeded",
	             "time limit of 0.5 s; its worker process was killed");
	res = run_job("runjobs.Soft", NULL, &seen);
	CHECK(res != NULL);
	if (res)
		CHECK_STR(jobreg_run_result_json(res), "\"cleaned up after SoftTimeLimitExceeded\"");
	jobreg_run_result_free(res);
}

static void test_fork_and_threads_in_run_stay_in_the_worker(void)
{
	struct seen seen = { "", "", 0 };
	jobreg_run_result *res = run_job("runjobs.Forks", NULL, &seen);

	CHECK(res != NULL);
	if (res)
		CHECK_STR(jobreg_run_result_json(res), "\"once\"");
	jobreg_run_result_free(res);
	res = run_job("runjobs.Threads", NULL, &seen);
	CHECK(res != NULL);
	if (res)
		CHECK_STR(jobreg_run_result_json(res), "\"left a thread\"");
	jobreg_run_result_free(res);
}

struct canceller {
	jobreg_cancel *token;
};

static void *cancel_soon(void *arg)
{
	struct canceller *c = arg;

	usleep(200 * 1000);
	jobreg_cancel_request(c->token);
	return NULL;
}

static void test_cancel_kills_the_worker_of_a_blocked_run(void)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_run_result *res = NULL;
	struct canceller c = { NULL };
	pthread_t thread;
	struct seen seen = { "", "", 0 };

	CHECK_OK(jobreg_cancel_new(&c.token));
	opts.cancel = c.token;
	opts.default_time_limit = 0;
	CHECK(pthread_create(&thread, NULL, cancel_soon, &c) == 0);
	/* Sleeps blocks in time.sleep(): only killing its worker stops it. */
	CHECK_INT(jobreg_run(&res, run_reg, run_st, "runjobs.Threads", &opts), 0);
	jobreg_run_result_free(res);
	res = NULL;
	opts.default_time_limit = 0;
	{
		jobreg_run_options sleepy = opts;
		int rc = jobreg_run(&res, run_reg, run_st, "runjobs.Sleeps", &sleepy);

		/* Sleeps has a 0.5 s hard limit: the cancel at 0.2 s comes first. */
		CHECK_INT(rc, JOBREG_ECANCELED);
		CHECK(res == NULL);
		CHECK_CONTAINS(jobreg_error_last()->message, "runjobs.Sleeps");
	}
	pthread_join(thread, NULL);
	jobreg_cancel_free(c.token);
	res = run_job("runjobs.Echo", "{\"text\": \"after\"}", &seen);
	CHECK(res != NULL);
	jobreg_run_result_free(res);
}

static void test_a_worker_killed_while_idle_is_replaced_unnoticed(void)
{
	struct seen seen = { "", "", 0 };
	jobreg_run_result *res = run_job("runjobs.Echo", "{\"text\": \"one\"}", &seen);
	const char *pid_at;
	int pid = 0;

	CHECK(res != NULL);
	if (!res)
		return;
	pid_at = strstr(jobreg_run_result_json(res), "\"pid\": ");
	CHECK(pid_at != NULL);
	if (pid_at)
		pid = atoi(pid_at + 7);
	jobreg_run_result_free(res);
	CHECK(pid > 0 && pid != (int)getpid());
	if (pid <= 0 || pid == (int)getpid())
		return;
	CHECK_INT(kill(pid, SIGKILL), 0);
	usleep(200 * 1000); /* gone, not reaped yet */
	res = run_job("runjobs.Echo", "{\"text\": \"two\"}", &seen);
	CHECK(res != NULL);
	if (res) {
		CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_SUCCESS);
		CHECK_CONTAINS(jobreg_run_result_json(res), "\"two\"");
	}
	jobreg_run_result_free(res);
}

static const struct jr_test tests[] = {
	JR_TEST(a_run_in_a_worker_reaches_the_host_callbacks),
	JR_TEST(a_crash_or_exit_in_run_is_a_failed_run),
	JR_TEST(time_limits_hold_in_a_worker),
	JR_TEST(fork_and_threads_in_run_stay_in_the_worker),
	JR_TEST(cancel_kills_the_worker_of_a_blocked_run),
	JR_TEST(a_worker_killed_while_idle_is_replaced_unnoticed),
};

JR_SUITE_MAIN_WITH_LIBRARY(tests, setup_runs, teardown_runs)
