/*
 * test_reload_inotify.c: a reload with nothing changed does not walk the
 * tree, and every change is still seen (docs/architecture.md, "Reloads").
 * Links the internal library: jr_dir_walk_count() tells whether discovery
 * walked, without timing anything.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loadutil.h"
#include "source.h"

static const char *lib; /* python_path folder for the app packages */

/* A module with one job `cls` whose Meta name is `name`. */
static const char *job_module(const char *cls, const char *name)
{
	static char text[512];

	snprintf(text, sizeof(text),
	         "from jobreg.jobs import Job, register_jobs\n"
	         "class %s(Job):\n"
	         "    class Meta:\n"
	         "        name = '%s'\n"
	         "register_jobs(%s)\n",
	         cls, name, cls);
	return text;
}

static jobreg_registry *root_registry(const char *root, int isolation)
{
	jobreg_registry_options opts = JOBREG_REGISTRY_OPTIONS_INIT;
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;

	opts.isolation = isolation;
	CHECK_OK(jobreg_registry_new(&reg, &opts));
	CHECK_OK(jobreg_source_dir_new(&src, root));
	CHECK_OK(jobreg_registry_add_source(reg, src));
	CHECK_OK(jobreg_registry_load(reg));
	return reg;
}

/* Reload, and check that discovery walked `walks` times meanwhile. */
#define RELOAD_WALKING(reg, walks)                                    \
	do {                                                              \
		uint64_t before_ = jr_dir_walk_count();                       \
		CHECK_OK(jobreg_registry_reload(reg));                        \
		CHECK_INT(jr_dir_walk_count() - before_, (long long)(walks)); \
	} while (0)

static uint64_t generation(jobreg_registry *reg)
{
	jobreg_snapshot *snap = take_snapshot(reg);
	uint64_t number = jobreg_snapshot_generation(snap);

	jobreg_snapshot_free(snap);
	return number;
}

/* The name of the job at `class_path`, or "" when there is none. */
static const char *job_name(jobreg_registry *reg, const char *class_path)
{
	static char name[128];
	jobreg_snapshot *snap = take_snapshot(reg);
	const jobreg_job *job = job_at(snap, class_path);

	snprintf(name, sizeof(name), "%s", job ? jobreg_job_name(job) : "");
	jobreg_snapshot_free(snap);
	return name;
}

static size_t job_count(jobreg_registry *reg)
{
	jobreg_snapshot *snap = take_snapshot(reg);
	size_t n = jobreg_snapshot_job_count(snap);

	jobreg_snapshot_free(snap);
	return n;
}

/*
 * Every kind of change, each followed by a reload that must see it and a
 * second reload with nothing changed. `watched`: the second one does not
 * walk (with JOBREG_NO_INOTIFY every reload walks).
 */
