/*
 * test_git_source.c: git repositories as sources (SPEC 1.2): slug rules,
 * options, URL redaction, layout, what is imported, branch/tag/commit pins,
 * and the reload fingerprint. Upstreams are real repositories made by the
 * tests and fetched over file://; transports are in test_git_sync.c.
 */
#include "../git/gitutil.h"
#include "loadutil.h"

/* ---- slugs and options ---- */

static int new_source(jobreg_source **out, const char *slug, const char *url,
                      const char *branch, const char *git_root)
{
	jobreg_git_options opts = JOBREG_GIT_OPTIONS_INIT;

	opts.slug = slug;
	opts.remote_url = url;
	opts.branch = branch;
	opts.git_root = git_root;
	*out = NULL;
	return jobreg_source_git_new(out, &opts);
}

static void expect_slug_refused(const char *slug, const char *rule, const char *git_root)
{
	jobreg_source *src;
	int rc = new_source(&src, slug, "file:///nonexistent", NULL, git_root);

	CHECK_INT(rc, JOBREG_EINVAL);
	CHECK(src == NULL);
	if (strlen(slug) <= 40)
		CHECK_CONTAINS(jobreg_error_last()->message, slug);
	CHECK_CONTAINS(jobreg_error_last()->message, rule);
	CHECK_INT(jobreg_git_slug_check(slug), JOBREG_EINVAL);
	jobreg_source_free(src);
}

static void test_bad_slugs_are_refused_before_anything_is_written(void)
{
	const char *git_root = jr_path(jr_tmpdir(), "git");
	char long_slug[102];

	expect_slug_refused("", "empty", git_root);
	expect_slug_refused("my-repo", "not a valid Python identifier", git_root);
	expect_slug_refused("../x", "not a valid Python identifier", git_root);
	expect_slug_refused("1repo", "not a valid Python identifier", git_root);
	expect_slug_refused("my repo", "not a valid Python identifier", git_root);
	expect_slug_refused("class", "Python keyword", git_root);
	expect_slug_refused("None", "Python keyword", git_root);
	expect_slug_refused("os", "importable from elsewhere", git_root);
	expect_slug_refused("json", "importable from elsewhere", git_root);
	expect_slug_refused("sys", "importable from elsewhere", git_root);
	expect_slug_refused("jobreg", "importable from elsewhere", git_root);
	memset(long_slug, 'a', 101);
	long_slug[101] = '\0';
	expect_slug_refused(long_slug, "longer than 100 characters", git_root);
	CHECK(!path_exists(git_root));
}

static void test_slug_refusal_names_the_module_it_would_shadow(void)
{
	CHECK_INT(jobreg_git_slug_check("json"), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "'json'");
	CHECK_CONTAINS(jobreg_error_last()->message, "json/__init__.py");
}

static void test_slug_of_100_characters_is_accepted(void)
{
	char slug[101];
	jobreg_source *src = NULL;

	memset(slug, 'r', 100);
	slug[100] = '\0';
	CHECK_OK(jobreg_git_slug_check(slug));
	CHECK_OK(new_source(&src, slug, "file:///nonexistent", NULL, jr_tmpdir()));
	CHECK(src != NULL);
	jobreg_source_free(src);
}

static void test_git_source_has_type_name_root_and_defaults(void)
{
	const char *git_root = jr_tmpdir();
	jobreg_source *src = NULL;
	char expected_root[4200];

	CHECK_OK(new_source(&src, "my_repo", "https://example.invalid/my_repo.git", NULL, git_root));
	if (!src)
		return;
	snprintf(expected_root, sizeof(expected_root), "%s/my_repo", git_root);
	CHECK_INT(jobreg_source_type(src), JOBREG_SOURCE_GIT);
	CHECK_STR(jobreg_source_type_name(jobreg_source_type(src)), "git");
	CHECK_STR(jobreg_source_name(src), "my_repo");
	CHECK_STR(jobreg_source_root(src), expected_root);
	CHECK_STR(jobreg_source_git_branch(src), "main");
	CHECK_STR(jobreg_source_git_remote_url(src), "https://example.invalid/my_repo.git");
	jobreg_source_free(src);
}

