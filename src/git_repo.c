/*
 * git_repo.c: the libgit2 side of a git source (no Python here).
 *
 * The remote is never written into the repository's configuration: every
 * fetch uses an in-memory ("anonymous") remote with explicit refspecs, so a
 * URL holding credentials never reaches the disk. For the same reason no
 * FETCH_HEAD is written and reflog messages carry the redacted URL only.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <git2/sys/credential.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "git_internal.h"
#include "util.h"

int jr_git_fail(const jr_git_source *g, int rc, const char *what)
{
	const git_error *e = git_error_last();
	const char *why = e && e->message ? e->message : "unknown libgit2 error";
	int code = rc == GIT_EAUTH ? JOBREG_EAUTH : JOBREG_EGIT;

	if (rc == GIT_EAUTH)
		return jr_git_error_set(g, code, "%s: authentication failed for %s: %s", what,
		                        g->remote_url_redacted, why);
	return jr_git_error_set(g, code, "%s: %s", what, why);
}

int jr_git_is_commit_id(const char *s)
{
	size_t n = 0;

	while (s[n] && isxdigit((unsigned char)s[n]))
		n++;
	return s[n] == '\0' && n >= 4 && n <= GIT_OID_HEXSZ;
}

uint64_t jr_git_fingerprint(const git_oid *head)
{
	uint64_t fp = 0;
	size_t i;

	for (i = 0; i < sizeof(fp); i++)
		fp = (fp << 8) | head->id[i];
	return fp ? fp : 1;
}

int jr_git_open(git_repository **out, const jr_git_source *g, const char *path)
{
	int rc = git_repository_open_ext(out, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);

	if (rc == GIT_ENOTFOUND) {
		git_error_clear();
		return jr_error_set(JOBREG_ENOTFOUND, "git repository '%s': no checkout at %s",
		                    g->base.name, path);
	}
	if (rc < 0)
		return jr_git_fail(g, rc, "opening the checkout");
	return 0;
}

int jr_git_init_repo(git_repository **out, const jr_git_source *g, const char *path)
{
	int rc = git_repository_init(out, path, 0);

	return rc < 0 ? jr_git_fail(g, rc, "creating the checkout") : 0;
}

int jr_git_read_head(git_oid *out, const jr_git_source *g, const char *path)
{
	git_repository *repo;
	int rc = git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);

	if (rc == GIT_ENOTFOUND) {
		git_error_clear();
		return jr_error_set(JOBREG_ENOTFOUND, "git repository '%s': no checkout at %s",
		                    g->base.name, path);
	}
	if (rc < 0)
		return jr_git_fail(g, rc, "opening the checkout");
	rc = git_reference_name_to_id(out, repo, "HEAD");
	git_repository_free(repo);
	if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH) {
		git_error_clear();
		return jr_error_set(JOBREG_ENOTFOUND, "git repository '%s': nothing checked out at %s",
		                    g->base.name, path);
	}
	return rc < 0 ? jr_git_fail(g, rc, "reading HEAD") : 0;
}

/* ---- credentials ---- */

struct jobreg_git_credential {
	unsigned int allowed;          /* JOBREG_GIT_CREDENTIAL_* */
	const char *username_from_url; /* may be NULL */
	git_credential *made;
	int only_username;
};

static int offer(jobreg_git_credential *cred, unsigned int type, const char *what,
                 git_credential *made, int rc)
{
	if (rc < 0) {
		const git_error *e = git_error_last();
		return jr_error_set(JOBREG_EGIT, "%s: %s", what, e && e->message ? e->message : "failed");
	}
	git_credential_free(cred->made);
	cred->made = made;
	cred->only_username = type == JOBREG_GIT_CREDENTIAL_USERNAME;
	return 0;
}

static int check_allowed(const jobreg_git_credential *cred, unsigned int type, const char *what)
{
	if (!cred)
		return jr_error_set(JOBREG_EINVAL, "%s: cred is NULL", what);
	if (!(cred->allowed & type))
		return jr_error_set(JOBREG_EINVAL,
		                    "%s: the server does not accept this kind of credentials "
		                    "(accepted: %s%s%s)",
		                    what, cred->allowed & JOBREG_GIT_CREDENTIAL_USERPASS ? "userpass " : "",
		                    cred->allowed & JOBREG_GIT_CREDENTIAL_SSH_KEY ? "ssh_key " : "",
		                    cred->allowed & JOBREG_GIT_CREDENTIAL_USERNAME ? "username" : "");
	return 0;
}

