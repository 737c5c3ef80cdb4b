/* test_threads.c: resolves and snapshots in other threads during loads (SPEC 3). */
#include <pthread.h>
#include <time.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "loadutil.h"
#include "records_fixture.h"

#define JOBS_PER_MODULE 5
#define READERS 3
#define RELOADS 12

static jobreg_registry *shared;
static atomic_int stop;
static atomic_long resolves, mixed, failures;

/* Version `v` of the tree: every job's name carries the version, so a
 * snapshot that mixed two loads would show two versions. */
static void write_version(const char *dir, int v)
{
	char text[4096], name[64];
	int m, j;

	for (m = 0; m < 4; m++) {
		int len = snprintf(text, sizeof(text), "from jobreg.jobs import Job, register_jobs\n");
		for (j = 0; j < JOBS_PER_MODULE; j++)
			len += snprintf(text + len, sizeof(text) - len,
			                "class Job%d(Job):\n    class Meta:\n        name = 'v%d m%d j%d'\n", j,
			                v, m, j);
		len += snprintf(text + len, sizeof(text) - len, "register_jobs(%s)\n",
		                "Job0, Job1, Job2, Job3, Job4");
		snprintf(name, sizeof(name), "mod%d.py", m);
		jr_write(dir, name, text);
	}
}

static void *reader(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		jobreg_job *job = NULL;
		jobreg_snapshot *snap = NULL;
		size_t i;
		char version[8] = "";

		if (jobreg_registry_resolve(&job, shared, "mod2.Job3") == 0) {
			if (strncmp(jobreg_job_name(job), "v", 1) != 0)
				atomic_fetch_add(&failures, 1);
			jobreg_job_free(job);
		} else {
			atomic_fetch_add(&failures, 1);
		}
		atomic_fetch_add(&resolves, 1);
		if (jobreg_registry_snapshot(&snap, shared) < 0) {
			atomic_fetch_add(&failures, 1);
			continue;
		}
		for (i = 0; i < jobreg_snapshot_job_count(snap); i++) {
			const char *name = jobreg_job_name(jobreg_snapshot_job(snap, i));
			const char *space = strchr(name, ' ');
			if (!version[0])
				snprintf(version, sizeof(version), "%.*s", (int)(space - name), name);
			else if (strncmp(name, version, strlen(version)) != 0 || name[strlen(version)] != ' ')
				atomic_fetch_add(&mixed, 1);
		}
		if (jobreg_snapshot_job_count(snap) != 4 * JOBS_PER_MODULE)
			atomic_fetch_add(&failures, 1);
		jobreg_snapshot_free(snap);
	}
	return NULL;
}

static void test_concurrent_resolve_during_reload_sees_whole_generations(void)
{
	const char *dir = jr_tmpdir();
	pthread_t threads[READERS];
	jobreg_job *kept = NULL;
	int i;

	write_version(dir, 0);
	shared = load_jobs_root(dir);
	/* A reference taken before the reloads outlives them all. */
	CHECK_OK(jobreg_registry_resolve(&kept, shared, "mod0.Job0"));
	for (i = 0; i < READERS; i++)
		CHECK(pthread_create(&threads[i], NULL, reader, NULL) == 0);
	for (i = 1; i <= RELOADS; i++) {
		write_version(dir, i);
		CHECK_OK(jobreg_registry_load(shared));
	}
	atomic_store(&stop, 1);
	for (i = 0; i < READERS; i++)
		pthread_join(threads[i], NULL);
	CHECK_INT(atomic_load(&mixed), 0);
	CHECK_INT(atomic_load(&failures), 0);
	CHECK(atomic_load(&resolves) > 0);
	if (kept)
		CHECK_STR(jobreg_job_name(kept), "v0 m0 j0");
	jobreg_job_free(kept);

	{
		jobreg_snapshot *snap = take_snapshot(shared);
		char expected[32];
		snprintf(expected, sizeof(expected), "v%d m1 j1", RELOADS);
		CHECK_STR(jobreg_job_name(job_at(snap, "mod1.Job1")), expected);
		CHECK_INT(jobreg_snapshot_generation(snap), RELOADS + 1);
		jobreg_snapshot_free(snap);
	}
	jobreg_registry_free(shared);
}

