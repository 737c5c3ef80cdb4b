/* test_app_source.c: app packages and their jobs modules (SPEC 1.3). */
#include <unistd.h>

#include "loadutil.h"

static const char *lib;

static const char job_module[] = "from jobreg.jobs import Job, register_jobs\n"
								 "class Tidy(Job):\n    pass\n"
								 "register_jobs(Tidy)\n";

/* A fresh package `name` under the shared python_path folder. */
static void write_in(const char *package, const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", package, rel);
	jr_write(lib, path, text);
}

static jobreg_snapshot *load_app(jobreg_registry **reg, const char *package)
{
	jobreg_source *src = NULL;

	*reg = NULL;
	CHECK_OK(jobreg_registry_new(reg, NULL));
	CHECK_OK(jobreg_source_app_new(&src, package));
	CHECK_OK(jobreg_registry_add_source(*reg, src));
	CHECK_OK(jobreg_registry_load(*reg));
	return take_snapshot(*reg);
}

static void expect_jobs(const char *package, const char *class_path, size_t errors)
{
	jobreg_registry *reg;
	jobreg_snapshot *snap = load_app(&reg, package);

	if (jobreg_snapshot_load_error_count(snap) != errors)
		print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), errors);
	if (class_path) {
		CHECK_INT(jobreg_snapshot_job_count(snap), 1);
		CHECK(job_at(snap, class_path) != NULL);
	} else {
		CHECK_INT(jobreg_snapshot_job_count(snap), 0);
	}
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_config_attribute_with_a_relative_dotted_jobs_module(void)
{
	write_in("attr_app", "__init__.py",
	         "from jobreg.apps import AppConfig\n"
	         "class AttrConfig(AppConfig):\n"
	         "    name = 'attr_app'\n"
	         "    jobs = 'tasks.jobs'\n"
	         "config = AttrConfig\n");
	write_in("attr_app", "tasks/__init__.py", "");
	write_in("attr_app", "tasks/jobs.py", job_module);
	expect_jobs("attr_app", "attr_app.tasks.jobs.Tidy", 0);
}

static void test_apps_module_with_an_empty_package_and_an_absolute_jobs_module(void)
{
	write_in("nb_app", "__init__.py", "");
	write_in("nb_app", "apps.py",
	         "from nautobot.apps.apps import NautobotAppConfig\n"
	         "class NbConfig(NautobotAppConfig):\n"
	         "    name = 'nb_app'\n"
	         "    jobs = 'nb_app.jobs'\n");
	write_in(
		"nb_app", "jobs/__init__.py",
		"from .cleanup import Tidy\nfrom jobreg.jobs import register_jobs\nregister_jobs(Tidy)\n");
	write_in("nb_app", "jobs/cleanup.py",
	         "from jobreg.jobs import Job\nclass Tidy(Job):\n    pass\n");
	expect_jobs("nb_app", "nb_app.jobs.cleanup.Tidy", 0);
}

static void test_default_jobs_module_is_jobs(void)
{
	write_in("plain_app", "__init__.py",
	         "from jobreg.apps import AppConfig\n"
	         "class PlainConfig(AppConfig):\n    name = 'plain_app'\n"
	         "config = PlainConfig()\n");
	write_in("plain_app", "jobs.py", job_module);
	expect_jobs("plain_app", "plain_app.jobs.Tidy", 0);
}

static void test_missing_default_jobs_module_means_no_jobs(void)
{
	write_in("quiet_app", "__init__.py",
	         "from jobreg.apps import AppConfig\n"
	         "class QuietConfig(AppConfig):\n    name = 'quiet_app'\n"
	         "config = QuietConfig\n");
	expect_jobs("quiet_app", NULL, 0);
}

