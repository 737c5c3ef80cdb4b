/* harness.c: running tests and building fixtures on disk. */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"

int jr_test_failed;

static char tmp_root[4096];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void jr_rmtree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void cleanup(void)
{
	if (tmp_root[0] && !getenv("KEEP_FIXTURES"))
		jr_rmtree(tmp_root);
}

const char *jr_tmpdir(void)
{
	static int next;
	static char dirs[16][4096]; /* rotating: several folders live at once */
	char *dir = dirs[next++ % 16];

	if (!tmp_root[0]) {
		const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		snprintf(tmp_root, sizeof(tmp_root), "%s/jobreg-test-XXXXXX", base);
		if (!mkdtemp(tmp_root)) {
			perror("mkdtemp");
			exit(99);
		}
		atexit(cleanup);
	}
	/* mkdtemp, not a counter: forked children share the root. */
	snprintf(dir, 4096, "%.4000s/tXXXXXX", tmp_root);
	if (!mkdtemp(dir)) {
		perror(dir);
		exit(99);
	}
	return dir;
}

const char *jr_path(const char *dir, const char *rel)
{
	static char bufs[8][4096];
	static int next;
	char *b = bufs[next++ % 8];
	snprintf(b, 4096, "%s/%s", dir, rel);
	return b;
}

static void make_parents(char *path)
{
	char *p;
	for (p = path + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(path, 0755) < 0 && errno != EEXIST) {
				perror(path);
				exit(99);
			}
			*p = '/';
		}
	}
}

const char *jr_write(const char *dir, const char *rel, const char *content)
{
	static char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	make_parents(path);
	f = fopen(path, "w");
	if (!f || fputs(content, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(99);
	}
	return path;
}

void jr_touch_later(const char *path, int seconds)
{
	struct stat st;
	struct timeval tv[2];

	if (stat(path, &st) < 0)
		return;
	tv[0].tv_sec = tv[1].tv_sec = st.st_mtime + seconds;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	utimes(path, tv);
}

void jr_write_seed_jobs_root(const char *dir)
{
	jr_write(dir, "__init__.py", "");
	jr_write(dir, "device_jobs.py",
	         "from nautobot.apps.jobs import Job, register_jobs\n"
	         "\n"
	         "\n"
	         "class CleanupDevices(Job):\n"
	         "    class Meta:\n"
	         "        name = \"Cleanup Obsolete Devices\"\n"
	         "        description = \"\"\"\n"
	         "            Removes devices that were decommissioned.\n"
	         "        \"\"\"\n"
	         "\n"
	         "    def run(self):\n"
	         "        self.logger.info(\"looking for decommissioned devices\")\n"
	         "\n"
	         "\n"
	         "register_jobs(CleanupDevices)\n");
	jr_write(dir, "inventory/__init__.py", "");
	jr_write(dir, "inventory/check_inventory.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "\n"
	         "name = \"Inventory\"\n"
	         "\n"
	         "\n"
	         "class CheckInventory(Job):\n"
	         "    class Meta:\n"
	         "        name = \"Check Inventory\"\n"
	         "\n"
	         "    def run(self):\n"
	         "        return {\"checked\": 3}\n"
	         "\n"
	         "\n"
	         "class AuditSerials(Job):\n"
	         "    class Meta:\n"
	         "        name = \"Audit Serial Numbers\"\n"
	         "        has_sensitive_variables = False\n"
	         "        task_queues = [\"default\", \"audit\"]\n"
	         "        soft_time_limit = 30\n"
	         "\n"
	         "    def run(self):\n"
	         "        pass\n"
	         "\n"
	         "\n"
	         "class NotRegistered(Job):\n"
	         "    pass\n"
	         "\n"
	         "\n"
	         "register_jobs(CheckInventory, AuditSerials)\n");
}

int jr_suite_run(const struct jr_suite *suite, int argc, char **argv)
{
	size_t i;
	int passed = 0, failed = 0;

	for (i = 0; i < suite->count; i++) {
		const struct jr_test *t = &suite->tests[i];

		if (argc > 1 && strcmp(argv[1], t->name) != 0)
			continue;
		jr_test_failed = 0;
		if (suite->setup)
			suite->setup();
		if (jr_test_failed)
			fprintf(stderr, "%s: setup failed, test not run\n", t->name);
		else
			t->fn();
		if (suite->teardown)
			suite->teardown();
		printf("%s %s\n", jr_test_failed ? "FAIL" : "ok  ", t->name);
		fflush(stdout);
		if (jr_test_failed)
			failed++;
		else
			passed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

int jr_test_run(const struct jr_test *tests, size_t count, int argc, char **argv)
{
	const struct jr_suite suite = { tests, count, NULL, NULL };

	return jr_suite_run(&suite, argc, argv);
}
