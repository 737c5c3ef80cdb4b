/*
 * test_load_errors_stored.c: load errors stored by refresh (issue 15,
 * backend table version 3): each refresh replaces the stored errors of the
 * sources it refreshed and keeps the others', a failed refresh stores
 * nothing, and another handle on the same SQLite file reads them back. On
 * the in-memory and SQLite backends; a version 2 backend stores none.
 */
#include <unistd.h>

#include "loadutil.h"
#include "records_fixture.h"

static char lib[4096]; /* on python_path: the app package */

static const char good_job[] = "from jobreg.jobs import Job, register_jobs\n"
							   "class Good(Job):\n    pass\n"
							   "register_jobs(Good)\n";

/* A registry of a fresh jobs root holding `files` (name, text, ...,
 * NULL), and the app `errapp` (broken) when `with_app`; loaded. */
static jobreg_snapshot *load(jobreg_registry **reg, int with_app, ...)
{
	const char *dir = jr_tmpdir(), *name;
	jobreg_source *src = NULL;
	va_list ap;

	va_start(ap, with_app);
	while ((name = va_arg(ap, const char *)) != NULL)
		jr_write(dir, name, va_arg(ap, const char *));
	va_end(ap);
	CHECK_OK(jobreg_registry_new(reg, NULL));
	CHECK_OK(jobreg_source_dir_new(&src, dir));
	CHECK_OK(jobreg_registry_add_source(*reg, src));
	if (with_app) {
		CHECK_OK(jobreg_source_app_new(&src, "errapp"));
		CHECK_OK(jobreg_registry_add_source(*reg, src));
	}
	CHECK_OK(jobreg_registry_load(*reg));
	return take_snapshot(*reg);
}

/* Every stored error, one line each (no traceback, no time): for equality. */
static char *dump_errors(jobreg_storage *st)
{
	jobreg_load_error_list *list = NULL;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;

	CHECK_OK(jobreg_storage_load_errors(&list, st, NULL));
	f = open_memstream(&text, &len);
	CHECK(f != NULL);
	for (i = 0; f && i < jobreg_load_error_list_count(list); i++)
		fprintf(f, "%s|%s|%s|%s|%d|%s|%s|%s\n", jobreg_load_error_list_source_type(list, i),
		        jobreg_load_error_list_source(list, i), jobreg_load_error_list_module(list, i),
		        strrchr(jobreg_load_error_list_file(list, i), '/')
		            ? strrchr(jobreg_load_error_list_file(list, i), '/') + 1
		            : jobreg_load_error_list_file(list, i),
		        jobreg_load_error_list_line(list, i), jobreg_load_error_list_type(list, i),
		        jobreg_load_error_list_message(list, i), jobreg_load_error_list_when(list, i));
	if (f)
		fclose(f);
	jobreg_load_error_list_free(list);
	return text;
}

static void check_when(const char *when)
{
	CHECK_INT((int)strlen(when), 20);
	CHECK(when[4] == '-' && when[10] == 'T' && when[13] == ':' && when[19] == 'Z');
}

static size_t count_of(jobreg_storage *st, const char *type, const char *name)
{
	jobreg_record_filter f = JOBREG_RECORD_FILTER_INIT;
	jobreg_load_error_list *list = NULL;
	size_t n;

	f.source_type = type;
	f.source_name = name;
	CHECK_OK(jobreg_storage_load_errors(&list, st, &f));
	n = jobreg_load_error_list_count(list);
	jobreg_load_error_list_free(list);
	return n;
}

