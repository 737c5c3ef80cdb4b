/*
 * test_git_sync_atomic.c: a git sync is all or nothing (SPEC 1.2). A
 * connection dropped mid-fetch, a cancel from the progress callback, a
 * first fetch that fails and a storage that fails leave the checkout, the
 * stored state and the served code as they were; readers never see a mix
 * of two commits; the leftovers of a dead process are removed: a move
 * killed with a commit under trial is undone by the next move, and the
 * partial packs and stale locks of a killed fetch are cleaned.
 */
#include "../git/git_sync_fixture.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- failures mid-way change nothing ---- */

struct synced_then_grown {
	char base[4096], up[4200], first[64], git_root[4096];
};

/*
 * An upstream synced once over file:// (that registry is gone again), then
 * grown by a commit with a large file: what the next fetch must bring.
 */
static void synced_then_grown(struct synced_then_grown *s, const char *slug)
{
	jobreg_registry *reg = new_registry();
	jobreg_source *src;

	snprintf(s->base, sizeof(s->base), "%s", jr_tmpdir());
	snprintf(s->git_root, sizeof(s->git_root), "%s", jr_tmpdir());
	snprintf(s->up, sizeof(s->up), "%s", make_upstream(s->base, "grown", "Small"));
	snprintf(s->first, sizeof(s->first), "%s", git_rev(s->up, "HEAD"));
	src = add_git_source(reg, slug, file_url(s->up), NULL, s->git_root);
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	jobreg_registry_free(reg);
	CHECK_INT(sh("head -c 3000000 /dev/urandom > '%s/blob.bin'", s->up), 0);
	jr_write(s->up, "jobs/__init__.py", job_module("Large", "Large"));
	git_commit_all(s->up, "large");
}

static void expect_unchanged(const struct synced_then_grown *s, jobreg_registry *reg,
                             jobreg_source *src, const char *slug, uint64_t gen)
{
	char head[JOBREG_GIT_HEAD_SIZE] = "", ref[256];
	char checkout[8400];

	snprintf(checkout, sizeof(checkout), "%s/%s", s->git_root, slug);
	CHECK_OK(jobreg_source_git_head(head, src));
	CHECK_STR(head, s->first);
	CHECK_STR(git_rev(checkout, "refs/remotes/origin/main"), s->first);
	CHECK(!path_exists(jr_path(checkout, "blob.bin")));
	CHECK_CONTAINS(read_text(jr_path(checkout, "jobs/__init__.py")), "class Small");
	CHECK_INT(generation_of(reg), gen);
	snprintf(ref, sizeof(ref), "%s.jobs.Small", slug);
	CHECK(resolves(reg, ref));
	CHECK_INT(count_entries(s->git_root, "\\.[a-z]*\\.clone"), 0);
}

static void test_connection_dropped_mid_fetch_leaves_everything_as_it_was(void)
{
	struct synced_then_grown s;
	jobreg_registry *reg;
	jobreg_source *src;
	test_server daemon, drop;
	char url[256], port[16];
	uint64_t gen;

	synced_then_grown(&s, "dropped");
	daemon = start_server("daemon", s.base, NULL);
	snprintf(port, sizeof(port), "%d", daemon.port);
	drop = start_server("drop", port, "65536");
	snprintf(url, sizeof(url), "git://127.0.0.1:%d/grown", drop.port);
	/* A worker restarts on the existing checkout and loads it. */
	reg = fx.reg;
	src = add_git_source(reg, "dropped", url, NULL, s.git_root);
	CHECK_OK(jobreg_registry_load(reg));
	gen = generation_of(reg);
	CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_EGIT);
	CHECK_CONTAINS(jobreg_error_last()->message, "fetching git://127.0.0.1");
	expect_unchanged(&s, reg, src, "dropped", gen);
	stop_server(&drop);
	stop_server(&daemon);
}

static void test_cancel_from_the_progress_callback_changes_nothing(void)
{
	struct synced_then_grown s;
	struct host_answers h = { NULL, 0, 0, 0, "", 0, 0, 0, 0, 0, 1 };
	jobreg_registry *reg;
	jobreg_source *src;
	test_server daemon;
	char url[256];
	uint64_t gen;

	synced_then_grown(&s, "cancelled");
	daemon = start_server("daemon", s.base, NULL);
	snprintf(url, sizeof(url), "git://127.0.0.1:%d/grown", daemon.port);
	reg = fx.reg;
	src = add_source_with_host(reg, "cancelled", url, s.git_root, &h, 0);
	CHECK_OK(jobreg_registry_load(reg));
	gen = generation_of(reg);
	CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_EGIT);
	CHECK_CONTAINS(jobreg_error_last()->message, "cancelled");
	CHECK_INT(h.progress_calls, 1);
	expect_unchanged(&s, reg, src, "cancelled", gen);
	stop_server(&daemon);
}

