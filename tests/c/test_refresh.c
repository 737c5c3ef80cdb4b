/*
 * test_refresh.c: the refresh rules of SPEC 4, one by one, over real job
 * modules loaded from temporary jobs roots, against the in-memory storage
 * and a counting fake backend (records_fixture.h).
 */
#include <stdarg.h>

#include "loadutil.h"
#include "records_fixture.h"

#define HEADER "from jobreg.jobs import Job, register_jobs\n\n"

/* Python text of a job class; `meta` holds extra Meta lines (may be ""). */
static const char *job(const char *cls, const char *name, const char *meta)
{
	static char text[8][2048];
	static int next;
	char *t = text[next++ % 8];

	snprintf(t, 2048,
	         "class %s(Job):\n"
	         "    class Meta:\n"
	         "        name = %s\n"
	         "%s"
	         "    def run(self):\n"
	         "        pass\n\n",
	         cls, name, meta);
	return t;
}

/* Write `module`.py under `dir`: the job classes given (NULL-terminated),
 * then register_jobs(`registered`). */
static void write_module(const char *dir, const char *module, const char *registered, ...)
{
	char path[256], text[16384];
	const char *cls;
	size_t len;
	va_list ap;

	snprintf(path, sizeof(path), "%s.py", module);
	len = (size_t)snprintf(text, sizeof(text), HEADER);
	va_start(ap, registered);
	while ((cls = va_arg(ap, const char *)) != NULL)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s", cls);
	va_end(ap);
	snprintf(text + len, sizeof(text) - len, "register_jobs(%s)\n", registered);
	jr_write(dir, path, text);
}

/* Load (or load again) the registry of `dir` and take its snapshot. */
static jobreg_snapshot *load(jobreg_registry **reg, const char *dir)
{
	jobreg_snapshot *snap;

	if (!*reg)
		*reg = load_jobs_root(dir);
	else
		CHECK_OK(jobreg_registry_load(*reg));
	snap = take_snapshot(*reg);
	return snap;
}

static jobreg_refresh_result *refresh(jobreg_storage *st, const jobreg_snapshot *snap)
{
	jobreg_refresh_result *res = NULL;
	CHECK_OK(jobreg_refresh(&res, st, snap, NULL));
	return res;
}

static jobreg_storage *memory(void)
{
	jobreg_storage *st = NULL;
	CHECK_OK(jobreg_storage_memory_new(&st));
	return st;
}

static const char *id_of(jobreg_storage *st, const char *class_path)
{
	return text_of(st, class_path, JOBREG_FIELD_ID);
}

/* ---- new records ----------------------------------------------------- */

static void test_refresh_creates_installed_disabled_records(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_storage *st = memory();
	jobreg_refresh_result *res;
	jobreg_record *rec;
	const char *id;

	jr_write(dir, "rc_jobs.py",
	         HEADER "name = 'Reports'\n\n"
	                "class Daily(Job):\n"
	                "    class Meta:\n"
	                "        name = 'Daily report'\n"
	                "        description = '''\n"
	                "            Sends the report.\n"
	                "        '''\n"
	                "        hidden = True\n"
	                "        has_sensitive_variables = False\n"
	                "        soft_time_limit = 30\n"
	                "        task_queues = ['default', 'reports']\n\n"
	                "class Weekly(Job):\n"
	                "    pass\n\n"
	                "register_jobs(Daily, Weekly)\n");
	snap = load(&reg, dir);
	print_load_errors(snap);
	res = refresh(st, snap);
	CHECK_INT(jobreg_refresh_result_created_count(res), 2);
	CHECK_STR(jobreg_refresh_result_created(res, 0), "rc_jobs.Daily");
	CHECK_STR(jobreg_refresh_result_created(res, 1), "rc_jobs.Weekly");
	CHECK(jobreg_refresh_result_created(res, 2) == NULL);
	CHECK_INT(jobreg_refresh_result_updated_count(res), 0);
	CHECK_INT(jobreg_refresh_result_uninstalled_count(res), 0);
	CHECK_INT(jobreg_refresh_result_unchanged(res), 0);
	CHECK_INT(jobreg_refresh_result_writes(res), 2);

	rec = record_of(st, "rc_jobs.Daily");
	CHECK(rec != NULL);
	if (rec) {
		id = jobreg_record_text(rec, JOBREG_FIELD_ID);
		CHECK_INT(strlen(id), 36);
		CHECK_INT(id[14], '4'); /* UUID version 4 */
		CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_INSTALLED), 1);
		CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_ENABLED), 0);
		CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_MODULE_NAME), "rc_jobs");
		CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_JOB_CLASS_NAME), "Daily");
		CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_SOURCE_TYPE), "local");
		CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_SOURCE), "");
		CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_GROUPING), "Reports");
		CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_NAME), "Daily report");
		CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_DESCRIPTION), "Sends the report.");
		CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_HIDDEN), 1);
		CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_HAS_SENSITIVE_VARIABLES), 0);
		CHECK(jobreg_record_real(rec, JOBREG_FIELD_SOFT_TIME_LIMIT) == 30);
		CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_TASK_QUEUES), "[\"default\",\"reports\"]");
		CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_NAME_OVERRIDE), 0);
	}
	jobreg_record_free(rec);
	CHECK_STR(text_of(st, "rc_jobs.Weekly", JOBREG_FIELD_NAME), "Weekly");
	CHECK_INT(bool_of(st, "rc_jobs.Weekly", JOBREG_FIELD_HAS_SENSITIVE_VARIABLES), 1);
	CHECK(strcmp(id_of(st, "rc_jobs.Daily"), id_of(st, "rc_jobs.Weekly")) != 0);

	jobreg_refresh_result_free(res);
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

