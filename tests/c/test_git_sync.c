/*
 * test_git_sync.c: syncing and ensuring the head of git sources (SPEC 1.2)
 * over real transports: file://, git daemon on 127.0.0.1, and smart HTTP
 * (git http-backend) behind a token; plus a server that drops the
 * connection mid-fetch, refused commits, credentials and progress.
 */
#include "../git/gitutil.h"
#include "loadutil.h"

#include <jobreg/sys/storage.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static char *file_url(const char *dir)
{
	static char bufs[4][4200];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, 4200, "file://%.4000s", dir);
	return b;
}

static const char *checkout_file(const char *git_root, const char *slug, const char *rel)
{
	static char path[8400];

	snprintf(path, sizeof(path), "%s/%s/%s", git_root, slug, rel);
	return path;
}

/* ---- moving to a new tip ---- */

static void test_sync_moves_to_the_new_tip_and_reloads_only_that_source(void)
{
	const char *git_root = jr_tmpdir(), *jobs_root = jr_tmpdir();
	char up[4096], first[64], second[64];
	jobreg_git_sync_result result = JOBREG_GIT_SYNC_RESULT_INIT;
	jobreg_registry *reg = new_registry();
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
	jobreg_registry_free(reg);
}

static void test_sync_with_nothing_new_imports_nothing(void)
{
	char up[4096];
	jobreg_git_sync_result result = JOBREG_GIT_SYNC_RESULT_INIT;
	jobreg_registry *reg = new_registry();
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
	jobreg_registry_free(reg);
}

/* ---- refusing code that does not load ---- */

static void expect_refused(const char *slug, const char *rel, const char *broken,
                           const char *expected_in_message)
{
	const char *git_root = jr_tmpdir();
	char up[4096], first[64], old_text[4096];
	jobreg_git_sync_result result = JOBREG_GIT_SYNC_RESULT_INIT;
	jobreg_registry *reg = new_registry();
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
	jobreg_registry_free(reg);
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
	jobreg_registry *reg = new_registry();
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
	jobreg_registry_free(reg);
}

/* ---- ensure head ---- */

struct two_commits {
	char up[4096], moved_away[4200];
	char first[64], second[64];
};

