/*
 * test_git_ensure_head.c: putting a git source at a given commit (SPEC
 * 1.2): jobreg_git_ensure_head() (no network when the commit is known, a
 * fetch or a clone when not), and a worker following the head recorded in
 * storage (jobreg_git_ensure_recorded_head(), jobreg_git_record_head()).
 */
#include "../git/git_sync_fixture.h"

/* ---- ensure head ---- */

static void test_ensure_head_at_the_current_commit_does_no_network_and_no_import(void)
{
	struct two_commits t;
	jobreg_registry *reg = fx.reg;
	jobreg_source *src = two_commit_source(&t, reg, "ens_same", jr_tmpdir());
	int changed = -1;
	char abbreviated[16];
	uint64_t gen = generation_of(reg);

	take_upstream_away(&t);
	CHECK_OK(jobreg_git_ensure_head(&changed, reg, src, t.first));
	CHECK_INT(changed, 0);
	snprintf(abbreviated, sizeof(abbreviated), "%.8s", t.first);
	CHECK_OK(jobreg_git_ensure_head(&changed, reg, src, abbreviated));
	CHECK_INT(generation_of(reg), gen);
	CHECK(resolves(reg, "ens_same.jobs.First"));
}

static void test_ensure_head_moves_to_a_known_commit_without_network(void)
{
	struct two_commits t;
	jobreg_registry *reg = fx.reg;
	jobreg_source *src = two_commit_source(&t, reg, "ens_known", jr_tmpdir());
	char head[JOBREG_GIT_HEAD_SIZE] = "";
	int changed = -1;

	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL)); /* now at second, first is known */
	take_upstream_away(&t);
	CHECK_OK(jobreg_git_ensure_head(&changed, reg, src, t.first));
	CHECK_INT(changed, 1);
	CHECK_OK(jobreg_source_git_head(head, src));
	CHECK_STR(head, t.first);
	CHECK(resolves(reg, "ens_known.jobs.First"));
	CHECK(!resolves(reg, "ens_known.jobs.Second"));
}

static void test_ensure_head_fetches_a_missing_commit(void)
{
	struct two_commits t;
	jobreg_registry *reg = fx.reg;
	jobreg_source *src = two_commit_source(&t, reg, "ens_fetch", jr_tmpdir());
	char head[JOBREG_GIT_HEAD_SIZE] = "";
	int changed = -1;

	CHECK_OK(jobreg_git_ensure_head(&changed, reg, src, t.second));
	CHECK_INT(changed, 1);
	CHECK_OK(jobreg_source_git_head(head, src));
	CHECK_STR(head, t.second);
	CHECK(resolves(reg, "ens_fetch.jobs.Second"));
}

static void test_ensure_head_clones_when_there_is_no_checkout(void)
{
	struct two_commits t;
	jobreg_registry *reg = fx.reg, *worker = NULL;
	jobreg_source *src = two_commit_source(&t, reg, "ens_clone", jr_tmpdir());
	int changed = -1;

	/* A worker with its own, empty git root converges on the first commit. */
	worker = fx_new_registry();
	src = add_git_source(worker, "ens_clone", file_url(t.up), NULL, jr_tmpdir());
	CHECK_OK(jobreg_git_ensure_head(&changed, worker, src, t.first));
	CHECK_INT(changed, 1);
	CHECK(resolves(worker, "ens_clone.jobs.First"));
}

static void test_ensure_head_of_an_unknown_commit_is_not_found_and_changes_nothing(void)
{
	struct two_commits t;
	jobreg_registry *reg = fx.reg;
	jobreg_source *src = two_commit_source(&t, reg, "ens_unknown", jr_tmpdir());
	char head[JOBREG_GIT_HEAD_SIZE] = "";
	uint64_t gen = generation_of(reg);

	CHECK_INT(jobreg_git_ensure_head(NULL, reg, src, "0123456789abcdef0123456789abcdef01234567"),
	          JOBREG_ENOTFOUND);
	CHECK_CONTAINS(jobreg_error_last()->message, "0123456789abcdef");
	CHECK_OK(jobreg_source_git_head(head, src));
	CHECK_STR(head, t.first);
	CHECK_INT(generation_of(reg), gen);
}

