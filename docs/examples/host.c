/*
 * host.c: a complete libjobreg host, the example of docs/host-in-c.md.
 *
 *   example_host EXAMPLES_DIR DATABASE
 *
 * Loads the jobs root EXAMPLES_DIR/jobs and the app `my_app` (found on
 * EXAMPLES_DIR/lib), keeps the job records in the SQLite file DATABASE,
 * enables one job and runs it. Built (and run) with every build, so that
 * the guide's code never stops compiling.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jobreg.h>
#include <jobreg/sys/storage.h> /* jobreg_storage_error_set(): a callback's message */

/* Print the calling thread's last libjobreg error and fail. */
static int fail(const char *what)
{
	const jobreg_error *err = jobreg_error_last();

	fprintf(stderr, "%s: %s (%s)\n", what, err->message, jobreg_error_name(err->code));
	return 1;
}

/* Where `self.logger` records of a running job go: here, to stderr. */
static void log_line(int level, const char *level_name, const char *message,
                     const char *extra_json, void *payload)
{
	(void)level;
	(void)extra_json;
	fprintf(stderr, "[%s] %s: %s\n", (const char *)payload, level_name, message);
}

/* Where the files a job creates go: a server stores them; this host names them. */
static int take_file(const char *name, const unsigned char *data, size_t size, void *payload)
{
	(void)data;
	(void)payload;
	if (strchr(name, '/'))
		return jobreg_storage_error_set(JOBREG_EINVAL, "file names may not hold '/'");
	fprintf(stderr, "file %s: %zu bytes\n", name, size);
	return 0;
}

/* The host operations this host serves to the job API: one of them. */
static int host_operation(jobreg_host_reply *reply, const char *operation,
                          const char *args_json, void *payload)
{
	(void)args_json;
	(void)payload;
	if (strcmp(operation, "get_celery_queues") == 0)
		return jobreg_host_reply_set_json(reply, "{\"default\": 1}");
	return JOBREG_ENOTFOUND; /* the job sees LookupError */
}

static void print_load_errors(const jobreg_snapshot *snap)
{
	size_t i;

	for (i = 0; i < jobreg_snapshot_load_error_count(snap); i++) {
		const jobreg_load_error *e = jobreg_snapshot_load_error(snap, i);

		fprintf(stderr, "load error: %s:%d: %s: %s\n", jobreg_load_error_file(e),
		        jobreg_load_error_line(e), jobreg_load_error_type(e),
		        jobreg_load_error_message(e));
	}
}

static void print_refresh(const jobreg_refresh_result *res)
{
	size_t i;

	for (i = 0; i < jobreg_refresh_result_created_count(res); i++)
		printf("created     %s\n", jobreg_refresh_result_created(res, i));
	for (i = 0; i < jobreg_refresh_result_updated_count(res); i++)
		printf("updated     %s\n", jobreg_refresh_result_updated(res, i));
	for (i = 0; i < jobreg_refresh_result_uninstalled_count(res); i++)
		printf("uninstalled %s\n", jobreg_refresh_result_uninstalled(res, i));
	printf("unchanged   %zu\n", jobreg_refresh_result_unchanged(res));
}

