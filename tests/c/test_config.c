/* test_config.c: jobreg.yaml into a jobreg_config (SPEC 6). */
#define _GNU_SOURCE
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include <jobreg.h>

/* Parse `text` as "jobreg.yaml" in /srv/site; NULL and the error on failure. */
static jobreg_config *parse(const char *text)
{
	jobreg_config *cfg = NULL;

	if (jobreg_config_parse(&cfg, text, strlen(text), "/srv/site", "jobreg.yaml") < 0)
		return NULL;
	return cfg;
}

/* Parse `text`, which must fail with JOBREG_ECONFIG and exactly `message`. */
static void check_refused(const char *text, const char *message)
{
	jobreg_config *cfg = (jobreg_config *)1;
	int rc = jobreg_config_parse(&cfg, text, strlen(text), "/srv/site", "jobreg.yaml");

	CHECK_INT(rc, JOBREG_ECONFIG);
	CHECK_INT(jobreg_error_last()->code, JOBREG_ECONFIG);
	CHECK(cfg == NULL);
	CHECK_STR(jobreg_error_last()->message, message);
	if (rc == 0)
		jobreg_config_free(cfg);
}

static void test_every_key_is_read(void)
{
	jobreg_config *cfg = parse("# jobreg.yaml\n"
	                           "jobs_root: jobs\n"
	                           "git_root: checkouts\n"
	                           "database: state/records.db\n"
	                           "python_path: [lib, vendor]\n"
	                           "nautobot_compat: false\n"
	                           "import_timeout: 30\n"
	                           "git_repositories:\n"
	                           "  - slug: my_repo\n"
	                           "    remote_url: https://example.invalid/my_repo.git\n"
	                           "    branch: stable\n"
	                           "    token_env: MY_REPO_TOKEN\n"
	                           "  - slug: other\n"
	                           "    remote_url: git@example.invalid:other.git\n"
	                           "apps: [my_app, second_app]\n");

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	CHECK_STR(jobreg_config_path(cfg), "jobreg.yaml");
	CHECK_STR(jobreg_config_dir(cfg), "/srv/site");
	CHECK_STR(jobreg_config_jobs_root(cfg), "/srv/site/jobs");
	CHECK_STR(jobreg_config_git_root(cfg), "/srv/site/checkouts");
	CHECK_STR(jobreg_config_database(cfg), "/srv/site/state/records.db");
	CHECK_INT(jobreg_config_python_path_count(cfg), 2);
	CHECK_STR(jobreg_config_python_path(cfg, 0), "/srv/site/lib");
	CHECK_STR(jobreg_config_python_path(cfg, 1), "/srv/site/vendor");
	CHECK(jobreg_config_python_path(cfg, 2) == NULL);
	CHECK_INT(jobreg_config_nautobot_compat(cfg), 0);
	CHECK(jobreg_config_import_timeout(cfg) == 30.0);
	CHECK_INT(jobreg_config_git_repository_count(cfg), 2);
	CHECK_STR(jobreg_config_git_repository_slug(cfg, 0), "my_repo");
	CHECK_STR(jobreg_config_git_repository_remote_url(cfg, 0),
	          "https://example.invalid/my_repo.git");
	CHECK_STR(jobreg_config_git_repository_branch(cfg, 0), "stable");
	CHECK_STR(jobreg_config_git_repository_token_env(cfg, 0), "MY_REPO_TOKEN");
	CHECK_STR(jobreg_config_git_repository_slug(cfg, 1), "other");
	CHECK_STR(jobreg_config_git_repository_remote_url(cfg, 1), "git@example.invalid:other.git");
	CHECK(jobreg_config_git_repository_slug(cfg, 2) == NULL);
	CHECK(jobreg_config_git_repository_remote_url(cfg, 2) == NULL);
	CHECK(jobreg_config_git_repository_branch(cfg, 2) == NULL);
	CHECK_INT(jobreg_config_app_count(cfg), 2);
	CHECK_STR(jobreg_config_app(cfg, 0), "my_app");
	CHECK_STR(jobreg_config_app(cfg, 1), "second_app");
	CHECK(jobreg_config_app(cfg, 2) == NULL);
	jobreg_config_free(cfg);
}

