/* test_jobs_root.c: loading a jobs root (SPEC 1.1 and 3). */
#include <stdlib.h>
#include <unistd.h>

#include "loadutil.h"

static void test_seed_layout_loads_its_three_jobs(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_job *job;

	jr_write_seed_jobs_root(dir);
	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 0);
	CHECK_INT(jobreg_snapshot_job_count(snap), 3);
	CHECK_INT(jobreg_snapshot_generation(snap), 1);

	/* Ordered by class path within the source. */
	CHECK_STR(jobreg_job_class_path(jobreg_snapshot_job(snap, 0)), "device_jobs.CleanupDevices");
	CHECK_STR(jobreg_job_class_path(jobreg_snapshot_job(snap, 1)),
	          "inventory.check_inventory.AuditSerials");
	CHECK_STR(jobreg_job_class_path(jobreg_snapshot_job(snap, 2)),
	          "inventory.check_inventory.CheckInventory");

	job = job_at(snap, "device_jobs.CleanupDevices");
	CHECK(job != NULL);
	if (job) {
		CHECK_STR(jobreg_job_name(job), "Cleanup Obsolete Devices");
		CHECK_STR(jobreg_job_description(job), "Removes devices that were decommissioned.");
		CHECK_STR(jobreg_job_module_name(job), "device_jobs");
		CHECK_STR(jobreg_job_class_name(job), "CleanupDevices");
		CHECK_STR(jobreg_job_grouping(job), "device_jobs");
		CHECK_INT(jobreg_job_source_type(job), JOBREG_SOURCE_LOCAL);
		CHECK_STR(jobreg_job_source_name(job), "");
		CHECK_INT(jobreg_job_has_sensitive_variables(job), 1);
		CHECK_INT(jobreg_job_hidden(job), 0);
		CHECK_INT(jobreg_job_task_queue_count(job), 0);
	}
	job = job_at(snap, "inventory.check_inventory.AuditSerials");
	CHECK(job != NULL);
	if (job) {
		CHECK_STR(jobreg_job_grouping(job), "Inventory");
		CHECK_STR(jobreg_job_name(job), "Audit Serial Numbers");
		CHECK_INT(jobreg_job_has_sensitive_variables(job), 0);
		CHECK_INT(jobreg_job_task_queue_count(job), 2);
		CHECK_STR(jobreg_job_task_queue(job, 1), "audit");
		CHECK(jobreg_job_task_queue(job, 2) == NULL);
		CHECK(jobreg_job_soft_time_limit(job) == 30.0);
	}
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_unregistered_subclasses_are_not_jobs(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	jr_write_seed_jobs_root(dir);
	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	CHECK(job_at(snap, "inventory.check_inventory.NotRegistered") == NULL);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

/* Each module body appends its name to a file: the file tells how often it ran. */
static const char *counting_module(const char *log, const char *extra)
{
	static char text[8192];
	snprintf(text, sizeof(text),
	         "with open(%s, 'a') as f:\n"
	         "    f.write(__name__ + '\\n')\n"
	         "%s",
	         log, extra);
	return text;
}

static char *read_file(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	return buf;
}

static void test_each_module_body_runs_once_per_load_in_name_order(void)
{
	const char *dir = jr_tmpdir();
	char log[4096], quoted[4200];
	jobreg_registry *reg;

	snprintf(log, sizeof(log), "%s/imports.log", jr_tmpdir());
	snprintf(quoted, sizeof(quoted), "'%s'", log);
	jr_write(dir, "b_module.py", counting_module(quoted, "import a_module\nimport pkg.inner\n"));
	jr_write(dir, "a_module.py", counting_module(quoted, ""));
	jr_write(dir, "pkg/__init__.py", counting_module(quoted, ""));
	jr_write(dir, "pkg/inner.py", counting_module(quoted, "from pkg import deeper\n"));
	jr_write(dir, "pkg/deeper.py", counting_module(quoted, ""));
	jr_write(dir, "ns/leaf.py", counting_module(quoted, ""));

	reg = load_jobs_root(dir);
	CHECK_STR(read_file(log), "a_module\nb_module\npkg\npkg.inner\npkg.deeper\nns.leaf\n");
	unlink(log);
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_STR(read_file(log), "a_module\nb_module\npkg\npkg.inner\npkg.deeper\nns.leaf\n");
	jobreg_registry_free(reg);
}

static void test_skipped_folders_and_files(void)
{
	const char *dir = jr_tmpdir();
	const char *job = "from jobreg.jobs import Job, register_jobs\n"
					  "class Hidden(Job):\n    pass\n"
					  "register_jobs(Hidden)\n";
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	jr_write(dir, ".hidden/secret.py", job);
	jr_write(dir, "__pycache__/cached.py", job);
	jr_write(dir, "not-a-name/thing.py", job);
	jr_write(dir, "class/thing.py", job); /* a keyword is no module name */
	jr_write(dir, "notes.txt", "not python");
	jr_write(dir, "__init__.py", "raise RuntimeError('the root package body must never run')\n");
	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_job_count(snap), 0);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 0);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