/* Load, refresh, enable and run: everything a host does, in order. */
static int serve(jobreg_registry *reg, jobreg_storage *st)
{
	jobreg_snapshot *snap = NULL;
	jobreg_refresh_result *refreshed = NULL;
	jobreg_job *job = NULL;
	jobreg_record *record = NULL;
	jobreg_run_result *result = NULL;
	jobreg_run_options run = JOBREG_RUN_OPTIONS_INIT;
	char *json = NULL;
	int rc = 1;

	/* A module that fails is a load error, not a failed load. */
	if (jobreg_registry_load(reg) < 0)
		return fail("load");
	if (jobreg_registry_snapshot(&snap, reg) < 0)
		return fail("snapshot");
	print_load_errors(snap);
	printf("%zu jobs loaded\n", jobreg_snapshot_job_count(snap));

	/* Bring the records in line: new jobs get records, never enabled. */
	if (jobreg_refresh(&refreshed, st, snap, NULL) < 0) {
		fail("refresh");
		goto out;
	}
	print_refresh(refreshed);

	/* A short form: <app>.jobs.<Class>, unique within the app. */
	if (jobreg_registry_resolve(&job, reg, "my_app.jobs.PurgeStaleInterfaces") < 0) {
		fail("resolve");
		goto out;
	}
	/* Records are found by id or by full class path. */
	if (jobreg_storage_get(&record, st, jobreg_job_class_path(job)) < 0) {
		fail("record");
		goto out;
	}
	/* Enabling is the host's act (an operator's click in a real server). */
	if (jobreg_storage_set_enabled(st, jobreg_record_text(record, JOBREG_FIELD_ID), 1) < 0) {
		fail("enable");
		goto out;
	}
	jobreg_record_free(record);
	record = NULL;
	if (jobreg_storage_get(&record, st, jobreg_job_class_path(job)) < 0) {
		fail("record");
		goto out;
	}

	/* What the job sees as self.user and self.job_result (self.job_model: the record). */
	run.context_json = "{\"user\": {\"username\": \"admin\"}, \"job_result\": {\"id\": \"run-1\"}}";
	run.file = take_file;
	run.host = host_operation;
	run.data_json = "{\"dry_run\": true}";
	run.log = log_line;
	run.log_payload = (void *)jobreg_job_name(job);
	if (jobreg_job_run(&result, job, record, &run) < 0) {
		fail("run"); /* refused: not installed, not enabled, invalid input */
		goto out;
	}
	if (jobreg_run_result_to_json(&json, result) < 0) {
		fail("result");
		goto out;
	}
	printf("%s\n", json);
	rc = jobreg_run_result_status(result) == JOBREG_RUN_SUCCESS ? 0 : 1;
out:
	jobreg_free(json);
	jobreg_run_result_free(result);
	jobreg_record_free(record);
	jobreg_job_free(job);
	jobreg_refresh_result_free(refreshed);
	jobreg_snapshot_free(snap);
	return rc;
}

int main(int argc, char **argv)
{
	char jobs_root[4096], lib[4096];
	const char *python_path[1] = { lib };
	jobreg_init_options init = JOBREG_INIT_OPTIONS_INIT;
	jobreg_registry_options options = JOBREG_REGISTRY_OPTIONS_INIT;
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;
	jobreg_storage *st = NULL;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s EXAMPLES_DIR DATABASE\n", argv[0]);
		return 2;
	}
	snprintf(jobs_root, sizeof(jobs_root), "%s/jobs", argv[1]);
	snprintf(lib, sizeof(lib), "%s/lib", argv[1]);

	/* Starts an embedded CPython, or borrows the one already running. */
	init.python_path = python_path;
	init.python_path_count = 1;
	if (jobreg_init(&init) < 0)
		return fail("init");

	options.import_timeout_ms = 30000;
	if (jobreg_registry_new(&reg, &options) < 0) {
		rc = fail("registry");
		goto out;
	}
	/* A source belongs to the registry once added; free it only on error. */
	if (jobreg_source_dir_new(&src, jobs_root) < 0 || jobreg_registry_add_source(reg, src) < 0) {
		jobreg_source_free(src);
		rc = fail("jobs root");
		goto out;
	}
	src = NULL; /* the registry's now */
	if (jobreg_source_app_new(&src, "my_app") < 0 || jobreg_registry_add_source(reg, src) < 0) {
		jobreg_source_free(src);
		rc = fail("app");
		goto out;
	}
	if (jobreg_storage_sqlite_open(&st, argv[2], NULL) < 0) {
		rc = fail("database");
		goto out;
	}
	rc = serve(reg, st);
out:
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
	jobreg_shutdown(); /* after every registry, snapshot and job is freed */
	return rc;
}
