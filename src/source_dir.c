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
 */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "names.h"
#include "pyutil.h"
#include "source.h"
#include "util.h"

#define MAX_DEPTH 64

struct walk {
	jr_load_plan *plan; /* NULL: only compute the fingerprint */
	uint64_t fingerprint;
	const char *root_real; /* the root with every link resolved */
	size_t root_len;
	dev_t seen_dev[MAX_DEPTH];
	ino_t seen_ino[MAX_DEPTH];
	int depth;
};

static void fold_stat(uint64_t *h, const char *path, const struct stat *st)
{
	jr_fnv_fold(h, path, strlen(path) + 1);
	jr_fnv_fold(h, &st->st_ino, sizeof(st->st_ino));
	jr_fnv_fold(h, &st->st_size, sizeof(st->st_size));
	jr_fnv_fold(h, &st->st_mtim, sizeof(st->st_mtim));
	jr_fnv_fold(h, &st->st_ctim, sizeof(st->st_ctim));
}

static int refuse(struct walk *w, const char *module, const char *path, const char *why)
{
	if (!w->plan)
		return 0;
	return jr_part_add_error(w->plan->part, module, path, 0, "ImportError", why, "");
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

	if (!is_walked_folder(name))
		return 0;
	for (i = 0; i < w->depth; i++) {
		if (w->seen_dev[i] == st->st_dev && w->seen_ino[i] == st->st_ino)
			return 0; /* a link back to a folder being walked: no cycles */
	}
	if (w->depth == MAX_DEPTH)
		return refuse(w, "", path, "folder nesting is deeper than 64 levels");
	snprintf(module, sizeof(module), "%s%s", prefix, name);
	snprintf(init, sizeof(init), "%s/__init__.py", path);
	if (stat(init, &init_st) == 0 && S_ISREG(init_st.st_mode)) {
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
	fold_stat(&w->fingerprint, path, st);
	/* Module names are text: the load of the whole root would fail on it. */
	if (!jr_is_utf8(name, len))
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
	if (n < 0)
		return refuse(w, "", folder, strerror(errno));
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
	fold_stat(&w->fingerprint, root_real, st);
	return walk_folder(w, root_real, "");
}

int jr_dir_fingerprint(const char *root, uint64_t *out)
{
	char root_real[PATH_MAX];
	struct walk w;
	struct stat st;
	int rc;

	memset(&w, 0, sizeof(w));
	w.fingerprint = JR_FNV_OFFSET;
	if (!realpath(root, root_real) || stat(root_real, &st) < 0) {
		*out = 0; /* gone: differs from any folder that was there */
		return 0;
	}
	rc = walk_root(&w, root_real, &st);
	*out = w.fingerprint;
	return rc;
}

static int dir_discover(jobreg_source *src, jr_load_plan *plan)
{
	char root_real[PATH_MAX];
	struct walk w;
	struct stat st;
	int rc;

	errno = 0;
	if (!realpath(src->root, root_real) || stat(root_real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		jr_buf why = JR_BUF_INIT;
		jr_buf_printf(&why, "the jobs root %s is not a readable folder: %s", src->root,
		              errno ? strerror(errno) : "not a folder");
		rc = jr_buf_status(&why) ? JOBREG_ENOMEM
		                         : jr_part_add_error(plan->part, "", src->root, 0,
		                                             "FileNotFoundError", why.ptr, "");
		jr_buf_free(&why);
		plan->fingerprint = 0;
		return rc;
	}
	memset(&w, 0, sizeof(w));
	w.plan = plan;
	w.fingerprint = JR_FNV_OFFSET;
	rc = walk_root(&w, root_real, &st);
	plan->fingerprint = w.fingerprint;
	if (rc == 0 && plan->module_count > 1)
		qsort(plan->modules, plan->module_count, sizeof(*plan->modules), compare_modules);
	return rc;
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
	return jr_source_new(out, JOBREG_SOURCE_LOCAL, "", root, &dir_ops);
}
