/*
 * bench_reload.c: a reload with nothing changed against a full load, for a
 * jobs root of MODULES modules (in packages of 20) x 5 jobs, in both modes
 * (in-process and isolation); the reload also with JOBREG_NO_INOTIFY set,
 * which walks the tree every time (docs/architecture.md, "Reloads").
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

static double median(double *t, int n)
{
	qsort(t, n, sizeof(double), compare);
	return t[n / 2];
}

/* The median of `runs` reloads with nothing changed, in seconds. */
static double time_reloads(jobreg_registry *reg, double *t, int runs)
{
	int r;

	for (r = 0; r < runs; r++) {
		double t0 = now();
		if (jobreg_registry_reload(reg) < 0) {
			fprintf(stderr, "reload: %s\n", jobreg_error_last()->message);
			exit(1);
		}
		t[r] = now() - t0;
	}
	return median(t, runs);
}

/* Full loads, then reloads with and without inotify, in one mode. */
static int bench_mode(const char *root, int isolation, int modules, int runs)
{
	jobreg_registry_options opts = JOBREG_REGISTRY_OPTIONS_INIT;
	double *t = calloc(runs > 5 ? runs : 5, sizeof(double)), full, watched, walked;
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;
	int r;

	opts.isolation = isolation;
	if (!t || jobreg_registry_new(&reg, &opts) < 0 || jobreg_source_dir_new(&src, root) < 0 ||
	    jobreg_registry_add_source(reg, src) < 0)
		return 1;
	for (r = 0; r < 5; r++) {
		double t0 = now();
		if (jobreg_registry_load(reg) < 0) {
			fprintf(stderr, "load: %s\n", jobreg_error_last()->message);
			return 1;
		}
		t[r] = now() - t0;
	}
	full = median(t, 5);
	watched = time_reloads(reg, t, runs);
	setenv("JOBREG_NO_INOTIFY", "1", 1);
	walked = time_reloads(reg, t, runs);
	unsetenv("JOBREG_NO_INOTIFY");
	printf("%s, %d modules x 5 jobs, medians\n", isolation ? "isolation" : "in-process", modules);
	printf("  full load:                          %8.2f ms\n", full * 1e3);
	printf("  reload, nothing changed:            %8.3f ms   (%.4f of a full load)\n",
	       watched * 1e3, watched / full);
	printf("  the same, JOBREG_NO_INOTIFY (walks): %8.3f ms\n", walked * 1e3);
	jobreg_registry_free(reg);
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	int modules = argc > 1 ? atoi(argv[1]) : 400;
	int runs = argc > 2 ? atoi(argv[2]) : 50, m, j, rc;
	char tmp[] = "/tmp/jobreg-bench-reload-XXXXXX", path[4200], cmd[4300];

	if (modules < 1 || runs < 1)
		return 2;
	setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
	if (!mkdtemp(tmp))
		return 1;
	for (m = 0; m < modules; m++) {
		FILE *f;
		snprintf(path, sizeof(path), "%s/group%02d", tmp, m / 20);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/group%02d/jobs_%03d.py", tmp, m / 20, m);
		f = fopen(path, "w");
		if (!f)
			return 1;
		fprintf(f, "from jobreg.jobs import Job, register_jobs\n");
		for (j = 0; j < 5; j++)
			fprintf(f, "class Job%d(Job):\n    pass\n", j);
		fprintf(f, "register_jobs(Job0, Job1, Job2, Job3, Job4)\n");
		fclose(f);
	}
	if (jobreg_init(NULL) < 0)
		return 1;
	rc = bench_mode(tmp, JOBREG_ISOLATION_NONE, modules, runs);
	if (rc == 0)
		rc = bench_mode(tmp, JOBREG_ISOLATION_PROCESS, modules, runs);
	jobreg_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) || rc;
}
