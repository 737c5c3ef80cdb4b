/*
 * source_git.c: the git repository source (SPEC 1.2): its options, the
 * rules of a slug, and what it gives the loader.
 *
 * Discovery reads only the checkout's HEAD (no GIL, no network): the
 * commit is the source's reload fingerprint, so a registry reload
 * re-imports a git source exactly when its head moved. It holds the
 * checkout's lock file shared until the load releases the source, so no
 * other process moves the files under the load. The import runs
 * GitSource of jobreg._loader, which checks the layout and imports
 * `<slug>` and `<slug>.jobs`; the head counts as loaded only once the
 * load publishes it. Fetching and moving the checkout are in git_sync.c.
 */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "error.h"
#include "git_internal.h"
#include "isolate.h"
#include "names.h"
#include "options.h"
#include "pyutil.h"
#include "runtime.h"
#include "util.h"

/* The fingerprint of "no checkout yet": fixed, so that reloading a git
 * source that was never synced imports it once, not at every reload. */
#define NO_CHECKOUT_FINGERPRINT 0x6e6f2d636865636bULL

static const size_t git_options_sizes[] = {
	JR_SIZE_THROUGH(jobreg_git_options, payload),
};

int jobreg_git_options_init(jobreg_git_options *opts, unsigned int version)
{
	static const jobreg_git_options defaults = JOBREG_GIT_OPTIONS_INIT;

	return jr_options_init(opts, &defaults, git_options_sizes, JOBREG_GIT_OPTIONS_VERSION, version,
	                       "jobreg_git_options");
}

/* ---- slug rules ---- */

static int refuse_slug(const char *slug, const char *rule)
{
	return jr_error_set(JOBREG_EINVAL, "git repository slug '%s' is refused: %s", slug, rule);
}

/* The rules that need no interpreter. */
static int check_slug_syntax(const char *slug)
{
	size_t len = strlen(slug);

	if (len == 0)
		return refuse_slug(slug, "it is empty");
	if (len > JOBREG_GIT_SLUG_MAX) {
		/* Shown shortened, never in the middle of a UTF-8 character. */
		int shown = 40;

		while (shown > 0 && ((unsigned char)slug[shown] & 0xc0) == 0x80)
			shown--;
		return jr_error_set(JOBREG_EINVAL,
		                    "git repository slug '%.*s...' (%zu characters) is refused: "
		                    "it is longer than %d characters",
		                    shown, slug, len, JOBREG_GIT_SLUG_MAX);
	}
	if (jr_is_keyword(slug, len))
		return refuse_slug(slug, "it is a Python keyword");
	if (!jr_is_module_name(slug, len))
		return refuse_slug(slug, "it is not a valid Python identifier (letters, digits and '_', "
		                         "not starting with a digit)");
	return 0;
}

/* The string attribute `name` of `obj`, as a new C string, or NULL (no error). */
static char *str_attr(PyObject *obj, const char *name)
{
	PyObject *value = PyObject_GetAttrString(obj, name);
	const char *text = value && PyUnicode_Check(value) ? PyUnicode_AsUTF8(value) : NULL;
	char *copy = text ? strdup(text) : NULL;

	PyErr_Clear();
	Py_XDECREF(value);
	return copy;
}

/* 1 when `file` is `<own_root>/__init__.py`, symlinks resolved. */
static int is_own_init(const char *file, const char *own_root)
{
	char real_file[PATH_MAX], real_root[PATH_MAX];
	size_t n;

	if (!file || !own_root || !realpath(file, real_file) || !realpath(own_root, real_root))
		return 0;
	n = strlen(real_root);
	return strncmp(real_file, real_root, n) == 0 && strcmp(real_file + n, "/__init__.py") == 0;
}

/*
 * Whether `slug` names a module importable from outside `own_root` (NULL:
 * from anywhere): 1 with `*where` describing it (free it), 0, or an error.
 * GIL held.
 */