static void test_missing_option_fields_are_refused_by_name(void)
{
	jobreg_source *src = NULL;

	CHECK_INT(new_source(&src, "a_repo", NULL, NULL, jr_tmpdir()), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "remote_url");
	CHECK_INT(new_source(&src, "a_repo", "file:///x", NULL, NULL), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "git_root");
	CHECK_INT(new_source(&src, NULL, "file:///x", NULL, jr_tmpdir()), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "slug");
	CHECK_INT(jobreg_source_git_new(&src, NULL), JOBREG_EINVAL);
}

static void test_invalid_branch_names_are_refused(void)
{
	jobreg_source *src = NULL;

	CHECK_INT(new_source(&src, "b_repo", "file:///x", "a..b", jr_tmpdir()), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "'a..b'");
	CHECK_INT(new_source(&src, "b_repo", "file:///x", "with space", jr_tmpdir()), JOBREG_EINVAL);
	CHECK_INT(new_source(&src, "b_repo", "file:///x", "", jr_tmpdir()), JOBREG_EINVAL);
	CHECK_OK(new_source(&src, "b_repo", "file:///x", "release/1.0", jr_tmpdir()));
	jobreg_source_free(src);
}

static void test_options_of_unknown_versions_are_refused(void)
{
	jobreg_git_options opts = JOBREG_GIT_OPTIONS_INIT;
	jobreg_source *src = NULL;

	CHECK_INT(jobreg_git_options_init(&opts, 0), JOBREG_EVERSION);
	CHECK_INT(jobreg_git_options_init(&opts, JOBREG_GIT_OPTIONS_VERSION + 1), JOBREG_EVERSION);
	CHECK_OK(jobreg_git_options_init(&opts, 1));
	CHECK_INT(opts.version, 1);
	CHECK(opts.slug == NULL && opts.branch == NULL && opts.credentials == NULL);
	opts.version = 7;
	opts.slug = "v_repo";
	opts.remote_url = "file:///x";
	opts.git_root = jr_tmpdir();
	CHECK_INT(jobreg_source_git_new(&src, &opts), JOBREG_EVERSION);
}

static void test_getters_refuse_other_source_types(void)
{
	jobreg_source *dir = NULL;
	char head[JOBREG_GIT_HEAD_SIZE];

	CHECK_OK(jobreg_source_dir_new(&dir, jr_tmpdir()));
	CHECK(jobreg_source_git_remote_url(dir) == NULL);
	CHECK(jobreg_source_git_branch(dir) == NULL);
	CHECK_INT(jobreg_source_git_head(head, dir), JOBREG_EINVAL);
	jobreg_source_free(dir);
}

/* ---- redaction ---- */

static void expect_redacted(const char *url, const char *expected)
{
	char *out = NULL;

	CHECK_OK(jobreg_git_redact_url(&out, url));
	CHECK_STR(out, expected);
	jobreg_free(out);
}

static void test_redact_url_hides_user_information(void)
{
	expect_redacted("https://user:token@host/x.git", "https://***@host/x.git");
	expect_redacted("https://ghp_secret@github.com/o/r.git", "https://***@github.com/o/r.git");
	expect_redacted("http://u:p%40ss@127.0.0.1:8080/r", "http://***@127.0.0.1:8080/r");
	expect_redacted("https://host/x.git", "https://host/x.git");
	expect_redacted("https://host/path@with-at", "https://host/path@with-at");
	expect_redacted("https://u:t@host", "https://***@host");
	expect_redacted("git://host/x.git", "git://host/x.git");
	expect_redacted("ssh://git@host/x.git", "ssh://git@host/x.git");
	expect_redacted("ssh://git:hunter22@host/x.git", "ssh://***@host/x.git");
	expect_redacted("git@github.com:o/r.git", "git@github.com:o/r.git");
	expect_redacted("user:pw@host:r.git", "***@host:r.git");
	expect_redacted("file:///srv/git/x", "file:///srv/git/x");
	expect_redacted("/srv/git/x", "/srv/git/x");
	expect_redacted("", "");
}

static void test_source_shows_only_the_redacted_url(void)
{
	jobreg_source *src = NULL;

	CHECK_OK(new_source(&src, "r_repo", "https://bob:s3cr3t-t0ken@example.invalid/r.git", NULL,
	                    jr_tmpdir()));
	if (!src)
		return;
	CHECK_STR(jobreg_source_git_remote_url(src), "https://***@example.invalid/r.git");
	jobreg_source_free(src);
}