/* A job whose run() says which module it ran from. */
static const char *named_job(const char *cls)
{
	static char text[1024];
	snprintf(text, sizeof(text),
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class %s(Job):\n"
	         "    def run(self):\n"
	         "        return {'module': __name__}\n"
	         "register_jobs(%s)\n",
	         cls, cls);
	return text;
}

static void test_file_names_that_are_no_identifier_load_as_pkgutil_names(void)
{
	const char *dir = jr_tmpdir();
	const char *never = "raise RuntimeError('this file is no module and must never run')\n";
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	jobreg_storage *st = NULL;
	jobreg_record *rec = NULL;
	jobreg_run_result *res = NULL;
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	const jobreg_job *job;

	/* What Nautobot imports through pkgutil: inspect.getmodulename(). */
	jr_write(dir, "my-jobs.py", named_job("CleanupJob"));
	jr_write(dir, "2024_cleanup.py", named_job("Cleanup2024"));
	jr_write(dir, "class.py", named_job("KeywordModule"));
	jr_write(dir, "pkg/my-sub.py", named_job("InSubFolder"));
	jr_write(dir, "uses_it.py",
	         "import importlib\n"
	         "assert importlib.import_module('my-jobs').CleanupJob.__module__ == 'my-jobs'\n");
	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 0);
	CHECK_INT(jobreg_snapshot_job_count(snap), 4);
	CHECK_STR(jobreg_job_class_path(jobreg_snapshot_job(snap, 0)), "2024_cleanup.Cleanup2024");
	CHECK_STR(jobreg_job_class_path(jobreg_snapshot_job(snap, 1)), "class.KeywordModule");
	CHECK_STR(jobreg_job_class_path(jobreg_snapshot_job(snap, 2)), "my-jobs.CleanupJob");
	CHECK_STR(jobreg_job_class_path(jobreg_snapshot_job(snap, 3)), "pkg.my-sub.InSubFolder");
	job = job_at(snap, "my-jobs.CleanupJob");
	CHECK(job != NULL);
	if (job) {
		CHECK_STR(jobreg_job_module_name(job), "my-jobs");
		CHECK_STR(jobreg_job_class_name(job), "CleanupJob");
		CHECK_STR(jobreg_job_grouping(job), "my-jobs");
	}
	job = job_at(snap, "pkg.my-sub.InSubFolder");
	CHECK(job != NULL);
	if (job)
		CHECK_STR(jobreg_job_module_name(job), "pkg.my-sub");

	/* Records are keyed by (module, class) whatever the module's name. */
	CHECK_OK(jobreg_storage_memory_new(&st));
	CHECK_OK(jobreg_refresh(NULL, st, snap, NULL));
	CHECK_OK(jobreg_storage_get(&rec, st, "my-jobs.CleanupJob"));
	if (rec) {
		CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_MODULE_NAME), "my-jobs");
		CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_JOB_CLASS_NAME), "CleanupJob");
		CHECK_OK(jobreg_storage_set_enabled(st, jobreg_record_text(rec, JOBREG_FIELD_ID), 1));
	}
	jobreg_record_free(rec);
	rec = NULL;
	CHECK_OK(jobreg_storage_get(&rec, st, "2024_cleanup.Cleanup2024"));
	jobreg_record_free(rec);
	CHECK_OK(jobreg_run(&res, reg, st, "my-jobs.CleanupJob", &opts));
	if (res) {
		CHECK_INT(jobreg_run_result_status(res), JOBREG_RUN_SUCCESS);
		CHECK_STR(jobreg_run_result_json(res), "{\"module\": \"my-jobs\"}");
	}
	jobreg_run_result_free(res);
	jobreg_snapshot_free(snap);

	/* A dotted file name added later is no module either: the reload
	 * (the folder changed) neither imports it nor reports it. */
	jr_write(dir, "a.b.py", never);
	CHECK_OK(jobreg_registry_reload(reg));
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_generation(snap), 2);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 0);
	CHECK_INT(jobreg_snapshot_job_count(snap), 4);
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

