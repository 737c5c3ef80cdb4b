/*
 * fuzz_resolve.c: jobreg_registry_resolve() and jobreg_snapshot_resolve()
 * on any reference (SPEC 2: class paths and short forms).
 *
 * One registry is loaded once per process, from fixtures written to a
 * temporary folder:
 *  - a jobs root (the seed layout of the tests: device_jobs.CleanupDevices,
 *    inventory.check_inventory.CheckInventory and .AuditSerials);
 *  - the app `fzapp` (Nautobot layout): CleanupJob has the unique short
 *    form fzapp.jobs.CleanupJob; two ComplianceReport classes make
 *    fzapp.jobs.ComplianceReport ambiguous;
 *  - the app `fzorg.jobs.extra`, whose dotted name itself holds ".jobs.":
 *    two ReportJob classes make fzorg.jobs.extra.jobs.ReportJob ambiguous.
 *
 * Every input is checked against a plain linear search of the snapshot (the
 * oracle): an exact class path wins; else a short form that names exactly
 * one job of a git or app source; two or more are JOBREG_EAMBIGUOUS with a
 * message listing every candidate; else JOBREG_ENOTFOUND. Both resolve
 * functions must agree.
 */
#include <jobreg.h>

#include "../c/harness.h"
#include "fuzz.h"

static jobreg_registry *reg;
static jobreg_snapshot *snap;

static void write_fixtures(const char *jobs_root, const char *lib)
{
	jr_write_seed_jobs_root(jobs_root);

	jr_write(lib, "fzapp/__init__.py", "");
	jr_write(lib, "fzapp/apps.py",
	         "from nautobot.apps.apps import NautobotAppConfig\n"
	         "class FzAppConfig(NautobotAppConfig):\n"
	         "    name = 'fzapp'\n");
	jr_write(lib, "fzapp/jobs/__init__.py",
	         "from nautobot.apps.jobs import register_jobs\n"
	         "from .cleanup import CleanupJob\n"
	         "from .report import ComplianceReport\n"
	         "from .legacy import ComplianceReport as LegacyReport\n"
	         "register_jobs(CleanupJob, ComplianceReport, LegacyReport)\n");
	jr_write(lib, "fzapp/jobs/cleanup.py",
	         "from nautobot.apps.jobs import Job\nclass CleanupJob(Job):\n    pass\n");
	jr_write(lib, "fzapp/jobs/report.py",
	         "from nautobot.apps.jobs import Job\nclass ComplianceReport(Job):\n    pass\n");
	jr_write(lib, "fzapp/jobs/legacy.py",
	         "from nautobot.apps.jobs import Job\nclass ComplianceReport(Job):\n    pass\n");

	jr_write(lib, "fzorg/__init__.py", "");
	jr_write(lib, "fzorg/jobs/__init__.py", "");
	jr_write(lib, "fzorg/jobs/extra/__init__.py", "");
	jr_write(lib, "fzorg/jobs/extra/apps.py",
	         "from jobreg.apps import AppConfig\n"
	         "class ExtraConfig(AppConfig):\n"
	         "    name = 'fzorg.jobs.extra'\n");
	jr_write(lib, "fzorg/jobs/extra/jobs/__init__.py",
	         "from jobreg.jobs import register_jobs\n"
	         "from . import daily, weekly\n"
	         "register_jobs(daily.ReportJob, weekly.ReportJob)\n");
	jr_write(lib, "fzorg/jobs/extra/jobs/daily.py",
	         "from jobreg.jobs import Job\nclass ReportJob(Job):\n    pass\n");
	jr_write(lib, "fzorg/jobs/extra/jobs/weekly.py",
	         "from jobreg.jobs import Job\nclass ReportJob(Job):\n    pass\n");
}

/* Add a source just made (`rc` is its constructor's result). */
static void add(int rc, jobreg_source **src)
{
	FUZZ_ASSERT(rc == 0 && jobreg_registry_add_source(reg, *src) == 0, "fixture: %s",
	            jobreg_error_last()->message);
	*src = NULL;
}

