/*
 * run.c: `jobreg run REF [--data JSON] [--context JSON] [--files DIR]
 * [--json]` (SPEC 5 and 6).
 *
 * The sources are loaded as they are on disk (nothing is fetched: a worker
 * runs the code it has; `jobreg sync` moves it). The job's record decides
 * whether it may run. Log lines go to stderr as they happen; then the files
 * the job created (saved into DIR with --files, else only named); the
 * outcome to stdout. Exit 0 only for a successful run whose files were all
 * saved. The run is recorded in the database (jobreg/runs.h): its id goes
 * to stderr (text) or into the JSON object; `jobreg runs` lists them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Why a created file's name cannot be a file name in DIR, or NULL when it can. */
static const char *bad_file_name(const char *name)
{
	const char *p;

	if (!*name)
		return "its name is empty";
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return "its name is '.' or '..'";
	if (strchr(name, '/'))
		return "its name holds '/'";
	for (p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "its name holds a control character";
	return NULL;
}

/* Write `size` bytes into DIR/NAME (never through a symbolic link); 0 or an errno. */
static int write_file(const char *path, const unsigned char *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666), err = 0;

	if (fd < 0)
		return errno;
	while (size > 0) {
		ssize_t n = write(fd, data, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			break;
		}
		data += n;
		size -= (size_t)n;
	}
	if (close(fd) != 0 && !err)
		err = errno;
	return err;
}

/*
 * The files the job created: saved into `dir`, or named on stderr when
 * `dir` is NULL. Returns how many could not be saved.
 */
static size_t save_files(const jobreg_run_result *res, const char *dir)
{
	size_t i, count = jobreg_run_result_file_count(res), unsaved = 0;
	int dir_error = 0;

	if (dir && count > 0 && mkdir(dir, 0777) != 0 && errno != EEXIST)
		dir_error = errno;
	for (i = 0; i < count; i++) {
		const char *name = jobreg_run_result_file_name(res, i), *why;
		size_t size;
		const unsigned char *data = jobreg_run_result_file_data(res, i, &size);
		char *path;
		int err;

		if (!dir) {
			fprintf(stderr, "created file %s (%zu bytes; not saved, use --files DIR)\n", name,
			        size);
			continue;
		}
		if ((why = bad_file_name(name))) {
			cli_fail("created file '%s' not saved: %s", name, why);
			unsaved++;
			continue;
		}
		if (dir_error) {
			cli_fail("created file '%s' not saved: %s: %s", name, dir, strerror(dir_error));
			unsaved++;
			continue;
		}
		if (!(path = malloc(strlen(dir) + strlen(name) + 2))) {
			cli_fail("created file '%s' not saved: out of memory", name);
			unsaved++;
			continue;
		}
		sprintf(path, "%s/%s", dir, name);
		if ((err = write_file(path, data, size)) != 0) {
			cli_fail("created file '%s' not saved: %s: %s", name, path, strerror(err));
			unsaved++;
		} else {
			fprintf(stderr, "created file %s (%zu bytes): saved as %s\n", name, size, path);
		}
		free(path);
	}
	fflush(stderr);
	return unsaved;
}

static int report(const jobreg_run_result *res, int json)
{
	int ok = jobreg_run_result_status(res) == JOBREG_RUN_SUCCESS;
	const char *run_id = jobreg_run_result_run_id(res);
	const char *record_error = jobreg_run_result_record_error(res);

	/* The run took place: a record that could not be stored is no failure of it. */
	if (*record_error)
		fprintf(stderr,
		        "jobreg: warning: the end of run %s was not recorded (it stays "
		        "STARTED): %s\n",
		        run_id, record_error);
	if (json) {
		char *text = NULL;
		size_t len;

		if (jobreg_run_result_to_json(&text, res) < 0)
			return cli_fail_library(NULL);
		/* The library's object, and the run's id as one more key. */
		len = strlen(text);
		if (*run_id && len > 0 && text[len - 1] == '}') {
			fwrite(text, 1, len - 1, cli_out);
			fputs(", \"run_id\": ", cli_out);
			json_put_string(cli_out, run_id);
			fputs("}\n", cli_out);
		} else {
			fprintf(cli_out, "%s\n", text);
		}
		jobreg_free(text);
	} else {
		/* stdout keeps the result alone (JSON), so the id goes with the diagnostics. */
		if (*run_id)
			fprintf(stderr, "run %s\n", run_id);
		if (ok)
			fprintf(cli_out, "%s\n", jobreg_run_result_json(res));
		else
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
	size_t unsaved;
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
	if (jobreg_registry_resolve(&job, reg, jobreg_record_text(record, JOBREG_FIELD_CLASS_PATH)) <
	    0) {
		rc = cli_fail_library(NULL);
		goto out;
	}
	opts.data_json = args->data;
	opts.context_json = args->context;
	opts.log = log_to_stderr;
	opts.run_storage = st; /* every run says which code it ran (jobreg/runs.h) */
	if (jobreg_job_run(&res, job, record, &opts) < 0) {
		rc = cli_fail_library(NULL);
		goto out;
	}
	unsaved = save_files(res, args->files_dir);
	rc = report(res, args->json);
	if (rc == EXIT_OK && unsaved > 0)
		rc = cli_fail("%zu of the files the job created could not be saved", unsaved);
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