/* An upstream with First then Second; the source synced to the first. */
static jobreg_source *two_commit_source(struct two_commits *t, jobreg_registry *reg,
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
static void take_upstream_away(struct two_commits *t)
{
	CHECK_INT(rename(t->up, t->moved_away), 0);
}

static void test_ensure_head_at_the_current_commit_does_no_network_and_no_import(void)
{
	struct two_commits t;
	jobreg_registry *reg = new_registry();
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
	jobreg_registry_free(reg);
}

static void test_ensure_head_moves_to_a_known_commit_without_network(void)
{
	struct two_commits t;
	jobreg_registry *reg = new_registry();
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
	jobreg_registry_free(reg);
}

static void test_ensure_head_fetches_a_missing_commit(void)
{
	struct two_commits t;
	jobreg_registry *reg = new_registry();
	jobreg_source *src = two_commit_source(&t, reg, "ens_fetch", jr_tmpdir());
	char head[JOBREG_GIT_HEAD_SIZE] = "";
	int changed = -1;

	CHECK_OK(jobreg_git_ensure_head(&changed, reg, src, t.second));
	CHECK_INT(changed, 1);
	CHECK_OK(jobreg_source_git_head(head, src));
	CHECK_STR(head, t.second);
	CHECK(resolves(reg, "ens_fetch.jobs.Second"));
	jobreg_registry_free(reg);
}

static void test_ensure_head_clones_when_there_is_no_checkout(void)
{
	struct two_commits t;
	jobreg_registry *reg = new_registry(), *worker = NULL;
	jobreg_source *src = two_commit_source(&t, reg, "ens_clone", jr_tmpdir());
	int changed = -1;

	/* A worker with its own, empty git root converges on the first commit. */
	jobreg_registry_free(reg);
	worker = new_registry();
	src = add_git_source(worker, "ens_clone", file_url(t.up), NULL, jr_tmpdir());
	CHECK_OK(jobreg_git_ensure_head(&changed, worker, src, t.first));
	CHECK_INT(changed, 1);
	CHECK(resolves(worker, "ens_clone.jobs.First"));
	jobreg_registry_free(worker);
}

static void test_ensure_head_of_an_unknown_commit_is_not_found_and_changes_nothing(void)
{
	struct two_commits t;
	jobreg_registry *reg = new_registry();
	jobreg_source *src = two_commit_source(&t, reg, "ens_unknown", jr_tmpdir());
	char head[JOBREG_GIT_HEAD_SIZE] = "";
	uint64_t gen = generation_of(reg);

	CHECK_INT(jobreg_git_ensure_head(NULL, reg, src, "0123456789abcdef0123456789abcdef01234567"),
	          JOBREG_ENOTFOUND);
	CHECK_CONTAINS(jobreg_error_last()->message, "0123456789abcdef");
	CHECK_OK(jobreg_source_git_head(head, src));
	CHECK_STR(head, t.first);
	CHECK_INT(generation_of(reg), gen);
	jobreg_registry_free(reg);
}

static void test_ensure_head_reloads_code_another_process_checked_out(void)
{
	struct two_commits t;
	const char *git_root = jr_tmpdir();
	jobreg_registry *reg = new_registry();
	jobreg_source *src = two_commit_source(&t, reg, "ens_shared", git_root);
	int changed = -1;

	/* Someone else (another process sharing the git root) moved the
	 * checkout: this registry still serves the first commit. */
	GIT_IN(jr_path(git_root, "ens_shared"), "fetch -q '%s' main", t.up);
	GIT_IN(jr_path(git_root, "ens_shared"), "checkout -q --detach %s", t.second);
	CHECK(resolves(reg, "ens_shared.jobs.First"));
	CHECK_OK(jobreg_git_ensure_head(&changed, reg, src, t.second));
	CHECK(resolves(reg, "ens_shared.jobs.Second"));
	jobreg_registry_free(reg);
}

/* ---- loads while another process moves the checkout ---- */

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
	const char *git_root = jr_tmpdir();
	jobreg_registry *reg = new_registry();
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
	jobreg_registry_free(reg);
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
	const char *git_root = jr_tmpdir();
	jobreg_registry *reg = new_registry(), *worker;
	struct finishing_move f = { git_root, &t, -1 };
	pthread_t thread;
	double start, waited;

	two_commit_source(&t, reg, "moved_first", git_root);
	jobreg_registry_free(reg);

	/* A new worker on the same git root has no code yet: it waits for
	 * the move and then imports the commit the mover left. */
	worker = new_registry();
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
	jobreg_registry_free(worker);
}

static void *release_later(void *arg)
{
	usleep(3000000);
	close(*(int *)arg);
	return NULL;
}

static void test_a_move_never_waits_for_another_checkout(void)
{
	const char *git_root = jr_tmpdir();
	char up[4096];
	jobreg_registry *reg = new_registry();
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
	add_git_source(reg, "waiting_b", file_url(make_upstream(jr_tmpdir(), "waiting_b", "Beta")), NULL,
	               git_root);
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
	jobreg_registry_free(reg);
}

/* ---- transports ---- */

/* `<base>/<name>` served by `git daemon`; the URL in `url`. */
static void test_sync_over_git_daemon(void)
{
	const char *base = jr_tmpdir();
	char up[4096], url[256], second[64];
	jobreg_registry *reg = new_registry();
	jobreg_source *src;
	test_server daemon;

	snprintf(up, sizeof(up), "%s", make_upstream(base, "served", "OverDaemon"));
	daemon = start_server("daemon", base, NULL);
	snprintf(url, sizeof(url), "git://127.0.0.1:%d/served", daemon.port);
	src = add_git_source(reg, "daemon_repo", url, NULL, jr_tmpdir());
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	CHECK(resolves(reg, "daemon_repo.jobs.OverDaemon"));
	jr_write(up, "jobs/__init__.py", job_module("Later", "Later"));
	snprintf(second, sizeof(second), "%s", git_commit_all(up, "later"));
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	CHECK(resolves(reg, "daemon_repo.jobs.Later"));
	stop_server(&daemon);
	jobreg_registry_free(reg);
}

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

