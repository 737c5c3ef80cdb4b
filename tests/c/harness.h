/*
 * harness.h: the tiny test harness every C test uses.
 *
 * A test file lists its tests in a table and ends with JR_TEST_MAIN(table).
 * Each check that fails prints file:line and the values, and marks the test
 * failed; the run ends with the line "N passed, N failed".
 */
#ifndef JR_HARNESS_H
#define JR_HARNESS_H

#include <stdio.h>
#include <string.h>

struct jr_test {
	const char *name;
	void (*fn)(void);
};

extern int jr_test_failed;

#define CHECK(cond)                                                            \
	do {                                                                       \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
			jr_test_failed = 1;                                                \
		}                                                                      \
	} while (0)

#define CHECK_INT(a, b)                                                        \
	do {                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                    \
		if (a_ != b_) {                                                        \
			fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n",        \
			        __FILE__, __LINE__, #a, a_, #b, b_);                       \
			jr_test_failed = 1;                                                \
		}                                                                      \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                       \
		const char *a_ = (a), *b_ = (b);                                       \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                               \
			fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n",          \
			        __FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
			jr_test_failed = 1;                                                \
		}                                                                      \
	} while (0)

/* Substring check: `hay` contains `needle`. */
#define CHECK_CONTAINS(hay, needle)                                            \
	do {                                                                       \
		const char *h_ = (hay), *n_ = (needle);                                \
		if (!h_ || !strstr(h_, n_)) {                                          \
			fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n",         \
			        __FILE__, __LINE__, h_ ? h_ : "(null)", n_);               \
			jr_test_failed = 1;                                                \
		}                                                                      \
	} while (0)

/* A call that must return 0; prints the library's last error otherwise. */
#define CHECK_OK(call)                                                         \
	do {                                                                       \
		int rc_ = (call);                                                      \
		if (rc_ < 0) {                                                         \
			fprintf(stderr, "%s:%d: %s returned %d: %s\n", __FILE__, __LINE__, \
			        #call, rc_, jobreg_error_last()->message);                 \
			jr_test_failed = 1;                                                \
		}                                                                      \
	} while (0)

/* Fixtures: a fresh temporary folder, removed at exit (unless KEEP_FIXTURES).
 * The name stays valid for the next 15 calls. */
const char *jr_tmpdir(void);
/* Write `content` to `dir`/`rel`, creating parent folders. Returns the path (static per call: copy it). */
const char *jr_write(const char *dir, const char *rel, const char *content);
/* Join into a static buffer (rotating; valid for a few calls). */
const char *jr_path(const char *dir, const char *rel);
/* Remove a file tree. */
void jr_rmtree(const char *path);
/* Set a file's mtime to `seconds` after its current one (for change detection). */
void jr_touch_later(const char *path, int seconds);

/*
 * The jobs-root layout of the Nautobot "Installing Jobs" page, in our words:
 *   __init__.py, device_jobs.py (CleanupDevices, via nautobot.apps.jobs),
 *   inventory/__init__.py, inventory/check_inventory.py (CheckInventory and
 *   AuditSerials via jobreg.jobs, module `name = "Inventory"`, plus an
 *   unregistered Job subclass).
 */
void jr_write_seed_jobs_root(const char *dir);

int jr_test_run(const struct jr_test *tests, size_t count, int argc, char **argv);

#define JR_TEST_MAIN(table)                                                    \
	int main(int argc, char **argv)                                            \
	{                                                                          \
		return jr_test_run(table, sizeof(table) / sizeof(table[0]), argc, argv); \
	}

/* The same, with the library initialized around the whole run. */
#define JR_TEST_MAIN_WITH_LIBRARY(table)                                       \
	int main(int argc, char **argv)                                            \
	{                                                                          \
		int rc_;                                                               \
		if (jobreg_init(NULL) < 0) {                                           \
			fprintf(stderr, "jobreg_init: %s\n", jobreg_error_last()->message); \
			return 99;                                                         \
		}                                                                      \
		rc_ = jr_test_run(table, sizeof(table) / sizeof(table[0]), argc, argv); \
		jobreg_shutdown();                                                     \
		return rc_;                                                            \
	}

#endif