/* Stored by a refresh; replaced by the next refresh of that source only. */
static void check_backend(jobreg_storage *st)
{
	jobreg_refresh_options local = JOBREG_REFRESH_OPTIONS_INIT;
	jobreg_record_filter page = JOBREG_RECORD_FILTER_INIT;
	jobreg_load_error_list *list = NULL;
	jobreg_registry *reg1, *reg2;
	jobreg_snapshot *snap1 = load(&reg1, 1, "good.py", good_job, "bad.py",
	                              "x = 1\nraise ValueError('first failure')\n", NULL);
	jobreg_snapshot *snap2 = load(&reg2, 0, "bad2.py", "raise KeyError('second')\n", "bad3.py",
	                              "def f(:\n", NULL);
	char *app_before, *text;

	if (jobreg_snapshot_load_error_count(snap1) != 2)
		print_load_errors(snap1);
	CHECK_INT(jobreg_snapshot_load_error_count(snap1), 2);
	CHECK_INT(jobreg_snapshot_load_error_count(snap2), 2);

	/* Nothing stored yet. */
	CHECK_OK(jobreg_storage_load_errors(&list, st, NULL));
	CHECK_INT(jobreg_load_error_list_count(list), 0);
	jobreg_load_error_list_free(list);

	/* A full refresh stores both sources', sorted by source type: app first. */
	CHECK_OK(jobreg_refresh(NULL, st, snap1, NULL));
	CHECK_OK(jobreg_storage_load_errors(&list, st, NULL));
	CHECK_INT(jobreg_load_error_list_count(list), 2);
	CHECK_STR(jobreg_load_error_list_source_type(list, 0), "app");
	CHECK_STR(jobreg_load_error_list_source(list, 0), "errapp");
	CHECK_STR(jobreg_load_error_list_type(list, 0), "RuntimeError");
	CHECK_CONTAINS(jobreg_load_error_list_message(list, 0), "app is broken");
	CHECK_STR(jobreg_load_error_list_source_type(list, 1), "local");
	CHECK_STR(jobreg_load_error_list_source(list, 1), "");
	CHECK_STR(jobreg_load_error_list_module(list, 1), "bad");
	CHECK_CONTAINS(jobreg_load_error_list_file(list, 1), "bad.py");
	CHECK_INT(jobreg_load_error_list_line(list, 1), 2);
	CHECK_STR(jobreg_load_error_list_type(list, 1), "ValueError");
	CHECK_CONTAINS(jobreg_load_error_list_message(list, 1), "first failure");
	CHECK_CONTAINS(jobreg_load_error_list_traceback(list, 1), "ValueError");
	check_when(jobreg_load_error_list_when(list, 1));
	/* Out of range and NULL: getters answer NULL or 0. */
	CHECK(jobreg_load_error_list_type(list, 2) == NULL);
	CHECK_INT(jobreg_load_error_list_line(list, 2), 0);
	CHECK(jobreg_load_error_list_when(NULL, 0) == NULL);
	CHECK_INT(jobreg_load_error_list_count(NULL), 0);
	jobreg_load_error_list_free(list);

	/* Filters: by type, by name alone, and a page. */
	CHECK_INT(count_of(st, "local", NULL), 1);
	CHECK_INT(count_of(st, "app", "errapp"), 1);
	CHECK_INT(count_of(st, NULL, "errapp"), 1);
	CHECK_INT(count_of(st, "git", NULL), 0);
	page.offset = 1;
	page.limit = 1;
	CHECK_OK(jobreg_storage_load_errors(&list, st, &page));
	CHECK_INT(jobreg_load_error_list_count(list), 1);
	CHECK_STR(jobreg_load_error_list_source_type(list, 0), "local");
	jobreg_load_error_list_free(list);

	/* A refresh of the jobs root only replaces its errors, keeps the app's. */
	app_before = dump_errors(st);
	local.source_type = JOBREG_SOURCE_LOCAL;
	local.source_name = "";
	CHECK_OK(jobreg_refresh(NULL, st, snap2, &local));
	CHECK_INT(count_of(st, "local", ""), 2);
	CHECK_INT(count_of(st, "app", NULL), 1);
	text = dump_errors(st);
	CHECK_CONTAINS(text, "KeyError|'second'");
	CHECK_CONTAINS(text, "bad3.py|1|SyntaxError");
	CHECK(strstr(text, "first failure") == NULL);
	/* The app's line is the very same, time included. */
	CHECK(strncmp(text, app_before, (size_t)(strchr(app_before, '\n') - app_before)) == 0);
	free(text);
	free(app_before);

	/* A full refresh forgets a source no longer loaded (the app). */
	CHECK_OK(jobreg_refresh(NULL, st, snap2, NULL));
	CHECK_INT(count_of(st, "app", NULL), 0);
	CHECK_INT(count_of(st, "local", NULL), 2);

	jobreg_snapshot_free(snap1);
	jobreg_snapshot_free(snap2);
	jobreg_registry_free(reg1);
	jobreg_registry_free(reg2);
}

static void test_memory_stores_and_replaces_per_source(void)
{
	jobreg_storage *st = NULL;

	CHECK_OK(jobreg_storage_memory_new(&st));
	check_backend(st);
	jobreg_storage_free(st);
}

static void test_sqlite_stores_and_a_second_handle_reads_them(void)
{
	jobreg_storage *st = NULL, *other = NULL;
	char db[4096], *mine, *theirs;

	snprintf(db, sizeof(db), "%s/errors.db", jr_tmpdir());
	CHECK_OK(jobreg_storage_sqlite_open(&st, db, NULL));
	check_backend(st);
	CHECK_OK(jobreg_storage_sqlite_open(&other, db, NULL));
	mine = dump_errors(st);
	theirs = dump_errors(other);
	CHECK_STR(theirs, mine);
	CHECK_CONTAINS(theirs, "SyntaxError");
	free(mine);
	free(theirs);
	jobreg_storage_free(other);
	jobreg_storage_free(st);
}