static void every_change_is_seen(int watched)
{
	const char *root = jr_tmpdir();
	int still = watched ? 0 : 1; /* walks of a reload with nothing changed */
	char from[4200], to[4200];
	jobreg_registry *reg;
	uint64_t gen;

	jr_write(root, "pkg/__init__.py", "");
	jr_write(root, "pkg/alpha.py", job_module("Alpha", "v1"));
	jr_write(root, "top.py", job_module("Top", "t1"));
	reg = root_registry(root, JOBREG_ISOLATION_NONE);
	CHECK_STR(job_name(reg, "pkg.alpha.Alpha"), "v1");
	RELOAD_WALKING(reg, still);
	CHECK_INT(generation(reg), 1);

	/* An edit of the same size within the same second. */
	jr_write(root, "pkg/alpha.py", job_module("Alpha", "v2"));
	RELOAD_WALKING(reg, 1);
	CHECK_STR(job_name(reg, "pkg.alpha.Alpha"), "v2");
	RELOAD_WALKING(reg, still);

	/* A file added, then removed. */
	jr_write(root, "pkg/beta.py", job_module("Beta", "b1"));
	RELOAD_WALKING(reg, 1);
	CHECK_STR(job_name(reg, "pkg.beta.Beta"), "b1");
	RELOAD_WALKING(reg, still);
	unlink(jr_path(root, "pkg/beta.py"));
	RELOAD_WALKING(reg, 1);
	CHECK_STR(job_name(reg, "pkg.beta.Beta"), "");
	RELOAD_WALKING(reg, still);

	/* A file renamed. */
	snprintf(from, sizeof(from), "%s/top.py", root);
	snprintf(to, sizeof(to), "%s/renamed.py", root);
	CHECK(rename(from, to) == 0);
	RELOAD_WALKING(reg, 1);
	CHECK_STR(job_name(reg, "top.Top"), "");
	CHECK_STR(job_name(reg, "renamed.Top"), "t1");
	RELOAD_WALKING(reg, still);

	/* A folder renamed: the files below it are watched again under it. */
	snprintf(from, sizeof(from), "%s/pkg", root);
	snprintf(to, sizeof(to), "%s/moved", root);
	CHECK(rename(from, to) == 0);
	RELOAD_WALKING(reg, 1);
	CHECK_STR(job_name(reg, "pkg.alpha.Alpha"), "");
	CHECK_STR(job_name(reg, "moved.alpha.Alpha"), "v2");
	RELOAD_WALKING(reg, still);
	jr_write(root, "moved/alpha.py", job_module("Alpha", "v3"));
	RELOAD_WALKING(reg, 1);
	CHECK_STR(job_name(reg, "moved.alpha.Alpha"), "v3");

	/* A new sub-folder, then a file in it: the new folder is watched. */
	snprintf(to, sizeof(to), "%s/moved/sub", root);
	CHECK(mkdir(to, 0755) == 0);
	RELOAD_WALKING(reg, 1);
	RELOAD_WALKING(reg, still);
	jr_write(root, "moved/sub/gamma.py", job_module("Gamma", "g1"));
	RELOAD_WALKING(reg, 1);
	CHECK_STR(job_name(reg, "moved.sub.gamma.Gamma"), "g1");
	RELOAD_WALKING(reg, still);

	/* A touch (utime) of a file: its times are in the fingerprint. */
	gen = generation(reg);
	jr_touch_later(jr_path(root, "moved/sub/gamma.py"), 5);
	RELOAD_WALKING(reg, 1);
	CHECK_INT(generation(reg), gen + 1);
	RELOAD_WALKING(reg, still);

	/* A touch of the root and a chmod of a folder: walked, then quiet. */
	gen = generation(reg);
	jr_touch_later(root, 5);
	RELOAD_WALKING(reg, 1);
	CHECK_INT(generation(reg), gen + 1);
	RELOAD_WALKING(reg, still);
	CHECK(chmod(jr_path(root, "moved/sub"), 0700) == 0);
	RELOAD_WALKING(reg, 1);
	RELOAD_WALKING(reg, still);

	/* A folder removed with what it holds. */
	jr_rmtree(jr_path(root, "moved"));
	RELOAD_WALKING(reg, 1);
	CHECK_STR(job_name(reg, "moved.alpha.Alpha"), "");
	CHECK_STR(job_name(reg, "moved.sub.gamma.Gamma"), "");
	CHECK_INT(job_count(reg), 1);
	RELOAD_WALKING(reg, still);
	jobreg_registry_free(reg);
}

static void test_a_reload_with_nothing_changed_does_not_walk(void)
{
	const char *root = jr_tmpdir();
	jobreg_registry *reg;
	int i;

	jr_write(root, "inventory/__init__.py", "");
	jr_write(root, "inventory/check.py", job_module("Check", "check"));
	jr_write(root, "cleanup.py", job_module("Cleanup", "cleanup"));
	reg = root_registry(root, JOBREG_ISOLATION_NONE);
	for (i = 0; i < 3; i++)
		RELOAD_WALKING(reg, 0);
	CHECK_INT(generation(reg), 1);
	CHECK_INT(job_count(reg), 2);
	/* Below the root, files the walk never reads (hidden, bytecode) change
	 * nothing; in the root they change its times, which a walk reads. */
	jr_write(root, "inventory/.check.py.swp", "x");
	jr_write(root, "inventory/__pycache__/check.cpython-311.pyc", "x");
	RELOAD_WALKING(reg, 0);
	jr_write(root, ".cleanup.py.swp", "x");
	RELOAD_WALKING(reg, 1);
	RELOAD_WALKING(reg, 0);
	jobreg_registry_free(reg);
}

