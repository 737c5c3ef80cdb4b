/*
 * git.h: git repositories as sources of jobs (SPEC 1.2).
 *
 * A git source is defined by a slug, a remote URL and a branch (a branch,
 * a tag or a commit). Its checkout lives in `<git_root>/<slug>`; the
 * modules `<slug>`, `<slug>.jobs` and every module under `<slug>/jobs/` are
 * imported from it (as Nautobot 2.3 and later do), nothing else.
 *
 * Network work happens only in jobreg_git_sync() and, when the commit is
 * missing, in jobreg_git_ensure_head(); never while the GIL is held. Both are
 * atomic: a failed fetch, checkout or load leaves the checkout, the loaded
 * generation and the repository's refs to the target as they were.
 *
 * Credentials come from the host through a callback at the moment a server
 * asks for them and are never stored: not in the checkout's configuration,
 * not in its reflogs, not in FETCH_HEAD, not in any message. A remote URL
 * carrying credentials (`https://user:token@host/x.git`) is used as given for
 * the transfer but shown everywhere else redacted: its user information
 * (`user:token`) replaced by `***`.
 */
#ifndef JOBREG_GIT_H
#define JOBREG_GIT_H

#include <stdint.h>

#include "common.h"
#include "records.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Size of a commit id as text: 40 hex digits and the terminating NUL. */
#define JOBREG_GIT_HEAD_SIZE 41

/** Longest slug accepted (SPEC 1.2). */
#define JOBREG_GIT_SLUG_MAX 100

/**
 * Credential kind bit of the `allowed_types` a server accepts: a user name
 * and a password or token (HTTP(S)).
 */
#define JOBREG_GIT_CREDENTIAL_USERPASS 0x1u
/** Credential kind bit: a key pair on disk or the ssh agent. */
#define JOBREG_GIT_CREDENTIAL_SSH_KEY 0x2u
/**
 * Credential kind bit: an ssh server asking only for the user name to try
 * keys with (answer with jobreg_git_credential_set_username()).
 */
#define JOBREG_GIT_CREDENTIAL_USERNAME 0x4u

/**
 * Called when a server asks for credentials.
 *
 * `url` is the remote URL, redacted. `username_from_url` is the user name
 * the URL carries, or NULL. `allowed_types` is a set of
 * JOBREG_GIT_CREDENTIAL_* bits. Return 0 after filling `out`; a positive
 * value when you have no credentials for this server (the transfer then
 * fails with JOBREG_EAUTH); a negative JOBREG_E* code to abort the transfer
 * with that code. Called at most once per transfer with credentials given:
 * when the server refuses them, the transfer fails with JOBREG_EAUTH rather
 * than asking again. Called on the thread that called the sync; must not
 * call back into this source.
 */
typedef int (*jobreg_git_credentials_cb)(jobreg_git_credential *out, const char *url,
                                         const char *username_from_url, unsigned int allowed_types,
                                         void *payload);

/**
 * A user name and a password for HTTP(S) (or ssh password authentication).
 * Call it only inside a credentials callback, on `cred` it was given; the
 * strings are copied. Errors: JOBREG_EINVAL (NULL argument, or the server
 * does not accept USERPASS), JOBREG_ENOMEM.
 */
JOBREG_EXTERN(int)
jobreg_git_credential_set_userpass(jobreg_git_credential *cred, const char *username,
                                   const char *password);

/**
 * An access token for HTTP(S): sent as the password, with the URL's user
 * name or else "x-access-token" as the user name (what GitHub, GitLab and
 * Gitea accept for personal access tokens; hosts wanting another user name
 * use set_userpass). Errors as set_userpass.
 */
JOBREG_EXTERN(int) jobreg_git_credential_set_token(jobreg_git_credential *cred, const char *token);

/**
 * A key pair on disk for ssh. `public_key_path` and `passphrase` may be
 * NULL. Errors: JOBREG_EINVAL (NULL username or private key, or the server
 * does not accept SSH_KEY), JOBREG_ENOMEM.
 */
JOBREG_EXTERN(int)
jobreg_git_credential_set_ssh_key(jobreg_git_credential *cred, const char *username,
                                  const char *public_key_path, const char *private_key_path,
                                  const char *passphrase);