static void test_first_fetch_that_fails_leaves_nothing_behind(void)
{
	const char *git_root = jr_path(jr_tmpdir(), "fresh");
	jobreg_registry *reg = fx.reg;
	jobreg_source *src = add_git_source(reg, "nowhere", "file:///nonexistent/repo", NULL, git_root);
	char head[JOBREG_GIT_HEAD_SIZE];

	CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_EGIT);
	CHECK_CONTAINS(jobreg_error_last()->message, "/nonexistent/repo");
	CHECK_INT(jobreg_source_git_head(head, src), JOBREG_ENOTFOUND);
	CHECK(!path_exists(jr_path(git_root, "nowhere")));
	CHECK_INT(count_entries(git_root, ".nowhere.clone"), 0);
}

/*
 * A storage over a memory one whose record writes can be made to fail: the
 * records and the git state live in the inner storage's backend... which is
 * not reachable, so this one keeps its own, just enough for a refresh.
 */
struct flaky {
	jobreg_record **recs, **saved;
	size_t count, saved_count;
	char state[4][512], saved_state[4][512];
	int has_state, saved_has_state;
	int fail_writes;
};

static void flaky_drop(jobreg_record **recs, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		jobreg_record_free(recs[i]);
	free(recs);
}

static jobreg_record **flaky_copy(jobreg_record *const *recs, size_t n)
{
	jobreg_record **copy = calloc(n + 1, sizeof(*copy));
	size_t i;
	for (i = 0; copy && i < n; i++)
		jobreg_record_dup(&copy[i], recs[i]);
	return copy;
}

static int flaky_begin(unsigned int flags, void *payload)
{
	struct flaky *f = payload;
	(void)flags;
	f->saved = flaky_copy(f->recs, f->count);
	f->saved_count = f->count;
	memcpy(f->saved_state, f->state, sizeof(f->state));
	f->saved_has_state = f->has_state;
	return 0;
}

static int flaky_commit(void *payload)
{
	struct flaky *f = payload;
	flaky_drop(f->saved, f->saved_count);
	f->saved = NULL;
	return 0;
}

static int flaky_rollback(void *payload)
{
	struct flaky *f = payload;
	flaky_drop(f->recs, f->count);
	f->recs = f->saved;
	f->count = f->saved_count;
	f->saved = NULL;
	memcpy(f->state, f->saved_state, sizeof(f->state));
	f->has_state = f->saved_has_state;
	return 0;
}

static int flaky_read(jobreg_storage_emit_fn emit, void *emit_payload, void *payload)
{
	struct flaky *f = payload;
	size_t i;
	int rc = 0;
	for (i = 0; rc == 0 && i < f->count; i++) {
		jobreg_record *copy = NULL;
		jobreg_record_dup(&copy, f->recs[i]);
		rc = emit(copy, emit_payload);
	}
	return rc;
}

static int flaky_write(const jobreg_record *rec, void *payload)
{
	struct flaky *f = payload;
	const char *id = jobreg_record_text(rec, JOBREG_FIELD_ID);
	jobreg_record **grown;
	size_t i;

	if (f->fail_writes)
		return jobreg_storage_error_set(JOBREG_ESTORAGE, "disk full (test)");
	for (i = 0; i < f->count; i++) {
		if (strcmp(jobreg_record_text(f->recs[i], JOBREG_FIELD_ID), id) == 0) {
			jobreg_record_free(f->recs[i]);
			return jobreg_record_dup(&f->recs[i], rec);
		}
	}
	grown = realloc(f->recs, (f->count + 1) * sizeof(*grown));
	if (!grown)
		return JOBREG_ENOMEM;
	f->recs = grown;
	return jobreg_record_dup(&f->recs[f->count++], rec);
}

static int flaky_delete(const char *id, void *payload)
{
	(void)id;
	(void)payload;
	return 0;
}

static int flaky_state_read(const char **url, const char **branch, const char **head,
                            const char *slug, void *payload)
{
	struct flaky *f = payload;
	if (!f->has_state || strcmp(f->state[0], slug) != 0)
		return JOBREG_ENOTFOUND;
	*url = f->state[1];
	*branch = f->state[2];
	*head = f->state[3];
	return 0;
}