static void test_isolation_mode_reload_with_nothing_changed_does_not_walk(void)
{
	const char *root = jr_tmpdir();
	jobreg_registry *reg;

	jr_write(root, "cleanup.py", job_module("Cleanup", "cleanup"));
	reg = root_registry(root, JOBREG_ISOLATION_PROCESS);
	RELOAD_WALKING(reg, 0);
	RELOAD_WALKING(reg, 0);
	CHECK_INT(generation(reg), 1);
	jr_write(root, "cleanup.py", job_module("Cleanup", "CLEANUP"));
	RELOAD_WALKING(reg, 1);
	CHECK_STR(job_name(reg, "cleanup.Cleanup"), "CLEANUP");
	RELOAD_WALKING(reg, 0);
	jobreg_registry_free(reg);
}

static void test_every_change_is_seen_by_the_next_reload(void)
{
	every_change_is_seen(1);
}

static void test_with_JOBREG_NO_INOTIFY_every_reload_walks_and_sees_the_same(void)
{
	setenv("JOBREG_NO_INOTIFY", "1", 1);
	every_change_is_seen(0);
	unsetenv("JOBREG_NO_INOTIFY");
}

static void test_JOBREG_NO_INOTIFY_set_later_makes_the_next_reload_walk(void)
{
	const char *root = jr_tmpdir();
	jobreg_registry *reg;

	jr_write(root, "cleanup.py", job_module("Cleanup", "cleanup"));
	reg = root_registry(root, JOBREG_ISOLATION_NONE);
	RELOAD_WALKING(reg, 0);
	setenv("JOBREG_NO_INOTIFY", "yes", 1);
	RELOAD_WALKING(reg, 1);
	RELOAD_WALKING(reg, 1);
	setenv("JOBREG_NO_INOTIFY", "0", 1); /* "0" is off, as unset */
	RELOAD_WALKING(reg, 1);              /* sets the watches up again */
	RELOAD_WALKING(reg, 0);
	unsetenv("JOBREG_NO_INOTIFY");
	CHECK_INT(generation(reg), 1);
	jobreg_registry_free(reg);
}

/* An import with nothing changed on disk (a full load, another Nautobot
 * mode) gets the kept modules and discovery errors, without a walk. */
static void test_an_import_without_a_walk_gets_the_kept_modules_and_errors(void)
{
	const char *root = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;
	uint64_t before;

	jr_write(root, "pkg/__init__.py", "");
	jr_write(root, "pkg/alpha.py", job_module("Alpha", "alpha"));
	jr_write(root, "ns/beta.py", job_module("Beta", "beta"));
	jr_write(root, "bad\xff.py", job_module("Bad", "bad"));
	reg = root_registry(root, JOBREG_ISOLATION_NONE);
	snap = take_snapshot(reg);
	CHECK_INT(jobreg_snapshot_job_count(snap), 2);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 1);
	jobreg_snapshot_free(snap);

	before = jr_dir_walk_count();
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_OK(jobreg_source_set_nautobot_compat(jobreg_registry_source(reg, 0), JOBREG_COMPAT_1X));
	CHECK_OK(jobreg_registry_reload(reg)); /* another mode: imported again */
	CHECK_INT(jr_dir_walk_count() - before, 0);
	snap = take_snapshot(reg);
	CHECK_INT(jobreg_snapshot_generation(snap), 3);
	CHECK_INT(jobreg_snapshot_job_count(snap), 2);
	CHECK(job_at(snap, "pkg.alpha.Alpha") != NULL);
	CHECK(job_at(snap, "ns.beta.Beta") != NULL);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 1);
	if (jobreg_snapshot_load_error_count(snap) == 1)
		CHECK_CONTAINS(jobreg_load_error_message(jobreg_snapshot_load_error(snap, 0)),
		               "not valid UTF-8");
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

/* A link leads where no watch looks (here a hidden folder): such a tree
 * is walked every time, and the change behind the link is seen. */
