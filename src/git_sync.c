/*
 * git_sync.c: moving a git source's checkout, atomically (SPEC 1.2).
 *
 * A sync fetches (no GIL), resolves the branch, tag or commit, then in one
 * load transaction of the registry checks the target out, imports this
 * source (and any the registry never imported), validates it (the new
 * `<slug>` and `<slug>.jobs` must have imported) and publishes it; or puts
 * the checkout back on the commit it was at, imports the old code again
 * and publishes that. The registry never serves code that did not load,
 * and no other load of it sees the checkout on a commit under trial. A
 * first clone is made in a hidden folder next to the checkout and renamed
 * into place only once it is checked out, so a failed first fetch leaves
 * nothing behind.
 *
 * Ensure-head is the same move with a given commit, fetching only when the
 * commit is missing, and doing nothing at all when the checkout and the
 * loaded code are already at that commit.
 *
 * With a storage, a sync then stores the git state and refreshes the
 * source's records; when that fails, the state is put back and the move
 * undone like a refused load, in a transaction of its own (the refresh
 * rolls itself back).
 *
 * Locks, outermost first: the source's op_lock (one move at a time in this
 * process), the lock file <git_root>/.<slug>.lock (across processes), then
 * the registry's load transaction.
 */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "git_internal.h"
#include "jobreg/registry.h"
#include "load_txn.h"
#include "options.h"
#include "runtime.h"
#include "util.h"

/* One move of a checkout, from start to finish. */
struct move {
	const char *what; /* the public function, for errors */
	jr_git_source *g;
	jobreg_registry *reg; /* NULL: move the checkout, import nothing */
	git_repository *repo;
	char *clone_dir; /* a first clone, not yet renamed into place */
	int placed;      /* the first clone is now the checkout */
	git_oid old;     /* the rollback point: HEAD, or the recorded head (a sync with a storage) */
	int had_old;
	int off_old; /* HEAD is not `old`: a target equal to `old` is checked out anyway */
	git_oid was; /* HEAD when the move started, for the sync's result */
	int had_was;
	int trial;        /* this move wrote the trial journal */
	int files_unsure; /* putting the old files back failed: the journal stays */
	git_oid target;
	int moved;          /* the checkout is at target, and target != old */
	jobreg_storage *st; /* NULL: no records, no git state */
	jobreg_refresh_result *refresh;
};

/* ---- files ---- */

