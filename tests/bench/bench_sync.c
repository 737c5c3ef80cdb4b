/*
 * bench_sync.c: what `jobreg sync --offline` costs as a whole process,
 * against the same interpreter importing the same modules with no library and
 * no database (issue 9).
 *
 * usage: bench_sync [RUNS [MODULES [JOBS_PER_MODULE]]]   (default 7 400 5)
 *
 * It writes a jobs root (MODULES modules in packages of 20, JOBS_PER_MODULE
 * jobs each with 2 variables, as bench_load's) and a jobreg.yaml (jobs_root +
 * database) into a temporary folder, then for each run measures the wall time
 * of these processes, each started afresh (PYTHONDONTWRITEBYTECODE=1 for all;
 * no __pycache__ exists anywhere when they start):
 *
 *   (a) baseline-shared: pyshared -I -B standin.py: libpython3.11.so (the
 *       library the embedded interpreter is) importing every module with a
 *       stand-in Job/register_jobs/StringVar/IntegerVar. The targets are
 *       ratios against this one.
 *   (b) baseline-static: /usr/bin/python3 -I -B standin.py, for information:
 *       Debian's python3.11 is statically linked (PGO/LTO) and runs the same
 *       code faster than libpython3.11.so does.
 *   (c) cold: `jobreg sync --offline --json` into a new database (the
 *       command's default: job code imported in a worker process).
 *   (f) cold in-process: the same with `isolation: none` (its own
 *       configuration and database), run right before or after (c) in
 *       turn; the target of (c) is <= 1.1x (f) (issue 14).
 *   (d) second: the same again with nothing changed; the JSON report is read
 *       and its writes (created + updated + uninstalled) counted.
 *   (e) full: `jobreg sync --offline --full --json` (re-imports everything);
 *       "n/a" when this jobreg does not know --full.
 *
 * It prints each median (and minimum), the ratios against (a) and the issue's
 * targets: cold <= 1.2x (issue 13; 1.1x is the aim), second <= 0.25x with zero writes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchtree.h"

#ifndef PYTHON_FOR_TESTS
#define PYTHON_FOR_TESTS "/usr/bin/python3"
#endif
#ifndef JOBREG_EXE
#error "JOBREG_EXE (the full path of the built jobreg) must be defined"
#endif
#ifndef PYSHARED_EXE
#error "PYSHARED_EXE (the full path of the built pyshared) must be defined"
#endif

#define COLD_TARGET 1.2
#define SECOND_TARGET 0.25

extern char **environ;

/* What the baselines run: every module of the tree, in name order, imported
 * with stand-ins for the author API (a few lines of Python, no library). */
static const char standin_script[] = BENCH_STANDIN_PRELUDE
	"for n in names: importlib.import_module(n)\n"
	"print(len(registered))\n";

static int pycache_removed;

static int remove_pycache(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (strstr(path, "/__pycache__")) {
		if (remove(path) < 0)
			die(path);
		pycache_removed++;
	}
	return 0;
}

static int remove_any(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (remove(path) < 0)
		die(path);
	return 0;
}