static int give_token(jobreg_git_credential *out, const char *url, const char *username_from_url,
                      unsigned int allowed_types, void *payload)
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

static int count_progress(const jobreg_git_progress *p, void *payload)
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

static jobreg_source *add_source_with_host(jobreg_registry *reg, const char *slug,
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

static void test_sync_over_http_with_a_token(void)
{
	const char *base = jr_tmpdir(), *git_root = jr_tmpdir();
	char url[256];
	struct host_answers h = { TOKEN, 0, 0, 0, "", 0, 0, 0, 0, 0, 0 };
	jobreg_registry *reg = new_registry();
	jobreg_source *src;
	test_server http;

	make_upstream(base, "private", "Private");
	http = start_server("http", base, TOKEN);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/private", http.port);
	src = add_source_with_host(reg, "http_repo", url, git_root, &h, 1);
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	CHECK(resolves(reg, "http_repo.jobs.Private"));
	CHECK_INT(h.calls, 1);
	CHECK(h.allowed & JOBREG_GIT_CREDENTIAL_USERPASS);
	CHECK_STR(h.url, url);
	CHECK(h.receiving > 0);
	CHECK(h.last_total > 0);
	CHECK(h.checkout > 0);
	/* The token is nowhere on disk. */
	CHECK(!tree_contains(git_root, TOKEN));
	stop_server(&http);
	jobreg_registry_free(reg);
}

static void test_wrong_token_is_a_clear_authentication_error(void)
{
	const char *base = jr_tmpdir(), *git_root = jr_tmpdir();
	char url[256];
	struct host_answers h = { "not-the-token", 0, 0, 0, "", 0, 0, 0, 0, 0, 0 };
	jobreg_registry *reg = new_registry();
	jobreg_source *src;
	test_server http;

	make_upstream(base, "private", "Private");
	http = start_server("http", base, TOKEN);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/private", http.port);
	src = add_source_with_host(reg, "wrong_token", url, git_root, &h, 1);
	CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_EAUTH);
	CHECK_CONTAINS(jobreg_error_last()->message, "authentication failed");
	CHECK_CONTAINS(jobreg_error_last()->message, "refused the credentials");
	CHECK_CONTAINS(jobreg_error_last()->message, url);
	CHECK(!strstr(jobreg_error_last()->message, "not-the-token"));
	CHECK_INT(h.calls, 1); /* asked once, not in a loop */
	CHECK(!path_exists(jr_path(git_root, "wrong_token")));
	CHECK_INT(count_entries(git_root, ".wrong_token.clone"), 0);
	stop_server(&http);
	jobreg_registry_free(reg);
}

static void test_missing_credentials_are_an_authentication_error(void)
{
	const char *base = jr_tmpdir();
	char url[256];
	struct host_answers h = { NULL, 0, 0, 0, "", 0, 0, 0, 0, 0, 0 };
	jobreg_registry *reg = new_registry();
	jobreg_source *none, *declined, *failing;
	test_server http;

	make_upstream(base, "private", "Private");
	http = start_server("http", base, TOKEN);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/private", http.port);
	none = add_source_with_host(reg, "no_callback", url, jr_tmpdir(), &h, 0);
	CHECK_INT(jobreg_git_sync(NULL, reg, none, NULL), JOBREG_EAUTH);
	CHECK_CONTAINS(jobreg_error_last()->message, "none were given");
	declined = add_source_with_host(reg, "declined", url, jr_tmpdir(), &h, 1);
	CHECK_INT(jobreg_git_sync(NULL, reg, declined, NULL), JOBREG_EAUTH);
	CHECK_INT(h.calls, 1);
	h.negative = JOBREG_ESTORAGE;
	failing = add_source_with_host(reg, "failing_host", url, jr_tmpdir(), &h, 1);
	CHECK_INT(jobreg_git_sync(NULL, reg, failing, NULL), JOBREG_ESTORAGE);
	CHECK_CONTAINS(jobreg_error_last()->message, "credentials callback failed");
	stop_server(&http);
	jobreg_registry_free(reg);
}

