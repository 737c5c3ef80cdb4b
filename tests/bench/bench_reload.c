/*
 * bench_reload.c: a reload with nothing changed against a full load, for a
 * jobs root of MODULES modules x 5 jobs.
 *
 * usage: bench_reload [MODULES [RUNS]]   (default 400 modules, 50 runs)
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

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int modules = argc > 1 ? atoi(argv[1]) : 400;
	int runs = argc > 2 ? atoi(argv[2]) : 50, m, j, r, full_runs = 5;
	char tmp[] = "/tmp/jobreg-bench-reload-XXXXXX", path[4200], cmd[4300];
	double *reload = calloc(runs, sizeof(double)), full[5], t0;
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;

	setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
	if (!mkdtemp(tmp))
		return 1;
	for (m = 0; m < modules; m++) {
		FILE *f;
		snprintf(path, sizeof(path), "%s/group%02d", tmp, m / 20);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/group%02d/jobs_%03d.py", tmp, m / 20, m);
		f = fopen(path, "w");
		fprintf(f, "from jobreg.jobs import Job, register_jobs\n");
		for (j = 0; j < 5; j++)
			fprintf(f, "class Job%d(Job):\n    pass\n", j);
		fprintf(f, "register_jobs(Job0, Job1, Job2, Job3, Job4)\n");
		fclose(f);
	}
	if (jobreg_init(NULL) < 0 || jobreg_registry_new(&reg, NULL) < 0 ||
	    jobreg_source_dir_new(&src, tmp) < 0 || jobreg_registry_add_source(reg, src) < 0)
		return 1;
	for (r = 0; r < full_runs; r++) {
		t0 = now();
		if (jobreg_registry_load(reg) < 0)
			return 1;
		full[r] = now() - t0;
	}
	for (r = 0; r < runs; r++) {
		t0 = now();
		if (jobreg_registry_reload(reg) < 0)
			return 1;
		reload[r] = now() - t0;
	}
	qsort(full, full_runs, sizeof(double), compare);
	qsort(reload, runs, sizeof(double), compare);
	printf("jobs root: %d modules x 5 jobs, medians\n", modules);
	printf("full load:                  %8.2f ms\n", full[full_runs / 2] * 1e3);
	printf("reload, nothing changed:    %8.3f ms   (%.4f of a full load)\n",
	       reload[runs / 2] * 1e3, reload[runs / 2] / full[full_runs / 2]);
	jobreg_registry_free(reg);
	jobreg_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd);
}
