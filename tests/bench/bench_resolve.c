/*
 * bench_resolve.c: lookups per second of jobreg_registry_resolve() (with its
 * reference taken and released) and of jobreg_snapshot_resolve(), on one
 * thread, over a registry of 2,000 jobs; class paths and misses mixed.
 *
 * usage: bench_resolve [LOOKUPS]   (default 5,000,000)
 */
#include <jobreg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long lookups = argc > 1 ? atol(argv[1]) : 5000000, i, found = 0;
	char tmp[] = "/tmp/jobreg-bench-resolve-XXXXXX", path[4200], cmd[4300];
	static char refs[2100][64];
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;
	jobreg_snapshot *snap = NULL;
	double t0, registry_rate, snapshot_rate;
	int m, j;

	setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
	if (!mkdtemp(tmp))
		return 1;
	for (m = 0; m < 400; m++) {
		FILE *f;
		snprintf(path, sizeof(path), "%s/mod_%03d.py", tmp, m);
		f = fopen(path, "w");
		fprintf(f, "from jobreg.jobs import Job, register_jobs\n");
		for (j = 0; j < 5; j++) {
			fprintf(f, "class Job%d(Job):\n    pass\n", j);
			snprintf(refs[m * 5 + j], sizeof(refs[0]), "mod_%03d.Job%d", m, j);
		}
		fprintf(f, "register_jobs(Job0, Job1, Job2, Job3, Job4)\n");
		fclose(f);
	}
	for (i = 2000; i < 2100; i++)
		snprintf(refs[i], sizeof(refs[0]), "mod_%03ld.Missing", i - 2000);
	if (jobreg_init(NULL) < 0 || jobreg_registry_new(&reg, NULL) < 0 ||
	    jobreg_source_dir_new(&src, tmp) < 0 || jobreg_registry_add_source(reg, src) < 0 ||
	    jobreg_registry_load(reg) < 0)
		return 1;

	t0 = now();
	for (i = 0; i < lookups; i++) {
		jobreg_job *job;
		if (jobreg_registry_resolve(&job, reg, refs[i % 2100]) == 0) {
			found++;
			jobreg_job_free(job);
		}
	}
	registry_rate = lookups / (now() - t0);

	jobreg_registry_snapshot(&snap, reg);
	t0 = now();
	for (i = 0; i < lookups; i++) {
		const jobreg_job *job;
		found += jobreg_snapshot_resolve(&job, snap, refs[i % 2100]) == 0;
	}
	snapshot_rate = lookups / (now() - t0);

	printf("2000 jobs, %ld lookups each way (1 in 21 a miss)\n", lookups);
	printf("jobreg_registry_resolve + jobreg_job_free: %6.2f M lookups/s\n", registry_rate / 1e6);
	printf("jobreg_snapshot_resolve:                   %6.2f M lookups/s\n", snapshot_rate / 1e6);
	printf("(found %ld)\n", found);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
	jobreg_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd);
}