static void test_refresh_never_enables_jobs(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_storage *st = memory();

	write_module(dir, "ne_jobs", "A", job("A", "'A'", ""), NULL);
	snap = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, snap));
	jobreg_snapshot_free(snap);
	CHECK_INT(bool_of(st, "ne_jobs.A", JOBREG_FIELD_ENABLED), 0);

	/* Disabled stays disabled through changes; new jobs come disabled. */
	write_module(dir, "ne_jobs", "A, B",
	             "class A(Job):\n    class Meta:\n        name = 'A2'\n"
	             "class B(Job):\n    pass\n",
	             NULL);
	snap = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, snap));
	CHECK_STR(text_of(st, "ne_jobs.A", JOBREG_FIELD_NAME), "A2");
	CHECK_INT(bool_of(st, "ne_jobs.A", JOBREG_FIELD_ENABLED), 0);
	CHECK_INT(bool_of(st, "ne_jobs.B", JOBREG_FIELD_ENABLED), 0);
	jobreg_refresh_result_free(refresh(st, snap));
	CHECK_INT(bool_of(st, "ne_jobs.A", JOBREG_FIELD_ENABLED), 0);
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

static void test_refresh_never_changes_enabled(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_storage *st = memory();

	write_module(dir, "ke_jobs", "A, B", job("A", "'A'", ""), job("B", "'B'", ""), NULL);
	snap = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, snap));
	jobreg_snapshot_free(snap);
	CHECK_OK(jobreg_storage_set_enabled(st, id_of(st, "ke_jobs.A"), 1));

	write_module(dir, "ke_jobs", "A, B", job("A", "'A changed'", ""), job("B", "'B changed'", ""),
	             NULL);
	snap = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, snap));
	CHECK_STR(text_of(st, "ke_jobs.A", JOBREG_FIELD_NAME), "A changed");
	CHECK_INT(bool_of(st, "ke_jobs.A", JOBREG_FIELD_ENABLED), 1);
	CHECK_INT(bool_of(st, "ke_jobs.B", JOBREG_FIELD_ENABLED), 0);
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

/* ---- existing records ------------------------------------------------ */

static void test_refresh_copies_changed_metadata_and_keeps_the_id(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_storage *st = memory();
	jobreg_refresh_result *res;
	char id[64];

	write_module(dir, "cm_jobs", "A", job("A", "'A'", "        description = 'old'\n"), NULL);
	snap = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, snap));
	jobreg_snapshot_free(snap);
	snprintf(id, sizeof(id), "%s", id_of(st, "cm_jobs.A"));

	write_module(dir, "cm_jobs", "A",
	             job("A", "'A'",
	                 "        description = 'new'\n        hidden = True\n"
	                 "        task_queues = ['q']\n"),
	             NULL);
	snap = load(&reg, dir);
	res = refresh(st, snap);
	CHECK_INT(jobreg_refresh_result_updated_count(res), 1);
	CHECK_STR(jobreg_refresh_result_updated(res, 0), "cm_jobs.A");
	CHECK_INT(jobreg_refresh_result_created_count(res), 0);
	CHECK_INT(jobreg_refresh_result_writes(res), 1);
	CHECK_STR(id_of(st, "cm_jobs.A"), id);
	CHECK_STR(text_of(st, "cm_jobs.A", JOBREG_FIELD_DESCRIPTION), "new");
	CHECK_STR(text_of(st, "cm_jobs.A", JOBREG_FIELD_TASK_QUEUES), "[\"q\"]");
	CHECK_INT(bool_of(st, "cm_jobs.A", JOBREG_FIELD_HIDDEN), 1);
	CHECK_INT(count_records(st, JOBREG_INSTALLED_ALL), 1);
	jobreg_refresh_result_free(res);
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

