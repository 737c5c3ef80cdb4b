/* main.c: the jobreg command: arguments, help, dispatch, exit status. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cli.h"

/* Options a command accepts, besides -c and --help which all accept. */
#define OPT_JSON 0x1
#define OPT_OFFLINE 0x2
#define OPT_FORCE 0x4
#define OPT_INSTALLED 0x8
#define OPT_DATA 0x10
#define OPT_FULL 0x20
#define OPT_CONTEXT 0x40
#define OPT_FILES 0x80
#define OPT_STATUS 0x100
#define OPT_LIMIT 0x200

struct command {
	const char *name;
	unsigned int options;
	int positional_min, positional_max;
	int (*run)(const struct cli_args *args);
	const char *usage;
	const char *summary;
};

static const struct command commands[] = {
	{ "sync", OPT_JSON | OPT_OFFLINE | OPT_FULL, 0, 0, cmd_sync,
	  "sync [--offline] [--full] [--json]",
	  "load the sources that changed and bring the job records in line" },
	{ "list", OPT_JSON | OPT_INSTALLED, 0, 0, cmd_list, "list [--installed yes|no|all] [--json]",
	  "list the job records, grouped by grouping (default: installed ones)" },
	{ "errors", OPT_JSON, 0, 0, cmd_errors, "errors [--json]",
	  "list the load errors stored by the last refresh of each source" },
	{ "show", OPT_JSON, 1, 1, cmd_show, "show REF [--json]",
	  "show one record; REF is a class path, a short form or an id" },
	{ "enable", 0, 1, 1, cmd_enable, "enable REF", "allow a job to run" },
	{ "disable", 0, 1, 1, cmd_disable, "disable REF", "stop a job from running" },
	{ "delete", OPT_FORCE, 1, 1, cmd_delete, "delete REF [--force]",
	  "delete a record (without --force only one that is not installed)" },
	{ "migrate-source", 0, 2, 2, cmd_migrate_source, "migrate-source OLD NEW",
	  "move the records of source OLD to source NEW, keeping ids and enabled" },
	{ "run", OPT_JSON | OPT_DATA | OPT_CONTEXT | OPT_FILES, 1, 1, cmd_run,
	  "run REF [--data JSON] [--context JSON] [--files DIR] [--json]",
	  "run an enabled job with input data (a JSON object); its log goes to stderr, "
	  "its files into DIR" },
	{ "runs", OPT_JSON | OPT_STATUS | OPT_LIMIT, 0, 1, cmd_runs,
	  "runs [REF] [--status S] [--limit N] [--json]",
	  "list the recorded runs, newest first (with REF, only that job's)" },
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

int cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("jobreg: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAILED;
}

int cli_fail_library(const char *what)
{
	if (what)
		return cli_fail("%s: %s", what, jobreg_error_last()->message);
	return cli_fail("%s", jobreg_error_last()->message);
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < COMMAND_COUNT; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
	const struct command *cmd = command ? find_command(command) : NULL;
	va_list ap;

	fputs("jobreg: ", stderr);
	if (command)
		fprintf(stderr, "%s: ", command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd)
		fprintf(stderr, "usage: jobreg [-c FILE] %s\n", cmd->usage);
	else
		fputs("usage: jobreg [-c FILE] COMMAND [ARGS]; see jobreg --help\n", stderr);
	return EXIT_USAGE;
}

static void print_help(FILE *f)
{
	size_t i;

	fputs("usage: jobreg [-c FILE] COMMAND [ARGS]\n"
	      "\n"
	      "Install, load and register jobs, and keep their records in a SQLite or PostgreSQL "
	      "database.\n"
	      "\n"
	      "options:\n"
	      "  -c, --config FILE  the configuration (default ./" DEFAULT_CONFIG ")\n"
	      "  -h, --help         show this help (also after a command)\n"
	      "  --version          show the version\n"
	      "\n"
	      "commands:\n",
	      f);
	for (i = 0; i < COMMAND_COUNT; i++) /* a usage wider than the column: two spaces */
		fprintf(f, "  %-40s %s%s\n", commands[i].usage, strlen(commands[i].usage) >= 40 ? " " : "",
		        commands[i].summary);
	fputs("\n"
	      "exit status: 0 success, 1 failure (the reason is on stderr), 2 bad usage,\n"
	      "3 sync finished but some module failed to load.\n",
	      f);
}

static void print_command_help(const struct command *cmd)
{
	fprintf(cli_out, "usage: jobreg [-c FILE] %s\n\n%c%s.\n", cmd->usage,
	        cmd->summary[0] - 'a' + 'A', cmd->summary + 1);
}

/* The value of "--name VALUE" or "--name=VALUE" at argv[*i]; NULL if not this option. */
static const char *option_value(int argc, char **argv, int *i, const char *name, int *missing)
{
	const char *arg = argv[*i];
	size_t n = strlen(name);

	*missing = 0;
	if (strncmp(arg, name, n) != 0)
		return NULL;
	if (arg[n] == '=')
		return arg + n + 1;
	if (arg[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

/* The run status `name` names (any case), as jobreg/runs.h spells it; NULL for none. */
static const char *run_status_named(const char *name)
{
	static const char *const statuses[] = { JOBREG_RUN_STARTED, JOBREG_RUN_SUCCEEDED,
		                                    JOBREG_RUN_FAILURE, JOBREG_RUN_REVOKED };
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (strcasecmp(name, statuses[i]) == 0)
			return statuses[i];
	return NULL;
}

/* A count >= 1 written in decimal digits only (no sign, no space); -1 otherwise. */
static int parse_limit(size_t *out, const char *text)
{
	unsigned long long n;
	char *end;

	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno || *end || n == 0 || n > SIZE_MAX)
		return -1;
	*out = (size_t)n;
	return 0;
}

/*
 * Parse argv from `start`. `cmd` is NULL while reading the options before
 * the command. Returns -1 to go on, or an exit status.
 */
static int parse_options(struct cli_args *args, const struct command *cmd, int argc, char **argv,
                         int *i, int *help)
{
	const char *name = cmd ? cmd->name : NULL;
	unsigned int allowed = cmd ? cmd->options : 0;
	int only_positional = 0;

	for (; *i < argc; ++*i) {
		const char *arg = argv[*i];
		const char *value;
		int missing;

		if (only_positional || arg[0] != '-' || strcmp(arg, "-") == 0) {
			if (!cmd)
				return -1; /* the command name */
			if (args->positional_count >= cmd->positional_max)
				return cli_usage_error(name, "unexpected argument '%s'", arg);
			args->positional[args->positional_count++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			only_positional = 1;
			continue;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			*help = 1;
			continue;
		}
		if (!cmd && strcmp(arg, "--version") == 0) {
			*help = 2;
			continue;
		}
		value = option_value(argc, argv, i, "--config", &missing);
		if (!value && !missing)
			value = option_value(argc, argv, i, "-c", &missing);
		if (value || missing) {
			if (missing)
				return cli_usage_error(name, "%s needs a file name", arg);
			if (!*value)
				return cli_usage_error(name, "%s needs a file name, not ''", arg);
			args->config = value;
			continue;
		}
		if (strncmp(arg, "-c", 2) == 0 && arg[2] != '-') {
			args->config = arg + 2; /* -cFILE */
			continue;
		}
		if ((allowed & OPT_INSTALLED) &&
		    ((value = option_value(argc, argv, i, "--installed", &missing)) || missing)) {
			if (missing)
				return cli_usage_error(name, "--installed needs yes, no or all");
			if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0 && strcmp(value, "all") != 0)
				return cli_usage_error(name, "--installed must be yes, no or all, not '%s'", value);
			args->installed = value;
			continue;
		}
		if ((allowed & OPT_DATA) &&
		    ((value = option_value(argc, argv, i, "--data", &missing)) || missing)) {
			if (missing)
				return cli_usage_error(name, "--data needs a JSON object");
			args->data = value;
			continue;
		}
		if ((allowed & OPT_CONTEXT) &&
		    ((value = option_value(argc, argv, i, "--context", &missing)) || missing)) {
			if (missing)
				return cli_usage_error(name, "--context needs a JSON object");
			args->context = value;
			continue;
		}
		if ((allowed & OPT_FILES) &&
		    ((value = option_value(argc, argv, i, "--files", &missing)) || missing)) {
			if (missing || !*value)
				return cli_usage_error(name, "--files needs a folder");
			args->files_dir = value;
			continue;
		}
		if ((allowed & OPT_STATUS) &&
		    ((value = option_value(argc, argv, i, "--status", &missing)) || missing)) {
			if (missing || !(args->status = run_status_named(value)))
				return cli_usage_error(name,
				                       "--status needs STARTED, SUCCESS, FAILURE or REVOKED%s%s%s",
				                       missing ? "" : ", not '", missing ? "" : value,
				                       missing ? "" : "'");
			continue;
		}
		if ((allowed & OPT_LIMIT) &&
		    ((value = option_value(argc, argv, i, "--limit", &missing)) || missing)) {
			if (missing || parse_limit(&args->limit, value) < 0)
				return cli_usage_error(name, "--limit needs a whole number of runs >= 1%s%s%s",
				                       missing ? "" : ", not '", missing ? "" : value,
				                       missing ? "" : "'");
			continue;
		}
		if ((allowed & OPT_JSON) && strcmp(arg, "--json") == 0) {
			args->json = 1;
			continue;
		}
		if ((allowed & OPT_OFFLINE) && strcmp(arg, "--offline") == 0) {
			args->offline = 1;
			continue;
		}
		if ((allowed & OPT_FULL) && strcmp(arg, "--full") == 0) {
			args->full = 1;
			continue;
		}
		if ((allowed & OPT_FORCE) && strcmp(arg, "--force") == 0) {
			args->force = 1;
			continue;
		}
		if (!cmd)
			return cli_usage_error(NULL, "unknown option '%s' before the command", arg);
		return cli_usage_error(name, "unknown option '%s'", arg);
	}
	return -1;
}

FILE *cli_out;

/*
 * The command's output goes to a copy of fd 1 (cli_out); fd 1 itself then
 * points at stderr, so that whatever job code writes to its stdout never
 * reaches the command's output (cli.h). When fd 1 cannot be copied (it is
 * closed), the output stays on stdout, whose writes then fail as before.
 */
static void divert_stdout(void)
{
	int fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);

	cli_out = stdout;
	if (fd < 0)
		return;
	if (!(cli_out = fdopen(fd, "w"))) {
		close(fd);
		cli_out = stdout;
		return;
	}
	/* Should this fail, fd 1 keeps the output too: job code's prints mix in, as before. */
	(void)dup2(STDERR_FILENO, STDOUT_FILENO);
}

static int finish(int status)
{
	fflush(stdout); /* what job code printed, now on stderr */
	/* Output that never arrived is a failure, not a success (a full disk, a closed pipe). */
	if (fflush(cli_out) != 0 || ferror(cli_out)) {
		int saved = errno;

		cli_fail("cannot write the output: %s", strerror(saved));
		return status == EXIT_OK ? EXIT_FAILED : status;
	}
	return status;
}

/*
 * Compiling hundreds of job modules frees large blocks at the top of the
 * heap again and again; glibc gives each back to the kernel and takes it
 * again for the next module (hundreds of brk calls and page faults: a
 * fifth of a cold sync). Keeping 16 MiB of slack at the top stops that.
 * A host's choice, so the command makes it, not the library.
 */
static void tune_allocator(void)
{
#ifdef M_TOP_PAD
	mallopt(M_TOP_PAD, 16 << 20);
#endif
}

int main(int argc, char **argv)
{
	struct cli_args args;
	const struct command *cmd;
	int i = 1, help = 0, rc;

	divert_stdout();
	tune_allocator();
	memset(&args, 0, sizeof(args));
	args.config = DEFAULT_CONFIG;
	args.installed = "yes";
	rc = parse_options(&args, NULL, argc, argv, &i, &help);
	if (rc >= 0)
		return rc;
	if (help == 2) {
		fprintf(cli_out, "jobreg %s (libjobreg %s)\n", JOBREG_VERSION,
		        jobreg_version(NULL, NULL, NULL));
		return finish(EXIT_OK);
	}
	if (i >= argc) {
		if (help) {
			print_help(cli_out);
			return finish(EXIT_OK);
		}
		return cli_usage_error(NULL, "no command given");
	}
	cmd = find_command(argv[i]);
	if (!cmd)
		return cli_usage_error(NULL, "unknown command '%s'", argv[i]);
	i++;
	rc = parse_options(&args, cmd, argc, argv, &i, &help);
	if (rc >= 0)
		return rc;
	if (help) {
		print_command_help(cmd);
		return finish(EXIT_OK);
	}
	if (args.positional_count < cmd->positional_min)
		return cli_usage_error(cmd->name, "missing %s",
		                       cmd->positional_min == 2 && args.positional_count == 1 ? "NEW"
		                       : cmd->positional_min == 2 ? "OLD and NEW"
		                                                  : "REF");
	return finish(cmd->run(&args));
}
