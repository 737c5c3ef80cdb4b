/*
 * git_internal.h: what the files of the git source share (internal).
 *
 *   source_git.c  the source type: options, slug rules, discover/import
 *   git_repo.c    libgit2: open, fetch, resolve, checkout, read HEAD
 *   git_sync.c    sync and ensure-head: moving a checkout atomically
 *   git_url.c     redacting credentials out of URLs and messages
 */
#ifndef JR_GIT_INTERNAL_H
#define JR_GIT_INTERNAL_H

#include <git2.h>
#include <pthread.h>

#include "jobreg/git.h"
#include "source.h"

/*
 * A git source: the common source first, so that a jobreg_source * of type
 * JOBREG_SOURCE_GIT is a jr_git_source *.
 */
typedef struct jr_git_source {
	jobreg_source base;
	char *remote_url;          /* as given: may hold credentials, never shown */
	char *remote_url_redacted; /* what every message and stored value uses */
	char *branch;
	char *git_root;
	char *lock_path;  /* <git_root>/.<slug>.lock */
	char *trial_path; /* <git_root>/.<slug>.trial: a move's rollback point */
	/* Text that must never appear in a message: the URL's user info. */
	char *secrets[2];
	jobreg_git_credentials_cb credentials;
	jobreg_git_progress_cb progress;
	void *payload;

	pthread_mutex_t op_lock; /* one sync or ensure-head at a time */
	/* Short lock over the heads below; taken inside loads (never held
	 * while waiting for anything else). */
	pthread_mutex_t state_lock;
	git_oid discovered; /* HEAD seen by the current load's discovery */
	int discovered_valid;
	git_oid imported; /* HEAD of the registry's code (the last published import) */
	int imported_valid;
	/* The current load's import of the source was accepted (`<slug>` and
	 * `<slug>.jobs` imported from the checkout), and so was the published
	 * one: a head whose code failed is never recorded. */
	int import_ok;
	int imported_ok;
	/* An ensure-head without a registry is moving the checkout: loads of
	 * the source's registry meanwhile keep the code they have. (A move
	 * with a registry does it inside a load transaction: no load sees it.) */
	int moving;
	/* A sync or ensure-head of this source holds (or is taking) the lock
	 * file: a load must not wait for it, it may be that very move's. */
	int move_holds_lock_file;
	/* The shared lock on the lock file that a load holds from discovery
	 * until it is done with the files (-1: none). Only the registry's load
	 * transaction touches it. */
	int load_lock_fd;
	/* What the last move refused because its code failed to load: a
	 * snapshot of that load's errors only (no jobs, so no Python), and
	 * the commit; NULL when the last move was not refused for that.
	 * Under state_lock. */
	jobreg_snapshot *refused;
	char refused_commit[JOBREG_GIT_HEAD_SIZE];
} jr_git_source;

static inline jr_git_source *jr_git_of(jobreg_source *src)
{
	return (jr_git_source *)src;
}

/* ---- source_git.c ---- */

/*
 * The slug rules of SPEC 1.2; a module of that name loaded or importable
 * from `own_root` (the source's own checkout; NULL: none) is no clash.
 * Takes the GIL. 0 or JOBREG_EINVAL naming the slug and the rule.
 */
int jr_git_check_slug_free(const char *slug, const char *own_root);

/*
 * 1 when `<slug>` was imported from the checkout and `<slug>.jobs` too:
 * the acceptance check of new code. `part` is what the import made: one
 * made in a worker process (isolation mode) says what the worker saw;
 * otherwise (also for a NULL part) sys.modules tells, under the GIL.
 */
int jr_git_imported_from_checkout(const jr_git_source *g, const jr_part *part);

/*
 * 1 when the trial journal `<git_root>/.<slug>.trial` exists: a move has
 * the checkout on a commit under trial, or died there (git_sync.c).
 */
int jr_git_trial_pending(const jr_git_source *g);

/* ---- git_url.c ---- */

/* The URL with credentials redacted; NULL when out of memory (error set). */
char *jr_git_redact_url(const char *url);
/*
 * `text` with every URL's credentials redacted and every string of
 * `secrets` (NULL entries skipped) replaced by "***". NULL on OOM.
 */
char *jr_git_redact_text(const char *text, char *const *secrets, size_t secret_count);
/*
 * The secrets a URL carries, percent-decoded: its password, and its user
 * name unless it is an ssh URL (see git_url.c); each NULL when absent.
 * 0 or JOBREG_ENOMEM.
 */
int jr_git_url_secrets(const char *url, char **user, char **password);

/* Set the thread's error, redacting the message for this source. */
int jr_git_error_set(const jr_git_source *g, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- git_repo.c ---- */

/* What one fetch went through, for the error message. */
typedef struct jr_git_transfer {
	jr_git_source *g;
	int credentials_given; /* the host supplied credentials once */
	int auth_refused;      /* the server asked again after that */
	int auth_missing;      /* the server asked and there was nothing */
	int host_error;        /* negative code returned by the host's callback */
	int cancelled;         /* the progress callback said stop */
} jr_git_transfer;

/*
 * Open the repository of the checkout at `path`. JOBREG_ENOTFOUND when
 * there is none; JOBREG_EGIT otherwise (error set).
 */
int jr_git_open(git_repository **out, const jr_git_source *g, const char *path);
/* Make an empty repository at `path` (a new folder). */
int jr_git_init_repo(git_repository **out, const jr_git_source *g, const char *path);
/*
 * The commit HEAD points at, in the repository at `path`: 0, or
 * JOBREG_ENOTFOUND (no repository, or no commit checked out yet), or
 * JOBREG_EGIT. Never touches the network.
 */
int jr_git_read_head(git_oid *out, const jr_git_source *g, const char *path);
/*
 * Fetch every branch (into refs/remotes/origin/) and tag from the remote,
 * pruning what the remote deleted. Writes no configuration, no FETCH_HEAD,
 * and only redacted URLs in reflogs. A failure leaves every ref as it was.
 */
int jr_git_fetch(git_repository *repo, jr_git_source *g);
/*
 * The commit `target` names: the remote branch of that name, else the tag,
 * else a commit id (>= 4 hex digits). JOBREG_ENOTFOUND (error set) when
 * none is in the repository.
 */
int jr_git_resolve(git_oid *out, git_repository *repo, const jr_git_source *g, const char *target);
/* Look up a commit by a full or abbreviated id; JOBREG_ENOTFOUND when absent. */
int jr_git_find_commit(git_oid *out, git_repository *repo, const jr_git_source *g, const char *hex);
/*
 * Remove what an interrupted libgit2 write leaves in the checkout's git
 * folder: temporary packs and loose objects (`*_git2_*`), `*.lock` files,
 * and pack indexes without their pack. Only with the lock file held
 * exclusively: no live mover is writing them then. Best effort.
 */
void jr_git_remove_stale_files(const char *checkout);
/* Force the working tree to `commit` and detach HEAD there. */
int jr_git_checkout(git_repository *repo, jr_git_source *g, const git_oid *commit);
/* Record the libgit2 error of a failed call `what` (rc from libgit2). */
int jr_git_fail(const jr_git_source *g, int rc, const char *what);

/* 1 when `s` is 4 to 40 hex digits. */
int jr_git_is_commit_id(const char *s);

/* The reload fingerprint of a head (never 0). */
uint64_t jr_git_fingerprint(const git_oid *head);

#endif
