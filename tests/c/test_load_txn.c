/*
 * test_load_txn.c: the load transaction as hosts see it: one at a time per
 * registry, never re-entered by the thread that holds it, nothing published
 * before it is accepted, and a refused move's rollback importing only what
 * it must.
 */
#include "../git/gitutil.h"
#include "loadutil.h"

#include <jobreg/sys/storage.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static const char *file_url(const char *dir)
{
	static char buf[4200];

	snprintf(buf, sizeof(buf), "file://%.4000s", dir);
	return buf;
}

/* ---- a thread never re-enters its own transaction ---- */

/* A storage that keeps nothing and, at its first `begin`, loads the
 * registry whose sync is calling it. */
struct reentering {
	jobreg_registry *reg;
	int calls, reload_rc;
	char message[512];
};

static int reentering_begin(unsigned int flags, void *payload)
{
	struct reentering *r = payload;

	(void)flags;
	if (r->calls++ == 0) {
		r->reload_rc = jobreg_registry_reload(r->reg);
		snprintf(r->message, sizeof(r->message), "%s", jobreg_error_last()->message);
	}
	return 0;
}

static int nothing(void *payload)
{
	(void)payload;
	return 0;
}

static int read_none(jobreg_storage_emit_fn emit, void *emit_payload, void *payload)
{
	(void)emit;
	(void)emit_payload;
	(void)payload;
	return 0;
}

static int write_any(const jobreg_record *rec, void *payload)
{
	(void)rec;
	(void)payload;
	return 0;
}

static int delete_any(const char *id, void *payload)
{
	(void)id;
	(void)payload;
	return 0;
}

static void test_a_callback_loading_the_registry_of_its_sync_gets_an_error_not_a_deadlock(void)
{
	static const jobreg_storage_backend backend = {
		1, reentering_begin, nothing, nothing, read_none, write_any, delete_any, NULL, NULL, NULL,
	};
	struct reentering r;
	jobreg_storage *st = NULL;
	jobreg_refresh_result *res = NULL;
	const char *dir = jr_tmpdir();

	memset(&r, 0, sizeof(r));
	jr_write_seed_jobs_root(dir);
	r.reg = jobs_root_registry(dir, 0);
	CHECK_OK(jobreg_storage_new(&st, &backend, &r));
	CHECK_OK(jobreg_registry_sync(&res, r.reg, st, NULL));
	CHECK(r.calls > 0);
	CHECK_INT(r.reload_rc, JOBREG_ESTATE);
	CHECK_CONTAINS(r.message, "jobreg_registry_reload");
	CHECK_CONTAINS(r.message, "loading the registry already");
	/* The sync itself went through, and the registry is free again. */
	CHECK(resolves(r.reg, "device_jobs.CleanupDevices"));
	CHECK_OK(jobreg_registry_reload(r.reg));
	jobreg_refresh_result_free(res);
	jobreg_storage_free(st);
	jobreg_registry_free(r.reg);
}

/* ---- a refused move ---- */

/* A jobs root whose one module appends a line to `log` each time it runs. */
static const char *counting_root(const char *log)
{
	const char *dir = jr_tmpdir();
	char text[8192];

	snprintf(text, sizeof(text),
	         "from jobreg.jobs import Job, register_jobs\n"
	         "with open(%s%.4000s%s, 'a') as f:\n"
	         "    f.write('ran\\n')\n"
	         "\n"
	         "\n"
	         "class Counted(Job):\n"
	         "    pass\n"
	         "\n"
	         "\n"
	         "register_jobs(Counted)\n",
	         "'", log, "'");
	jr_write(dir, "counted_jobs.py", text);
	return dir;
}

static void test_a_refused_first_move_imports_the_other_sources_once(void)
{
	const char *log = jr_path(jr_tmpdir(), "imports.log");
	char up[4096];
	jobreg_registry *reg = new_registry();
	jobreg_source *dir = NULL, *src;

	CHECK_OK(jobreg_source_dir_new(&dir, counting_root(log)));
	CHECK_OK(jobreg_registry_add_source(reg, dir));
	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "refused_first", "Never"));
	jr_write(up, "jobs/__init__.py", "raise RuntimeError('broken from the start')\n");
	git_commit_all(up, "broken");
	src = add_git_source(reg, "refused_first", file_url(up), NULL, jr_tmpdir());

	/* The move imports the jobs root (never imported yet) with its trial;
	 * the rollback imports the git source again, not the jobs root. */
	CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_ELOAD);
	CHECK_STR(read_text(log), "ran\n");
	CHECK(resolves(reg, "counted_jobs.Counted"));
	CHECK(!resolves(reg, "refused_first.jobs.Never"));
	jobreg_registry_free(reg);
}