static void test_refresh_keeps_overridden_fields(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_storage *st = memory();
	char id[64];

	write_module(dir, "ov_jobs", "A", job("A", "'A'", "        description = 'from class'\n"),
	             NULL);
	snap = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, snap));
	jobreg_snapshot_free(snap);
	snprintf(id, sizeof(id), "%s", id_of(st, "ov_jobs.A"));
	CHECK_OK(jobreg_storage_override_text(st, id, JOBREG_FIELD_NAME, "Host name"));
	CHECK_OK(jobreg_storage_override_text(st, id, JOBREG_FIELD_DESCRIPTION, "Host text"));
	CHECK_OK(jobreg_storage_override_bool(st, id, JOBREG_FIELD_HIDDEN, 1));
	CHECK_OK(jobreg_storage_override_real(st, id, JOBREG_FIELD_SOFT_TIME_LIMIT, 99));

	write_module(dir, "ov_jobs", "A",
	             job("A", "'A v2'",
	                 "        description = 'class v2'\n        soft_time_limit = 5\n"
	                 "        task_queues = ['x']\n"),
	             NULL);
	snap = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, snap));
	CHECK_STR(text_of(st, "ov_jobs.A", JOBREG_FIELD_NAME), "Host name");
	CHECK_STR(text_of(st, "ov_jobs.A", JOBREG_FIELD_DESCRIPTION), "Host text");
	CHECK_INT(bool_of(st, "ov_jobs.A", JOBREG_FIELD_HIDDEN), 1);
	CHECK_STR(text_of(st, "ov_jobs.A", JOBREG_FIELD_TASK_QUEUES), "[\"x\"]"); /* not overridable */

	/* Clearing an override lets the next refresh copy the class's value. */
	CHECK_OK(jobreg_storage_override_clear(st, id, JOBREG_FIELD_DESCRIPTION));
	jobreg_refresh_result_free(refresh(st, snap));
	CHECK_STR(text_of(st, "ov_jobs.A", JOBREG_FIELD_DESCRIPTION), "class v2");
	CHECK_STR(text_of(st, "ov_jobs.A", JOBREG_FIELD_NAME), "Host name");
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

/* ---- missing jobs ---------------------------------------------------- */

static void test_refresh_uninstalls_a_missing_job_and_never_deletes_it(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_storage *st = memory();
	jobreg_refresh_result *res;
	char id[64];

	write_module(dir, "mj_jobs", "Keep, Gone", job("Keep", "'Keep'", ""),
	             job("Gone", "'Gone'", "        description = 'was here'\n"), NULL);
	snap = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, snap));
	jobreg_snapshot_free(snap);
	snprintf(id, sizeof(id), "%s", id_of(st, "mj_jobs.Gone"));
	CHECK_OK(jobreg_storage_set_enabled(st, id, 1));

	write_module(dir, "mj_jobs", "Keep", job("Keep", "'Keep'", ""), NULL);
	snap = load(&reg, dir);
	res = refresh(st, snap);
	CHECK_INT(jobreg_refresh_result_uninstalled_count(res), 1);
	CHECK_STR(jobreg_refresh_result_uninstalled(res, 0), "mj_jobs.Gone");
	CHECK_INT(jobreg_refresh_result_unchanged(res), 1);
	CHECK_INT(jobreg_refresh_result_writes(res), 1);
	CHECK_INT(count_records(st, JOBREG_INSTALLED_ALL), 2);
	CHECK_INT(count_records(st, JOBREG_INSTALLED_NO), 1);
	CHECK_INT(bool_of(st, "mj_jobs.Gone", JOBREG_FIELD_INSTALLED), 0);
	CHECK_INT(bool_of(st, "mj_jobs.Gone", JOBREG_FIELD_ENABLED), 1);
	CHECK_STR(text_of(st, "mj_jobs.Gone", JOBREG_FIELD_DESCRIPTION), "was here");
	CHECK_STR(id_of(st, "mj_jobs.Gone"), id);
	jobreg_refresh_result_free(res);

	/* Again: still there, nothing to write. */
	res = refresh(st, snap);
	CHECK_INT(jobreg_refresh_result_writes(res), 0);
	CHECK_INT(jobreg_refresh_result_uninstalled_count(res), 0);
	jobreg_refresh_result_free(res);
	jobreg_snapshot_free(snap);

	/* It comes back: the same record, installed, still enabled. */
	write_module(dir, "mj_jobs", "Keep, Gone", job("Keep", "'Keep'", ""), job("Gone", "'Gone'", ""),
	             NULL);
	snap = load(&reg, dir);
	res = refresh(st, snap);
	CHECK_INT(jobreg_refresh_result_updated_count(res), 1);
	CHECK_INT(jobreg_refresh_result_created_count(res), 0);
	CHECK_STR(id_of(st, "mj_jobs.Gone"), id);
	CHECK_INT(bool_of(st, "mj_jobs.Gone", JOBREG_FIELD_INSTALLED), 1);
	CHECK_INT(bool_of(st, "mj_jobs.Gone", JOBREG_FIELD_ENABLED), 1);
	jobreg_refresh_result_free(res);
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