/* ---- syncing over file:// ---- */

static char *file_url(const char *dir)
{
	static char bufs[4][4200];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, 4200, "file://%.4000s", dir);
	return b;
}

static void test_first_sync_clones_and_loads_the_jobs(void)
{
	const char *base = jr_tmpdir(), *git_root = jr_path(jr_tmpdir(), "git/root");
	char up[4096], head[JOBREG_GIT_HEAD_SIZE] = "", checkout[4200];
	jobreg_git_sync_result result = JOBREG_GIT_SYNC_RESULT_INIT;
	jobreg_registry *reg = new_registry();
	jobreg_source *src;

	snprintf(up, sizeof(up), "%s", make_upstream(base, "up", "SyncDevices"));
	src = add_git_source(reg, "my_repo", file_url(up), NULL, git_root);
	CHECK_INT(jobreg_source_git_head(head, src), JOBREG_ENOTFOUND);
	CHECK_OK(jobreg_git_sync(&result, reg, src, NULL));
	CHECK_STR(result.old_head, "");
	CHECK_STR(result.new_head, git_rev(up, "HEAD"));
	CHECK_INT(result.changed, 1);
	CHECK_OK(jobreg_source_git_head(head, src));
	CHECK_STR(head, git_rev(up, "HEAD"));
	snprintf(checkout, sizeof(checkout), "%s/my_repo", git_root);
	CHECK(path_exists(jr_path(checkout, "jobs/__init__.py")));
	CHECK(resolves(reg, "my_repo.jobs.SyncDevices"));
	CHECK_STR(job_name_of(reg, "my_repo.jobs.SyncDevices"), "SyncDevices");
	CHECK_INT(load_error_count(reg), 0);
	/* No clone folder is left beside the checkout. */
	CHECK_INT(count_entries(git_root, ".my_repo.clone"), 0);
	jobreg_registry_free(reg);
}

static void test_jobs_py_module_layout_loads(void)
{
	const char *base = jr_tmpdir();
	char up[4096];
	jobreg_registry *reg = new_registry();
	jobreg_source *src;

	snprintf(up, sizeof(up), "%s/flat", base);
	CHECK_INT(sh("git init -q -b main '%s'", up), 0);
	jr_write(up, "__init__.py", "");
	jr_write(up, "jobs.py", job_module("FlatJob", "Flat job"));
	git_commit_all(up, "flat");
	src = add_git_source(reg, "flat_repo", file_url(up), NULL, jr_tmpdir());
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	CHECK_STR(job_name_of(reg, "flat_repo.jobs.FlatJob"), "Flat job");
	jobreg_registry_free(reg);
}

static void test_only_the_package_and_its_jobs_module_are_imported(void)
{
	const char *base = jr_tmpdir();
	char up[4096];
	jobreg_registry *reg = new_registry();
	jobreg_source *src;
	jobreg_snapshot *snap;

	snprintf(up, sizeof(up), "%s", make_upstream(base, "only", "Imported"));
	jr_write(up, "other.py", "raise RuntimeError('other.py must not run')\n");
	jr_write(up, "jobs/extra.py", "raise RuntimeError('jobs/extra.py must not run')\n");
	jr_write(up, "jobs/used.py", job_module("UsedJob", "Used"));
	jr_write(up, "jobs/__init__.py",
	         "from jobreg.jobs import Job, register_jobs\n"
	         "from . import used\n"
	         "\n"
	         "\n"
	         "class Imported(Job):\n"
	         "    pass\n"
	         "\n"
	         "\n"
	         "register_jobs(Imported)\n");
	git_commit_all(up, "more modules");
	src = add_git_source(reg, "only_repo", file_url(up), NULL, jr_tmpdir());
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	snap = take_snapshot(reg);
	print_load_errors(snap);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 0);
	CHECK(job_at(snap, "only_repo.jobs.Imported") != NULL);
	/* A sub-module runs because jobs/__init__.py imports it. */
	CHECK(job_at(snap, "only_repo.jobs.used.UsedJob") != NULL);
	CHECK_INT(jobreg_snapshot_job_count(snap), 2);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void expect_layout_refused(const char *slug, const char *file, const char *missing)
{
	const char *base = jr_tmpdir(), *git_root = jr_tmpdir();
	char up[4096];
	jobreg_registry *reg = new_registry();
	jobreg_git_sync_result result = JOBREG_GIT_SYNC_RESULT_INIT;
	jobreg_source *src;

	snprintf(up, sizeof(up), "%s/%s", base, slug);
	CHECK_INT(sh("git init -q -b main '%s'", up), 0);
	jr_write(up, file, "");
	jr_write(up, "README", "not much here\n");
	git_commit_all(up, "incomplete");
	src = add_git_source(reg, slug, file_url(up), NULL, git_root);
	CHECK_INT(jobreg_git_sync(&result, reg, src, NULL), JOBREG_ELOAD);
	CHECK_CONTAINS(jobreg_error_last()->message, slug);
	CHECK_CONTAINS(jobreg_error_last()->message, missing);
	/* The refused first clone is gone, and nothing was published. */
	CHECK(!path_exists(jr_path(git_root, slug)));
	CHECK_INT(count_entries(git_root, "."), 3); /* ".", "..", the lock file */
	CHECK_STR(result.new_head, "");
	jobreg_registry_free(reg);
}

