/*
 * test_sqlite_migrate_020.c: a SQLite file written by libjobreg 0.2.0
 * itself (tests/data/jobreg-0.2.0.sqlite, made by tools/make-020-fixture.sh
 * from the jobs root tests/data/jobs-0.2.0) opened by this library: it is
 * migrated in place to schema 4, every record comes back with its id,
 * enabled flag, override and every field as 0.2.0 wrote them, the git and
 * source state survive, the tables added since work, a second open does
 * nothing more, and a file of a newer schema is refused untouched.
 *
 * Usage: test_sqlite_migrate_020 FIXTURE [TEST]. The fixture is only ever
 * read: each test works on a copy in a temporary folder.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loadutil.h"
#include "sqlutil.h"

static const char *fixture;

/*
 * What the script's 0.2.0 program wrote, field by field in field order
 * (the ids are the ones in the committed fixture; a regenerated fixture
 * has new ones: the script prints them). BackupConfigs and AuditSerials
 * are enabled; RestoreConfig's name is overridden.
 */
static const struct expected {
	const char *class_path;
	const char *fields;
} expected[] = {
	{ "backups.BackupConfigs",
	  "id=8e95747a-d4c6-45d1-89d0-d9dc58313b89\nmodule_name=backups\n"
	  "job_class_name=BackupConfigs\nclass_path=backups.BackupConfigs\nsource_type=local\n"
	  "source=\ngrouping=Backups\nname=Backup configs\ndescription=\ninstalled=1\nenabled=1\n"
	  "hidden=0\ndryrun_default=0\napproval_required=0\nhas_sensitive_variables=1\n"
	  "soft_time_limit=0\ntime_limit=600\ntask_queues=[\"default\",\"backups\"]\n"
	  "is_singleton=0\nsupports_dryrun=0\n"
	  "variables={\"order\": [\"site\", \"keep\"], \"properties\": {\"keep\": {\"default\": 30, "
	  "\"minimum\": 1, \"type\": \"integer\", \"var_type\": \"IntegerVar\"}, \"site\": "
	  "{\"description\": \"Only this site\", \"type\": \"string\", \"var_type\": "
	  "\"StringVar\"}}, \"required\": [], \"type\": \"object\"}\n"
	  "grouping_override=0\nname_override=0\ndescription_override=0\nhidden_override=0\n"
	  "dryrun_default_override=0\napproval_required_override=0\n"
	  "has_sensitive_variables_override=0\nsoft_time_limit_override=0\n"
	  "time_limit_override=0\nis_singleton_override=0\n" },
	{ "backups.RestoreConfig",
	  "id=9ac5fb24-ea43-47b8-8edb-e1e0edc043f1\nmodule_name=backups\n"
	  "job_class_name=RestoreConfig\nclass_path=backups.RestoreConfig\nsource_type=local\n"
	  "source=\ngrouping=Backups\nname=Restore (approved)\n"
	  "description=Put an archived config back on a device\ninstalled=1\nenabled=0\n"
	  "hidden=0\ndryrun_default=1\napproval_required=1\nhas_sensitive_variables=0\n"
	  "soft_time_limit=0\ntime_limit=0\ntask_queues=[]\nis_singleton=0\nsupports_dryrun=0\n"
	  "variables={}\ngrouping_override=0\nname_override=1\ndescription_override=0\n"
	  "hidden_override=0\ndryrun_default_override=0\napproval_required_override=0\n"
	  "has_sensitive_variables_override=0\nsoft_time_limit_override=0\n"
	  "time_limit_override=0\nis_singleton_override=0\n" },
	{ "inventory.check.AuditSerials",
	  "id=f2fe06ec-6d35-4948-b50a-659e630bb63b\nmodule_name=inventory.check\n"
	  "job_class_name=AuditSerials\nclass_path=inventory.check.AuditSerials\n"
	  "source_type=local\nsource=\ngrouping=Inventory\nname=Audit serial numbers\n"
	  "description=Compare serials with the asset database\ninstalled=1\nenabled=1\n"
	  "hidden=0\ndryrun_default=0\napproval_required=0\nhas_sensitive_variables=1\n"
	  "soft_time_limit=0\ntime_limit=0\ntask_queues=[]\nis_singleton=0\nsupports_dryrun=0\n"
	  "variables={}\ngrouping_override=0\nname_override=0\ndescription_override=0\n"
	  "hidden_override=0\ndryrun_default_override=0\napproval_required_override=0\n"
	  "has_sensitive_variables_override=0\nsoft_time_limit_override=0\n"
	  "time_limit_override=0\nis_singleton_override=0\n" },
	{ "inventory.check.CheckInventory",
	  "id=1a288ce8-4244-4393-9942-e4ec454a994e\nmodule_name=inventory.check\n"
	  "job_class_name=CheckInventory\nclass_path=inventory.check.CheckInventory\n"
	  "source_type=local\nsource=\ngrouping=Inventory\nname=Check inventory\ndescription=\n"
	  "installed=1\nenabled=0\nhidden=1\ndryrun_default=0\napproval_required=0\n"
	  "has_sensitive_variables=1\nsoft_time_limit=30\ntime_limit=0\ntask_queues=[]\n"
	  "is_singleton=0\nsupports_dryrun=0\nvariables={}\ngrouping_override=0\n"
	  "name_override=0\ndescription_override=0\nhidden_override=0\n"
	  "dryrun_default_override=0\napproval_required_override=0\n"
	  "has_sensitive_variables_override=0\nsoft_time_limit_override=0\n"
	  "time_limit_override=0\nis_singleton_override=0\n" },
};
#define EXPECTED_COUNT (sizeof(expected) / sizeof(expected[0]))

