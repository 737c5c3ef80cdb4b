/*
 * runs.c: `jobreg runs [REF] [--status S] [--limit N] [--json]`: the run
 * records that `jobreg run` (and any host) stored, newest first.
 *
 * Nothing is loaded: REF is found among the records as `show` finds it,
 * and an id of a record deleted since still names its runs.
 */
#include <string.h>

#include "cli.h"

/* How many hex digits of a code version the text listing shows (as git does). */
#define CODE_VERSION_SHOWN 12

static int width_of(const char *s)
{
	int n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static void print_runs_json(FILE *f, const jobreg_run_list *list)
{
	/* The result stays JSON text in a string: what a database holds is not trusted to be JSON. */
	static const char *const names[] = {
		"id",           "job_id",        "class_path", "source_type", "source",
		"code_version", "status",        "started",    "finished",    "result_json",
		"error_type",   "error_message", "host_json",
	};
	const char *(*const getters[])(const jobreg_run_list *, size_t) = {
		jobreg_run_list_id,          jobreg_run_list_job_id,     jobreg_run_list_class_path,
		jobreg_run_list_source_type, jobreg_run_list_source,     jobreg_run_list_code_version,
		jobreg_run_list_status,      jobreg_run_list_started,    jobreg_run_list_finished,
		jobreg_run_list_result_json, jobreg_run_list_error_type, jobreg_run_list_error_message,
		jobreg_run_list_host_json,
	};
	size_t i, k;

	fputc('[', f);
	for (i = 0; i < jobreg_run_list_count(list); i++) {
		fputs(i ? ",\n {" : "\n {", f);
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			fprintf(f, "%s\"%s\": ", k ? ", " : "", names[k]);
			json_put_string(f, getters[k](list, i));
		}
		fputc('}', f);
	}
	fputs(i ? "\n]\n" : "]\n", f);
}

static void print_runs(FILE *f, const jobreg_run_list *list)
{
	size_t i, n = jobreg_run_list_count(list);
	int path_w = 0, w;

	for (i = 0; i < n; i++)
		if ((w = width_of(jobreg_run_list_class_path(list, i))) > path_w)
			path_w = w;
	for (i = 0; i < n; i++) {
		const char *path = jobreg_run_list_class_path(list, i);
		const char *version = jobreg_run_list_code_version(list, i);
		const char *type = jobreg_run_list_error_type(list, i);

		/* Every status is 7 letters wide; "-": the source could not be read. */
		fprintf(f, "%s  %-7s  %s%*s  %-*.*s  %s\n", jobreg_run_list_started(list, i),
		        jobreg_run_list_status(list, i), path, path_w - width_of(path), "",
		        CODE_VERSION_SHOWN, CODE_VERSION_SHOWN, *version ? version : "-",
		        jobreg_run_list_id(list, i));
		if (*type || *jobreg_run_list_error_message(list, i))
			fprintf(f, "  %s: %s\n", *type ? type : "Error",
			        jobreg_run_list_error_message(list, i));
	}
}

/* The runs that meet `filter` (none is no error); 0 or an exit status. */
static int read_runs(jobreg_run_list **out, jobreg_storage *st, const jobreg_run_filter *filter)
{
	if (jobreg_storage_runs(out, st, filter) < 0)
		return cli_fail_library(NULL);
	return 0;
}

int cmd_runs(const struct cli_args *args)
{
	jobreg_run_filter filter = JOBREG_RUN_FILTER_INIT;
	const char *ref = args->positional_count ? args->positional[0] : NULL;
	jobreg_config *cfg = NULL;
	jobreg_storage *st = NULL;
	jobreg_record *rec = NULL;
	jobreg_run_list *list = NULL;
	int rc;

	filter.status = args->status;
	filter.limit = args->limit;
	if ((rc = cli_open_config(&cfg, args->config)) != 0)
		return rc;
	if ((rc = cli_open_storage(&st, cfg, 0)) != 0)
		goto out;
	if (st && ref) {
		rc = jobreg_storage_get(&rec, st, ref);
		if (rc == JOBREG_ENOTFOUND) {
			/* The id of a record deleted since still names its runs. */
			filter.job_id = ref;
			if ((rc = read_runs(&list, st, &filter)) != 0)
				goto out;
			if (jobreg_run_list_count(list) == 0) {
				jobreg_run_list_free(list);
				list = NULL;
				/* A short form, else "no record matches" naming REF. */
				if ((rc = cli_find_record(&rec, st, ref)) != 0)
					goto out;
			}
		} else if (rc < 0) {
			rc = cli_fail_library(NULL);
			goto out;
		}
		rc = 0;
		if (rec)
			filter.job_id = jobreg_record_text(rec, JOBREG_FIELD_ID);
	} else if (ref) {
		rc = cli_fail("no job record matches '%s': there is no database at %s yet (run "
		              "'jobreg sync' first)",
		              ref, jobreg_config_database(cfg));
		goto out;
	}
	if (st && !list && (rc = read_runs(&list, st, &filter)) != 0)
		goto out;
	if (args->json)
		print_runs_json(cli_out, list);
	else if (jobreg_run_list_count(list) == 0)
		fprintf(cli_out, "No runs recorded%s.\n", st ? "" : " yet (run 'jobreg sync')");
	else
		print_runs(cli_out, list);
out:
	jobreg_run_list_free(list);
	jobreg_record_free(rec);
	jobreg_storage_free(st);
	jobreg_config_free(cfg);
	return rc;
}