static int importable_elsewhere(char **where, const char *slug, const char *own_root)
{
	PyObject *mod = PyDict_GetItemString(PyImport_GetModuleDict(), slug); /* borrowed */
	PyObject *util, *spec = NULL;
	char *origin = NULL;

	*where = NULL;
	if (mod) {
		origin = str_attr(mod, "__file__");
		if (is_own_init(origin, own_root)) {
			free(origin);
			return 0;
		}
		*where = origin ? origin : strdup("a module already loaded (built-in or generated)");
		return *where ? 1 : jr_error_oom();
	}
	util = PyImport_ImportModule("importlib.util");
	if (util) {
		spec = PyObject_CallMethod(util, "find_spec", "s", slug);
		Py_DECREF(util);
	}
	if (!spec) {
		/* A finder that raises for this name is no module we could shadow. */
		PyErr_Clear();
		return 0;
	}
	if (spec == Py_None) {
		Py_DECREF(spec);
		return 0;
	}
	origin = str_attr(spec, "origin");
	if (!origin) {
		PyObject *locations = PyObject_GetAttrString(spec, "submodule_search_locations");
		PyObject *first = locations ? PySequence_GetItem(locations, 0) : NULL;
		const char *text = first && PyUnicode_Check(first) ? PyUnicode_AsUTF8(first) : NULL;

		origin = text ? jr_asprintf("the namespace package at %s", text) : NULL;
		PyErr_Clear();
		Py_XDECREF(first);
		Py_XDECREF(locations);
	}
	Py_DECREF(spec);
	if (is_own_init(origin, own_root)) {
		free(origin);
		return 0;
	}
	*where = origin ? origin : strdup("a module on sys.path");
	return *where ? 1 : jr_error_oom();
}

/*
 * 1 when NFKC normalization changes `text`: Python normalizes identifiers in
 * source code (`import ﬁle` imports `file`), so such a slug names a module
 * that no import statement can reach. 0 when unchanged; an error code when
 * the check itself fails. GIL held.
 */
static int nfkc_changes(PyObject *text)
{
	PyObject *unicodedata, *normalized = NULL;
	int same;

	if (PyUnicode_IS_ASCII(text))
		return 0; /* ASCII is its own normal form: the common case stays cheap */
	unicodedata = PyImport_ImportModule("unicodedata");
	if (unicodedata) {
		normalized = PyObject_CallMethod(unicodedata, "normalize", "sO", "NFKC", text);
		Py_DECREF(unicodedata);
	}
	if (!normalized)
		return jr_error_from_python(JOBREG_EPYTHON, "normalizing a git repository slug");
	same = PyUnicode_Compare(normalized, text) == 0;
	Py_DECREF(normalized);
	return same ? 0 : 1;
}

/* The interpreter's rules: a real identifier, and nothing to shadow. GIL held. */
static int check_slug_python(const char *slug, const char *own_root)
{
	PyObject *text = PyUnicode_FromString(slug);
	char *where = NULL;
	int ok, rc;

	if (!text) {
		PyErr_Clear();
		return refuse_slug(slug, "it is not valid UTF-8");
	}
	ok = PyUnicode_IsIdentifier(text);
	if (ok <= 0) {
		Py_DECREF(text);
		PyErr_Clear();
		return refuse_slug(slug, "it is not a valid Python identifier");
	}
	rc = nfkc_changes(text);
	Py_DECREF(text);
	if (rc != 0)
		return rc < 0 ? rc
		              : refuse_slug(slug, "Unicode NFKC normalization changes it, and Python "
		                                  "normalizes names in `import` statements, so no code "
		                                  "could import the repository by that name");
	rc = importable_elsewhere(&where, slug, own_root);
	if (rc > 0) {
		rc = jr_error_set(JOBREG_EINVAL,
		                  "git repository slug '%s' is refused: a module of that name is "
		                  "importable from elsewhere (%s) and the repository would shadow it",
		                  slug, where);
		free(where);
	}
	return rc;
}

int jr_git_check_slug_free(const char *slug, const char *own_root)
{
	PyGILState_STATE gil;
	int rc;

	if ((rc = check_slug_syntax(slug)) < 0)
		return rc;
	if ((rc = jr_runtime_require("checking a git repository slug")) < 0)
		return rc;
	gil = PyGILState_Ensure();
	rc = check_slug_python(slug, own_root);
	PyGILState_Release(gil);
	return rc;
}

