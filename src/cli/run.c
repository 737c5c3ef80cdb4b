/*
 * run.c: `jobreg run REF [--data JSON] [--json]` (SPEC 5 and 6).
 *
 * The sources are loaded as they are on disk (nothing is fetched: a worker
 * runs the code it has; `jobreg sync` moves it). The job's record decides
 * whether it may run. Log lines go to stderr as they happen; the outcome to
 * stdout. Exit 0 only for a successful run.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "git_sources.h"

static void log_to_stderr(int level, const char *level_name, const char *message,
                          const char *extra_json, void *payload)
{
	(void)level;
	(void)payload;
	if (strcmp(extra_json, "{}") == 0)
		fprintf(stderr, "%s: %s\n", level_name, message);
	else
		fprintf(stderr, "%s: %s %s\n", level_name, message, extra_json);
	fflush(stderr);
}

static int report(const jobreg_run_result *res, int json)
{
	int ok = jobreg_run_result_status(res) == JOBREG_RUN_SUCCESS;

	if (json) {
		char *text = NULL;

		if (jobreg_run_result_to_json(&text, res) < 0)
			return cli_fail_library(NULL);
		printf("%s\n", text);
		jobreg_free(text);
	} else if (ok) {
		printf("%s\n", jobreg_run_result_json(res));
	} else {
		fputs(jobreg_run_result_traceback(res), stderr);
	}
	if (!ok)
		return cli_fail("the job failed: %s: %s", jobreg_run_result_error_type(res),
		                jobreg_run_result_error_message(res));
	return EXIT_OK;
}

int cmd_run(const struct cli_args *args)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_config *cfg = NULL;
	jobreg_registry *reg = NULL;
	jobreg_storage *st = NULL;
	jobreg_record *record = NULL;
	jobreg_job *job = NULL;
	jobreg_run_result *res = NULL;
	struct cli_git *git = NULL;
	const char *ref = args->positional[0];
	int rc, python = 0;

	if ((rc = cli_open_config(&cfg, args->config)) != 0)
		return rc;
	if ((rc = cli_open_storage(&st, cfg, 0)) != 0)
		goto out;
	if (!st) {
		rc = cli_fail("no job records yet: run 'jobreg sync' first");
		goto out;
	}
	/* The record first: an id or a short form names the job too. */
	if ((rc = cli_find_record(&record, st, ref)) != 0)
		goto out;
	if ((rc = cli_start_python(cfg)) != 0)
		goto out;
	python = 1;
	if ((rc = cli_make_registry(&reg, &git, cfg, args->config, 1, 1)) != 0)
		goto out;
	if (jobreg_registry_resolve(&job, reg, jobreg_record_text(record, JOBREG_FIELD_CLASS_PATH)) < 0) {
		rc = cli_fail_library(NULL);
		goto out;
	}
	opts.data_json = args->data;
	opts.log = log_to_stderr;
	if (jobreg_job_run(&res, job, record, &opts) < 0) {
		rc = cli_fail_library(NULL);
		goto out;
	}
	rc = report(res, args->json);
out:
	jobreg_run_result_free(res);
	jobreg_job_free(job);
	jobreg_record_free(record);
	jobreg_registry_free(reg);
	cli_git_free(git);
	jobreg_storage_free(st);
	if (python)
		jobreg_shutdown();
	jobreg_config_free(cfg);
	return rc;
}