static void test_missing_explicit_jobs_module_is_an_error_naming_it(void)
{
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	const jobreg_load_error *err;

	write_in("named_app", "__init__.py",
	         "from jobreg.apps import AppConfig\n"
	         "class NamedConfig(AppConfig):\n    name = 'named_app'\n    jobs = 'automation'\n"
	         "config = NamedConfig\n");
	snap = load_app(&reg, "named_app");
	err = error_for(snap, "named_app.automation");
	CHECK(err != NULL);
	if (err) {
		CHECK_STR(jobreg_load_error_type(err), "ModuleNotFoundError");
		CHECK_CONTAINS(jobreg_load_error_message(err), "named_app.automation");
	}
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_a_package_without_any_app_config_is_an_error(void)
{
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	write_in("bare_pkg", "__init__.py", "");
	write_in("bare_pkg", "jobs.py", job_module);
	snap = load_app(&reg, "bare_pkg");
	CHECK_INT(jobreg_snapshot_job_count(snap), 0);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 1);
	if (jobreg_snapshot_load_error_count(snap))
		CHECK_CONTAINS(jobreg_load_error_message(jobreg_snapshot_load_error(snap, 0)),
		               "no app configuration");
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_two_config_classes_in_apps_is_an_error_listing_them(void)
{
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	write_in("twin_app", "__init__.py", "");
	write_in("twin_app", "apps.py",
	         "from jobreg.apps import AppConfig\n"
	         "class OneConfig(AppConfig):\n    name = 'twin_app'\n"
	         "class TwoConfig(AppConfig):\n    name = 'twin_app'\n");
	snap = load_app(&reg, "twin_app");
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 1);
	if (jobreg_snapshot_load_error_count(snap)) {
		const char *message = jobreg_load_error_message(jobreg_snapshot_load_error(snap, 0));
		CHECK_CONTAINS(message, "OneConfig");
		CHECK_CONTAINS(message, "TwoConfig");
	}
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_a_package_that_does_not_exist_is_a_load_error(void)
{
	jobreg_registry *reg;
	jobreg_snapshot *snap = load_app(&reg, "no_such_app_here");

	CHECK_INT(jobreg_snapshot_load_error_count(snap), 1);
	if (jobreg_snapshot_load_error_count(snap))
		CHECK_STR(jobreg_load_error_type(jobreg_snapshot_load_error(snap, 0)),
		          "ModuleNotFoundError");
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_reload_reimports_an_app_only_when_its_files_change(void)
{
	char log[600], module[1400];
	jobreg_registry *reg;
	jobreg_snapshot *snap, *again;
	const jobreg_job *job;

	snprintf(log, sizeof(log), "%s/app-imports.log", lib);
	snprintf(module, sizeof(module),
	         "with open('%s', 'a') as f:\n    f.write('imported\\n')\n"
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class Tidy(Job):\n    class Meta:\n        name = 'v1'\n"
	         "register_jobs(Tidy)\n",
	         log);
	write_in("live_app", "__init__.py",
	         "from jobreg.apps import AppConfig\n"
	         "class LiveConfig(AppConfig):\n    name = 'live_app'\n"
	         "config = LiveConfig\n");
	write_in("live_app", "jobs.py", module);
	snap = load_app(&reg, "live_app");
	jobreg_snapshot_free(snap);
	CHECK_OK(jobreg_registry_reload(reg));
	again = take_snapshot(reg);
	CHECK_INT(jobreg_snapshot_generation(again), 1); /* nothing changed, nothing built */
	jobreg_snapshot_free(again);

	module[strlen(module) - strlen("'v1'\nregister_jobs(Tidy)\n")] = '\0';
	strcat(module, "'v2'\nregister_jobs(Tidy)\n");
	write_in("live_app", "jobs.py", module);
	CHECK_OK(jobreg_registry_reload(reg));
	again = take_snapshot(reg);
	job = job_at(again, "live_app.jobs.Tidy");
	CHECK(job != NULL);
	if (job)
		CHECK_STR(jobreg_job_name(job), "v2");
	jobreg_snapshot_free(again);
	{
		FILE *f = fopen(log, "r");
		char text[64] = "";
		size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
		text[n] = '\0';
		if (f)
			fclose(f);
		CHECK_STR(text, "imported\nimported\n");
	}
	jobreg_registry_free(reg);
}

static void test_root_follows_the_package_and_old_roots_stay_readable(void)
{
	static char other[4096];
	jobreg_init_options opts = JOBREG_INIT_OPTIONS_INIT;
	const char *path[1], *before_load, *first_root;
	char expected[4200], moved_from[4200];
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;
	jobreg_snapshot *snap;

	/* A second python_path folder, after the shared one. */
	snprintf(other, sizeof(other), "%s", jr_tmpdir());
	path[0] = other;
	opts.python_path = path;
	opts.python_path_count = 1;
	CHECK(jobreg_init(&opts) > 0);
	snprintf(moved_from, sizeof(moved_from), "%s/moving_app", other);
	jr_write(moved_from, "__init__.py",
	         "from jobreg.apps import AppConfig\n"
	         "class MovingConfig(AppConfig):\n    name = 'moving_app'\n"
	         "config = MovingConfig\n");
	jr_write(moved_from, "jobs.py", job_module);

	CHECK_OK(jobreg_registry_new(&reg, NULL));
	CHECK_OK(jobreg_source_app_new(&src, "moving_app"));
	CHECK_OK(jobreg_registry_add_source(reg, src));
	before_load = jobreg_source_root(src);
	CHECK_STR(before_load, "");
	CHECK_OK(jobreg_registry_load(reg));
	first_root = jobreg_source_root(src);
	CHECK_STR(first_root, moved_from);

	/* The package moves to the first python_path folder: the next load
	 * imports it from there, and the strings lent before stay valid. */
	write_in("moving_app", "__init__.py",
	         "from jobreg.apps import AppConfig\n"
	         "class MovingConfig(AppConfig):\n    name = 'moving_app'\n"
	         "config = MovingConfig\n");
	write_in("moving_app", "jobs.py", job_module);
	jr_rmtree(moved_from);
	CHECK_OK(jobreg_registry_reload(reg));
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK(job_at(snap, "moving_app.jobs.Tidy") != NULL);
	snprintf(expected, sizeof(expected), "%s/moving_app", lib);
	CHECK_STR(jobreg_source_root(src), expected);
	CHECK_STR(first_root, moved_from);
	CHECK_STR(before_load, "");
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
	CHECK(jobreg_shutdown() > 0);
}

static const struct jr_test tests[] = {
	{ "config_attribute_with_a_relative_dotted_jobs_module",
	  test_config_attribute_with_a_relative_dotted_jobs_module },
	{ "apps_module_with_an_empty_package_and_an_absolute_jobs_module",
	  test_apps_module_with_an_empty_package_and_an_absolute_jobs_module },
	{ "default_jobs_module_is_jobs", test_default_jobs_module_is_jobs },
	{ "missing_default_jobs_module_means_no_jobs", test_missing_default_jobs_module_means_no_jobs },
	{ "missing_explicit_jobs_module_is_an_error_naming_it",
	  test_missing_explicit_jobs_module_is_an_error_naming_it },
	{ "a_package_without_any_app_config_is_an_error",
	  test_a_package_without_any_app_config_is_an_error },
	{ "two_config_classes_in_apps_is_an_error_listing_them",
	  test_two_config_classes_in_apps_is_an_error_listing_them },
	{ "a_package_that_does_not_exist_is_a_load_error",
	  test_a_package_that_does_not_exist_is_a_load_error },
	{ "reload_reimports_an_app_only_when_its_files_change",
	  test_reload_reimports_an_app_only_when_its_files_change },
	{ "root_follows_the_package_and_old_roots_stay_readable",
	  test_root_follows_the_package_and_old_roots_stay_readable },
};

int main(int argc, char **argv)
{
	jobreg_init_options opts = JOBREG_INIT_OPTIONS_INIT;
	const char *path[1];
	static char lib_dir[4096];
	int rc;

	/* One python_path folder for every test's package. */
	snprintf(lib_dir, sizeof(lib_dir), "%s", jr_tmpdir());
	lib = lib_dir;
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