int jobreg_git_credential_set_userpass(jobreg_git_credential *cred, const char *username,
                                       const char *password)
{
	static const char what[] = "jobreg_git_credential_set_userpass";
	git_credential *made = NULL;
	int rc = check_allowed(cred, JOBREG_GIT_CREDENTIAL_USERPASS, what);

	if (rc < 0)
		return rc;
	if (!username || !password)
		return jr_error_set(JOBREG_EINVAL, "%s: NULL username or password", what);
	rc = git_credential_userpass_plaintext_new(&made, username, password);
	return offer(cred, JOBREG_GIT_CREDENTIAL_USERPASS, what, made, rc);
}

int jobreg_git_credential_set_token(jobreg_git_credential *cred, const char *token)
{
	static const char what[] = "jobreg_git_credential_set_token";
	git_credential *made = NULL;
	const char *user;
	int rc = check_allowed(cred, JOBREG_GIT_CREDENTIAL_USERPASS, what);

	if (rc < 0)
		return rc;
	if (!token)
		return jr_error_set(JOBREG_EINVAL, "%s: token is NULL", what);
	user = cred->username_from_url && *cred->username_from_url ? cred->username_from_url
	                                                           : "x-access-token";
	rc = git_credential_userpass_plaintext_new(&made, user, token);
	return offer(cred, JOBREG_GIT_CREDENTIAL_USERPASS, what, made, rc);
}

int jobreg_git_credential_set_ssh_key(jobreg_git_credential *cred, const char *username,
                                      const char *public_key_path, const char *private_key_path,
                                      const char *passphrase)
{
	static const char what[] = "jobreg_git_credential_set_ssh_key";
	git_credential *made = NULL;
	int rc = check_allowed(cred, JOBREG_GIT_CREDENTIAL_SSH_KEY, what);

	if (rc < 0)
		return rc;
	if (!username || !private_key_path)
		return jr_error_set(JOBREG_EINVAL, "%s: NULL username or private key path", what);
	rc = git_credential_ssh_key_new(&made, username, public_key_path, private_key_path, passphrase);
	return offer(cred, JOBREG_GIT_CREDENTIAL_SSH_KEY, what, made, rc);
}

int jobreg_git_credential_set_ssh_agent(jobreg_git_credential *cred, const char *username)
{
	static const char what[] = "jobreg_git_credential_set_ssh_agent";
	git_credential *made = NULL;
	int rc = check_allowed(cred, JOBREG_GIT_CREDENTIAL_SSH_KEY, what);

	if (rc < 0)
		return rc;
	if (!username)
		return jr_error_set(JOBREG_EINVAL, "%s: username is NULL", what);
	rc = git_credential_ssh_key_from_agent(&made, username);
	return offer(cred, JOBREG_GIT_CREDENTIAL_SSH_KEY, what, made, rc);
}

int jobreg_git_credential_set_username(jobreg_git_credential *cred, const char *username)
{
	static const char what[] = "jobreg_git_credential_set_username";
	git_credential *made = NULL;
	int rc = check_allowed(cred, JOBREG_GIT_CREDENTIAL_USERNAME, what);

	if (rc < 0)
		return rc;
	if (!username)
		return jr_error_set(JOBREG_EINVAL, "%s: username is NULL", what);
	rc = git_credential_username_new(&made, username);
	return offer(cred, JOBREG_GIT_CREDENTIAL_USERNAME, what, made, rc);
}

static unsigned int allowed_for_host(unsigned int git_types)
{
	unsigned int allowed = 0;

	if (git_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT)
		allowed |= JOBREG_GIT_CREDENTIAL_USERPASS;
	if (git_types & GIT_CREDENTIAL_SSH_KEY)
		allowed |= JOBREG_GIT_CREDENTIAL_SSH_KEY;
	if (git_types & GIT_CREDENTIAL_USERNAME)
		allowed |= JOBREG_GIT_CREDENTIAL_USERNAME;
	return allowed;
}

/*
 * libgit2 asks again after a server refused what it got; asking the host a
 * second time would only repeat the same answer, so that is a refusal.
 */
static int ask_credentials(git_credential **out, const char *url, const char *username_from_url,
                           unsigned int allowed_types, void *payload)
{
	jr_git_transfer *t = payload;
	jr_git_source *g = t->g;
	jobreg_git_credential cred = { 0, NULL, NULL, 0 };
	int rc;

	(void)url; /* the host gets the redacted one */
	if (t->credentials_given) {
		t->auth_refused = 1;
		return GIT_EAUTH;
	}
	cred.allowed = allowed_for_host(allowed_types);
	if (!g->credentials || !cred.allowed) {
		t->auth_missing = 1;
		return GIT_EAUTH;
	}
	cred.username_from_url = username_from_url;
	rc = g->credentials(&cred, g->remote_url_redacted, username_from_url, cred.allowed, g->payload);
	if (rc < 0) {
		git_credential_free(cred.made);
		t->host_error = rc;
		return GIT_EUSER;
	}
	if (rc > 0 || !cred.made) {
		git_credential_free(cred.made);
		t->auth_missing = 1;
		return GIT_EAUTH;
	}
	if (!cred.only_username)
		t->credentials_given = 1;
	*out = cred.made;
	return 0;
}