static void test_ensure_head_never_counts_refused_code_as_loaded(void)
{
	const char *git_root = jr_tmpdir();
	char up[4096], broken[64];
	jobreg_registry *reg = new_registry();
	jobreg_source *src;
	int changed = -1;

	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "kept_good", "Good"));
	src = add_git_source(reg, "kept_good", file_url(up), NULL, git_root);
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	jr_write(up, "jobs/__init__.py", "raise RuntimeError('broken')\n");
	snprintf(broken, sizeof(broken), "%s", git_commit_all(up, "broken"));
	/* Another process put the checkout on the broken commit. */
	GIT_IN(jr_path(git_root, "kept_good"), "fetch -q '%s' main", up);
	GIT_IN(jr_path(git_root, "kept_good"), "checkout -q --detach %s", broken);

	/* Refused each time it is asked for: the code served is the good one. */
	CHECK_INT(jobreg_git_ensure_head(&changed, reg, src, broken), JOBREG_ELOAD);
	CHECK_INT(jobreg_git_ensure_head(&changed, reg, src, broken), JOBREG_ELOAD);
	CHECK_CONTAINS(jobreg_error_last()->message, "refused");
	CHECK(resolves(reg, "kept_good.jobs.Good"));
	jobreg_registry_free(reg);
}

/* ---- loads of other threads and moves ---- */

struct reloader {
	jobreg_registry *reg;
	const char *slug_jobs;
	atomic_int stop;
	atomic_long reloads, failures, saw_trial;
};

static void *reload_all_the_time(void *arg)
{
	struct reloader *r = arg;

	while (!atomic_load(&r->stop)) {
		jobreg_snapshot *snap = NULL;

		if (jobreg_registry_reload(r->reg) < 0 || jobreg_registry_snapshot(&snap, r->reg) < 0) {
			atomic_fetch_add(&r->failures, 1);
			continue;
		}
		/* A commit under trial that a load imported would show here. */
		if (error_for(snap, r->slug_jobs))
			atomic_fetch_add(&r->saw_trial, 1);
		jobreg_snapshot_free(snap);
		atomic_fetch_add(&r->reloads, 1);
		usleep(1000); /* mutexes are not fair: let the mover in */
	}
	return NULL;
}

static void test_reloads_in_another_thread_never_import_a_commit_under_trial(void)
{
	char up[4096];
	jobreg_registry *reg = new_registry();
	struct reloader r;
	jobreg_source *src;
	pthread_t thread;
	int round;

	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "trial", "One"));
	src = add_git_source(reg, "trial", file_url(up), NULL, jr_tmpdir());
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	r.reg = reg;
	r.slug_jobs = "trial.jobs";
	atomic_init(&r.stop, 0);
	atomic_init(&r.reloads, 0);
	atomic_init(&r.failures, 0);
	atomic_init(&r.saw_trial, 0);
	CHECK_INT(pthread_create(&thread, NULL, reload_all_the_time, &r), 0);
	for (round = 0; round < 3; round++) {
		jr_write(up, "jobs/__init__.py", "raise ImportError('under trial')\n");
		git_commit_all(up, "broken");
		CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_ELOAD);
		jr_write(up, "jobs/__init__.py", job_module(round % 2 ? "One" : "Two", "good"));
		git_commit_all(up, "good");
		CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	}
	atomic_store(&r.stop, 1);
	pthread_join(thread, NULL);
	CHECK(atomic_load(&r.reloads) > 0);
	CHECK_INT(atomic_load(&r.failures), 0);
	CHECK_INT(atomic_load(&r.saw_trial), 0);
	CHECK(resolves(reg, "trial.jobs.Two") || resolves(reg, "trial.jobs.One"));
	jobreg_registry_free(reg);
}

static const struct jr_test tests[] = {
	{ "a_callback_loading_the_registry_of_its_sync_gets_an_error_not_a_deadlock",
	  test_a_callback_loading_the_registry_of_its_sync_gets_an_error_not_a_deadlock },
	{ "a_refused_first_move_imports_the_other_sources_once",
	  test_a_refused_first_move_imports_the_other_sources_once },
	{ "ensure_head_never_counts_refused_code_as_loaded",
	  test_ensure_head_never_counts_refused_code_as_loaded },
	{ "reloads_in_another_thread_never_import_a_commit_under_trial",
	  test_reloads_in_another_thread_never_import_a_commit_under_trial },
};

int main(int argc, char **argv)
{
	int rc;

	if (jobreg_init(NULL) < 0) {
		fprintf(stderr, "jobreg_init: %s\n", jobreg_error_last()->message);
		return 99;
	}
	git_test_env();
	rc = jr_test_run(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
	jobreg_shutdown();
	return rc;
}