/* ---- files ---------------------------------------------------------------- */

/* The bytes of `path` (*len set), or NULL. Freed by the caller. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size;

	*len = 0;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)size + 1)) != NULL) {
		*len = fread(buf, 1, (size_t)size, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

/* 1 when `path` holds exactly `len` bytes `bytes`. */
static int same_bytes(const char *path, const char *bytes, size_t len)
{
	size_t now_len;
	char *now = slurp(path, &now_len);
	int same = now && bytes && now_len == len && memcmp(now, bytes, len) == 0;

	free(now);
	return same;
}

/* A copy of the fixture in a fresh temporary folder; its path (static, rotating). */
static const char *fixture_copy(void)
{
	static char path[4][4096];
	static int next;
	char *p = path[next++ % 4];
	size_t len;
	char *bytes = slurp(fixture, &len);
	FILE *f;

	snprintf(p, 4096, "%s/jobreg.sqlite", jr_tmpdir());
	CHECK(bytes != NULL && len > 0);
	f = fopen(p, "wb");
	CHECK(f != NULL);
	if (f && bytes) {
		CHECK_INT(fwrite(bytes, 1, len, f), len);
		CHECK_INT(fclose(f), 0);
	} else if (f) {
		fclose(f);
	}
	free(bytes);
	return p;
}

/* The jobs root the fixture was made from (tests/data/jobs-0.2.0), copied to `dir`. */
static void copy_jobs_root(const char *dir)
{
	static const char *const files[] = { "__init__.py", "backups.py", "inventory/__init__.py",
		                                 "inventory/check.py" };
	char from[4096];
	size_t i, len;
	int n;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *text;
		n = (int)(strrchr(fixture, '/') ? strrchr(fixture, '/') - fixture : 1);
		snprintf(from, sizeof(from), "%.*s/jobs-0.2.0/%s", n, fixture, files[i]);
		text = slurp(from, &len);
		CHECK(text != NULL);
		if (text)
			jr_write(dir, files[i], text);
		free(text);
	}
}

/* Every table and index of `db` with its SQL, and user_version. Freed by the caller. */
static char *schema_of(const char *db)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f, "%s\n", sql(db, "PRAGMA user_version"));
	fprintf(f, "%s\n", sql(db, "SELECT type, name, sql FROM sqlite_master ORDER BY name"));
	fclose(f);
	return text;
}

/* ---- records -------------------------------------------------------------- */

/* Every field of `rec`, one "name=value" line each, in field order. Freed by the caller. */
static char *fields_of(const jobreg_record *rec)
{
	char *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	for (i = 0; i < jobreg_record_field_count(); i++) {
		jobreg_field field = (jobreg_field)i;
		fprintf(f, "%s=", jobreg_record_field_name(field));
		switch (jobreg_record_field_kind(field)) {
		case JOBREG_FIELD_KIND_TEXT:
			fprintf(f, "%s\n", jobreg_record_text(rec, field));
			break;
		case JOBREG_FIELD_KIND_BOOL:
			fprintf(f, "%d\n", jobreg_record_bool(rec, field));
			break;
		case JOBREG_FIELD_KIND_REAL:
			fprintf(f, "%g\n", jobreg_record_real(rec, field));
			break;
		default:
			fprintf(f, "?\n");
		}
	}
	fclose(f);
	return text;
}

