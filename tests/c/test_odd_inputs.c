/*
 * test_odd_inputs.c: odd inputs give a load error of their own, a clean
 * JOBREG_E* code or a failed call, never a failed load, invalid text or a
 * crash (issue 14): names and paths that are not UTF-8, app names that are
 * no Python names, record texts that are not UTF-8, deeply nested
 * configuration and JSON, a full disk under SQLite, and NULL handles given
 * to every getter.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "loadutil.h"

/* Well-formed UTF-8 (the test's own check, independent of the library's). */
static int is_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s)
		return 0;
	while (*p) {
		int n = *p < 0x80             ? 0
		        : (*p & 0xe0) == 0xc0 ? 1
		        : (*p & 0xf0) == 0xe0 ? 2
		        : (*p & 0xf8) == 0xf0 ? 3
		                              : -1;
		if (n < 0 || (n == 1 && *p < 0xc2))
			return 0;
		for (p++; n > 0; n--, p++)
			if ((*p & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

static const char *named_job(const char *cls)
{
	static char text[1024];
	snprintf(text, sizeof(text),
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class %s(Job):\n"
	         "    class Meta:\n"
	         "        description = 'the job %s'\n"
	         "register_jobs(%s)\n",
	         cls, cls, cls);
	return text;
}

static void check_errors_are_utf8(const jobreg_snapshot *snap)
{
	size_t i;

	for (i = 0; i < jobreg_snapshot_load_error_count(snap); i++) {
		const jobreg_load_error *e = jobreg_snapshot_load_error(snap, i);
		CHECK(is_utf8(jobreg_load_error_module(e)));
		CHECK(is_utf8(jobreg_load_error_file(e)));
		CHECK(is_utf8(jobreg_load_error_message(e)));
	}
}

/* ---- names and paths that are not UTF-8 ---------------------------- */

static void test_names_that_are_no_utf8_are_load_errors_of_their_own(void)
{
	const char *dir = jr_tmpdir();
	const char *never = "raise RuntimeError('must never run')\n";
	char file_shown[4096], folder_shown[4096];
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	size_t i;
	int saw_file = 0, saw_folder = 0;

	jr_write(dir, "bad\xff.py", never);
	jr_write(dir, "pkg\xff/__init__.py", never);
	jr_write(dir, "pkg\xff/jobs.py", never);
	jr_write(dir, "good.py", named_job("Good"));
	snprintf(file_shown, sizeof(file_shown), "%s/bad\\xff.py", dir);
	snprintf(folder_shown, sizeof(folder_shown), "%s/pkg\\xff", dir);
	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_job_count(snap), 1);
	CHECK(job_at(snap, "good.Good") != NULL);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 2);
	for (i = 0; i < jobreg_snapshot_load_error_count(snap); i++) {
		const jobreg_load_error *e = jobreg_snapshot_load_error(snap, i);
		const char *file = jobreg_load_error_file(e);

		CHECK_STR(jobreg_load_error_type(e), "ImportError");
		CHECK_CONTAINS(jobreg_load_error_message(e), "not valid UTF-8");
		saw_file += strcmp(file, file_shown) == 0;
		saw_folder += strcmp(file, folder_shown) == 0;
	}
	CHECK_INT(saw_file, 1);
	CHECK_INT(saw_folder, 1);
	check_errors_are_utf8(snap);
	jobreg_snapshot_free(snap);
	/* A reload sees nothing new and keeps it that way. */
	CHECK_OK(jobreg_registry_reload(reg));
	snap = take_snapshot(reg);
	CHECK_INT(jobreg_snapshot_job_count(snap), 1);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_a_jobs_root_path_that_is_no_utf8_is_refused(void)
{
	char root[4096];
	jobreg_source *src = NULL;
	const char *message;

	snprintf(root, sizeof(root), "%s/root\xff", jr_tmpdir());
	jr_write(root, "good.py", named_job("Good"));
	CHECK_INT(jobreg_source_dir_new(&src, root), JOBREG_EINVAL);
	CHECK(src == NULL);
	message = jobreg_error_last()->message;
	CHECK_CONTAINS(message, "root\\xff");
	CHECK_CONTAINS(message, "not valid UTF-8");
	CHECK(is_utf8(message));
}

static void test_a_jobs_root_that_leads_to_a_path_no_utf8_is_a_load_error(void)
{
	const char *dir = jr_tmpdir();
	char real[4096], link[4096];
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_load_error *e;

	snprintf(real, sizeof(real), "%s/real\xff", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	jr_write(real, "good.py", named_job("Good"));
	CHECK(symlink(real, link) == 0);
	reg = jobs_root_registry(link, 0);
	CHECK_OK(jobreg_registry_load(reg)); /* a load error, not a failed load */
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_job_count(snap), 0);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 1);
	e = jobreg_snapshot_load_error(snap, 0);
	CHECK_STR(jobreg_load_error_file(e), link);
	CHECK_CONTAINS(jobreg_load_error_message(e), "real\\xff");
	check_errors_are_utf8(snap);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_app_names_that_are_no_python_names_are_refused(void)
{
	static const char *const refused[] = {
		"\xff", "app.\xff", "price\xe2\x82\xac", "\xf0\x9f\x98\x80", "a..b", "", "1app", "class",
	};
	jobreg_source *src = NULL;
	size_t i;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		CHECK_INT(jobreg_source_app_new(&src, refused[i]), JOBREG_EINVAL);
		CHECK(src == NULL);
		CHECK_CONTAINS(jobreg_error_last()->message, "not a valid Python package name");
		CHECK(is_utf8(jobreg_error_last()->message));
	}
	CHECK_INT(jobreg_source_app_new(&src, "\xff"), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "'\\xff'");
	/* Non-ASCII identifiers are Python names. */
	CHECK_OK(jobreg_source_app_new(&src, "caf\xc3\xa9_jobs"));
	CHECK_STR(jobreg_source_name(src), "caf\xc3\xa9_jobs");
	jobreg_source_free(src);
}

/* ---- record texts -------------------------------------------------- */

static void test_record_texts_must_be_utf8(void)
{
	jobreg_record *rec = NULL;
	char *json = NULL;

	CHECK_OK(jobreg_record_new(&rec));
	CHECK_OK(jobreg_record_set_text(rec, JOBREG_FIELD_DESCRIPTION, "caf\xc3\xa9"));
	CHECK_INT(jobreg_record_set_text(rec, JOBREG_FIELD_DESCRIPTION, "bad\xff"), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "\"description\"");
	CHECK_CONTAINS(jobreg_error_last()->message, "bad\\xff");
	CHECK(is_utf8(jobreg_error_last()->message));
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_DESCRIPTION), "caf\xc3\xa9"); /* unchanged */
	CHECK_INT(jobreg_record_set_text(rec, JOBREG_FIELD_TASK_QUEUES, "[\"q\xff\"]"), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "\"task_queues\"");
	CHECK_INT(jobreg_record_set_text(rec, JOBREG_FIELD_NAME, "\xed\xa0\x80"), JOBREG_EINVAL);
	CHECK_OK(jobreg_record_to_json(&json, rec));
	CHECK(is_utf8(json));
	jobreg_free(json);
	jobreg_record_free(rec);
}