static int flaky_state_write(const char *slug, const char *url, const char *branch,
                             const char *head, void *payload)
{
	struct flaky *f = payload;
	snprintf(f->state[0], 512, "%s", slug);
	snprintf(f->state[1], 512, "%s", url);
	snprintf(f->state[2], 512, "%s", branch);
	snprintf(f->state[3], 512, "%s", head);
	f->has_state = 1;
	return 0;
}

static void flaky_free(void *payload)
{
	struct flaky *f = payload;
	flaky_drop(f->recs, f->count);
	flaky_drop(f->saved, f->saved ? f->saved_count : 0);
}

static void test_storage_failure_during_sync_undoes_the_move(void)
{
	static const jobreg_storage_backend backend = {
		JOBREG_STORAGE_BACKEND_VERSION,
		flaky_begin,
		flaky_commit,
		flaky_rollback,
		flaky_read,
		flaky_write,
		flaky_delete,
		flaky_state_read,
		flaky_state_write,
		flaky_free,
	};
	struct flaky f;
	char up[4096], first[64], head[JOBREG_GIT_HEAD_SIZE] = "";
	const char *git_root = fx.git_root;
	jobreg_registry *reg = fx.reg;
	jobreg_storage *st = NULL;
	jobreg_source *src;
	uint64_t gen;

	memset(&f, 0, sizeof(f));
	CHECK_OK(jobreg_storage_new(&st, &backend, &f));
	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "flaky", "Stable"));
	snprintf(first, sizeof(first), "%s", git_rev(up, "HEAD"));
	src = add_git_source(reg, "flaky_repo", file_url(up), NULL, git_root);
	CHECK_OK(jobreg_git_sync(NULL, reg, src, st));
	CHECK_INT(f.count, 1);
	CHECK_STR(f.state[3], first);
	gen = generation_of(reg);

	jr_write(up, "jobs/__init__.py", job_module("Unstored", "Unstored"));
	git_commit_all(up, "unstored");
	f.fail_writes = 1;
	CHECK_INT(jobreg_git_sync(NULL, reg, src, st), JOBREG_ESTORAGE);
	CHECK_CONTAINS(jobreg_error_last()->message, "disk full (test)");
	/* Records, stored head, checkout and served code: all as before. */
	CHECK_INT(f.count, 1);
	CHECK_INT(jobreg_record_bool(f.recs[0], JOBREG_FIELD_INSTALLED), 1);
	CHECK_STR(f.state[3], first);
	CHECK_OK(jobreg_source_git_head(head, src));
	CHECK_STR(head, first);
	CHECK(resolves(reg, "flaky_repo.jobs.Stable"));
	CHECK(!resolves(reg, "flaky_repo.jobs.Unstored"));
	CHECK(generation_of(reg) >= gen);
	CHECK_CONTAINS(read_text(checkout_file(git_root, "flaky_repo", "jobs/__init__.py")),
	               "class Stable");
	f.fail_writes = 0;
	CHECK_OK(jobreg_git_sync(NULL, reg, src, st));
	CHECK(resolves(reg, "flaky_repo.jobs.Unstored"));
	jobreg_storage_free(st);
}

/* ---- readers and other processes ---- */

struct watcher {
	jobreg_registry *reg;
	atomic_int stop;
	int snapshots, mixed;
};

/* Every generation serves exactly one version of the repository's job. */
static void *watch_generations(void *arg)
{
	struct watcher *w = arg;

	while (!atomic_load(&w->stop)) {
		jobreg_snapshot *snap = NULL;
		int versions;

		if (jobreg_registry_snapshot(&snap, w->reg) < 0)
			break;
		versions = (job_at(snap, "conc_repo.jobs.One") != NULL) +
		           (job_at(snap, "conc_repo.jobs.Two") != NULL);
		w->mixed += versions != 1;
		w->snapshots++;
		jobreg_snapshot_free(snap);
	}
	return NULL;
}

static void test_concurrent_readers_see_old_or_new_code_never_a_mix(void)
{
	char up[4096];
	jobreg_registry *reg = fx.reg;
	jobreg_source *src;
	struct watcher w;
	pthread_t thread;
	int round;

	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "conc", "One"));
	src = add_git_source(reg, "conc_repo", file_url(up), NULL, jr_tmpdir());
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	w.reg = reg;
	atomic_init(&w.stop, 0);
	w.snapshots = w.mixed = 0;
	CHECK_INT(pthread_create(&thread, NULL, watch_generations, &w), 0);
	for (round = 0; round < 3; round++) {
		jr_write(up, "jobs/__init__.py", job_module("Two", "Two"));
		git_commit_all(up, "two");
		CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
		jr_write(up, "jobs/__init__.py", "raise ImportError('half-way')\n");
		git_commit_all(up, "broken");
		CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_ELOAD);
		jr_write(up, "jobs/__init__.py", job_module("One", "One"));
		git_commit_all(up, "one");
		CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	}
	atomic_store(&w.stop, 1);
	pthread_join(thread, NULL);
	CHECK(w.snapshots > 0);
	CHECK_INT(w.mixed, 0);
}

