/*
 * git_sync_fixture.h: what the git sync suites share (header-only):
 * tests/c/test_git_sync*.c and test_git_ensure_head.c.
 *
 * Each test runs between git_sync_setup() and git_sync_teardown(): it
 * starts with `fx.reg`, a new registry, and `fx.git_root`, a new empty
 * folder; teardown frees the registry (a test that frees it itself sets
 * fx.reg to NULL, or uses fx_new_registry()). A suite ends with
 *
 *	JR_SUITE_MAIN_WITH_LIBRARY(tests, git_sync_setup, git_sync_teardown)
 *
 * Then the helpers more than one suite uses: file:// URLs, an upstream
 * with two commits, a host's credentials and progress callbacks, and the
 * stored records and git state.
 */
#ifndef JR_GIT_SYNC_FIXTURE_H
#define JR_GIT_SYNC_FIXTURE_H

#include "gitutil.h"
#include "../c/loadutil.h"

#include <jobreg/sys/storage.h>

/* ---- the per-test fixture ---- */

struct git_sync_fixture {
	jobreg_registry *reg; /* freed by teardown */
	char git_root[4096];
};

static struct git_sync_fixture fx;

static inline void git_sync_setup(void)
{
	git_test_env();
	memset(&fx, 0, sizeof(fx));
	snprintf(fx.git_root, sizeof(fx.git_root), "%s", jr_tmpdir());
	fx.reg = new_registry();
}

static inline void git_sync_teardown(void)
{
	jobreg_registry_free(fx.reg);
	memset(&fx, 0, sizeof(fx));
}

/* Free the fixture's registry and start a new one (a worker starting afresh). */
static inline jobreg_registry *fx_new_registry(void)
{
	jobreg_registry_free(fx.reg);
	fx.reg = new_registry();
	return fx.reg;
}

/* ---- paths ---- */

static inline char *file_url(const char *dir)
{
	static char bufs[4][4200];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, 4200, "file://%.4000s", dir);
	return b;
}

static inline const char *checkout_file(const char *git_root, const char *slug, const char *rel)
{
	static char path[8400];

	snprintf(path, sizeof(path), "%s/%s/%s", git_root, slug, rel);
	return path;
}

/* ---- an upstream with two commits ---- */

struct two_commits {
	char up[4096], moved_away[4200];
	char first[64], second[64];
};

/* An upstream with First then Second; the source synced to the first. */
static inline jobreg_source *two_commit_source(struct two_commits *t, jobreg_registry *reg,
                                               const char *slug, const char *git_root)
{
	jobreg_source *src;

	snprintf(t->up, sizeof(t->up), "%s", make_upstream(jr_tmpdir(), slug, "First"));
	snprintf(t->first, sizeof(t->first), "%s", git_rev(t->up, "HEAD"));
	src = add_git_source(reg, slug, file_url(t->up), NULL, git_root);
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	jr_write(t->up, "jobs/__init__.py", job_module("Second", "Second"));
	snprintf(t->second, sizeof(t->second), "%s", git_commit_all(t->up, "second"));
	snprintf(t->moved_away, sizeof(t->moved_away), "%s.gone", t->up);
	return src;
}

/* From now on any fetch fails: the upstream is not there any more. */
static inline void take_upstream_away(struct two_commits *t)
{
	CHECK_INT(rename(t->up, t->moved_away), 0);
}

/* ---- the host's callbacks ---- */

#define TOKEN "s3cr3t-t0ken-42"

struct host_answers {
	const char *token; /* NULL: say "no credentials" */
	int negative;      /* return this error instead */
	int calls;
	unsigned int allowed;
	char url[512];
	int progress_calls, receiving, resolving, checkout;
	size_t last_total;
	int cancel;
};

static inline int give_token(jobreg_git_credential *out, const char *url,
                             const char *username_from_url, unsigned int allowed_types,
                             void *payload)
{
	struct host_answers *h = payload;

	(void)username_from_url;
	h->calls++;
	h->allowed = allowed_types;
	snprintf(h->url, sizeof(h->url), "%s", url);
	if (h->negative)
		return h->negative;
	if (!h->token)
		return 1;
	return jobreg_git_credential_set_token(out, h->token);
}

static inline int count_progress(const jobreg_git_progress *p, void *payload)
{
	struct host_answers *h = payload;

	h->progress_calls++;
	CHECK(p->version >= 1);
	if (p->stage == JOBREG_GIT_STAGE_RECEIVING) {
		h->receiving++;
		h->last_total = p->total;
		CHECK(p->current <= p->total || p->total == 0);
	} else if (p->stage == JOBREG_GIT_STAGE_RESOLVING) {
		h->resolving++;
	} else if (p->stage == JOBREG_GIT_STAGE_CHECKOUT) {
		h->checkout++;
	}
	return h->cancel;
}

static inline jobreg_source *add_source_with_host(jobreg_registry *reg, const char *slug,
                                                  const char *url, const char *git_root,
                                                  struct host_answers *h, int with_credentials)
{
	jobreg_git_options opts = JOBREG_GIT_OPTIONS_INIT;
	jobreg_source *src = NULL;

	opts.slug = slug;
	opts.remote_url = url;
	opts.git_root = git_root;
	opts.credentials = with_credentials ? give_token : NULL;
	opts.progress = count_progress;
	opts.payload = h;
	CHECK_OK(jobreg_source_git_new(&src, &opts));
	if (src)
		CHECK_OK(jobreg_registry_add_source(reg, src));
	return src;
}

/* ---- records and stored git state ---- */

/* The stored current_head of `slug` ("" when none), in a static buffer. */
static inline const char *stored_head(jobreg_storage *st, const char *slug)
{
	static char buf[64];
	char *head = NULL;

	buf[0] = '\0';
	if (jobreg_storage_git_state_get(NULL, NULL, &head, st, slug) == 0)
		snprintf(buf, sizeof(buf), "%s", head);
	jobreg_free(head);
	return buf;
}

/* Installed 1/0 of the record of `class_path`, or -1 when there is none. */
static inline int installed_of(jobreg_storage *st, const char *class_path)
{
	jobreg_record *rec = NULL;
	int installed;

	if (jobreg_storage_get(&rec, st, class_path) < 0)
		return -1;
	installed = jobreg_record_bool(rec, JOBREG_FIELD_INSTALLED);
	jobreg_record_free(rec);
	return installed;
}

static inline size_t record_count(jobreg_storage *st, jobreg_installed_filter which)
{
	jobreg_record_list *list = NULL;
	size_t n;

	CHECK_OK(jobreg_storage_list(&list, st, which));
	n = jobreg_record_list_count(list);
	jobreg_record_list_free(list);
	return n;
}

#endif