static void test_record_json_nested_too_deep_is_refused(void)
{
	jobreg_record *rec = NULL;
	char text[2048];
	size_t i, n = 300, len = 0;

	for (i = 0; i < n; i++)
		text[len++] = '[';
	for (i = 0; i < n; i++)
		text[len++] = ']';
	text[len] = '\0';
	CHECK_OK(jobreg_record_new(&rec));
	CHECK_INT(jobreg_record_set_text(rec, JOBREG_FIELD_TASK_QUEUES, text), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "\"task_queues\"");
	CHECK_CONTAINS(jobreg_error_last()->message, "nested deeper than 256 levels");
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_TASK_QUEUES), "[]");
	jobreg_record_free(rec);
}

/* A jobs root with one job, refreshed into `st`; the record's id in `id`. */
static void refresh_one_job(jobreg_storage *st, const char *description, char *id, size_t size)
{
	const char *dir = jr_tmpdir();
	char text[70000];
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	jobreg_record_list *list = NULL;

	snprintf(text, sizeof(text),
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class Big(Job):\n"
	         "    class Meta:\n"
	         "        description = '%s'\n"
	         "register_jobs(Big)\n",
	         description);
	jr_write(dir, "big.py", text);
	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_OK(jobreg_refresh(NULL, st, snap, NULL));
	CHECK_OK(jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL));
	CHECK_INT(jobreg_record_list_count(list), 1);
	if (id && jobreg_record_list_count(list) == 1)
		snprintf(id, size, "%s",
		         jobreg_record_text(jobreg_record_list_get(list, 0), JOBREG_FIELD_ID));
	jobreg_record_list_free(list);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_overrides_must_be_utf8(void)
{
	jobreg_storage *st = NULL;
	jobreg_record *rec = NULL;
	char id[64] = "";

	CHECK_OK(jobreg_storage_memory_new(&st));
	refresh_one_job(st, "short", id, sizeof(id));
	CHECK_INT(jobreg_storage_override_text(st, id, JOBREG_FIELD_NAME, "Name\xff"), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "\"name\"");
	CHECK_CONTAINS(jobreg_error_last()->message, "Name\\xff");
	CHECK_OK(jobreg_storage_get(&rec, st, id));
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_NAME), "Big");
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_NAME_OVERRIDE), 0);
	jobreg_record_free(rec);
	jobreg_storage_free(st);
}