static void test_token_in_the_url_works_and_is_redacted_everywhere(void)
{
	const char *base = jr_tmpdir(), *git_root = jr_tmpdir();
	char url[256], redacted[256], bad_url[256];
	jobreg_registry *reg = new_registry();
	jobreg_source *src, *bad;
	test_server http;

	make_upstream(base, "private", "Private");
	http = start_server("http", base, TOKEN);
	snprintf(url, sizeof(url), "http://deploy:" TOKEN "@127.0.0.1:%d/private", http.port);
	snprintf(redacted, sizeof(redacted), "http://***@127.0.0.1:%d/private", http.port);
	src = add_git_source(reg, "url_token", url, NULL, git_root);
	CHECK_STR(jobreg_source_git_remote_url(src), redacted);
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	CHECK(resolves(reg, "url_token.jobs.Private"));
	CHECK(!tree_contains(git_root, TOKEN));

	snprintf(bad_url, sizeof(bad_url), "http://deploy:wrong-secret-99@127.0.0.1:%d/private",
	         http.port);
	bad = add_git_source(reg, "url_bad_token", bad_url, NULL, jr_tmpdir());
	CHECK_INT(jobreg_git_sync(NULL, reg, bad, NULL), JOBREG_EAUTH);
	CHECK_CONTAINS(jobreg_error_last()->message, "***@127.0.0.1");
	CHECK(!strstr(jobreg_error_last()->message, "wrong-secret-99"));
	stop_server(&http);
	jobreg_registry_free(reg);
}

static void test_unreachable_server_error_is_redacted(void)
{
	jobreg_registry *reg = new_registry();
	jobreg_source *src;
	test_server http;
	char url[256];

	/* A port that was just free: nothing listens there any more. */
	http = start_server("http", jr_tmpdir(), TOKEN);
	snprintf(url, sizeof(url), "http://me:" TOKEN "@127.0.0.1:%d/x", http.port);
	stop_server(&http);
	src = add_git_source(reg, "unreachable", url, NULL, jr_tmpdir());
	CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_EGIT);
	CHECK_CONTAINS(jobreg_error_last()->message, "***@127.0.0.1");
	CHECK(!strstr(jobreg_error_last()->message, TOKEN));
	jobreg_registry_free(reg);
}

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
	reg = new_registry();
	src = add_git_source(reg, "dropped", url, NULL, s.git_root);
	CHECK_OK(jobreg_registry_load(reg));
	gen = generation_of(reg);
	CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_EGIT);
	CHECK_CONTAINS(jobreg_error_last()->message, "fetching git://127.0.0.1");
	expect_unchanged(&s, reg, src, "dropped", gen);
	stop_server(&drop);
	stop_server(&daemon);
	jobreg_registry_free(reg);
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
	reg = new_registry();
	src = add_source_with_host(reg, "cancelled", url, s.git_root, &h, 0);
	CHECK_OK(jobreg_registry_load(reg));
	gen = generation_of(reg);
	CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_EGIT);
	CHECK_CONTAINS(jobreg_error_last()->message, "cancelled");
	CHECK_INT(h.progress_calls, 1);
	expect_unchanged(&s, reg, src, "cancelled", gen);
	stop_server(&daemon);
	jobreg_registry_free(reg);
}

static void test_first_fetch_that_fails_leaves_nothing_behind(void)
{
	const char *git_root = jr_path(jr_tmpdir(), "fresh");
	jobreg_registry *reg = new_registry();
	jobreg_source *src = add_git_source(reg, "nowhere", "file:///nonexistent/repo", NULL, git_root);
	char head[JOBREG_GIT_HEAD_SIZE];

	CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_EGIT);
	CHECK_CONTAINS(jobreg_error_last()->message, "/nonexistent/repo");
	CHECK_INT(jobreg_source_git_head(head, src), JOBREG_ENOTFOUND);
	CHECK(!path_exists(jr_path(git_root, "nowhere")));
	CHECK_INT(count_entries(git_root, ".nowhere.clone"), 0);
	jobreg_registry_free(reg);
}

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
	jobreg_registry *reg = new_registry();
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
	jobreg_registry_free(reg);
}