static void test_refresh_uninstalls_the_jobs_of_a_module_that_fails_to_load(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_storage *st = memory();
	char id[64];

	write_module(dir, "bm_jobs", "A", job("A", "'A'", ""), NULL);
	write_module(dir, "bm_other", "B", job("B", "'B'", ""), NULL);
	snap = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, snap));
	jobreg_snapshot_free(snap);
	snprintf(id, sizeof(id), "%s", id_of(st, "bm_jobs.A"));

	jr_write(dir, "bm_jobs.py", HEADER "class A(Job):\n    def run(self)\n");
	snap = load(&reg, dir);
	CHECK(error_for(snap, "bm_jobs") != NULL);
	jobreg_refresh_result_free(refresh(st, snap));
	jobreg_snapshot_free(snap);
	CHECK_INT(bool_of(st, "bm_jobs.A", JOBREG_FIELD_INSTALLED), 0);
	CHECK_INT(bool_of(st, "bm_other.B", JOBREG_FIELD_INSTALLED), 1);

	write_module(dir, "bm_jobs", "A", job("A", "'A'", ""), NULL);
	snap = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, snap));
	CHECK_INT(bool_of(st, "bm_jobs.A", JOBREG_FIELD_INSTALLED), 1);
	CHECK_STR(id_of(st, "bm_jobs.A"), id);
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

/* ---- unique names ---------------------------------------------------- */

static void test_refresh_numbers_clashing_names_and_sets_name_override(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_storage *st = memory();
	jobreg_refresh_result *res;

	write_module(dir, "un_jobs", "A, B, C", job("A", "'Same'", ""), job("B", "'Same'", ""),
	             job("C", "'Same'", ""), NULL);
	snap = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, snap));
	CHECK_STR(text_of(st, "un_jobs.A", JOBREG_FIELD_NAME), "Same");
	CHECK_STR(text_of(st, "un_jobs.B", JOBREG_FIELD_NAME), "Same (2)");
	CHECK_STR(text_of(st, "un_jobs.C", JOBREG_FIELD_NAME), "Same (3)");
	CHECK_INT(bool_of(st, "un_jobs.A", JOBREG_FIELD_NAME_OVERRIDE), 0);
	CHECK_INT(bool_of(st, "un_jobs.B", JOBREG_FIELD_NAME_OVERRIDE), 1);
	CHECK_INT(bool_of(st, "un_jobs.C", JOBREG_FIELD_NAME_OVERRIDE), 1);
	/* Stable: the next refresh changes nothing. */
	res = refresh(st, snap);
	CHECK_INT(jobreg_refresh_result_writes(res), 0);
	CHECK_INT(jobreg_refresh_result_unchanged(res), 3);
	jobreg_refresh_result_free(res);
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

static void test_refresh_keeps_an_existing_name_when_a_new_job_takes_it(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_storage *st = memory();

	write_module(dir, "en_jobs", "Zeta", job("Zeta", "'Report'", ""), NULL);
	snap = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, snap));
	jobreg_snapshot_free(snap);

	/* Alpha sorts first, but Zeta had the name already. */
	write_module(dir, "en_jobs", "Alpha, Zeta", job("Alpha", "'Report'", ""),
	             job("Zeta", "'Report'", ""), NULL);
	snap = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, snap));
	CHECK_STR(text_of(st, "en_jobs.Zeta", JOBREG_FIELD_NAME), "Report");
	CHECK_INT(bool_of(st, "en_jobs.Zeta", JOBREG_FIELD_NAME_OVERRIDE), 0);
	CHECK_STR(text_of(st, "en_jobs.Alpha", JOBREG_FIELD_NAME), "Report (2)");
	CHECK_INT(bool_of(st, "en_jobs.Alpha", JOBREG_FIELD_NAME_OVERRIDE), 1);
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

