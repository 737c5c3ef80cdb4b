/*
 * test_git_sync_locks.c: loads and syncs while another process moves the
 * checkout (SPEC 1.2): the lock file `<git_root>/.<slug>.lock`, held here
 * the way another process holds it.
 */
#include "../git/git_sync_fixture.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static double monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Hold `<git_root>/.<slug>.lock` as a mover in another process does (a
 * lock of another open file is exactly that to flock()); -1 on failure. */
static int lock_like_a_mover(const char *git_root, const char *slug)
{
	char path[4300];
	int fd;

	snprintf(path, sizeof(path), "%s/.%s.lock", git_root, slug);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	if (fd >= 0)
		CHECK_INT(flock(fd, LOCK_EX), 0);
	return fd;
}

/* What another process does while it holds the lock: check `commit` out. */
static void move_checkout(const char *git_root, const char *slug, const struct two_commits *t,
                          const char *commit)
{
	GIT_IN(jr_path(git_root, slug), "fetch -q '%s' main", t->up);
	GIT_IN(jr_path(git_root, slug), "checkout -q --detach %s", commit);
}

static void test_loads_keep_their_code_while_another_process_moves_the_checkout(void)
{
	struct two_commits t;
	const char *git_root = fx.git_root;
	jobreg_registry *reg = fx.reg;
	uint64_t gen;
	int fd;

	two_commit_source(&t, reg, "moved_meanwhile", git_root);
	gen = generation_of(reg);
	fd = lock_like_a_mover(git_root, "moved_meanwhile");
	move_checkout(git_root, "moved_meanwhile", &t, t.second);

	/* Mid-move (the files may be half of each commit): neither a reload
	 * nor a full load reads them, and neither waits. */
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_INT(generation_of(reg), gen);
	CHECK_OK(jobreg_registry_load(reg));
	CHECK(resolves(reg, "moved_meanwhile.jobs.First"));
	CHECK(!resolves(reg, "moved_meanwhile.jobs.Second"));

	close(fd); /* the move is over */
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK(resolves(reg, "moved_meanwhile.jobs.Second"));
}

struct finishing_move {
	const char *git_root;
	const struct two_commits *t;
	int fd;
};

static void *finish_move_later(void *arg)
{
	struct finishing_move *f = arg;

	usleep(300000);
	move_checkout(f->git_root, "moved_first", f->t, f->t->second);
	close(f->fd);
	return NULL;
}

static void test_a_first_load_waits_for_a_move_in_another_process(void)
{
	struct two_commits t;
	const char *git_root = fx.git_root;
	jobreg_registry *reg = fx.reg, *worker;
	struct finishing_move f = { git_root, &t, -1 };
	pthread_t thread;
	double start, waited;

	two_commit_source(&t, reg, "moved_first", git_root);

	/* A new worker on the same git root has no code yet: it waits for
	 * the move and then imports the commit the mover left. */
	worker = fx_new_registry();
	add_git_source(worker, "moved_first", file_url(t.up), NULL, git_root);
	f.fd = lock_like_a_mover(git_root, "moved_first");
	CHECK(pthread_create(&thread, NULL, finish_move_later, &f) == 0);
	start = monotonic_seconds();
	CHECK_OK(jobreg_registry_load(worker));
	waited = monotonic_seconds() - start;
	pthread_join(thread, NULL);
	CHECK(waited >= 0.25);
	CHECK(resolves(worker, "moved_first.jobs.Second"));
	CHECK(!resolves(worker, "moved_first.jobs.First"));
}

static void *release_later(void *arg)
{
	usleep(3000000);
	close(*(int *)arg);
	return NULL;
}

static void test_a_move_never_waits_for_another_checkout(void)
{
	const char *git_root = fx.git_root;
	char up[4096];
	jobreg_registry *reg = fx.reg;
	jobreg_source *src;
	pthread_t thread;
	double start, took;
	int fd;

	/* Syncing `mover_a` imports the never-imported `waiting_b` too, while
	 * it holds mover_a's lock file. Another process holds waiting_b's
	 * (it may be waiting for mover_a's: two movers waiting for each other
	 * would never end), so this load must not wait for it. */
	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "mover_a", "Alpha"));
	src = add_git_source(reg, "mover_a", file_url(up), NULL, git_root);
	add_git_source(reg, "waiting_b", file_url(make_upstream(jr_tmpdir(), "waiting_b", "Beta")),
	               NULL, git_root);
	fd = lock_like_a_mover(git_root, "waiting_b");
	CHECK(pthread_create(&thread, NULL, release_later, &fd) == 0);
	start = monotonic_seconds();
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	took = monotonic_seconds() - start;
	if (took >= 2.5)
		fprintf(stderr, "the sync waited %.1f s for another checkout's lock\n", took);
	CHECK(took < 2.5);
	CHECK(resolves(reg, "mover_a.jobs.Alpha"));
	pthread_join(thread, NULL);
}

static const struct jr_test tests[] = {
	JR_TEST(loads_keep_their_code_while_another_process_moves_the_checkout),
	JR_TEST(a_first_load_waits_for_a_move_in_another_process),
	JR_TEST(a_move_never_waits_for_another_checkout),
};

JR_SUITE_MAIN_WITH_LIBRARY(tests, git_sync_setup, git_sync_teardown)