static int make_dirs(const jr_git_source *g, const char *path)
{
	char *copy = jr_strdup(path), *p;
	int rc = 0;

	if (!copy)
		return JOBREG_ENOMEM;
	for (p = copy + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			rc = jr_git_error_set(g, JOBREG_EIO, "cannot create the git root folder %s: %s", copy,
			                      strerror(errno));
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(copy);
	return rc;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* Remove a folder the library made (a clone, a refused first checkout). */
static void remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* 1 when `path` exists, 2 when it is an empty folder, 0 when missing. */
static int path_state(const char *path)
{
	struct stat st;
	int fd, entries = 0;
	DIR *dir;

	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return 1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return 1;
	}
	while (readdir(dir))
		entries++;
	closedir(dir);
	return entries <= 2 ? 2 : 1;
}

/*
 * Remove what a process that died half-way left beside the checkout: a
 * clone not yet in place, a refused checkout not yet deleted. Only called
 * with the lock file held, so no live process is using them.
 */
static void remove_leftovers(const jr_git_source *g)
{
	char *clone = jr_asprintf(".%s.clone-", g->base.name);
	char *refused = jr_asprintf(".%s.refused-", g->base.name);
	char *journal = jr_asprintf(".%s.trial-new", g->base.name);
	DIR *dir = clone && refused && journal ? opendir(g->git_root) : NULL;
	struct dirent *e;

	while (dir && (e = readdir(dir)) != NULL) {
		char *path;

		if (strncmp(e->d_name, clone, strlen(clone)) != 0 &&
		    strncmp(e->d_name, refused, strlen(refused)) != 0 && strcmp(e->d_name, journal) != 0)
			continue;
		path = jr_asprintf("%s/%s", g->git_root, e->d_name);
		if (path)
			remove_tree(path);
		free(path);
	}
	if (dir)
		closedir(dir);
	free(clone);
	free(refused);
	free(journal);
}

static int lock_checkout(int *fd, const jr_git_source *g)
{
	*fd = open(g->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0)
		return jr_git_error_set(g, JOBREG_EIO, "cannot open the lock file %s: %s", g->lock_path,
		                        strerror(errno));
	while (flock(*fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int err = errno;
			close(*fd);
			*fd = -1;
			return jr_git_error_set(g, JOBREG_EIO, "cannot lock %s: %s", g->lock_path,
			                        strerror(err));
		}
	}
	return 0;
}

static void unlock_checkout(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

/* ---- who loaded what ---- */

static int loaded_at(jr_git_source *g, const git_oid *head)
{
	int yes;

	pthread_mutex_lock(&g->state_lock);
	yes = g->imported_valid && git_oid_equal(&g->imported, head);
	pthread_mutex_unlock(&g->state_lock);
	return yes;
}

static void set_holds_lock_file(jr_git_source *g, int holds)
{
	pthread_mutex_lock(&g->state_lock);
	g->move_holds_lock_file = holds;
	pthread_mutex_unlock(&g->state_lock);
}

static void set_moving(jr_git_source *g, int moving)
{
	pthread_mutex_lock(&g->state_lock);
	g->moving = moving;
	pthread_mutex_unlock(&g->state_lock);
}

static void forget_imported(jr_git_source *g)
{
	pthread_mutex_lock(&g->state_lock);
	g->imported_valid = 0;
	pthread_mutex_unlock(&g->state_lock);
}

static int belongs_to(const jobreg_registry *reg, const jobreg_source *src)
{
	size_t i, n = jobreg_registry_source_count(reg);

	for (i = 0; i < n; i++) {
		if (jobreg_registry_source(reg, i) == src)
			return 1;
	}
	return 0;
}

/* No other source of the registry may own the module `<slug>`. */
static int check_slug_unique(jobreg_registry *reg, jr_git_source *g)
{
	const char *slug = g->base.name;
	size_t i, n = jobreg_registry_source_count(reg), len = strlen(slug);
	char *file;
	int clash;

	for (i = 0; i < n; i++) {
		jobreg_source *other = jobreg_registry_source(reg, i);
		const char *name = jobreg_source_name(other);

		if (other == &g->base)
			continue;
		switch (jobreg_source_type(other)) {
		case JOBREG_SOURCE_LOCAL:
			file = jr_asprintf("%s/%s.py", jobreg_source_root(other), slug);
			if (!file)
				return JOBREG_ENOMEM;
			clash = path_state(file) != 0;
			file[strlen(file) - 3] = '\0';
			clash = clash || path_state(file) != 0;
			if (clash)
				jr_error_set(JOBREG_EINVAL,
				             "git repository slug '%s' is refused: the jobs root %s "
				             "has a module of that name (%s)",
				             slug, jobreg_source_root(other), file);
			free(file);
			if (clash)
				return JOBREG_EINVAL;
			break;
		default:
			if (strncmp(name, slug, len) == 0 && (name[len] == '\0' || name[len] == '.'))
				return jr_error_set(JOBREG_EINVAL,
				                    "git repository slug '%s' is refused: the %s "
				                    "source '%s' has a module of that name",
				                    slug, jobreg_source_type_name(jobreg_source_type(other)), name);
		}
	}
	return jr_git_check_slug_free(slug, g->base.root);
}

/* ---- accepting new code ---- */

/* The load error that explains a refusal: the package's or its jobs'. */
static const jobreg_load_error *refusal_reason(const jr_git_source *g, const jr_part *part)
{
	size_t i, len = strlen(g->base.name);

	for (i = 0; i < part->error_count; i++) {
		const char *module = part->errors[i].module;

		if (strncmp(module, g->base.name, len) == 0 &&
		    (module[len] == '\0' || strcmp(module + len, ".jobs") == 0))
			return &part->errors[i];
	}
	return part->error_count ? &part->errors[0] : NULL;
}

/* Replace what the source remembers of a refused move (NULL: nothing). */
static void set_refused(jr_git_source *g, jobreg_snapshot *snap, const char *commit)
{
	jobreg_snapshot *old;

	pthread_mutex_lock(&g->state_lock);
	old = g->refused;
	g->refused = snap;
	snprintf(g->refused_commit, sizeof(g->refused_commit), "%s", snap ? commit : "");
	pthread_mutex_unlock(&g->state_lock);
	jr_snapshot_unref(old); /* errors only: no GIL needed */
}

/*
 * Keep the load errors of a refused commit for jobreg_source_git_refused():
 * the part itself holds the refused classes, so its errors are copied into
 * a part of their own. Best effort: out of memory, nothing is kept and the
 * refusal still says why.
 */
static void remember_refusal(jr_git_source *g, const jr_part *part, const char *commit)
{
	jr_part *copy = jr_part_new(JOBREG_SOURCE_GIT, g->base.name);
	jobreg_snapshot *snap = NULL;
	char jobs[JOBREG_GIT_SLUG_MAX + 8];
	size_t i;
	int rc = copy ? 0 : JOBREG_ENOMEM;

	for (i = 0; rc == 0 && part && i < part->error_count; i++) {
		const jobreg_load_error *e = &part->errors[i];

		rc = jr_part_add_error(copy, e->module, e->file, e->line, e->type, e->message,
		                       e->traceback);
	}
	if (rc == 0 && copy->error_count == 0) {
		/* Refused without an error of its own: say what was missing. */
		snprintf(jobs, sizeof(jobs), "%s.jobs", g->base.name);
		rc = jr_part_add_error(copy, jobs, g->base.root, 0, "ImportError",
		                       "the module did not load from the checkout", "");
	}
	if (rc == 0)
		rc = jr_snapshot_new(&snap, 0, &copy, 1);
	if (copy)
		jr_part_unref(copy); /* the snapshot holds its own reference */
	if (rc == 0)
		set_refused(g, snap, commit);
}

/* 0 when the new code may be published; else the refusal (error set). */
static int validate(struct move *m, const jr_part *part)
{
	jr_git_source *g = m->g;
	const jobreg_load_error *why;
	char target[JOBREG_GIT_HEAD_SIZE], old[64], where[64] = "";

	if (jr_git_imported_from_checkout(g, part))
		return 0;
	why = refusal_reason(g, part);
	git_oid_tostr(target, sizeof(target), &m->target);
	remember_refusal(g, part, target);
	if (m->had_old) {
		snprintf(old, sizeof(old), "stays at %.12s", git_oid_tostr_s(&m->old));
	} else {
		snprintf(old, sizeof(old), "stays without a checkout");
	}
	if (!why)
		return jr_git_error_set(g, JOBREG_ELOAD,
		                        "git repository '%s': commit %.12s was refused: %s.jobs did not "
		                        "load; the source %s",
		                        g->base.name, target, g->base.name, old);
	if (why->line > 0)
		snprintf(where, sizeof(where), ", line %d", why->line);
	return jr_git_error_set(g, JOBREG_ELOAD,
	                        "git repository '%s': commit %.12s was refused because it fails to "
	                        "load: %s: %s: %s (%s%s); the source %s",
	                        g->base.name, target, why->module, why->type, why->message, why->file,
	                        where, old);
}

/* Take the checkout away whole (a refused first commit). */
static int take_checkout_away(const jr_git_source *g)
{
	char *away = jr_asprintf("%s/.%s.refused-XXXXXX", g->git_root, g->base.name);
	int rc = 0;

	if (!away)
		return JOBREG_ENOMEM;
	if (mkdtemp(away) && rename(g->base.root, away) == 0)
		remove_tree(away);
	else
		rc = jr_git_error_set(g, JOBREG_EIO, "cannot remove the refused checkout %s: %s",
		                      g->base.root, strerror(errno));
	free(away);
	return rc;
}

/* ---- the trial journal ---- */

/*
 * `<git_root>/.<slug>.trial` exists while a move has the checkout away from
 * its rollback point: written (whole, by a rename) before the first file
 * changes, it names the commit to go back to, or "none" when there was no
 * checkout. It goes once the files are final: the new commit accepted, or
 * the old one back. A move that finds it holds the lock file, so its
 * writer is dead: it puts that commit back before anything else, so the
 * rollback point is never whatever HEAD a dead process left. A process
 * crash loses nothing written; a power cut is not covered (no fsync).
 */
int jr_git_trial_pending(const jr_git_source *g)
{
	return access(g->trial_path, F_OK) == 0;
}

static int begin_trial(struct move *m)
{
	jr_git_source *g = m->g;
	char text[JOBREG_GIT_HEAD_SIZE + 1] = "none";
	char *tmp = jr_asprintf("%s-new", g->trial_path);
	int fd, written, rc = 0;
	size_t len;

	if (!tmp)
		return JOBREG_ENOMEM;
	if (m->had_old)
		git_oid_tostr(text, JOBREG_GIT_HEAD_SIZE, &m->old);
	len = strlen(text);
	text[len++] = '\n';
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	written = fd >= 0 && write(fd, text, len) == (ssize_t)len;
	if (fd >= 0 && close(fd) < 0)
		written = 0;
	if (!written || rename(tmp, g->trial_path) < 0)
		rc = jr_git_error_set(g, JOBREG_EIO, "cannot write the trial journal %s: %s", g->trial_path,
		                      strerror(errno));
	if (rc < 0 && fd >= 0)
		unlink(tmp);
	free(tmp);
	m->trial = rc == 0;
	return rc;
}

/* The files are final: the journal goes, unless they could not be put back. */
static void end_trial(struct move *m)
{
	if (m->trial && !m->files_unsure)
		unlink(m->g->trial_path);
	m->trial = 0;
}

/* Read the journal: 1 with `*back` (`*none`: no checkout before), 0 when absent. */
static int read_trial(git_oid *back, int *none, const jr_git_source *g)
{
	char text[64];
	ssize_t n;
	int fd = open(g->trial_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return jr_git_error_set(g, JOBREG_EIO, "cannot read the trial journal %s: %s",
		                        g->trial_path, strerror(errno));
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	text[strcspn(text, "\n")] = '\0';
	*none = strcmp(text, "none") == 0;
	if (*none || (strlen(text) == GIT_OID_HEXSZ && git_oid_fromstr(back, text) == 0))
		return 1;
	return jr_git_error_set(g, JOBREG_EIO,
	                        "the trial journal %s holds '%.40s', neither a commit id nor 'none': "
	                        "remove it and check the checkout %s out by hand",
	                        g->trial_path, text, g->base.root);
}

/*
 * A move died with the checkout on a commit under trial (or half-way to
 * it): put the commit it started from back, or take a first clone away.
 * Called with the lock file held.
 */
static int recover_trial(jr_git_source *g)
{
	git_repository *repo = NULL;
	git_oid back;
	int none = 0, rc = read_trial(&back, &none, g);

	if (rc <= 0)
		return rc;
	if (none)
		rc = path_state(g->base.root) ? take_checkout_away(g) : 0;
	else if ((rc = jr_git_open(&repo, g, g->base.root)) == 0)
		rc = jr_git_checkout(repo, g, &back);
	else if (rc == JOBREG_ENOTFOUND)
		rc = 0; /* the checkout is gone: the next move clones afresh */
	git_repository_free(repo);
	if (rc < 0) {
		char why[512]; /* the error buffer is about to be rewritten */

		snprintf(why, sizeof(why), "%s", jobreg_error_last()->message);
		return jr_git_error_set(g, rc,
		                        "git repository '%s': a process died while moving its checkout, "
		                        "and putting it back failed: %s",
		                        g->base.name, why);
	}
	forget_imported(g); /* whatever a load here read of those files is stale */
	unlink(g->trial_path);
	return 0;
}

/* ---- the move ---- */

static void move_free(struct move *m)
{
	git_repository_free(m->repo);
	m->repo = NULL;
	if (m->clone_dir) {
		remove_tree(m->clone_dir);
		free(m->clone_dir);
		m->clone_dir = NULL;
	}
}

/* Open the checkout, or start a first clone beside it. */
static int open_or_start_clone(struct move *m)
{
	jr_git_source *g = m->g;
	const char *root = g->base.root;
	int rc, state;

	rc = jr_git_read_head(&m->old, g, root);
	m->had_old = rc == 0;
	m->was = m->old;
	m->had_was = m->had_old;
	rc = jr_git_open(&m->repo, g, root);
	/* A repository with nothing checked out is no checkout to go back to:
	 * a refused first commit takes it away like a first clone. */
	if (rc == 0 && !m->had_old)
		m->placed = 1;
	if (rc != JOBREG_ENOTFOUND)
		return rc;
	state = path_state(root);
	if (state == 1)
		return jr_git_error_set(g, JOBREG_EGIT,
		                        "git repository '%s': %s exists and is not a git checkout; "
		                        "move it away so that it can be cloned there",
		                        g->base.name, root);
	m->clone_dir = jr_asprintf("%s/.%s.clone-XXXXXX", g->git_root, g->base.name);
	if (!m->clone_dir)
		return JOBREG_ENOMEM;
	if (!mkdtemp(m->clone_dir)) {
		rc = jr_git_error_set(g, JOBREG_EIO, "cannot create %s: %s", m->clone_dir, strerror(errno));
		free(m->clone_dir);
		m->clone_dir = NULL;
		return rc;
	}
	return jr_git_init_repo(&m->repo, g, m->clone_dir);
}

/* Rename the checked-out first clone to `<git_root>/<slug>`. */
static int put_clone_in_place(struct move *m)
{
	jr_git_source *g = m->g;

	git_repository_free(m->repo);
	m->repo = NULL;
	if (path_state(g->base.root) == 2)
		rmdir(g->base.root);
	if (rename(m->clone_dir, g->base.root) < 0)
		return jr_git_error_set(g, JOBREG_EIO, "cannot move the new checkout to %s: %s",
		                        g->base.root, strerror(errno));
	free(m->clone_dir);
	m->clone_dir = NULL;
	m->placed = 1;
	return jr_git_open(&m->repo, g, g->base.root);
}

/* Put the files back as they were before the move. */
static int restore_files(struct move *m)
{
	if (m->had_old && m->repo)
		return jr_git_checkout(m->repo, m->g, &m->old);
	if (!m->placed)
		return 0; /* the clone folder goes away in move_free */
	/* There was no checkout: take the refused one away whole. */
	git_repository_free(m->repo);
	m->repo = NULL;
	return take_checkout_away(m->g);
}

/* A load transaction of the move's registry, that never waits for another process. */
static int begin_load(jr_load_txn **txn, struct move *m)
{
	int rc = jr_load_begin(txn, m->reg, m->what);

	if (rc == 0)
		jr_load_never_wait(*txn);
	return rc;
}

/* Import this source from the checkout as it is now. */
static int import_own(jr_load_txn *txn, struct move *m)
{
	size_t own = jr_load_index(txn, &m->g->base);
	int rc = jr_load_discover(txn, own);

	if (rc == 0) {
		jr_load_select(txn, own);
		rc = jr_load_import(txn);
	}
	return rc;
}

/* Import this source, and those the registry never imported (a first
 * move brings the whole registry in), then validate this one. */
static int import_trial(jr_load_txn *txn, struct move *m)
{
	size_t i, own = jr_load_index(txn, &m->g->base);
	int rc = 0;

	for (i = 0; rc == 0 && i < jr_load_count(txn); i++) {
		if (i != own && !jr_load_has_code(txn, i) && (rc = jr_load_discover(txn, i)) == 0)
			jr_load_select(txn, i);
	}
	if (rc == 0)
		rc = import_own(txn, m);
	return rc == 0 ? validate(m, jr_load_part(txn, own)) : rc;
}

/*
 * Undo a move: the old files, and in `txn` (NULL: files only) the old code
 * imported again and published, so that sys.modules holds the old modules
 * again. A failure here leaves the source to be imported afresh by the
 * next move or reload.
 */
static void restore(struct move *m, jr_load_txn *txn)
{
	if (restore_files(m) < 0) {
		m->files_unsure = 1; /* the journal stays: the next move puts them back */
		forget_imported(m->g);
	} else if (txn && (import_own(txn, m) < 0 || jr_load_publish(txn, 1) < 0)) {
		forget_imported(m->g);
	}
	m->moved = 0;
}

/*
 * Check the target out and, with a registry, import and validate it in one
 * load transaction: published when it loads, else the old files and code
 * back. Without a registry, loads of the source's own registry meanwhile
 * keep their code (`moving`).
 */
static int switch_and_load(struct move *m)
{
	jr_load_txn *txn = NULL;
	jr_saved_error saved;
	int rc, imported = 0;

	if (m->reg && (rc = begin_load(&txn, m)) < 0)
		return rc;
	if (!txn)
		set_moving(m->g, 1);
	rc = begin_trial(m);
	if (rc == 0)
		rc = jr_git_checkout(m->repo, m->g, &m->target);
	if (rc == 0 && m->clone_dir)
		rc = put_clone_in_place(m);
	if (rc == 0) {
		m->moved = 1;
		imported = txn != NULL;
		if (txn)
			rc = import_trial(txn, m);
		if (rc == 0 && txn)
			rc = jr_load_publish(txn, 1);
	}
	if (rc < 0) {
		jr_error_save(&saved, rc);
		restore(m, imported ? txn : NULL);
		rc = jr_error_restore(&saved);
	}
	if (!txn)
		set_moving(m->g, 0);
	jr_load_end(txn);
	return rc;
}

/* The target is checked out already: import it unless it is loaded. */
static int load_if_needed(struct move *m)
{
	jr_load_txn *txn;
	int rc;

	if (!m->reg || loaded_at(m->g, &m->target))
		return 0;
	if ((rc = begin_load(&txn, m)) < 0)
		return rc;
	rc = import_trial(txn, m);
	if (rc == 0)
		rc = jr_load_publish(txn, 1);
	jr_load_end(txn);
	return rc;
}

static int back_to_recorded(struct move *m); /* with the git state, below */

static int sync_locked(struct move *m)
{
	int rc = open_or_start_clone(m);

	if (rc == 0)
		rc = jr_git_fetch(m->repo, m->g);
	if (rc == 0)
		rc = jr_git_resolve(&m->target, m->repo, m->g, m->g->branch);
	if (rc == 0 && m->st)
		rc = back_to_recorded(m);
	if (rc < 0)
		return rc;
	if (m->had_old && git_oid_equal(&m->target, &m->old) && !m->off_old)
		return load_if_needed(m);
	return switch_and_load(m);
}

static int ensure_locked(struct move *m, const char *commit)
{
	int rc = open_or_start_clone(m);

	if (rc == 0)
		rc = jr_git_find_commit(&m->target, m->repo, m->g, commit);
	if (rc == JOBREG_ENOTFOUND) {
		rc = jr_git_fetch(m->repo, m->g);
		if (rc == 0)
			rc = jr_git_find_commit(&m->target, m->repo, m->g, commit);
		if (rc == JOBREG_ENOTFOUND)
			rc = jr_git_error_set(m->g, JOBREG_ENOTFOUND,
			                      "git repository '%s': commit %s is not in %s", m->g->base.name,
			                      commit, m->g->remote_url_redacted);
	}
	if (rc < 0)
		return rc;
	if (m->had_old && git_oid_equal(&m->target, &m->old))
		return load_if_needed(m);
	return switch_and_load(m);
}

/* ---- records and git state ---- */

/* The git state stored for a slug; all NULL when there is none. */
struct stored_state {
	char *remote_url, *branch, *head;
	int found;
};

static void stored_state_free(struct stored_state *s)
{
	jobreg_free(s->remote_url);
	jobreg_free(s->branch);
	jobreg_free(s->head);
	memset(s, 0, sizeof(*s));
}

static int read_state(struct stored_state *s, jobreg_storage *st, const jr_git_source *g)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = jobreg_storage_git_state_get(&s->remote_url, &s->branch, &s->head, st, g->base.name);
	if (rc == JOBREG_ENOTFOUND)
		return 0;
	s->found = rc == 0;
	return rc;
}

static int same_state(const struct stored_state *s, const jr_git_source *g, const char *head)
{
	return s->found && strcmp(s->remote_url, g->remote_url_redacted) == 0 &&
	       strcmp(s->branch, g->branch) == 0 && strcmp(s->head, head) == 0;
}

/* Store the state with `head` unless it is stored already; `*wrote` says. */
static int write_state(int *wrote, jobreg_storage *st, const jr_git_source *g,
                       const struct stored_state *before, const char *head)
{
	*wrote = 0;
	if (same_state(before, g, head))
		return 0;
	*wrote = 1;
	return jobreg_storage_git_state_set(st, g->base.name, g->remote_url_redacted, g->branch, head);
}

/*
 * A sync with a storage goes back to the head recorded there, not to
 * whatever HEAD it finds (a process that died, or an ensure-head elsewhere,
 * may have left the checkout on another commit): that head was accepted
 * and the records are its. A recorded head that is no commit of the
 * repository (a force-push took it away, a host stored something else)
 * leaves HEAD the rollback point.
 */
static int back_to_recorded(struct move *m)
{
	struct stored_state s;
	git_commit *commit = NULL;
	git_oid recorded;
	int rc = read_state(&s, m->st, m->g);

	if (rc == 0 && s.found && strlen(s.head) == GIT_OID_HEXSZ && jr_git_is_commit_id(s.head) &&
	    git_oid_fromstr(&recorded, s.head) == 0 &&
	    git_commit_lookup(&commit, m->repo, &recorded) == 0 &&
	    !(m->had_old && git_oid_equal(&recorded, &m->old))) {
		m->old = recorded;
		m->had_old = 1;
		m->off_old = 1;
	}
	git_commit_free(commit);
	git_error_clear();
	stored_state_free(&s);
	return rc;
}

/* Refresh this source's records against the registry's current code. */
static int refresh_source(struct move *m)
{
	jobreg_refresh_options opts = JOBREG_REFRESH_OPTIONS_INIT;
	jobreg_snapshot *snap = NULL;
	int rc = jobreg_registry_snapshot(&snap, m->reg);

	opts.source_type = JOBREG_SOURCE_GIT;
	opts.source_name = m->g->base.name;
	if (rc == 0)
		rc = jobreg_refresh(&m->refresh, m->st, snap, &opts);
	jobreg_snapshot_free(snap);
	return rc;
}

/* After a successful move: state first (it can be put back exactly), then
 * the records (one transaction: all or nothing). */
static int record_in_storage(struct move *m)
{
	struct stored_state before;
	jr_saved_error saved;
	char head[JOBREG_GIT_HEAD_SIZE];
	int rc, wrote = 0;

	git_oid_tostr(head, sizeof(head), &m->target);
	rc = read_state(&before, m->st, m->g);
	if (rc == 0)
		rc = write_state(&wrote, m->st, m->g, &before, head);
	if (rc == 0)
		rc = refresh_source(m);
	if (rc < 0 && wrote) {
		jr_error_save(&saved, rc);
		if (before.found)
			jobreg_storage_git_state_set(m->st, m->g->base.name, before.remote_url, before.branch,
			                             before.head);
		else
			jobreg_storage_git_state_set(m->st, m->g->base.name, m->g->remote_url_redacted,
			                             m->g->branch, "");
		rc = jr_error_restore(&saved);
	}
	stored_state_free(&before);
	return rc;
}

/* ---- public entry points ---- */

static jr_git_source *git_source_of(jobreg_source *src, const char *what)
{
	if (!src || src->type != JOBREG_SOURCE_GIT) {
		jr_error_set(JOBREG_EINVAL, "%s: '%s' is not a git source", what,
		             src ? src->name : "(null)");
		return NULL;
	}
	return jr_git_of(src);
}

/* Take both locks, run `step`, drop the locks. */
static int run_locked(struct move *m, int (*step)(struct move *m, const char *arg), const char *arg)
{
	int fd = -1, rc = 0;

	set_refused(m->g, NULL, NULL); /* what a refusal leaves is this move's only */
	if (m->reg)
		rc = check_slug_unique(m->reg, m->g);
	if (rc == 0)
		rc = make_dirs(m->g, m->g->git_root);
	/* Said before the flock: a load of this source waiting for the lock
	 * file must see that this move, not another process, holds it. */
	set_holds_lock_file(m->g, 1);
	if (rc == 0)
		rc = lock_checkout(&fd, m->g);
	if (rc == 0) {
		remove_leftovers(m->g);
		jr_git_remove_stale_files(m->g->base.root);
		rc = recover_trial(m->g);
	}
	if (rc == 0)
		rc = step(m, arg);
	end_trial(m);
	move_free(m);
	unlock_checkout(fd);
	set_holds_lock_file(m->g, 0);
	return rc;
}

static int sync_step(struct move *m, const char *unused)
{
	jr_load_txn *txn = NULL;
	jr_saved_error saved;
	int rc = sync_locked(m);

	(void)unused;
	if (rc < 0 || !m->st)
		return rc;
	if (!m->had_old && !m->moved)
		return rc; /* nothing checked out: nothing to record */
	rc = record_in_storage(m);
	if (rc < 0 && m->moved) {
		/* The move was published: a transaction of its own undoes it. */
		jr_error_save(&saved, rc);
		if (begin_load(&txn, m) < 0) {
			forget_imported(m->g); /* out of memory: the files alone go back */
			set_moving(m->g, 1);
		}
		restore(m, txn);
		set_moving(m->g, 0);
		jr_load_end(txn);
		rc = jr_error_restore(&saved);
	}
	return rc;
}

static int ensure_step(struct move *m, const char *commit)
{
	return ensure_locked(m, commit);
}

static const size_t sync_result_sizes[] = {
	JR_SIZE_THROUGH(jobreg_git_sync_result, refresh),
};

int jobreg_git_sync(jobreg_git_sync_result *result, jobreg_registry *reg, jobreg_source *src,
                    jobreg_storage *st)
{
	static const char what[] = "jobreg_git_sync";
	jobreg_git_sync_result out = JOBREG_GIT_SYNC_RESULT_INIT;
	struct move m;
	git_oid now;
	int rc;

	memset(&m, 0, sizeof(m));
	if (!reg || !src)
		return jr_error_set(JOBREG_EINVAL, "%s: NULL argument", what);
	if (result && (result->version < 1 || result->version > JOBREG_GIT_SYNC_RESULT_VERSION))
		return jr_error_set(JOBREG_EVERSION, "jobreg_git_sync_result: version %u is not supported",
		                    result->version);
	if (!(m.g = git_source_of(src, what)))
		return JOBREG_EINVAL;
	if ((rc = jr_runtime_require(what)) < 0)
		return rc;
	if (!belongs_to(reg, src))
		return jr_error_set(JOBREG_EINVAL,
		                    "%s: the git source '%s' does not belong to this registry", what,
		                    src->name);
	m.what = what;
	m.reg = reg;
	m.st = st;
	pthread_mutex_lock(&m.g->op_lock);
	rc = run_locked(&m, sync_step, NULL);
	pthread_mutex_unlock(&m.g->op_lock);
	if (rc < 0 || !result) {
		jobreg_refresh_result_free(m.refresh);
		return rc;
	}
	if (m.had_was)
		git_oid_tostr(out.old_head, sizeof(out.old_head), &m.was);
	if (jr_git_read_head(&now, m.g, src->root) == 0)
		git_oid_tostr(out.new_head, sizeof(out.new_head), &now);
	out.changed = m.moved;
	out.refresh = m.refresh;
	memcpy((char *)result + sizeof(result->version), (char *)&out + sizeof(out.version),
	       sync_result_sizes[result->version - 1] - sizeof(out.version));
	return 0;
}

int jobreg_source_git_refused(jobreg_snapshot **out, char commit[JOBREG_GIT_HEAD_SIZE],
                              const jobreg_source *src)
{
	static const char what[] = "jobreg_source_git_refused";
	jr_git_source *g;

	if (out)
		*out = NULL;
	if (commit)
		commit[0] = '\0';
	if (!out || !src)
		return jr_error_set(JOBREG_EINVAL, "%s: NULL argument", what);
	if (src->type != JOBREG_SOURCE_GIT)
		return jr_error_set(JOBREG_EINVAL, "%s: '%s' is not a git source", what, src->name);
	g = (jr_git_source *)src; /* the lock is no part of what const promises */
	pthread_mutex_lock(&g->state_lock);
	if (g->refused) {
		jr_snapshot_ref(g->refused);
		*out = g->refused;
		if (commit)
			memcpy(commit, g->refused_commit, JOBREG_GIT_HEAD_SIZE);
	}
	pthread_mutex_unlock(&g->state_lock);
	if (!*out)
		return jr_error_set(JOBREG_ENOTFOUND,
		                    "git repository '%s': its last sync or ensure-head refused no commit "
		                    "for failing to load",
		                    src->name);
	return 0;
}

/* 1 when the 40-digit `head` starts with the (abbreviated) id `commit`. */
static int head_matches(const git_oid *head, const char *commit)
{
	char hex[JOBREG_GIT_HEAD_SIZE];

	git_oid_tostr(hex, sizeof(hex), head);
	return strncasecmp(hex, commit, strlen(commit)) == 0;
}

int jobreg_git_ensure_head(int *changed, jobreg_registry *reg, jobreg_source *src,
                           const char *commit)
{
	static const char what[] = "jobreg_git_ensure_head";
	struct move m;
	git_oid head;
	int rc;

	memset(&m, 0, sizeof(m));
	if (changed)
		*changed = 0;
	if (!src || !commit)
		return jr_error_set(JOBREG_EINVAL, "%s: NULL argument", what);
	if (!(m.g = git_source_of(src, what)))
		return JOBREG_EINVAL;
	if (!jr_git_is_commit_id(commit))
		return jr_error_set(JOBREG_EINVAL, "%s: '%s' is not a commit id (4 to 40 hex digits)", what,
		                    commit);
	if (reg && !belongs_to(reg, src))
		return jr_error_set(JOBREG_EINVAL,
		                    "%s: the git source '%s' does not belong to this registry", what,
		                    src->name);
	m.what = what;
	m.reg = reg;
	pthread_mutex_lock(&m.g->op_lock);
	/* The common case, before any lock file or Python: nothing to do. */
	if (jr_git_read_head(&head, m.g, src->root) == 0 && head_matches(&head, commit) &&
	    (!reg || loaded_at(m.g, &head)) && !jr_git_trial_pending(m.g)) {
		pthread_mutex_unlock(&m.g->op_lock);
		return 0;
	}
	if (reg && (rc = jr_runtime_require(what)) < 0) {
		pthread_mutex_unlock(&m.g->op_lock);
		return rc;
	}
	rc = run_locked(&m, ensure_step, commit);
	pthread_mutex_unlock(&m.g->op_lock);
	if (rc == 0 && changed)
		*changed = m.moved;
	return rc;
}

/*
 * A head is recorded only when its code was accepted: not while a move has
 * it on trial (or died there), not when the last move refused it, not when
 * this process's last import of it failed the acceptance check. What this
 * process never imported (a sync that skipped the source) is taken as the
 * checkout has it: only accepted commits stay checked out.
 */
static int check_recordable(jr_git_source *g, const char *hex)
{
	git_oid head;
	int loaded, ok, refused;

	if (jr_git_trial_pending(g))
		return jr_git_error_set(
			g, JOBREG_ESTATE,
			"git repository '%s': commit %.12s is not recorded: a move of the "
			"checkout is under way, or died half-way (%s exists); sync it first",
			g->base.name, hex, g->trial_path);
	if (git_oid_fromstr(&head, hex) < 0)
		return jr_git_error_set(g, JOBREG_EGIT, "git repository '%s': HEAD '%s' is no commit id",
		                        g->base.name, hex);
	pthread_mutex_lock(&g->state_lock);
	loaded = g->imported_valid && git_oid_equal(&g->imported, &head);
	ok = g->imported_ok;
	refused = g->refused && strcmp(g->refused_commit, hex) == 0;
	pthread_mutex_unlock(&g->state_lock);
	if (loaded ? !ok : refused)
		return jr_git_error_set(g, JOBREG_ELOAD,
		                        "git repository '%s': commit %.12s is not recorded: its code fails "
		                        "to load (%s or %s.jobs did not import from the checkout)",
		                        g->base.name, hex, g->base.name, g->base.name);
	return 0;
}

int jobreg_git_record_head(jobreg_storage *st, const jobreg_source *src)
{
	static const char what[] = "jobreg_git_record_head";
	struct stored_state before;
	char head[JOBREG_GIT_HEAD_SIZE];
	jr_git_source *g;
	int rc, wrote;

	if (!st)
		return jr_error_set(JOBREG_EINVAL, "%s: st is NULL", what);
	if (!(g = git_source_of((jobreg_source *)src, what)))
		return JOBREG_EINVAL;
	rc = jobreg_source_git_head(head, src);
	if (rc == 0)
		rc = check_recordable(g, head);
	if (rc == 0)
		rc = read_state(&before, st, g);
	if (rc < 0)
		return rc;
	rc = write_state(&wrote, st, g, &before, head);
	stored_state_free(&before);
	return rc;
}

int jobreg_git_ensure_recorded_head(int *changed, jobreg_registry *reg, jobreg_source *src,
                                    jobreg_storage *st)
{
	static const char what[] = "jobreg_git_ensure_recorded_head";
	struct stored_state state;
	jr_git_source *g;
	int rc;

	if (changed)
		*changed = 0;
	if (!st)
		return jr_error_set(JOBREG_EINVAL, "%s: st is NULL", what);
	if (!(g = git_source_of(src, what)))
		return JOBREG_EINVAL;
	if ((rc = read_state(&state, st, g)) < 0)
		return rc;
	if (!state.found || !*state.head)
		rc = jr_error_set(JOBREG_ENOTFOUND,
		                  "git repository '%s': no head is recorded yet "
		                  "(sync it first)",
		                  g->base.name);
	else
		rc = jobreg_git_ensure_head(changed, reg, src, state.head);
	stored_state_free(&state);
	return rc;
}