/* Loads from several threads at once are serialized, never interleaved. */
static void *loader_thread(void *arg)
{
	int i;
	for (i = 0; i < 3; i++) {
		if (jobreg_registry_load(arg) < 0)
			atomic_fetch_add(&failures, 1);
	}
	return NULL;
}

static void test_loads_from_several_threads_are_serialized(void)
{
	const char *dir = jr_tmpdir();
	pthread_t threads[3];
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	int i;

	atomic_store(&failures, 0);
	write_version(dir, 7);
	reg = load_jobs_root(dir);
	for (i = 0; i < 3; i++)
		CHECK(pthread_create(&threads[i], NULL, loader_thread, reg) == 0);
	for (i = 0; i < 3; i++)
		pthread_join(threads[i], NULL);
	CHECK_INT(atomic_load(&failures), 0);
	snap = take_snapshot(reg);
	CHECK_INT(jobreg_snapshot_generation(snap), 10);
	CHECK_INT(jobreg_snapshot_job_count(snap), 4 * JOBS_PER_MODULE);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 0);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static atomic_int endless_done;

static void *load_endless(void *reg)
{
	if (jobreg_registry_load(reg) < 0)
		atomic_fetch_add(&failures, 1);
	atomic_store(&endless_done, 1);
	return NULL;
}

static void test_time_limits_of_registries_loading_at_once_are_their_own(void)
{
	const char *endless_dir = jr_tmpdir(), *slow_dir = jr_tmpdir();
	const char *started = jr_path(endless_dir, "started");
	char module[1024];
	jobreg_registry *endless, *slow;
	jobreg_snapshot *snap;
	pthread_t thread;
	int waited;

	/* One registry (limit 0.5 s) imports an endless module in a thread;
	 * while it runs, another (limit 60 s) imports a module that takes
	 * 0.3 s. Finishing the second must not stop the first one's clock,
	 * and the first one's short limit must not cut the second. */
	snprintf(module, sizeof(module),
	         "open('%s', 'w').close()\n"
	         "while True:\n"
	         "    pass\n",
	         started); /* a temporary path: no quotes in it */
	jr_write(endless_dir, "endless_import.py", module);
	jr_write(slow_dir, "slow_import.py",
	         "import time\n"
	         "end = time.monotonic() + 0.3\n"
	         "while time.monotonic() < end:\n"
	         "    pass\n"
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class Finished(Job):\n"
	         "    pass\n"
	         "register_jobs(Finished)\n");
	endless = jobs_root_registry(endless_dir, 500);
	slow = jobs_root_registry(slow_dir, 60000);
	atomic_store(&failures, 0);
	atomic_store(&endless_done, 0);

	CHECK(pthread_create(&thread, NULL, load_endless, endless) == 0);
	for (waited = 0; access(started, F_OK) != 0 && waited < 10000; waited += 10)
		usleep(10000);
	CHECK_OK(jobreg_registry_load(slow));
	for (waited = 0; !atomic_load(&endless_done) && waited < 20000; waited += 10)
		usleep(10000);
	if (!atomic_load(&endless_done)) {
		fprintf(stderr, "the endless import was never interrupted\n");
		_exit(1); /* its thread cannot be joined */
	}
	pthread_join(thread, NULL);
	CHECK_INT(atomic_load(&failures), 0);

	snap = take_snapshot(slow);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 0);
	CHECK(job_at(snap, "slow_import.Finished") != NULL);
	jobreg_snapshot_free(snap);

	snap = take_snapshot(endless);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 1);
	if (jobreg_snapshot_load_error_count(snap) == 1)
		CHECK_STR(jobreg_load_error_type(jobreg_snapshot_load_error(snap, 0)),
		          "ImportTimeLimitExceeded");
	jobreg_snapshot_free(snap);
	jobreg_registry_free(slow);
	jobreg_registry_free(endless);
}