static void test_refresh_keeps_the_name_of_an_uninstalled_record_taken(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_storage *st = memory();

	write_module(dir, "ut_jobs", "Old", job("Old", "'Sync devices'", ""), NULL);
	snap = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, snap));
	jobreg_snapshot_free(snap);

	/* The class was renamed: the old record stays, uninstalled, with its name. */
	write_module(dir, "ut_jobs", "New", job("New", "'Sync devices'", ""), NULL);
	snap = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, snap));
	CHECK_INT(bool_of(st, "ut_jobs.Old", JOBREG_FIELD_INSTALLED), 0);
	CHECK_STR(text_of(st, "ut_jobs.Old", JOBREG_FIELD_NAME), "Sync devices");
	CHECK_STR(text_of(st, "ut_jobs.New", JOBREG_FIELD_NAME), "Sync devices (2)");

	/* Once the host deletes the old record, the name is free again for
	 * a job whose name is not overridden (a new job here). */
	CHECK_OK(jobreg_storage_delete(st, id_of(st, "ut_jobs.Old"), 0));
	jobreg_snapshot_free(snap);
	write_module(dir, "ut_jobs", "New, Newer", job("New", "'Sync devices'", ""),
	             job("Newer", "'Sync devices'", ""), NULL);
	snap = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, snap));
	CHECK_STR(text_of(st, "ut_jobs.New", JOBREG_FIELD_NAME), "Sync devices (2)");
	CHECK_STR(text_of(st, "ut_jobs.Newer", JOBREG_FIELD_NAME), "Sync devices");
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

/* ---- what a refresh writes ------------------------------------------- */

static void test_refresh_with_nothing_changed_writes_nothing(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_refresh_result *res;
	struct fake f;
	jobreg_storage *st;

	memset(&f, 0, sizeof(f));
	st = fake_storage(&f);
	write_module(dir, "nc_jobs", "A, B, C", job("A", "'A'", ""), job("B", "'B'", ""),
	             job("C", "'C'", ""), NULL);
	snap = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, snap));
	CHECK_INT(f.writes, 3);
	fake_reset_counts(&f);

	res = refresh(st, snap);
	CHECK_INT(jobreg_refresh_result_writes(res), 0);
	CHECK_INT(jobreg_refresh_result_unchanged(res), 3);
	CHECK_INT(f.writes, 0);
	CHECK_INT(f.deletes, 0);
	/* One transaction that reads once, taking the write lock up front. */
	CHECK_INT(f.begins, 1);
	CHECK_INT(f.reads, 1);
	CHECK_INT(f.commits, 1);
	CHECK_INT(f.rollbacks, 0);
	CHECK(f.begin_flags & JOBREG_STORAGE_BEGIN_WRITE);
	jobreg_refresh_result_free(res);
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	fake_clear(&f);
	jobreg_registry_free(reg);
}

/*
 * task_queues (a LIST field of src/job_fields.h) is made JSON once, when the
 * loader copies the job: the record gets that text, byte for byte what the
 * job's getters read, and the next refresh finds nothing to write.
 */
static void test_refresh_stores_task_queues_as_the_jobs_getters_read_them(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	const jobreg_job *loaded = NULL;
	jobreg_refresh_result *res;
	jobreg_storage *st = NULL;

	CHECK_OK(jobreg_storage_memory_new(&st));
	write_module(
		dir, "tq_jobs", "A",
		job("A", "'A'",
	        "        task_queues = ['say \"hi\"', 'caf\\u00e9', 'back\\\\slash', 'tab\\t']\n"),
		NULL);
	snap = load(&reg, dir);
	print_load_errors(snap);
	CHECK_OK(jobreg_snapshot_resolve(&loaded, snap, "tq_jobs.A"));
	if (loaded) {
		CHECK_INT(jobreg_job_task_queue_count(loaded), 4);
		CHECK_STR(jobreg_job_task_queue(loaded, 0), "say \"hi\"");
		CHECK_STR(jobreg_job_task_queue(loaded, 1), "caf\xc3\xa9");
		CHECK_STR(jobreg_job_task_queue(loaded, 3), "tab\t");
		CHECK(jobreg_job_task_queue(loaded, 4) == NULL);
	}
	jobreg_refresh_result_free(refresh(st, snap));
	CHECK_STR(text_of(st, "tq_jobs.A", JOBREG_FIELD_TASK_QUEUES),
	          "[\"say \\\"hi\\\"\",\"caf\xc3\xa9\",\"back\\\\slash\",\"tab\\t\"]");
	res = refresh(st, snap);
	CHECK_INT(jobreg_refresh_result_writes(res), 0);
	jobreg_refresh_result_free(res);
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

static void test_refresh_of_one_changed_job_writes_exactly_one_record(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_refresh_result *res;
	struct fake f;
	jobreg_storage *st;

	memset(&f, 0, sizeof(f));
	st = fake_storage(&f);
	write_module(dir, "oc_jobs", "A, B, C, D, E", job("A", "'A'", ""), job("B", "'B'", ""),
	             job("C", "'C'", ""), job("D", "'D'", ""), job("E", "'E'", ""), NULL);
	snap = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, snap));
	jobreg_snapshot_free(snap);

	write_module(dir, "oc_jobs", "A, B, C, D, E", job("A", "'A'", ""), job("B", "'B'", ""),
	             job("C", "'C'", "        description = 'now described'\n"), job("D", "'D'", ""),
	             job("E", "'E'", ""), NULL);
	snap = load(&reg, dir);
	fake_reset_counts(&f);
	res = refresh(st, snap);
	CHECK_INT(f.writes, 1);
	CHECK_INT(jobreg_refresh_result_writes(res), 1);
	CHECK_INT(jobreg_refresh_result_updated_count(res), 1);
	CHECK_STR(jobreg_refresh_result_updated(res, 0), "oc_jobs.C");
	CHECK_INT(jobreg_refresh_result_unchanged(res), 4);
	jobreg_refresh_result_free(res);
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	fake_clear(&f);
	jobreg_registry_free(reg);
}