/* A schema 2 file (0.2) gets the load errors table with the schema 3 migration. */
static void test_a_schema_2_sqlite_file_gets_the_table_in_place(void)
{
	jobreg_registry *reg;
	jobreg_snapshot *snap = load(&reg, 0, "bad.py", "raise ValueError('x')\n", NULL);
	jobreg_storage *st = NULL;
	char db[4096];

	snprintf(db, sizeof(db), "%s/schema2.db", jr_tmpdir());
	CHECK_OK(jobreg_storage_sqlite_open(&st, db, NULL));
	jobreg_storage_free(st);
	CHECK_STR(sql_query(db, "DROP TABLE jobreg_load_errors"), "");
	CHECK_STR(sql_query(db, "PRAGMA user_version = 2"), "");
	CHECK_OK(jobreg_storage_sqlite_open(&st, db, NULL));
	CHECK_STR(sql_query(db, "PRAGMA user_version"), "4");
	CHECK_OK(jobreg_refresh(NULL, st, snap, NULL));
	CHECK_STR(sql_query(db, "SELECT type || ':' || message FROM jobreg_load_errors"),
	          "ValueError:x");
	jobreg_storage_free(st);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

/* Memory: the Nth change of the refresh fails, for every N until it
 * succeeds; each failure leaves the stored errors (and records) as they
 * were, including after one source's errors were already replaced. */
static void test_memory_failed_refresh_keeps_the_old_errors(void)
{
	jobreg_registry *reg1, *reg2;
	jobreg_snapshot *snap1 = load(&reg1, 1, "bad.py", "raise ValueError('old')\n", NULL);
	jobreg_snapshot *snap2 = load(&reg2, 1, "good.py", good_job, "worse.py",
	                              "raise TypeError('new')\n", NULL);
	jobreg_storage *st = NULL;
	char *before, *after, *records_before, value[16];
	int n, failures = 0, rc = -1;

	CHECK_OK(jobreg_storage_memory_new(&st));
	CHECK_OK(jobreg_refresh(NULL, st, snap1, NULL));
	before = dump_errors(st);
	records_before = dump_storage(st, 1);
	CHECK_CONTAINS(before, "|old|");
	for (n = 1; n <= 10 && rc != 0; n++) {
		snprintf(value, sizeof(value), "%d", n);
		setenv("JOBREG_TEST_MEMORY_FAIL_WRITE", value, 1);
		rc = jobreg_refresh(NULL, st, snap2, NULL);
		unsetenv("JOBREG_TEST_MEMORY_FAIL_WRITE");
		if (rc != 0) {
			CHECK_INT(rc, JOBREG_ESTORAGE);
			after = dump_errors(st);
			CHECK_STR(after, before);
			free(after);
			after = dump_storage(st, 1);
			CHECK_STR(after, records_before);
			free(after);
			failures++;
		}
	}
	CHECK_INT(rc, 0);
	/* One record write, then the app's and the jobs root's errors. */
	CHECK_INT(failures, 3);
	after = dump_errors(st);
	CHECK_CONTAINS(after, "|new|");
	CHECK(strstr(after, "|old|") == NULL);
	free(after);
	free(before);
	free(records_before);
	jobreg_storage_free(st);
	jobreg_snapshot_free(snap1);
	jobreg_snapshot_free(snap2);
	jobreg_registry_free(reg1);
	jobreg_registry_free(reg2);
}

/* SQLite: a trigger of the host's refuses the jobs root's new errors, so
 * the refresh fails after writing a record: all of it is rolled back. */
static void test_sqlite_failed_refresh_keeps_the_old_errors(void)
{
	jobreg_registry *reg1, *reg2;
	jobreg_snapshot *snap1 = load(&reg1, 1, "bad.py", "raise ValueError('old')\n", NULL);
	jobreg_snapshot *snap2 = load(&reg2, 1, "good.py", good_job, "worse.py",
	                              "raise TypeError('boom')\n", NULL);
	jobreg_storage *st = NULL;
	char db[4096], *before, *after, *records_before;

	snprintf(db, sizeof(db), "%s/rollback.db", jr_tmpdir());
	CHECK_OK(jobreg_storage_sqlite_open(&st, db, NULL));
	CHECK_OK(jobreg_refresh(NULL, st, snap1, NULL));
	before = dump_errors(st);
	records_before = dump_storage(st, 1);
	CHECK_STR(sql_query(db, "CREATE TRIGGER boom BEFORE INSERT ON jobreg_load_errors "
	                        "WHEN NEW.message LIKE '%%boom%%' "
	                        "BEGIN SELECT RAISE(ABORT, 'refused by the host'); END"),
	          "");
	CHECK_INT(jobreg_refresh(NULL, st, snap2, NULL), JOBREG_ESTORAGE);
	CHECK_CONTAINS(jobreg_error_last()->message, "refused by the host");
	after = dump_errors(st);
	CHECK_STR(after, before);
	free(after);
	after = dump_storage(st, 1);
	CHECK_STR(after, records_before);
	free(after);
	free(before);
	free(records_before);
	jobreg_storage_free(st);
	jobreg_snapshot_free(snap1);
	jobreg_snapshot_free(snap2);
	jobreg_registry_free(reg1);
	jobreg_registry_free(reg2);
}

/* A version 2 backend has no load error callbacks: nothing stored, no error. */
static void test_a_version_2_backend_stores_none(void)
{
	jobreg_registry *reg;
	jobreg_snapshot *snap = load(&reg, 1, "bad.py", "raise ValueError('x')\n", NULL);
	jobreg_storage_backend table = fake_table();
	jobreg_load_error_list *list = NULL;
	jobreg_storage *st = NULL;
	struct fake fake;

	memset(&fake, 0, sizeof(fake));
	table.version = 2;
	CHECK_OK(jobreg_storage_new(&st, &table, &fake));
	CHECK_OK(jobreg_refresh(NULL, st, snap, NULL));
	CHECK_OK(jobreg_storage_load_errors(&list, st, NULL));
	CHECK_INT(jobreg_load_error_list_count(list), 0);
	jobreg_load_error_list_free(list);
	jobreg_storage_free(st);
	fake_clear(&fake);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_bad_arguments_are_refused_naming_the_field(void)
{
	jobreg_record_filter f = JOBREG_RECORD_FILTER_INIT;
	jobreg_load_error_list *list = (jobreg_load_error_list *)&f;
	jobreg_storage *st = NULL;

	CHECK_OK(jobreg_storage_memory_new(&st));
	CHECK_INT(jobreg_storage_load_errors(NULL, st, NULL), JOBREG_EINVAL);
	CHECK_INT(jobreg_storage_load_errors(&list, NULL, NULL), JOBREG_EINVAL);
	CHECK(list == NULL);
	f.installed = JOBREG_INSTALLED_YES;
	CHECK_INT(jobreg_storage_load_errors(&list, st, &f), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "installed");
	f.installed = JOBREG_INSTALLED_ALL;
	f.enabled = 1;
	CHECK_INT(jobreg_storage_load_errors(&list, st, &f), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "enabled");
	f.enabled = -1;
	f.source_type = "svn";
	CHECK_INT(jobreg_storage_load_errors(&list, st, &f), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "svn");
	jobreg_load_error_list_free(NULL);
	jobreg_storage_free(st);
}

static const struct jr_test tests[] = {
	JR_TEST(memory_stores_and_replaces_per_source),
	JR_TEST(sqlite_stores_and_a_second_handle_reads_them),
	JR_TEST(memory_failed_refresh_keeps_the_old_errors),
	JR_TEST(sqlite_failed_refresh_keeps_the_old_errors),
	JR_TEST(a_schema_2_sqlite_file_gets_the_table_in_place),
	JR_TEST(a_version_2_backend_stores_none),
	JR_TEST(bad_arguments_are_refused_naming_the_field),
};

int main(int argc, char **argv)
{
	jobreg_init_options opts = JOBREG_INIT_OPTIONS_INIT;
	const char *path[1];
	int rc;

	/* The broken app package, on python_path for every test. */
	snprintf(lib, sizeof(lib), "%s", jr_tmpdir());
	jr_write(lib, "errapp/__init__.py",
	         "from jobreg.apps import AppConfig\n"
	         "class ErrConfig(AppConfig):\n    name = 'errapp'\n"
	         "config = ErrConfig()\n");
	jr_write(lib, "errapp/jobs.py", "raise RuntimeError('the app is broken')\n");
	path[0] = lib;
	opts.python_path = path;
	opts.python_path_count = 1;
	if (jobreg_init(&opts) < 0) {
		fprintf(stderr, "jobreg_init: %s\n", jobreg_error_last()->message);
		return 99;
	}
	rc = jr_test_run(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
	jobreg_shutdown();
	return rc;
}
