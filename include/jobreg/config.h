/*
 * config.h: the `jobreg.yaml` configuration, read into an immutable object
 * (SPEC 6). The `jobreg` command uses it; any other host may too.
 *
 * The file is one YAML mapping. Every key is optional; all keys, their
 * types and defaults:
 *
 *   jobs_root: jobs               path; the jobs-root source. Default: none
 *                                 (jobreg_config_jobs_root() returns NULL).
 *   git_root: .jobreg/git         path; where git checkouts live
 *                                 (`<git_root>/<slug>`). Default .jobreg/git.
 *   database: .jobreg/jobreg.db   path; the SQLite database of the records.
 *                                 Default .jobreg/jobreg.db. Or (since
 *                                 0.3.0) a PostgreSQL URI,
 *                                 "postgresql://user@host:5432/db" (or
 *                                 postgres://), kept as written: the
 *                                 records live there
 *                                 (jobreg_storage_postgresql_new()). A
 *                                 password in the URI is refused.
 *   password_env: JOBREG_DB_PASS  since 0.3.0: the name of an environment
 *                                 variable holding the PostgreSQL password
 *                                 (the jobreg command passes it to libpq
 *                                 as PGPASSWORD). Default: none (libpq's
 *                                 own PGPASSWORD or ~/.pgpass apply).
 *   python_path: [lib]            list of paths; extra sys.path entries, in
 *                                 order (apps live there). Default: empty.
 *   nautobot_compat: true         true, false, "1.x" or "2.x"; true or
 *                                 "2.x": provide the nautobot.apps.*
 *                                 compatibility modules (unless a real
 *                                 `nautobot` is importable); "1.x" (since
 *                                 0.3.0): those too, and every source
 *                                 registers Nautobot 1.x jobs (its Job
 *                                 subclasses, without register_jobs)
 *                                 unless its own key says "2.x". Default
 *                                 true.
 *   import_timeout: 30            number of seconds (integer or decimal),
 *                                 the longest a module body may run at
 *                                 import; 0 means no limit. Default 0. At
 *                                 most JOBREG_CONFIG_IMPORT_TIMEOUT_MAX.
 *   isolation: process            "process" or "none" (since 0.3.0): where
 *                                 job code runs (docs/isolation.md).
 *                                 Default: as the host chooses (the
 *                                 `jobreg` command: process).
 *   workers: 2                    integer >= 1 (since 0.3.0): isolation's
 *                                 most worker processes. Default 2.
 *   worker_memory_limit_mb: 1024  integer >= 0 (since 0.3.0): MiB each
 *                                 worker may grow; 0 means no limit.
 *                                 Default 0.
 *   git_repositories:             list of mappings, one per repository:
 *     - slug: my_repo               string, required
 *       remote_url: https://...     string, required (may carry credentials:
 *                                   never shown in any message)
 *       branch: main                string: branch, tag or commit. Default main.
 *       token_env: MY_REPO_TOKEN    string: the environment variable holding
 *                                   the token. Default: none (NULL).
 *       nautobot_compat: "1.x"      "1.x" or "2.x" (since 0.3.0): the jobs
 *                                   this repository registers, Nautobot
 *                                   1.x or 2.x style. Default: as the
 *                                   top-level nautobot_compat says.
 *   apps: [my_app]                list of package names. Default: empty.
 *
 * Reading rules:
 *  - Relative paths are relative to the folder of the file (for
 *    jobreg_config_parse(): to `base_dir`). Every path getter returns an
 *    absolute path, normalized lexically ("." and ".." segments and repeated
 *    slashes removed; symbolic links are not resolved; no "~" or "$VAR"
 *    expansion). Paths must not be empty.
 *  - A key given with an empty or null value (`jobs_root:`, `apps: ~`)
 *    counts as absent: its default applies.
 *  - Strings are taken exactly as written: `branch: 1.10` is the string
 *    "1.10" and `slug: 123` the string "123" (whether that is a valid slug
 *    is for the git source to say). A list or mapping where a string is
 *    needed is an error.
 *  - Lists must be YAML sequences: `apps: my_app` is refused (write
 *    `apps: [my_app]`), so that a value is never split or guessed at.
 *  - Booleans are true/false (also yes/no, on/off, as YAML 1.1 readers do),
 *    unquoted; numbers are decimal and unquoted. `import_timeout: "30"`
 *    (a quoted string) is refused. "1.x" and "2.x" are strings, quoted or
 *    not; `nautobot_compat: "true"` is refused.
 *  - Refused with JOBREG_ECONFIG: unknown keys (at any level, with a
 *    suggestion when one is close), duplicate keys, values of the wrong
 *    type, negative or non-finite timeouts, a repository without slug or
 *    remote_url, an empty file or a top level that is not a mapping, more
 *    than one YAML document, unknown anchors or tags, lists and mappings
 *    nested more than 64 levels deep (since 0.3.0; the file needs 3, and
 *    the limit keeps a hostile file from costing time or memory), and
 *    YAML syntax errors (the file must be UTF-8). The message is "FILE:LINE:COLUMN: ..." (1-based, columns in
 *    characters) and names the key at fault, e.g.
 *    "jobreg.yaml:6:17: 'import_timeout' must be a number of seconds (0 for
 *    no limit), not the string 'soon'".
 *
 * Reading a configuration touches nothing but the file itself (and the
 * process's working folder, to make paths absolute); it needs no
 * jobreg_init(). A jobreg_config is immutable: every getter may be called
 * from any thread. Strings are borrowed and live as long as the object.
 * Every getter accepts a NULL configuration and then returns NULL, 0 or
 * the default its comment names (since 0.3.0).
 */