static void test_refresh_of_10000_unchanged_records_writes_nothing(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_refresh_result *res;
	struct fake f;
	jobreg_storage *st, *mem = memory();

	memset(&f, 0, sizeof(f));
	st = fake_storage(&f);
	jr_write(
		dir, "big_jobs.py",
		HEADER
		"classes = []\n"
		"for i in range(10000):\n"
		"    meta = type('Meta', (), {'name': 'Job %05d' % i, 'description': 'number %d' % i})\n"
		"    cls = type('Job%05d' % i, (Job,), {'Meta': meta, 'run': lambda self: None})\n"
		"    globals()[cls.__name__] = cls\n"
		"    classes.append(cls)\n"
		"register_jobs(*classes)\n");
	snap = load(&reg, dir);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_job_count(snap), 10000);

	res = refresh(st, snap);
	CHECK_INT(jobreg_refresh_result_created_count(res), 10000);
	jobreg_refresh_result_free(res);
	fake_reset_counts(&f);
	res = refresh(st, snap);
	CHECK_INT(jobreg_refresh_result_writes(res), 0);
	CHECK_INT(jobreg_refresh_result_unchanged(res), 10000);
	CHECK_INT(f.writes, 0);
	CHECK_INT(f.reads, 1);
	jobreg_refresh_result_free(res);

	/* The same on the in-memory backend. */
	jobreg_refresh_result_free(refresh(mem, snap));
	res = refresh(mem, snap);
	CHECK_INT(jobreg_refresh_result_writes(res), 0);
	CHECK_INT(jobreg_refresh_result_unchanged(res), 10000);
	CHECK_INT(count_records(mem, JOBREG_INSTALLED_YES), 10000);
	jobreg_refresh_result_free(res);

	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	jobreg_storage_free(mem);
	fake_clear(&f);
	jobreg_registry_free(reg);
}

/* ---- failures -------------------------------------------------------- */