static void test_absent_keys_take_their_defaults(void)
{
	jobreg_config *cfg = parse("{}\n");

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	CHECK(jobreg_config_jobs_root(cfg) == NULL);
	CHECK_STR(jobreg_config_git_root(cfg), "/srv/site/.jobreg/git");
	CHECK_STR(jobreg_config_database(cfg), "/srv/site/.jobreg/jobreg.db");
	CHECK_INT(jobreg_config_python_path_count(cfg), 0);
	CHECK_INT(jobreg_config_nautobot_compat(cfg), 1);
	CHECK(jobreg_config_import_timeout(cfg) == 0.0);
	CHECK_INT(jobreg_config_git_repository_count(cfg), 0);
	CHECK_INT(jobreg_config_app_count(cfg), 0);
	jobreg_config_free(cfg);
}

static void test_empty_values_count_as_absent(void)
{
	jobreg_config *cfg = parse("jobs_root:\n"
	                           "git_root: ~\n"
	                           "database: null\n"
	                           "python_path:\n"
	                           "nautobot_compat:\n"
	                           "import_timeout:\n"
	                           "git_repositories:\n"
	                           "  - slug: r\n"
	                           "    remote_url: u\n"
	                           "    branch:\n"
	                           "    token_env: ~\n"
	                           "apps: []\n");

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	CHECK(jobreg_config_jobs_root(cfg) == NULL);
	CHECK_STR(jobreg_config_git_root(cfg), "/srv/site/.jobreg/git");
	CHECK_STR(jobreg_config_database(cfg), "/srv/site/.jobreg/jobreg.db");
	CHECK_INT(jobreg_config_python_path_count(cfg), 0);
	CHECK_INT(jobreg_config_nautobot_compat(cfg), 1);
	CHECK(jobreg_config_import_timeout(cfg) == 0.0);
	CHECK_STR(jobreg_config_git_repository_branch(cfg, 0), "main");
	CHECK(jobreg_config_git_repository_token_env(cfg, 0) == NULL);
	CHECK_INT(jobreg_config_app_count(cfg), 0);
	jobreg_config_free(cfg);
}

static void test_absolute_paths_are_kept_and_normalized(void)
{
	jobreg_config *cfg = parse("jobs_root: /opt/jobs/\n"
	                           "git_root: /var//lib/./jobreg/git\n"
	                           "database: ../shared/../db/jobreg.db\n"
	                           "python_path: [/usr/lib/extra, ./lib/, ../../../../x]\n");

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	CHECK_STR(jobreg_config_jobs_root(cfg), "/opt/jobs");
	CHECK_STR(jobreg_config_git_root(cfg), "/var/lib/jobreg/git");
	CHECK_STR(jobreg_config_database(cfg), "/srv/db/jobreg.db");
	CHECK_STR(jobreg_config_python_path(cfg, 0), "/usr/lib/extra");
	CHECK_STR(jobreg_config_python_path(cfg, 1), "/srv/site/lib");
	CHECK_STR(jobreg_config_python_path(cfg, 2), "/x");
	jobreg_config_free(cfg);
}

static void test_relative_paths_follow_the_file_not_the_working_folder(void)
{
	const char *dir = jr_tmpdir();
	char saved[PATH_MAX], expected[PATH_MAX + 64], path[PATH_MAX];
	jobreg_config *cfg = NULL;

	snprintf(path, sizeof(path), "%s",
	         jr_write(dir, "site/conf/jobreg.yaml", "jobs_root: ../jobs\ndatabase: db.sqlite\n"));
	CHECK(getcwd(saved, sizeof(saved)) != NULL);
	/* Given relative to the working folder, which is elsewhere. */
	CHECK_INT(chdir(dir), 0);
	CHECK_OK(jobreg_config_load(&cfg, "site/./conf/jobreg.yaml"));
	CHECK_INT(chdir(saved), 0);
	if (!cfg)
		return;
	CHECK_STR(jobreg_config_path(cfg), path);
	snprintf(expected, sizeof(expected), "%s/site/conf", dir);
	CHECK_STR(jobreg_config_dir(cfg), expected);
	snprintf(expected, sizeof(expected), "%s/site/jobs", dir);
	CHECK_STR(jobreg_config_jobs_root(cfg), expected);
	snprintf(expected, sizeof(expected), "%s/site/conf/db.sqlite", dir);
	CHECK_STR(jobreg_config_database(cfg), expected);
	snprintf(expected, sizeof(expected), "%s/site/conf/.jobreg/git", dir);
	CHECK_STR(jobreg_config_git_root(cfg), expected);
	jobreg_config_free(cfg);
}