/* Each expected record, got by class path and by id, holds exactly its fields. */
static void expect_records_as_0_2_0_wrote_them(jobreg_storage *st)
{
	jobreg_record_list *list = NULL;
	size_t i;

	CHECK_OK(jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL));
	CHECK_INT(jobreg_record_list_count(list), EXPECTED_COUNT);
	jobreg_record_list_free(list);
	for (i = 0; i < EXPECTED_COUNT; i++) {
		jobreg_record *by_path = NULL, *by_id = NULL;
		char *fields, *id_fields;
		char id[64];

		CHECK_OK(jobreg_storage_get(&by_path, st, expected[i].class_path));
		fields = by_path ? fields_of(by_path) : NULL;
		CHECK_STR(fields, expected[i].fields);
		/* The id is the first line: "id=<uuid>". */
		snprintf(id, sizeof(id), "%.36s", expected[i].fields + 3);
		CHECK_OK(jobreg_storage_get(&by_id, st, id));
		id_fields = by_id ? fields_of(by_id) : NULL;
		CHECK_STR(id_fields, expected[i].fields);
		free(fields);
		free(id_fields);
		jobreg_record_free(by_path);
		jobreg_record_free(by_id);
	}
}

/* The id 0.2.0 gave the record of `class_path` (static). */
static const char *id_of(const char *class_path)
{
	static char id[64];
	size_t i;

	id[0] = '\0';
	for (i = 0; i < EXPECTED_COUNT; i++)
		if (strcmp(expected[i].class_path, class_path) == 0)
			snprintf(id, sizeof(id), "%.36s", expected[i].fields + 3);
	return id;
}

/* The class paths of a record list, joined by " " (static). */
static const char *paths_of(const jobreg_record_list *list)
{
	static char out[4096];
	size_t len = 0, i;

	out[0] = '\0';
	for (i = 0; i < jobreg_record_list_count(list); i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", i ? " " : "",
		                        jobreg_record_text(jobreg_record_list_get(list, i),
		                                           JOBREG_FIELD_CLASS_PATH));
	return out;
}

/* ---- tests ---------------------------------------------------------------- */