static void test_a_tree_with_a_link_is_walked_every_time(void)
{
	const char *root = jr_tmpdir();
	char target[4200];
	jobreg_registry *reg;

	jr_write(root, ".store/tools.py", job_module("Tools", "t1"));
	snprintf(target, sizeof(target), "%s/.store/tools.py", root);
	CHECK(symlink(target, jr_path(root, "tools.py")) == 0);
	reg = root_registry(root, JOBREG_ISOLATION_NONE);
	CHECK_STR(job_name(reg, "tools.Tools"), "t1");
	RELOAD_WALKING(reg, 1);
	jr_write(root, ".store/tools.py", job_module("Tools", "t2"));
	RELOAD_WALKING(reg, 1);
	CHECK_STR(job_name(reg, "tools.Tools"), "t2");
	/* Once the link is gone, the watches are trusted again. */
	unlink(jr_path(root, "tools.py"));
	RELOAD_WALKING(reg, 1);
	CHECK_STR(job_name(reg, "tools.Tools"), "");
	RELOAD_WALKING(reg, 0);
	jobreg_registry_free(reg);
}

/* A module with a second name elsewhere can change through that name,
 * which no watch of the root sees: such a tree is walked every time. */
static void test_a_hard_linked_module_is_walked_every_time(void)
{
	const char *root = jr_tmpdir(), *elsewhere = jr_tmpdir();
	char outside[4200];
	jobreg_registry *reg;

	jr_write(root, "linked.py", job_module("Linked", "l1"));
	snprintf(outside, sizeof(outside), "%s/linked.py", elsewhere);
	CHECK(link(jr_path(root, "linked.py"), outside) == 0);
	reg = root_registry(root, JOBREG_ISOLATION_NONE);
	RELOAD_WALKING(reg, 1);
	jr_write(elsewhere, "linked.py", job_module("Linked", "l2"));
	RELOAD_WALKING(reg, 1);
	CHECK_STR(job_name(reg, "linked.Linked"), "l2");
	jobreg_registry_free(reg);
}

/* The root's own path may come to name another folder: moved away and
 * replaced, or a link to the root pointed elsewhere. */
static void test_a_root_replaced_under_its_path_is_seen(void)
{
	const char *base = jr_tmpdir();
	char root[4200], old[4200], link_path[4200], a[4200], b[4200];
	jobreg_registry *reg;

	snprintf(root, sizeof(root), "%s/jobs", base);
	snprintf(old, sizeof(old), "%s/jobs.old", base);
	jr_write(root, "first.py", job_module("First", "first"));
	reg = root_registry(root, JOBREG_ISOLATION_NONE);
	CHECK(rename(root, old) == 0);
	jr_write(root, "second.py", job_module("Second", "second"));
	RELOAD_WALKING(reg, 1);
	CHECK_STR(job_name(reg, "first.First"), "");
	CHECK_STR(job_name(reg, "second.Second"), "second");
	RELOAD_WALKING(reg, 0);
	jobreg_registry_free(reg);

	snprintf(a, sizeof(a), "%s/a", base);
	snprintf(b, sizeof(b), "%s/b", base);
	snprintf(link_path, sizeof(link_path), "%s/current", base);
	jr_write(a, "one.py", job_module("One", "one"));
	jr_write(b, "two.py", job_module("Two", "two"));
	CHECK(symlink(a, link_path) == 0);
	reg = root_registry(link_path, JOBREG_ISOLATION_NONE);
	RELOAD_WALKING(reg, 0);
	unlink(link_path);
	CHECK(symlink(b, link_path) == 0);
	RELOAD_WALKING(reg, 1);
	CHECK_STR(job_name(reg, "one.One"), "");
	CHECK_STR(job_name(reg, "two.Two"), "two");
	RELOAD_WALKING(reg, 0);

	/* Gone: an error; back: loaded, and quiet again. */
	jr_rmtree(b);
	RELOAD_WALKING(reg, 0); /* no folder, nothing to walk */
	CHECK_INT(job_count(reg), 0);
	jr_write(b, "three.py", job_module("Three", "three"));
	RELOAD_WALKING(reg, 1);
	CHECK_STR(job_name(reg, "three.Three"), "three");
	RELOAD_WALKING(reg, 0);
	jobreg_registry_free(reg);
}