static void test_a_stored_text_that_is_no_utf8_is_a_clean_storage_error(void)
{
	char path[4096], id[64] = "";
	jobreg_storage *st = NULL;
	jobreg_record_list *list = NULL;
	sqlite3 *db = NULL;
	const char *message;

	snprintf(path, sizeof(path), "%s/jobreg.db", jr_tmpdir());
	CHECK_OK(jobreg_storage_sqlite_open(&st, path, NULL));
	refresh_one_job(st, "short", id, sizeof(id));
	jobreg_storage_free(st);
	/* Another program writes bytes that are no UTF-8 into the file. */
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "UPDATE jobreg_records SET description = CAST(X'62616dff' AS TEXT)",
	                   NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	st = NULL;
	CHECK_OK(jobreg_storage_sqlite_open(&st, path, NULL));
	CHECK_INT(jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL), JOBREG_ESTORAGE);
	CHECK(list == NULL);
	message = jobreg_error_last()->message;
	CHECK_CONTAINS(message, id);
	CHECK_CONTAINS(message, "\"description\"");
	CHECK_CONTAINS(message, "bam\\xff");
	CHECK(is_utf8(message));
	jobreg_storage_free(st);
}

/* ---- nesting ------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* `apps: ` and `levels` nested flow lists around "x". */
static char *nested_flow(size_t levels, size_t *len)
{
	char *text = malloc(2 * levels + 16);
	size_t n = 0, i;

	if (!text)
		abort();
	n += (size_t)sprintf(text, "apps: ");
	for (i = 0; i < levels; i++)
		text[n++] = '[';
	text[n++] = 'x';
	for (i = 0; i < levels; i++)
		text[n++] = ']';
	text[n++] = '\n';
	text[n] = '\0';
	*len = n;
	return text;
}

static void test_config_nesting_is_capped_and_fast(void)
{
	jobreg_config *cfg = NULL;
	size_t len;
	char *text = nested_flow(100000, &len);
	double start = now();

	CHECK_INT(jobreg_config_parse(&cfg, text, len, "/tmp", "jobreg.yaml"), JOBREG_ECONFIG);
	printf("100,000 nested YAML lists refused in %.3f s\n", now() - start);
	CHECK(cfg == NULL);
	/* The root mapping is level 1: the 64th list is level 65, at column 6 + 63. */
	CHECK_CONTAINS(jobreg_error_last()->message, "jobreg.yaml:1:70: nesting too deep");
	CHECK_CONTAINS(jobreg_error_last()->message, "deeper than 64 levels");
	free(text);
	/* 63 lists (64 levels) are no nesting error, only a wrong value. */
	text = nested_flow(63, &len);
	CHECK_INT(jobreg_config_parse(&cfg, text, len, "/tmp", "jobreg.yaml"), JOBREG_ECONFIG);
	CHECK(strstr(jobreg_error_last()->message, "nesting too deep") == NULL);
	free(text);
}

static void test_config_block_nesting_is_capped(void)
{
	jobreg_config *cfg = NULL;
	char *text = malloc(70 * 80);
	size_t n = 0;
	int i;

	if (!text)
		abort();
	for (i = 0; i < 70; i++)
		n += (size_t)sprintf(text + n, "%*sk%d:\n", i, "", i);
	n += (size_t)sprintf(text + n, "%*sx\n", 70, "");
	CHECK_INT(jobreg_config_parse(&cfg, text, n, "/tmp", "jobreg.yaml"), JOBREG_ECONFIG);
	/* Level 65 is the value of k63, which starts on line 65, column 65. */
	CHECK_CONTAINS(jobreg_error_last()->message, "jobreg.yaml:65:65: nesting too deep");
	free(text);
}