static void test_refresh_failing_at_any_backend_call_leaves_the_records_as_before(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *first, *second;
	jobreg_record **base;
	size_t base_count;
	char *before, *after;
	struct fake f;
	jobreg_storage *st;
	long calls, n;

	/* State 1, with an enabled job and an override. */
	memset(&f, 0, sizeof(f));
	st = fake_storage(&f);
	write_module(dir, "fa_jobs", "Stay, Change, Leave", job("Stay", "'Stay'", ""),
	             job("Change", "'Change'", ""), job("Leave", "'Leave'", ""), NULL);
	first = load(&reg, dir);
	jobreg_refresh_result_free(refresh(st, first));
	CHECK_OK(jobreg_storage_set_enabled(st, id_of(st, "fa_jobs.Leave"), 1));
	CHECK_OK(
		jobreg_storage_override_text(st, id_of(st, "fa_jobs.Stay"), JOBREG_FIELD_DESCRIPTION, "x"));
	base_count = f.committed_count;
	base = fake_records_dup(f.committed, base_count);
	before = dump_storage(st, 1);

	/* State 2: one changed, one gone, two new (one with a clashing name). */
	write_module(dir, "fa_jobs", "Stay, Change, New, Clash", job("Stay", "'Stay'", ""),
	             job("Change", "'Changed'", ""), job("New", "'New'", ""),
	             job("Clash", "'Stay'", ""), NULL);
	second = load(&reg, dir);

	/* How many backend calls a successful refresh makes. */
	fake_reset_counts(&f);
	jobreg_refresh_result_free(refresh(st, second));
	calls = f.calls;
	CHECK_INT(calls, 1 + 1 + 4 + 1); /* begin, read, 4 writes, commit */
	CHECK(strcmp(after = dump_storage(st, 1), before) != 0);
	free(after);

	for (n = 1; n <= calls; n++) {
		jobreg_refresh_result *res = (jobreg_refresh_result *)&n; /* must be reset */

		fake_records_free(f.committed, f.committed_count);
		f.committed = fake_records_dup(base, base_count);
		f.committed_count = base_count;
		fake_reset_counts(&f);
		f.fail_at = n;
		CHECK_INT(jobreg_refresh(&res, st, second, NULL), JOBREG_ESTORAGE);
		CHECK(res == NULL);
		CHECK_CONTAINS(jobreg_error_last()->message, "fails");
		CHECK(!f.in_transaction);
		CHECK_INT(f.rollbacks, n == 1 ? 0 : 1); /* nothing to roll back if begin failed */
		CHECK_INT(f.commits, 0);
		f.fail_at = 0;
		after = dump_storage(st, 1);
		CHECK_STR(after, before);
		free(after);
	}
	fake_records_free(base, base_count);
	free(before);
	jobreg_snapshot_free(first);
	jobreg_snapshot_free(second);
	jobreg_storage_free(st);
	fake_clear(&f);
	jobreg_registry_free(reg);
}

static void test_refresh_refuses_stored_records_sharing_an_identity(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	struct fake f;
	jobreg_storage *st;

	memset(&f, 0, sizeof(f));
	fake_insert(&f, make_record("dup-1", "local", "", "di_jobs", "A", "A", 1, 0));
	fake_insert(&f, make_record("dup-2", "local", "", "di_jobs", "A", "A again", 1, 1));
	st = fake_storage(&f);
	write_module(dir, "di_jobs", "A", job("A", "'A'", ""), NULL);
	snap = load(&reg, dir);
	CHECK_INT(jobreg_refresh(NULL, st, snap, NULL), JOBREG_EEXISTS);
	CHECK_CONTAINS(jobreg_error_last()->message, "dup-1");
	CHECK_CONTAINS(jobreg_error_last()->message, "dup-2");
	CHECK_CONTAINS(jobreg_error_last()->message, "di_jobs.A");
	CHECK_INT(f.writes, 0);
	CHECK_INT(f.rollbacks, 1);
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	fake_clear(&f);
	jobreg_registry_free(reg);
}

/* ---- scope ----------------------------------------------------------- */

static void test_refresh_with_a_source_filter_touches_only_that_source(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_refresh_options opts = JOBREG_REFRESH_OPTIONS_INIT;
	jobreg_refresh_result *res = NULL;
	struct fake f;
	jobreg_storage *st;

	/* A git repository's record, and a jobs root with one job. */
	memset(&f, 0, sizeof(f));
	fake_insert(&f, make_record("git-1", "git", "repo", "repo.jobs", "Remote", "Remote", 1, 1));
	st = fake_storage(&f);
	write_module(dir, "sf_jobs", "Local", job("Local", "'Local'", ""), NULL);
	snap = load(&reg, dir);

	/* Only the jobs root: its job is created, the git record untouched. */
	opts.source_type = JOBREG_SOURCE_LOCAL;
	opts.source_name = NULL; /* "" */
	CHECK_OK(jobreg_refresh(&res, st, snap, &opts));
	CHECK_INT(jobreg_refresh_result_created_count(res), 1);
	CHECK_INT(jobreg_refresh_result_uninstalled_count(res), 0);
	jobreg_refresh_result_free(res);
	CHECK_INT(bool_of(st, "repo.jobs.Remote", JOBREG_FIELD_INSTALLED), 1);

	/* Only the git repository: it has no job loaded here, so its record is
	 * uninstalled; the local job is not its to touch. */
	opts.source_type = JOBREG_SOURCE_GIT;
	opts.source_name = "repo";
	fake_reset_counts(&f);
	CHECK_OK(jobreg_refresh(&res, st, snap, &opts));
	CHECK_INT(jobreg_refresh_result_created_count(res), 0);
	CHECK_INT(jobreg_refresh_result_unchanged(res), 0);
	CHECK_INT(jobreg_refresh_result_uninstalled_count(res), 1);
	CHECK_STR(jobreg_refresh_result_uninstalled(res, 0), "repo.jobs.Remote");
	CHECK_INT(f.writes, 1);
	jobreg_refresh_result_free(res);
	CHECK_INT(bool_of(st, "repo.jobs.Remote", JOBREG_FIELD_INSTALLED), 0);
	CHECK_INT(bool_of(st, "repo.jobs.Remote", JOBREG_FIELD_ENABLED), 1);
	CHECK_INT(bool_of(st, "sf_jobs.Local", JOBREG_FIELD_INSTALLED), 1);

	/* Another repository's refresh sees nothing of either. */
	opts.source_name = "other";
	fake_reset_counts(&f);
	CHECK_OK(jobreg_refresh(&res, st, snap, &opts));
	CHECK_INT(jobreg_refresh_result_writes(res), 0);
	jobreg_refresh_result_free(res);

	opts.source_type = 42;
	CHECK_INT(jobreg_refresh(&res, st, snap, &opts), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "source_type 42");
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	fake_clear(&f);
	jobreg_registry_free(reg);
}