static void test_dotted_file_names_and_non_identifier_folders_are_skipped(void)
{
	const char *dir = jr_tmpdir(), *outside = jr_tmpdir();
	const char *never = "raise RuntimeError('this is no module and must never run')\n";
	char target[4096], link[4096];
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	jr_write(dir, "a.b.py", never); /* pkgutil: a dotted name, skipped */
	jr_write(dir, "pkg/__init__.py", "");
	jr_write(dir, "pkg/c.d.py", never);
	jr_write(dir, "my-folder/jobs.py", never); /* folders keep the identifier rule */
	jr_write(dir, "pkg/sub-folder/jobs.py", never);
	jr_write(dir, "pkg/2024/jobs.py", never);
	jr_write(dir, "pkg/real.py", named_job("Real"));
	/* A link out of the root that the walk would skip anyway is no error. */
	jr_write(outside, "x.py", never);
	snprintf(target, sizeof(target), "%s/x.py", outside);
	snprintf(link, sizeof(link), "%s/e.f.py", dir);
	CHECK(symlink(target, link) == 0);
	snprintf(link, sizeof(link), "%s/linked-folder", dir);
	CHECK(symlink(outside, link) == 0);
	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 0);
	CHECK_INT(jobreg_snapshot_job_count(snap), 1);
	CHECK(job_at(snap, "pkg.real.Real") != NULL);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_a_file_name_that_is_no_utf8_is_one_load_error(void)
{
	const char *dir = jr_tmpdir();
	const char *never = "raise RuntimeError('must never run')\n";
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_load_error *err;

	/* Module names are text: without the check, this one name made the
	 * whole root fail to load (UnicodeDecodeError). */
	jr_write(dir, "bad\xff.py", never);
	jr_write(dir, "bad\xc3\x28/jobs.py", never); /* a folder: a load error too */
	jr_write(dir, "good.py", named_job("Good"));
	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_job_count(snap), 1);
	CHECK(job_at(snap, "good.Good") != NULL);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 2);
	err = jobreg_snapshot_load_error(snap, 1); /* walk order: bad\xc3( before bad\xff.py */
	if (err) {
		char shown[4096];

		/* The name's bad byte shown escaped: the API only hands out UTF-8. */
		snprintf(shown, sizeof(shown), "%s/bad\\xff.py", dir);
		CHECK_STR(jobreg_load_error_file(err), shown);
		CHECK_CONTAINS(jobreg_load_error_message(err), "not valid UTF-8");
	}
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_shadowing_names_are_refused_and_outside_module_untouched(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_load_error *err;

	jr_write(dir, "json.py", "raise RuntimeError('a shadowing module must never run')\n");
	jr_write(dir, "os/__init__.py", "raise RuntimeError('nor this one')\n");
	jr_write(dir, "os/path2.py", "raise RuntimeError('nor this one')\n");
	jr_write(dir, "uses_json.py",
	         "import json\n"
	         "from jobreg.jobs import Job, register_jobs\n"
	         "assert json.dumps([1]) == '[1]', 'the real json module is in use'\n"
	         "class UsesJson(Job):\n    pass\n"
	         "register_jobs(UsesJson)\n");
	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	print_load_errors(snap);
	err = error_for(snap, "json");
	CHECK(err != NULL);
	if (err) {
		CHECK_CONTAINS(jobreg_load_error_message(err), "shadow");
		CHECK_CONTAINS(jobreg_load_error_file(err), "json.py");
	}
	err = error_for(snap, "os");
	CHECK(err != NULL);
	CHECK(error_for(snap, "os.path2") == NULL); /* one error for the refused folder */
	CHECK(job_at(snap, "uses_json.UsesJson") != NULL);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 2);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_symlink_out_of_the_root_is_refused(void)
{
	const char *dir = jr_tmpdir(), *outside = jr_tmpdir();
	char target[4096], link[4096];
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_load_error *err;

	jr_write(outside, "evil.py", "raise RuntimeError('must not run')\n");
	jr_write(outside, "evil_dir/mod.py", "raise RuntimeError('must not run')\n");
	jr_write(dir, "inside/real.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class Real(Job):\n    pass\n"
	         "register_jobs(Real)\n");
	snprintf(target, sizeof(target), "%s/evil.py", outside);
	snprintf(link, sizeof(link), "%s/linked.py", dir);
	CHECK(symlink(target, link) == 0);
	snprintf(target, sizeof(target), "%s/evil_dir", outside);
	snprintf(link, sizeof(link), "%s/linked_dir", dir);
	CHECK(symlink(target, link) == 0);
	snprintf(target, sizeof(target), "%s/inside/real.py", dir);
	snprintf(link, sizeof(link), "%s/alias.py", dir);
	CHECK(symlink(target, link) == 0); /* a link that stays inside is fine */

	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	print_load_errors(snap);
	err = error_for(snap, "linked");
	CHECK(err != NULL);
	if (err)
		CHECK_CONTAINS(jobreg_load_error_message(err), "outside the jobs root");
	CHECK(error_for(snap, "linked_dir") != NULL);
	CHECK(job_at(snap, "inside.real.Real") != NULL);
	CHECK(job_at(snap, "alias.Real") != NULL);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 2);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_reload_purges_and_replaces_old_code(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_job *job;

	jr_write(dir, "changing.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class Changing(Job):\n    class Meta:\n        name = 'First'\n"
	         "register_jobs(Changing)\n");
	jr_write(dir, "helper_lib.py", "VALUE = 'one'\n");
	jr_write(dir, "uses_helper.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "import helper_lib\n"
	         "class UsesHelper(Job):\n    class Meta:\n        name = helper_lib.VALUE\n"
	         "register_jobs(UsesHelper)\n");
	reg = load_jobs_root(dir);
	jr_write(dir, "changing.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class Changing(Job):\n    class Meta:\n        name = 'Second'\n"
	         "class Added(Job):\n    pass\n"
	         "register_jobs(Changing, Added)\n");
	jr_write(dir, "helper_lib.py", "VALUE = 'two'\n");
	CHECK_OK(jobreg_registry_load(reg));
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_generation(snap), 2);
	job = job_at(snap, "changing.Changing");
	CHECK(job != NULL);
	if (job)
		CHECK_STR(jobreg_job_name(job), "Second");
	CHECK(job_at(snap, "changing.Added") != NULL);
	job = job_at(snap, "uses_helper.UsesHelper");
	CHECK(job != NULL);
	if (job)
		CHECK_STR(jobreg_job_name(job), "two");
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_a_removed_module_disappears_on_load(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	jr_write_seed_jobs_root(dir);
	reg = load_jobs_root(dir);
	unlink(jr_path(dir, "device_jobs.py"));
	CHECK_OK(jobreg_registry_load(reg));
	snap = take_snapshot(reg);
	CHECK_INT(jobreg_snapshot_job_count(snap), 2);
	CHECK(job_at(snap, "device_jobs.CleanupDevices") == NULL);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_missing_root_is_a_load_error_not_a_failure(void)
{
	const char *dir = jr_path(jr_tmpdir(), "does-not-exist");
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	CHECK_INT(jobreg_snapshot_job_count(snap), 0);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 1);
	if (jobreg_snapshot_load_error_count(snap) == 1)
		CHECK_CONTAINS(jobreg_load_error_message(jobreg_snapshot_load_error(snap, 0)),
		               "does-not-exist");
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_freeing_the_registry_forgets_its_modules(void)
{
	const char *first = jr_tmpdir(), *second = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	/* The same module names from another folder load once the first
	 * registry is gone: module names are process-wide while loaded. */
	jr_write_seed_jobs_root(first);
	jr_write_seed_jobs_root(second);
	reg = load_jobs_root(first);
	jobreg_registry_free(reg);
	reg = load_jobs_root(second);
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_job_count(snap), 3);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 0);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_adding_the_same_root_twice_is_refused(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_source *a = NULL, *b = NULL;

	CHECK_OK(jobreg_registry_new(&reg, NULL));
	CHECK_OK(jobreg_source_dir_new(&a, dir));
	CHECK_OK(jobreg_source_dir_new(&b, dir));
	CHECK_OK(jobreg_registry_add_source(reg, a));
	CHECK_INT(jobreg_registry_add_source(reg, b), JOBREG_EEXISTS);
	CHECK_CONTAINS(jobreg_error_last()->message, dir);
	CHECK_INT(jobreg_registry_source_count(reg), 1);
	CHECK(jobreg_registry_source(reg, 0) == a);
	CHECK_STR(jobreg_source_type_name(jobreg_source_type(a)), "local");
	CHECK_STR(jobreg_source_root(a), dir);
	jobreg_source_free(b);
	jobreg_registry_free(reg);
}

