/* config.c: jobreg.yaml read into an immutable jobreg_config (SPEC 6). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_yaml.h"
#include "error.h"
#include "jobreg/config.h"
#include "jobreg/registry.h"
#include "util.h"

/* Larger than any sensible configuration; stops reading a wrong file early. */
#define CONFIG_FILE_MAX (16u * 1024 * 1024)

struct repository {
	char *slug;
	char *remote_url;
	char *branch;
	char *token_env;
	int nautobot_compat; /* JOBREG_COMPAT_DEFAULT unless given */
};

struct location {
	char *key;
	unsigned int line, column;
};

struct jobreg_config {
	char *path;
	char *dir;
	char *jobs_root;
	char *git_root;
	char *database;
	char *password_env; /* NULL: not said */
	char **python_path;
	size_t python_path_count;
	int nautobot_compat;
	double import_timeout;
	int isolation; /* JOBREG_ISOLATION_*, -1: not said */
	unsigned int workers, worker_memory_limit_mb;
	struct repository *repositories;
	size_t repository_count;
	char **apps;
	size_t app_count;
	struct location *locations;
	size_t location_count, location_cap;
};

struct reader {
	jobreg_config *cfg;
	const char *name; /* the file as messages name it */
};

/* ---- paths ---- */

static char *working_folder(void)
{
	char *cwd = getcwd(NULL, 0);

	if (!cwd) {
		if (errno == ENOMEM)
			jr_error_oom();
		else
			jr_error_set(JOBREG_EIO, "cannot read the working folder: %s", strerror(errno));
	}
	return cwd;
}

static void append_segment(jr_buf *out, const char *seg, size_t n)
{
	if (n == 0 || (n == 1 && seg[0] == '.'))
		return;
	if (n == 2 && seg[0] == '.' && seg[1] == '.') {
		char *slash = strrchr(out->ptr, '/');

		out->len = slash && slash != out->ptr ? (size_t)(slash - out->ptr) : 1;
		out->ptr[out->len] = '\0';
		return;
	}
	if (out->len > 1)
		jr_buf_putc(out, '/');
	jr_buf_put(out, seg, n);
}

static void append_segments(jr_buf *out, const char *path)
{
	while (*path) {
		size_t n = strcspn(path, "/");

		append_segment(out, path, n);
		path += n;
		while (*path == '/')
			path++;
	}
}

/* `rel` made absolute against the absolute folder `base`, normalized lexically. */
static char *absolute_path(const char *base, const char *rel)
{
	jr_buf out = JR_BUF_INIT;

	jr_buf_putc(&out, '/');
	if (jr_buf_status(&out) < 0)
		return NULL;
	if (rel[0] != '/')
		append_segments(&out, base);
	append_segments(&out, rel);
	return jr_buf_detach(&out);
}

/* The folder part of an absolute normalized path. */
static char *folder_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return jr_strndup(path, slash && slash != path ? (size_t)(slash - path) : 1);
}

/* ---- messages ---- */

