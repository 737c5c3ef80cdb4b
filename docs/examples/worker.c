/*
 * worker.c: one step of a worker process, the example of docs/workers.md.
 *
 *   example_worker CONFIG REF [DATA_JSON]
 *
 * Reads a jobreg.yaml (the same keys as the jobreg command's), opens the
 * SQLite database it names, which a syncer (`jobreg sync`, or any host
 * calling jobreg_git_sync() / jobreg_registry_sync()) keeps up to date, and
 * runs the job REF the way a worker does before every job: move each git
 * checkout to the head the last sync recorded, reload what changed, read
 * the job's record, run. It never fetches a branch tip and never refreshes
 * records: that is the syncer's work. Built (and run) with every build.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jobreg.h>

static int fail(const char *what)
{
	fprintf(stderr, "worker: %s: %s\n", what, jobreg_error_last()->message);
	return 1;
}

static void log_line(int level, const char *level_name, const char *message,
                     const char *extra_json, void *payload)
{
	(void)level;
	(void)extra_json;
	(void)payload;
	fprintf(stderr, "%s: %s\n", level_name, message);
}

/* A repository's token, read from the environment when a server asks. */
static int give_token(jobreg_git_credential *out, const char *url, const char *username,
                      unsigned int allowed, void *payload)
{
	const char *token = payload ? getenv((const char *)payload) : NULL;

	(void)url;
	(void)username;
	if (!token || !(allowed & JOBREG_GIT_CREDENTIAL_USERPASS))
		return 1; /* none: the transfer fails with JOBREG_EAUTH */
	return jobreg_git_credential_set_token(out, token);
}

/* The configured sources, added to `reg`. */
static int add_sources(jobreg_registry *reg, const jobreg_config *cfg)
{
	jobreg_source *src = NULL;
	size_t i;

	if (jobreg_config_jobs_root(cfg) &&
	    (jobreg_source_dir_new(&src, jobreg_config_jobs_root(cfg)) < 0 ||
	     jobreg_registry_add_source(reg, src) < 0))
		goto failed;
	for (i = 0; i < jobreg_config_app_count(cfg); i++) {
		src = NULL;
		if (jobreg_source_app_new(&src, jobreg_config_app(cfg, i)) < 0 ||
		    jobreg_registry_add_source(reg, src) < 0)
			goto failed;
	}
	for (i = 0; i < jobreg_config_git_repository_count(cfg); i++) {
		jobreg_git_options opts = JOBREG_GIT_OPTIONS_INIT;

		opts.slug = jobreg_config_git_repository_slug(cfg, i);
		opts.remote_url = jobreg_config_git_repository_remote_url(cfg, i);
		opts.branch = jobreg_config_git_repository_branch(cfg, i);
		opts.git_root = jobreg_config_git_root(cfg); /* this worker's own checkouts */
		opts.credentials = give_token;
		opts.payload = (void *)jobreg_config_git_repository_token_env(cfg, i);
		src = NULL;
		/* The repository's own "1.x"/"2.x", or DEFAULT: as jobreg_init said. */
		if (jobreg_source_git_new(&src, &opts) < 0 ||
		    jobreg_source_set_nautobot_compat(
		        src, jobreg_config_git_repository_nautobot_compat(cfg, i)) < 0 ||
		    jobreg_registry_add_source(reg, src) < 0)
			goto failed;
	}
	return 0;
failed:
	jobreg_source_free(src);
	return fail("sources");
}

/* Every git checkout at the head the last sync recorded; nothing else moves. */
static int ensure_recorded_heads(jobreg_registry *reg, jobreg_storage *st)
{
	size_t i;

	for (i = 0; i < jobreg_registry_source_count(reg); i++) {
		jobreg_source *src = jobreg_registry_source(reg, i);
		char head[JOBREG_GIT_HEAD_SIZE];
		int moved = 0, rc;

		if (jobreg_source_type(src) != JOBREG_SOURCE_GIT)
			continue;
		rc = jobreg_git_ensure_recorded_head(&moved, reg, src, st);
		if (rc == JOBREG_ENOTFOUND) {
			/* Never synced yet: nothing recorded to follow. */
			fprintf(stderr, "worker: %s\n", jobreg_error_last()->message);
			continue;
		}
		if (rc < 0)
			return fail(jobreg_source_name(src));
		if (jobreg_source_git_head(head, src) == 0)
			printf("%s: %s %.12s\n", jobreg_source_name(src), moved ? "moved to" : "stays at",
			       head);
	}
	return 0;
}

static int run_job(jobreg_registry *reg, jobreg_storage *st, const char *ref, const char *data)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	jobreg_run_result *result = NULL;
	char *json = NULL;
	int rc;

	/* Changed jobs roots and apps, and sources never imported yet. */
	if (jobreg_registry_reload(reg) < 0)
		return fail("reload");
	/* The record is read now: a job disabled a moment ago is refused. */
	opts.data_json = data;
	opts.log = log_line;
	/* Stored as STARTED now, and with its end and its commit when it returns. */
	opts.run_storage = st;
	if (jobreg_run(&result, reg, st, ref, &opts) < 0)
		return fail(ref);
	fprintf(stderr, "run %s\n", jobreg_run_result_run_id(result));
	if (jobreg_run_result_to_json(&json, result) < 0) {
		jobreg_run_result_free(result);
		return fail("result");
	}
	printf("%s\n", json);
	rc = jobreg_run_result_status(result) == JOBREG_RUN_SUCCESS ? 0 : 1;
	jobreg_free(json);
	jobreg_run_result_free(result);
	return rc;
}

int main(int argc, char **argv)
{
	jobreg_init_options init = JOBREG_INIT_OPTIONS_INIT;
	jobreg_registry_options options = JOBREG_REGISTRY_OPTIONS_INIT;
	jobreg_config *cfg = NULL;
	jobreg_registry *reg = NULL;
	jobreg_storage *st = NULL;
	const char **paths = NULL;
	size_t i;
	int rc = 1;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s CONFIG REF [DATA_JSON]\n", argv[0]);
		return 2;
	}
	if (jobreg_config_load(&cfg, argv[1]) < 0)
		return fail("config");
	paths = calloc(jobreg_config_python_path_count(cfg) + 1, sizeof(*paths));
	if (!paths) {
		jobreg_config_free(cfg);
		return 1;
	}
	for (i = 0; i < jobreg_config_python_path_count(cfg); i++)
		paths[i] = jobreg_config_python_path(cfg, i);
	init.python_path = paths;
	init.python_path_count = jobreg_config_python_path_count(cfg);
	/* 0, 1 or JOBREG_COMPAT_1X: the very values of jobreg_init_options. */
	init.nautobot_compat = jobreg_config_nautobot_compat(cfg);
	if (jobreg_init(&init) < 0) {
		free(paths);
		jobreg_config_free(cfg);
		return fail("init");
	}
	options.import_timeout_ms = (unsigned int)(jobreg_config_import_timeout(cfg) * 1000);
	/* The database the syncer keeps up to date. */
	if (jobreg_storage_sqlite_open(&st, jobreg_config_database(cfg), NULL) < 0)
		rc = fail("database");
	else if (jobreg_registry_new(&reg, &options) < 0)
		rc = fail("registry");
	else if (add_sources(reg, cfg) == 0 && ensure_recorded_heads(reg, st) == 0)
		rc = run_job(reg, st, argv[2], argc == 4 ? argv[3] : NULL);
	jobreg_registry_free(reg);
	jobreg_storage_free(st);
	jobreg_shutdown();
	free(paths);
	jobreg_config_free(cfg);
	return rc;
}