static void test_repository_without_jobs_module_is_refused_naming_it(void)
{
	expect_layout_refused("nojobs_repo", "__init__.py", "no jobs.py or jobs/__init__.py");
}

static void test_repository_without_init_is_refused_naming_it(void)
{
	expect_layout_refused("noinit_repo", "jobs.py", "no top-level __init__.py");
}

static void test_load_before_first_sync_reports_the_missing_checkout(void)
{
	jobreg_registry *reg = new_registry();
	jobreg_snapshot *snap;
	const jobreg_load_error *err;

	add_git_source(reg, "unsynced", "file:///nonexistent", NULL, jr_tmpdir());
	CHECK_OK(jobreg_registry_load(reg));
	snap = take_snapshot(reg);
	err = error_for(snap, "unsynced");
	CHECK(err != NULL);
	if (err)
		CHECK_CONTAINS(jobreg_load_error_message(err), "no checkout");
	jobreg_snapshot_free(snap);
	/* Nothing on disk changed: a reload imports nothing. */
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_INT(generation_of(reg), 1);
	jobreg_registry_free(reg);
}

/* ---- pins ---- */

struct pinned_upstream {
	char dir[4096];
	char first[64], second[64], release[64];
};

/* main: first (Alpha) -> second (Beta); tag v1 on first; branch release: Gamma. */
static void make_pinned_upstream(struct pinned_upstream *u)
{
	snprintf(u->dir, sizeof(u->dir), "%s", make_upstream(jr_tmpdir(), "pins", "Alpha"));
	snprintf(u->first, sizeof(u->first), "%s", git_rev(u->dir, "HEAD"));
	GIT_IN(u->dir, "tag v1");
	GIT_IN(u->dir, "checkout -q -b release");
	jr_write(u->dir, "jobs/__init__.py", job_module("Gamma", "Gamma"));
	snprintf(u->release, sizeof(u->release), "%s", git_commit_all(u->dir, "release"));
	GIT_IN(u->dir, "checkout -q main");
	jr_write(u->dir, "jobs/__init__.py", job_module("Beta", "Beta"));
	snprintf(u->second, sizeof(u->second), "%s", git_commit_all(u->dir, "second"));
}

static void expect_pin(const struct pinned_upstream *u, const char *slug, const char *branch,
                       const char *commit, const char *cls)
{
	jobreg_registry *reg = new_registry();
	jobreg_source *src = add_git_source(reg, slug, file_url(u->dir), branch, jr_tmpdir());
	char head[JOBREG_GIT_HEAD_SIZE] = "", ref[256];

	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	CHECK_OK(jobreg_source_git_head(head, src));
	CHECK_STR(head, commit);
	snprintf(ref, sizeof(ref), "%s.jobs.%s", slug, cls);
	CHECK(resolves(reg, ref));
	jobreg_registry_free(reg);
}

