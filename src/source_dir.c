/*
 * source_dir.c: the jobs-root source (SPEC 1.1).
 *
 * Discovery is a file-system walk that runs no code: every `.py` file under
 * the root is a module named by its relative path, sub-folders with
 * `__init__.py` are packages, the others namespace packages. File names
 * follow pkgutil, as Nautobot does: `my-jobs.py` is the module `my-jobs`,
 * `a.b.py` is no module at all. Hidden folders, `__pycache__` and folders
 * that are no module name are skipped; files whose real path leaves the
 * root are refused. The walk also folds every name, size and time it sees
 * into a fingerprint, so a reload can tell cheaply whether anything
 * changed.
 *
 * A reload should not even walk when nothing changed: each walk watches
 * every folder it enters with inotify, and the source keeps the walk's
 * result. While the watches report nothing, discovery hands that result
 * out again without touching the tree; any event, or anything the watches
 * could miss (links, hard links, network file systems, JOBREG_NO_INOTIFY),
 * means a walk ("Reloads" in docs/architecture.md).
 */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "error.h"
#include "names.h"
#include "pyutil.h"
#include "source.h"
#include "util.h"

#define MAX_DEPTH 64

/* What a folder's watch reports: any change of its entries or itself. */
#define FOLDER_EVENTS                                                              \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | IN_ATTRIB | \
	 IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW)

struct walk {
	jr_load_plan *plan; /* NULL: only compute the fingerprint */
	uint64_t fingerprint;
	const char *root_real; /* the root with every link resolved */
	size_t root_len;
	dev_t seen_dev[MAX_DEPTH];
	ino_t seen_ino[MAX_DEPTH];
	int depth;
	int fd;       /* inotify fd that each folder entered is added to; -1: none */
	int complete; /* so far every folder is watched and nothing escapes the watches */
};

/* A discovery error of the last walk, handed out again with its result. */
struct kept_error {
	char *module, *file, *type, *message, *traceback;
	int line;
};

/*
 * A source's last walk, kept while its inotify watches report nothing.
 * Only discovery and import touch it, under the registry's load lock.
 */
struct jr_dir_watch {
	int fd;           /* inotify; -1: none */
	pid_t pid;        /* the process that opened it */
	int valid;        /* the fields below hold a complete, fully watched walk */
	int with_modules; /* walked for a plan (a jobs root), not just a fingerprint */
	char *root;       /* the source's root string the walk was asked for */
	char *root_real;
	struct stat root_st;
	uint64_t fingerprint;
	jr_module_entry *modules;
	size_t module_count;
	struct kept_error *errors;
	size_t error_count;
};

static uint64_t walk_count;

uint64_t jr_dir_walk_count(void)
{
	return __atomic_load_n(&walk_count, __ATOMIC_RELAXED);
}

/* The tree is on a file system where inotify misses other machines'
 * changes (or cannot be asked): those are always walked. */
static int remote_fs(const char *path)
{
	struct statfs fs;

	if (statfs(path, &fs) < 0)
		return 1;
	switch ((uint32_t)fs.f_type) {
	case 0x6969UL:     /* NFS */
	case 0x517BUL:     /* SMB */
	case 0xFF534D42UL: /* CIFS */
	case 0xFE534D42UL: /* SMB2 */
	case 0x65735546UL: /* FUSE (sshfs, virtiofs, ...) */
	case 0x01021997UL: /* 9p (v9fs) */
	case 0x00C36400UL: /* Ceph */
	case 0x5346414FUL: /* AFS */
	case 0x6B414653UL: /* kAFS */
	case 0x73757245UL: /* Coda */
	case 0x564CUL:     /* NCP */
	case 0x01161970UL: /* GFS2 */
	case 0x7461636FUL: /* OCFS2 */
	case 0x0BD00BD0UL: /* Lustre */
	case 0x47504653UL: /* GPFS */
		return 1;
	default:
		return 0;
	}
}

/* JOBREG_NO_INOTIFY set (to anything but "" or "0"): always walk. */
static int inotify_disabled(void)
{
	const char *v = getenv("JOBREG_NO_INOTIFY");

	return v && v[0] && strcmp(v, "0") != 0;
}

static void watch_folder(struct walk *w, const char *path)
{
	if (w->fd >= 0 && inotify_add_watch(w->fd, path, FOLDER_EVENTS) < 0)
		w->complete = 0; /* a limit, a permission: this tree is walked every time */
}

