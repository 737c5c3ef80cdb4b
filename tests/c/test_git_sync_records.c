/*
 * test_git_sync_records.c: a git sync with a storage (SPEC 1.2 and 4):
 * records refreshed and the head stored in one transaction, nothing
 * stored for a refused commit, no token in the database, and what a slug
 * change does to records (and how jobreg_storage_migrate_source() avoids
 * it); a head whose code fails is never recorded, and a sync goes back to
 * the recorded head, not to whatever HEAD it finds.
 */
#include "../git/git_sync_fixture.h"

static void test_sync_with_storage_refreshes_records_and_stores_the_head(void)
{
	char up[4096], first[64], second[64];
	jobreg_git_sync_result result = JOBREG_GIT_SYNC_RESULT_INIT;
	jobreg_registry *reg = fx.reg;
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
}

static void test_refused_commit_leaves_records_and_stored_head_as_they_were(void)
{
	char up[4096], first[64];
	jobreg_registry *reg = fx.reg;
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
}

static void test_token_never_reaches_the_database(void)
{
	const char *base = jr_tmpdir(), *dbdir = jr_tmpdir();
	char url[256], db[4200];
	jobreg_registry *reg = fx.reg;
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
}

/* ---- changing a source's slug ---- */

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

/* `broken` upstream, and the checkout left on it: what a process of an
 * older release that died with a commit under trial left behind. */
static const char *leave_checkout_on_broken(const char *up, const char *slug)
{
	static char broken[64];
	char checkout[4200];

	snprintf(checkout, sizeof(checkout), "%s/%s", fx.git_root, slug);
	jr_write(up, "jobs/__init__.py", "raise RuntimeError('jobs are broken')\n");
	snprintf(broken, sizeof(broken), "%s", git_commit_all(up, "broken"));
	GIT_IN(checkout, "fetch -q '%s' main", up);
	GIT_IN(checkout, "checkout -q --detach %s", broken);
	return broken;
}

static void test_record_head_never_records_a_commit_that_fails_to_load(void)
{
	char up[4096], first[64];
	jobreg_storage *st = NULL;
	jobreg_registry *reg;
	jobreg_source *src;

	CHECK_OK(jobreg_storage_memory_new(&st));
	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "norec", "Good"));
	snprintf(first, sizeof(first), "%s", git_rev(up, "HEAD"));
	src = add_git_source(fx.reg, "norec_repo", file_url(up), NULL, fx.git_root);
	CHECK_OK(jobreg_git_sync(NULL, fx.reg, src, NULL));
	CHECK_OK(jobreg_git_record_head(st, src));
	CHECK_STR(stored_head(st, "norec_repo"), first);
	leave_checkout_on_broken(up, "norec_repo");

	/* What `jobreg sync` does: sync without a storage, load, record. */
	reg = fx_new_registry();
	src = add_git_source(reg, "norec_repo", file_url(up), NULL, fx.git_root);
	CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_ELOAD);
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_INT(jobreg_git_record_head(st, src), JOBREG_ELOAD);
	CHECK_CONTAINS(jobreg_error_last()->message, "is not recorded: its code fails to load");
	CHECK_STR(stored_head(st, "norec_repo"), first);

	/* `jobreg sync --offline`: no move, a load of the checkout as it is. */
	reg = fx_new_registry();
	src = add_git_source(reg, "norec_repo", file_url(up), NULL, fx.git_root);
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_INT(jobreg_git_record_head(st, src), JOBREG_ELOAD);
	CHECK_STR(stored_head(st, "norec_repo"), first);
	jobreg_storage_free(st);
}

static void test_sync_with_storage_goes_back_to_the_recorded_head(void)
{
	char up[4096], first[64], want[64];
	jobreg_git_sync_result result = JOBREG_GIT_SYNC_RESULT_INIT;
	char head[JOBREG_GIT_HEAD_SIZE] = "";
	jobreg_storage *st = NULL;
	jobreg_registry *reg;
	jobreg_source *src;
	const char *broken;

	CHECK_OK(jobreg_storage_memory_new(&st));
	snprintf(up, sizeof(up), "%s", make_upstream(jr_tmpdir(), "back", "Good"));
	snprintf(first, sizeof(first), "%s", git_rev(up, "HEAD"));
	src = add_git_source(fx.reg, "back_repo", file_url(up), NULL, fx.git_root);
	CHECK_OK(jobreg_git_sync(NULL, fx.reg, src, st));
	CHECK_STR(stored_head(st, "back_repo"), first);
	broken = leave_checkout_on_broken(up, "back_repo");

	/* The branch's tip is the broken commit the checkout is on: refused,
	 * and the checkout goes back to the recorded head, not to HEAD. */
	reg = fx_new_registry();
	src = add_git_source(reg, "back_repo", file_url(up), NULL, fx.git_root);
	CHECK_INT(jobreg_git_sync(&result, reg, src, st), JOBREG_ELOAD);
	snprintf(want, sizeof(want), "stays at %.12s", first);
	CHECK_CONTAINS(jobreg_error_last()->message, want);
	CHECK_OK(jobreg_source_git_head(head, src));
	CHECK_STR(head, first);
	CHECK(resolves(reg, "back_repo.jobs.Good"));
	CHECK_STR(stored_head(st, "back_repo"), first);
	CHECK_INT(installed_of(st, "back_repo.jobs.Good"), 1);
	CHECK_OK(jobreg_git_record_head(st, src));
	CHECK_STR(stored_head(st, "back_repo"), first);

	/* Fixed upstream: the next sync moves on from the recorded head. */
	jr_write(up, "jobs/__init__.py", job_module("Fixed", "Fixed"));
	git_commit_all(up, "fixed");
	CHECK_OK(jobreg_git_sync(&result, reg, src, st));
	CHECK_STR(result.old_head, first);
	CHECK_INT(result.changed, 1);
	CHECK_INT(installed_of(st, "back_repo.jobs.Fixed"), 1);
	CHECK_INT(installed_of(st, "back_repo.jobs.Good"), 0);
	CHECK(strcmp(stored_head(st, "back_repo"), broken) != 0);
	CHECK_STR(stored_head(st, "back_repo"), git_rev(up, "HEAD"));
	jobreg_refresh_result_free(result.refresh);
	jobreg_storage_free(st);
}

static const struct jr_test tests[] = {
	JR_TEST(sync_with_storage_refreshes_records_and_stores_the_head),
	JR_TEST(refused_commit_leaves_records_and_stored_head_as_they_were),
	JR_TEST(token_never_reaches_the_database),
	JR_TEST(slug_change_leaves_uninstalled_duplicates),
	JR_TEST(migrate_source_avoids_duplicates_after_a_slug_change),
	JR_TEST(record_head_never_records_a_commit_that_fails_to_load),
	JR_TEST(sync_with_storage_goes_back_to_the_recorded_head),
};

JR_SUITE_MAIN_WITH_LIBRARY(tests, git_sync_setup, git_sync_teardown)
