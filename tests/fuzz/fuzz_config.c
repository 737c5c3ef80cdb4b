/*
 * fuzz_config.c: jobreg_config_parse() on any bytes (SPEC 6, jobreg/config.h).
 *
 * Promises checked on every input:
 *  - it returns 0 with a configuration, or JOBREG_ECONFIG/JOBREG_ENOMEM with
 *    *out NULL and a message "fuzz.yaml..." naming the place;
 *  - a message about valid UTF-8 text is valid UTF-8 itself (never a
 *    character cut in half);
 *  - every path getter gives an absolute, lexically normalized path; every
 *    list getter gives non-NULL items in range and NULL past the end;
 *  - the timeout is finite and within [0, JOBREG_CONFIG_IMPORT_TIMEOUT_MAX];
 *  - jobreg_config_locate() of every key that is set gives a 1-based place.
 */
#include <math.h>

#include <jobreg.h>

#include "fuzz.h"

#define NAME "fuzz.yaml"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_path(const char *what, const char *path)
{
	size_t len;

	FUZZ_ASSERT(path != NULL, "%s is NULL", what);
	len = strlen(path);
	FUZZ_ASSERT(path[0] == '/', "%s '%s' is not absolute", what, path);
	FUZZ_ASSERT(!strstr(path, "//"), "%s '%s' has an empty segment", what, path);
	FUZZ_ASSERT(!strstr(path, "/./") && !strstr(path, "/../"), "%s '%s' is not normalized", what, path);
	FUZZ_ASSERT(!(len >= 2 && strcmp(path + len - 2, "/.") == 0) &&
	            !(len >= 3 && strcmp(path + len - 3, "/..") == 0),
	            "%s '%s' is not normalized", what, path);
	FUZZ_ASSERT(len == 1 || path[len - 1] != '/', "%s '%s' ends with a slash", what, path);
}

static void check_located(const jobreg_config *cfg, const char *key)
{
	unsigned int line = 0, column = 0;
	int rc = jobreg_config_locate(&line, &column, cfg, key);

	FUZZ_ASSERT(rc == 0 || rc == JOBREG_ENOTFOUND, "locate('%s') returned %d", key, rc);
	if (rc == 0)
		FUZZ_ASSERT(line >= 1 && column >= 1, "locate('%s') gave %u:%u", key, line, column);
}

static void check_config(const jobreg_config *cfg)
{
	size_t i, n;
	double timeout;
	char key[64];

	FUZZ_ASSERT(strcmp(jobreg_config_path(cfg), NAME) == 0, "path is '%s'", jobreg_config_path(cfg));
	check_path("dir", jobreg_config_dir(cfg));
	if (jobreg_config_jobs_root(cfg))
		check_path("jobs_root", jobreg_config_jobs_root(cfg));
	check_path("git_root", jobreg_config_git_root(cfg));
	check_path("database", jobreg_config_database(cfg));

	n = jobreg_config_python_path_count(cfg);
	for (i = 0; i < n; i++)
		check_path("python_path[i]", jobreg_config_python_path(cfg, i));
	FUZZ_ASSERT(jobreg_config_python_path(cfg, n) == NULL, "python_path past the end");

	FUZZ_ASSERT(jobreg_config_nautobot_compat(cfg) == JOBREG_COMPAT_OFF ||
	            jobreg_config_nautobot_compat(cfg) == JOBREG_COMPAT_AUTO ||
	            jobreg_config_nautobot_compat(cfg) == JOBREG_COMPAT_1X,
	            "nautobot_compat is %d", jobreg_config_nautobot_compat(cfg));
	timeout = jobreg_config_import_timeout(cfg);
	FUZZ_ASSERT(isfinite(timeout) && timeout >= 0 && timeout <= JOBREG_CONFIG_IMPORT_TIMEOUT_MAX,
	            "import_timeout is %g", timeout);

	n = jobreg_config_git_repository_count(cfg);
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(jobreg_config_git_repository_slug(cfg, i) != NULL, "slug %zu is NULL", i);
		FUZZ_ASSERT(jobreg_config_git_repository_remote_url(cfg, i) != NULL, "remote_url %zu is NULL", i);
		FUZZ_ASSERT(jobreg_config_git_repository_branch(cfg, i) != NULL, "branch %zu is NULL", i);
		FUZZ_ASSERT(jobreg_config_git_repository_nautobot_compat(cfg, i) == JOBREG_COMPAT_DEFAULT ||
		            jobreg_config_git_repository_nautobot_compat(cfg, i) == JOBREG_COMPAT_AUTO ||
		            jobreg_config_git_repository_nautobot_compat(cfg, i) == JOBREG_COMPAT_1X,
		            "nautobot_compat %zu is %d", i,
		            jobreg_config_git_repository_nautobot_compat(cfg, i));
		snprintf(key, sizeof(key), "git_repositories[%zu]", i);
		check_located(cfg, key);
		snprintf(key, sizeof(key), "git_repositories[%zu].slug", i);
		check_located(cfg, key);
	}
	FUZZ_ASSERT(jobreg_config_git_repository_slug(cfg, n) == NULL &&
	            jobreg_config_git_repository_remote_url(cfg, n) == NULL &&
	            jobreg_config_git_repository_branch(cfg, n) == NULL &&
	            jobreg_config_git_repository_token_env(cfg, n) == NULL,
	            "git_repositories past the end");

	n = jobreg_config_app_count(cfg);
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(jobreg_config_app(cfg, i) != NULL, "app %zu is NULL", i);
		snprintf(key, sizeof(key), "apps[%zu]", i);
		check_located(cfg, key);
	}
	FUZZ_ASSERT(jobreg_config_app(cfg, n) == NULL, "apps past the end");

	check_located(cfg, "jobs_root");
	check_located(cfg, "import_timeout");
	check_located(cfg, "no_such_key");
	check_located(cfg, "apps[99999999999999999999]");
	check_located(cfg, "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jobreg_config *cfg = (jobreg_config *)1; /* must come back NULL on error */
	const jobreg_error *err;
	int rc;

	rc = jobreg_config_parse(&cfg, (const char *)data, size, "/fuzz/base", NAME);
	if (rc == 0) {
		FUZZ_ASSERT(cfg != NULL, "success without a configuration");
		check_config(cfg);
		jobreg_config_free(cfg);
		return 0;
	}
	err = jobreg_error_last();
	FUZZ_ASSERT(rc == JOBREG_ECONFIG || rc == JOBREG_ENOMEM, "returned %d (%s)", rc, err->message);
	FUZZ_ASSERT(cfg == NULL, "*out is not NULL after an error");
	FUZZ_ASSERT(err->code == rc, "last error code %d, returned %d", err->code, rc);
	FUZZ_ASSERT(rc != JOBREG_ECONFIG || strncmp(err->message, NAME, strlen(NAME)) == 0,
	            "the message does not name the file: %s", err->message);
	if (fuzz_utf8_valid((const char *)data, size))
		FUZZ_ASSERT(fuzz_utf8_valid(err->message, strlen(err->message)),
		            "the message about valid UTF-8 text is no valid UTF-8: %s", err->message);
	return 0;
}