static void test_leftovers_of_a_dead_process_are_removed(void)
{
	const char *git_root = jr_tmpdir();
	char up[4096], leftover[4200];
	jobreg_registry *reg = new_registry();
	jobreg_source *src;

	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "left", "Left"));
	snprintf(leftover, sizeof(leftover), "%.4000s/.left_repo.clone-abc123", git_root);
	jr_write(leftover, ".git/HEAD", "ref: refs/heads/main\n");
	jr_write(git_root, ".left_repo_other.clone-abc123/keep", "not ours\n");
	src = add_git_source(reg, "left_repo", file_url(up), NULL, git_root);
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	CHECK(!path_exists(leftover));
	CHECK(path_exists(jr_path(git_root, ".left_repo_other.clone-abc123/keep")));
	jobreg_registry_free(reg);
}

static void test_sync_result_of_version_zero_is_refused(void)
{
	jobreg_git_sync_result result = JOBREG_GIT_SYNC_RESULT_INIT;
	jobreg_registry *reg = new_registry();
	jobreg_source *src = add_git_source(reg, "versioned", "file:///nonexistent", NULL, jr_tmpdir());

	result.version = 0;
	CHECK_INT(jobreg_git_sync(&result, reg, src, NULL), JOBREG_EVERSION);
	jobreg_registry_free(reg);
}

/* ---- records and stored git state ---- */

/* The stored current_head of `slug` ("" when none), in a static buffer. */
static const char *stored_head(jobreg_storage *st, const char *slug)
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
static int installed_of(jobreg_storage *st, const char *class_path)
{
	jobreg_record *rec = NULL;
	int installed;

	if (jobreg_storage_get(&rec, st, class_path) < 0)
		return -1;
	installed = jobreg_record_bool(rec, JOBREG_FIELD_INSTALLED);
	jobreg_record_free(rec);
	return installed;
}

static size_t record_count(jobreg_storage *st, jobreg_installed_filter which)
{
	jobreg_record_list *list = NULL;
	size_t n;

	CHECK_OK(jobreg_storage_list(&list, st, which));
	n = jobreg_record_list_count(list);
	jobreg_record_list_free(list);
	return n;
}

static void test_sync_with_storage_refreshes_records_and_stores_the_head(void)
{
	char up[4096], first[64], second[64];
	jobreg_git_sync_result result = JOBREG_GIT_SYNC_RESULT_INIT;
	jobreg_registry *reg = new_registry();
	jobreg_storage *st = NULL;
	jobreg_record *rec = NULL;
	jobreg_source *src;
	char *url = NULL, *branch = NULL;

	CHECK_OK(jobreg_storage_memory_new(&st));
	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "rec", "Recorded"));
	snprintf(first, sizeof(first), "%s", git_rev(up, "HEAD"));
	src = add_git_source(reg, "rec_repo", file_url(up), NULL, jr_tmpdir());
	CHECK_OK(jobreg_git_sync(&result, reg, src, st));
	CHECK(result.refresh != NULL);
	CHECK_INT(jobreg_refresh_result_created_count(result.refresh), 1);
	jobreg_refresh_result_free(result.refresh);
	CHECK_STR(stored_head(st, "rec_repo"), first);
	CHECK_OK(jobreg_storage_git_state_get(&url, &branch, NULL, st, "rec_repo"));
	CHECK_STR(url, file_url(up));
	CHECK_STR(branch, "main");
	jobreg_free(url);
	jobreg_free(branch);
	CHECK_OK(jobreg_storage_get(&rec, st, "rec_repo.jobs.Recorded"));
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_INSTALLED), 1);
	CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_ENABLED), 0);
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_SOURCE_TYPE), "git");
	CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_SOURCE), "rec_repo");
	jobreg_record_free(rec);

	jr_write(up, "jobs/__init__.py", job_module("Successor", "Successor"));
	snprintf(second, sizeof(second), "%s", git_commit_all(up, "successor"));
	result.refresh = NULL;
	CHECK_OK(jobreg_git_sync(&result, reg, src, st));
	CHECK_STR(stored_head(st, "rec_repo"), second);
	CHECK_INT(installed_of(st, "rec_repo.jobs.Successor"), 1);
	CHECK_INT(installed_of(st, "rec_repo.jobs.Recorded"), 0);
	CHECK_INT(jobreg_refresh_result_uninstalled_count(result.refresh), 1);
	jobreg_refresh_result_free(result.refresh);
	/* Nothing new: nothing written. */
	result.refresh = NULL;
	CHECK_OK(jobreg_git_sync(&result, reg, src, st));
	CHECK_INT(jobreg_refresh_result_writes(result.refresh), 0);
	jobreg_refresh_result_free(result.refresh);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

