/*
 * bench_isolation.c: what isolation mode costs beside the host's process
 * (issue 14), in one process, both modes measured back to back:
 *
 *   cold load    the first load in a new process (isolation: forks the
 *                worker, which imports; the host gets metadata only):
 *                this program run again as `bench_isolation --cold MODE
 *                ROOT`, the two modes alternating, COLD_RUNS times each
 *   full load    a load of everything again
 *   reload       a reload with nothing changed
 *   run          jobreg_run() of a trivial job (returns 1), round trip
 *
 * usage: bench_isolation [MODULES [RUNS]]   (default 400 modules x 5 jobs, 200 runs)
 *
 * Targets (issue 14): isolated cold load <= 1.1x in-process, a run's round
 * trip < 2 ms, a no-change reload < 0.5 ms in both modes.
 */
#include <jobreg.h>
#include <spawn.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "benchtree.h"

#define COLD_RUNS 5

extern char **environ;

struct figures {
	double cold, full, reload, run;
};

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), compare);
	return v[n / 2];
}

static void check(int rc, const char *what)
{
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", what, jobreg_error_last()->message);
		exit(1);
	}
}

/* Every record enabled, so that the runs are allowed. */
static jobreg_storage *records_of(jobreg_registry *reg)
{
	jobreg_storage *st = NULL;
	jobreg_snapshot *snap = NULL;
	jobreg_record_list *list = NULL;
	size_t i;

	check(jobreg_storage_memory_new(&st), "storage");
	check(jobreg_registry_snapshot(&snap, reg), "snapshot");
	check(jobreg_refresh(NULL, st, snap, NULL), "refresh");
	check(jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL), "list");
	for (i = 0; i < jobreg_record_list_count(list); i++)
		check(jobreg_storage_set_enabled(
				  st, jobreg_record_text(jobreg_record_list_get(list, i), JOBREG_FIELD_ID), 1),
		      "enable");
	jobreg_record_list_free(list);
	jobreg_snapshot_free(snap);
	return st;
}

static void measure(struct figures *f, const char *root, int isolation, int runs)
{
	jobreg_registry_options opts = JOBREG_REGISTRY_OPTIONS_INIT;
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;
	jobreg_storage *st;
	double *times = calloc((size_t)runs, sizeof(double)), t0;
	int r, full_runs = 5;

	if (!times)
		die("calloc");
	opts.isolation = isolation;
	check(jobreg_registry_new(&reg, &opts), "registry");
	check(jobreg_source_dir_new(&src, root), "source");
	check(jobreg_registry_add_source(reg, src), "add source");
	check(jobreg_registry_load(reg), "first load");
	for (r = 0; r < full_runs; r++) {
		t0 = now();
		check(jobreg_registry_load(reg), "load");
		times[r] = now() - t0;
	}
	f->full = median(times, full_runs);
	for (r = 0; r < runs; r++) {
		t0 = now();
		check(jobreg_registry_reload(reg), "reload");
		times[r] = now() - t0;
	}
	f->reload = median(times, runs);
	st = records_of(reg);
	for (r = 0; r < runs; r++) {
		jobreg_run_result *res = NULL;

		t0 = now();
		check(jobreg_run(&res, reg, st, "trivial.Trivial", NULL), "run");
		times[r] = now() - t0;
		if (jobreg_run_result_status(res) != JOBREG_RUN_SUCCESS ||
		    strcmp(jobreg_run_result_json(res), "1") != 0) {
			fprintf(stderr, "the trivial job answered %s\n", jobreg_run_result_json(res));
			exit(1);
		}
		jobreg_run_result_free(res);
	}
	f->run = median(times, runs);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
	free(times);
}

/* `--cold MODE ROOT`: print how long this new process's first load takes. */
static int cold_child(int isolation, const char *root)
{
	jobreg_registry_options opts = JOBREG_REGISTRY_OPTIONS_INIT;
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;
	double t0;

	check(jobreg_init(NULL), "init");
	opts.isolation = isolation;
	check(jobreg_registry_new(&reg, &opts), "registry");
	check(jobreg_source_dir_new(&src, root), "source");
	check(jobreg_registry_add_source(reg, src), "add source");
	t0 = now();
	check(jobreg_registry_load(reg), "cold load");
	printf("%.6f\n", now() - t0);
	jobreg_registry_free(reg);
	jobreg_shutdown();
	return 0;
}

/* The median of COLD_RUNS first loads in new processes, for each mode; and
 * of the CPU time of each whole process (with its worker), which a busy
 * machine disturbs less than wall time. */
