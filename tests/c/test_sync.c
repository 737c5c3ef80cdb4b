/*
 * test_sync.c: jobreg_registry_sync() (jobreg/sync.h): a source whose
 * files, environment and records are as the last sync left them is neither
 * imported nor refreshed; anything else is. Real jobs roots on disk, a
 * module that counts its imports in a file, the in-memory and SQLite
 * backends and a fake backend (records_fixture.h) with or without state.
 */
#include <stdlib.h>

#include "loadutil.h"
#include "records_fixture.h"

#define JOB_MODULE(cls)                              \
	"from jobreg.jobs import Job, register_jobs\n\n" \
	"class " cls "(Job):\n"                          \
	"    pass\n\n"                                   \
	"register_jobs(" cls ")\n"

/* A jobs root with two jobs and a module that appends a line to `log` at import. */
static const char *make_root(char *log, size_t size)
{
	const char *dir = jr_tmpdir();
	char marker[4300];

	snprintf(log, size, "%s/imports.log", jr_tmpdir());
	jr_write(dir, "alpha.py", JOB_MODULE("Alpha"));
	jr_write(dir, "beta.py", JOB_MODULE("Beta"));
	snprintf(marker, sizeof(marker), "with open(%s%s%s, 'a') as f:\n    f.write('x\\n')\n", "'",
	         log, "'");
	jr_write(dir, "marker.py", marker);
	return dir;
}

