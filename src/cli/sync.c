/*
 * sync.c: `jobreg sync`: fetch the git repositories, load the sources that
 * changed since the last sync, refresh the records, report.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "git_sources.h"

/* What one sync did, for either report. */
struct outcome {
	const jobreg_snapshot *snap;
	const jobreg_refresh_result *res;
	const struct cli_git *git; /* the commits it refused, with their errors */
};

typedef size_t (*count_fn)(const jobreg_refresh_result *);
typedef const char *(*item_fn)(const jobreg_refresh_result *, size_t);

static void json_class_paths(FILE *f, const jobreg_refresh_result *res, count_fn count,
                             item_fn item)
{
	size_t i, n = count(res);

	fputc('[', f);
	for (i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		json_put_string(f, item(res, i));
	}
	fputc(']', f);
}

static void json_field(FILE *f, const char *name, const char *value, int last)
{
	fprintf(f, "\"%s\": ", name);
	json_put_string(f, value);
	fputs(last ? "" : ", ", f);
}

static void json_error(FILE *f, const jobreg_load_error *err, int first)
{
	int line = jobreg_load_error_line(err);

	fputs(first ? "{" : ", {", f);
	json_field(f, "source", jobreg_load_error_source(err), 0);
	json_field(f, "module", jobreg_load_error_module(err), 0);
	json_field(f, "file", jobreg_load_error_file(err), 0);
	/* 0 means "unknown" in the library: null says so in JSON. */
	if (line > 0)
		fprintf(f, "\"line\": %d, ", line);
	else
		fputs("\"line\": null, ", f);
	json_field(f, "type", jobreg_load_error_type(err), 0);
	json_field(f, "message", jobreg_load_error_message(err), 0);
	json_field(f, "traceback", jobreg_load_error_traceback(err), 1);
	fputc('}', f);
}

static void report_json(FILE *f, const struct outcome *o)
{
	size_t i, j, written = 0, n = jobreg_snapshot_load_error_count(o->snap);
	const char *slug, *commit;
	const jobreg_snapshot *refused;

	fputs("{\"created\": ", f);
	json_class_paths(f, o->res, jobreg_refresh_result_created_count, jobreg_refresh_result_created);
	fputs(", \"updated\": ", f);
	json_class_paths(f, o->res, jobreg_refresh_result_updated_count, jobreg_refresh_result_updated);
	fputs(", \"uninstalled\": ", f);
	json_class_paths(f, o->res, jobreg_refresh_result_uninstalled_count,
	                 jobreg_refresh_result_uninstalled);
	fprintf(f, ", \"unchanged\": %zu, \"errors\": [", jobreg_refresh_result_unchanged(o->res));
	for (i = 0; i < n; i++)
		json_error(f, jobreg_snapshot_load_error(o->snap, i), written++ == 0);
	/* A refused commit is not loaded, but its errors are why: without
	 * them a refused first clone would only say "no checkout". */
	for (i = 0; i < cli_git_count(o->git); i++) {
		if (!(refused = cli_git_refused(o->git, i, &slug, &commit)))
			continue;
		for (j = 0; j < jobreg_snapshot_load_error_count(refused); j++)
			json_error(f, jobreg_snapshot_load_error(refused, j), written++ == 0);
	}
	fputs("]}\n", f);
}

static void section(FILE *f, const char *title, const jobreg_refresh_result *res, count_fn count,
                    item_fn item)
{
	size_t i, n = count(res);

	if (!n)
		return;
	fprintf(f, "%s:\n", title);
	for (i = 0; i < n; i++)
		fprintf(f, "  %s\n", item(res, i));
}

/* "file:line: Type: message (module m)" */
static void print_load_error(FILE *f, const jobreg_load_error *err)
{
	const char *file = jobreg_load_error_file(err);
	const char *module = jobreg_load_error_module(err);
	const char *source = jobreg_load_error_source(err);
	int line = jobreg_load_error_line(err);

	fputs("  ", f);
	if (*file)
		fprintf(f, line > 0 ? "%s:%d: " : "%s: ", file, line);
	fprintf(f, "%s: %s", jobreg_load_error_type(err), jobreg_load_error_message(err));
	if (*module)
		fprintf(f, " (module %s)", module);
	else if (*source)
		fprintf(f, " (source %s)", source);
	fputc('\n', f);
}