static void fold_stat(uint64_t *h, const char *path, const struct stat *st)
{
	jr_fnv_fold(h, path, strlen(path) + 1);
	jr_fnv_fold(h, &st->st_ino, sizeof(st->st_ino));
	jr_fnv_fold(h, &st->st_size, sizeof(st->st_size));
	jr_fnv_fold(h, &st->st_mtim, sizeof(st->st_mtim));
	jr_fnv_fold(h, &st->st_ctim, sizeof(st->st_ctim));
}

/*
 * A load error of the part. Names and paths are escaped (jr_escape()): a
 * load error's strings are UTF-8 like every string of the API, and a name
 * that is not UTF-8 still reads `bad\xff.py`.
 */
static int part_error(jr_part *part, const char *module, const char *path, const char *type,
                      const char *why)
{
	char *m = jr_escape(module), *p = jr_escape(path), *w = jr_escape(why);
	int rc = JOBREG_ENOMEM;

	if (m && p && w)
		rc = jr_part_add_error(part, m, p, 0, type, w, "");
	free(m);
	free(p);
	free(w);
	return rc;
}

static int refuse(struct walk *w, const char *module, const char *path, const char *why)
{
	if (!w->plan)
		return 0;
	return part_error(w->plan->part, module, path, "ImportError", why);
}

static int add_module(struct walk *w, const char *name, const char *path, enum jr_module_kind kind)
{
	return w->plan ? jr_plan_add_module(w->plan, name, path, kind) : 0;
}

/* 1 when `real` is the root or lies below it. */
static int inside_root(const struct walk *w, const char *real)
{
	return strncmp(real, w->root_real, w->root_len) == 0 &&
	       (real[w->root_len] == '/' || real[w->root_len] == '\0');
}

static int walk_folder(struct walk *w, const char *folder, const char *prefix);

/* Folders keep the strict rule: a package must be importable by name. */
static int is_walked_folder(const char *name)
{
	return jr_is_module_name(name, strlen(name)) && strcmp(name, "__pycache__") != 0;
}

static int visit_folder(struct walk *w, const char *path, const char *name, const char *prefix,
                        const struct stat *st)
{
	char module[PATH_MAX], init[PATH_MAX + 16];
	struct stat init_st;
	int i, rc;

	/* Module names are text: a folder whose name is not would fail the
	 * load of the whole root, so it is an error of its own. */
	if (!jr_utf8_valid(name, strlen(name)))
		return refuse(w, "", path, "not imported: the folder name is not valid UTF-8");
	if (!is_walked_folder(name))
		return 0;
	for (i = 0; i < w->depth; i++) {
		if (w->seen_dev[i] == st->st_dev && w->seen_ino[i] == st->st_ino)
			return 0; /* a link back to a folder being walked: no cycles */
	}
	if (w->depth == MAX_DEPTH)
		return refuse(w, "", path, "folder nesting is deeper than 64 levels");
	/* Watched before it is read: a change from now on is an event. */
	if (w->complete && st->st_dev != w->seen_dev[0] && remote_fs(path))
		w->complete = 0;
	watch_folder(w, path);
	snprintf(module, sizeof(module), "%s%s", prefix, name);
	snprintf(init, sizeof(init), "%s/__init__.py", path);
	if (stat(init, &init_st) == 0 && S_ISREG(init_st.st_mode)) {
		if (init_st.st_nlink > 1)
			w->complete = 0; /* it can change through a path nobody watches */
		fold_stat(&w->fingerprint, init, &init_st);
		rc = add_module(w, module, path, JR_MODULE_PACKAGE);
	} else {
		rc = add_module(w, module, path, JR_MODULE_NAMESPACE);
	}
	if (rc < 0)
		return rc;
	w->seen_dev[w->depth] = st->st_dev;
	w->seen_ino[w->depth] = st->st_ino;
	w->depth++;
	snprintf(module, sizeof(module), "%s%s.", prefix, name);
	rc = walk_folder(w, path, module);
	w->depth--;
	return rc;
}

static int visit_file(struct walk *w, const char *path, const char *name, const char *prefix,
                      const struct stat *st)
{
	size_t len = strlen(name);
	char module[PATH_MAX];

	if (!jr_is_file_module_name(name, len))
		return 0;
	if (st->st_nlink > 1)
		w->complete = 0; /* it can change through a path nobody watches */
	fold_stat(&w->fingerprint, path, st);
	/* Module names are text: the load of the whole root would fail on it. */
	if (!jr_utf8_valid(name, len))
		return refuse(w, "", path, "not imported: the file name is not valid UTF-8");
	snprintf(module, sizeof(module), "%s%.*s", prefix, (int)(len - 3), name);
	return add_module(w, module, path, JR_MODULE_FILE);
}

