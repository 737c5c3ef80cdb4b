/*
 * test_git_sync.c: syncing a git source (SPEC 1.2): moving to the new tip of
 * its branch and reloading only that source, and refusing a commit whose
 * code does not load (the old code keeps serving). The other git sync
 * suites: test_git_sync_atomic.c, _locks.c, _records.c, _transports.c and
 * test_git_ensure_head.c (fixtures in tests/git/git_sync_fixture.h).
 */
#include "../git/git_sync_fixture.h"

/* ---- moving to a new tip ---- */

static void test_sync_moves_to_the_new_tip_and_reloads_only_that_source(void)
{
	const char *git_root = fx.git_root, *jobs_root = jr_tmpdir();
	char up[4096], first[64], second[64];
	jobreg_git_sync_result result = JOBREG_GIT_SYNC_RESULT_INIT;
	jobreg_registry *reg = fx.reg;
	jobreg_source *dir = NULL, *src;
	jobreg_job *local_before = NULL, *local_after = NULL;
	uint64_t gen;

	jr_write_seed_jobs_root(jobs_root);
	CHECK_OK(jobreg_source_dir_new(&dir, jobs_root));
	CHECK_OK(jobreg_registry_add_source(reg, dir));
	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "tip", "Old"));
	snprintf(first, sizeof(first), "%s", git_rev(up, "HEAD"));
	src = add_git_source(reg, "tip_repo", file_url(up), NULL, git_root);
	CHECK_OK(jobreg_git_sync(&result, reg, src, NULL));
	CHECK_STR(result.new_head, first);
	CHECK(resolves(reg, "tip_repo.jobs.Old"));
	CHECK_OK(jobreg_registry_resolve(&local_before, reg, "device_jobs.CleanupDevices"));

	jr_write(up, "jobs/__init__.py", job_module("New", "New job"));
	snprintf(second, sizeof(second), "%s", git_commit_all(up, "new"));
	gen = generation_of(reg);
	CHECK_OK(jobreg_git_sync(&result, reg, src, NULL));
	CHECK_STR(result.old_head, first);
	CHECK_STR(result.new_head, second);
	CHECK_INT(result.changed, 1);
	CHECK_INT(generation_of(reg), gen + 1);
	CHECK_STR(job_name_of(reg, "tip_repo.jobs.New"), "New job");
	CHECK(!resolves(reg, "tip_repo.jobs.Old"));
	/* The jobs root was not re-imported: its job is the very same. */
	CHECK_OK(jobreg_registry_resolve(&local_after, reg, "device_jobs.CleanupDevices"));
	CHECK(local_before != NULL && local_after != NULL &&
	      strcmp(jobreg_job_class_path(local_before), jobreg_job_class_path(local_after)) == 0);
	jobreg_job_free(local_before);
	jobreg_job_free(local_after);
}

static void test_sync_with_nothing_new_imports_nothing(void)
{
	char up[4096];
	jobreg_git_sync_result result = JOBREG_GIT_SYNC_RESULT_INIT;
	jobreg_registry *reg = fx.reg;
	jobreg_source *src;
	uint64_t gen;

	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "same", "Same"));
	src = add_git_source(reg, "same_repo", file_url(up), NULL, jr_tmpdir());
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	gen = generation_of(reg);
	CHECK_OK(jobreg_git_sync(&result, reg, src, NULL));
	CHECK_INT(result.changed, 0);
	CHECK_STR(result.old_head, result.new_head);
	CHECK_INT(generation_of(reg), gen);
}

static void test_sync_result_of_version_zero_is_refused(void)
{
	jobreg_git_sync_result result = JOBREG_GIT_SYNC_RESULT_INIT;
	jobreg_registry *reg = fx.reg;
	jobreg_source *src = add_git_source(reg, "versioned", "file:///nonexistent", NULL, jr_tmpdir());

	result.version = 0;
	CHECK_INT(jobreg_git_sync(&result, reg, src, NULL), JOBREG_EVERSION);
}

/* ---- refusing code that does not load ---- */