/* `s` fit for a one-line message: control characters replaced, long text cut. */
static const char *shown(const char *s, char *buf, size_t size)
{
	size_t i, n = 0;

	for (i = 0; s[i] && n + 4 < size; i++)
		buf[n++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (s[i]) {
		while (n + 4 > size)
			n--;
		/* Cut before a whole character: never half of a UTF-8 sequence. */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/* What a node is, for "..., not <what>". */
static const char *what_is(const jr_ynode *n, char *buf, size_t size)
{
	char text[48];

	switch (n->kind) {
	case JR_YSEQ:
		return "a list";
	case JR_YMAP:
		return "a mapping";
	case JR_YSCALAR:
		break;
	}
	shown(n->text, text, sizeof(text));
	switch (n->type) {
	case JR_YNULL:
		return "an empty value";
	case JR_YBOOL:
		snprintf(buf, size, "the boolean '%s'", text);
		break;
	case JR_YINT:
	case JR_YFLOAT:
		snprintf(buf, size, "the number '%s'", text);
		break;
	case JR_YSTR:
		snprintf(buf, size, "the string '%s'", text);
		break;
	}
	return buf;
}

static int fail(struct reader *r, const jr_ynode *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct reader *r, const jr_ynode *at, const char *fmt, ...)
{
	char message[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	return jr_error_set(JOBREG_ECONFIG, "%s:%u:%u: %s", r->name, at->line, at->column, message);
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* "unknown key 'x' in WHERE (did you mean 'y'?)" or "(known keys: ...)". */
static int unknown_key(struct reader *r, const jr_ynode *key, const char *where,
                       const char *const *known)
{
	char text[80];
	const char *best = NULL;
	size_t best_distance = 3, i;
	jr_buf list = JR_BUF_INIT;
	int rc;

	for (i = 0; known[i]; i++) {
		size_t d = edit_distance(key->text, known[i]);

		if (d < best_distance) {
			best_distance = d;
			best = known[i];
		}
		jr_buf_printf(&list, "%s%s", i ? ", " : "", known[i]);
	}
	if (jr_buf_status(&list) < 0)
		return JOBREG_ENOMEM;
	shown(key->text, text, sizeof(text));
	if (best)
		rc = fail(r, key, "unknown key '%s'%s%s (did you mean '%s'?)", text, where ? " in " : "",
		          where ? where : "", best);
	else
		rc = fail(r, key, "unknown key '%s'%s%s (known keys: %s)", text, where ? " in " : "",
		          where ? where : "", list.ptr);
	jr_buf_free(&list);
	return rc;
}

static int locate_add(struct reader *r, const char *key, const jr_ynode *at)
{
	jobreg_config *cfg = r->cfg;
	struct location *loc;

	if (cfg->location_count == cfg->location_cap) {
		size_t cap = cfg->location_cap ? cfg->location_cap * 2 : 16;
		struct location *grown = realloc(cfg->locations, cap * sizeof(*grown));

		if (!grown)
			return jr_error_oom();
		cfg->locations = grown;
		cfg->location_cap = cap;
	}
	loc = &cfg->locations[cfg->location_count];
	loc->key = jr_strdup(key);
	if (!loc->key)
		return JOBREG_ENOMEM;
	loc->line = at->line;
	loc->column = at->column;
	cfg->location_count++;
	return 0;
}

/* ---- values ---- */

static int is_null(const jr_ynode *n)
{
	return n->kind == JR_YSCALAR && n->type == JR_YNULL;
}

/*
 * A string value (any scalar but null, as written). `what` says what is
 * expected ("a path"); `echo` 0 keeps the value out of messages (URLs may
 * hold credentials).
 */
static int read_string(char **out, struct reader *r, const char *key, const jr_ynode *n,
                       const char *what)
{
	char kind[80];

	if (n->kind != JR_YSCALAR || n->type == JR_YNULL)
		return fail(r, n, "'%s' must be %s, not %s", key, what, what_is(n, kind, sizeof(kind)));
	if (strlen(n->text) != n->len)
		return fail(r, n, "'%s' must not contain a NUL character", key);
	if (n->len == 0)
		return fail(r, n, "'%s' must not be empty", key);
	*out = jr_strdup(n->text);
	return *out ? 0 : JOBREG_ENOMEM;
}

static int read_path(char **out, struct reader *r, const char *key, const jr_ynode *n);

/* 1 when `text` is a PostgreSQL URI (which `database` keeps as it is). */
static int is_postgresql_uri(const char *text)
{
	return strncmp(text, "postgresql://", 13) == 0 || strncmp(text, "postgres://", 11) == 0;
}

/*
 * `database`: a path, or a PostgreSQL URI kept as written. A password in
 * the URI is refused: the file is no place for it (password_env, PGPASSWORD
 * or ~/.pgpass are), and the message does not echo the value.
 */
static int read_database(struct reader *r, const char *key, const jr_ynode *n)
{
	const char *auth, *at;
	size_t auth_len;

	if (n->kind != JR_YSCALAR || n->type == JR_YNULL || !is_postgresql_uri(n->text))
		return read_path(&r->cfg->database, r, key, n);
	auth = strstr(n->text, "://") + 3;
	auth_len = strcspn(auth, "/?");
	at = memchr(auth, '@', auth_len);
	if ((at && memchr(auth, ':', (size_t)(at - auth))) || strstr(n->text, "password="))
		return fail(r, n,
		            "'%s' holds a password: keep it out of the file (name an environment "
		            "variable that holds it with 'password_env', or use PGPASSWORD or "
		            "~/.pgpass)",
		            key);
	return read_string(&r->cfg->database, r, key, n, "a path or a postgresql:// URI");
}

static int read_path(char **out, struct reader *r, const char *key, const jr_ynode *n)
{
	char *text = NULL;
	int rc = read_string(&text, r, key, n, "a path (a string)");

	if (rc < 0)
		return rc;
	*out = absolute_path(r->cfg->dir, text);
	free(text);
	return *out ? 0 : JOBREG_ENOMEM;
}

typedef int (*item_reader)(char **out, struct reader *r, const char *key, const jr_ynode *n);

static int read_package(char **out, struct reader *r, const char *key, const jr_ynode *n)
{
	return read_string(out, r, key, n, "a package name (a string)");
}

/* A list of strings; null means empty. A lone scalar is refused, with a hint. */
static int read_string_list(char ***items, size_t *count, struct reader *r, const char *key,
                            const jr_ynode *n, item_reader read_item, const char *example)
{
	char kind[80], text[48];
	size_t i;
	int rc;

	if (is_null(n))
		return 0;
	if (n->kind != JR_YSEQ)
		return fail(r, n, "'%s' must be a list, not %s (write %s: [%s])", key,
		            what_is(n, kind, sizeof(kind)), key,
		            n->kind == JR_YSCALAR ? shown(n->text, text, sizeof(text)) : example);
	if (!n->count)
		return 0;
	*items = calloc(n->count, sizeof(**items));
	if (!*items)
		return jr_error_oom();
	for (i = 0; i < n->count; i++) {
		char *item_key = jr_asprintf("%s[%zu]", key, i);

		if (!item_key)
			return JOBREG_ENOMEM;
		rc = locate_add(r, item_key, n->items[i]);
		if (rc == 0)
			rc = read_item(&(*items)[i], r, item_key, n->items[i]);
		free(item_key);
		if (rc < 0)
			return rc;
		*count = i + 1;
	}
	return 0;
}

/*
 * The pairs of a mapping, each key checked against `known` (unknown and
 * duplicate keys refused) and recorded for jobreg_config_locate(). `seen`
 * gets, per known key, its value node (NULL when absent).
 */
static int read_mapping_keys(struct reader *r, const jr_ynode *map, const char *prefix,
                             const char *const *known, const jr_ynode **seen_keys,
                             const jr_ynode **seen)
{
	size_t i, k;
	int rc;

	for (i = 0; i < JR_YPAIRS(map); i++) {
		const jr_ynode *key = JR_YKEY(map, i);
		char *path;

		if (key->kind != JR_YSCALAR)
			return fail(r, key, "keys must be strings, not %s%s%s",
			            key->kind == JR_YSEQ ? "a list" : "a mapping", prefix ? " in " : "",
			            prefix ? prefix : "");
		for (k = 0; known[k]; k++)
			if (strlen(key->text) == key->len && strcmp(key->text, known[k]) == 0)
				break;
		if (!known[k])
			return unknown_key(r, key, prefix, known);
		path = prefix ? jr_asprintf("%s.%s", prefix, known[k]) : jr_strdup(known[k]);
		if (!path)
			return JOBREG_ENOMEM;
		if (seen_keys[k]) {
			rc = fail(r, key, "duplicate key '%s' (first given at %u:%u)", path, seen_keys[k]->line,
			          seen_keys[k]->column);
			free(path);
			return rc;
		}
		seen_keys[k] = key;
		seen[k] = JR_YVALUE(map, i);
		rc = locate_add(r, path, key);
		free(path);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * A Nautobot mode: the string "1.x" (JOBREG_COMPAT_1X) or "2.x"
 * (JOBREG_COMPAT_AUTO), and with `booleans` also true (JOBREG_COMPAT_AUTO)
 * or false (JOBREG_COMPAT_OFF). Null leaves `*out` as it is.
 */
static int read_compat(int *out, struct reader *r, const char *key, const jr_ynode *n, int booleans)
{
	char kind[80];

	if (is_null(n))
		return 0;
	if (booleans && n->kind == JR_YSCALAR && n->type == JR_YBOOL) {
		*out = n->boolean ? JOBREG_COMPAT_AUTO : JOBREG_COMPAT_OFF;
		return 0;
	}
	if (n->kind == JR_YSCALAR && n->type == JR_YSTR) {
		if (strlen(n->text) != n->len)
			return fail(r, n, "'%s' must not contain a NUL character", key);
		if (strcmp(n->text, "1.x") == 0) {
			*out = JOBREG_COMPAT_1X;
			return 0;
		}
		if (strcmp(n->text, "2.x") == 0) {
			*out = JOBREG_COMPAT_AUTO;
			return 0;
		}
	}
	return fail(r, n, "'%s' must be %s\"1.x\" or \"2.x\", not %s", key,
	            booleans ? "true, false, " : "", what_is(n, kind, sizeof(kind)));
}

enum repository_key {
	REPO_SLUG,
	REPO_REMOTE_URL,
	REPO_BRANCH,
	REPO_TOKEN_ENV,
	REPO_NAUTOBOT_COMPAT,
	REPO_KEYS
};

static const char *const repository_keys[] = { "slug",      "remote_url",      "branch",
	                                           "token_env", "nautobot_compat", NULL };

static int read_repository(struct reader *r, struct repository *repo, const char *prefix,
                           const jr_ynode *n)
{
	const jr_ynode *seen_keys[REPO_KEYS] = { NULL }, *seen[REPO_KEYS] = { NULL };
	char kind[80], key[160];
	int rc, k;

	if (n->kind != JR_YMAP)
		return fail(r, n, "'%s' must be a mapping with slug and remote_url, not %s", prefix,
		            what_is(n, kind, sizeof(kind)));
	rc = read_mapping_keys(r, n, prefix, repository_keys, seen_keys, seen);
	if (rc < 0)
		return rc;
	for (k = REPO_SLUG; k <= REPO_REMOTE_URL; k++) {
		if (!seen[k])
			return fail(r, n, "'%s' is missing the required key '%s'", prefix, repository_keys[k]);
		if (is_null(seen[k]))
			return fail(r, seen[k], "'%s.%s' is required and must not be empty", prefix,
			            repository_keys[k]);
	}
	snprintf(key, sizeof(key), "%s.slug", prefix);
	rc = read_string(&repo->slug, r, key, seen[REPO_SLUG], "a string");
	if (rc < 0)
		return rc;
	snprintf(key, sizeof(key), "%s.remote_url", prefix);
	rc = read_string(&repo->remote_url, r, key, seen[REPO_REMOTE_URL], "a URL (a string)");
	if (rc < 0)
		return rc;
	snprintf(key, sizeof(key), "%s.branch", prefix);
	if (seen[REPO_BRANCH] && !is_null(seen[REPO_BRANCH]))
		rc = read_string(&repo->branch, r, key, seen[REPO_BRANCH],
		                 "a branch, tag or commit (a string)");
	else if (!(repo->branch = jr_strdup(JOBREG_CONFIG_DEFAULT_BRANCH)))
		rc = JOBREG_ENOMEM;
	if (rc < 0)
		return rc;
	snprintf(key, sizeof(key), "%s.token_env", prefix);
	if (seen[REPO_TOKEN_ENV] && !is_null(seen[REPO_TOKEN_ENV]))
		rc = read_string(&repo->token_env, r, key, seen[REPO_TOKEN_ENV],
		                 "the name of an environment variable (a string)");
	if (rc < 0)
		return rc;
	snprintf(key, sizeof(key), "%s.nautobot_compat", prefix);
	repo->nautobot_compat = JOBREG_COMPAT_DEFAULT;
	if (seen[REPO_NAUTOBOT_COMPAT])
		rc = read_compat(&repo->nautobot_compat, r, key, seen[REPO_NAUTOBOT_COMPAT], 0);
	return rc;
}

static int read_repositories(struct reader *r, const jr_ynode *n)
{
	jobreg_config *cfg = r->cfg;
	char kind[80];
	size_t i;
	int rc;

	if (is_null(n))
		return 0;
	if (n->kind != JR_YSEQ)
		return fail(r, n, "'git_repositories' must be a list of mappings (- slug: ...), not %s",
		            what_is(n, kind, sizeof(kind)));
	if (!n->count)
		return 0;
	cfg->repositories = calloc(n->count, sizeof(*cfg->repositories));
	if (!cfg->repositories)
		return jr_error_oom();
	for (i = 0; i < n->count; i++) {
		char prefix[64];

		snprintf(prefix, sizeof(prefix), "git_repositories[%zu]", i);
		/* Counted first: a half-read repository is freed with the rest. */
		cfg->repository_count = i + 1;
		rc = locate_add(r, prefix, n->items[i]);
		if (rc == 0)
			rc = read_repository(r, &cfg->repositories[i], prefix, n->items[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int read_seconds(double *out, struct reader *r, const char *key, const jr_ynode *n)
{
	char kind[80];

	if (is_null(n))
		return 0;
	if (n->kind != JR_YSCALAR || (n->type != JR_YINT && n->type != JR_YFLOAT))
		return fail(r, n, "'%s' must be a number of seconds (0 for no limit), not %s", key,
		            what_is(n, kind, sizeof(kind)));
	if (!isfinite(n->number) || n->number < 0 || n->number > JOBREG_CONFIG_IMPORT_TIMEOUT_MAX)
		return fail(r, n, "'%s' must be between 0 (no limit) and %.0f seconds, not %s", key,
		            JOBREG_CONFIG_IMPORT_TIMEOUT_MAX, what_is(n, kind, sizeof(kind)));
	*out = n->number;
	return 0;
}

static int read_isolation(int *out, struct reader *r, const char *key, const jr_ynode *n)
{
	char kind[80];

	if (is_null(n))
		return 0;
	if (n->kind == JR_YSCALAR && n->type == JR_YSTR && strlen(n->text) == n->len) {
		if (strcmp(n->text, "process") == 0) {
			*out = JOBREG_ISOLATION_PROCESS;
			return 0;
		}
		if (strcmp(n->text, "none") == 0) {
			*out = JOBREG_ISOLATION_NONE;
			return 0;
		}
	}
	return fail(r, n, "'%s' must be \"process\" or \"none\", not %s", key,
	            what_is(n, kind, sizeof(kind)));
}

/* A whole number from `least` to 1,000,000. */
static int read_count(unsigned int *out, struct reader *r, const char *key, const jr_ynode *n,
                      unsigned int least)
{
	char kind[80];

	if (is_null(n))
		return 0;
	if (n->kind != JR_YSCALAR || n->type != JR_YINT || n->number < least || n->number > 1e6)
		return fail(r, n, "'%s' must be a whole number from %u to 1000000, not %s", key, least,
		            what_is(n, kind, sizeof(kind)));
	*out = (unsigned int)n->number;
	return 0;
}

enum top_key {
	KEY_JOBS_ROOT,
	KEY_GIT_ROOT,
	KEY_DATABASE,
	KEY_PYTHON_PATH,
	KEY_NAUTOBOT_COMPAT,
	KEY_IMPORT_TIMEOUT,
	KEY_GIT_REPOSITORIES,
	KEY_APPS,
	KEY_ISOLATION,
	KEY_WORKERS,
	KEY_WORKER_MEMORY_LIMIT_MB,
	KEY_PASSWORD_ENV,
	TOP_KEYS
};

static const char *const top_keys[] = { "jobs_root",
	                                    "git_root",
	                                    "database",
	                                    "python_path",
	                                    "nautobot_compat",
	                                    "import_timeout",
	                                    "git_repositories",
	                                    "apps",
	                                    "isolation",
	                                    "workers",
	                                    "worker_memory_limit_mb",
	                                    "password_env",
	                                    NULL };

static int read_value(struct reader *r, int k, const jr_ynode *v)
{
	jobreg_config *cfg = r->cfg;
	const char *key = top_keys[k];

	switch (k) {
	case KEY_JOBS_ROOT:
		return is_null(v) ? 0 : read_path(&cfg->jobs_root, r, key, v);
	case KEY_GIT_ROOT:
		return is_null(v) ? 0 : read_path(&cfg->git_root, r, key, v);
	case KEY_DATABASE:
		return is_null(v) ? 0 : read_database(r, key, v);
	case KEY_PYTHON_PATH:
		return read_string_list(&cfg->python_path, &cfg->python_path_count, r, key, v, read_path,
		                        "lib");
	case KEY_NAUTOBOT_COMPAT:
		return read_compat(&cfg->nautobot_compat, r, key, v, 1);
	case KEY_IMPORT_TIMEOUT:
		return read_seconds(&cfg->import_timeout, r, key, v);
	case KEY_GIT_REPOSITORIES:
		return read_repositories(r, v);
	case KEY_APPS:
		return read_string_list(&cfg->apps, &cfg->app_count, r, key, v, read_package, "my_app");
	case KEY_ISOLATION:
		return read_isolation(&cfg->isolation, r, key, v);
	case KEY_WORKERS:
		return read_count(&cfg->workers, r, key, v, 1);
	case KEY_PASSWORD_ENV:
		return is_null(v) ? 0 : read_string(&cfg->password_env, r, key, v, "a variable name");
	case KEY_WORKER_MEMORY_LIMIT_MB:
		return read_count(&cfg->worker_memory_limit_mb, r, key, v, 0);
	}
	return 0;
}

static int read_document(struct reader *r, const jr_ydoc *doc)
{
	const jr_ynode *seen_keys[TOP_KEYS] = { NULL }, *seen[TOP_KEYS] = { NULL };
	const jr_ynode *root = doc->root;
	char kind[80];
	size_t i;
	int k, rc;

	if (!root || is_null(root))
		return jr_error_set(JOBREG_ECONFIG,
		                    "%s:%u:%u: the configuration is empty: expected a mapping of "
		                    "settings such as 'jobs_root: jobs'",
		                    r->name, root ? root->line : 1, root ? root->column : 1);
	if (root->kind != JR_YMAP)
		return fail(r, root, "the top level must be a mapping of settings (key: value), not %s",
		            what_is(root, kind, sizeof(kind)));
	rc = read_mapping_keys(r, root, NULL, top_keys, seen_keys, seen);
	if (rc < 0)
		return rc;
	/* Values in the order written, so the first error reported is the first in the file. */
	for (i = 0; i < JR_YPAIRS(root); i++)
		for (k = 0; k < TOP_KEYS; k++)
			if (seen_keys[k] == JR_YKEY(root, i) && (rc = read_value(r, k, seen[k])) < 0)
				return rc;
	return 0;
}

static int fill_defaults(jobreg_config *cfg)
{
	if (!cfg->git_root &&
	    !(cfg->git_root = absolute_path(cfg->dir, JOBREG_CONFIG_DEFAULT_GIT_ROOT)))
		return JOBREG_ENOMEM;
	if (!cfg->database &&
	    !(cfg->database = absolute_path(cfg->dir, JOBREG_CONFIG_DEFAULT_DATABASE)))
		return JOBREG_ENOMEM;
	return 0;
}

/* Parse with `cfg->path` and `cfg->dir` already set. */
static int parse_into(jobreg_config *cfg, const char *text, size_t len, const char *name)
{
	struct reader r = { cfg, name };
	jr_ydoc doc;
	int rc;

	memset(&doc, 0, sizeof(doc));
	rc = jr_ydoc_parse(&doc, text ? text : "", text ? len : 0, name);
	if (rc == 0)
		rc = read_document(&r, &doc);
	if (rc == 0)
		rc = fill_defaults(cfg);
	jr_ydoc_free(&doc);
	return rc;
}

static jobreg_config *config_new(void)
{
	jobreg_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg) {
		jr_error_oom();
		return NULL;
	}
	cfg->nautobot_compat = JOBREG_COMPAT_AUTO;
	cfg->isolation = -1;
	return cfg;
}

int jobreg_config_parse(jobreg_config **out, const char *text, size_t len, const char *base_dir,
                        const char *name_for_errors)
{
	jobreg_config *cfg;
	char *cwd = NULL;
	int rc;

	if (!out)
		return jr_error_set(JOBREG_EINVAL, "jobreg_config_parse: out is NULL");
	*out = NULL;
	if (!text && len)
		return jr_error_set(JOBREG_EINVAL, "jobreg_config_parse: text is NULL");
	if (!(cfg = config_new()))
		return JOBREG_ENOMEM;
	rc = JOBREG_ENOMEM;
	cfg->path = jr_strdup(name_for_errors ? name_for_errors : "<config>");
	if (!cfg->path)
		goto fail;
	if (!base_dir || base_dir[0] != '/') {
		if (!(cwd = working_folder())) {
			rc = jr_error_code();
			goto fail;
		}
	}
	cfg->dir = absolute_path(cwd ? cwd : "/", base_dir ? base_dir : ".");
	free(cwd);
	if (!cfg->dir)
		goto fail;
	rc = parse_into(cfg, text, len, cfg->path);
	if (rc < 0)
		goto fail;
	*out = cfg;
	return 0;
fail:
	jobreg_config_free(cfg);
	return rc;
}

static int read_file(char **text, size_t *len, const char *path)
{
	jr_buf b = JR_BUF_INIT;
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return jr_error_set(JOBREG_EIO, "cannot read %s: %s", path, strerror(errno));
	for (;;) {
		if (jr_buf_grow(&b, 65536) < 0) {
			fclose(f);
			return JOBREG_ENOMEM;
		}
		n = fread(b.ptr + b.len, 1, 65536, f);
		b.len += n;
		b.ptr[b.len] = '\0';
		if (n < 65536)
			break;
		if (b.len > CONFIG_FILE_MAX) {
			fclose(f);
			jr_buf_free(&b);
			return jr_error_set(JOBREG_ECONFIG, "%s: larger than %u bytes: not a configuration",
			                    path, CONFIG_FILE_MAX);
		}
	}
	if (ferror(f)) {
		int saved = errno;

		fclose(f);
		jr_buf_free(&b);
		return jr_error_set(JOBREG_EIO, "cannot read %s: %s", path, strerror(saved));
	}
	fclose(f);
	*len = b.len;
	*text = jr_buf_detach(&b);
	return *text ? 0 : JOBREG_ENOMEM;
}

int jobreg_config_load(jobreg_config **out, const char *path)
{
	jobreg_config *cfg;
	char *text = NULL, *cwd = NULL;
	size_t len = 0;
	int rc;

	if (!out)
		return jr_error_set(JOBREG_EINVAL, "jobreg_config_load: out is NULL");
	*out = NULL;
	if (!path || !*path)
		return jr_error_set(JOBREG_EINVAL, "jobreg_config_load: no file given");
	if ((rc = read_file(&text, &len, path)) < 0)
		return rc;
	if (!(cfg = config_new())) {
		free(text);
		return JOBREG_ENOMEM;
	}
	rc = JOBREG_ENOMEM;
	if (path[0] != '/' && !(cwd = working_folder())) {
		rc = jr_error_code();
		goto fail;
	}
	cfg->path = absolute_path(cwd ? cwd : "/", path);
	free(cwd);
	if (!cfg->path || !(cfg->dir = folder_of(cfg->path)))
		goto fail;
	rc = parse_into(cfg, text, len, path);
	if (rc < 0)
		goto fail;
	free(text);
	*out = cfg;
	return 0;
fail:
	free(text);
	jobreg_config_free(cfg);
	return rc;
}

static void free_strings(char **items, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		free(items[i]);
	free(items);
}

void jobreg_config_free(jobreg_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->dir);
	free(cfg->jobs_root);
	free(cfg->git_root);
	free(cfg->database);
	free(cfg->password_env);
	free_strings(cfg->python_path, cfg->python_path_count);
	for (i = 0; i < cfg->repository_count; i++) {
		free(cfg->repositories[i].slug);
		free(cfg->repositories[i].remote_url);
		free(cfg->repositories[i].branch);
		free(cfg->repositories[i].token_env);
	}
	free(cfg->repositories);
	free_strings(cfg->apps, cfg->app_count);
	for (i = 0; i < cfg->location_count; i++)
		free(cfg->locations[i].key);
	free(cfg->locations);
	free(cfg);
}

/* ---- getters ---- */

const char *jobreg_config_path(const jobreg_config *cfg)
{
	return cfg ? cfg->path : NULL;
}

const char *jobreg_config_dir(const jobreg_config *cfg)
{
	return cfg ? cfg->dir : NULL;
}

const char *jobreg_config_jobs_root(const jobreg_config *cfg)
{
	return cfg ? cfg->jobs_root : NULL;
}

const char *jobreg_config_git_root(const jobreg_config *cfg)
{
	return cfg ? cfg->git_root : NULL;
}

const char *jobreg_config_database(const jobreg_config *cfg)
{
	return cfg ? cfg->database : NULL;
}

const char *jobreg_config_database_password_env(const jobreg_config *cfg)
{
	return cfg ? cfg->password_env : NULL;
}

size_t jobreg_config_python_path_count(const jobreg_config *cfg)
{
	return cfg ? cfg->python_path_count : 0;
}

const char *jobreg_config_python_path(const jobreg_config *cfg, size_t i)
{
	return cfg && i < cfg->python_path_count ? cfg->python_path[i] : NULL;
}

int jobreg_config_nautobot_compat(const jobreg_config *cfg)
{
	return cfg ? cfg->nautobot_compat : JOBREG_COMPAT_AUTO;
}

double jobreg_config_import_timeout(const jobreg_config *cfg)
{
	return cfg ? cfg->import_timeout : 0;
}

int jobreg_config_isolation(const jobreg_config *cfg)
{
	return cfg ? cfg->isolation : -1;
}

unsigned int jobreg_config_workers(const jobreg_config *cfg)
{
	return cfg ? cfg->workers : 0;
}

unsigned int jobreg_config_worker_memory_limit_mb(const jobreg_config *cfg)
{
	return cfg ? cfg->worker_memory_limit_mb : 0;
}

size_t jobreg_config_git_repository_count(const jobreg_config *cfg)
{
	return cfg ? cfg->repository_count : 0;
}

static const struct repository *repository(const jobreg_config *cfg, size_t i)
{
	return cfg && i < cfg->repository_count ? &cfg->repositories[i] : NULL;
}

const char *jobreg_config_git_repository_slug(const jobreg_config *cfg, size_t i)
{
	const struct repository *repo = repository(cfg, i);

	return repo ? repo->slug : NULL;
}

const char *jobreg_config_git_repository_remote_url(const jobreg_config *cfg, size_t i)
{
	const struct repository *repo = repository(cfg, i);

	return repo ? repo->remote_url : NULL;
}

const char *jobreg_config_git_repository_branch(const jobreg_config *cfg, size_t i)
{
	const struct repository *repo = repository(cfg, i);

	return repo ? repo->branch : NULL;
}

const char *jobreg_config_git_repository_token_env(const jobreg_config *cfg, size_t i)
{
	const struct repository *repo = repository(cfg, i);

	return repo ? repo->token_env : NULL;
}

int jobreg_config_git_repository_nautobot_compat(const jobreg_config *cfg, size_t i)
{
	const struct repository *repo = repository(cfg, i);

	return repo ? repo->nautobot_compat : JOBREG_COMPAT_DEFAULT;
}

size_t jobreg_config_app_count(const jobreg_config *cfg)
{
	return cfg ? cfg->app_count : 0;
}

const char *jobreg_config_app(const jobreg_config *cfg, size_t i)
{
	return cfg && i < cfg->app_count ? cfg->apps[i] : NULL;
}

int jobreg_config_locate(unsigned int *line, unsigned int *column, const jobreg_config *cfg,
                         const char *key)
{
	size_t i;

	if (!cfg || !key)
		return jr_error_set(JOBREG_EINVAL, "jobreg_config_locate: NULL argument");
	for (i = 0; i < cfg->location_count; i++) {
		if (strcmp(cfg->locations[i].key, key) == 0) {
			if (line)
				*line = cfg->locations[i].line;
			if (column)
				*column = cfg->locations[i].column;
			return 0;
		}
	}
	return jr_error_set(JOBREG_ENOTFOUND, "%s: '%s' is not set in the configuration", cfg->path,
	                    key);
}