/* ---- a full disk --------------------------------------------------- */

static int max_pages = 0;

/* Run on every SQLite connection the process opens (the library's too). */
static int limit_pages(sqlite3 *db, const char **error, const struct sqlite3_api_routines *api)
{
	char sql[64];

	(void)error;
	(void)api;
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %d", max_pages);
	return max_pages ? sqlite3_exec(db, sql, NULL, NULL, NULL) : SQLITE_OK;
}

static void test_a_full_disk_says_so(void)
{
	char path[4096], big[60001], id[64] = "";
	jobreg_storage *st = NULL;
	jobreg_record *rec = NULL;
	const char *message;

	CHECK(sqlite3_auto_extension((void (*)(void))limit_pages) == SQLITE_OK);
	/* No room for the schema: opening a new file fails. */
	snprintf(path, sizeof(path), "%s/full.db", jr_tmpdir());
	max_pages = 1;
	CHECK_INT(jobreg_storage_sqlite_open(&st, path, NULL), JOBREG_ESTORAGE);
	message = jobreg_error_last()->message;
	CHECK_CONTAINS(message, path);
	CHECK_CONTAINS(message, "the disk is full");
	CHECK(strstr(message, "disk I/O error") == NULL);

	/* A database that has records, then no room to grow. */
	max_pages = 0;
	snprintf(path, sizeof(path), "%s/jobreg.db", jr_tmpdir());
	CHECK_OK(jobreg_storage_sqlite_open(&st, path, NULL));
	refresh_one_job(st, "short", id, sizeof(id));
	jobreg_storage_free(st);
	st = NULL;
	max_pages = 1; /* SQLite raises it to the pages the file has */
	CHECK_OK(jobreg_storage_sqlite_open(&st, path, NULL));
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_INT(jobreg_storage_override_text(st, id, JOBREG_FIELD_DESCRIPTION, big), JOBREG_ESTORAGE);
	message = jobreg_error_last()->message;
	CHECK_CONTAINS(message, path);
	CHECK_CONTAINS(message, "the disk is full");
	CHECK_CONTAINS(message, id);
	/* Nothing changed. */
	CHECK_OK(jobreg_storage_get(&rec, st, id));
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_DESCRIPTION), "short");
	jobreg_record_free(rec);
	jobreg_storage_free(st);
	max_pages = 0;
	sqlite3_cancel_auto_extension((void (*)(void))limit_pages);
}

/* ---- NULL handles -------------------------------------------------- */