static void test_refused_commit_leaves_records_and_stored_head_as_they_were(void)
{
	char up[4096], first[64];
	jobreg_registry *reg = new_registry();
	jobreg_storage *st = NULL;
	jobreg_source *src;

	CHECK_OK(jobreg_storage_memory_new(&st));
	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "refrec", "Kept"));
	snprintf(first, sizeof(first), "%s", git_rev(up, "HEAD"));
	src = add_git_source(reg, "refrec_repo", file_url(up), NULL, jr_tmpdir());
	CHECK_OK(jobreg_git_sync(NULL, reg, src, st));
	jr_write(up, "jobs/__init__.py", "class Broken(\n");
	git_commit_all(up, "broken");
	CHECK_INT(jobreg_git_sync(NULL, reg, src, st), JOBREG_ELOAD);
	CHECK_STR(stored_head(st, "refrec_repo"), first);
	CHECK_INT(installed_of(st, "refrec_repo.jobs.Kept"), 1);
	CHECK_INT(record_count(st, JOBREG_INSTALLED_ALL), 1);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
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
		JOBREG_STORAGE_BACKEND_VERSION, flaky_begin, flaky_commit, flaky_rollback, flaky_read,
		flaky_write, flaky_delete, flaky_state_read, flaky_state_write, flaky_free,
	};
	struct flaky f;
	char up[4096], first[64], head[JOBREG_GIT_HEAD_SIZE] = "";
	const char *git_root = jr_tmpdir();
	jobreg_registry *reg = new_registry();
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
	jobreg_registry_free(reg);
}

static void test_token_never_reaches_the_database(void)
{
	const char *base = jr_tmpdir(), *dbdir = jr_tmpdir();
	char url[256], db[4200];
	jobreg_registry *reg = new_registry();
	jobreg_storage *st = NULL;
	jobreg_source *src;
	test_server http;
	char *stored = NULL;

	snprintf(db, sizeof(db), "%.4000s/jobreg.db", dbdir);
	CHECK_OK(jobreg_storage_sqlite_open(&st, db, NULL));
	make_upstream(base, "private", "Private");
	http = start_server("http", base, TOKEN);
	snprintf(url, sizeof(url), "http://deploy:" TOKEN "@127.0.0.1:%d/private", http.port);
	src = add_git_source(reg, "db_token", url, NULL, jr_tmpdir());
	CHECK_OK(jobreg_git_sync(NULL, reg, src, st));
	CHECK_OK(jobreg_storage_git_state_get(&stored, NULL, NULL, st, "db_token"));
	CHECK_CONTAINS(stored, "***@127.0.0.1");
	jobreg_free(stored);
	jobreg_storage_free(st);
	CHECK(!tree_contains(dbdir, TOKEN));
	stop_server(&http);
	jobreg_registry_free(reg);
}

static void test_worker_ensures_the_recorded_head(void)
{
	char up[4096], first[64], git_root[4096];
	jobreg_registry *reg = new_registry();
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
	jobreg_registry_free(reg);
	/* Upstream moves on, but the recorded head stays the synced one. */
	jr_write(up, "jobs/__init__.py", job_module("Unsynced", "Unsynced"));
	git_commit_all(up, "not synced");

	/* A worker with its own checkout folder. */
	snprintf(git_root, sizeof(git_root), "%s", jr_tmpdir());
	reg = new_registry();
	src = add_git_source(reg, "work_repo", file_url(up), NULL, git_root);
	CHECK_OK(jobreg_git_ensure_recorded_head(&changed, reg, src, st));
	CHECK_INT(changed, 1);
	CHECK(resolves(reg, "work_repo.jobs.Recorded"));
	gen = generation_of(reg);
	CHECK_OK(jobreg_git_ensure_recorded_head(&changed, reg, src, st));
	CHECK_INT(changed, 0);
	CHECK_INT(generation_of(reg), gen);
	jobreg_registry_free(reg);
	jobreg_storage_free(st);
}

