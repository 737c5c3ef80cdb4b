/*
 * bench_git.c: what a git sync costs when nothing changed upstream, and what
 * ensure-head costs when the checkout is already at the commit.
 *
 * usage: bench_git [FILES [RUNS]]   (default 2000 files, 200 runs)
 *
 * Builds a repository of FILES files (the git layout: __init__.py,
 * jobs/__init__.py importing one job module, the rest plain data files)
 * with the git command, clones it through the library (file://), then
 * times, as medians of RUNS calls:
 *   - a no-op jobreg_git_sync() (remote unchanged: fetch, nothing to move,
 *     nothing imported), against `git fetch` of the same clone;
 *   - jobreg_git_ensure_head() at the current head (no network, no import);
 *   - jobreg_registry_reload() with nothing changed (reads HEAD under the
 *     checkout's lock file, taken shared; imports nothing);
 *   - the first sync (the clone), against `git clone` of the same repository.
 */
#define _GNU_SOURCE
#include <jobreg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static double median(double *v, int n)
{
	qsort(v, n, sizeof(double), compare);
	return v[n / 2];
}

static void sh(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "failed: %s\n", cmd);
		exit(1);
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void make_repo(const char *dir, int files)
{
	char path[8400], cmd[8600];
	int i;

	snprintf(path, sizeof(path), "%s/jobs", dir);
	mkdir(dir, 0755);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/data", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/__init__.py", dir);
	write_file(path, "");
	snprintf(path, sizeof(path), "%s/jobs/__init__.py", dir);
	write_file(path, "from . import audit  # noqa: F401\n");
	snprintf(path, sizeof(path), "%s/jobs/audit.py", dir);
	write_file(path, "from jobreg.jobs import Job, register_jobs\n"
	                 "class Audit(Job):\n    pass\n"
	                 "register_jobs(Audit)\n");
	for (i = 0; i < files - 3; i++) {
		char text[128];
		snprintf(path, sizeof(path), "%s/data/file%04d.txt", dir, i);
		snprintf(text, sizeof(text), "data file %d\n", i);
		write_file(path, text);
	}
	snprintf(cmd, sizeof(cmd),
	         "cd '%s' && git init -q -b main && git add -A && "
	         "git -c user.name=b -c user.email=b@example.invalid commit -q -m files", dir);
	sh(cmd);
}

int main(int argc, char **argv)
{
	int files = argc > 1 ? atoi(argv[1]) : 2000;
	int runs = argc > 2 ? atoi(argv[2]) : 200, r;
	char tmp[] = "/tmp/jobreg-bench-git-XXXXXX", upstream[4200], url[4300], git_root[4200], cmd[9000];
	double *sync = calloc(runs, sizeof(double)), *ensure = calloc(runs, sizeof(double));
	double *git_fetch = calloc(runs, sizeof(double)), *reload = calloc(runs, sizeof(double));
	double clone_lib, clone_git, t0;
	jobreg_git_options opts = JOBREG_GIT_OPTIONS_INIT;
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;
	char head[JOBREG_GIT_HEAD_SIZE];
	int changed = 0, git_runs = runs < 20 ? runs : 20;

	setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
	if (!mkdtemp(tmp))
		return 1;
	snprintf(upstream, sizeof(upstream), "%s/upstream", tmp);
	snprintf(url, sizeof(url), "file://%s", upstream);
	snprintf(git_root, sizeof(git_root), "%s/checkouts", tmp);
	make_repo(upstream, files);

	if (jobreg_init(NULL) < 0 || jobreg_registry_new(&reg, NULL) < 0)
		return 1;
	opts.slug = "bench_repo";
	opts.remote_url = url;
	opts.git_root = git_root;
	if (jobreg_source_git_new(&src, &opts) < 0 || jobreg_registry_add_source(reg, src) < 0) {
		fprintf(stderr, "%s\n", jobreg_error_last()->message);
		return 1;
	}

	t0 = now();
	if (jobreg_git_sync(NULL, reg, src, NULL) < 0) {
		fprintf(stderr, "%s\n", jobreg_error_last()->message);
		return 1;
	}
	clone_lib = now() - t0;
	snprintf(cmd, sizeof(cmd), "git clone -q '%s' '%s/plain-clone'", url, tmp);
	t0 = now();
	sh(cmd);
	clone_git = now() - t0;

	jobreg_source_git_head(head, src);
	for (r = 0; r < runs; r++) {
		t0 = now();
		if (jobreg_git_sync(NULL, reg, src, NULL) < 0)
			return 1;
		sync[r] = now() - t0;
		t0 = now();
		if (jobreg_git_ensure_head(&changed, reg, src, head) < 0 || changed)
			return 1;
		ensure[r] = now() - t0;
		t0 = now();
		if (jobreg_registry_reload(reg) < 0)
			return 1;
		reload[r] = now() - t0;
	}
	snprintf(cmd, sizeof(cmd), "cd '%s/plain-clone' && git fetch -q origin", tmp);
	for (r = 0; r < git_runs; r++) {
		t0 = now();
		sh(cmd);
		git_fetch[r] = now() - t0;
	}

	printf("repository: %d files, %d runs, medians\n", files, runs);
	printf("first sync (clone + checkout + import):  %8.1f ms   git clone: %8.1f ms   ratio %.2fx\n",
	       clone_lib * 1e3, clone_git * 1e3, clone_lib / clone_git);
	printf("no-op sync (fetch, nothing moved):        %8.2f ms   git fetch: %8.2f ms (process)\n",
	       median(sync, runs) * 1e3, median(git_fetch, git_runs) * 1e3);
	printf("ensure-head at the current head:          %8.4f ms\n", median(ensure, runs) * 1e3);
	printf("reload, nothing changed (lock file shared): %6.4f ms\n", median(reload, runs) * 1e3);
	jobreg_registry_free(reg);
	jobreg_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd);
}
