/* records.c: list, show, enable, disable, delete, migrate-source: the stored records;
 * errors: the stored load errors. */
#include <string.h>

#include "cli.h"

/*
 * The configuration and the existing storage. A database that does not
 * exist yet is no error here: `*st` is NULL and nothing is created.
 */
static int open_existing(jobreg_config **cfg, jobreg_storage **st, const struct cli_args *args)
{
	int rc;

	*st = NULL;
	if ((rc = cli_open_config(cfg, args->config)) != 0)
		return rc;
	if ((rc = cli_open_storage(st, *cfg, 0)) != 0) {
		jobreg_config_free(*cfg);
		*cfg = NULL;
	}
	return rc;
}

static int no_database(const jobreg_config *cfg, const char *ref)
{
	return cli_fail("no job record matches '%s': there is no database at %s yet (run "
	                "'jobreg sync' first)",
	                ref, jobreg_config_database(cfg));
}

static void close_all(jobreg_config *cfg, jobreg_storage *st, jobreg_record *rec)
{
	jobreg_record_free(rec);
	jobreg_storage_free(st);
	jobreg_config_free(cfg);
}

/* Open, then find the record REF names. */
static int open_record(jobreg_config **cfg, jobreg_storage **st, jobreg_record **rec,
                       const struct cli_args *args)
{
	const char *ref = args->positional[0];
	int rc;

	*rec = NULL;
	if ((rc = open_existing(cfg, st, args)) != 0)
		return rc;
	rc = *st ? cli_find_record(rec, *st, ref) : no_database(*cfg, ref);
	if (rc != 0) {
		close_all(*cfg, *st, NULL);
		*cfg = NULL;
		*st = NULL;
	}
	return rc;
}

int cmd_list(const struct cli_args *args)
{
	jobreg_config *cfg = NULL;
	jobreg_storage *st = NULL;
	jobreg_record_list *list = NULL;
	jobreg_installed_filter which = strcmp(args->installed, "all") == 0  ? JOBREG_INSTALLED_ALL
	                                : strcmp(args->installed, "no") == 0 ? JOBREG_INSTALLED_NO
	                                                                     : JOBREG_INSTALLED_YES;
	char *json = NULL;
	int rc;

	if ((rc = open_existing(&cfg, &st, args)) != 0)
		return rc;
	if (st && jobreg_storage_list(&list, st, which) < 0) {
		rc = cli_fail_library(NULL);
		goto out;
	}
	if (args->json) {
		if (!list) {
			fputs("[]\n", cli_out);
		} else if (jobreg_record_list_to_json(&json, list) < 0) {
			rc = cli_fail_library(NULL);
			goto out;
		} else {
			fprintf(cli_out, "%s\n", json);
		}
	} else if (jobreg_record_list_count(list) == 0) {
		fprintf(cli_out, "No %sjob records%s.\n",
		        which == JOBREG_INSTALLED_YES  ? "installed "
		        : which == JOBREG_INSTALLED_NO ? "uninstalled "
		                                       : "",
		        st ? "" : " yet (run 'jobreg sync')");
	} else {
		print_record_list(cli_out, list, which != JOBREG_INSTALLED_YES);
	}
out:
	jobreg_free(json);
	jobreg_record_list_free(list);
	close_all(cfg, st, NULL);
	return rc;
}

int cmd_show(const struct cli_args *args)
{
	jobreg_config *cfg;
	jobreg_storage *st;
	jobreg_record *rec;
	char *json = NULL;
	int rc;

	if ((rc = open_record(&cfg, &st, &rec, args)) != 0)
		return rc;
	if (!args->json)
		print_record(cli_out, rec);
	else if (jobreg_record_to_json(&json, rec) < 0)
		rc = cli_fail_library(NULL);
	else
		fprintf(cli_out, "%s\n", json);
	jobreg_free(json);
	close_all(cfg, st, rec);
	return rc;
}

static int set_enabled(const struct cli_args *args, int enabled)
{
	jobreg_config *cfg;
	jobreg_storage *st;
	jobreg_record *rec;
	int rc;

	if ((rc = open_record(&cfg, &st, &rec, args)) != 0)
		return rc;
	if (jobreg_storage_set_enabled(st, jobreg_record_text(rec, JOBREG_FIELD_ID), enabled) < 0) {
		rc = cli_fail_library(NULL);
	} else {
		fputs(enabled ? "Enabled " : "Disabled ", cli_out);
		print_record_label(cli_out, rec);
		if (enabled && jobreg_record_bool(rec, JOBREG_FIELD_INSTALLED) != 1)
			fputs("; it is not installed, so it cannot run until a sync installs it again",
			      cli_out);
		fputs(".\n", cli_out);
	}
	close_all(cfg, st, rec);
	return rc;
}

int cmd_enable(const struct cli_args *args)
{
	return set_enabled(args, 1);
}

int cmd_disable(const struct cli_args *args)
{
	return set_enabled(args, 0);
}