/* ---- progress ---- */

static int report(jr_git_source *g, unsigned int stage, size_t current, size_t total,
                  uint64_t bytes)
{
	jobreg_git_progress p;

	if (!g->progress)
		return 0;
	p.version = JOBREG_GIT_PROGRESS_VERSION;
	p.stage = stage;
	p.current = current;
	p.total = total;
	p.received_bytes = bytes;
	return g->progress(&p, g->payload);
}

static int transfer_progress(const git_indexer_progress *stats, void *payload)
{
	jr_git_transfer *t = payload;
	int rc;

	if (stats->total_deltas > 0 && stats->received_objects == stats->total_objects)
		rc = report(t->g, JOBREG_GIT_STAGE_RESOLVING, stats->indexed_deltas, stats->total_deltas,
		            stats->received_bytes);
	else
		rc = report(t->g, JOBREG_GIT_STAGE_RECEIVING, stats->received_objects, stats->total_objects,
		            stats->received_bytes);
	if (rc != 0) {
		t->cancelled = 1;
		return GIT_EUSER;
	}
	return 0;
}

static void checkout_progress(const char *path, size_t completed, size_t total, void *payload)
{
	(void)path;
	/* A checkout half done is worse than one finished: no cancel here. */
	report(payload, JOBREG_GIT_STAGE_CHECKOUT, completed, total, 0);
}

/* ---- fetch, resolve, checkout ---- */

static int fetch_failed(jr_git_transfer *t, int rc)
{
	jr_git_source *g = t->g;

	if (t->cancelled)
		return jr_git_error_set(g, JOBREG_EGIT, "fetching %s: cancelled by the progress callback",
		                        g->remote_url_redacted);
	if (t->host_error)
		return jr_git_error_set(g, t->host_error,
		                        "fetching %s: the credentials callback failed: %s",
		                        g->remote_url_redacted, jobreg_strerror(t->host_error));
	if (t->auth_refused || (t->auth_missing && g->secrets[1]))
		return jr_git_error_set(g, JOBREG_EAUTH,
		                        "authentication failed for %s: the server refused the credentials",
		                        g->remote_url_redacted);
	if (t->auth_missing)
		return jr_git_error_set(g, JOBREG_EAUTH,
		                        "authentication failed for %s: the server asks for credentials "
		                        "and none were given (set a credentials callback or a token)",
		                        g->remote_url_redacted);
	if (rc == GIT_EAUTH)
		return jr_git_fail(g, rc, "fetching");
	return jr_git_error_set(g, JOBREG_EGIT, "fetching %s: %s", g->remote_url_redacted,
	                        git_error_last() && git_error_last()->message
	                            ? git_error_last()->message
	                            : "unknown libgit2 error");
}

int jr_git_fetch(git_repository *repo, jr_git_source *g)
{
	static char heads[] = "+refs/heads/*:refs/remotes/origin/*";
	static char tags[] = "+refs/tags/*:refs/tags/*";
	char *specs[] = { heads, tags };
	git_strarray refspecs = { specs, 2 };
	git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;
	git_remote_create_options ro = GIT_REMOTE_CREATE_OPTIONS_INIT;
	jr_git_transfer t;
	git_remote *remote = NULL;
	char *reflog;
	int rc;

	memset(&t, 0, sizeof(t));
	t.g = g;
	reflog = jr_asprintf("jobreg: fetch %s", g->remote_url_redacted);
	if (!reflog)
		return JOBREG_ENOMEM;
	/* In memory only (no name), and the URL as the host gave it: no
	 * url.*.insteadOf rewriting from whatever git configuration is around. */
	ro.repository = repo;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	rc = git_remote_create_with_opts(&remote, g->remote_url, &ro);
	if (rc < 0) {
		free(reflog);
		return jr_git_fail(g, rc, "remote URL");
	}
	fo.callbacks.credentials = ask_credentials;
	fo.callbacks.transfer_progress = transfer_progress;
	fo.callbacks.payload = &t;
	fo.prune = GIT_FETCH_PRUNE;
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE; /* the refspec takes every tag */
	rc = git_remote_fetch(remote, &refspecs, &fo, reflog);
	git_remote_free(remote);
	free(reflog);
	if (rc < 0)
		return fetch_failed(&t, rc);
	return 0;
}

