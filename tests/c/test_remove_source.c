/*
 * test_remove_source.c: jobreg_registry_remove_source(): the next
 * generation is published at once without the source's jobs, older
 * snapshots keep theirs, its modules leave sys.modules, and the other
 * sources are not imported again.
 */
#include <stdlib.h>
#include <string.h>

#include "loadutil.h"

static const char inventory_jobs[] = "from jobreg.jobs import Job, register_jobs\n"
									 "\n"
									 "class CheckInventory(Job):\n"
									 "    def run(self):\n"
									 "        return 'inventory'\n"
									 "\n"
									 "register_jobs(CheckInventory)\n";

/* Reports which job modules are imported, and how often it was imported. */
static const char probe_jobs[] = "import sys\n"
								 "from jobreg.jobs import Job, register_jobs\n"
								 "\n"
								 "IMPORTS = sys.modules.setdefault('probe_import_count', [])\n"
								 "IMPORTS.append(1)\n"
								 "\n"
								 "class Probe(Job):\n"
								 "    def run(self):\n"
								 "        return {'inventory_loaded': 'inventory' in sys.modules,\n"
								 "                'imports': len(IMPORTS)}\n"
								 "\n"
								 "register_jobs(Probe)\n";

static jobreg_source *dir_source(const char *dir)
{
	jobreg_source *src = NULL;

	CHECK_OK(jobreg_source_dir_new(&src, dir));
	return src;
}

/* Run `ref` of `snap` (no record check needed: a fresh memory storage). */
static char *run_of(jobreg_registry *reg, const char *ref)
{
	jobreg_snapshot *snap = take_snapshot(reg);
	jobreg_storage *st = enabled_records(snap);
	jobreg_run_result *res = NULL;
	char *json;

	CHECK_OK(jobreg_run(&res, reg, st, ref, NULL));
	json = strdup(jobreg_run_result_json(res));
	jobreg_run_result_free(res);
	jobreg_storage_free(st);
	jobreg_snapshot_free(snap);
	return json;
}

static void test_the_source_leaves_the_next_generation_at_once(void)
{
	const char *inventory = jr_tmpdir(), *probe = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_source *gone, *kept;
	jobreg_snapshot *before, *after;
	const jobreg_job *old_job;
	jobreg_run_result *res = NULL;
	jobreg_storage *st;
	char *json;

	jr_write(inventory, "inventory.py", inventory_jobs);
	jr_write(probe, "probe.py", probe_jobs);
	CHECK_OK(jobreg_registry_new(&reg, NULL));
	gone = dir_source(inventory);
	kept = dir_source(probe);
	CHECK_OK(jobreg_registry_add_source(reg, gone));
	CHECK_OK(jobreg_registry_add_source(reg, kept));
	CHECK_OK(jobreg_registry_load(reg));
	json = run_of(reg, "probe.Probe");
	CHECK_STR(json, "{\"imports\": 1, \"inventory_loaded\": true}");
	free(json);
	before = take_snapshot(reg);
	CHECK_INT((int)jobreg_snapshot_job_count(before), 2);

	CHECK_OK(jobreg_registry_remove_source(reg, gone));
	CHECK_INT((int)jobreg_registry_source_count(reg), 1);
	CHECK(jobreg_registry_source(reg, 0) == kept);
	after = take_snapshot(reg);
	CHECK_INT((int)jobreg_snapshot_generation(after), (int)jobreg_snapshot_generation(before) + 1);
	CHECK_INT((int)jobreg_snapshot_job_count(after), 1);
	CHECK(job_at(after, "inventory.CheckInventory") == NULL);
	/* Its modules are gone; the probe was not imported again. */
	json = run_of(reg, "probe.Probe");
	CHECK_STR(json, "{\"imports\": 1, \"inventory_loaded\": false}");
	free(json);

	/* A snapshot taken before still has the job, and it still runs. */
	old_job = job_at(before, "inventory.CheckInventory");
	CHECK(old_job != NULL);
	st = enabled_records(before);
	{
		jobreg_record *rec = NULL;
		CHECK_OK(jobreg_storage_get(&rec, st, "inventory.CheckInventory"));
		CHECK_OK(jobreg_job_run(&res, old_job, rec, NULL));
		CHECK_STR(jobreg_run_result_json(res), "\"inventory\"");
		jobreg_run_result_free(res);
		jobreg_record_free(rec);
	}
	/* A refresh of every source marks its record not installed. */
	{
		jobreg_record *rec = NULL;
		CHECK_OK(jobreg_refresh(NULL, st, after, NULL));
		CHECK_OK(jobreg_storage_get(&rec, st, "inventory.CheckInventory"));
		CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_INSTALLED), 0);
		jobreg_record_free(rec);
	}
	jobreg_storage_free(st);

	/* The same folder can come back as a new source. */
	CHECK_OK(jobreg_registry_add_source(reg, dir_source(inventory)));
	CHECK_OK(jobreg_registry_reload(reg));
	json = run_of(reg, "inventory.CheckInventory");
	CHECK_STR(json, "\"inventory\"");
	free(json);

	jobreg_snapshot_free(before);
	jobreg_snapshot_free(after);
	jobreg_registry_free(reg);
}