static void test_branch_tag_and_commit_pins(void)
{
	struct pinned_upstream u;
	char abbreviated[16];

	make_pinned_upstream(&u);
	expect_pin(&u, "pin_default", NULL, u.second, "Beta");
	expect_pin(&u, "pin_branch", "release", u.release, "Gamma");
	expect_pin(&u, "pin_tag", "v1", u.first, "Alpha");
	expect_pin(&u, "pin_commit", u.first, u.first, "Alpha");
	snprintf(abbreviated, sizeof(abbreviated), "%.10s", u.release);
	expect_pin(&u, "pin_short", abbreviated, u.release, "Gamma");
}

static void test_unknown_branch_is_not_found_and_leaves_nothing(void)
{
	struct pinned_upstream u;
	const char *git_root = jr_tmpdir();
	jobreg_registry *reg = new_registry();
	jobreg_source *src;

	make_pinned_upstream(&u);
	src = add_git_source(reg, "pin_missing", file_url(u.dir), "no-such-branch", git_root);
	CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_ENOTFOUND);
	CHECK_CONTAINS(jobreg_error_last()->message, "no-such-branch");
	CHECK(!path_exists(jr_path(git_root, "pin_missing")));
	CHECK_INT(count_entries(git_root, ".pin_missing.clone"), 0);
	jobreg_registry_free(reg);
}

/* ---- uniqueness ---- */

static void test_two_sources_with_one_slug_are_refused(void)
{
	jobreg_registry *reg = new_registry();
	jobreg_source *second = NULL;

	add_git_source(reg, "twice", "file:///a", NULL, jr_tmpdir());
	CHECK_OK(new_source(&second, "twice", "file:///b", NULL, jr_tmpdir()));
	CHECK_INT(jobreg_registry_add_source(reg, second), JOBREG_EEXISTS);
	jobreg_source_free(second);
	jobreg_registry_free(reg);
}

static void test_slug_of_a_jobs_root_module_is_refused_at_sync(void)
{
	const char *jobs_root = jr_tmpdir(), *git_root = jr_tmpdir();
	char up[4096];
	jobreg_registry *reg = new_registry();
	jobreg_source *dir = NULL, *src;

	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "clash", "Clash"));
	jr_write(jobs_root, "clash_repo.py", "");
	CHECK_OK(jobreg_source_dir_new(&dir, jobs_root));
	CHECK_OK(jobreg_registry_add_source(reg, dir));
	src = add_git_source(reg, "clash_repo", file_url(up), NULL, git_root);
	CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "clash_repo");
	CHECK_CONTAINS(jobreg_error_last()->message, "jobs root");
	CHECK(!path_exists(jr_path(git_root, "clash_repo")));
	jobreg_registry_free(reg);
}

static void test_slug_of_a_loaded_source_is_taken(void)
{
	char up[4096];
	jobreg_registry *reg = new_registry();
	jobreg_source *src;

	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "taken", "Taken"));
	src = add_git_source(reg, "taken_repo", file_url(up), NULL, jr_tmpdir());
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	CHECK_INT(jobreg_git_slug_check("taken_repo"), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "taken_repo/__init__.py");
	jobreg_registry_free(reg);
	/* Freed with its registry, the source's modules are gone: free again. */
	CHECK_OK(jobreg_git_slug_check("taken_repo"));
}

/* ---- reload fingerprint ---- */

static void test_reload_reimports_a_git_source_only_when_its_head_moved(void)
{
	char up[4096], first[64], second[64];
	jobreg_registry *reg = new_registry();
	jobreg_source *src;
	int changed = -1;
	uint64_t gen;

	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "fp", "Before"));
	snprintf(first, sizeof(first), "%s", git_rev(up, "HEAD"));
	jr_write(up, "jobs/__init__.py", job_module("After", "After"));
	snprintf(second, sizeof(second), "%s", git_commit_all(up, "after"));
	src = add_git_source(reg, "fp_repo", file_url(up), first, jr_tmpdir());
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	gen = generation_of(reg);
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_INT(generation_of(reg), gen);
	/* Moving only the checkout (no registry): the next reload imports it. */
	CHECK_OK(jobreg_git_ensure_head(&changed, NULL, src, second));
	CHECK_INT(changed, 1);
	CHECK_INT(generation_of(reg), gen);
	CHECK(resolves(reg, "fp_repo.jobs.Before"));
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_INT(generation_of(reg), gen + 1);
	CHECK(resolves(reg, "fp_repo.jobs.After"));
	CHECK(!resolves(reg, "fp_repo.jobs.Before"));
	jobreg_registry_free(reg);
}

