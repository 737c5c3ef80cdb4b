/*
 * test_storage_v3.c: backend table version 3 (issue 15): records looked up
 * by id and class path, and filtered, paged lists, on the in-memory and
 * SQLite backends (their own lookups) and on a version 2 backend (the
 * library reads every record instead): all three give the same answers. A
 * version 2 SQLite file gets the schema 3 indexes in place.
 */
#include "loadutil.h"
#include "records_fixture.h"

/* A jobs root of 3 modules x 4 jobs: 12 records once refreshed. */
static jobreg_snapshot *twelve_jobs(jobreg_registry **reg)
{
	const char *dir = jr_tmpdir();
	char text[4096], name[64];
	int m, j;

	for (m = 0; m < 3; m++) {
		size_t len = (size_t)snprintf(text, sizeof(text),
		                              "from jobreg.jobs import Job, register_jobs\n\n");
		for (j = 0; j < 4; j++)
			len += (size_t)snprintf(text + len, sizeof(text) - len,
			                        "class J%d(Job):\n    class Meta:\n"
			                        "        name = 'Job %d.%d'\n\n",
			                        j, m, j);
		snprintf(text + len, sizeof(text) - len, "register_jobs(J0, J1, J2, J3)\n");
		snprintf(name, sizeof(name), "mod%d.py", m);
		jr_write(dir, name, text);
	}
	*reg = load_jobs_root(dir);
	return take_snapshot(*reg);
}

static void refresh(jobreg_storage *st, const jobreg_snapshot *snap)
{
	jobreg_refresh_result *res = NULL;

	CHECK_OK(jobreg_refresh(&res, st, snap, NULL));
	CHECK_INT(jobreg_refresh_result_created_count(res), 12);
	jobreg_refresh_result_free(res);
}

/* The three storages: memory (v3), SQLite (v3), the fake (v2). */
struct three {
	jobreg_storage *st[3];
	struct fake fake;
};

static void open_three(struct three *t, const jobreg_snapshot *snap)
{
	char db[4096];
	jobreg_storage_backend table = fake_table();

	memset(t, 0, sizeof(*t));
	snprintf(db, sizeof(db), "%s/v3.db", jr_tmpdir());
	CHECK_OK(jobreg_storage_memory_new(&t->st[0]));
	CHECK_OK(jobreg_storage_sqlite_open(&t->st[1], db, NULL));
	table.version = 2;
	CHECK_OK(jobreg_storage_new(&t->st[2], &table, &t->fake));
	refresh(t->st[0], snap);
	refresh(t->st[1], snap);
	refresh(t->st[2], snap);
}

static void close_three(struct three *t)
{
	int i;
	for (i = 0; i < 3; i++)
		jobreg_storage_free(t->st[i]);
	fake_clear(&t->fake);
}

/* The class paths of a list, joined by spaces. */
static char *paths(const jobreg_record_list *list)
{
	static char out[3][4096];
	static int next;
	char *p = out[next++ % 3];
	size_t i, len = 0;

	p[0] = '\0';
	for (i = 0; i < jobreg_record_list_count(list); i++)
		len += (size_t)snprintf(p + len, 4096 - len, "%s%s", i ? " " : "",
		                        jobreg_record_text(jobreg_record_list_get(list, i),
		                                           JOBREG_FIELD_CLASS_PATH));
	return p;
}

static char *list_paths(jobreg_storage *st, const jobreg_record_filter *f)
{
	jobreg_record_list *list = NULL;
	char *p;

	CHECK_OK(jobreg_storage_list_filtered(&list, st, f));
	p = paths(list);
	jobreg_record_list_free(list);
	return p;
}