/** The keys of the running ssh agent, for `username`. Errors as set_ssh_key. */
JOBREG_EXTERN(int)
jobreg_git_credential_set_ssh_agent(jobreg_git_credential *cred, const char *username);

/**
 * Only a user name, for an ssh server that asks for one (USERNAME) before
 * asking again for a key. Errors as set_ssh_key.
 */
JOBREG_EXTERN(int)
jobreg_git_credential_set_username(jobreg_git_credential *cred, const char *username);

/** Stages of a transfer, as jobreg_git_progress.stage. */
#define JOBREG_GIT_STAGE_RECEIVING 1 /**< objects arriving from the remote */
#define JOBREG_GIT_STAGE_RESOLVING 2 /**< deltas being resolved locally */
#define JOBREG_GIT_STAGE_CHECKOUT 3  /**< files being written to the checkout */

/**
 * Transfer progress, filled by the library and read by the host.
 *
 * Never allocate or write one. `version` is the version the library filled
 * in: read a field only when `version` is at least the version that added
 * it; fields are only ever appended.
 *
 * Version history:
 *  - 1 (0.1.0): version, stage, current, total, received_bytes.
 */
typedef struct jobreg_git_progress {
	/** The version the library filled in (JOBREG_GIT_PROGRESS_VERSION or later). */
	unsigned int version;
	/** JOBREG_GIT_STAGE_*. */
	unsigned int stage;
	/** Objects received, deltas resolved or files written so far. */
	size_t current;
	/** How many there are in this stage (0 while unknown). */
	size_t total;
	/** Bytes received from the remote so far. */
	uint64_t received_bytes;
} jobreg_git_progress;

/** The version of jobreg_git_progress these headers describe. */
#define JOBREG_GIT_PROGRESS_VERSION 1

/**
 * Called as a transfer or a checkout advances, on the thread that called
 * the sync, without the GIL. Return 0 to go on; any other value during
 * RECEIVING or RESOLVING cancels the transfer, which then fails with
 * JOBREG_EGIT ("cancelled") and changes nothing. During CHECKOUT the value
 * is ignored: a checkout is never left half done.
 */
typedef int (*jobreg_git_progress_cb)(const jobreg_git_progress *progress, void *payload);

/**
 * Options of jobreg_source_git_new().
 *
 * Version history:
 *  - 1 (0.1.0): version, slug, remote_url, branch, git_root, credentials,
 *    progress, payload.
 */
typedef struct jobreg_git_options {
	/** The structure version the caller fills in: JOBREG_GIT_OPTIONS_VERSION. */
	unsigned int version;
	/** The repository's slug: its source name and module name. Required. */
	const char *slug;
	/**
	 * Where to fetch from: `https://`, `http://`, `git://`, `ssh://`,
	 * `user@host:path`, `file://` or a local path. Required. May carry
	 * credentials; they are never stored or shown.
	 */
	const char *remote_url;
	/** A branch, a tag, or a full or abbreviated commit id; NULL: "main". */
	const char *branch;
	/** The folder of the checkouts; the checkout is `<git_root>/<slug>`. Required. */
	const char *git_root;
	/** Asked when a server wants credentials; NULL: none are offered. */
	jobreg_git_credentials_cb credentials;
	/** Told how transfers and checkouts advance; may be NULL. */
	jobreg_git_progress_cb progress;
	/** Handed to both callbacks. */
	void *payload;
} jobreg_git_options;

/** The version of jobreg_git_options these headers describe. */
#define JOBREG_GIT_OPTIONS_VERSION 1
/** Static initializer of jobreg_git_options: this version, every field unset. */
#define JOBREG_GIT_OPTIONS_INIT                                              \
	{                                                                        \
		JOBREG_GIT_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL \
	}

/**
 * Fill `opts` with the defaults of `version`; JOBREG_EVERSION if unknown,
 * JOBREG_EINVAL for NULL. Thread-safe; needs no jobreg_init().
 */
JOBREG_EXTERN(int) jobreg_git_options_init(jobreg_git_options *opts, unsigned int version);