static void test_every_getter_takes_null(void)
{
	/* Jobs (job.h). */
	CHECK(jobreg_job_class_path(NULL) == NULL);
	CHECK(jobreg_job_module_name(NULL) == NULL);
	CHECK(jobreg_job_class_name(NULL) == NULL);
	CHECK_INT(jobreg_job_source_type(NULL), 0);
	CHECK(jobreg_job_source_name(NULL) == NULL);
	CHECK(jobreg_job_grouping(NULL) == NULL);
	CHECK(jobreg_job_name(NULL) == NULL);
	CHECK(jobreg_job_description(NULL) == NULL);
	CHECK_INT(jobreg_job_hidden(NULL), 0);
	CHECK_INT(jobreg_job_dryrun_default(NULL), 0);
	CHECK_INT(jobreg_job_approval_required(NULL), 0);
	CHECK_INT(jobreg_job_has_sensitive_variables(NULL), 0);
	CHECK_INT(jobreg_job_is_singleton(NULL), 0);
	CHECK(jobreg_job_soft_time_limit(NULL) == 0.0);
	CHECK(jobreg_job_time_limit(NULL) == 0.0);
	CHECK_INT(jobreg_job_task_queue_count(NULL), 0);
	CHECK(jobreg_job_task_queue(NULL, 0) == NULL);
	CHECK_INT(jobreg_job_supports_dryrun(NULL), 0);
	CHECK(jobreg_job_variables_json(NULL) == NULL);
	jobreg_job_free(NULL);
	/* Snapshots and load errors (snapshot.h). */
	CHECK_INT(jobreg_snapshot_generation(NULL), 0);
	CHECK_INT(jobreg_snapshot_job_count(NULL), 0);
	CHECK(jobreg_snapshot_job(NULL, 0) == NULL);
	CHECK_INT(jobreg_snapshot_load_error_count(NULL), 0);
	CHECK(jobreg_snapshot_load_error(NULL, 0) == NULL);
	CHECK_INT(jobreg_snapshot_memory(NULL), 0);
	jobreg_snapshot_free(NULL);
	CHECK_INT(jobreg_load_error_source_type(NULL), 0);
	CHECK(jobreg_load_error_source(NULL) == NULL);
	CHECK(jobreg_load_error_module(NULL) == NULL);
	CHECK(jobreg_load_error_file(NULL) == NULL);
	CHECK_INT(jobreg_load_error_line(NULL), 0);
	CHECK(jobreg_load_error_type(NULL) == NULL);
	CHECK(jobreg_load_error_message(NULL) == NULL);
	CHECK(jobreg_load_error_traceback(NULL) == NULL);
	/* Sources (source.h). */
	CHECK_INT(jobreg_source_type(NULL), 0);
	CHECK(jobreg_source_name(NULL) == NULL);
	CHECK(jobreg_source_root(NULL) == NULL);
	CHECK_INT(jobreg_source_nautobot_compat(NULL), JOBREG_COMPAT_DEFAULT);
	jobreg_source_free(NULL);
	/* Records (record.h). */
	CHECK(jobreg_record_text(NULL, JOBREG_FIELD_NAME) == NULL);
	CHECK_INT(jobreg_record_bool(NULL, JOBREG_FIELD_ENABLED), JOBREG_EINVAL);
	CHECK(jobreg_record_real(NULL, JOBREG_FIELD_TIME_LIMIT) == 0.0);
	CHECK_INT(jobreg_record_list_count(NULL), 0);
	CHECK(jobreg_record_list_get(NULL, 0) == NULL);
	jobreg_record_free(NULL);
	jobreg_record_list_free(NULL);
	/* Storage (storage.h). */
	jobreg_storage_free(NULL);
	/* Configuration (config.h). */
	CHECK(jobreg_config_path(NULL) == NULL);
	CHECK(jobreg_config_dir(NULL) == NULL);
	CHECK(jobreg_config_jobs_root(NULL) == NULL);
	CHECK(jobreg_config_git_root(NULL) == NULL);
	CHECK(jobreg_config_database(NULL) == NULL);
	CHECK_INT(jobreg_config_python_path_count(NULL), 0);
	CHECK(jobreg_config_python_path(NULL, 0) == NULL);
	CHECK_INT(jobreg_config_nautobot_compat(NULL), JOBREG_COMPAT_AUTO);
	CHECK(jobreg_config_import_timeout(NULL) == 0.0);
	CHECK_INT(jobreg_config_git_repository_count(NULL), 0);
	CHECK(jobreg_config_git_repository_slug(NULL, 0) == NULL);
	CHECK(jobreg_config_git_repository_remote_url(NULL, 0) == NULL);
	CHECK(jobreg_config_git_repository_branch(NULL, 0) == NULL);
	CHECK(jobreg_config_git_repository_token_env(NULL, 0) == NULL);
	CHECK_INT(jobreg_config_git_repository_nautobot_compat(NULL, 0), JOBREG_COMPAT_DEFAULT);
	CHECK_INT(jobreg_config_app_count(NULL), 0);
	CHECK(jobreg_config_app(NULL, 0) == NULL);
	CHECK_INT(jobreg_config_locate(NULL, NULL, NULL, "apps"), JOBREG_EINVAL);
	jobreg_config_free(NULL);
}

static const struct jr_test tests[] = {
	JR_TEST(names_that_are_no_utf8_are_load_errors_of_their_own),
	JR_TEST(a_jobs_root_path_that_is_no_utf8_is_refused),
	JR_TEST(a_jobs_root_that_leads_to_a_path_no_utf8_is_a_load_error),
	JR_TEST(app_names_that_are_no_python_names_are_refused),
	JR_TEST(record_texts_must_be_utf8),
	JR_TEST(record_json_nested_too_deep_is_refused),
	JR_TEST(overrides_must_be_utf8),
	JR_TEST(a_stored_text_that_is_no_utf8_is_a_clean_storage_error),
	JR_TEST(config_nesting_is_capped_and_fast),
	JR_TEST(config_block_nesting_is_capped),
	JR_TEST(a_full_disk_says_so),
	JR_TEST(every_getter_takes_null),
};

JR_TEST_MAIN_WITH_LIBRARY(tests)
