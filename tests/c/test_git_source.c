/*
 * test_git_source.c: git repositories as sources (SPEC 1.2): slug rules,
 * options, URL redaction, layout, what is imported, branch/tag/commit pins,
 * and the reload fingerprint. Upstreams are real repositories made by the
 * tests and fetched over file://; transports are in
 * test_git_sync_transports.c.
 */
#include "../git/gitutil.h"
#include "loadutil.h"

/* ---- slugs and options ---- */

static int new_source(jobreg_source **out, const char *slug, const char *url, const char *branch,
                      const char *git_root)
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

/*
 * As Nautobot >= 2.3: <slug>, <slug>.jobs and every module under jobs/
 * (even one jobs/__init__.py never imports), each body once; nothing else.
 */
static void test_the_package_its_jobs_module_and_every_module_under_jobs_are_imported(void)
{
	const char *base = jr_tmpdir();
	char up[4096];
	jobreg_registry *reg = new_registry();
	jobreg_source *src;
	jobreg_snapshot *snap;

	snprintf(up, sizeof(up), "%s", make_upstream(base, "only", "Imported"));
	jr_write(up, "other.py", "raise RuntimeError('other.py must not run')\n");
	jr_write(up, "lib/helpers.py", "raise RuntimeError('lib/helpers.py must not run')\n");
	jr_write(up, "jobs/extra.py", job_module("ExtraJob", "Extra"));
	jr_write(up, "jobs/nested/__init__.py", "");
	jr_write(up, "jobs/nested/deep.py", job_module("DeepJob", "Deep"));
	jr_write(up, "jobs/no_package/skipped.py",
	         "raise RuntimeError('not in a package: never found')\n");
	jr_write(up, "jobs/used.py",
	         "import builtins\n"
	         "builtins.used_runs = getattr(builtins, 'used_runs', 0) + 1\n"
	         "assert builtins.used_runs == 1, 'jobs/used.py ran twice'\n"
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class UsedJob(Job):\n    pass\n"
	         "register_jobs(UsedJob)\n");
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
	CHECK(job_at(snap, "only_repo.jobs.used.UsedJob") != NULL);
	CHECK(job_at(snap, "only_repo.jobs.extra.ExtraJob") != NULL);
	CHECK(job_at(snap, "only_repo.jobs.nested.deep.DeepJob") != NULL);
	CHECK_INT(jobreg_snapshot_job_count(snap), 4);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

/* The class path of what `ref` resolves to, in a static buffer ("" when it does not). */
static const char *class_path_of(jobreg_registry *reg, const char *ref)
{
	static char buf[256];
	jobreg_job *job = NULL;

	buf[0] = '\0';
	if (jobreg_registry_resolve(&job, reg, ref) == 0)
		snprintf(buf, sizeof(buf), "%s", jobreg_job_class_path(job));
	jobreg_job_free(job);
	return buf;
}

static void test_short_form_reaches_jobs_of_sub_modules_at_any_depth(void)
{
	const char *base = jr_tmpdir();
	const char *twin = "from jobreg.jobs import Job\n\n\nclass Twin(Job):\n    pass\n";
	char up[4096];
	jobreg_registry *reg = new_registry();
	jobreg_source *src;
	jobreg_job *job = NULL;

	/* The seed's advice: jobs/__init__.py imports and registers what its
	 * sub-modules define; each class path is where the class is defined. */
	snprintf(up, sizeof(up), "%s", make_upstream(base, "subs", "Unused"));
	jr_write(up, "jobs/sub.py", "from jobreg.jobs import Job\n\n\nclass SubJob(Job):\n    pass\n");
	jr_write(up, "jobs/deep/__init__.py", "");
	jr_write(up, "jobs/deep/deeper.py",
	         "from jobreg.jobs import Job\n\n\nclass DeepJob(Job):\n    pass\n");
	jr_write(up, "jobs/one.py", twin);
	jr_write(up, "jobs/two.py", twin);
	jr_write(up, "jobs/__init__.py",
	         "from jobreg.jobs import register_jobs\n"
	         "from .sub import SubJob\n"
	         "from .deep.deeper import DeepJob\n"
	         "from . import one, two\n"
	         "\n"
	         "register_jobs(SubJob, DeepJob, one.Twin, two.Twin)\n");
	git_commit_all(up, "jobs in sub-modules");
	src = add_git_source(reg, "subs_repo", file_url(up), NULL, jr_tmpdir());
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	CHECK_INT(load_error_count(reg), 0);
	CHECK_STR(class_path_of(reg, "subs_repo.jobs.sub.SubJob"), "subs_repo.jobs.sub.SubJob");
	CHECK_STR(class_path_of(reg, "subs_repo.jobs.SubJob"), "subs_repo.jobs.sub.SubJob");
	CHECK_STR(class_path_of(reg, "subs_repo.jobs.DeepJob"), "subs_repo.jobs.deep.deeper.DeepJob");
	/* Two jobs of the source share the class name: no guess. */
	CHECK_INT(jobreg_registry_resolve(&job, reg, "subs_repo.jobs.Twin"), JOBREG_EAMBIGUOUS);
	CHECK(job == NULL);
	CHECK_CONTAINS(jobreg_error_last()->message, "subs_repo.jobs.one.Twin");
	CHECK_CONTAINS(jobreg_error_last()->message, "subs_repo.jobs.two.Twin");
	CHECK_STR(class_path_of(reg, "subs_repo.jobs.one.Twin"), "subs_repo.jobs.one.Twin");
	/* The short form is `<slug>.jobs.<Class>`, nothing in between. */
	CHECK_INT(jobreg_registry_resolve(&job, reg, "subs_repo.jobs.deep.DeepJob"), JOBREG_ENOTFOUND);
	CHECK_INT(jobreg_registry_resolve(&job, reg, "subs_repo.DeepJob"), JOBREG_ENOTFOUND);
	jobreg_registry_free(reg);
}

static void expect_layout_refused(const char *slug, const char *file, const char *missing)
{
	const char *base = jr_tmpdir(), *git_root = jr_tmpdir();
	char up[4096];
	jobreg_registry *reg = new_registry();
	jobreg_git_sync_result result = JOBREG_GIT_SYNC_RESULT_INIT;
	jobreg_source *src;
	jobreg_snapshot *refused = NULL;
	const jobreg_load_error *err;
	char commit[JOBREG_GIT_HEAD_SIZE];

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
	/* The refusal's load error stays available to the host. */
	CHECK_OK(jobreg_source_git_refused(&refused, commit, src));
	CHECK_STR(commit, git_rev(up, "HEAD"));
	if (refused) {
		CHECK_INT(jobreg_snapshot_load_error_count(refused), 1);
		err = jobreg_snapshot_load_error(refused, 0);
		if (err) {
			CHECK_STR(jobreg_load_error_source(err), slug);
			CHECK_CONTAINS(jobreg_load_error_message(err), missing);
		}
	}
	jobreg_snapshot_free(refused);
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

static const char broken_jobs[] = "from jobreg.jobs import Job, register_jobs\n"
								  "\n"
								  "raise RuntimeError('the inventory API is unreachable')\n";

/* The one load error of the refused commit about `module`, checked. */
static void expect_refused_error(jobreg_source *src, const char *commit, const char *module,
                                 const char *file_end, int line, const char *type,
                                 const char *message)
{
	jobreg_snapshot *refused = NULL;
	const jobreg_load_error *err = NULL;
	char seen[JOBREG_GIT_HEAD_SIZE] = "x";
	size_t i;

	CHECK_OK(jobreg_source_git_refused(&refused, seen, src));
	CHECK_STR(seen, commit);
	if (!refused)
		return;
	CHECK_INT(jobreg_snapshot_generation(refused), 0);
	CHECK_INT(jobreg_snapshot_job_count(refused), 0);
	for (i = 0; i < jobreg_snapshot_load_error_count(refused); i++) {
		if (strcmp(jobreg_load_error_module(jobreg_snapshot_load_error(refused, i)), module) == 0)
			err = jobreg_snapshot_load_error(refused, i);
	}
	CHECK(err != NULL);
	if (err) {
		size_t n = strlen(jobreg_load_error_file(err)), m = strlen(file_end);

		CHECK_INT(jobreg_load_error_source_type(err), JOBREG_SOURCE_GIT);
		CHECK(n >= m && strcmp(jobreg_load_error_file(err) + n - m, file_end) == 0);
		CHECK_INT(jobreg_load_error_line(err), line);
		CHECK_STR(jobreg_load_error_type(err), type);
		CHECK_CONTAINS(jobreg_load_error_message(err), message);
		CHECK_CONTAINS(jobreg_load_error_traceback(err), message);
	}
	jobreg_snapshot_free(refused);
}

static void test_the_load_errors_of_a_refused_commit_stay_available(void)
{
	const char *base = jr_tmpdir(), *git_root = jr_tmpdir();
	char up[4096], good[64], bad[64], first[64], head[JOBREG_GIT_HEAD_SIZE];
	jobreg_registry *reg = new_registry();
	jobreg_snapshot *refused = NULL;
	jobreg_source *src, *dir = NULL;

	/* A first clone whose only commit fails at import: refused, and the
	 * registry itself can only say that there is no checkout. */
	snprintf(up, sizeof(up), "%s/broken", base);
	CHECK_INT(sh("git init -q -b main '%s'", up), 0);
	jr_write(up, "__init__.py", "");
	jr_write(up, "jobs/__init__.py", broken_jobs);
	snprintf(first, sizeof(first), "%s", git_commit_all(up, "broken from the start"));
	src = add_git_source(reg, "broken_repo", file_url(up), NULL, git_root);
	CHECK_INT(jobreg_source_git_refused(&refused, head, src), JOBREG_ENOTFOUND);
	CHECK(refused == NULL);
	CHECK_STR(head, "");
	CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_ELOAD);
	CHECK(!path_exists(jr_path(git_root, "broken_repo")));
	expect_refused_error(src, first, "broken_repo.jobs", "/broken_repo/jobs/__init__.py", 3,
	                     "RuntimeError", "the inventory API is unreachable");

	/* A good commit: the sync succeeds and the refusal is forgotten. */
	jr_write(up, "jobs/__init__.py", job_module("Inventory", "Inventory"));
	snprintf(good, sizeof(good), "%s", git_commit_all(up, "fixed"));
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	CHECK_INT(jobreg_source_git_refused(&refused, NULL, src), JOBREG_ENOTFOUND);
	CHECK(refused == NULL);

	/* A broken commit on top: refused, the old code stays, its errors are kept. */
	jr_write(up, "jobs/helper.py", "VALUE = 1\n\n\ndef broken(:\n");
	jr_write(up, "jobs/__init__.py", "from . import helper  # noqa: F401\n");
	snprintf(bad, sizeof(bad), "%s", git_commit_all(up, "syntax error"));
	CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_ELOAD);
	CHECK(resolves(reg, "broken_repo.jobs.Inventory"));
	CHECK_OK(jobreg_source_git_head(head, src));
	CHECK_STR(head, good);
	expect_refused_error(src, bad, "broken_repo.jobs.helper", "/broken_repo/jobs/helper.py", 4,
	                     "SyntaxError", "invalid syntax");

	/* An ensure-head with nothing to do (the good commit is loaded) keeps
	 * it; one that tries a commit starts afresh, and keeps its own. */
	CHECK_OK(jobreg_git_ensure_head(NULL, reg, src, good));
	CHECK_OK(jobreg_source_git_refused(&refused, NULL, src));
	jobreg_snapshot_free(refused);
	refused = NULL;
	CHECK_INT(jobreg_git_ensure_head(NULL, reg, src, first), JOBREG_ELOAD);
	expect_refused_error(src, first, "broken_repo.jobs", "/broken_repo/jobs/__init__.py", 3,
	                     "RuntimeError", "the inventory API is unreachable");

	/* Only git sources have refusals; arguments are checked. */
	CHECK_OK(jobreg_source_dir_new(&dir, jr_tmpdir()));
	CHECK_INT(jobreg_source_git_refused(&refused, NULL, dir), JOBREG_EINVAL);
	CHECK_INT(jobreg_source_git_refused(NULL, NULL, src), JOBREG_EINVAL);
	CHECK_INT(jobreg_source_git_refused(&refused, NULL, NULL), JOBREG_EINVAL);
	CHECK(refused == NULL);
	jobreg_source_free(dir);
	jobreg_registry_free(reg);
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
	{ "bad_slugs_are_refused_before_anything_is_written",
	  test_bad_slugs_are_refused_before_anything_is_written },
	{ "slug_refusal_names_the_module_it_would_shadow",
	  test_slug_refusal_names_the_module_it_would_shadow },
	{ "slug_of_100_characters_is_accepted", test_slug_of_100_characters_is_accepted },
	{ "git_source_has_type_name_root_and_defaults",
	  test_git_source_has_type_name_root_and_defaults },
	{ "missing_option_fields_are_refused_by_name", test_missing_option_fields_are_refused_by_name },
	{ "invalid_branch_names_are_refused", test_invalid_branch_names_are_refused },
	{ "options_of_unknown_versions_are_refused", test_options_of_unknown_versions_are_refused },
	{ "getters_refuse_other_source_types", test_getters_refuse_other_source_types },
	{ "redact_url_hides_user_information", test_redact_url_hides_user_information },
	{ "source_shows_only_the_redacted_url", test_source_shows_only_the_redacted_url },
	{ "first_sync_clones_and_loads_the_jobs", test_first_sync_clones_and_loads_the_jobs },
	{ "jobs_py_module_layout_loads", test_jobs_py_module_layout_loads },
	{ "the_package_its_jobs_module_and_every_module_under_jobs_are_imported",
	  test_the_package_its_jobs_module_and_every_module_under_jobs_are_imported },
	{ "short_form_reaches_jobs_of_sub_modules_at_any_depth",
	  test_short_form_reaches_jobs_of_sub_modules_at_any_depth },
	{ "repository_without_jobs_module_is_refused_naming_it",
	  test_repository_without_jobs_module_is_refused_naming_it },
	{ "repository_without_init_is_refused_naming_it",
	  test_repository_without_init_is_refused_naming_it },
	{ "the_load_errors_of_a_refused_commit_stay_available",
	  test_the_load_errors_of_a_refused_commit_stay_available },
	{ "load_before_first_sync_reports_the_missing_checkout",
	  test_load_before_first_sync_reports_the_missing_checkout },
	{ "branch_tag_and_commit_pins", test_branch_tag_and_commit_pins },
	{ "unknown_branch_is_not_found_and_leaves_nothing",
	  test_unknown_branch_is_not_found_and_leaves_nothing },
	{ "two_sources_with_one_slug_are_refused", test_two_sources_with_one_slug_are_refused },
	{ "slug_of_a_jobs_root_module_is_refused_at_sync",
	  test_slug_of_a_jobs_root_module_is_refused_at_sync },
	{ "slug_of_a_loaded_source_is_taken", test_slug_of_a_loaded_source_is_taken },
	{ "reload_reimports_a_git_source_only_when_its_head_moved",
	  test_reload_reimports_a_git_source_only_when_its_head_moved },
	{ "sync_requires_a_git_source_of_the_registry",
	  test_sync_requires_a_git_source_of_the_registry },
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
