/* sources.c: starting Python and loading the configured sources, for sync and run. */
#include <math.h>
#include <stdlib.h>

#include "cli.h"
#include "git_sources.h"

int cli_start_python(const jobreg_config *cfg)
{
	jobreg_init_options opts = JOBREG_INIT_OPTIONS_INIT;
	size_t i, n = jobreg_config_python_path_count(cfg);
	const char **paths = NULL;
	int rc;

	if (n) {
		paths = calloc(n, sizeof(*paths));
		if (!paths)
			return cli_fail("out of memory");
		for (i = 0; i < n; i++)
			paths[i] = jobreg_config_python_path(cfg, i);
	}
	opts.python_path = paths;
	opts.python_path_count = n;
	/* JOBREG_COMPAT_OFF, _AUTO or _1X, as the option takes them. */
	opts.nautobot_compat = jobreg_config_nautobot_compat(cfg);
	rc = jobreg_init(&opts);
	free(paths);
	return rc < 0 ? cli_fail_library("cannot start Python") : 0;
}

/* Add the configured jobs root and apps to `reg`. */
static int add_local_sources(jobreg_registry *reg, const jobreg_config *cfg)
{
	jobreg_source *src = NULL;
	size_t i;

	if (jobreg_config_jobs_root(cfg)) {
		if (jobreg_source_dir_new(&src, jobreg_config_jobs_root(cfg)) < 0 ||
		    jobreg_registry_add_source(reg, src) < 0) {
			jobreg_source_free(src);
			return cli_fail_library("jobs_root");
		}
	}
	for (i = 0; i < jobreg_config_app_count(cfg); i++) {
		src = NULL;
		if (jobreg_source_app_new(&src, jobreg_config_app(cfg, i)) < 0 ||
		    jobreg_registry_add_source(reg, src) < 0) {
			jobreg_source_free(src);
			return cli_fail_library("apps");
		}
	}
	return 0;
}

int cli_make_registry(jobreg_registry **out, struct cli_git **git, const jobreg_config *cfg,
                      const char *config_path, int offline, int load)
{
	jobreg_registry_options opts = JOBREG_REGISTRY_OPTIONS_INIT;
	jobreg_registry *reg = NULL;
	double timeout = jobreg_config_import_timeout(cfg);
	int rc;

	if (timeout > 0)
		opts.import_timeout_ms = timeout * 1000 < 1 ? 1 : (unsigned int)ceil(timeout * 1000);
	/* Job code runs in worker processes unless the configuration says
	 * `isolation: none` (docs/isolation.md): one job module that exits or
	 * crashes must not take the report of every other one with it. */
	opts.isolation = jobreg_config_isolation(cfg) == JOBREG_ISOLATION_NONE
	                     ? JOBREG_ISOLATION_NONE
	                     : JOBREG_ISOLATION_PROCESS;
	opts.workers = jobreg_config_workers(cfg);
	opts.worker_memory_limit_mb = jobreg_config_worker_memory_limit_mb(cfg);
	if (jobreg_registry_new(&reg, &opts) < 0)
		return cli_fail_library(NULL);
	rc = add_local_sources(reg, cfg);
	if (rc == 0)
		rc = cli_git_add_sources(git, reg, cfg, config_path, offline);
	if (rc == 0 && load && jobreg_registry_load(reg) < 0)
		rc = cli_fail_library("load");
	if (rc != 0) {
		jobreg_registry_free(reg);
		return rc;
	}
	*out = reg;
	return 0;
}