static int imports(const char *log)
{
	FILE *f = fopen(log, "r");
	int c, n = 0;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* One sync of `dir` into `st` by a new registry (a new process, in effect). */
static jobreg_refresh_result *sync_once(const char *dir, jobreg_storage *st, int full)
{
	jobreg_sync_options opts = JOBREG_SYNC_OPTIONS_INIT;
	jobreg_registry *reg = jobs_root_registry(dir, 0);
	jobreg_refresh_result *res = NULL;

	opts.full = full;
	CHECK_OK(jobreg_registry_sync(&res, reg, st, &opts));
	jobreg_registry_free(reg);
	return res;
}

static void check_result(jobreg_refresh_result *res, size_t created, size_t updated,
                         size_t unchanged, size_t skipped)
{
	CHECK_INT(jobreg_refresh_result_created_count(res), created);
	CHECK_INT(jobreg_refresh_result_updated_count(res), updated);
	CHECK_INT(jobreg_refresh_result_unchanged(res), unchanged);
	CHECK_INT(jobreg_refresh_result_skipped_count(res), skipped);
	jobreg_refresh_result_free(res);
}

static void test_a_second_sync_imports_nothing_and_writes_nothing(void)
{
	char log[4200];
	const char *dir = make_root(log, sizeof(log));
	jobreg_storage *st = NULL;
	jobreg_refresh_result *res;

	CHECK_OK(jobreg_storage_memory_new(&st));
	check_result(sync_once(dir, st, 0), 2, 0, 0, 0);
	CHECK_INT(imports(log), 1);
	res = sync_once(dir, st, 0);
	CHECK_INT(jobreg_refresh_result_writes(res), 0);
	check_result(res, 0, 0, 2, 1);
	CHECK_INT(imports(log), 1);
	/* full: imported and refreshed again, nothing to write. */
	res = sync_once(dir, st, 1);
	CHECK_INT(jobreg_refresh_result_writes(res), 0);
	check_result(res, 0, 0, 2, 0);
	CHECK_INT(imports(log), 2);
	check_result(sync_once(dir, st, 0), 0, 0, 2, 1);
	CHECK_INT(imports(log), 2);
	jobreg_storage_free(st);
}

static void test_a_changed_or_added_file_is_imported_again(void)
{
	char log[4200];
	const char *dir = make_root(log, sizeof(log));
	jobreg_storage *st = NULL;

	CHECK_OK(jobreg_storage_memory_new(&st));
	check_result(sync_once(dir, st, 0), 2, 0, 0, 0);
	jr_write(dir, "gamma.py", JOB_MODULE("Gamma"));
	check_result(sync_once(dir, st, 0), 1, 0, 2, 0);
	CHECK_INT(imports(log), 2);
	jr_write(dir, "beta.py",
	         "from jobreg.jobs import Job, register_jobs\n\n"
	         "class Beta(Job):\n    class Meta:\n        name = 'Renamed'\n\n"
	         "register_jobs(Beta)\n");
	check_result(sync_once(dir, st, 0), 0, 1, 2, 0);
	CHECK_STR(text_of(st, "beta.Beta", JOBREG_FIELD_NAME), "Renamed");
	check_result(sync_once(dir, st, 0), 0, 0, 3, 1);
	jobreg_storage_free(st);
}

static void test_records_changed_by_others_bring_the_import_back(void)
{
	char log[4200];
	const char *dir = make_root(log, sizeof(log));
	jobreg_storage *st = NULL;
	char id[64];

	CHECK_OK(jobreg_storage_memory_new(&st));
	check_result(sync_once(dir, st, 0), 2, 0, 0, 0);
	/* enabled is the host's: the next sync still skips. */
	CHECK_OK(jobreg_storage_set_enabled(st, text_of(st, "alpha.Alpha", JOBREG_FIELD_ID), 1));
	check_result(sync_once(dir, st, 0), 0, 0, 2, 1);
	CHECK_INT(imports(log), 1);
	/* A deleted record comes back, with a new id. */
	snprintf(id, sizeof(id), "%s", text_of(st, "beta.Beta", JOBREG_FIELD_ID));
	CHECK_OK(jobreg_storage_delete(st, id, 1));
	check_result(sync_once(dir, st, 0), 1, 0, 1, 0);
	CHECK(strcmp(text_of(st, "beta.Beta", JOBREG_FIELD_ID), id) != 0);
	CHECK_INT(imports(log), 2);
	CHECK_INT(bool_of(st, "alpha.Alpha", JOBREG_FIELD_ENABLED), 1);
	jobreg_storage_free(st);
}

static void test_a_source_with_load_errors_is_never_skipped(void)
{
	char log[4200];
	const char *dir = make_root(log, sizeof(log));
	jobreg_storage *st = NULL;
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	int round;

	CHECK_OK(jobreg_storage_memory_new(&st));
	jr_write(dir, "broken.py", "raise RuntimeError('down')\n");
	for (round = 0; round < 2; round++) {
		jobreg_refresh_result *res = NULL;

		reg = jobs_root_registry(dir, 0);
		CHECK_OK(jobreg_registry_sync(&res, reg, st, NULL));
		CHECK_INT(jobreg_refresh_result_skipped_count(res), 0);
		snap = take_snapshot(reg);
		CHECK(error_for(snap, "broken") != NULL);
		jobreg_snapshot_free(snap);
		jobreg_refresh_result_free(res);
		jobreg_registry_free(reg);
	}
	CHECK_INT(imports(log), 2);
	jobreg_storage_free(st);
}

static void test_a_skipped_source_has_no_jobs_until_a_load(void)
{
	char log[4200];
	const char *dir = make_root(log, sizeof(log));
	jobreg_storage *st = NULL;
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	CHECK_OK(jobreg_storage_memory_new(&st));
	check_result(sync_once(dir, st, 0), 2, 0, 0, 0);
	reg = jobs_root_registry(dir, 0);
	CHECK_OK(jobreg_registry_sync(NULL, reg, st, NULL));
	snap = take_snapshot(reg);
	CHECK_INT(jobreg_snapshot_job_count(snap), 0);
	jobreg_snapshot_free(snap);
	CHECK_OK(jobreg_registry_reload(reg));
	snap = take_snapshot(reg);
	CHECK_INT(jobreg_snapshot_job_count(snap), 2);
	jobreg_snapshot_free(snap);
	/* Loaded in this registry now: the next sync skips it and keeps its jobs. */
	CHECK_OK(jobreg_registry_sync(NULL, reg, st, NULL));
	snap = take_snapshot(reg);
	CHECK_INT(jobreg_snapshot_job_count(snap), 2);
	jobreg_snapshot_free(snap);
	CHECK_INT(imports(log), 2);
	jobreg_registry_free(reg);
	jobreg_storage_free(st);
}

static void test_sqlite_keeps_the_state_across_handles(void)
{
	char log[4200], db[4300];
	const char *dir = make_root(log, sizeof(log));
	jobreg_storage *st = NULL;

	snprintf(db, sizeof(db), "%s/jobreg.db", jr_tmpdir());
	CHECK_OK(jobreg_storage_sqlite_open(&st, db, NULL));
	check_result(sync_once(dir, st, 0), 2, 0, 0, 0);
	jobreg_storage_free(st);
	CHECK_OK(jobreg_storage_sqlite_open(&st, db, NULL));
	check_result(sync_once(dir, st, 0), 0, 0, 2, 1);
	CHECK_INT(imports(log), 1);
	jobreg_storage_free(st);
	CHECK_STR(sql_query(db, "SELECT source_type || '/' || source FROM jobreg_source_state"),
	          "local/");
}

static void test_a_backend_without_state_syncs_everything_every_time(void)
{
	char log[4200];
	const char *dir = make_root(log, sizeof(log));
	struct fake f;
	jobreg_storage_backend table;
	jobreg_storage *st = NULL;

	/* Version 1, as a 0.1 host wrote it. */
	memset(&f, 0, sizeof(f));
	table = fake_table();
	table.version = 1;
	CHECK_OK(jobreg_storage_new(&st, &table, &f));
	check_result(sync_once(dir, st, 0), 2, 0, 0, 0);
	check_result(sync_once(dir, st, 0), 0, 0, 2, 0);
	CHECK_INT(imports(log), 2);
	jobreg_storage_free(st);
	fake_clear(&f);
}

/* The fake backend plus one stored state that can be made to fail. */
struct stateful {
	struct fake f; /* first: the fake's callbacks get this pointer */
	char *state, *pending;
	int pending_set, fail_write;
};

static int stateful_read(const char **state, const char *type, const char *name, void *payload)
{
	struct stateful *s = payload;

	(void)type;
	(void)name;
	if (!s->state)
		return JOBREG_ENOTFOUND;
	*state = s->state;
	return 0;
}

static int stateful_write(const char *type, const char *name, const char *state, void *payload)
{
	struct stateful *s = payload;

	(void)type;
	(void)name;
	if (s->fail_write)
		return jobreg_storage_error_set(JOBREG_ESTORAGE, "state disk full");
	free(s->pending);
	s->pending = state ? strdup(state) : NULL;
	s->pending_set = 1;
	return 0;
}

static int stateful_commit(void *payload)
{
	struct stateful *s = payload;
	int rc = fake_commit(payload);

	if (rc == 0 && s->pending_set) {
		free(s->state);
		s->state = s->pending;
		s->pending = NULL;
		s->pending_set = 0;
	}
	return rc;
}

static int stateful_rollback(void *payload)
{
	struct stateful *s = payload;

	free(s->pending);
	s->pending = NULL;
	s->pending_set = 0;
	return fake_rollback(payload);
}

static void test_a_failing_state_write_leaves_records_and_state_as_before(void)
{
	char log[4200];
	const char *dir = make_root(log, sizeof(log));
	struct stateful s;
	jobreg_storage_backend table;
	jobreg_storage *st = NULL;
	jobreg_registry *reg;
	char *before, *state_before;

	memset(&s, 0, sizeof(s));
	table = fake_table();
	table.commit = stateful_commit;
	table.rollback = stateful_rollback;
	table.source_state_read = stateful_read;
	table.source_state_write = stateful_write;
	CHECK_OK(jobreg_storage_new(&st, &table, &s));
	check_result(sync_once(dir, st, 0), 2, 0, 0, 0);
	CHECK(s.state != NULL && strncmp(s.state, "sync-1 files=", 13) == 0);
	check_result(sync_once(dir, st, 0), 0, 0, 2, 1);

	jr_write(dir, "gamma.py", JOB_MODULE("Gamma"));
	before = dump_storage(st, 1);
	state_before = strdup(s.state);
	s.fail_write = 1;
	reg = jobs_root_registry(dir, 0);
	CHECK_INT(jobreg_registry_sync(NULL, reg, st, NULL), JOBREG_ESTORAGE);
	CHECK_CONTAINS(jobreg_error_last()->message, "state disk full");
	jobreg_registry_free(reg);
	{
		char *after = dump_storage(st, 1);
		CHECK_STR(after, before);
		free(after);
	}
	CHECK_STR(s.state, state_before);
	s.fail_write = 0;
	check_result(sync_once(dir, st, 0), 1, 0, 2, 0);
	free(before);
	free(state_before);
	jobreg_storage_free(st);
	free(s.state);
	free(s.pending);
	fake_clear(&s.f);
}

static void test_two_jobs_roots_are_never_skipped(void)
{
	char log1[4200];
	const char *one = make_root(log1, sizeof(log1)), *two = jr_tmpdir();
	jobreg_storage *st = NULL;
	int round;

	jr_write(two, "other_jobs.py", JOB_MODULE("Other"));
	CHECK_OK(jobreg_storage_memory_new(&st));
	for (round = 0; round < 2; round++) {
		jobreg_registry *reg = jobs_root_registry(one, 0);
		jobreg_source *src = NULL;
		jobreg_refresh_result *res = NULL;

		CHECK_OK(jobreg_source_dir_new(&src, two));
		CHECK_OK(jobreg_registry_add_source(reg, src));
		CHECK_OK(jobreg_registry_sync(&res, reg, st, NULL));
		CHECK_INT(jobreg_refresh_result_skipped_count(res), 0);
		CHECK_INT(jobreg_refresh_result_created_count(res), round == 0 ? 3 : 0);
		jobreg_refresh_result_free(res);
		jobreg_registry_free(reg);
	}
	CHECK_INT(imports(log1), 2);
	jobreg_storage_free(st);
}

static void test_sync_checks_its_arguments_and_options(void)
{
	jobreg_sync_options opts;
	jobreg_storage *st = NULL;
	jobreg_registry *reg = jobs_root_registry(jr_tmpdir(), 0);

	CHECK_OK(jobreg_storage_memory_new(&st));
	CHECK_INT(jobreg_registry_sync(NULL, NULL, st, NULL), JOBREG_EINVAL);
	CHECK_INT(jobreg_registry_sync(NULL, reg, NULL, NULL), JOBREG_EINVAL);
	CHECK_INT(jobreg_sync_options_init(&opts, 0), JOBREG_EVERSION);
	CHECK_INT(jobreg_sync_options_init(&opts, JOBREG_SYNC_OPTIONS_VERSION + 1), JOBREG_EVERSION);
	CHECK_OK(jobreg_sync_options_init(&opts, 1));
	CHECK_INT(opts.full, 0);
	opts.version = 99;
	CHECK_INT(jobreg_registry_sync(NULL, reg, st, &opts), JOBREG_EVERSION);
	CHECK_INT(jobreg_refresh_result_skipped_count(NULL), 0);
	jobreg_registry_free(reg);
	jobreg_storage_free(st);
}

static const struct jr_test tests[] = {
	{ "test_a_second_sync_imports_nothing_and_writes_nothing",
	  test_a_second_sync_imports_nothing_and_writes_nothing },
	{ "test_a_changed_or_added_file_is_imported_again",
	  test_a_changed_or_added_file_is_imported_again },
	{ "test_records_changed_by_others_bring_the_import_back",
	  test_records_changed_by_others_bring_the_import_back },
	{ "test_a_source_with_load_errors_is_never_skipped",
	  test_a_source_with_load_errors_is_never_skipped },
	{ "test_a_skipped_source_has_no_jobs_until_a_load",
	  test_a_skipped_source_has_no_jobs_until_a_load },
	{ "test_sqlite_keeps_the_state_across_handles", test_sqlite_keeps_the_state_across_handles },
	{ "test_a_backend_without_state_syncs_everything_every_time",
	  test_a_backend_without_state_syncs_everything_every_time },
	{ "test_a_failing_state_write_leaves_records_and_state_as_before",
	  test_a_failing_state_write_leaves_records_and_state_as_before },
	{ "test_two_jobs_roots_are_never_skipped", test_two_jobs_roots_are_never_skipped },
	{ "test_sync_checks_its_arguments_and_options", test_sync_checks_its_arguments_and_options },
};

JR_TEST_MAIN_WITH_LIBRARY(tests)