static void test_record_head_stores_the_checkout_head(void)
{
	char up[4096];
	jobreg_registry *reg = new_registry();
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
	jobreg_registry_free(reg);
}

/* One slug, then another, over the same repository and records. */
static void sync_under_slug(jobreg_storage *st, const char *up, const char *slug)
{
	jobreg_registry *reg = new_registry();
	jobreg_source *src = add_git_source(reg, slug, file_url(up), NULL, jr_tmpdir());
	jobreg_snapshot *snap = NULL;
	jobreg_refresh_result *res = NULL;

	CHECK_OK(jobreg_git_sync(NULL, reg, src, st));
	/* What a host's sync does next: refresh everything it loaded. */
	CHECK_OK(jobreg_registry_snapshot(&snap, reg));
	CHECK_OK(jobreg_refresh(&res, st, snap, NULL));
	jobreg_refresh_result_free(res);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_slug_change_leaves_uninstalled_duplicates(void)
{
	char up[4096];
	jobreg_storage *st = NULL;

	CHECK_OK(jobreg_storage_memory_new(&st));
	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "renamed", "Renamed"));
	sync_under_slug(st, up, "old_slug");
	sync_under_slug(st, up, "new_slug");
	CHECK_INT(installed_of(st, "old_slug.jobs.Renamed"), 0);
	CHECK_INT(installed_of(st, "new_slug.jobs.Renamed"), 1);
	CHECK_INT(record_count(st, JOBREG_INSTALLED_NO), 1);
	CHECK_INT(record_count(st, JOBREG_INSTALLED_ALL), 2);
	jobreg_storage_free(st);
}

static void test_migrate_source_avoids_duplicates_after_a_slug_change(void)
{
	char up[4096], id[64];
	jobreg_storage *st = NULL;
	jobreg_record *rec = NULL;
	size_t migrated = 0;

	CHECK_OK(jobreg_storage_memory_new(&st));
	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "migrated", "Migrated"));
	sync_under_slug(st, up, "before_slug");
	CHECK_OK(jobreg_storage_get(&rec, st, "before_slug.jobs.Migrated"));
	snprintf(id, sizeof(id), "%s", rec ? jobreg_record_text(rec, JOBREG_FIELD_ID) : "");
	jobreg_record_free(rec);
	rec = NULL;
	CHECK_OK(jobreg_storage_set_enabled(st, id, 1));
	CHECK_OK(jobreg_storage_migrate_source(&migrated, st, "before_slug", "after_slug"));
	CHECK_INT(migrated, 1);
	sync_under_slug(st, up, "after_slug");
	CHECK_INT(record_count(st, JOBREG_INSTALLED_ALL), 1);
	CHECK_INT(record_count(st, JOBREG_INSTALLED_NO), 0);
	CHECK_OK(jobreg_storage_get(&rec, st, "after_slug.jobs.Migrated"));
	CHECK_STR(rec ? jobreg_record_text(rec, JOBREG_FIELD_ID) : "", id);
	CHECK_INT(rec ? jobreg_record_bool(rec, JOBREG_FIELD_ENABLED) : -1, 1);
	CHECK_INT(rec ? jobreg_record_bool(rec, JOBREG_FIELD_INSTALLED) : -1, 1);
	jobreg_record_free(rec);
	jobreg_storage_free(st);
}