static void remove_tree(const char *path)
{
	if (nftw(path, remove_any, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		die(path);
}

/* Run argv with stdout and stderr into files; its wall time in seconds. */
static double run(char *const argv[], const char *out, const char *err, int *status)
{
	posix_spawn_file_actions_t fa;
	double t0, seconds;
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	t0 = now();
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	if (rc != 0) {
		errno = rc;
		die(argv[0]);
	}
	if (waitpid(pid, status, 0) < 0)
		die("waitpid");
	seconds = now() - t0;
	posix_spawn_file_actions_destroy(&fa);
	*status = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
	return seconds;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text;
	long n;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0)
		die(path);
	text = malloc((size_t)n + 1);
	if (!text || fread(text, 1, (size_t)n, f) != (size_t)n)
		die(path);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* The number of strings in the top-level array `key` of a sync report, or -1. */
static long count_array(const char *json, const char *key)
{
	char pattern[64];
	const char *p;
	long n = 0;

	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	p = strstr(json, pattern);
	if (!p)
		return -1;
	p += strlen(pattern);
	while (*p == ' ')
		p++;
	if (*p++ != '[')
		return -1;
	for (;;) {
		while (*p == ' ' || *p == ',' || *p == '\n')
			p++;
		if (*p == ']')
			return n;
		if (*p++ != '"')
			return -1;
		while (*p && *p != '"') {
			if (*p == '\\' && p[1])
				p++;
			p++;
		}
		if (!*p)
			return -1;
		p++;
		n++;
	}
}

/* Writes reported by a sync, or -1 when the report is not what was expected. */
static long sync_writes(const char *out_path, long *created)
{
	char *json = read_file(out_path);
	long c = count_array(json, "created"), u = count_array(json, "updated"),
		 x = count_array(json, "uninstalled");
	long errors = count_array(json, "errors");

	free(json);
	*created = c;
	if (c < 0 || u < 0 || x < 0)
		return -1;
	/* "errors" holds objects, not strings: an empty array counts 0, else -1. */
	if (errors != 0)
		return -1;
	return c + u + x;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(double), compare);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void fail_process(const char *what, int status, const char *err_path)
{
	char *err = read_file(err_path);

	fprintf(stderr, "%s failed (exit status %d):\n%s", what, status, err);
	free(err);
	exit(1);
}

static void load_average(double out[3])
{
	if (getloadavg(out, 3) != 3)
		out[0] = out[1] = out[2] = -1;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 7;
	int modules = argc > 2 ? atoi(argv[2]) : 400;
	int jobs = argc > 3 ? atoi(argv[3]) : 5;
	char tmp[] = "/tmp/jobreg-bench-sync-XXXXXX";
	char site[4200], root[4300], yaml[4300], db[4300], script[4300], out[4300], err[4300];
	char yaml_in[4300], db_in[4300];
	char *base_shared_argv[6], *base_static_argv[6], *cold_argv[8], *full_argv[9], *in_argv[8];
	double *a, *b, *c, *d, *e, *f, load_start[3], load_end[3];
	double ma, mb, mc, md, me = 0, mf, min_a, min_b, min_c, min_d, min_e = 0, min_f;
	long second_writes_max = 0, created, expected_jobs = (long)modules * jobs;
	int r, status, have_full = 1, pass_cold, pass_second;

	if (runs < 1 || modules < 1 || jobs < 1) {
		fprintf(stderr, "usage: bench_sync [RUNS [MODULES [JOBS_PER_MODULE]]]\n");
		return 2;
	}
	a = calloc(runs, sizeof(double));
	b = calloc(runs, sizeof(double));
	c = calloc(runs, sizeof(double));
	d = calloc(runs, sizeof(double));
	e = calloc(runs, sizeof(double));
	f = calloc(runs, sizeof(double));
	if (!a || !b || !c || !d || !e || !f || !mkdtemp(tmp))
		die("setup");
	setenv("PYTHONDONTWRITEBYTECODE", "1", 1);

	snprintf(site, sizeof(site), "%s/site", tmp);
	snprintf(root, sizeof(root), "%s/jobs", site);
	snprintf(yaml, sizeof(yaml), "%s/jobreg.yaml", site);
	snprintf(db, sizeof(db), "%s/db", site);
	snprintf(yaml_in, sizeof(yaml_in), "%s/jobreg-inprocess.yaml", site);
	snprintf(db_in, sizeof(db_in), "%s/db-inprocess", site);
	snprintf(script, sizeof(script), "%s/standin.py", tmp);
	snprintf(out, sizeof(out), "%s/stdout", tmp);
	snprintf(err, sizeof(err), "%s/stderr", tmp);
	if (mkdir(site, 0755) < 0)
		die(site);
	write_tree(root, modules, jobs);
	write_file(yaml, "jobs_root: jobs\ndatabase: db/jobreg.db\n");
	write_file(yaml_in, "jobs_root: jobs\ndatabase: db-inprocess/jobreg.db\nisolation: none\n");
	write_file(script, standin_script);

	base_shared_argv[0] = PYSHARED_EXE;
	base_static_argv[0] = PYTHON_FOR_TESTS;
	for (char **v = base_shared_argv; v; v = v == base_shared_argv ? base_static_argv : NULL) {
		v[1] = "-I";
		v[2] = "-B";
		v[3] = script;
		v[4] = root;
		v[5] = NULL;
	}
	cold_argv[0] = JOBREG_EXE;
	cold_argv[1] = "-c";
	cold_argv[2] = yaml;
	cold_argv[3] = "sync";
	cold_argv[4] = "--offline";
	cold_argv[5] = "--json";
	cold_argv[6] = NULL;
	memcpy(full_argv, cold_argv, 6 * sizeof(char *));
	full_argv[6] = "--full";
	full_argv[7] = NULL;
	memcpy(in_argv, cold_argv, 7 * sizeof(char *));
	in_argv[2] = yaml_in;

	printf("bench_sync: %d modules x %d jobs (2 variables each), %d runs, in %s\n", modules, jobs,
	       runs, tmp);
	printf("  jobreg:   %s\n  pyshared: %s\n  python3:  %s\n", JOBREG_EXE, PYSHARED_EXE,
	       PYTHON_FOR_TESTS);
	fflush(stdout);
	load_average(load_start);
	for (r = 0; r < runs; r++) {
		/* The baselines, shared and static in turn first, so that neither
		 * side always runs right after the other. */
		nftw(tmp, remove_pycache, 16, FTW_DEPTH | FTW_PHYS);
		for (int k = 0; k < 2; k++) {
			int shared = (k + r) % 2 == 0;
			double t = run(shared ? base_shared_argv : base_static_argv, out, err, &status);
			char *text;

			if (status != 0)
				fail_process(shared ? "baseline-shared" : "baseline-static", status, err);
			text = read_file(out);
			if (atol(text) != expected_jobs) {
				fprintf(stderr, "the baseline registered %s classes, not %ld\n", text,
				        expected_jobs);
				return 1;
			}
			free(text);
			(shared ? a : b)[r] = t;
		}

		/* (c) cold and (f) cold in-process, in turn first: a new
		 * database, no bytecode anywhere. */
		for (int k = 0; k < 2; k++) {
			int isolated = (k + r) % 2 == 0;
			const char *base = isolated ? db : db_in;

			remove_tree(base);
			if (mkdir(base, 0755) < 0)
				die(base);
			nftw(tmp, remove_pycache, 16, FTW_DEPTH | FTW_PHYS);
			(isolated ? c : f)[r] = run(isolated ? cold_argv : in_argv, out, err, &status);
			if (status != 0)
				fail_process(isolated ? "cold sync" : "cold sync in-process", status, err);
			if (sync_writes(out, &created) < 0 || created != expected_jobs) {
				fprintf(stderr, "cold sync: created %ld jobs, expected %ld (report in %s)\n",
				        created, expected_jobs, out);
				return 1;
			}
		}

		/* (d) the same with nothing changed. */
		d[r] = run(cold_argv, out, err, &status);
		if (status != 0)
			fail_process("second sync", status, err);
		{
			long writes = sync_writes(out, &created);

			if (writes < 0) {
				fprintf(stderr, "second sync: unexpected report in %s\n", out);
				return 1;
			}
			if (writes > second_writes_max)
				second_writes_max = writes;
		}

		/* (e) --full, when this jobreg knows it. */
		if (have_full) {
			e[r] = run(full_argv, out, err, &status);
			if (status == 2) { /* bad usage: no --full (yet) */
				have_full = 0;
			} else if (status != 0) {
				fail_process("sync --full", status, err);
			} else if (sync_writes(out, &created) < 0) {
				fprintf(stderr, "sync --full: unexpected report in %s\n", out);
				return 1;
			}
		}
	}
	load_average(load_end);
	if (pycache_removed)
		printf("  note: %d __pycache__ entries were found and removed before runs\n",
		       pycache_removed);

	min_a = (qsort(a, runs, sizeof(double), compare), a[0]);
	min_b = (qsort(b, runs, sizeof(double), compare), b[0]);
	min_c = (qsort(c, runs, sizeof(double), compare), c[0]);
	min_d = (qsort(d, runs, sizeof(double), compare), d[0]);
	ma = median(a, runs);
	mb = median(b, runs);
	mc = median(c, runs);
	md = median(d, runs);
	min_f = (qsort(f, runs, sizeof(double), compare), f[0]);
	mf = median(f, runs);
	if (have_full) {
		min_e = (qsort(e, runs, sizeof(double), compare), e[0]);
		me = median(e, runs);
	}
	pass_cold = mc <= COLD_TARGET * ma;
	pass_second = md <= SECOND_TARGET * ma && second_writes_max == 0;

	printf("load average (1/5/15 min): %.2f %.2f %.2f at start, %.2f %.2f %.2f at end\n",
	       load_start[0], load_start[1], load_start[2], load_end[0], load_end[1], load_end[2]);
	printf("whole-process wall time         median      min   /(a)  /(b)\n");
	printf("(a) baseline-shared (pyshared)  %7.1f ms %7.1f ms  1.00x %5.2fx\n", ma * 1e3,
	       min_a * 1e3, ma / mb);
	printf("(b) baseline-static (python3)   %7.1f ms %7.1f ms %5.2fx  1.00x  (for information)\n",
	       mb * 1e3, min_b * 1e3, mb / ma);
	printf("(c) cold sync --offline         %7.1f ms %7.1f ms %5.2fx %5.2fx  target <= %.2fx (a): "
	       "%s\n",
	       mc * 1e3, min_c * 1e3, mc / ma, mc / mb, COLD_TARGET, pass_cold ? "PASS" : "MISS");
	printf("(d) second sync, no change      %7.1f ms %7.1f ms %5.2fx %5.2fx  target <= %.2fx (a) "
	       "and 0 writes (%ld): %s\n",
	       md * 1e3, min_d * 1e3, md / ma, md / mb, SECOND_TARGET, second_writes_max,
	       pass_second ? "PASS" : "MISS");
	if (have_full)
		printf("(e) sync --offline --full       %7.1f ms %7.1f ms %5.2fx %5.2fx\n", me * 1e3,
		       min_e * 1e3, me / ma, me / mb);
	else
		printf("(e) sync --offline --full       n/a (no --full)\n");
	printf("(f) cold sync, isolation: none  %7.1f ms %7.1f ms %5.2fx %5.2fx  (c)/(f) = %.2fx, "
	       "target <= 1.10x: %s\n",
	       mf * 1e3, min_f * 1e3, mf / ma, mf / mb, mc / mf, mc <= 1.1 * mf ? "PASS" : "MISS");
	fflush(stdout);
	remove_tree(tmp);
	return 0;
}