static void test_refresh_options_are_versioned(void)
{
	jobreg_refresh_options opts;
	jobreg_storage *st = memory();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;

	CHECK_OK(jobreg_refresh_options_init(&opts, 1));
	CHECK_INT(opts.version, 1);
	CHECK_INT(opts.source_type, 0);
	CHECK_INT(jobreg_refresh_options_init(&opts, 2), JOBREG_EVERSION);
	CHECK_OK(jobreg_registry_new(&reg, NULL));
	snap = take_snapshot(reg);
	opts.version = 99;
	CHECK_INT(jobreg_refresh(NULL, st, snap, &opts), JOBREG_EVERSION);
	CHECK_CONTAINS(jobreg_error_last()->message, "jobreg_refresh_options");
	CHECK_INT(jobreg_refresh(NULL, NULL, snap, NULL), JOBREG_EINVAL);
	CHECK_INT(jobreg_refresh(NULL, st, NULL, NULL), JOBREG_EINVAL);
	/* An empty generation: nothing to do, and no result wanted. */
	CHECK_OK(jobreg_refresh(NULL, st, snap, NULL));
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
	jobreg_storage_free(st);
}

static const struct jr_test tests[] = {
	{ "test_refresh_creates_installed_disabled_records",
	  test_refresh_creates_installed_disabled_records },
	{ "test_refresh_never_enables_jobs", test_refresh_never_enables_jobs },
	{ "test_refresh_never_changes_enabled", test_refresh_never_changes_enabled },
	{ "test_refresh_copies_changed_metadata_and_keeps_the_id",
	  test_refresh_copies_changed_metadata_and_keeps_the_id },
	{ "test_refresh_keeps_overridden_fields", test_refresh_keeps_overridden_fields },
	{ "test_refresh_uninstalls_a_missing_job_and_never_deletes_it",
	  test_refresh_uninstalls_a_missing_job_and_never_deletes_it },
	{ "test_refresh_uninstalls_the_jobs_of_a_module_that_fails_to_load",
	  test_refresh_uninstalls_the_jobs_of_a_module_that_fails_to_load },
	{ "test_refresh_numbers_clashing_names_and_sets_name_override",
	  test_refresh_numbers_clashing_names_and_sets_name_override },
	{ "test_refresh_keeps_an_existing_name_when_a_new_job_takes_it",
	  test_refresh_keeps_an_existing_name_when_a_new_job_takes_it },
	{ "test_refresh_keeps_the_name_of_an_uninstalled_record_taken",
	  test_refresh_keeps_the_name_of_an_uninstalled_record_taken },
	{ "test_refresh_with_nothing_changed_writes_nothing",
	  test_refresh_with_nothing_changed_writes_nothing },
	{ "test_refresh_stores_task_queues_as_the_jobs_getters_read_them",
	  test_refresh_stores_task_queues_as_the_jobs_getters_read_them },
	{ "test_refresh_of_one_changed_job_writes_exactly_one_record",
	  test_refresh_of_one_changed_job_writes_exactly_one_record },
	{ "test_refresh_of_10000_unchanged_records_writes_nothing",
	  test_refresh_of_10000_unchanged_records_writes_nothing },
	{ "test_refresh_failing_at_any_backend_call_leaves_the_records_as_before",
	  test_refresh_failing_at_any_backend_call_leaves_the_records_as_before },
	{ "test_refresh_refuses_stored_records_sharing_an_identity",
	  test_refresh_refuses_stored_records_sharing_an_identity },
	{ "test_refresh_with_a_source_filter_touches_only_that_source",
	  test_refresh_with_a_source_filter_touches_only_that_source },
	{ "test_refresh_options_are_versioned", test_refresh_options_are_versioned },
};

JR_TEST_MAIN_WITH_LIBRARY(tests)
