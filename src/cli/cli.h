/* cli.h: what the files of the jobreg command share. */
#ifndef JOBREG_CLI_H
#define JOBREG_CLI_H

#include <stdio.h>

#include <jobreg.h>
#include <jobreg/config.h>
#include <jobreg/records.h>

/* Exit statuses (SPEC 6). */
#define EXIT_OK 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_LOAD_ERRORS 3

#define DEFAULT_CONFIG "jobreg.yaml"

/* The command line, parsed. */
struct cli_args {
	const char *config;    /* -c FILE */
	int json;              /* --json */
	int offline;           /* --offline */
	int full;              /* --full */
	int force;             /* --force */
	const char *installed; /* --installed yes|no|all */
	const char *data;      /* --data JSON */
	const char *context;   /* --context JSON (run) */
	const char *files_dir; /* --files DIR (run) */
	const char *status;    /* --status S (runs): one of the four run statuses */
	size_t limit;          /* --limit N (runs); 0: no limit */
	const char *positional[2];
	int positional_count;
};

/* Messages: "jobreg: ..." on stderr. Each returns the exit status to use. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The library's last error as the reason, after an optional "what: " prefix. */
int cli_fail_library(const char *what);
int cli_usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Read the configuration; a bad one is reported with file:line:column. */
int cli_open_config(jobreg_config **out, const char *path);

/*
 * Open the SQLite storage at the configured database. `create`: make the
 * parent folder and the file when missing (sync); otherwise a missing
 * database leaves `*out` NULL and returns 0 (nothing synced yet).
 */
int cli_open_storage(jobreg_storage **out, const jobreg_config *cfg, int create);

/* The record that REF names: an id, a class path, or a short form. */
int cli_find_record(jobreg_record **out, jobreg_storage *st, const char *ref);

struct cli_git;

/* jobreg_init() with the configured python_path and nautobot_compat. */
int cli_start_python(const jobreg_config *cfg);

/*
 * A registry of the configured jobs root, apps and git repositories, loaded
 * as they are on disk (nothing fetched) when `load` is set. `*git` keeps
 * what the git sources need (free it with cli_git_free() after the
 * registry). `offline`: the git token variables are not needed. Returns 0
 * or an exit status.
 */
int cli_make_registry(jobreg_registry **out, struct cli_git **git, const jobreg_config *cfg,
                      const char *config_path, int offline, int load);

/*
 * Output. Everything the command prints for its caller (the --json document,
 * lists, reports, help) goes to cli_out, a copy of the standard output that
 * main() makes before anything runs; file descriptor 1 then points at
 * stderr, so what job code writes to its stdout (print(), os.write(1, ...),
 * printf() in a C extension) lands among the diagnostics and never in the
 * command's output. Never write to stdout or with printf()/puts().
 */
extern FILE *cli_out;

void json_put_string(FILE *f, const char *s);
/* "Name (class.path)" of a record, for one-line reports. */
void print_record_label(FILE *f, const jobreg_record *rec);
void print_record_list(FILE *f, const jobreg_record_list *list, int show_installed);
void print_record(FILE *f, const jobreg_record *rec);

/* The commands. Each returns the exit status. */
int cmd_sync(const struct cli_args *args);
int cmd_list(const struct cli_args *args);
int cmd_errors(const struct cli_args *args);
int cmd_show(const struct cli_args *args);
int cmd_enable(const struct cli_args *args);
int cmd_disable(const struct cli_args *args);
int cmd_delete(const struct cli_args *args);
int cmd_migrate_source(const struct cli_args *args);
int cmd_run(const struct cli_args *args);
int cmd_runs(const struct cli_args *args);

#endif
