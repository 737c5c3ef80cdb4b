/*
 * harness.h: the tiny test harness every C test uses.
 *
 * A test file lists its tests in a table and ends with JR_TEST_MAIN(table).
 * Each check that fails prints file:line and the values, and marks the test
 * failed; the run ends with the line "N passed, N failed". `test_x NAME`
 * runs only the test NAME.
 *
 * A suite whose tests share a fixture declares a setup and a teardown run
 * around each test (as clar's __initialize and __cleanup):
 *
 *	static struct { jobreg_registry *reg; } fx;
 *	static void setup(void) { fx.reg = new_registry(); }
 *	static void teardown(void) { jobreg_registry_free(fx.reg); fx.reg = NULL; }
 *	...
 *	JR_SUITE_MAIN_WITH_LIBRARY(tests, setup, teardown)
 *
 * setup runs before each test; a CHECK that fails in it fails the test,
 * whose body is then skipped. teardown runs after each test, passed or
 * failed (and after a failed setup: it must cope with a half-made fixture),
 * and its CHECKs count for that test.
 */
#ifndef JR_HARNESS_H
#define JR_HARNESS_H

#include <stdio.h>
#include <string.h>

struct jr_test {
	const char *name;
	void (*fn)(void);
};

/* A table entry for the test function test_<name>: JR_TEST(name). */
/* clang-format off */
#define JR_TEST(name) { #name, test_##name }
/* clang-format on */

/* A table of tests and what runs around each of them (either may be NULL). */
struct jr_suite {
	const struct jr_test *tests;
	size_t count;
	void (*setup)(void);
	void (*teardown)(void);
};

extern int jr_test_failed;

#define CHECK(cond)                                                                  \
	do {                                                                             \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
			jr_test_failed = 1;                                                      \
		}                                                                            \
	} while (0)

#define CHECK_INT(a, b)                                                                         \
	do {                                                                                        \
		long long a_ = (long long)(a), b_ = (long long)(b);                                     \
		if (a_ != b_) {                                                                         \
			fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, \
			        a_, #b, b_);                                                                \
			jr_test_failed = 1;                                                                 \
		}                                                                                       \
	} while (0)

#define CHECK_STR(a, b)                                                                       \
	do {                                                                                      \
		const char *a_ = (a), *b_ = (b);                                                      \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                              \
			fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, \
			        a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                  \
			jr_test_failed = 1;                                                               \
		}                                                                                     \
	} while (0)

/* Substring check: `hay` contains `needle`. */
#define CHECK_CONTAINS(hay, needle)                                                        \
	do {                                                                                   \
		const char *h_ = (hay), *n_ = (needle);                                            \
		if (!h_ || !strstr(h_, n_)) {                                                      \
			fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
			        h_ ? h_ : "(null)", n_);                                               \
			jr_test_failed = 1;                                                            \
		}                                                                                  \
	} while (0)

/* A call that must return 0; prints the library's last error otherwise. */
#define CHECK_OK(call)                                                                     \
	do {                                                                                   \
		int rc_ = (call);                                                                  \
		if (rc_ < 0) {                                                                     \
			fprintf(stderr, "%s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #call, rc_, \
			        jobreg_error_last()->message);                                         \
			jr_test_failed = 1;                                                            \
		}                                                                                  \
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

/* Run the suite's tests (only the one named argv[1], if given); 0 when all passed. */
int jr_suite_run(const struct jr_suite *suite, int argc, char **argv);
/* A suite without setup or teardown. */
int jr_test_run(const struct jr_test *tests, size_t count, int argc, char **argv);

#define JR_SUITE_MAIN(table, setup_fn, teardown_fn)                                          \
	int main(int argc, char **argv)                                                          \
	{                                                                                        \
		static const struct jr_suite suite_ = { (table), sizeof(table) / sizeof((table)[0]), \
			                                    (setup_fn), (teardown_fn) };                 \
		return jr_suite_run(&suite_, argc, argv);                                            \
	}

#define JR_TEST_MAIN(table) JR_SUITE_MAIN(table, NULL, NULL)

/* The same, with the library initialized around the whole run. */
#define JR_SUITE_MAIN_WITH_LIBRARY(table, setup_fn, teardown_fn)                             \
	int main(int argc, char **argv)                                                          \
	{                                                                                        \
		static const struct jr_suite suite_ = { (table), sizeof(table) / sizeof((table)[0]), \
			                                    (setup_fn), (teardown_fn) };                 \
		int rc_;                                                                             \
		if (jobreg_init(NULL) < 0) {                                                         \
			fprintf(stderr, "jobreg_init: %s\n", jobreg_error_last()->message);              \
			return 99;                                                                       \
		}                                                                                    \
		rc_ = jr_suite_run(&suite_, argc, argv);                                             \
		jobreg_shutdown();                                                                   \
		return rc_;                                                                          \
	}

#define JR_TEST_MAIN_WITH_LIBRARY(table) JR_SUITE_MAIN_WITH_LIBRARY(table, NULL, NULL)

#endif
