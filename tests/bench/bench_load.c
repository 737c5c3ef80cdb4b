/*
 * bench_load.c: what a load of a big jobs root costs, against bare CPython
 * importing the very same files.
 *
 * usage: bench_load [MODULES [JOBS_PER_MODULE [RUNS]]]   (default 400 5 5)
 *
 * Each run writes a fresh tree (so no bytecode cache exists on either side),
 * then measures
 *   - baseline: pyshared -I -B (python running from libpython3.11.so, the
 *     library this process embeds) importing every module in name order
 *     with a stand-in Job/register_jobs/StringVar/IntegerVar (time measured
 *     inside that interpreter, around the import loop only);
 *   - the same with /usr/bin/python3, for information: Debian's python3.11
 *     is statically linked and runs the same code faster than the shared
 *     library does;
 *   - libjobreg: jobreg_registry_load() of the same tree, in this process.
 * It prints the median of each, the ratio against the first baseline, and
 * the library-side memory per loaded job.
 */
#define _GNU_SOURCE
#include <jobreg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "benchtree.h"

#ifndef PYTHON_FOR_TESTS
#define PYTHON_FOR_TESTS "/usr/bin/python3"
#endif
#ifndef PYSHARED_EXE
#error "PYSHARED_EXE (the full path of the built pyshared) must be defined"
#endif

static const char baseline_script[] =
	BENCH_STANDIN_PRELUDE
	"import time\n"
	"start = time.perf_counter()\n"
	"for n in names: importlib.import_module(n)\n"
	"print(time.perf_counter() - start, len(registered))\n";

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double baseline(const char *python, const char *root, long *jobs_seen)
{
	char cmd[8192];
	double seconds = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s -I -B -c \"$JR_BASELINE\" '%s'", python, root);
	p = popen(cmd, "r");
	if (!p || fscanf(p, "%lf %ld", &seconds, jobs_seen) != 2) {
		fprintf(stderr, "baseline failed\n");
		exit(1);
	}
	pclose(p);
	return seconds;
}

int main(int argc, char **argv)
{
	int modules = argc > 1 ? atoi(argv[1]) : 400;
	int jobs = argc > 2 ? atoi(argv[2]) : 5;
	int runs = argc > 3 ? atoi(argv[3]) : 5, r;
	double *base = calloc(runs, sizeof(double)), *ours = calloc(runs, sizeof(double));
	double *static_base = calloc(runs, sizeof(double));
	char tmp[] = "/tmp/jobreg-bench-XXXXXX", root[4200], cmd[4300];
	size_t job_count = 0, errors = 0, memory = 0;
	long base_jobs = 0;
	double t0, init_seconds;

	setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
	setenv("JR_BASELINE", baseline_script, 1);
	if (!mkdtemp(tmp))
		return 1;
	t0 = now();
	if (jobreg_init(NULL) < 0) {
		fprintf(stderr, "%s\n", jobreg_error_last()->message);
		return 1;
	}
	init_seconds = now() - t0;

	for (r = 0; r < runs; r++) {
		jobreg_registry *reg = NULL;
		jobreg_source *src = NULL;
		jobreg_snapshot *snap = NULL;

		snprintf(root, sizeof(root), "%s/run%d", tmp, r);
		write_tree(root, modules, jobs);
		base[r] = baseline(PYSHARED_EXE, root, &base_jobs);
		static_base[r] = baseline(PYTHON_FOR_TESTS, root, &base_jobs);

		snprintf(root, sizeof(root), "%s/run%d-lib", tmp, r);
		write_tree(root, modules, jobs);
		if (jobreg_registry_new(&reg, NULL) < 0 || jobreg_source_dir_new(&src, root) < 0 ||
		    jobreg_registry_add_source(reg, src) < 0)
			return 1;
		t0 = now();
		if (jobreg_registry_load(reg) < 0) {
			fprintf(stderr, "%s\n", jobreg_error_last()->message);
			return 1;
		}
		ours[r] = now() - t0;
		jobreg_registry_snapshot(&snap, reg);
		job_count = jobreg_snapshot_job_count(snap);
		errors = jobreg_snapshot_load_error_count(snap);
		memory = jobreg_snapshot_memory(snap);
		if (errors)
			fprintf(stderr, "first load error: %s\n",
			        jobreg_load_error_message(jobreg_snapshot_load_error(snap, 0)));
		jobreg_snapshot_free(snap);
		jobreg_registry_free(reg);
	}
	qsort(base, runs, sizeof(double), compare);
	qsort(static_base, runs, sizeof(double), compare);
	qsort(ours, runs, sizeof(double), compare);
	printf("tree: %d modules x %d jobs (2 variables each), %d runs, medians\n", modules, jobs, runs);
	printf("jobreg_init (interpreter start):    %8.1f ms\n", init_seconds * 1e3);
	printf("baseline: libpython imports:        %8.1f ms  (%ld classes registered; pyshared)\n",
	       base[runs / 2] * 1e3, base_jobs);
	printf("  static python3 imports:           %8.1f ms  (%s, for information)\n",
	       static_base[runs / 2] * 1e3, PYTHON_FOR_TESTS);
	printf("libjobreg: jobreg_registry_load():  %8.1f ms  (%zu jobs, %zu load errors)\n", ours[runs / 2] * 1e3, job_count, errors);
	printf("ratio load / baseline:              %8.2fx  (/ static python3: %.2fx)\n",
	       ours[runs / 2] / base[runs / 2], ours[runs / 2] / static_base[runs / 2]);
	printf("library memory per job:             %8.0f bytes (%zu bytes in all)\n",
	       job_count ? (double)memory / job_count : 0.0, memory);
	jobreg_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 && errors == 0 ? 0 : 1;
}