static void test_ensure_head_reloads_code_another_process_checked_out(void)
{
	struct two_commits t;
	const char *git_root = fx.git_root;
	jobreg_registry *reg = fx.reg;
	jobreg_source *src = two_commit_source(&t, reg, "ens_shared", git_root);
	int changed = -1;

	/* Someone else (another process sharing the git root) moved the
	 * checkout: this registry still serves the first commit. */
	GIT_IN(jr_path(git_root, "ens_shared"), "fetch -q '%s' main", t.up);
	GIT_IN(jr_path(git_root, "ens_shared"), "checkout -q --detach %s", t.second);
	CHECK(resolves(reg, "ens_shared.jobs.First"));
	CHECK_OK(jobreg_git_ensure_head(&changed, reg, src, t.second));
	CHECK(resolves(reg, "ens_shared.jobs.Second"));
}

/* ---- the head recorded in storage ---- */

static void test_worker_ensures_the_recorded_head(void)
{
	char up[4096], first[64], git_root[4096];
	jobreg_registry *reg = fx.reg;
	jobreg_storage *st = NULL;
	jobreg_source *src;
	int changed = -1;
	uint64_t gen;

	CHECK_OK(jobreg_storage_memory_new(&st));
	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "work", "Recorded"));
	snprintf(first, sizeof(first), "%s", git_rev(up, "HEAD"));
	src = add_git_source(reg, "work_repo", file_url(up), NULL, jr_tmpdir());
	CHECK_INT(jobreg_git_ensure_recorded_head(&changed, reg, src, st), JOBREG_ENOTFOUND);
	CHECK_OK(jobreg_git_sync(NULL, reg, src, st));
	/* Upstream moves on, but the recorded head stays the synced one. */
	jr_write(up, "jobs/__init__.py", job_module("Unsynced", "Unsynced"));
	git_commit_all(up, "not synced");

	/* A worker with its own checkout folder. */
	snprintf(git_root, sizeof(git_root), "%s", jr_tmpdir());
	reg = fx_new_registry();
	src = add_git_source(reg, "work_repo", file_url(up), NULL, git_root);
	CHECK_OK(jobreg_git_ensure_recorded_head(&changed, reg, src, st));
	CHECK_INT(changed, 1);
	CHECK(resolves(reg, "work_repo.jobs.Recorded"));
	gen = generation_of(reg);
	CHECK_OK(jobreg_git_ensure_recorded_head(&changed, reg, src, st));
	CHECK_INT(changed, 0);
	CHECK_INT(generation_of(reg), gen);
	jobreg_storage_free(st);
}

static void test_record_head_stores_the_checkout_head(void)
{
	char up[4096];
	jobreg_registry *reg = fx.reg;
	jobreg_storage *st = NULL;
	jobreg_source *src;

	CHECK_OK(jobreg_storage_memory_new(&st));
	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "rh", "Headed"));
	src = add_git_source(reg, "rh_repo", file_url(up), NULL, jr_tmpdir());
	CHECK_INT(jobreg_git_record_head(st, src), JOBREG_ENOTFOUND);
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	CHECK_STR(stored_head(st, "rh_repo"), "");
	CHECK_OK(jobreg_git_record_head(st, src));
	CHECK_STR(stored_head(st, "rh_repo"), git_rev(up, "HEAD"));
	jobreg_storage_free(st);
}

static const struct jr_test tests[] = {
	JR_TEST(ensure_head_at_the_current_commit_does_no_network_and_no_import),
	JR_TEST(ensure_head_moves_to_a_known_commit_without_network),
	JR_TEST(ensure_head_fetches_a_missing_commit),
	JR_TEST(ensure_head_clones_when_there_is_no_checkout),
	JR_TEST(ensure_head_of_an_unknown_commit_is_not_found_and_changes_nothing),
	JR_TEST(ensure_head_reloads_code_another_process_checked_out),
	JR_TEST(worker_ensures_the_recorded_head),
	JR_TEST(record_head_stores_the_checkout_head),
};

JR_SUITE_MAIN_WITH_LIBRARY(tests, git_sync_setup, git_sync_teardown)
