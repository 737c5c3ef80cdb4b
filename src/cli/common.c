/* common.c: what every command needs: the configuration, the storage, finding a record. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int cli_open_config(jobreg_config **out, const char *path)
{
	jobreg_config *cfg = NULL;

	*out = NULL;
	if (jobreg_config_load(&cfg, path) < 0)
		return cli_fail_library(NULL);
	*out = cfg;
	return 0;
}

/* mkdir -p of the folder that holds `file`. */
static int make_parent_folders(const char *file)
{
	char *path = strdup(file);
	char *p, *last;

	if (!path)
		return cli_fail("out of memory");
	last = strrchr(path, '/');
	if (!last || last == path) {
		free(path);
		return 0;
	}
	*last = '\0';
	for (p = path + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;

			*p = '\0';
			if (mkdir(path, 0777) < 0 && errno != EEXIST) {
				int rc = cli_fail("cannot create the database folder %s: %s", path,
				                  strerror(errno));
				free(path);
				return rc;
			}
			*p = saved;
			if (!saved)
				break;
		}
	}
	free(path);
	return 0;
}

/* The PostgreSQL database `uri`; the password, when the configuration names
 * a variable for it, goes to libpq as PGPASSWORD (never on a command line). */
static int open_postgresql(jobreg_storage **out, const jobreg_config *cfg, const char *uri)
{
	const char *var = jobreg_config_database_password_env(cfg);

	if (var) {
		const char *password = getenv(var);

		if (!password)
			return cli_fail("%s: password_env names the environment variable %s, which is not "
			                "set",
			                jobreg_config_path(cfg), var);
		if (setenv("PGPASSWORD", password, 1) < 0)
			return cli_fail("cannot set PGPASSWORD: %s", strerror(errno));
	}
	if (jobreg_storage_postgresql_new(out, uri, NULL) < 0)
		return cli_fail_library(NULL);
	return 0;
}

int cli_open_storage(jobreg_storage **out, const jobreg_config *cfg, int create)
{
	const char *db = jobreg_config_database(cfg);
	int rc;

	*out = NULL;
	if (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0)
		return open_postgresql(out, cfg, db);
	if (!create && access(db, F_OK) < 0 && errno == ENOENT)
		return 0; /* nothing synced yet: do not create anything */
	if (create && (rc = make_parent_folders(db)) != 0)
		return rc;
	if (jobreg_storage_sqlite_open(out, db, NULL) < 0)
		return cli_fail_library(NULL);
	return 0;
}

static int not_found(const char *ref)
{
	return cli_fail("no job record matches '%s' (give a class path, a short form "
	                "SOURCE.jobs.CLASS, or an id; 'jobreg list --installed all' shows them)",
	                ref);
}

/*
 * The short form `<source>.jobs.<Class>` of a git or app source, resolved
 * against the records (no code is loaded for it): the one record of that
 * source with that class name, preferring installed records over stale ones.
 */
static int find_short_form(jobreg_record **out, jobreg_storage *st, const char *ref)
{
	const char *dot = strrchr(ref, '.');
	const jobreg_record *match[2] = { NULL, NULL };
	size_t counts[2] = { 0, 0 }; /* [0]: installed, [1]: all */
	jobreg_record_list *list = NULL;
	size_t source_len, i;
	int rc, which;

	if (!dot || dot - ref <= 5 || strncmp(dot - 5, ".jobs", 5) != 0)
		return not_found(ref);
	source_len = (size_t)(dot - 5 - ref);
	if (jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL) < 0)
		return cli_fail_library(NULL);
	for (i = 0; i < jobreg_record_list_count(list); i++) {
		const jobreg_record *rec = jobreg_record_list_get(list, i);
		const char *source = jobreg_record_text(rec, JOBREG_FIELD_SOURCE);

		if (strcmp(jobreg_record_text(rec, JOBREG_FIELD_SOURCE_TYPE), "local") == 0 ||
		    strlen(source) != source_len || strncmp(source, ref, source_len) != 0 ||
		    strcmp(jobreg_record_text(rec, JOBREG_FIELD_JOB_CLASS_NAME), dot + 1) != 0)
			continue;
		if (jobreg_record_bool(rec, JOBREG_FIELD_INSTALLED) == 1 && counts[0]++ == 0)
			match[0] = rec;
		if (counts[1]++ == 0)
			match[1] = rec;
	}
	which = counts[0] == 1 ? 0 : counts[0] == 0 && counts[1] == 1 ? 1 : -1;
	if (which >= 0) {
		rc = jobreg_record_dup(out, match[which]);
		jobreg_record_list_free(list);
		return rc < 0 ? cli_fail_library(NULL) : 0;
	}
	if (counts[1] == 0) {
		jobreg_record_list_free(list);
		return not_found(ref);
	}
	fprintf(stderr, "jobreg: '%s' is ambiguous; it matches:", ref);
	for (i = 0; i < jobreg_record_list_count(list); i++) {
		const jobreg_record *rec = jobreg_record_list_get(list, i);
		const char *source = jobreg_record_text(rec, JOBREG_FIELD_SOURCE);

		if (strcmp(jobreg_record_text(rec, JOBREG_FIELD_SOURCE_TYPE), "local") != 0 &&
		    strlen(source) == source_len && strncmp(source, ref, source_len) == 0 &&
		    strcmp(jobreg_record_text(rec, JOBREG_FIELD_JOB_CLASS_NAME), dot + 1) == 0 &&
		    (counts[0] == 0 || jobreg_record_bool(rec, JOBREG_FIELD_INSTALLED) == 1))
			fprintf(stderr, " %s (id %s)", jobreg_record_text(rec, JOBREG_FIELD_CLASS_PATH),
			        jobreg_record_text(rec, JOBREG_FIELD_ID));
	}
	fputc('\n', stderr);
	jobreg_record_list_free(list);
	return EXIT_FAILED;
}

int cli_find_record(jobreg_record **out, jobreg_storage *st, const char *ref)
{
	int rc;

	*out = NULL;
	if (!st)
		return not_found(ref);
	rc = jobreg_storage_get(out, st, ref);
	if (rc == 0)
		return 0;
	if (rc != JOBREG_ENOTFOUND)
		return cli_fail_library(NULL);
	return find_short_form(out, st, ref);
}
