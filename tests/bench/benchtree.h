/*
 * benchtree.h: what bench_load and bench_sync share (header-only): the jobs
 * root they measure, and the Python that the baselines run on it.
 */
#ifndef JR_BENCHTREE_H
#define JR_BENCHTREE_H

#include <errno.h>
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

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		die(path);
}

/* A jobs root of `modules` modules in packages of 20 (group00/jobs_000.py,
 * ...), each with `jobs` jobs of 2 variables, all registered. */
static void write_tree(const char *root, int modules, int jobs)
{
	char path[8192];
	int m, j;

	if (mkdir(root, 0755) < 0 && errno != EEXIST)
		die(root);
	for (m = 0; m < modules; m++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/group%02d", root, m / 20);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			die(path);
		snprintf(path, sizeof(path), "%s/group%02d/__init__.py", root, m / 20);
		write_file(path, "");
		snprintf(path, sizeof(path), "%s/group%02d/jobs_%03d.py", root, m / 20, m);
		f = fopen(path, "w");
		if (!f)
			die(path);
		fprintf(f, "from jobreg.jobs import Job, register_jobs, StringVar, IntegerVar\n\n"
		           "name = \"Group %d\"\n\n", m / 20);
		for (j = 0; j < jobs; j++)
			fprintf(f, "\nclass Job%d(Job):\n"
			           "    \"\"\"Job %d of module %d.\"\"\"\n"
			           "    device = StringVar(description=\"Device name\", max_length=64)\n"
			           "    count = IntegerVar(min_value=1, max_value=100, default=%d)\n\n"
			           "    class Meta:\n"
			           "        name = \"Module %d job %d\"\n"
			           "        description = \"Does thing %d.\"\n\n"
			           "    def run(self, device, count):\n"
			           "        return {\"device\": device, \"count\": count}\n",
			        j, j, m, j + 1, m, j, j);
		fprintf(f, "\nregister_jobs(");
		for (j = 0; j < jobs; j++)
			fprintf(f, "%sJob%d", j ? ", " : "", j);
		fprintf(f, ")\n");
		if (fclose(f) != 0)
			die(path);
	}
}

/*
 * The start of every baseline script: stand-ins for the author API (a few
 * lines of Python, no library), `names` = every module of the tree at
 * sys.argv[1] in name order, and that tree on sys.path. The caller adds
 * the import loop and what it prints.
 */
#define BENCH_STANDIN_PRELUDE                                                  \
	"import sys, types, os, importlib\n"                                       \
	"root = sys.argv[1]\n"                                                     \
	"pkg = types.ModuleType('jobreg'); pkg.__path__ = []\n"                   \
	"jobs = types.ModuleType('jobreg.jobs')\n"                                 \
	"class Job: pass\n"                                                        \
	"class _Var:\n"                                                            \
	"    def __init__(self, **kw): self.kw = kw\n"                             \
	"registered = []\n"                                                        \
	"jobs.Job = Job; jobs.StringVar = _Var; jobs.IntegerVar = _Var\n"          \
	"jobs.register_jobs = lambda *c: registered.extend(c)\n"                   \
	"sys.modules['jobreg'] = pkg; sys.modules['jobreg.jobs'] = jobs\n"         \
	"names = []\n"                                                             \
	"for d in sorted(os.listdir(root)):\n"                                     \
	"    if not os.path.isdir(os.path.join(root, d)): continue\n"              \
	"    names.append(d)\n"                                                    \
	"    names += [d + '.' + f[:-3] for f in sorted(os.listdir(os.path.join(root, d)))\n" \
	"              if f.endswith('.py') and f != '__init__.py']\n"             \
	"sys.path.insert(0, root)\n"

#endif