/**
 * Check a slug against the rules of SPEC 1.2: a Python identifier, not a
 * keyword, at most JOBREG_GIT_SLUG_MAX characters, and not the name of a
 * module importable from elsewhere (standard library, installed packages,
 * another source's modules). Writes nothing.
 *
 * Returns 0 when the slug is acceptable; JOBREG_EINVAL with a message
 * naming the slug and the rule it breaks. Requires jobreg_init(); takes
 * the GIL itself.
 */
JOBREG_EXTERN(int) jobreg_git_slug_check(const char *slug);

/**
 * Create a git source (type "git", named after the slug, rooted at
 * `<git_root>/<slug>`). Nothing is written and nothing is fetched: the
 * checkout is made by the first jobreg_git_sync(). A registry load before
 * that reports the missing checkout as a load error of the source.
 *
 * The slug is checked as jobreg_git_slug_check() does before anything
 * else; uniqueness among a registry's sources is checked again when the
 * source is added (same slug) and at every sync (another source's modules).
 * The strings of `opts` are copied; callbacks and payload are kept and
 * called during syncs until the source is freed.
 *
 * On success `*out` is owned by the caller until it is added to a
 * registry; free it with jobreg_source_free() otherwise. Requires
 * jobreg_init(). Errors: JOBREG_EINVAL (a missing field, or a slug that
 * breaks a rule: the message names the slug and the rule), JOBREG_EVERSION,
 * JOBREG_ESTATE, JOBREG_ENOMEM. Any thread; takes the GIL to check the slug.
 */
JOBREG_EXTERN(int) jobreg_source_git_new(jobreg_source **out, const jobreg_git_options *opts);

/**
 * The remote URL with any credentials redacted (jobreg_git_redact_url()).
 * Borrowed; lives as long as the source. NULL when `src` is not a git source.
 * Any thread; never changes.
 */
JOBREG_EXTERN(const char *) jobreg_source_git_remote_url(const jobreg_source *src);

/**
 * The branch, tag or commit the source follows ("main" by default).
 * Borrowed; lives as long as the source. NULL when `src` is not a git
 * source. Any thread; never changes.
 */
JOBREG_EXTERN(const char *) jobreg_source_git_branch(const jobreg_source *src);

/**
 * The commit the checkout is at, as 40 hex digits, into `out`.
 * Errors: JOBREG_ENOTFOUND (no checkout yet), JOBREG_EINVAL (not a git
 * source), JOBREG_EGIT (the checkout is damaged). Reads the disk only; any
 * thread.
 */
JOBREG_EXTERN(int) jobreg_source_git_head(char out[JOBREG_GIT_HEAD_SIZE], const jobreg_source *src);

/**
 * What a sync did, filled by the library. The caller sets `version`; the
 * library writes only the fields of that version.
 *
 * Version history:
 *  - 1 (0.1.0): version, old_head, new_head, changed, refresh.
 */
typedef struct jobreg_git_sync_result {
	/** The structure version the caller fills in: JOBREG_GIT_SYNC_RESULT_VERSION. */
	unsigned int version;
	/** The commit the checkout was at before, or "" when there was none. */
	char old_head[JOBREG_GIT_HEAD_SIZE];
	/** The commit it is at now (equal to old_head when nothing moved). */
	char new_head[JOBREG_GIT_HEAD_SIZE];
	/** 1 when the checkout moved and the new code was loaded. */
	int changed;
	/**
	 * With a storage: what the refresh of this source's records did
	 * (jobreg/refresh.h). Owned by the caller: free it with
	 * jobreg_refresh_result_free(). NULL without a storage or on error.
	 */
	jobreg_refresh_result *refresh;
} jobreg_git_sync_result;

/** The version of jobreg_git_sync_result these headers describe. */
#define JOBREG_GIT_SYNC_RESULT_VERSION 1
/** Static initializer of jobreg_git_sync_result: this version, nothing filled. */
#define JOBREG_GIT_SYNC_RESULT_INIT                     \
	{                                                   \
		JOBREG_GIT_SYNC_RESULT_VERSION, "", "", 0, NULL \
	}