int jobreg_git_slug_check(const char *slug)
{
	if (!slug)
		return jr_error_set(JOBREG_EINVAL, "jobreg_git_slug_check: slug is NULL");
	return jr_git_check_slug_free(slug, NULL);
}

/* ---- the source type ---- */

static int move_in_this_process(jr_git_source *g)
{
	int yes;

	pthread_mutex_lock(&g->state_lock);
	yes = g->move_holds_lock_file;
	pthread_mutex_unlock(&g->state_lock);
	return yes;
}

/*
 * Take a shared lock on the checkout's lock file for this load, so that no
 * other process moves the checkout while the load reads it (movers take it
 * exclusively); git_release() drops it. While another process moves the
 * checkout, a load that has code keeps it, at once (returns 1), and a
 * first load waits for the move to end, unless its transaction may never
 * wait: a move's own load, whose owner holds its own checkout's lock file
 * (two movers each waiting for the other's checkout would wait forever).
 * A move of this very source in this process holds the lock itself: the
 * load goes on without it (the move's own load, or a load while the move
 * fetches and the files stand still).
 */
static int lock_for_load(jr_git_source *g, const jr_load_plan *plan, int have_code)
{
	int fd = open(g->lock_path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);

	/* No git root yet (nothing to read), or a folder we may not write:
	 * the load goes on unlocked (docs/workers.md). */
	if (fd < 0)
		return 0;
	for (;;) {
		if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
			g->load_lock_fd = fd;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK || move_in_this_process(g) || (plan->never_wait && !have_code)) {
			close(fd);
			return 0;
		}
		if (have_code) {
			close(fd);
			return 1;
		}
		/* Polling, not a blocking flock: a move of this source that
		 * starts now in another thread would wait for our load. */
		usleep(20000);
	}
}

/* This load keeps the code imported last; the checkout is not read. */
static void keep_imported(jr_git_source *g, jr_load_plan *plan)
{
	plan->fingerprint = jr_git_fingerprint(&g->imported);
	git_oid_tostr(plan->commit, sizeof(plan->commit), &g->imported);
	plan->keep_loaded = 1;
	g->discovered = g->imported;
	g->discovered_valid = 1;
}

static int git_discover(jobreg_source *src, jr_load_plan *plan)
{
	jr_git_source *g = jr_git_of(src);
	git_oid head;
	int rc, have_code;

	pthread_mutex_lock(&g->state_lock);
	have_code = g->imported_valid;
	if (g->moving && have_code) {
		/* Half-way through an ensure-head in another thread: what is on
		 * disk is not accepted yet, so this load keeps what it has. */
		keep_imported(g, plan);
		pthread_mutex_unlock(&g->state_lock);
		return 0;
	}
	pthread_mutex_unlock(&g->state_lock);
	if (lock_for_load(g, plan, have_code)) {
		pthread_mutex_lock(&g->state_lock);
		keep_imported(g, plan);
		pthread_mutex_unlock(&g->state_lock);
		return 0;
	}
	rc = jr_git_read_head(&head, g, src->root);

	pthread_mutex_lock(&g->state_lock);
	g->discovered_valid = rc == 0;
	if (rc == 0) {
		git_oid_cpy(&g->discovered, &head);
		plan->fingerprint = jr_git_fingerprint(&head);
		git_oid_tostr(plan->commit, sizeof(plan->commit), &head);
	} else {
		/* No checkout: the loader reports what is missing. A damaged one
		 * (0) is imported at every load, from whatever files are there. */
		plan->fingerprint = rc == JOBREG_ENOTFOUND ? NO_CHECKOUT_FINGERPRINT : 0;
	}
	pthread_mutex_unlock(&g->state_lock);
	return 0;
}