/* ---- runs that import a sibling module while another thread reloads ---- */

static atomic_long runs, run_failures;

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}
static char run_error[512];

/* Runs `runner.ImportsSibling` until told to stop; counts what failed. */
static void *run_sibling_importer(void *arg)
{
	jobreg_record *rec = make_record("1", "local", "", "runner", "ImportsSibling",
	                                 "Imports sibling", 1, 1);
	(void)arg;
	while (!atomic_load(&stop)) {
		jobreg_job *job = NULL;
		jobreg_run_result *res = NULL;

		if (jobreg_registry_resolve(&job, shared, "runner.ImportsSibling") < 0 ||
		    jobreg_job_run(&res, job, rec, NULL) < 0 ||
		    jobreg_run_result_status(res) != JOBREG_RUN_SUCCESS) {
			if (atomic_fetch_add(&run_failures, 1) == 0)
				snprintf(run_error, sizeof(run_error), "%s: %s",
				         res ? jobreg_run_result_error_type(res) : "refused",
				         res ? jobreg_run_result_error_message(res) : jobreg_error_last()->message);
		}
		atomic_fetch_add(&runs, 1);
		jobreg_run_result_free(res);
		jobreg_job_free(job);
	}
	jobreg_record_free(rec);
	return NULL;
}

/*
 * A job whose run() imports a sibling module of its jobs root never fails
 * because another thread reloads that jobs root meanwhile (workers reload
 * before runs while other threads run jobs). The reloads really re-import:
 * the sibling changes every time.
 */
static void test_a_run_importing_a_sibling_never_fails_during_reloads(void)
{
	const char *dir = jr_tmpdir();
	char text[256];
	pthread_t thread;
	double end;
	int version = 0;

	jr_write(dir, "runner.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class ImportsSibling(Job):\n"
	         "    def run(self):\n"
	         "        import sibling\n"
	         "        return sibling.VERSION\n"
	         "register_jobs(ImportsSibling)\n");
	jr_write(dir, "sibling.py", "VERSION = 0\n");
	shared = load_jobs_root(dir);
	atomic_store(&stop, 0);
	atomic_store(&runs, 0);
	atomic_store(&run_failures, 0);
	CHECK(pthread_create(&thread, NULL, run_sibling_importer, NULL) == 0);
	end = now_seconds() + 3.0;
	while (now_seconds() < end || atomic_load(&runs) < 200) {
		version++;
		snprintf(text, sizeof(text), "VERSION = %d\n# %*s\n", version, version % 50, "");
		jr_write(dir, "sibling.py", text);
		CHECK_OK(jobreg_registry_reload(shared));
		if (now_seconds() > end + 30)
			break; /* the runner is stuck: its count tells */
	}
	atomic_store(&stop, 1);
	pthread_join(thread, NULL);
	if (atomic_load(&run_failures))
		fprintf(stderr, "%ld of %ld runs failed, the first: %s\n", atomic_load(&run_failures),
		        atomic_load(&runs), run_error);
	CHECK_INT((int)atomic_load(&run_failures), 0);
	CHECK(atomic_load(&runs) >= 200);
	CHECK(version > 20);
	jobreg_registry_free(shared);
	shared = NULL;
}

static const struct jr_test tests[] = {
	{ "concurrent_resolve_during_reload_sees_whole_generations",
	  test_concurrent_resolve_during_reload_sees_whole_generations },
	{ "loads_from_several_threads_are_serialized", test_loads_from_several_threads_are_serialized },
	{ "time_limits_of_registries_loading_at_once_are_their_own",
	  test_time_limits_of_registries_loading_at_once_are_their_own },
	JR_TEST(a_run_importing_a_sibling_never_fails_during_reloads),
};

JR_TEST_MAIN_WITH_LIBRARY(tests)