static void measure_cold(double *in, double *iso, double *cpu, const char *self, const char *root,
                         const char *out)
{
	double times[2][COLD_RUNS], cpus[2][COLD_RUNS];
	int r, mode;

	for (r = 0; r < COLD_RUNS; r++) {
		for (mode = 0; mode < 2; mode++) {
			char arg[4], *argv[] = { (char *)self, "--cold", arg, (char *)root, NULL };
			posix_spawn_file_actions_t actions;
			struct rusage usage;
			pid_t pid;
			int status;
			FILE *f;

			snprintf(arg, sizeof(arg), "%d", mode);
			posix_spawn_file_actions_init(&actions);
			posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (posix_spawn(&pid, self, &actions, NULL, argv, environ) != 0 ||
			    wait4(pid, &status, 0, &usage) != pid || status != 0)
				die("a cold load process");
			cpus[mode][r] = (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
			                (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
			posix_spawn_file_actions_destroy(&actions);
			f = fopen(out, "r");
			if (!f || fscanf(f, "%lf", &times[mode][r]) != 1)
				die(out);
			fclose(f);
		}
	}
	*in = median(times[0], COLD_RUNS);
	*iso = median(times[1], COLD_RUNS);
	cpu[0] = median(cpus[0], COLD_RUNS);
	cpu[1] = median(cpus[1], COLD_RUNS);
}

int main(int argc, char **argv)
{
	int modules = argc > 1 ? atoi(argv[1]) : 400, runs = argc > 2 ? atoi(argv[2]) : 200;
	char tmp[] = "/tmp/jobreg-bench-isolation-XXXXXX", root[4200], path[4300], cmd[4300];
	struct figures in = { 0 }, iso = { 0 };
	double cpu[2];

	if (argc == 4 && strcmp(argv[1], "--cold") == 0)
		return cold_child(atoi(argv[2]), argv[3]);
	if (modules < 1 || runs < 1) {
		fprintf(stderr, "usage: bench_isolation [MODULES [RUNS]]\n");
		return 2;
	}
	setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
	if (!mkdtemp(tmp))
		die("mkdtemp");
	snprintf(root, sizeof(root), "%s/jobs", tmp);
	write_tree(root, modules, 5);
	snprintf(path, sizeof(path), "%s/trivial.py", root);
	write_file(path, "from jobreg.jobs import Job, register_jobs\n"
	                 "class Trivial(Job):\n"
	                 "    def run(self):\n"
	                 "        return 1\n"
	                 "register_jobs(Trivial)\n");
	snprintf(path, sizeof(path), "%s/out", tmp);
	measure_cold(&in.cold, &iso.cold, cpu, "/proc/self/exe", root, path);
	check(jobreg_init(NULL), "init");
	/* In-process first: the interpreter then has the library's modules and
	 * the standard library warm for both, as a long-running host does. */
	measure(&in, root, JOBREG_ISOLATION_NONE, runs);
	measure(&iso, root, JOBREG_ISOLATION_PROCESS, runs);
	printf("bench_isolation: %d modules x 5 jobs + 1 trivial job; medians of %d (loads: 5, "
	       "cold: %d new processes per mode)\n",
	       modules, runs, COLD_RUNS);
	printf("                          in-process    isolation     ratio   target\n");
	printf("cold load (new process)   %9.1f ms  %9.1f ms   %5.2fx   <= 1.10x: %s\n", in.cold * 1e3,
	       iso.cold * 1e3, iso.cold / in.cold, iso.cold <= 1.1 * in.cold ? "met" : "MISSED");
	printf("  its process's CPU time  %9.1f ms  %9.1f ms   %5.2fx   (with the worker's)\n",
	       cpu[0] * 1e3, cpu[1] * 1e3, cpu[1] / cpu[0]);
	printf("full load                 %9.1f ms  %9.1f ms   %5.2fx\n", in.full * 1e3, iso.full * 1e3,
	       iso.full / in.full);
	printf("reload, nothing changed   %9.3f ms  %9.3f ms            < 0.5 ms: %s\n",
	       in.reload * 1e3, iso.reload * 1e3,
	       in.reload < 0.0005 && iso.reload < 0.0005 ? "met" : "MISSED");
	printf("run round trip (trivial)  %9.3f ms  %9.3f ms            < 2 ms (isolation): %s\n",
	       in.run * 1e3, iso.run * 1e3, iso.run < 0.002 ? "met" : "MISSED");
	jobreg_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : 1;
}