int cmd_delete(const struct cli_args *args)
{
	jobreg_config *cfg;
	jobreg_storage *st;
	jobreg_record *rec;
	int rc;

	if ((rc = open_record(&cfg, &st, &rec, args)) != 0)
		return rc;
	rc = jobreg_storage_delete(st, jobreg_record_text(rec, JOBREG_FIELD_ID), args->force);
	if (rc == JOBREG_ESTATE) {
		fputs("jobreg: ", stderr);
		print_record_label(stderr, rec);
		fputs(" is installed: the next sync would create it again; use --force to delete it "
		      "anyway\n",
		      stderr);
		rc = EXIT_FAILED;
	} else if (rc < 0) {
		rc = cli_fail_library(NULL);
	} else {
		fputs("Deleted ", cli_out);
		print_record_label(cli_out, rec);
		fprintf(cli_out, ", id %s.\n", jobreg_record_text(rec, JOBREG_FIELD_ID));
	}
	close_all(cfg, st, rec);
	return rc;
}

int cmd_migrate_source(const struct cli_args *args)
{
	const char *old_name = args->positional[0], *new_name = args->positional[1];
	jobreg_config *cfg;
	jobreg_storage *st;
	size_t moved = 0;
	int rc;

	if ((rc = open_existing(&cfg, &st, args)) != 0)
		return rc;
	if (!st)
		rc = cli_fail("no records of source '%s': there is no database at %s yet", old_name,
		              jobreg_config_database(cfg));
	else if (jobreg_storage_migrate_source(&moved, st, old_name, new_name) < 0)
		rc = cli_fail_library(NULL);
	else
		fprintf(cli_out, "Moved %zu record%s from source '%s' to '%s'.\n", moved,
		        moved == 1 ? "" : "s", old_name, new_name);
	close_all(cfg, st, NULL);
	return rc;
}

/* ---- errors: the load errors the last refresh of each source stored ---- */

static void print_errors_json(FILE *f, const jobreg_load_error_list *list)
{
	static const char *const names[] = { "source_type", "source",  "module",    "file",
		                                 "type",        "message", "traceback", "when" };
	const char *(*const getters[])(const jobreg_load_error_list *, size_t) = {
		jobreg_load_error_list_source_type, jobreg_load_error_list_source,
		jobreg_load_error_list_module,      jobreg_load_error_list_file,
		jobreg_load_error_list_type,        jobreg_load_error_list_message,
		jobreg_load_error_list_traceback,   jobreg_load_error_list_when,
	};
	size_t i, k;

	fputc('[', f);
	for (i = 0; i < jobreg_load_error_list_count(list); i++) {
		fputs(i ? ",\n {" : "\n {", f);
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			fprintf(f, "%s\"%s\": ", k ? ", " : "", names[k]);
			json_put_string(f, getters[k](list, i));
			if (k == 3)
				fprintf(f, ", \"line\": %d", jobreg_load_error_list_line(list, i));
		}
		fputc('}', f);
	}
	fputs(i ? "\n]\n" : "]\n", f);
}

static void print_errors(FILE *f, const jobreg_load_error_list *list)
{
	size_t i, n = jobreg_load_error_list_count(list);

	fprintf(f, "%zu load error%s stored by the last refresh of each source:\n", n,
	        n == 1 ? "" : "s");
	for (i = 0; i < n; i++) {
		const char *source = jobreg_load_error_list_source(list, i);
		const char *file = jobreg_load_error_list_file(list, i);
		int line = jobreg_load_error_list_line(list, i);

		fprintf(f, "\n%s%s%s: %s", jobreg_load_error_list_source_type(list, i), *source ? " " : "",
		        source, jobreg_load_error_list_module(list, i));
		if (*file && line > 0)
			fprintf(f, " (%s:%d)", file, line);
		else if (*file)
			fprintf(f, " (%s)", file);
		fprintf(f, ", at %s\n  %s: %s\n", jobreg_load_error_list_when(list, i),
		        jobreg_load_error_list_type(list, i), jobreg_load_error_list_message(list, i));
	}
}

int cmd_errors(const struct cli_args *args)
{
	jobreg_config *cfg = NULL;
	jobreg_storage *st = NULL;
	jobreg_load_error_list *list = NULL;
	int rc;

	if ((rc = open_existing(&cfg, &st, args)) != 0)
		return rc;
	if (st && jobreg_storage_load_errors(&list, st, NULL) < 0) {
		rc = cli_fail_library(NULL);
	} else if (args->json) {
		print_errors_json(cli_out, list);
	} else if (jobreg_load_error_list_count(list) == 0) {
		fprintf(cli_out, "No load errors stored%s.\n", st ? "" : " yet (run 'jobreg sync')");
	} else {
		print_errors(cli_out, list);
	}
	jobreg_load_error_list_free(list);
	close_all(cfg, st, NULL);
	return rc;
}