/* The fixture is what the script says: 0.2.0's schema 2, its rows. */
static void test_the_fixture_is_a_0_2_0_file(void)
{
	const char *db = fixture_copy();

	CHECK_STR(sql(db, "PRAGMA user_version"), "2");
	CHECK_STR(sql(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"),
	          "jobreg_git_state|jobreg_records|jobreg_source_state");
	CHECK_STR(sql(db, "SELECT count(*), sum(enabled), sum(name_override) FROM jobreg_records"),
	          "4,2,1");
	CHECK_STR(sql(db, "SELECT id FROM jobreg_records WHERE class_path = 'backups.BackupConfigs'"),
	          id_of("backups.BackupConfigs"));
}

static void test_records_git_and_source_state_come_back_as_0_2_0_wrote_them(void)
{
	const char *db = fixture_copy();
	jobreg_storage *st = NULL;
	char *url = NULL, *branch = NULL, *head = NULL;
	char records[16384], state[1024];

	snprintf(records, sizeof(records), "%s", sql(db, "SELECT * FROM jobreg_records ORDER BY id"));
	snprintf(state, sizeof(state), "%s", sql(db, "SELECT * FROM jobreg_source_state"));
	/* What 0.2.0's sync keeps for the jobs root: its files, environment and 4 records. */
	CHECK(strncmp(state, "local,,sync-1 files=", 20) == 0);
	CHECK_CONTAINS(state, "/4");

	CHECK_OK(jobreg_storage_sqlite_open(&st, db, NULL));
	CHECK_STR(sql(db, "PRAGMA user_version"), "4");
	expect_records_as_0_2_0_wrote_them(st);
	/* Every column of every row, byte for byte, and the other tables. */
	CHECK_STR(sql(db, "SELECT * FROM jobreg_records ORDER BY id"), records);
	CHECK_STR(sql(db, "SELECT * FROM jobreg_source_state"), state);
	CHECK_OK(jobreg_storage_git_state_get(&url, &branch, &head, st, "netops-jobs"));
	CHECK_STR(url, "https://git.example.com/netops/jobs.git");
	CHECK_STR(branch, "main");
	CHECK_STR(head, "8d4c5e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d");
	CHECK_STR(sql(db, "SELECT count(*) FROM jobreg_git_state"), "1");
	jobreg_free(url);
	jobreg_free(branch);
	jobreg_free(head);
	jobreg_storage_free(st);
}

/*
 * The tables and indexes added since 0.2.0 are there and work: filtered
 * lists, load errors stored by a refresh, and a run of a job whose record
 * 0.2.0 made, stored and read back. The refresh of the very jobs 0.2.0
 * stored keeps their ids, enabled flags and the override.
 */
static void test_the_new_tables_work_on_the_migrated_file(void)
{
	const char *db = fixture_copy(), *dir = jr_tmpdir();
	jobreg_record_filter f = JOBREG_RECORD_FILTER_INIT;
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_record_list *list = NULL;
	jobreg_load_error_list *errors = NULL;
	jobreg_run_list *runs = NULL;
	jobreg_run_result *res = NULL;
	jobreg_refresh_result *refreshed = NULL;
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	jobreg_storage *st = NULL;

	CHECK_OK(jobreg_storage_sqlite_open(&st, db, NULL));
	CHECK_STR(sql(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"),
	          "jobreg_git_state|jobreg_load_errors|jobreg_records|jobreg_runs|jobreg_source_state");
	CHECK_STR(sql(db, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
	                  "ORDER BY name"),
	          "jobreg_records_by_listing|jobreg_records_by_source|jobreg_runs_by_job|"
	          "jobreg_runs_by_start");

	/* Filtered, paged lists over 0.2.0's rows. */
	f.enabled = 1;
	CHECK_OK(jobreg_storage_list_filtered(&list, st, &f));
	CHECK_STR(paths_of(list), "backups.BackupConfigs inventory.check.AuditSerials");
	jobreg_record_list_free(list);
	f.enabled = -1;
	f.source_type = "local";
	f.source_name = "";
	f.offset = 1;
	f.limit = 2;
	CHECK_OK(jobreg_storage_list_filtered(&list, st, &f));
	CHECK_STR(paths_of(list), "backups.RestoreConfig inventory.check.AuditSerials");
	jobreg_record_list_free(list);

	/* No load errors yet; a refresh of the same jobs plus a broken module stores one. */
	CHECK_OK(jobreg_storage_load_errors(&errors, st, NULL));
	CHECK_INT(jobreg_load_error_list_count(errors), 0);
	jobreg_load_error_list_free(errors);
	copy_jobs_root(dir);
	jr_write(dir, "broken.py", "raise ValueError('not in 0.2.0')\n");
	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	CHECK_OK(jobreg_refresh(&refreshed, st, snap, NULL));
	CHECK_INT(jobreg_refresh_result_created_count(refreshed), 0);
	CHECK_INT(jobreg_refresh_result_uninstalled_count(refreshed), 0);
	CHECK_INT(jobreg_refresh_result_writes(refreshed), 0); /* 0.3 reads the jobs as 0.2 did */
	jobreg_refresh_result_free(refreshed);
	expect_records_as_0_2_0_wrote_them(st);
	CHECK_OK(jobreg_storage_load_errors(&errors, st, NULL));
	CHECK_INT(jobreg_load_error_list_count(errors), 1);
	CHECK_STR(jobreg_load_error_list_module(errors, 0), "broken");
	CHECK_STR(jobreg_load_error_list_type(errors, 0), "ValueError");
	CHECK_CONTAINS(jobreg_load_error_list_message(errors, 0), "not in 0.2.0");
	jobreg_load_error_list_free(errors);

	/* A recorded run of the job 0.2.0 enabled, under the id 0.2.0 gave it. */
	opts.data_json = "{\"site\": \"ams1\"}";
	opts.run_storage = st;
	opts.run_id = "run-after-0.2.0";
	CHECK_OK(jobreg_run(&res, reg, st, "backups.BackupConfigs", &opts));
	CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_SUCCESS);
	CHECK_STR(jobreg_run_result_run_id(res), "run-after-0.2.0");
	jobreg_run_result_free(res);
	CHECK_OK(jobreg_storage_runs(&runs, st, NULL));
	CHECK_INT(jobreg_run_list_count(runs), 1);
	CHECK_STR(jobreg_run_list_id(runs, 0), "run-after-0.2.0");
	CHECK_STR(jobreg_run_list_job_id(runs, 0), id_of("backups.BackupConfigs"));
	CHECK_STR(jobreg_run_list_class_path(runs, 0), "backups.BackupConfigs");
	CHECK_STR(jobreg_run_list_status(runs, 0), JOBREG_RUN_SUCCEEDED);
	CHECK_STR(jobreg_run_list_code_version(runs, 0),
	          jobreg_job_code_version(job_at(snap, "backups.BackupConfigs")));
	CHECK(jobreg_run_list_code_version(runs, 0)[0] != '\0');
	CHECK_CONTAINS(jobreg_run_list_result_json(runs, 0), "ams1");
	jobreg_run_list_free(runs);
	CHECK_STR(sql(db, "SELECT id, job_id, status FROM jobreg_runs"),
	          sql(db, "SELECT 'run-after-0.2.0', id, 'SUCCESS' FROM jobreg_records "
	                  "WHERE class_path = 'backups.BackupConfigs'"));
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
	jobreg_storage_free(st);
}

/* Migrated once, the file is left as it is by every later open. */
static void test_opening_a_second_time_does_nothing_more(void)
{
	const char *db = fixture_copy();
	jobreg_storage *st = NULL;
	char *schema, *bytes;
	size_t len;

	CHECK_OK(jobreg_storage_sqlite_open(&st, db, NULL));
	jobreg_storage_free(st);
	schema = schema_of(db);
	CHECK_CONTAINS(schema, "jobreg_runs");
	bytes = slurp(db, &len);
	CHECK(bytes != NULL);
	st = NULL;
	CHECK_OK(jobreg_storage_sqlite_open(&st, db, NULL));
	expect_records_as_0_2_0_wrote_them(st);
	jobreg_storage_free(st);
	CHECK(same_bytes(db, bytes, len));
	free(bytes);
	bytes = schema_of(db);
	CHECK_STR(bytes, schema);
	free(bytes);
	free(schema);
}

/* A 0.2.0 file whose user_version says 99 is refused and left byte-identical. */
static void test_a_newer_user_version_is_refused_and_the_file_left_as_it_was(void)
{
	const char *db = fixture_copy();
	jobreg_storage *st = NULL;
	char *bytes;
	size_t len;

	CHECK_STR(sql(db, "PRAGMA user_version = 99"), "");
	bytes = slurp(db, &len);
	CHECK(bytes != NULL);
	st = (jobreg_storage *)&st;
	CHECK_INT(jobreg_storage_sqlite_open(&st, db, NULL), JOBREG_EVERSION);
	CHECK(st == NULL);
	CHECK_CONTAINS(jobreg_error_last()->message, db);
	CHECK_CONTAINS(jobreg_error_last()->message, "schema version 99");
	CHECK(same_bytes(db, bytes, len));
	CHECK_STR(sql(db, "PRAGMA user_version"), "99");
	CHECK_STR(sql(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'jobreg_runs%'"), "0");
	free(bytes);
}

static const struct jr_test tests[] = {
	JR_TEST(the_fixture_is_a_0_2_0_file),
	JR_TEST(records_git_and_source_state_come_back_as_0_2_0_wrote_them),
	JR_TEST(the_new_tables_work_on_the_migrated_file),
	JR_TEST(opening_a_second_time_does_nothing_more),
	JR_TEST(a_newer_user_version_is_refused_and_the_file_left_as_it_was),
};

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FIXTURE [TEST]\n", argv[0]);
		return 2;
	}
	fixture = argv[1];
	if (access(fixture, R_OK) != 0) {
		fprintf(stderr, "%s: cannot read the fixture %s\n", argv[0], fixture);
		return 99;
	}
	if (jobreg_init(NULL) < 0) {
		fprintf(stderr, "jobreg_init: %s\n", jobreg_error_last()->message);
		return 99;
	}
	/* jr_test_run reads an optional test name from argv[1]: shift the fixture off. */
	rc = jr_test_run(tests, sizeof(tests) / sizeof(tests[0]), argc - 1, argv + 1);
	jobreg_shutdown();
	return rc;
}