/**
 * Sync a git source of `reg`: fetch from its remote, move the checkout to
 * the branch's tip (or the tag, or the commit), reload this source alone
 * (its modules purged from sys.modules first, every other source kept as
 * loaded), and, with a storage `st`, refresh the records of this source
 * (jobreg_refresh() limited to it) and store its git state (slug, redacted
 * remote URL, branch, current_head: jobreg_storage_git_state_get()).
 * Clones into `<git_root>/<slug>` the first time.
 *
 * Branch names are looked up first, then tags, then commit ids (full or
 * abbreviated, at least 4 hex digits).
 *
 * Atomic: when the fetch fails (network, authentication, a dropped
 * connection, a cancel from the progress callback), the target cannot be
 * found, the checkout fails, the new code fails to load (the `<slug>` or
 * `<slug>.jobs` module raises, or the layout is refused), or the storage
 * fails, the checkout goes back to the commit it was at (a first clone is
 * removed), the registry serves the old code, the records are as they were
 * (the refresh is one transaction), the stored git state is put back, and
 * the error says why. (A storage that held no state for the slug before and
 * fails during the refresh keeps a state with an empty current_head: "no
 * head recorded".) A job whose Meta is wrong is a load error of that job,
 * not a refusal. With a storage, the commit it goes back to is the
 * current_head stored for the slug when the repository has it (not
 * whatever HEAD another process left); a move that died half-way (a
 * process killed with a commit on trial) is undone first by every sync and
 * ensure-head (since 0.3.0; docs/git.md).
 *
 * A sync whose target is the commit already checked out and loaded imports
 * nothing (changed = 0); with a storage it still refreshes (writing nothing
 * when nothing changed) and stores the state when it differs. `result` and
 * `st` may be NULL.
 *
 * Errors: JOBREG_EINVAL (not a git source of this registry, or its slug
 * clashes with another source's module), JOBREG_EAUTH (credentials missing
 * or refused), JOBREG_EGIT (fetch, lookup or checkout failed; the message
 * carries libgit2's reason with URLs redacted), JOBREG_ENOTFOUND (no such
 * branch, tag or commit), JOBREG_ELOAD (the new code was refused; the
 * message names the module and its error, and jobreg_source_git_refused()
 * gives every load error of the refused commit), JOBREG_EVERSION (result
 * version), storage errors (JOBREG_ESTORAGE, JOBREG_EUNSUPPORTED for a
 * backend without git state), JOBREG_EIO, JOBREG_ESTATE, JOBREG_ENOMEM.
 *
 * Thread-safety: syncs and ensure_head calls on one source are serialized,
 * also across processes sharing the checkout (a lock file
 * `<git_root>/.<slug>.lock`); loads of the registry are serialized with
 * them: while the checkout is on a commit under trial, every other load of
 * the registry waits, so none imports that commit. Network I/O runs
 * without the GIL and without that wait; the import takes the GIL.
 */
JOBREG_EXTERN(int)
jobreg_git_sync(jobreg_git_sync_result *result, jobreg_registry *reg, jobreg_source *src,
                jobreg_storage *st);

/**
 * Store the git state of `src` in `st`: its slug, redacted remote URL,
 * branch, and the commit its checkout is at as current_head. For hosts
 * that refresh all their records themselves after syncing with a NULL
 * storage (the `jobreg` command does). Writes nothing when the stored
 * state is the same already. Reads the checkout's HEAD without the lock
 * file: call it after the sync, from the host that made it.
 * Never stores a head whose code failed (since 0.3.0): JOBREG_ELOAD when
 * this process's last import of that commit failed the acceptance check
 * (`<slug>` and `<slug>.jobs` from the checkout), or it never imported it
 * and the last sync or ensure-head refused it; JOBREG_ESTATE while a move
 * of the checkout is under way or died half-way (the trial journal
 * `<git_root>/.<slug>.trial` exists). The stored state is unchanged then.
 * Errors: JOBREG_ENOTFOUND (no checkout yet), JOBREG_EINVAL, JOBREG_ELOAD,
 * JOBREG_ESTATE, storage errors (JOBREG_EUNSUPPORTED for a backend without
 * git state).
 * Any thread; does not touch Python.
 */
JOBREG_EXTERN(int) jobreg_git_record_head(jobreg_storage *st, const jobreg_source *src);