static int visit(struct walk *w, const char *folder, const char *name, const char *prefix)
{
	char path[PATH_MAX], real[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", folder, name) >= (int)sizeof(path))
		return refuse(w, "", folder, "a path under this folder is too long");
	if (lstat(path, &st) < 0)
		return 0; /* removed while we walk: the next reload sees it */
	if (S_ISLNK(st.st_mode)) {
		/* What a link leads to changes without an event here. */
		w->complete = 0;
		if (!realpath(path, real) || stat(real, &st) < 0)
			return 0; /* a dangling link is no module */
		if (!inside_root(w, real)) {
			char module[PATH_MAX];
			size_t len = strlen(name);

			/* Only what the walk would import is refused; the rest
			 * is skipped as it would be inside the root. */
			if (S_ISDIR(st.st_mode) ? !is_walked_folder(name) : !jr_is_file_module_name(name, len))
				return 0;
			snprintf(module, sizeof(module), "%s%.*s", prefix,
			         (int)(S_ISDIR(st.st_mode) ? len : len - 3), name);
			jr_buf why = JR_BUF_INIT;
			jr_buf_printf(&why, "refused: it is a link to %s, outside the jobs root", real);
			int rc = jr_buf_status(&why) ? JOBREG_ENOMEM : refuse(w, module, path, why.ptr);
			jr_buf_free(&why);
			return rc;
		}
	}
	if (S_ISDIR(st.st_mode))
		return visit_folder(w, path, name, prefix, &st);
	if (S_ISREG(st.st_mode))
		return visit_file(w, path, name, prefix, &st);
	return 0;
}

static int walk_folder(struct walk *w, const char *folder, const char *prefix)
{
	struct dirent **entries;
	int n, i, rc = 0;

	/* Sorted, so the fingerprint and the error order do not depend on
	 * the file system's own order. */
	n = scandir(folder, &entries, NULL, alphasort);
	if (n < 0) {
		w->complete = 0;
		return refuse(w, "", folder, strerror(errno));
	}
	for (i = 0; i < n; i++) {
		const char *name = entries[i]->d_name;

		if (rc == 0 && name[0] != '.')
			rc = visit(w, folder, name, prefix);
		free(entries[i]);
	}
	free(entries);
	return rc;
}

static int compare_modules(const void *a, const void *b)
{
	return strcmp(((const jr_module_entry *)a)->name, ((const jr_module_entry *)b)->name);
}

/* Walk `root` (already resolved) from its folder stat `st`. */
static int walk_root(struct walk *w, const char *root_real, const struct stat *st)
{
	w->root_real = root_real;
	w->root_len = strlen(root_real);
	w->seen_dev[0] = st->st_dev;
	w->seen_ino[0] = st->st_ino;
	w->depth = 1;
	__atomic_add_fetch(&walk_count, 1, __ATOMIC_RELAXED);
	fold_stat(&w->fingerprint, root_real, st);
	return walk_folder(w, root_real, "");
}

/* Forget the last walk and its watches (closing the fd drops them all). */
static void forget(struct jr_dir_watch *dw)
{
	size_t i;

	if (dw->fd >= 0)
		close(dw->fd);
	dw->fd = -1;
	dw->valid = 0;
	for (i = 0; i < dw->module_count; i++) {
		free(dw->modules[i].name);
		free(dw->modules[i].path);
	}
	for (i = 0; i < dw->error_count; i++) {
		struct kept_error *e = &dw->errors[i];

		free(e->module);
		free(e->file);
		free(e->type);
		free(e->message);
		free(e->traceback);
	}
	free(dw->modules);
	free(dw->errors);
	free(dw->root);
	free(dw->root_real);
	dw->modules = NULL;
	dw->errors = NULL;
	dw->root = dw->root_real = NULL;
	dw->module_count = dw->error_count = 0;
}

void jr_dir_watch_free(struct jr_dir_watch *watch)
{
	if (!watch)
		return;
	forget(watch);
	free(watch);
}

/* 1 when a queued event may change what a walk sees. */
static int relevant(const struct inotify_event *ev)
{
	if (ev->len == 0 || (ev->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_UNMOUNT)))
		return 1;
	/* The walk never enters these: bytecode written by imports, editors'
	 * hidden files. */
	return ev->name[0] != '.' && strcmp(ev->name, "__pycache__") != 0;
}

/* 1 when the watches saw something since the walk (or cannot tell). */
static int changed_since_walk(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		char *p;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno != EAGAIN;
		if (n == 0)
			return 1;
		for (p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (relevant(ev))
				return 1;
			p += sizeof(*ev) + ev->len;
		}
	}
}