static void test_parse_resolves_against_base_dir_or_working_folder(void)
{
	char cwd[PATH_MAX], expected[PATH_MAX + 64];
	jobreg_config *cfg = NULL;
	const char *text = "jobs_root: jobs\n";

	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK_OK(jobreg_config_parse(&cfg, text, strlen(text), NULL, NULL));
	if (cfg) {
		CHECK_STR(jobreg_config_path(cfg), "<config>");
		CHECK_STR(jobreg_config_dir(cfg), cwd);
		snprintf(expected, sizeof(expected), "%s/jobs", cwd);
		CHECK_STR(jobreg_config_jobs_root(cfg), expected);
		jobreg_config_free(cfg);
	}
	cfg = NULL;
	CHECK_OK(jobreg_config_parse(&cfg, text, strlen(text), "deploy", "x.yaml"));
	if (cfg) {
		snprintf(expected, sizeof(expected), "%s/deploy/jobs", cwd);
		CHECK_STR(jobreg_config_jobs_root(cfg), expected);
		jobreg_config_free(cfg);
	}
}

static void test_text_need_not_be_nul_terminated(void)
{
	const char text[] = "jobs_root: jobsXXXX";
	jobreg_config *cfg = NULL;

	CHECK_OK(jobreg_config_parse(&cfg, text, strlen("jobs_root: jobs"), "/a", "t"));
	if (cfg)
		CHECK_STR(jobreg_config_jobs_root(cfg), "/a/jobs");
	jobreg_config_free(cfg);
}

static void test_strings_are_taken_as_written(void)
{
	jobreg_config *cfg = parse("git_repositories:\n"
	                           "  - slug: 123\n"
	                           "    remote_url: 'https://example.invalid/x.git'\n"
	                           "    branch: 1.10\n"
	                           "apps: [\"quoted app\", yes]\n");

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	CHECK_STR(jobreg_config_git_repository_slug(cfg, 0), "123");
	CHECK_STR(jobreg_config_git_repository_branch(cfg, 0), "1.10");
	CHECK_STR(jobreg_config_app(cfg, 0), "quoted app");
	CHECK_STR(jobreg_config_app(cfg, 1), "yes");
	jobreg_config_free(cfg);
}