#ifndef JOBREG_CONFIG_H
#define JOBREG_CONFIG_H

#include "common.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The default `git_root`, relative to the configuration file's folder. */
#define JOBREG_CONFIG_DEFAULT_GIT_ROOT ".jobreg/git"
/** The default `database`, relative to the configuration file's folder. */
#define JOBREG_CONFIG_DEFAULT_DATABASE ".jobreg/jobreg.db"
/** The default `branch` of a git repository. */
#define JOBREG_CONFIG_DEFAULT_BRANCH "main"

/** The largest import_timeout accepted, in seconds (about 49 days). */
#define JOBREG_CONFIG_IMPORT_TIMEOUT_MAX 4294967.0

/**
 * Read and parse the file at `path`. The file's folder (made absolute
 * against the working folder) is the base of relative paths; messages name
 * the file as `path` was given.
 * On success `*out` is owned by the caller: free it with jobreg_config_free().
 * Errors: JOBREG_EINVAL (NULL argument), JOBREG_EIO (the file cannot be
 * read; the message names it and says why), JOBREG_ECONFIG (see above),
 * JOBREG_ENOMEM. On error `*out` is NULL.
 */
JOBREG_EXTERN(int) jobreg_config_load(jobreg_config **out, const char *path);

/**
 * Parse a configuration held in memory: `len` bytes at `text` (need not be
 * NUL-terminated). Relative paths are resolved against `base_dir` (made
 * absolute against the working folder; NULL means the working folder).
 * `name_for_errors` is the file name messages start with (NULL: "<config>").
 * Errors and ownership as jobreg_config_load(), without JOBREG_EIO unless
 * the working folder is needed and cannot be read.
 */
JOBREG_EXTERN(int)
jobreg_config_parse(jobreg_config **out, const char *text, size_t len, const char *base_dir,
                    const char *name_for_errors);

/** Free a configuration. Accepts NULL. */
JOBREG_EXTERN(void) jobreg_config_free(jobreg_config *cfg);

/**
 * The configuration file: its absolute, normalized path for
 * jobreg_config_load(); `name_for_errors` (or "<config>") for
 * jobreg_config_parse().
 */
JOBREG_EXTERN(const char *) jobreg_config_path(const jobreg_config *cfg);

/** The absolute folder that relative paths were resolved against. */
JOBREG_EXTERN(const char *) jobreg_config_dir(const jobreg_config *cfg);

/** `jobs_root` as an absolute path, or NULL when the key is absent. */
JOBREG_EXTERN(const char *) jobreg_config_jobs_root(const jobreg_config *cfg);

/** `git_root` as an absolute path (default `<dir>/.jobreg/git`). */
JOBREG_EXTERN(const char *) jobreg_config_git_root(const jobreg_config *cfg);

/**
 * `database` as an absolute path (default `<dir>/.jobreg/jobreg.db`), or,
 * since 0.3.0, the postgresql:// (or postgres://) URI exactly as written.
 */
JOBREG_EXTERN(const char *) jobreg_config_database(const jobreg_config *cfg);

/**
 * `password_env`: the name of the environment variable that holds the
 * database password, or NULL when the key is absent (or `cfg` is NULL).
 * Borrowed from `cfg`. Since 0.3.0.
 */
JOBREG_EXTERN(const char *) jobreg_config_database_password_env(const jobreg_config *cfg);