static void expect_refused(const char *slug, const char *rel, const char *broken,
                           const char *expected_in_message)
{
	const char *git_root = fx.git_root;
	char up[4096], first[64], old_text[4096];
	jobreg_git_sync_result result = JOBREG_GIT_SYNC_RESULT_INIT;
	jobreg_registry *reg = fx.reg;
	jobreg_source *src;
	char head[JOBREG_GIT_HEAD_SIZE] = "", ref[256];
	uint64_t gen;

	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), slug, "Good"));
	snprintf(first, sizeof(first), "%s", git_rev(up, "HEAD"));
	src = add_git_source(reg, slug, file_url(up), NULL, git_root);
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	snprintf(old_text, sizeof(old_text), "%.4000s", read_text(checkout_file(git_root, slug, rel)));
	gen = generation_of(reg);

	jr_write(up, rel, broken);
	jr_write(up, "jobs/added_by_broken_commit.py", "# new in the broken commit\n");
	git_commit_all(up, "broken");
	CHECK_INT(jobreg_git_sync(&result, reg, src, NULL), JOBREG_ELOAD);
	CHECK_CONTAINS(jobreg_error_last()->message, slug);
	CHECK_CONTAINS(jobreg_error_last()->message, "refused");
	CHECK_CONTAINS(jobreg_error_last()->message, expected_in_message);
	/* Checkout, files and the code served are the old ones. */
	CHECK_OK(jobreg_source_git_head(head, src));
	CHECK_STR(head, first);
	CHECK_STR(read_text(checkout_file(git_root, slug, rel)), old_text);
	CHECK(!path_exists(checkout_file(git_root, slug, "jobs/added_by_broken_commit.py")));
	snprintf(ref, sizeof(ref), "%s.jobs.Good", slug);
	CHECK(resolves(reg, ref));
	CHECK(generation_of(reg) >= gen);
	/* The old code is loaded again, so nothing is left to reload. */
	gen = generation_of(reg);
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_INT(generation_of(reg), gen);

	/* A fix on top syncs as usual. */
	jr_write(up, rel, rel[0] == 'j' ? job_module("Fixed", "Fixed") : "");
	if (rel[0] != 'j')
		jr_write(up, "jobs/__init__.py", job_module("Fixed", "Fixed"));
	git_commit_all(up, "fixed");
	CHECK_OK(jobreg_git_sync(&result, reg, src, NULL));
	snprintf(ref, sizeof(ref), "%s.jobs.Fixed", slug);
	CHECK(resolves(reg, ref));
}

static void test_commit_breaking_jobs_init_is_refused_and_old_code_keeps_serving(void)
{
	expect_refused("broken_jobs", "jobs/__init__.py",
	               "from jobreg.jobs import Job\nraise RuntimeError('jobs are broken')\n",
	               "jobs are broken");
}

static void test_commit_with_syntax_error_in_package_init_is_refused(void)
{
	expect_refused("broken_init", "__init__.py", "def broken(:\n", "SyntaxError");
}

static void test_commit_calling_sys_exit_in_jobs_is_refused(void)
{
	expect_refused("exiting_jobs", "jobs/__init__.py", "import sys\nsys.exit(3)\n", "SystemExit");
}

static void test_a_bad_meta_value_is_a_load_error_not_a_refusal(void)
{
	char up[4096];
	jobreg_registry *reg = fx.reg;
	jobreg_source *src;
	jobreg_snapshot *snap;

	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "meta", "Fine"));
	jr_write(up, "jobs/__init__.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "\n"
	         "\n"
	         "class Fine(Job):\n"
	         "    pass\n"
	         "\n"
	         "\n"
	         "class BadMeta(Job):\n"
	         "    class Meta:\n"
	         "        hidden = 'yes'\n"
	         "\n"
	         "\n"
	         "register_jobs(Fine, BadMeta)\n");
	git_commit_all(up, "bad meta");
	src = add_git_source(reg, "meta_repo", file_url(up), NULL, jr_tmpdir());
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	snap = take_snapshot(reg);
	CHECK(job_at(snap, "meta_repo.jobs.Fine") != NULL);
	CHECK(job_at(snap, "meta_repo.jobs.BadMeta") == NULL);
	CHECK(error_for(snap, "meta_repo.jobs") != NULL);
	jobreg_snapshot_free(snap);
}

static const struct jr_test tests[] = {
	JR_TEST(sync_moves_to_the_new_tip_and_reloads_only_that_source),
	JR_TEST(sync_with_nothing_new_imports_nothing),
	JR_TEST(sync_result_of_version_zero_is_refused),
	JR_TEST(commit_breaking_jobs_init_is_refused_and_old_code_keeps_serving),
	JR_TEST(commit_with_syntax_error_in_package_init_is_refused),
	JR_TEST(commit_calling_sys_exit_in_jobs_is_refused),
	JR_TEST(a_bad_meta_value_is_a_load_error_not_a_refusal),
};

JR_SUITE_MAIN_WITH_LIBRARY(tests, git_sync_setup, git_sync_teardown)