static void test_a_source_of_another_registry_is_not_found(void)
{
	jobreg_registry *reg = NULL;
	jobreg_source *stranger = dir_source(jr_tmpdir());
	jobreg_snapshot *snap;

	CHECK_OK(jobreg_registry_new(&reg, NULL));
	CHECK_OK(jobreg_registry_load(reg));
	snap = take_snapshot(reg);
	CHECK_INT(jobreg_registry_remove_source(reg, stranger), JOBREG_ENOTFOUND);
	CHECK_CONTAINS(jobreg_error_last()->message, "is not one of this registry's");
	CHECK_INT(jobreg_registry_remove_source(NULL, stranger), JOBREG_EINVAL);
	CHECK_INT(jobreg_registry_remove_source(reg, NULL), JOBREG_EINVAL);
	/* Nothing was published. */
	{
		jobreg_snapshot *now = take_snapshot(reg);
		CHECK(now == snap);
		jobreg_snapshot_free(now);
	}
	jobreg_snapshot_free(snap);
	jobreg_source_free(stranger);
	jobreg_registry_free(reg);
}

static void test_retiring_a_source_uninstalls_its_records_and_forgets_its_errors(void)
{
	const char *inventory = jr_tmpdir(), *probe = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_storage *st = NULL;
	jobreg_record *rec = NULL;
	jobreg_load_error_list *errors = NULL;
	size_t retired = 99;

	jr_write(inventory, "inventory.py", inventory_jobs);
	jr_write(inventory, "broken.py", "raise ValueError('broken on purpose')\n");
	jr_write(probe, "probe.py", probe_jobs);
	CHECK_OK(jobreg_registry_new(&reg, NULL));
	CHECK_OK(jobreg_registry_add_source(reg, dir_source(inventory)));
	CHECK_OK(jobreg_registry_add_source(reg, dir_source(probe)));
	CHECK_OK(jobreg_registry_load(reg));
	snap = take_snapshot(reg);
	st = enabled_records(snap);
	jobreg_snapshot_free(snap);
	CHECK_OK(jobreg_storage_load_errors(&errors, st, NULL));
	CHECK_INT((int)jobreg_load_error_list_count(errors), 1);
	jobreg_load_error_list_free(errors);

	/* Both jobs roots are the source ("local", ""): retire by type and name. */
	CHECK_OK(jobreg_storage_retire_source(&retired, st, "local", ""));
	CHECK_INT((int)retired, 2);
	CHECK_OK(jobreg_storage_get(&rec, st, "inventory.CheckInventory"));
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_INSTALLED), 0);
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_ENABLED), 1); /* the operator's */
	jobreg_record_free(rec);
	CHECK_OK(jobreg_storage_load_errors(&errors, st, NULL));
	CHECK_INT((int)jobreg_load_error_list_count(errors), 0);
	jobreg_load_error_list_free(errors);
	/* Again: nothing left to retire, and no error. */
	CHECK_OK(jobreg_storage_retire_source(&retired, st, "local", ""));
	CHECK_INT((int)retired, 0);
	CHECK_OK(jobreg_storage_retire_source(NULL, st, "git", "nothing_here"));
	CHECK_INT(jobreg_storage_retire_source(NULL, st, "svn", "x"), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "\"svn\"");
	CHECK_INT(jobreg_storage_retire_source(NULL, NULL, "git", "x"), JOBREG_EINVAL);
	CHECK_INT(jobreg_storage_retire_source(NULL, st, "git", NULL), JOBREG_EINVAL);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

static const struct jr_test tests[] = {
	JR_TEST(the_source_leaves_the_next_generation_at_once),
	JR_TEST(a_source_of_another_registry_is_not_found),
	JR_TEST(retiring_a_source_uninstalls_its_records_and_forgets_its_errors),
};

JR_TEST_MAIN_WITH_LIBRARY(tests)