static void test_leftovers_of_a_dead_process_are_removed(void)
{
	const char *git_root = fx.git_root;
	char up[4096], leftover[4200];
	jobreg_registry *reg = fx.reg;
	jobreg_source *src;

	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "left", "Left"));
	snprintf(leftover, sizeof(leftover), "%.4000s/.left_repo.clone-abc123", git_root);
	jr_write(leftover, ".git/HEAD", "ref: refs/heads/main\n");
	jr_write(git_root, ".left_repo_other.clone-abc123/keep", "not ours\n");
	src = add_git_source(reg, "left_repo", file_url(up), NULL, git_root);
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	CHECK(!path_exists(leftover));
	CHECK(path_exists(jr_path(git_root, ".left_repo_other.clone-abc123/keep")));
}

/* ---- a process killed half-way ---- */

/*
 * A job module that says it is being imported (it creates `flag`), then
 * sleeps: a commit under trial for as long as the test wants.
 */
static const char *slow_module(const char *flag)
{
	static char body[4400];

	snprintf(body, sizeof(body),
	         "import time\n"
	         "open(%c%s%c, 'w').close()\n"
	         "time.sleep(120)\n",
	         '\'', flag, '\'');
	return body;
}

/*
 * In a child process, sync `src` of `reg`; kill it with SIGKILL once its
 * import of the slow commit has begun. 1 when it was killed there.
 */
static int sync_and_kill_mid_trial(jobreg_registry *reg, jobreg_source *src, const char *flag)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int status = 0, waited;
	pid_t pid = fork();

	CHECK(pid >= 0);
	if (pid == 0) {
		(void)jobreg_git_sync(NULL, reg, src, NULL);
		_exit(0); /* it never gets here: it sleeps in the import */
	}
	/* A bound, not a timing assertion: the import starts within seconds. */
	for (waited = 0; waited < 6000 && !path_exists(flag); waited++)
		nanosleep(&pause, NULL);
	CHECK(path_exists(flag));
	kill(pid, SIGKILL);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

static void test_a_move_killed_mid_trial_is_undone_by_the_next_move(void)
{
	const char *git_root = fx.git_root;
	char up[4096], first[64], slow[64], checkout[4200], flag[4200], want[64];
	jobreg_storage *st = NULL;
	jobreg_source *src;

	CHECK_OK(jobreg_storage_memory_new(&st));
	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "killed", "Before"));
	snprintf(first, sizeof(first), "%s", git_rev(up, "HEAD"));
	snprintf(checkout, sizeof(checkout), "%s/killed_repo", git_root);
	snprintf(flag, sizeof(flag), "%s", jr_path(jr_tmpdir(), "importing"));
	src = add_git_source(fx.reg, "killed_repo", file_url(up), NULL, git_root);
	CHECK_OK(jobreg_git_sync(NULL, fx.reg, src, NULL));
	jr_write(up, "jobs/__init__.py", slow_module(flag));
	snprintf(slow, sizeof(slow), "%s", git_commit_all(up, "slow"));

	CHECK(sync_and_kill_mid_trial(fx.reg, src, flag));
	/* The dead move left the checkout on its trial, and said so. */
	CHECK_STR(git_rev(checkout, "HEAD"), slow);
	CHECK(path_exists(jr_path(git_root, ".killed_repo.trial")));
	CHECK_INT(jobreg_git_record_head(st, src), JOBREG_ESTATE);
	CHECK_CONTAINS(jobreg_error_last()->message, "sync it first");
	CHECK_INT(jobreg_storage_git_state_get(NULL, NULL, NULL, st, "killed_repo"), JOBREG_ENOTFOUND);

	/* The next sync starts from the commit before the trial, not from the
	 * dead process's HEAD: refusing a broken tip puts that one back. */
	jr_write(up, "jobs/__init__.py", "raise RuntimeError('jobs are broken')\n");
	git_commit_all(up, "broken");
	CHECK_INT(jobreg_git_sync(NULL, fx.reg, src, NULL), JOBREG_ELOAD);
	snprintf(want, sizeof(want), "stays at %.12s", first);
	CHECK_CONTAINS(jobreg_error_last()->message, want);
	CHECK_STR(git_rev(checkout, "HEAD"), first);
	CHECK_CONTAINS(read_text(jr_path(checkout, "jobs/__init__.py")), "class Before");
	CHECK(!path_exists(jr_path(git_root, ".killed_repo.trial")));
	CHECK(resolves(fx.reg, "killed_repo.jobs.Before"));
	CHECK_OK(jobreg_git_record_head(st, src));
	CHECK_STR(stored_head(st, "killed_repo"), first);
	jobreg_storage_free(st);
}