static void cleanup(void)
{
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
	jobreg_shutdown();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *jobs_root, *lib;
	char lib_copy[4096];
	jobreg_init_options opts = JOBREG_INIT_OPTIONS_INIT;
	const char *path[1];
	jobreg_source *src = NULL;
	size_t i;

	(void)argc;
	(void)argv;
	jobs_root = jr_tmpdir();
	lib = jr_tmpdir();
	snprintf(lib_copy, sizeof(lib_copy), "%s", lib);
	write_fixtures(jobs_root, lib_copy);

	path[0] = lib_copy;
	opts.python_path = path;
	opts.python_path_count = 1;
	FUZZ_ASSERT(jobreg_init(&opts) > 0, "jobreg_init: %s", jobreg_error_last()->message);
	atexit(cleanup);
	FUZZ_ASSERT(jobreg_registry_new(&reg, NULL) == 0, "%s", jobreg_error_last()->message);
	add(jobreg_source_dir_new(&src, jobs_root), &src);
	add(jobreg_source_app_new(&src, "fzapp"), &src);
	add(jobreg_source_app_new(&src, "fzorg.jobs.extra"), &src);
	FUZZ_ASSERT(jobreg_registry_load(reg) == 0, "load: %s", jobreg_error_last()->message);
	FUZZ_ASSERT(jobreg_registry_snapshot(&snap, reg) == 0, "%s", jobreg_error_last()->message);
	for (i = 0; i < jobreg_snapshot_load_error_count(snap); i++) {
		const jobreg_load_error *e = jobreg_snapshot_load_error(snap, i);
		fprintf(stderr, "fixture load error: %s: %s\n", jobreg_load_error_module(e),
		        jobreg_load_error_message(e));
	}
	FUZZ_ASSERT(jobreg_snapshot_load_error_count(snap) == 0 && jobreg_snapshot_job_count(snap) == 8,
	            "fixture: %zu jobs, %zu load errors", jobreg_snapshot_job_count(snap),
	            jobreg_snapshot_load_error_count(snap));
	return 0;
}

/* `<source>.jobs.<Class>` of a git or app job equals `ref`. */
static int short_form_is(const jobreg_job *job, const char *ref)
{
	const char *source = jobreg_job_source_name(job);
	size_t n = strlen(source);
	jobreg_source_t type = jobreg_job_source_type(job);

	if (type != JOBREG_SOURCE_GIT && type != JOBREG_SOURCE_APP)
		return 0;
	return strncmp(ref, source, n) == 0 && strncmp(ref + n, ".jobs.", 6) == 0 &&
	       strcmp(ref + n + 6, jobreg_job_class_name(job)) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *ref = fuzz_cstr(data, size);
	const jobreg_job *exact = NULL, *only = NULL, *from_snap = NULL;
	jobreg_job *from_reg = NULL;
	size_t i, matches = 0;
	int rc_reg, rc_snap, expected;
	char message[4096];

	for (i = 0; i < jobreg_snapshot_job_count(snap); i++) {
		const jobreg_job *job = jobreg_snapshot_job(snap, i);
		if (!exact && strcmp(jobreg_job_class_path(job), ref) == 0)
			exact = job;
		if (short_form_is(job, ref)) {
			only = job;
			matches++;
		}
	}
	if (exact)
		only = exact, matches = 1;
	expected = matches == 1 ? 0 : matches > 1 ? JOBREG_EAMBIGUOUS : JOBREG_ENOTFOUND;

	rc_reg = jobreg_registry_resolve(&from_reg, reg, ref);
	snprintf(message, sizeof(message), "%s", jobreg_error_last()->message);
	rc_snap = jobreg_snapshot_resolve(&from_snap, snap, ref);

	FUZZ_ASSERT(rc_reg == expected, "resolve('%s') returned %d, expected %d (%s)", ref, rc_reg,
	            expected, message);
	FUZZ_ASSERT(rc_snap == rc_reg, "snapshot_resolve('%s') returned %d, registry_resolve %d", ref,
	            rc_snap, rc_reg);
	if (expected == 0) {
		FUZZ_ASSERT(from_reg && strcmp(jobreg_job_class_path(from_reg), jobreg_job_class_path(only)) == 0,
		            "resolve('%s') found %s, expected %s", ref,
		            from_reg ? jobreg_job_class_path(from_reg) : "nothing", jobreg_job_class_path(only));
		FUZZ_ASSERT(from_snap == only, "snapshot_resolve('%s') found another job", ref);
	} else {
		FUZZ_ASSERT(message[0] != '\0', "resolve('%s') failed without a message", ref);
	}
	if (expected == JOBREG_EAMBIGUOUS) {
		for (i = 0; i < jobreg_snapshot_job_count(snap); i++) {
			const jobreg_job *job = jobreg_snapshot_job(snap, i);
			if (short_form_is(job, ref))
				FUZZ_ASSERT(strstr(message, jobreg_job_class_path(job)) != NULL,
				            "the ambiguity message does not list candidate %s: %s",
				            jobreg_job_class_path(job), message);
		}
	}
	jobreg_job_free(from_reg);
	free(ref);
	return 0;
}