static int same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The last walk still holds: same root, same folder, and no event since. */
static int still_valid(struct jr_dir_watch *dw, const char *root, const char *root_real,
                       const struct stat *st, int with_modules)
{
	/* A forked child shares the fd with its parent: were it to read the
	 * events, the parent would not see them. It walks and gets its own. */
	return dw && dw->valid && dw->pid == getpid() && dw->with_modules == with_modules &&
	       !inotify_disabled() && strcmp(dw->root, root) == 0 &&
	       strcmp(dw->root_real, root_real) == 0 && same_stat(&dw->root_st, st) &&
	       !changed_since_walk(dw->fd);
}

/* The last walk's modules and errors, copied into a fresh plan. */
static int hand_out(const struct jr_dir_watch *dw, jr_load_plan *plan)
{
	size_t i;
	int rc = 0;

	if (dw->module_count > plan->module_capacity) {
		jr_module_entry *p = realloc(plan->modules, dw->module_count * sizeof(*p));

		if (!p)
			return jr_error_oom();
		plan->modules = p;
		plan->module_capacity = dw->module_count;
	}
	for (i = 0; rc == 0 && i < dw->module_count; i++)
		rc = jr_plan_add_module(plan, dw->modules[i].name, dw->modules[i].path,
		                        dw->modules[i].kind);
	for (i = 0; rc == 0 && i < dw->error_count; i++) {
		const struct kept_error *e = &dw->errors[i];

		rc = jr_part_add_error(plan->part, e->module, e->file, e->line, e->type, e->message,
		                       e->traceback);
	}
	return rc;
}

/* Keep a complete walk's result; 0 when out of memory (then nothing is
 * kept and the next discovery walks). */
static int keep(struct jr_dir_watch *dw, const char *root, const char *root_real,
                const struct stat *st, const jr_load_plan *plan, uint64_t fingerprint)
{
	size_t i, modules = plan ? plan->module_count : 0, errors = plan ? plan->part->error_count : 0;

	dw->root = jr_strdup(root);
	dw->root_real = jr_strdup(root_real);
	dw->modules = modules ? calloc(modules, sizeof(*dw->modules)) : NULL;
	dw->errors = errors ? calloc(errors, sizeof(*dw->errors)) : NULL;
	if (!dw->root || !dw->root_real || (modules && !dw->modules) || (errors && !dw->errors))
		return 0;
	for (i = 0; i < modules; i++) {
		const jr_module_entry *m = &plan->modules[i];

		dw->modules[i].name = jr_strdup(m->name);
		dw->modules[i].path = jr_strdup(m->path);
		dw->modules[i].kind = m->kind;
		dw->module_count = i + 1;
		if (!dw->modules[i].name || !dw->modules[i].path)
			return 0;
	}
	for (i = 0; i < errors; i++) {
		const jobreg_load_error *from = &plan->part->errors[i];
		struct kept_error *e = &dw->errors[i];

		e->module = jr_strdup(from->module);
		e->file = jr_strdup(from->file);
		e->type = jr_strdup(from->type);
		e->message = jr_strdup(from->message);
		e->traceback = jr_strdup(from->traceback);
		e->line = from->line;
		dw->error_count = i + 1;
		if (!e->module || !e->file || !e->type || !e->message || !e->traceback)
			return 0;
	}
	dw->root_st = *st;
	dw->fingerprint = fingerprint;
	dw->with_modules = plan != NULL;
	dw->valid = 1;
	return 1;
}

/*
 * Discover the folder `root_real` (the source's root resolved, stat `st`)
 * for `plan` (NULL: only its fingerprint, into `out`): the last walk's
 * result while its watches saw nothing, else a walk that sets up fresh
 * watches before it reads each folder.
 */
static int discover_tree(jobreg_source *src, jr_load_plan *plan, const char *root_real,
                         struct stat *st, uint64_t *out)
{
	struct jr_dir_watch *dw = src->dir_watch;
	struct stat again;
	struct walk w;
	int rc;