static void report_text(FILE *f, const struct outcome *o)
{
	const jobreg_refresh_result *res = o->res;
	size_t i, errors = jobreg_snapshot_load_error_count(o->snap);

	section(f, "Created", res, jobreg_refresh_result_created_count, jobreg_refresh_result_created);
	section(f, "Updated", res, jobreg_refresh_result_updated_count, jobreg_refresh_result_updated);
	section(f, "Uninstalled", res, jobreg_refresh_result_uninstalled_count,
	        jobreg_refresh_result_uninstalled);
	if (errors) {
		fputs("Load errors:\n", f);
		for (i = 0; i < errors; i++)
			print_load_error(f, jobreg_snapshot_load_error(o->snap, i));
	}
	for (i = 0; i < cli_git_count(o->git); i++) {
		const jobreg_snapshot *refused;
		const char *slug, *commit;
		size_t j;

		if (!(refused = cli_git_refused(o->git, i, &slug, &commit)))
			continue;
		fprintf(f, "Load errors of commit %.12s of git repository '%s' (refused, not loaded):\n",
		        commit, slug);
		for (j = 0; j < jobreg_snapshot_load_error_count(refused); j++)
			print_load_error(f, jobreg_snapshot_load_error(refused, j));
	}
	if (jobreg_refresh_result_skipped_count(res)) {
		size_t n = jobreg_refresh_result_skipped_count(res);
		fprintf(f, "%zu source%s unchanged since the last sync, not imported (--full imports %s)\n",
		        n, n == 1 ? "" : "s", n == 1 ? "it" : "them");
	}
	fprintf(f, "%zu created, %zu updated, %zu uninstalled, %zu unchanged, %zu load error%s\n",
	        jobreg_refresh_result_created_count(res), jobreg_refresh_result_updated_count(res),
	        jobreg_refresh_result_uninstalled_count(res), jobreg_refresh_result_unchanged(res),
	        errors, errors == 1 ? "" : "s");
}

int cmd_sync(const struct cli_args *args)
{
	jobreg_config *cfg = NULL;
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap = NULL;
	jobreg_storage *st = NULL;
	jobreg_refresh_result *res = NULL;
	struct cli_git *git = NULL;
	jobreg_sync_options sync_opts = JOBREG_SYNC_OPTIONS_INIT;
	struct outcome outcome;
	int rc, python = 0;
	size_t errors, git_failed = 0;

	/* Nothing is written before the configuration is known to be good. */
	if ((rc = cli_open_config(&cfg, args->config)) != 0)
		return rc;
	if ((rc = cli_start_python(cfg)) != 0)
		goto out;
	python = 1;
	if ((rc = cli_make_registry(&reg, &git, cfg, args->config, args->offline, 0)) != 0)
		goto out;
	/* Each repository moves alone; one that fails stays as it was. The
	 * first one imports every source (the registry is new), so the sync
	 * below then imports nothing more. */
	if (!args->offline && (rc = cli_git_sync(git, reg, &git_failed)) != 0)
		goto out;
	if ((rc = cli_open_storage(&st, cfg, 1)) != 0)
		goto out;
	sync_opts.full = args->full;
	if (jobreg_registry_sync(&res, reg, st, &sync_opts) < 0) {
		rc = cli_fail_library("sync");
		goto out;
	}
	if (jobreg_registry_snapshot(&snap, reg) < 0) {
		rc = cli_fail_library(NULL);
		goto out;
	}
	if ((rc = cli_git_record_heads(git, st)) != 0)
		goto out;
	outcome.snap = snap;
	outcome.res = res;
	outcome.git = git;
	if (args->json)
		report_json(cli_out, &outcome);
	else
		report_text(cli_out, &outcome);
	errors = jobreg_snapshot_load_error_count(snap);
	if (errors) {
		const jobreg_load_error *first = jobreg_snapshot_load_error(snap, 0);
		const char *file = jobreg_load_error_file(first);
		int line = jobreg_load_error_line(first);

		fflush(cli_out);
		fprintf(stderr, "jobreg: %zu load error%s, the first in ", errors, errors == 1 ? "" : "s");
		if (!*file)
			fprintf(stderr, "source '%s'", jobreg_load_error_source(first));
		else if (line > 0)
			fprintf(stderr, "%s:%d", file, line);
		else
			fputs(file, stderr);
		fprintf(stderr, " (%s); everything else was refreshed\n", jobreg_load_error_type(first));
		rc = EXIT_LOAD_ERRORS;
	}
	if (git_failed)
		rc = EXIT_FAILED;
out:
	jobreg_refresh_result_free(res);
	jobreg_storage_free(st);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
	cli_git_free(git);
	if (python)
		jobreg_shutdown();
	jobreg_config_free(cfg);
	return rc;
}