static int peel_to_commit(git_oid *out, git_repository *repo, const char *refname)
{
	git_reference *ref;
	git_object *obj;
	int rc = git_reference_lookup(&ref, repo, refname);

	if (rc < 0)
		return rc;
	rc = git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT);
	git_reference_free(ref);
	if (rc < 0)
		return rc;
	git_oid_cpy(out, git_object_id(obj));
	git_object_free(obj);
	return 0;
}

int jr_git_find_commit(git_oid *out, git_repository *repo, const jr_git_source *g, const char *hex)
{
	git_oid prefix;
	git_object *obj;
	size_t len = strlen(hex);
	int rc;

	if (!jr_git_is_commit_id(hex))
		return jr_error_set(JOBREG_EINVAL, "'%s' is not a commit id (4 to 40 hex digits)", hex);
	rc = git_oid_fromstrn(&prefix, hex, len);
	if (rc == 0)
		rc = git_object_lookup_prefix(&obj, repo, &prefix, len, GIT_OBJECT_COMMIT);
	if (rc == GIT_ENOTFOUND) {
		git_error_clear();
		return jr_error_set(JOBREG_ENOTFOUND, "commit %s is not in the repository", hex);
	}
	if (rc == GIT_EAMBIGUOUS)
		return jr_git_error_set(g, JOBREG_EAMBIGUOUS, "commit id %s is ambiguous: give more digits",
		                        hex);
	if (rc < 0)
		return jr_git_fail(g, rc, "looking up a commit");
	git_oid_cpy(out, git_object_id(obj));
	git_object_free(obj);
	return 0;
}

int jr_git_resolve(git_oid *out, git_repository *repo, const jr_git_source *g, const char *target)
{
	char *refname;
	int rc, kind;
	static const char *const prefixes[] = { "refs/remotes/origin/", "refs/tags/" };

	for (kind = 0; kind < 2; kind++) {
		refname = jr_asprintf("%s%s", prefixes[kind], target);
		if (!refname)
			return JOBREG_ENOMEM;
		rc = peel_to_commit(out, repo, refname);
		free(refname);
		if (rc == 0)
			return 0;
		if (rc != GIT_ENOTFOUND && rc != GIT_EINVALIDSPEC)
			return jr_git_fail(g, rc, "resolving the branch");
		git_error_clear();
	}
	if (jr_git_is_commit_id(target)) {
		rc = jr_git_find_commit(out, repo, g, target);
		if (rc != JOBREG_ENOTFOUND)
			return rc;
	}
	return jr_git_error_set(g, JOBREG_ENOTFOUND,
	                        "git repository '%s': no branch, tag or commit '%s' in %s",
	                        g->base.name, target, g->remote_url_redacted);
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

/*
 * What libgit2 1.5 leaves when killed mid-write: `pack_git2_*` (a pack
 * being received), `tmp_object_git2_*` (a loose object), `*.lock` (a ref,
 * HEAD, the index, packed-refs or config being replaced: a stale one makes
 * every later write of that file fail), and `pack-*.idx` whose pack was
 * not renamed into place yet. Git forbids ref names ending in `.lock`.
 */
static int is_stale(const char *path, const char *name)
{
	char pack[PATH_MAX];
	struct stat st;

	if (strstr(name, "_git2_") || ends_with(name, ".lock"))
		return 1;
	if (strncmp(name, "pack-", 5) != 0 || !ends_with(name, ".idx"))
		return 0;
	if (snprintf(pack, sizeof(pack), "%.*s.pack", (int)(strlen(path) - 4), path) >=
	    (int)sizeof(pack))
		return 0;
	return lstat(pack, &st) < 0 && errno == ENOENT;
}

static int remove_if_stale(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	if (flag == FTW_F && is_stale(path, path + ftw->base))
		(void)unlink(path);
	return 0;
}

void jr_git_remove_stale_files(const char *checkout)
{
	char *dotgit = jr_asprintf("%s/.git", checkout);

	if (dotgit)
		(void)nftw(dotgit, remove_if_stale, 16, FTW_PHYS);
	free(dotgit);
}

int jr_git_checkout(git_repository *repo, jr_git_source *g, const git_oid *commit)
{
	git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
	git_commit *c;
	int rc = git_commit_lookup(&c, repo, commit);

	if (rc < 0)
		return jr_git_fail(g, rc, "looking up the commit to check out");
	/* The checkout is the library's own: make it match the commit exactly,
	 * whatever was edited, left behind or compiled in it. */
	co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED;
	co.progress_cb = checkout_progress;
	co.progress_payload = g;
	rc = git_checkout_tree(repo, (const git_object *)c, &co);
	git_commit_free(c);
	if (rc == 0)
		rc = git_repository_set_head_detached(repo, commit);
	return rc < 0 ? jr_git_fail(g, rc, "checking out") : 0;
}