int jr_git_imported_from_checkout(const jr_git_source *g, const jr_part *part)
{
	PyObject *modules, *pkg, *file;
	PyGILState_STATE gil;
	char *jobs, real_root[PATH_MAX], real_file[PATH_MAX];
	const char *text;
	int ok = 0;

	if (part && part->code) /* imported in a worker process, which looked */
		return part->code->from_checkout;
	gil = PyGILState_Ensure();
	jobs = jr_asprintf("%s.jobs", g->base.name);
	modules = PyImport_GetModuleDict();
	pkg = PyDict_GetItemString(modules, g->base.name);
	if (jobs && pkg && PyDict_GetItemString(modules, jobs)) {
		file = PyObject_GetAttrString(pkg, "__file__");
		text = file && PyUnicode_Check(file) ? PyUnicode_AsUTF8(file) : NULL;
		if (text && realpath(text, real_file) && realpath(g->base.root, real_root)) {
			size_t n = strlen(real_root);
			ok = strncmp(real_file, real_root, n) == 0 &&
			     strcmp(real_file + n, "/__init__.py") == 0;
		}
		Py_XDECREF(file);
	}
	PyErr_Clear();
	PyGILState_Release(gil);
	free(jobs);
	return ok;
}

/* Imports, and notes whether the code passed the acceptance check (for
 * jobreg_git_record_head(), whoever made the load). */
static int git_import(jobreg_source *src, jr_load_plan *plan)
{
	jr_git_source *g = jr_git_of(src);
	int rc = jr_source_import_python(src, plan, "GitSource", Py_None);
	int ok = rc == 0 && !plan->keep_loaded && jr_git_imported_from_checkout(g, plan->part);

	pthread_mutex_lock(&g->state_lock);
	g->import_ok = ok;
	pthread_mutex_unlock(&g->state_lock);
	return rc;
}

static void git_release(jobreg_source *src)
{
	jr_git_source *g = jr_git_of(src);

	if (g->load_lock_fd >= 0)
		close(g->load_lock_fd); /* releases the flock */
	g->load_lock_fd = -1;
}

