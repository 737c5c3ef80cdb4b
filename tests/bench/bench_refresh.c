/*
 * bench_refresh.c: what a refresh of many records costs, on the in-memory
 * and the SQLite backend: creating them, refreshing with nothing changed
 * (must write 0 records) and with one job changed (must write 1).
 *
 * usage: bench_refresh [JOBS [RUNS]]   (default 10000 5)
 *
 * The jobs are real: JOBS/100 modules of 100 classes in a temporary jobs
 * root, loaded once per state. Times are medians of RUNS refreshes. Exits
 * 1 when a refresh writes another number of records than it must.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <jobreg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PER_MODULE 100

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_refresh: %s: %s\n", what, jobreg_error_last()->message);
	exit(2);
}

/* Module m of the tree; `changed` gives job 0 of module 0 another description. */
static void write_module(const char *root, int m, int jobs, int changed)
{
	char path[4096];
	FILE *f;
	int j;

	snprintf(path, sizeof(path), "%s/bench_jobs_%03d.py", root, m);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	fprintf(f, "from jobreg.jobs import Job, register_jobs\n\nname = 'Group %d'\n\n", m);
	for (j = 0; j < jobs; j++)
		fprintf(f, "class Job%d(Job):\n"
		           "    class Meta:\n"
		           "        name = 'Job %d of module %d'\n"
		           "        description = 'Does thing %d%s.'\n"
		           "        task_queues = ['default']\n\n"
		           "    def run(self):\n"
		           "        pass\n\n",
		        j, j, m, j, (changed && m == 0 && j == 0) ? ", differently" : "");
	fprintf(f, "register_jobs(");
	for (j = 0; j < jobs; j++)
		fprintf(f, "%sJob%d", j ? ", " : "", j);
	fprintf(f, ")\n");
	fclose(f);
}

static jobreg_snapshot *load(jobreg_registry *reg)
{
	jobreg_snapshot *snap = NULL;
	if (jobreg_registry_load(reg) < 0 || jobreg_registry_snapshot(&snap, reg) < 0)
		die("load");
	if (jobreg_snapshot_load_error_count(snap))
		fprintf(stderr, "bench_refresh: %zu load errors\n", jobreg_snapshot_load_error_count(snap));
	return snap;
}

/* One refresh: its time in seconds, its writes in *writes. */
static double timed_refresh(jobreg_storage *st, const jobreg_snapshot *snap, size_t *writes)
{
	jobreg_refresh_result *res = NULL;
	double t0 = now(), t;

	if (jobreg_refresh(&res, st, snap, NULL) < 0)
		die("refresh");
	t = now() - t0;
	*writes = jobreg_refresh_result_writes(res);
	jobreg_refresh_result_free(res);
	return t;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), compare_doubles);
	return v[n / 2];
}

static int failures;

static void expect_writes(const char *what, size_t writes, size_t expected)
{
	if (writes != expected) {
		fprintf(stderr, "bench_refresh: %s wrote %zu records, expected %zu\n", what, writes, expected);
		failures++;
	}
}

static void bench(const char *backend, jobreg_storage *st, const jobreg_snapshot *base,
                  const jobreg_snapshot *one_changed, int jobs, int runs)
{
	double *times = calloc((size_t)runs, sizeof(double)), created;
	size_t writes = 0;
	int r;

	created = timed_refresh(st, base, &writes);
	expect_writes("the first refresh", writes, (size_t)jobs);
	printf("%-7s create %6d records       %9.2f ms  (%zu writes)\n", backend, jobs, created * 1e3,
	       writes);

	for (r = 0; r < runs; r++) {
		times[r] = timed_refresh(st, base, &writes);
		expect_writes("a refresh with nothing changed", writes, 0);
	}
	printf("%-7s refresh, nothing changed  %9.2f ms  (%zu writes)\n", backend,
	       median(times, runs) * 1e3, writes);

	/* Alternate the two states: each refresh has exactly one job changed. */
	for (r = 0; r < runs; r++) {
		times[r] = timed_refresh(st, r % 2 ? base : one_changed, &writes);
		expect_writes("a refresh with one job changed", writes, 1);
	}
	printf("%-7s refresh, one job changed  %9.2f ms  (%zu writes)\n", backend,
	       median(times, runs) * 1e3, writes);
	free(times);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

int main(int argc, char **argv)
{
	int jobs = argc > 1 ? atoi(argv[1]) : 10000, runs = argc > 2 ? atoi(argv[2]) : 5;
	int modules, m;
	char root[4096], jobs_dir[4200], db[4200];
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;
	jobreg_snapshot *base, *changed;
	jobreg_storage *st = NULL;

	if (jobs < PER_MODULE || runs < 1) {
		fprintf(stderr, "usage: bench_refresh [JOBS >= %d [RUNS >= 1]]\n", PER_MODULE);
		return 2;
	}
	modules = jobs / PER_MODULE;
	jobs = modules * PER_MODULE;
	snprintf(root, sizeof(root), "%s/jobreg-bench-XXXXXX", tmp);
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(jobs_dir, sizeof(jobs_dir), "%s/jobs", root);
	snprintf(db, sizeof(db), "%s/jobreg.db", root);
	mkdir(jobs_dir, 0755);
	for (m = 0; m < modules; m++)
		write_module(jobs_dir, m, PER_MODULE, 0);

	if (jobreg_init(NULL) < 0)
		die("init");
	if (jobreg_registry_new(&reg, NULL) < 0 || jobreg_source_dir_new(&src, jobs_dir) < 0 ||
	    jobreg_registry_add_source(reg, src) < 0)
		die("registry");
	base = load(reg);
	write_module(jobs_dir, 0, PER_MODULE, 1);
	changed = load(reg);
	printf("bench_refresh: %d jobs in %d modules, median of %d runs\n",
	       (int)jobreg_snapshot_job_count(base), modules, runs);

	if (jobreg_storage_memory_new(&st) < 0)
		die("memory storage");
	bench("memory", st, base, changed, jobs, runs);
	jobreg_storage_free(st);

	if (jobreg_storage_sqlite_open(&st, db, NULL) < 0)
		die("sqlite storage");
	bench("sqlite", st, base, changed, jobs, runs);
	jobreg_storage_free(st);

	jobreg_snapshot_free(base);
	jobreg_snapshot_free(changed);
	jobreg_registry_free(reg);
	jobreg_shutdown();
	nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return failures ? 1 : 0;
}