/** How many `python_path` entries there are (default 0). */
JOBREG_EXTERN(size_t) jobreg_config_python_path_count(const jobreg_config *cfg);

/** `python_path` entry `i` as an absolute path; NULL when out of range. */
JOBREG_EXTERN(const char *) jobreg_config_python_path(const jobreg_config *cfg, size_t i);

/**
 * `nautobot_compat`, as the value of jobreg_init_options.nautobot_compat:
 * JOBREG_COMPAT_AUTO (1: true, "2.x", or absent; the default),
 * JOBREG_COMPAT_OFF (0: false) or, since 0.3.0, JOBREG_COMPAT_1X (2:
 * "1.x"). A host of 0.1 or 0.2 that tests it as a boolean still provides
 * the compatibility modules for "1.x". JOBREG_COMPAT_AUTO for NULL.
 */
JOBREG_EXTERN(int) jobreg_config_nautobot_compat(const jobreg_config *cfg);

/** `import_timeout` in seconds; 0 (default) means no limit. */
JOBREG_EXTERN(double) jobreg_config_import_timeout(const jobreg_config *cfg);

/**
 * `isolation` (since 0.3.0): JOBREG_ISOLATION_PROCESS ("process"),
 * JOBREG_ISOLATION_NONE ("none"), or -1 when the file does not say (and
 * for a NULL `cfg`): the host chooses.
 */
JOBREG_EXTERN(int) jobreg_config_isolation(const jobreg_config *cfg);

/** `workers` (since 0.3.0); 0 when the file does not say (and for NULL). */
JOBREG_EXTERN(unsigned int) jobreg_config_workers(const jobreg_config *cfg);

/** `worker_memory_limit_mb` (since 0.3.0); 0: no limit (also for NULL). */
JOBREG_EXTERN(unsigned int) jobreg_config_worker_memory_limit_mb(const jobreg_config *cfg);

/** How many `git_repositories` entries there are (default 0). */
JOBREG_EXTERN(size_t) jobreg_config_git_repository_count(const jobreg_config *cfg);

/** The `slug` of repository `i`, as written; NULL when out of range. */
JOBREG_EXTERN(const char *)
jobreg_config_git_repository_slug(const jobreg_config *cfg, size_t i);

/**
 * The `remote_url` of repository `i`, as written, credentials included:
 * redact it before showing it anywhere. NULL when out of range.
 */
JOBREG_EXTERN(const char *)
jobreg_config_git_repository_remote_url(const jobreg_config *cfg, size_t i);

/** The `branch` of repository `i` (default "main"); NULL when out of range. */
JOBREG_EXTERN(const char *)
jobreg_config_git_repository_branch(const jobreg_config *cfg, size_t i);

/**
 * The `token_env` of repository `i`: the name of the environment variable
 * holding its token; NULL when absent or out of range. The variable is not
 * read by the configuration.
 */
JOBREG_EXTERN(const char *)
jobreg_config_git_repository_token_env(const jobreg_config *cfg, size_t i);

/**
 * The `nautobot_compat` of repository `i` (since 0.3.0), as the mode of
 * jobreg_source_set_nautobot_compat(): JOBREG_COMPAT_1X ("1.x"),
 * JOBREG_COMPAT_AUTO ("2.x"), or JOBREG_COMPAT_DEFAULT when the key is
 * absent or `i` out of range.
 */
JOBREG_EXTERN(int)
jobreg_config_git_repository_nautobot_compat(const jobreg_config *cfg, size_t i);

/** How many `apps` there are (default 0). */
JOBREG_EXTERN(size_t) jobreg_config_app_count(const jobreg_config *cfg);

/** App `i`: a package name as written; NULL when out of range. */
JOBREG_EXTERN(const char *) jobreg_config_app(const jobreg_config *cfg, size_t i);

/**
 * Where a setting was written, so that a host can report its own findings
 * about a value ("jobreg.yaml:8:11: invalid slug") in the same form.
 *
 * `key` names a key ("apps", "git_repositories[0].slug": the position of
 * the key) or a list item ("apps[1]", "git_repositories[0]": the position of
 * the item). Sets the 1-based `*line` and `*column` (either may be NULL).
 * Errors: JOBREG_ENOTFOUND when the file did not contain it (defaults have
 * no position), JOBREG_EINVAL.
 */
JOBREG_EXTERN(int)
jobreg_config_locate(unsigned int *line, unsigned int *column, const jobreg_config *cfg,
                     const char *key);

#ifdef __cplusplus
}
#endif

#endif