static void test_sync_requires_a_git_source_of_the_registry(void)
{
	jobreg_registry *reg = new_registry(), *other = new_registry();
	jobreg_source *dir = NULL, *src;

	CHECK_OK(jobreg_source_dir_new(&dir, jr_tmpdir()));
	CHECK_OK(jobreg_registry_add_source(reg, dir));
	CHECK_INT(jobreg_git_sync(NULL, reg, dir, NULL), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "not a git source");
	src = add_git_source(other, "elsewhere", "file:///x", NULL, jr_tmpdir());
	CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_EINVAL);
	CHECK_CONTAINS(jobreg_error_last()->message, "does not belong");
	CHECK_INT(jobreg_git_ensure_head(NULL, reg, src, "abcdef"), JOBREG_EINVAL);
	CHECK_INT(jobreg_git_ensure_head(NULL, other, src, "not-hex"), JOBREG_EINVAL);
	jobreg_registry_free(reg);
	jobreg_registry_free(other);
}

static const struct jr_test tests[] = {
	{ "bad_slugs_are_refused_before_anything_is_written", test_bad_slugs_are_refused_before_anything_is_written },
	{ "slug_refusal_names_the_module_it_would_shadow", test_slug_refusal_names_the_module_it_would_shadow },
	{ "slug_of_100_characters_is_accepted", test_slug_of_100_characters_is_accepted },
	{ "git_source_has_type_name_root_and_defaults", test_git_source_has_type_name_root_and_defaults },
	{ "missing_option_fields_are_refused_by_name", test_missing_option_fields_are_refused_by_name },
	{ "invalid_branch_names_are_refused", test_invalid_branch_names_are_refused },
	{ "options_of_unknown_versions_are_refused", test_options_of_unknown_versions_are_refused },
	{ "getters_refuse_other_source_types", test_getters_refuse_other_source_types },
	{ "redact_url_hides_user_information", test_redact_url_hides_user_information },
	{ "source_shows_only_the_redacted_url", test_source_shows_only_the_redacted_url },
	{ "first_sync_clones_and_loads_the_jobs", test_first_sync_clones_and_loads_the_jobs },
	{ "jobs_py_module_layout_loads", test_jobs_py_module_layout_loads },
	{ "only_the_package_and_its_jobs_module_are_imported", test_only_the_package_and_its_jobs_module_are_imported },
	{ "repository_without_jobs_module_is_refused_naming_it", test_repository_without_jobs_module_is_refused_naming_it },
	{ "repository_without_init_is_refused_naming_it", test_repository_without_init_is_refused_naming_it },
	{ "load_before_first_sync_reports_the_missing_checkout", test_load_before_first_sync_reports_the_missing_checkout },
	{ "branch_tag_and_commit_pins", test_branch_tag_and_commit_pins },
	{ "unknown_branch_is_not_found_and_leaves_nothing", test_unknown_branch_is_not_found_and_leaves_nothing },
	{ "two_sources_with_one_slug_are_refused", test_two_sources_with_one_slug_are_refused },
	{ "slug_of_a_jobs_root_module_is_refused_at_sync", test_slug_of_a_jobs_root_module_is_refused_at_sync },
	{ "slug_of_a_loaded_source_is_taken", test_slug_of_a_loaded_source_is_taken },
	{ "reload_reimports_a_git_source_only_when_its_head_moved", test_reload_reimports_a_git_source_only_when_its_head_moved },
	{ "sync_requires_a_git_source_of_the_registry", test_sync_requires_a_git_source_of_the_registry },
};

static int run(int argc, char **argv)
{
	git_test_env();
	return jr_test_run(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}

int main(int argc, char **argv)
{
	int rc;

	if (jobreg_init(NULL) < 0) {
		fprintf(stderr, "jobreg_init: %s\n", jobreg_error_last()->message);
		return 99;
	}
	rc = run(argc, argv);
	jobreg_shutdown();
	return rc;
}