	if (still_valid(dw, src->root, root_real, st, plan != NULL)) {
		*out = dw->fingerprint;
		return plan ? hand_out(dw, plan) : 0;
	}
	memset(&w, 0, sizeof(w));
	w.plan = plan;
	w.fingerprint = JR_FNV_OFFSET;
	w.fd = -1;
	/* Without memory for the state the tree is simply walked every time. */
	if (!dw && (dw = calloc(1, sizeof(*dw))) != NULL) {
		dw->fd = -1;
		src->dir_watch = dw;
	}
	if (dw) {
		forget(dw);
		if (!inotify_disabled() && !remote_fs(root_real))
			dw->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		dw->pid = getpid();
		w.fd = dw->fd;
		w.complete = dw->fd >= 0;
	}
	if (w.fd >= 0) {
		watch_folder(&w, root_real);
		/* The root as the watch covers it. */
		if (stat(root_real, &again) == 0)
			*st = again;
		else
			w.complete = 0;
	}
	rc = walk_root(&w, root_real, st);
	if (rc == 0 && plan && plan->module_count > 1)
		qsort(plan->modules, plan->module_count, sizeof(*plan->modules), compare_modules);
	*out = w.fingerprint;
	if (dw && !(rc == 0 && w.complete && keep(dw, src->root, root_real, st, plan, w.fingerprint)))
		forget(dw);
	return rc;
}

/* The source's root is gone or unusable: nothing of the last walk holds. */
static void forget_source(jobreg_source *src)
{
	if (src->dir_watch)
		forget(src->dir_watch);
}

int jr_dir_fingerprint(jobreg_source *src, uint64_t *out)
{
	char root_real[PATH_MAX];
	struct stat st;

	if (!realpath(src->root, root_real) || stat(root_real, &st) < 0) {
		forget_source(src);
		*out = 0; /* gone: differs from any folder that was there */
		return 0;
	}
	return discover_tree(src, NULL, root_real, &st, out);
}

static int dir_discover(jobreg_source *src, jr_load_plan *plan)
{
	char root_real[PATH_MAX];
	struct stat st;
	int rc;

	errno = 0;
	if (!realpath(src->root, root_real) || stat(root_real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		jr_buf why = JR_BUF_INIT;
		jr_buf_printf(&why, "the jobs root %s is not a readable folder: %s", src->root,
		              errno ? strerror(errno) : "not a folder");
		rc = jr_buf_status(&why)
		         ? JOBREG_ENOMEM
		         : part_error(plan->part, "", src->root, "FileNotFoundError", why.ptr);
		jr_buf_free(&why);
		plan->fingerprint = 0;
		forget_source(src);
		return rc;
	}
	/* A root given as UTF-8 may still lead, through links, to a folder
	 * whose path is not: its modules could not be named. */
	if (!jr_utf8_valid(root_real, strlen(root_real))) {
		jr_buf why = JR_BUF_INIT;
		jr_buf_printf(&why, "the jobs root %s is the folder %s, whose path is not valid UTF-8",
		              src->root, root_real);
		rc = jr_buf_status(&why) ? JOBREG_ENOMEM
		                         : part_error(plan->part, "", src->root, "ImportError", why.ptr);
		jr_buf_free(&why);
		plan->fingerprint = 0;
		forget_source(src);
		return rc;
	}
	return discover_tree(src, plan, root_real, &st, &plan->fingerprint);
}

static int dir_import(jobreg_source *src, jr_load_plan *plan)
{
	static const char *const kinds[] = { "module", "package", "namespace" };
	PyObject *modules = PyList_New((Py_ssize_t)plan->module_count);
	size_t i;
	int rc;

	if (!modules)
		return jr_error_oom();
	for (i = 0; i < plan->module_count; i++) {
		const jr_module_entry *m = &plan->modules[i];
		PyObject *item = Py_BuildValue("(sNs)", m->name, PyUnicode_DecodeFSDefault(m->path),
		                               kinds[m->kind]);
		if (!item) {
			Py_DECREF(modules);
			return jr_error_from_python(JOBREG_EPYTHON, "preparing the jobs root");
		}
		PyList_SET_ITEM(modules, (Py_ssize_t)i, item);
	}
	rc = jr_source_import_python(src, plan, "LocalSource", modules);
	Py_DECREF(modules);
	return rc;
}

static const struct jr_source_ops dir_ops = {
	.discover = dir_discover,
	.import = dir_import,
};

int jobreg_source_dir_new(jobreg_source **out, const char *root)
{
	if (!out || !root)
		return jr_error_set(JOBREG_EINVAL, "jobreg_source_dir_new: NULL argument");
	/* Module paths are text for Python: refuse now what no load could use. */
	if (!jr_utf8_valid(root, strlen(root))) {
		char *shown = jr_escape(root);

		if (!shown)
			return JOBREG_ENOMEM;
		jr_error_set(JOBREG_EINVAL, "jobreg_source_dir_new: the jobs root %s is not valid UTF-8",
		             shown);
		free(shown);
		return JOBREG_EINVAL;
	}
	return jr_source_new(out, JOBREG_SOURCE_LOCAL, "", root, &dir_ops);
}