static void test_get_by_id_and_class_path_agree_on_every_backend(void)
{
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap = twelve_jobs(&reg);
	struct three t;
	int i;

	open_three(&t, snap);
	for (i = 0; i < 3; i++) {
		jobreg_record *rec = NULL, *again = NULL;
		char id[64];

		CHECK_OK(jobreg_storage_get(&rec, t.st[i], "mod1.J2"));
		CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_NAME), "Job 1.2");
		snprintf(id, sizeof(id), "%s", jobreg_record_text(rec, JOBREG_FIELD_ID));
		CHECK_OK(jobreg_storage_get(&again, t.st[i], id));
		CHECK_STR(jobreg_record_text(again, JOBREG_FIELD_CLASS_PATH), "mod1.J2");
		jobreg_record_free(rec);
		jobreg_record_free(again);

		rec = (jobreg_record *)&rec;
		CHECK_INT(jobreg_storage_get(&rec, t.st[i], "mod1.J9"), JOBREG_ENOTFOUND);
		CHECK(rec == NULL);
		CHECK_CONTAINS(jobreg_error_last()->message, "\"mod1.J9\"");
		CHECK_INT(jobreg_storage_get(&rec, t.st[i], "nodot"), JOBREG_ENOTFOUND);
		CHECK_INT(jobreg_storage_get(&rec, t.st[i], "mod1."), JOBREG_ENOTFOUND);
	}
	close_three(&t);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_filters_and_pages_agree_on_every_backend(void)
{
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap = twelve_jobs(&reg);
	jobreg_record_filter f = JOBREG_RECORD_FILTER_INIT;
	jobreg_record *rec = NULL;
	struct three t;
	int i;

	open_three(&t, snap);
	for (i = 0; i < 3; i++) {
		/* Enable mod0.J1 and mod2.J3. */
		CHECK_OK(jobreg_storage_get(&rec, t.st[i], "mod0.J1"));
		CHECK_OK(jobreg_storage_set_enabled(t.st[i], jobreg_record_text(rec, JOBREG_FIELD_ID), 1));
		jobreg_record_free(rec);
		CHECK_OK(jobreg_storage_get(&rec, t.st[i], "mod2.J3"));
		CHECK_OK(jobreg_storage_set_enabled(t.st[i], jobreg_record_text(rec, JOBREG_FIELD_ID), 1));
		jobreg_record_free(rec);
	}
	for (i = 0; i < 3; i++) {
		jobreg_record_filter g;

		CHECK_OK(jobreg_record_filter_init(&g, JOBREG_RECORD_FILTER_VERSION));
		CHECK(memcmp(&g, &f, sizeof(f)) == 0);
		/* Everything, in list order: grouping (the module), then name. */
		CHECK_STR(list_paths(t.st[i], NULL), "mod0.J0 mod0.J1 mod0.J2 mod0.J3 mod1.J0 mod1.J1 "
		                                     "mod1.J2 mod1.J3 mod2.J0 mod2.J1 mod2.J2 mod2.J3");
		g.enabled = 1;
		CHECK_STR(list_paths(t.st[i], &g), "mod0.J1 mod2.J3");
		g.enabled = 0;
		g.offset = 2;
		g.limit = 3;
		CHECK_STR(list_paths(t.st[i], &g), "mod0.J3 mod1.J0 mod1.J1");
		g.offset = 9;
		CHECK_STR(list_paths(t.st[i], &g), "mod2.J2");
		g.offset = 50;
		CHECK_STR(list_paths(t.st[i], &g), "");
		g = f;
		g.source_type = "local";
		g.source_name = "";
		g.installed = JOBREG_INSTALLED_YES;
		g.limit = 1;
		CHECK_STR(list_paths(t.st[i], &g), "mod0.J0");
		g.source_type = "git";
		CHECK_STR(list_paths(t.st[i], &g), "");
		g = f;
		g.source_name = "other";
		CHECK_STR(list_paths(t.st[i], &g), "");
		g = f;
		g.installed = JOBREG_INSTALLED_NO;
		CHECK_STR(list_paths(t.st[i], &g), "");
	}
	close_three(&t);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_bad_filters_are_refused_naming_the_field(void)
{
	jobreg_storage *st = NULL;
	jobreg_record_list *list = (jobreg_record_list *)&st;
	jobreg_record_filter f = JOBREG_RECORD_FILTER_INIT;

	CHECK_OK(jobreg_storage_memory_new(&st));
	f.source_type = "svn";
	CHECK_INT(jobreg_storage_list_filtered(&list, st, &f), JOBREG_EINVAL);
	CHECK(list == NULL);
	CHECK_CONTAINS(jobreg_error_last()->message, "source_type \"svn\"");
	f = (jobreg_record_filter)JOBREG_RECORD_FILTER_INIT;
	f.enabled = 2;
	CHECK_INT(jobreg_storage_list_filtered(&list, st, &f), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "enabled is 2");
	f = (jobreg_record_filter)JOBREG_RECORD_FILTER_INIT;
	f.installed = (jobreg_installed_filter)7;
	CHECK_INT(jobreg_storage_list_filtered(&list, st, &f), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "installed is 7");
	f = (jobreg_record_filter)JOBREG_RECORD_FILTER_INIT;
	f.version = 99;
	CHECK_INT(jobreg_storage_list_filtered(&list, st, &f), JOBREG_EVERSION);
	CHECK_INT(jobreg_record_filter_init(&f, 99), JOBREG_EVERSION);
	CHECK_INT(jobreg_record_filter_init(NULL, 1), JOBREG_EINVAL);
	CHECK_INT(jobreg_storage_list_filtered(NULL, st, NULL), JOBREG_EINVAL);
	CHECK_INT(jobreg_storage_list_filtered(&list, NULL, NULL), JOBREG_EINVAL);
	CHECK_OK(jobreg_storage_list_filtered(&list, st, NULL));
	CHECK_INT(jobreg_record_list_count(list), 0);
	jobreg_record_list_free(list);
	jobreg_storage_free(st);
}

/* A version 3 backend's lookups are used: a get reads no record list. */
static int counting_reads;
static int refuse_read(jobreg_storage_emit_fn emit, void *emit_payload, void *payload)
{
	(void)emit;
	(void)emit_payload;
	(void)payload;
	counting_reads++;
	return jobreg_storage_error_set(JOBREG_ESTORAGE, "read_records called");
}

static int by_id(jobreg_record **out, const char *id, void *payload)
{
	(void)payload;
	if (strcmp(id, "the-id") != 0)
		return JOBREG_ENOTFOUND;
	*out = make_record("the-id", "local", "", "m", "C", "N", 1, 0);
	return 0;
}

static int by_class(jobreg_record **out, const char *module_name, const char *job_class_name,
                    void *payload)
{
	(void)payload;
	if (strcmp(module_name, "a.b") != 0 || strcmp(job_class_name, "C") != 0)
		return JOBREG_ENOTFOUND;
	*out = make_record("other-id", "local", "", "a.b", "C", "N2", 1, 0);
	return 0;
}

static int failing_by_id(jobreg_record **out, const char *id, void *payload)
{
	(void)out;
	(void)id;
	(void)payload;
	return jobreg_storage_error_set(JOBREG_ESTORAGE, "the index is broken");
}

static void test_a_version_3_backend_is_asked_by_id_and_by_class(void)
{
	struct fake f;
	jobreg_storage_backend table = fake_table();
	jobreg_storage *st = NULL;
	jobreg_record *rec = NULL;
	jobreg_record_list *list = NULL;

	memset(&f, 0, sizeof(f));
	table.version = 3;
	table.read_records = refuse_read;
	table.get_record_by_id = by_id;
	table.get_record_by_class = by_class;
	CHECK_OK(jobreg_storage_new(&st, &table, &f));
	CHECK_OK(jobreg_storage_get(&rec, st, "the-id"));
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_NAME), "N");
	jobreg_record_free(rec);
	/* The class path splits at its last dot: module "a.b", class "C". */
	CHECK_OK(jobreg_storage_get(&rec, st, "a.b.C"));
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_ID), "other-id");
	jobreg_record_free(rec);
	CHECK_INT(jobreg_storage_get(&rec, st, "a.b.D"), JOBREG_ENOTFOUND);
	CHECK_INT(counting_reads, 0);
	/* set_enabled looks the record up by id too. */
	CHECK_OK(jobreg_storage_set_enabled(st, "the-id", 1));
	CHECK_INT(counting_reads, 0);
	CHECK_INT((int)f.writes, 1);
	/* Without list_records, a list reads every record (and here fails). */
	CHECK_INT(jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL), JOBREG_ESTORAGE);
	CHECK_CONTAINS(jobreg_error_last()->message, "read_records called");
	CHECK_INT(counting_reads, 1);
	jobreg_storage_free(st);
	fake_clear(&f);

	/* A failing lookup is the backend's error, rolled back. */
	memset(&f, 0, sizeof(f));
	table.get_record_by_id = failing_by_id;
	CHECK_OK(jobreg_storage_new(&st, &table, &f));
	rec = (jobreg_record *)&rec;
	CHECK_INT(jobreg_storage_get(&rec, st, "the-id"), JOBREG_ESTORAGE);
	CHECK(rec == NULL);
	CHECK_CONTAINS(jobreg_error_last()->message, "the index is broken");
	CHECK_INT((int)f.rollbacks, 1);
	jobreg_storage_free(st);
	fake_clear(&f);
}