/**
 * Make a git source of `reg` serve `commit` (a full commit id, or an
 * abbreviated one of at least 4 hex digits): how workers converge on the
 * head a sync recorded.
 *
 * When the checkout is already at `commit` and the registry has loaded
 * that commit, it returns at once: no network, no import. When the commit
 * is in the repository it checks it out and reloads the source (no
 * network); when it is missing it fetches first. Atomic like
 * jobreg_git_sync(). `reg` may be NULL: then only the checkout is moved
 * and nothing is imported (the next registry reload imports it, since the
 * source's reload fingerprint is its head). `changed` (may be NULL) is set
 * to 1 when the checkout moved.
 *
 * Errors as jobreg_git_sync(), plus JOBREG_ENOTFOUND when the commit is
 * not in the remote either, JOBREG_EINVAL for a malformed id.
 *
 * Thread-safety as jobreg_git_sync(): serialized with the syncs and other
 * ensure-heads of the source, in this process and (through the lock file)
 * in others; the quick return when nothing has to move takes neither the
 * lock file nor the GIL.
 */
JOBREG_EXTERN(int)
jobreg_git_ensure_head(int *changed, jobreg_registry *reg, jobreg_source *src, const char *commit);

/**
 * jobreg_git_ensure_head() on the current_head stored for this source's
 * slug in `st` (what the last sync recorded): what a worker calls before
 * running a job of a git source. When the stored head is empty or absent
 * it does nothing and returns JOBREG_ENOTFOUND. Costs one storage read and
 * one read of the checkout's HEAD when nothing has to move.
 * Errors as jobreg_git_ensure_head(), plus storage errors. Threads as
 * jobreg_git_ensure_head().
 */
JOBREG_EXTERN(int)
jobreg_git_ensure_recorded_head(int *changed, jobreg_registry *reg, jobreg_source *src,
                                jobreg_storage *st);

/**
 * The load errors of the commit that the last sync or ensure-head of `src`
 * refused because its code failed to load (since 0.3.0): what a host shows
 * after jobreg_git_sync() or jobreg_git_ensure_head() returned
 * JOBREG_ELOAD, whose message names only the first error. A refused first
 * clone leaves no checkout behind, so the registry's own snapshot then only
 * says that the source has no checkout; these are the errors that caused it.
 *
 * On success `*out` is a snapshot owned by the caller (release it with
 * jobreg_snapshot_free()): generation 0, no jobs, and the load errors of
 * the refused import, each with source, module, file, line, type, message
 * and traceback (file paths are those of the checkout as it was tried; a
 * refused first clone's files are gone). A refusal that recorded no error
 * of its own has one error naming `<slug>.jobs`. `commit` (may be NULL)
 * receives the refused commit as 40 hex digits. The snapshot holds no
 * Python object: releasing it never takes the GIL.
 *
 * Every sync, and every ensure-head that has to move or import, replaces
 * what this returns when it starts; a successful one leaves nothing.
 * With several threads moving one source, the last move's refusal is the
 * one returned.
 *
 * Errors: JOBREG_ENOTFOUND (the last move was not refused for its code:
 * it succeeded, failed otherwise, or none ran yet; `*out` is NULL),
 * JOBREG_EINVAL (NULL `out` or `src`, or not a git source). Any thread;
 * does not touch Python; never waits for a move in progress.
 */
JOBREG_EXTERN(int)
jobreg_source_git_refused(jobreg_snapshot **out, char commit[JOBREG_GIT_HEAD_SIZE],
                          const jobreg_source *src);

/**
 * Redact the credentials of a URL: in `https://user:token@host/x`,
 * `user:token` is replaced by `***`. Any user information of an http(s), git or file
 * URL is redacted (a token is often passed as the user name); an ssh URL
 * keeps a user name without password (`ssh://git@host/x`,
 * `git@host:x.git`). A URL without credentials is returned unchanged.
 *
 * On success `*out` is a new string; free it with jobreg_free().
 * Errors: JOBREG_EINVAL (NULL), JOBREG_ENOMEM. Thread-safe; pure.
 */
JOBREG_EXTERN(int) jobreg_git_redact_url(char **out, const char *url);

#ifdef __cplusplus
}
#endif

#endif