/* A host that forks after a load (a pre-forking server) shares the
 * inotify fd with its children: a child's discovery must leave the
 * parent's events to the parent. */
static void test_a_forked_childs_discovery_leaves_the_parent_its_events(void)
{
	const char *root = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_source *src;
	int status = 0;
	pid_t pid;

	jr_write(root, "shared.py", job_module("Shared", "s1"));
	reg = root_registry(root, JOBREG_ISOLATION_NONE);
	src = jobreg_registry_source(reg, 0);
	jr_write(root, "shared.py", job_module("Shared", "s2")); /* queued for the parent */
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		jr_load_plan plan;
		int rc = -1;

		/* Discovery alone: no Python in the child. */
		memset(&plan, 0, sizeof(plan));
		plan.part = jr_part_new(JOBREG_SOURCE_LOCAL, "");
		if (plan.part)
			rc = src->ops->discover(src, &plan);
		jr_plan_clear(&plan);
		_exit(rc < 0 ? 1 : 0);
	}
	CHECK(pid > 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	RELOAD_WALKING(reg, 1);
	CHECK_STR(job_name(reg, "shared.Shared"), "s2");
	RELOAD_WALKING(reg, 0);
	jobreg_registry_free(reg);
}

static void test_an_app_reload_with_nothing_changed_does_not_walk(void)
{
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;

	jr_write(lib, "quiet_app/__init__.py",
	         "from jobreg.apps import AppConfig\n"
	         "class QuietConfig(AppConfig):\n    name = 'quiet_app'\n"
	         "config = QuietConfig\n");
	jr_write(lib, "quiet_app/jobs.py", job_module("Tidy", "v1"));
	CHECK_OK(jobreg_registry_new(&reg, NULL));
	CHECK_OK(jobreg_source_app_new(&src, "quiet_app"));
	CHECK_OK(jobreg_registry_add_source(reg, src));
	CHECK_OK(jobreg_registry_load(reg));
	RELOAD_WALKING(reg, 0);
	CHECK_INT(generation(reg), 1);
	jr_write(lib, "quiet_app/jobs.py", job_module("Tidy", "v2"));
	RELOAD_WALKING(reg, 1);
	CHECK_STR(job_name(reg, "quiet_app.jobs.Tidy"), "v2");
	RELOAD_WALKING(reg, 0);
	jobreg_registry_free(reg);
}

static const struct jr_test tests[] = {
	JR_TEST(a_reload_with_nothing_changed_does_not_walk),
	JR_TEST(isolation_mode_reload_with_nothing_changed_does_not_walk),
	JR_TEST(every_change_is_seen_by_the_next_reload),
	JR_TEST(with_JOBREG_NO_INOTIFY_every_reload_walks_and_sees_the_same),
	JR_TEST(JOBREG_NO_INOTIFY_set_later_makes_the_next_reload_walk),
	JR_TEST(an_import_without_a_walk_gets_the_kept_modules_and_errors),
	JR_TEST(a_tree_with_a_link_is_walked_every_time),
	JR_TEST(a_hard_linked_module_is_walked_every_time),
	JR_TEST(a_root_replaced_under_its_path_is_seen),
	JR_TEST(a_forked_childs_discovery_leaves_the_parent_its_events),
	JR_TEST(an_app_reload_with_nothing_changed_does_not_walk),
};

int main(int argc, char **argv)
{
	jobreg_init_options opts = JOBREG_INIT_OPTIONS_INIT;
	static char lib_dir[4096];
	const char *path[1];
	int rc;

	unsetenv("JOBREG_NO_INOTIFY");
	snprintf(lib_dir, sizeof(lib_dir), "%s", jr_tmpdir());
	lib = lib_dir;
	path[0] = lib;
	opts.python_path = path;
	opts.python_path_count = 1;
	if (jobreg_init(&opts) < 0) {
		fprintf(stderr, "jobreg_init: %s\n", jobreg_error_last()->message);
		return 99;
	}
	rc = jr_test_run(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
	jobreg_shutdown();
	return rc;
}