static void test_booleans_and_timeouts_in_their_yaml_forms(void)
{
	static const struct {
		const char *text;
		int compat;
		double timeout;
	} cases[] = {
		{ "nautobot_compat: true\nimport_timeout: 0\n", 1, 0 },
		{ "nautobot_compat: False\nimport_timeout: 2.5\n", 0, 2.5 },
		{ "nautobot_compat: no\nimport_timeout: 1e2\n", 0, 100 },
		{ "nautobot_compat: on\nimport_timeout: .5\n", 1, 0.5 },
		{ "nautobot_compat: !!bool off\nimport_timeout: !!int 7\n", 0, 7 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		jobreg_config *cfg = parse(cases[i].text);

		CHECK(cfg != NULL);
		if (!cfg) {
			fprintf(stderr, "  case %zu: %s\n", i, jobreg_error_last()->message);
			continue;
		}
		CHECK_INT(jobreg_config_nautobot_compat(cfg), cases[i].compat);
		CHECK(jobreg_config_import_timeout(cfg) == cases[i].timeout);
		jobreg_config_free(cfg);
	}
}

/* nautobot_compat: "1.x" is JOBREG_COMPAT_1X, "2.x" is true (since 0.3.0). */
static void test_nautobot_compat_takes_1x_and_2x(void)
{
	static const struct {
		const char *text;
		int compat;
	} cases[] = {
		{ "nautobot_compat: \"1.x\"\n", JOBREG_COMPAT_1X },
		{ "nautobot_compat: '1.x'\n", JOBREG_COMPAT_1X },
		{ "nautobot_compat: 1.x\n", JOBREG_COMPAT_1X }, /* a plain string too */
		{ "nautobot_compat: \"2.x\"\n", JOBREG_COMPAT_AUTO },
		{ "nautobot_compat: 2.x\n", JOBREG_COMPAT_AUTO },
		{ "nautobot_compat: true\n", JOBREG_COMPAT_AUTO },
		{ "nautobot_compat: false\n", JOBREG_COMPAT_OFF },
		{ "nautobot_compat: ~\n", JOBREG_COMPAT_AUTO },
	};
	size_t i;

	CHECK_INT(JOBREG_COMPAT_AUTO, 1); /* jobreg_config_nautobot_compat() of 0.1 */
	CHECK_INT(JOBREG_COMPAT_OFF, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		jobreg_config *cfg = parse(cases[i].text);

		CHECK(cfg != NULL);
		if (!cfg) {
			fprintf(stderr, "  case %zu: %s\n", i, jobreg_error_last()->message);
			continue;
		}
		CHECK_INT(jobreg_config_nautobot_compat(cfg), cases[i].compat);
		jobreg_config_free(cfg);
	}
	CHECK_INT(jobreg_config_nautobot_compat(NULL), JOBREG_COMPAT_AUTO);
}

static void test_a_repository_may_choose_its_nautobot_jobs(void)
{
	unsigned int line = 0, column = 0;
	jobreg_config *cfg = parse("nautobot_compat: \"1.x\"\n"
	                           "git_repositories:\n"
	                           "  - slug: old_jobs\n"
	                           "    remote_url: u\n"
	                           "    nautobot_compat: \"1.x\"\n"
	                           "  - slug: new_jobs\n"
	                           "    remote_url: u\n"
	                           "    nautobot_compat: 2.x\n"
	                           "  - slug: as_the_top\n"
	                           "    remote_url: u\n"
	                           "  - slug: empty\n"
	                           "    remote_url: u\n"
	                           "    nautobot_compat:\n");

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	CHECK_INT(jobreg_config_nautobot_compat(cfg), JOBREG_COMPAT_1X);
	CHECK_INT(jobreg_config_git_repository_nautobot_compat(cfg, 0), JOBREG_COMPAT_1X);
	CHECK_INT(jobreg_config_git_repository_nautobot_compat(cfg, 1), JOBREG_COMPAT_AUTO);
	CHECK_INT(jobreg_config_git_repository_nautobot_compat(cfg, 2), JOBREG_COMPAT_DEFAULT);
	CHECK_INT(jobreg_config_git_repository_nautobot_compat(cfg, 3), JOBREG_COMPAT_DEFAULT);
	CHECK_INT(jobreg_config_git_repository_nautobot_compat(cfg, 4), JOBREG_COMPAT_DEFAULT);
	CHECK_INT(jobreg_config_git_repository_nautobot_compat(NULL, 0), JOBREG_COMPAT_DEFAULT);
	CHECK_OK(jobreg_config_locate(&line, &column, cfg, "git_repositories[1].nautobot_compat"));
	CHECK_INT(line, 8);
	CHECK_INT(column, 5);
	jobreg_config_free(cfg);
}

static void test_bad_nautobot_compat_values_are_refused(void)
{
	check_refused("nautobot_compat: \"1.X\"\n",
	              "jobreg.yaml:1:18: 'nautobot_compat' must be true, false, \"1.x\" or \"2.x\", "
	              "not the string '1.X'");
	check_refused("jobs_root: jobs\nnautobot_compat: 3.x\n",
	              "jobreg.yaml:2:18: 'nautobot_compat' must be true, false, \"1.x\" or \"2.x\", "
	              "not the string '3.x'");
	check_refused("nautobot_compat: 1.0\n",
	              "jobreg.yaml:1:18: 'nautobot_compat' must be true, false, \"1.x\" or \"2.x\", "
	              "not the number '1.0'");
	check_refused("nautobot_compat: [\"1.x\"]\n",
	              "jobreg.yaml:1:18: 'nautobot_compat' must be true, false, \"1.x\" or \"2.x\", "
	              "not a list");
	check_refused("nautobot_compat: \"1.x\\0\"\n",
	              "jobreg.yaml:1:18: 'nautobot_compat' must not contain a NUL character");
	/* Per repository only a mode: the modules are the whole process's. */
	check_refused("git_repositories:\n"
	              "  - slug: r\n"
	              "    remote_url: u\n"
	              "    nautobot_compat: true\n",
	              "jobreg.yaml:4:22: 'git_repositories[0].nautobot_compat' must be \"1.x\" or "
	              "\"2.x\", not the boolean 'true'");
	check_refused("git_repositories:\n"
	              "  - slug: r\n"
	              "    remote_url: u\n"
	              "  - slug: s\n"
	              "    remote_url: u\n"
	              "    nautobot_compat: \"1.x \"\n",
	              "jobreg.yaml:6:22: 'git_repositories[1].nautobot_compat' must be \"1.x\" or "
	              "\"2.x\", not the string '1.x '");
	check_refused("git_repositories:\n"
	              "  - slug: r\n"
	              "    remote_url: u\n"
	              "    nautobot_compat: 1.x\n"
	              "    nautobot_compat: 2.x\n",
	              "jobreg.yaml:5:5: duplicate key 'git_repositories[0].nautobot_compat' (first "
	              "given at 4:5)");
}

static void test_anchors_and_aliases_are_followed(void)
{
	jobreg_config *cfg = parse("python_path: &paths [lib]\n"
	                           "apps: [&app my_app, *app]\n"
	                           "jobs_root: &root jobs\n"
	                           "git_root: *root\n");

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	CHECK_STR(jobreg_config_python_path(cfg, 0), "/srv/site/lib");
	CHECK_INT(jobreg_config_app_count(cfg), 2);
	CHECK_STR(jobreg_config_app(cfg, 1), "my_app");
	CHECK_STR(jobreg_config_git_root(cfg), "/srv/site/jobs");
	jobreg_config_free(cfg);
}

static void test_unknown_keys_are_refused_with_a_suggestion(void)
{
	check_refused("jobs_root: jobs\njobs_rot: jobs\n",
	              "jobreg.yaml:2:1: unknown key 'jobs_rot' (did you mean 'jobs_root'?)");
	check_refused("isolation: threads\n", "jobreg.yaml:1:12: 'isolation' must be \"process\" or "
	                                      "\"none\", not the string 'threads'");
	check_refused("workers: 0\n", "jobreg.yaml:1:10: 'workers' must be a whole number from 1 to "
	                              "1000000, not the number '0'");
	check_refused("colour: blue\n",
	              "jobreg.yaml:1:1: unknown key 'colour' (known keys: jobs_root, git_root, "
	              "database, python_path, nautobot_compat, import_timeout, git_repositories, "
	              "apps, isolation, workers, worker_memory_limit_mb, password_env)");
	check_refused("git_repositories:\n"
	              "  - slug: r\n"
	              "    remote_url: u\n"
	              "    brnch: dev\n",
	              "jobreg.yaml:4:5: unknown key 'brnch' in git_repositories[0] (did you mean "
	              "'branch'?)");
}

static void test_wrong_types_are_refused_naming_the_key(void)
{
	check_refused("jobs_root: jobs\nimport_timeout: soon\n",
	              "jobreg.yaml:2:17: 'import_timeout' must be a number of seconds (0 for no "
	              "limit), not the string 'soon'");
	check_refused("import_timeout: \"30\"\n",
	              "jobreg.yaml:1:17: 'import_timeout' must be a number of seconds (0 for no "
	              "limit), not the string '30'");
	check_refused("import_timeout: -1\n",
	              "jobreg.yaml:1:17: 'import_timeout' must be between 0 (no limit) and 4294967 "
	              "seconds, not the number '-1'");
	check_refused("import_timeout: .nan\n",
	              "jobreg.yaml:1:17: 'import_timeout' must be between 0 (no limit) and 4294967 "
	              "seconds, not the number '.nan'");
	check_refused("apps: my_app\n",
	              "jobreg.yaml:1:7: 'apps' must be a list, not the string 'my_app' (write apps: "
	              "[my_app])");
	check_refused("python_path: {lib: 1}\n",
	              "jobreg.yaml:1:14: 'python_path' must be a list, not a mapping (write "
	              "python_path: [lib])");
	check_refused("apps:\n  - [nested]\n",
	              "jobreg.yaml:2:5: 'apps[0]' must be a package name (a string), not a list");
	check_refused("jobs_root: [a, b]\n",
	              "jobreg.yaml:1:12: 'jobs_root' must be a path (a string), not a list");
	check_refused("database: ''\n", "jobreg.yaml:1:11: 'database' must not be empty");
	check_refused("python_path: [lib, ~]\n",
	              "jobreg.yaml:1:20: 'python_path[1]' must be a path (a string), not an empty "
	              "value");
	check_refused("jobs_root: \"a\\0b\"\n",
	              "jobreg.yaml:1:12: 'jobs_root' must not contain a NUL character");
	check_refused("nautobot_compat: \"true\"\n",
	              "jobreg.yaml:1:18: 'nautobot_compat' must be true, false, \"1.x\" or \"2.x\", "
	              "not the string 'true'");
	check_refused("nautobot_compat: 1\n",
	              "jobreg.yaml:1:18: 'nautobot_compat' must be true, false, \"1.x\" or \"2.x\", "
	              "not the number '1'");
	check_refused("git_repositories: my_repo\n",
	              "jobreg.yaml:1:19: 'git_repositories' must be a list of mappings (- slug: ...), "
	              "not the string 'my_repo'");
	check_refused("git_repositories:\n  - my_repo\n",
	              "jobreg.yaml:2:5: 'git_repositories[0]' must be a mapping with slug and "
	              "remote_url, not the string 'my_repo'");
	check_refused("git_repositories:\n  - slug: [a]\n    remote_url: u\n",
	              "jobreg.yaml:2:11: 'git_repositories[0].slug' must be a string, not a list");
}

static void test_repository_needs_slug_and_remote_url(void)
{
	check_refused("git_repositories:\n"
	              "  - slug: one\n"
	              "    remote_url: u\n"
	              "  - slug: two\n"
	              "    branch: main\n",
	              "jobreg.yaml:4:5: 'git_repositories[1]' is missing the required key "
	              "'remote_url'");
	check_refused("git_repositories:\n  - remote_url: u\n",
	              "jobreg.yaml:2:5: 'git_repositories[0]' is missing the required key 'slug'");
	check_refused("git_repositories:\n  - slug:\n    remote_url: u\n",
	              "jobreg.yaml:2:10: 'git_repositories[0].slug' is required and must not be "
	              "empty");
}

static void test_remote_url_never_appears_in_messages(void)
{
	const char *text = "git_repositories:\n"
					   "  - slug: r\n"
					   "    remote_url: https://user:s3cret@example.invalid/r.git\n"
					   "    branch: [dev]\n";
	jobreg_config *cfg = NULL;

	CHECK_INT(jobreg_config_parse(&cfg, text, strlen(text), "/a", "j.yaml"), JOBREG_ECONFIG);
	CHECK_STR(jobreg_error_last()->message,
	          "j.yaml:4:13: 'git_repositories[0].branch' must be a branch, tag or commit (a "
	          "string), not a list");
	CHECK(strstr(jobreg_error_last()->message, "s3cret") == NULL);
}

static void test_duplicate_keys_are_refused(void)
{
	check_refused("database: a.db\njobs_root: jobs\ndatabase: b.db\n",
	              "jobreg.yaml:3:1: duplicate key 'database' (first given at 1:1)");
	check_refused("git_repositories:\n"
	              "  - slug: r\n"
	              "    remote_url: u\n"
	              "    slug: s\n",
	              "jobreg.yaml:4:5: duplicate key 'git_repositories[0].slug' (first given at "
	              "2:5)");
}

static void test_empty_files_and_other_shapes_are_refused(void)
{
	check_refused("", "jobreg.yaml:1:1: the configuration is empty: expected a mapping of "
	                  "settings such as 'jobs_root: jobs'");
	check_refused("# nothing yet\n\n",
	              "jobreg.yaml:1:1: the configuration is empty: expected a mapping of "
	              "settings such as 'jobs_root: jobs'");
	check_refused("- jobs_root: jobs\n",
	              "jobreg.yaml:1:1: the top level must be a mapping of settings (key: value), "
	              "not a list");
	check_refused("jobs\n",
	              "jobreg.yaml:1:1: the top level must be a mapping of settings (key: value), "
	              "not the string 'jobs'");
	check_refused("jobs_root: a\n---\njobs_root: b\n",
	              "jobreg.yaml:2:1: a second YAML document: the configuration must be a single "
	              "document");
	check_refused("[a]: b\n", "jobreg.yaml:1:1: keys must be strings, not a list");
}

static void test_yaml_syntax_errors_name_position_and_key(void)
{
	check_refused("jobs_root: jobs\napps: [a, b\n",
	              "jobreg.yaml:3:1: YAML syntax error in 'apps': did not find expected ',' or "
	              "']' (while parsing a flow sequence that starts at 2:7)");
	check_refused("jobs_root: jobs\n  database: x\n",
	              "jobreg.yaml:2:11: YAML syntax error after 'jobs_root': mapping values are not "
	              "allowed in this context");
	check_refused("jobs_root: jobs\n- item\n",
	              "jobreg.yaml:2:1: YAML syntax error after 'jobs_root': did not find expected "
	              "key (while parsing a block mapping that starts at 1:1)");
	check_refused("git_repositories:\n"
	              "  - slug: r\n"
	              "    remote_url: \"https://x\n",
	              "jobreg.yaml:4:1: YAML syntax error in 'git_repositories[0].remote_url': "
	              "found unexpected end of stream (while scanning a quoted scalar that starts "
	              "at 3:17)");
	check_refused("jobs_root: jobs\n\tapps: x\n",
	              "jobreg.yaml:2:1: YAML syntax error in 'jobs_root': found a tab character that "
	              "violates indentation (while scanning a plain scalar that starts at 1:12)");
	check_refused("jobs_root: \xff\n",
	              "jobreg.yaml:1:12: YAML syntax error: invalid leading UTF-8 octet (byte 0xFF)");
	check_refused("jobs_root: !env JOBS\n",
	              "jobreg.yaml:1:12: bad value in 'jobs_root': unsupported YAML tag '!env'");
	check_refused("jobs_root: *nowhere\n",
	              "jobreg.yaml:1:12: bad value in 'jobs_root': unknown anchor '*nowhere'");
	check_refused("import_timeout: !!int soon\n",
	              "jobreg.yaml:1:17: bad value in 'import_timeout': 'soon' is not a valid !!int");
}

static void test_load_reports_unreadable_files(void)
{
	const char *dir = jr_tmpdir();
	char missing[PATH_MAX + 32];
	jobreg_config *cfg = (jobreg_config *)1;

	snprintf(missing, sizeof(missing), "%s/absent.yaml", dir);
	CHECK_INT(jobreg_config_load(&cfg, missing), JOBREG_EIO);
	CHECK(cfg == NULL);
	CHECK_CONTAINS(jobreg_error_last()->message, missing);
	CHECK_CONTAINS(jobreg_error_last()->message, "No such file or directory");
	CHECK_INT(jobreg_config_load(&cfg, dir), JOBREG_EIO);
	CHECK_INT(jobreg_config_load(NULL, missing), JOBREG_EINVAL);
	CHECK_INT(jobreg_config_load(&cfg, NULL), JOBREG_EINVAL);
}

static void test_load_names_the_file_as_given_in_messages(void)
{
	const char *dir = jr_tmpdir();
	char path[PATH_MAX], expected[PATH_MAX + 128];
	jobreg_config *cfg = NULL;

	snprintf(path, sizeof(path), "%s", jr_write(dir, "jobreg.yaml", "jobs_root: jobs\napps: x\n"));
	CHECK_INT(jobreg_config_load(&cfg, path), JOBREG_ECONFIG);
	snprintf(expected, sizeof(expected),
	         "%s:2:7: 'apps' must be a list, not the string 'x' (write apps: [x])", path);
	CHECK_STR(jobreg_error_last()->message, expected);
	CHECK(cfg == NULL);
}

static void test_locate_gives_where_each_setting_was_written(void)
{
	jobreg_config *cfg = parse("jobs_root: jobs\n"
	                           "apps:\n"
	                           "  - one\n"
	                           "  - two\n"
	                           "git_repositories:\n"
	                           "  - slug: r\n"
	                           "    remote_url: u\n");
	unsigned int line = 0, column = 0;

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	CHECK_OK(jobreg_config_locate(&line, &column, cfg, "jobs_root"));
	CHECK_INT(line, 1);
	CHECK_INT(column, 1);
	CHECK_OK(jobreg_config_locate(&line, &column, cfg, "apps"));
	CHECK_INT(line, 2);
	CHECK_OK(jobreg_config_locate(&line, &column, cfg, "apps[1]"));
	CHECK_INT(line, 4);
	CHECK_INT(column, 5);
	CHECK_OK(jobreg_config_locate(&line, &column, cfg, "git_repositories[0]"));
	CHECK_INT(line, 6);
	CHECK_INT(column, 5);
	CHECK_OK(jobreg_config_locate(&line, NULL, cfg, "git_repositories[0].remote_url"));
	CHECK_INT(line, 7);
	CHECK_INT(jobreg_config_locate(&line, &column, cfg, "database"), JOBREG_ENOTFOUND);
	CHECK_CONTAINS(jobreg_error_last()->message, "'database'");
	CHECK_INT(jobreg_config_locate(&line, &column, cfg, NULL), JOBREG_EINVAL);
	jobreg_config_free(cfg);
}

static void test_null_handles_are_harmless(void)
{
	jobreg_config_free(NULL);
	CHECK(jobreg_config_jobs_root(NULL) == NULL);
	CHECK_INT(jobreg_config_app_count(NULL), 0);
	CHECK_INT(jobreg_config_parse(NULL, "", 0, NULL, NULL), JOBREG_EINVAL);
}

static const struct jr_test tests[] = {
	{ "every_key_is_read", test_every_key_is_read },
	{ "absent_keys_take_their_defaults", test_absent_keys_take_their_defaults },
	{ "empty_values_count_as_absent", test_empty_values_count_as_absent },
	{ "absolute_paths_are_kept_and_normalized", test_absolute_paths_are_kept_and_normalized },
	{ "relative_paths_follow_the_file_not_the_working_folder",
	  test_relative_paths_follow_the_file_not_the_working_folder },
	{ "parse_resolves_against_base_dir_or_working_folder",
	  test_parse_resolves_against_base_dir_or_working_folder },
	{ "text_need_not_be_nul_terminated", test_text_need_not_be_nul_terminated },
	{ "strings_are_taken_as_written", test_strings_are_taken_as_written },
	{ "booleans_and_timeouts_in_their_yaml_forms", test_booleans_and_timeouts_in_their_yaml_forms },
	{ "nautobot_compat_takes_1x_and_2x", test_nautobot_compat_takes_1x_and_2x },
	{ "a_repository_may_choose_its_nautobot_jobs", test_a_repository_may_choose_its_nautobot_jobs },
	{ "bad_nautobot_compat_values_are_refused", test_bad_nautobot_compat_values_are_refused },
	{ "anchors_and_aliases_are_followed", test_anchors_and_aliases_are_followed },
	{ "unknown_keys_are_refused_with_a_suggestion",
	  test_unknown_keys_are_refused_with_a_suggestion },
	{ "wrong_types_are_refused_naming_the_key", test_wrong_types_are_refused_naming_the_key },
	{ "repository_needs_slug_and_remote_url", test_repository_needs_slug_and_remote_url },
	{ "remote_url_never_appears_in_messages", test_remote_url_never_appears_in_messages },
	{ "duplicate_keys_are_refused", test_duplicate_keys_are_refused },
	{ "empty_files_and_other_shapes_are_refused", test_empty_files_and_other_shapes_are_refused },
	{ "yaml_syntax_errors_name_position_and_key", test_yaml_syntax_errors_name_position_and_key },
	{ "load_reports_unreadable_files", test_load_reports_unreadable_files },
	{ "load_names_the_file_as_given_in_messages", test_load_names_the_file_as_given_in_messages },
	{ "locate_gives_where_each_setting_was_written",
	  test_locate_gives_where_each_setting_was_written },
	{ "null_handles_are_harmless", test_null_handles_are_harmless },
};

JR_TEST_MAIN(tests)