static void test_non_ascii_folder_module_and_class_names_load(void)
{
	/* The library speaks UTF-8 whatever the host's locale: this test
	 * process never calls setlocale(), so its locale is "C". */
	const char *dir = jr_path(jr_tmpdir(), "j\xc3\xb6"
	                                       "bs");
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_job *job;
	const jobreg_load_error *err;

	jr_write(dir, "caf\xc3\xa9_jobs.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class \xc3\x9c"
	         "ber(Job):\n"
	         "    class Meta:\n"
	         "        name = 'Cr\xc3\xa8me'\n"
	         "register_jobs(\xc3\x9c"
	         "ber)\n");
	jr_write(dir, "br\xc3\xbbl\xc3\xa9.py", "raise ValueError('br\xc3\xbbl\xc3\xa9 on purpose')\n");
	reg = load_jobs_root(dir);
	snap = take_snapshot(reg);
	CHECK_INT(jobreg_snapshot_job_count(snap), 1);
	job = job_at(snap, "caf\xc3\xa9_jobs.\xc3\x9c"
	                   "ber");
	CHECK(job != NULL);
	if (job)
		CHECK_STR(jobreg_job_name(job), "Cr\xc3\xa8me");
	err = error_for(snap, "br\xc3\xbbl\xc3\xa9");
	CHECK(err != NULL);
	if (err) {
		CHECK_STR(jobreg_load_error_file(err), jr_path(dir, "br\xc3\xbbl\xc3\xa9.py"));
		CHECK_CONTAINS(jobreg_load_error_message(err), "br\xc3\xbbl\xc3\xa9 on purpose");
	}
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static const struct jr_test tests[] = {
	{ "seed_layout_loads_its_three_jobs", test_seed_layout_loads_its_three_jobs },
	{ "unregistered_subclasses_are_not_jobs", test_unregistered_subclasses_are_not_jobs },
	{ "each_module_body_runs_once_per_load_in_name_order",
	  test_each_module_body_runs_once_per_load_in_name_order },
	{ "skipped_folders_and_files", test_skipped_folders_and_files },
	{ "file_names_that_are_no_identifier_load_as_pkgutil_names",
	  test_file_names_that_are_no_identifier_load_as_pkgutil_names },
	{ "dotted_file_names_and_non_identifier_folders_are_skipped",
	  test_dotted_file_names_and_non_identifier_folders_are_skipped },
	{ "a_file_name_that_is_no_utf8_is_one_load_error",
	  test_a_file_name_that_is_no_utf8_is_one_load_error },
	{ "shadowing_names_are_refused_and_outside_module_untouched",
	  test_shadowing_names_are_refused_and_outside_module_untouched },
	{ "symlink_out_of_the_root_is_refused", test_symlink_out_of_the_root_is_refused },
	{ "reload_purges_and_replaces_old_code", test_reload_purges_and_replaces_old_code },
	{ "a_removed_module_disappears_on_load", test_a_removed_module_disappears_on_load },
	{ "missing_root_is_a_load_error_not_a_failure",
	  test_missing_root_is_a_load_error_not_a_failure },
	{ "freeing_the_registry_forgets_its_modules", test_freeing_the_registry_forgets_its_modules },
	{ "adding_the_same_root_twice_is_refused", test_adding_the_same_root_twice_is_refused },
	{ "non_ascii_folder_module_and_class_names_load",
	  test_non_ascii_folder_module_and_class_names_load },
};

JR_TEST_MAIN_WITH_LIBRARY(tests)
