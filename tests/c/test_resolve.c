/* test_resolve.c: finding a job by class path or short form (SPEC 2). */
#include "loadutil.h"

/* Make `dir` importable (python_path is applied on every jobreg_init). */
static void add_python_path(const char *dir)
{
	jobreg_init_options opts = JOBREG_INIT_OPTIONS_INIT;
	const char *path[1] = { dir };

	opts.python_path = path;
	opts.python_path_count = 1;
	CHECK(jobreg_init(&opts) > 1);
	CHECK(jobreg_shutdown() > 0);
}

static jobreg_registry *load_app(const char *package)
{
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;

	CHECK_OK(jobreg_registry_new(&reg, NULL));
	CHECK_OK(jobreg_source_app_new(&src, package));
	CHECK_OK(jobreg_registry_add_source(reg, src));
	CHECK_OK(jobreg_registry_load(reg));
	return reg;
}

/* The Nautobot page's app layout: apps.py config, jobs/ package re-registering. */
static void write_app(const char *lib, const char *package)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "%s/__init__.py", package);
	jr_write(lib, rel, "");
	snprintf(rel, sizeof(rel), "%s/apps.py", package);
	jr_write(lib, rel,
	         "from nautobot.apps.apps import NautobotAppConfig\n"
	         "class RouteAppConfig(NautobotAppConfig):\n"
	         "    name = 'route_app'\n"
	         "    jobs = 'route_app.jobs'\n");
	snprintf(rel, sizeof(rel), "%s/jobs/__init__.py", package);
	jr_write(lib, rel,
	         "from nautobot.apps.jobs import register_jobs\n"
	         "from .cleanup import CleanupJob\n"
	         "from .report import ComplianceReport\n"
	         "from .legacy import ComplianceReport as LegacyReport\n"
	         "register_jobs(CleanupJob, ComplianceReport, LegacyReport)\n");
	snprintf(rel, sizeof(rel), "%s/jobs/cleanup.py", package);
	jr_write(lib, rel,
	         "from nautobot.apps.jobs import Job\n"
	         "class CleanupJob(Job):\n    pass\n");
	snprintf(rel, sizeof(rel), "%s/jobs/report.py", package);
	jr_write(lib, rel,
	         "from nautobot.apps.jobs import Job\n"
	         "class ComplianceReport(Job):\n    pass\n");
	snprintf(rel, sizeof(rel), "%s/jobs/legacy.py", package);
	jr_write(lib, rel,
	         "from nautobot.apps.jobs import Job\n"
	         "class ComplianceReport(Job):\n    pass\n");
}

static void test_class_path_resolves_in_a_jobs_root(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_job *job = NULL;

	jr_write_seed_jobs_root(dir);
	reg = load_jobs_root(dir);
	CHECK_OK(jobreg_registry_resolve(&job, reg, "inventory.check_inventory.CheckInventory"));
	if (job) {
		CHECK_STR(jobreg_job_name(job), "Check Inventory");
		jobreg_job_free(job);
	}
	/* A jobs root has no short form. */
	CHECK_INT(jobreg_registry_resolve(&job, reg, "inventory.jobs.CheckInventory"),
	          JOBREG_ENOTFOUND);
	CHECK_CONTAINS(jobreg_error_last()->message, "inventory.jobs.CheckInventory");
	CHECK_INT(jobreg_registry_resolve(&job, reg, ""), JOBREG_ENOTFOUND);
	jobreg_registry_free(reg);
}

static void test_short_form_resolves_a_unique_class_of_an_app(void)
{
	const char *lib = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_job *job = NULL;
	jobreg_snapshot *snap;

	write_app(lib, "route_app");
	add_python_path(lib);
	reg = load_app("route_app");
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_job_count(snap), 3);
	CHECK_OK(jobreg_registry_resolve(&job, reg, "route_app.jobs.CleanupJob"));
	if (job) {
		CHECK_STR(jobreg_job_class_path(job), "route_app.jobs.cleanup.CleanupJob");
		CHECK_STR(jobreg_job_source_name(job), "route_app");
		CHECK_INT(jobreg_job_source_type(job), JOBREG_SOURCE_APP);
		jobreg_job_free(job);
	}
	CHECK_OK(jobreg_registry_resolve(&job, reg, "route_app.jobs.cleanup.CleanupJob"));
	jobreg_job_free(job);
	CHECK_CONTAINS(jobreg_source_root(jobreg_registry_source(reg, 0)), "route_app");
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_ambiguous_short_form_lists_the_candidates(void)
{
	const char *lib = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_job *job = NULL;

	write_app(lib, "route_app");
	add_python_path(lib);
	reg = load_app("route_app");
	CHECK_INT(jobreg_registry_resolve(&job, reg, "route_app.jobs.ComplianceReport"),
	          JOBREG_EAMBIGUOUS);
	CHECK_CONTAINS(jobreg_error_last()->message, "route_app.jobs.legacy.ComplianceReport");
	CHECK_CONTAINS(jobreg_error_last()->message, "route_app.jobs.report.ComplianceReport");
	/* The full class paths still resolve. */
	CHECK_OK(jobreg_registry_resolve(&job, reg, "route_app.jobs.report.ComplianceReport"));
	jobreg_job_free(job);
	jobreg_registry_free(reg);
}

static void test_a_job_reference_outlives_its_registry(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_job *job = NULL, *again = NULL;

	jr_write_seed_jobs_root(dir);
	reg = load_jobs_root(dir);
	CHECK_OK(jobreg_registry_resolve(&job, reg, "device_jobs.CleanupDevices"));
	jobreg_registry_free(reg);
	if (job) {
		CHECK_STR(jobreg_job_name(job), "Cleanup Obsolete Devices");
		CHECK_OK(jobreg_job_dup(&again, job));
		jobreg_job_free(job);
		CHECK_STR(jobreg_job_class_name(again), "CleanupDevices");
		jobreg_job_free(again);
	}
}

static void test_app_names_are_checked(void)
{
	jobreg_source *src = NULL;

	CHECK_INT(jobreg_source_app_new(&src, "my-app"), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "my-app");
	CHECK_INT(jobreg_source_app_new(&src, "class"), JOBREG_EINVAL);
	CHECK_INT(jobreg_source_app_new(&src, "a..b"), JOBREG_EINVAL);
	CHECK_OK(jobreg_source_app_new(&src, "vendor.app"));
	jobreg_source_free(src);
}

static const struct jr_test tests[] = {
	{ "class_path_resolves_in_a_jobs_root", test_class_path_resolves_in_a_jobs_root },
	{ "short_form_resolves_a_unique_class_of_an_app",
	  test_short_form_resolves_a_unique_class_of_an_app },
	{ "ambiguous_short_form_lists_the_candidates", test_ambiguous_short_form_lists_the_candidates },
	{ "a_job_reference_outlives_its_registry", test_a_job_reference_outlives_its_registry },
	{ "app_names_are_checked", test_app_names_are_checked },
};

JR_TEST_MAIN_WITH_LIBRARY(tests)