static void test_a_first_clone_killed_mid_trial_is_taken_away(void)
{
	const char *git_root = fx.git_root;
	char up[4096], checkout[4200], flag[4200];
	jobreg_registry *reg;
	jobreg_source *src;

	snprintf(flag, sizeof(flag), "%s", jr_path(jr_tmpdir(), "importing"));
	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "firstkill", "Unused"));
	jr_write(up, "jobs/__init__.py", slow_module(flag));
	git_commit_all(up, "slow");
	snprintf(checkout, sizeof(checkout), "%s/firstkill_repo", git_root);
	src = add_git_source(fx.reg, "firstkill_repo", file_url(up), NULL, git_root);
	CHECK(sync_and_kill_mid_trial(fx.reg, src, flag));
	CHECK(path_exists(checkout)); /* in place, under trial */

	/* A broken tip now: the dead clone goes, the new one is refused,
	 * nothing is left. A good tip then clones as usual. */
	jr_write(up, "jobs/__init__.py", "raise RuntimeError('jobs are broken')\n");
	git_commit_all(up, "broken");
	reg = fx_new_registry();
	src = add_git_source(reg, "firstkill_repo", file_url(up), NULL, git_root);
	CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_ELOAD);
	CHECK(!path_exists(checkout));
	CHECK(!path_exists(jr_path(git_root, ".firstkill_repo.trial")));
	jr_write(up, "jobs/__init__.py", job_module("After", "After"));
	git_commit_all(up, "after");
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	CHECK(resolves(reg, "firstkill_repo.jobs.After"));
}

static void test_partial_packs_and_stale_locks_of_a_killed_fetch_are_removed(void)
{
	const char *git_root = fx.git_root;
	static const char *const stale[] = {
		"objects/pack/pack_git2_a1B2c3",
		"objects/ab/tmp_object_git2_x1Y2z3",
		"objects/pack/pack-0123456789abcdef0123456789abcdef01234567.idx",
		"refs/remotes/origin/main.lock",
		"packed-refs.lock",
		"HEAD.lock",
		"index.lock",
	};
	struct two_commits t;
	char dotgit[4300];
	jobreg_source *src;
	size_t i;

	src = two_commit_source(&t, fx.reg, "stale_repo", git_root);
	snprintf(dotgit, sizeof(dotgit), "%s/stale_repo/.git", git_root);
	for (i = 0; i < sizeof(stale) / sizeof(stale[0]); i++)
		jr_write(dotgit, stale[i], "half written\n");
	/* A real pack and its index stay. */
	GIT_IN(jr_path(git_root, "stale_repo"), "repack -q -a -d");
	CHECK_OK(jobreg_git_sync(NULL, fx.reg, src, NULL));
	CHECK(resolves(fx.reg, "stale_repo.jobs.Second"));
	for (i = 0; i < sizeof(stale) / sizeof(stale[0]); i++) {
		if (path_exists(jr_path(dotgit, stale[i])))
			fprintf(stderr, "  left behind: %s\n", stale[i]);
		CHECK(!path_exists(jr_path(dotgit, stale[i])));
	}
	CHECK_INT(sh("git -C '%s/stale_repo' fsck --no-dangling --no-progress", git_root), 0);
}

static const struct jr_test tests[] = {
	JR_TEST(connection_dropped_mid_fetch_leaves_everything_as_it_was),
	JR_TEST(cancel_from_the_progress_callback_changes_nothing),
	JR_TEST(first_fetch_that_fails_leaves_nothing_behind),
	JR_TEST(storage_failure_during_sync_undoes_the_move),
	JR_TEST(concurrent_readers_see_old_or_new_code_never_a_mix),
	JR_TEST(leftovers_of_a_dead_process_are_removed),
	JR_TEST(a_move_killed_mid_trial_is_undone_by_the_next_move),
	JR_TEST(a_first_clone_killed_mid_trial_is_taken_away),
	JR_TEST(partial_packs_and_stale_locks_of_a_killed_fetch_are_removed),
};

JR_SUITE_MAIN_WITH_LIBRARY(tests, git_sync_setup, git_sync_teardown)