static const struct jr_test tests[] = {
	{ "sync_moves_to_the_new_tip_and_reloads_only_that_source", test_sync_moves_to_the_new_tip_and_reloads_only_that_source },
	{ "sync_with_nothing_new_imports_nothing", test_sync_with_nothing_new_imports_nothing },
	{ "commit_breaking_jobs_init_is_refused_and_old_code_keeps_serving", test_commit_breaking_jobs_init_is_refused_and_old_code_keeps_serving },
	{ "commit_with_syntax_error_in_package_init_is_refused", test_commit_with_syntax_error_in_package_init_is_refused },
	{ "commit_calling_sys_exit_in_jobs_is_refused", test_commit_calling_sys_exit_in_jobs_is_refused },
	{ "a_bad_meta_value_is_a_load_error_not_a_refusal", test_a_bad_meta_value_is_a_load_error_not_a_refusal },
	{ "ensure_head_at_the_current_commit_does_no_network_and_no_import", test_ensure_head_at_the_current_commit_does_no_network_and_no_import },
	{ "ensure_head_moves_to_a_known_commit_without_network", test_ensure_head_moves_to_a_known_commit_without_network },
	{ "ensure_head_fetches_a_missing_commit", test_ensure_head_fetches_a_missing_commit },
	{ "ensure_head_clones_when_there_is_no_checkout", test_ensure_head_clones_when_there_is_no_checkout },
	{ "ensure_head_of_an_unknown_commit_is_not_found_and_changes_nothing", test_ensure_head_of_an_unknown_commit_is_not_found_and_changes_nothing },
	{ "ensure_head_reloads_code_another_process_checked_out", test_ensure_head_reloads_code_another_process_checked_out },
	{ "loads_keep_their_code_while_another_process_moves_the_checkout", test_loads_keep_their_code_while_another_process_moves_the_checkout },
	{ "a_first_load_waits_for_a_move_in_another_process", test_a_first_load_waits_for_a_move_in_another_process },
	{ "a_move_never_waits_for_another_checkout", test_a_move_never_waits_for_another_checkout },
	{ "sync_over_git_daemon", test_sync_over_git_daemon },
	{ "sync_over_http_with_a_token", test_sync_over_http_with_a_token },
	{ "wrong_token_is_a_clear_authentication_error", test_wrong_token_is_a_clear_authentication_error },
	{ "missing_credentials_are_an_authentication_error", test_missing_credentials_are_an_authentication_error },
	{ "token_in_the_url_works_and_is_redacted_everywhere", test_token_in_the_url_works_and_is_redacted_everywhere },
	{ "unreachable_server_error_is_redacted", test_unreachable_server_error_is_redacted },
	{ "connection_dropped_mid_fetch_leaves_everything_as_it_was", test_connection_dropped_mid_fetch_leaves_everything_as_it_was },
	{ "cancel_from_the_progress_callback_changes_nothing", test_cancel_from_the_progress_callback_changes_nothing },
	{ "first_fetch_that_fails_leaves_nothing_behind", test_first_fetch_that_fails_leaves_nothing_behind },
	{ "sync_result_of_version_zero_is_refused", test_sync_result_of_version_zero_is_refused },
	{ "leftovers_of_a_dead_process_are_removed", test_leftovers_of_a_dead_process_are_removed },
	{ "concurrent_readers_see_old_or_new_code_never_a_mix", test_concurrent_readers_see_old_or_new_code_never_a_mix },
	{ "sync_with_storage_refreshes_records_and_stores_the_head", test_sync_with_storage_refreshes_records_and_stores_the_head },
	{ "refused_commit_leaves_records_and_stored_head_as_they_were", test_refused_commit_leaves_records_and_stored_head_as_they_were },
	{ "storage_failure_during_sync_undoes_the_move", test_storage_failure_during_sync_undoes_the_move },
	{ "token_never_reaches_the_database", test_token_never_reaches_the_database },
	{ "worker_ensures_the_recorded_head", test_worker_ensures_the_recorded_head },
	{ "record_head_stores_the_checkout_head", test_record_head_stores_the_checkout_head },
	{ "slug_change_leaves_uninstalled_duplicates", test_slug_change_leaves_uninstalled_duplicates },
	{ "migrate_source_avoids_duplicates_after_a_slug_change", test_migrate_source_avoids_duplicates_after_a_slug_change },
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
