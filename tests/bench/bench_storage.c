/*
 * bench_storage.c: lookups of backend table version 3 (issue 15) at 10
 * and 10,000 records, on the in-memory and the SQLite backend: get by id,
 * get by class path, and a run's record check (resolve in the registry,
 * then the record by class path, as jobreg_run() does); and a refresh of
 * every record with nothing changed (must write 0 records): the first one,
 * and the best of REFRESHES more (a loaded machine makes one figure noisy).
 *
 * usage: bench_storage [ROUNDS]   (default 2000 lookups per figure)
 *
 * Prints figures only (microseconds per call); exits 1 when a lookup
 * fails or the unchanged refresh writes.
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

/* Unchanged refreshes timed after the first one. */
#define REFRESHES 5

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_storage: %s: %s\n", what, jobreg_error_last()->message);
	exit(2);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* `jobs` jobs in modules of at most 100. */
static void write_tree(const char *dir, int jobs)
{
	int m, j;

	for (m = 0; m * 100 < jobs; m++) {
		char path[4400];
		int n = jobs - m * 100 < 100 ? jobs - m * 100 : 100;
		FILE *f;

		snprintf(path, sizeof(path), "%s/bench_mod_%03d.py", dir, m);
		if (!(f = fopen(path, "w"))) {
			perror(path);
			exit(2);
		}
		fprintf(f, "from jobreg.jobs import Job, register_jobs\n\n");
		for (j = 0; j < n; j++)
			fprintf(f, "class Job%d(Job):\n    class Meta:\n        name = 'Job %d.%d'\n\n", j, m,
			        j);
		fprintf(f, "register_jobs(");
		for (j = 0; j < n; j++)
			fprintf(f, "%sJob%d", j ? ", " : "", j);
		fprintf(f, ")\n");
		fclose(f);
	}
}

static void bench(const char *backend, jobreg_storage *st, jobreg_registry *reg,
                  const jobreg_snapshot *snap, int rounds, int *failures)
{
	size_t count = jobreg_snapshot_job_count(snap), i;
	const jobreg_job *last = jobreg_snapshot_job(snap, count - 1);
	const char *path = jobreg_job_class_path(last);
	jobreg_refresh_result *res = NULL;
	jobreg_record *rec = NULL;
	char id[64];
	double t0, by_id, by_class, check, first = 0, best = 0;
	int r;

	if (jobreg_refresh(&res, st, snap, NULL) < 0)
		die("refresh");
	jobreg_refresh_result_free(res);
	if (jobreg_storage_get(&rec, st, path) < 0)
		die(path);
	snprintf(id, sizeof(id), "%s", jobreg_record_text(rec, JOBREG_FIELD_ID));
	jobreg_record_free(rec);

	t0 = now();
	for (r = 0; r < rounds; r++) {
		if (jobreg_storage_get(&rec, st, id) < 0)
			die("get by id");
		jobreg_record_free(rec);
	}
	by_id = (now() - t0) / rounds;
	t0 = now();
	for (r = 0; r < rounds; r++) {
		if (jobreg_storage_get(&rec, st, path) < 0)
			die("get by class path");
		jobreg_record_free(rec);
	}
	by_class = (now() - t0) / rounds;
	t0 = now();
	for (r = 0; r < rounds; r++) {
		jobreg_job *job = NULL;
		if (jobreg_registry_resolve(&job, reg, path) < 0 ||
		    jobreg_storage_get(&rec, st, jobreg_job_class_path(job)) < 0)
			die("record check");
		jobreg_record_free(rec);
		jobreg_job_free(job);
	}
	check = (now() - t0) / rounds;
	for (r = 0; r <= REFRESHES; r++) {
		double took;

		t0 = now();
		if (jobreg_refresh(&res, st, snap, NULL) < 0)
			die("refresh");
		took = now() - t0;
		if (r == 0)
			first = took;
		else if (r == 1 || took < best)
			best = took;
		if (jobreg_refresh_result_writes(res) != 0) {
			fprintf(stderr, "bench_storage: unchanged refresh wrote %zu records\n",
			        jobreg_refresh_result_writes(res));
			(*failures)++;
		}
		jobreg_refresh_result_free(res);
	}
	i = count;
	printf("%-7s %6zu records: get by id %8.2f us, get by class path %8.2f us, "
	       "run record check %8.2f us, unchanged refresh %8.2f ms (best of %d more %8.2f ms, "
	       "0 writes)\n",
	       backend, i, by_id * 1e6, by_class * 1e6, check * 1e6, first * 1e3, REFRESHES,
	       best * 1e3);
}

int main(int argc, char **argv)
{
	static const int sizes[] = { 10, 10000 };
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int rounds = argc > 1 ? atoi(argv[1]) : 2000, failures = 0;
	char root[4096];
	size_t s;

	if (rounds < 1) {
		fprintf(stderr, "usage: bench_storage [ROUNDS >= 1]\n");
		return 2;
	}
	if (jobreg_init(NULL) < 0)
		die("init");
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		char jobs_dir[4200], db[4200];
		jobreg_registry *reg = NULL;
		jobreg_source *src = NULL;
		jobreg_snapshot *snap = NULL;
		jobreg_storage *st = NULL;

		snprintf(root, sizeof(root), "%s/jobreg-bench-XXXXXX", tmp);
		if (!mkdtemp(root)) {
			perror("mkdtemp");
			return 2;
		}
		snprintf(jobs_dir, sizeof(jobs_dir), "%s/jobs", root);
		snprintf(db, sizeof(db), "%s/jobreg.db", root);
		mkdir(jobs_dir, 0755);
		write_tree(jobs_dir, sizes[s]);
		if (jobreg_registry_new(&reg, NULL) < 0 || jobreg_source_dir_new(&src, jobs_dir) < 0 ||
		    jobreg_registry_add_source(reg, src) < 0 || jobreg_registry_load(reg) < 0 ||
		    jobreg_registry_snapshot(&snap, reg) < 0)
			die("load");
		if (jobreg_storage_memory_new(&st) < 0)
			die("memory storage");
		bench("memory", st, reg, snap, rounds, &failures);
		jobreg_storage_free(st);
		if (jobreg_storage_sqlite_open(&st, db, NULL) < 0)
			die("sqlite storage");
		bench("sqlite", st, reg, snap, rounds, &failures);
		jobreg_storage_free(st);
		jobreg_snapshot_free(snap);
		jobreg_registry_free(reg);
		nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	jobreg_shutdown();
	return failures ? 1 : 0;
}