/* The head discovery saw is now the registry's code (ensure-head asks). */
static void git_published(jobreg_source *src)
{
	jr_git_source *g = jr_git_of(src);

	pthread_mutex_lock(&g->state_lock);
	g->imported = g->discovered;
	g->imported_valid = g->discovered_valid;
	g->imported_ok = g->import_ok;
	pthread_mutex_unlock(&g->state_lock);
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void git_free(jobreg_source *src)
{
	jr_git_source *g = jr_git_of(src);

	wipe_free(g->remote_url);
	wipe_free(g->secrets[0]);
	wipe_free(g->secrets[1]);
	free(g->remote_url_redacted);
	free(g->branch);
	free(g->git_root);
	free(g->lock_path);
	free(g->trial_path);
	jr_snapshot_unref(g->refused);
	git_release(src);
	pthread_mutex_destroy(&g->op_lock);
	pthread_mutex_destroy(&g->state_lock);
	git_libgit2_shutdown();
}

static const struct jr_source_ops git_ops = {
	.discover = git_discover,
	.import = git_import,
	.release = git_release,
	.published = git_published,
	.free = git_free,
};

/* A branch or tag name git would accept, or a commit id. */
static int check_branch(const char *branch)
{
	char *refname;
	int valid = 0;

	if (!*branch)
		return jr_error_set(JOBREG_EINVAL, "git branch is empty: name a branch, tag or commit");
	if (jr_git_is_commit_id(branch))
		return 0;
	refname = jr_asprintf("refs/heads/%s", branch);
	if (!refname)
		return JOBREG_ENOMEM;
	if (git_reference_name_is_valid(&valid, refname) < 0)
		valid = 0;
	free(refname);
	if (!valid)
		return jr_error_set(JOBREG_EINVAL,
		                    "git branch '%s' is not a valid branch, tag or commit name", branch);
	return 0;
}

static int check_required(const char *value, const char *field)
{
	if (!value || !*value)
		return jr_error_set(JOBREG_EINVAL, "jobreg_git_options.%s is required", field);
	return 0;
}

/* Everything but the common source fields, from validated options. */
static int fill(jr_git_source *g, const jobreg_git_options *opts, const char *git_root)
{
	g->remote_url = jr_strdup(opts->remote_url);
	g->remote_url_redacted = jr_git_redact_url(opts->remote_url);
	g->branch = jr_strdup(opts->branch ? opts->branch : "main");
	g->git_root = jr_strdup(git_root);
	g->lock_path = jr_asprintf("%s/.%s.lock", git_root, opts->slug);
	g->trial_path = jr_asprintf("%s/.%s.trial", git_root, opts->slug);
	if (!g->remote_url || !g->remote_url_redacted || !g->branch || !g->git_root || !g->lock_path ||
	    !g->trial_path)
		return JOBREG_ENOMEM;
	g->credentials = opts->credentials;
	g->progress = opts->progress;
	g->payload = opts->payload;
	return jr_git_url_secrets(opts->remote_url, &g->secrets[0], &g->secrets[1]);
}

int jobreg_source_git_new(jobreg_source **out, const jobreg_git_options *user_opts)
{
	jobreg_git_options opts = JOBREG_GIT_OPTIONS_INIT;
	jobreg_source *src = NULL;
	jr_git_source *g;
	char *git_root = NULL, *root = NULL;
	size_t len;
	int rc;

	if (!out || !user_opts)
		return jr_error_set(JOBREG_EINVAL, "jobreg_source_git_new: NULL argument");
	rc = jr_options_read(&opts, user_opts, git_options_sizes, JOBREG_GIT_OPTIONS_VERSION,
	                     "jobreg_git_options");
	if (rc == 0 && !opts.slug)
		rc = jr_error_set(JOBREG_EINVAL, "jobreg_git_options.slug is required");
	if (rc == 0)
		rc = check_required(opts.remote_url, "remote_url");
	if (rc == 0)
		rc = check_required(opts.git_root, "git_root");
	if (rc == 0)
		rc = jobreg_git_slug_check(opts.slug);
	if (rc < 0)
		return rc;
	if ((rc = git_libgit2_init()) < 0)
		return jr_error_set(JOBREG_EGIT, "libgit2 failed to start");
	rc = check_branch(opts.branch ? opts.branch : "main");
	if (rc < 0)
		goto fail;

	len = strlen(opts.git_root);
	while (len > 1 && opts.git_root[len - 1] == '/')
		len--;
	git_root = jr_strndup(opts.git_root, len);
	root = git_root ? jr_asprintf("%s/%s", git_root, opts.slug) : NULL;
	rc = root ? jr_source_new(&src, JOBREG_SOURCE_GIT, opts.slug, root, &git_ops) : JOBREG_ENOMEM;
	if (rc < 0)
		goto fail;
	/* Grow the common source into a git source; nothing points at it yet. */
	g = realloc(src, sizeof(*g));
	if (!g) {
		src->ops = NULL; /* git_free must not see a half-made source */
		jr_source_destroy(src);
		rc = jr_error_oom();
		goto fail;
	}
	memset((char *)g + sizeof(g->base), 0, sizeof(*g) - sizeof(g->base));
	pthread_mutex_init(&g->op_lock, NULL);
	pthread_mutex_init(&g->state_lock, NULL);
	g->load_lock_fd = -1;
	rc = fill(g, &opts, git_root);
	free(git_root);
	free(root);
	if (rc < 0) {
		jr_source_destroy(&g->base); /* git_free shuts libgit2 down once */
		return rc;
	}
	*out = &g->base;
	return 0;
fail:
	free(git_root);
	free(root);
	git_libgit2_shutdown();
	return rc;
}

/* ---- getters ---- */

static jr_git_source *git_source(const jobreg_source *src)
{
	return src && src->type == JOBREG_SOURCE_GIT ? (jr_git_source *)src : NULL;
}

const char *jobreg_source_git_remote_url(const jobreg_source *src)
{
	jr_git_source *g = git_source(src);

	return g ? g->remote_url_redacted : NULL;
}

const char *jobreg_source_git_branch(const jobreg_source *src)
{
	jr_git_source *g = git_source(src);

	return g ? g->branch : NULL;
}

int jobreg_source_git_head(char out[JOBREG_GIT_HEAD_SIZE], const jobreg_source *src)
{
	jr_git_source *g = git_source(src);
	git_oid head;
	int rc;

	if (!out)
		return jr_error_set(JOBREG_EINVAL, "jobreg_source_git_head: out is NULL");
	if (!g)
		return jr_error_set(JOBREG_EINVAL, "jobreg_source_git_head: not a git source");
	rc = jr_git_read_head(&head, g, src->root);
	if (rc == 0)
		git_oid_tostr(out, JOBREG_GIT_HEAD_SIZE, &head);
	return rc;
}