static void test_a_schema_2_sqlite_file_gets_the_indexes_in_place(void)
{
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap = twelve_jobs(&reg);
	jobreg_storage *st = NULL;
	jobreg_record *rec = NULL;
	char db[4096];

	snprintf(db, sizeof(db), "%s/v2.db", jr_tmpdir());
	CHECK_OK(jobreg_storage_sqlite_open(&st, db, NULL));
	refresh(st, snap);
	jobreg_storage_free(st);
	/* Back to what 0.2 left: no indexes of schema 3, user_version 2. */
	CHECK_STR(sql_query(db, "DROP INDEX jobreg_records_by_source"), "");
	CHECK_STR(sql_query(db, "DROP INDEX jobreg_records_by_listing"), "");
	CHECK_STR(sql_query(db, "PRAGMA user_version = 2"), "");
	CHECK_OK(jobreg_storage_sqlite_open(&st, db, NULL));
	CHECK_STR(sql_query(db, "PRAGMA user_version"), "4");
	CHECK_STR(sql_query(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name "
	                        "LIKE 'jobreg_records_by_%'"),
	          "2");
	CHECK_OK(jobreg_storage_get(&rec, st, "mod2.J1"));
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_NAME), "Job 2.1");
	jobreg_record_free(rec);
	/* Lookups by id and by (module_name, job_class_name) use the indexes
	 * of the primary key and the unique pair, since schema 1. */
	CHECK_STR(sql_query(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
	                        "tbl_name = 'jobreg_records'"),
	          "4");
	jobreg_storage_free(st);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static const struct jr_test tests[] = {
	JR_TEST(get_by_id_and_class_path_agree_on_every_backend),
	JR_TEST(filters_and_pages_agree_on_every_backend),
	JR_TEST(bad_filters_are_refused_naming_the_field),
	JR_TEST(a_version_3_backend_is_asked_by_id_and_by_class),
	JR_TEST(a_schema_2_sqlite_file_gets_the_indexes_in_place),
};

JR_TEST_MAIN_WITH_LIBRARY(tests)
