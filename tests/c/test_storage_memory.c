/*
 * test_storage_memory.c: the in-memory backend: it keeps what it is given,
 * rolls back exactly (its test hook JOBREG_TEST_MEMORY_FAIL_WRITE fails the
 * Nth write of a transaction), keeps git state, and serves many threads.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>

#include "loadutil.h"
#include "records_fixture.h"

/* A jobs root with `count` jobs J0..J<count-1> in module `module`, named
 * "<prefix> <i>", and a snapshot of it. */
static jobreg_snapshot *jobs_snapshot(jobreg_registry **reg, const char *dir, const char *module,
                                      int count, const char *prefix)
{
	char text[65536], path[256];
	size_t len;
	int i;

	len = (size_t)snprintf(text, sizeof(text), "from jobreg.jobs import Job, register_jobs\n\n");
	for (i = 0; i < count; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		                        "class J%d(Job):\n    class Meta:\n        name = '%s %d'\n\n", i,
		                        prefix, i);
	len += (size_t)snprintf(text + len, sizeof(text) - len, "register_jobs(");
	for (i = 0; i < count; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%sJ%d", i ? ", " : "", i);
	snprintf(text + len, sizeof(text) - len, ")\n");
	snprintf(path, sizeof(path), "%s.py", module);
	jr_write(dir, path, text);
	if (!*reg)
		*reg = load_jobs_root(dir);
	else
		CHECK_OK(jobreg_registry_load(*reg));
	return take_snapshot(*reg);
}

static jobreg_storage *memory(void)
{
	jobreg_storage *st = NULL;
	CHECK_OK(jobreg_storage_memory_new(&st));
	return st;
}

static const char *path_of(const char *module, int i)
{
	static char buf[4][128];
	static int next;
	char *b = buf[next++ % 4];
	snprintf(b, 128, "%s.J%d", module, i);
	return b;
}

static void test_memory_storage_starts_empty(void)
{
	jobreg_storage *st = memory();
	jobreg_record *rec = NULL;

	CHECK_INT(count_records(st, JOBREG_INSTALLED_ALL), 0);
	CHECK_INT(jobreg_storage_get(&rec, st, "x.Y"), JOBREG_ENOTFOUND);
	CHECK_INT(jobreg_storage_memory_new(NULL), JOBREG_EINVAL);
	jobreg_storage_free(st);
	jobreg_storage_free(NULL);
}

static void test_memory_storage_keeps_records_through_inserts_and_deletes(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_storage *st = memory();
	char ids[60][40];
	int i;

	snap = jobs_snapshot(&reg, dir, "mk_jobs", 60, "Job");
	CHECK_OK(jobreg_refresh(NULL, st, snap, NULL));
	jobreg_snapshot_free(snap);
	for (i = 0; i < 60; i++)
		snprintf(ids[i], sizeof(ids[i]), "%s", text_of(st, path_of("mk_jobs", i), JOBREG_FIELD_ID));

	/* Uninstall the 30 last, delete every other one of them. */
	snap = jobs_snapshot(&reg, dir, "mk_jobs", 30, "Job");
	CHECK_OK(jobreg_refresh(NULL, st, snap, NULL));
	for (i = 30; i < 60; i += 2)
		CHECK_OK(jobreg_storage_delete(st, ids[i], 0));
	CHECK_INT(count_records(st, JOBREG_INSTALLED_ALL), 45);
	for (i = 0; i < 60; i++) {
		jobreg_record *rec = NULL;
		int rc = jobreg_storage_get(&rec, st, ids[i]);
		if (i >= 30 && i % 2 == 0) {
			CHECK_INT(rc, JOBREG_ENOTFOUND);
		} else {
			CHECK_OK(rc);
			if (rec)
				CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_CLASS_PATH), path_of("mk_jobs", i));
		}
		jobreg_record_free(rec);
	}
	jobreg_snapshot_free(snap);

	/* All back: the kept ones keep their ids, the deleted ones are new. */
	snap = jobs_snapshot(&reg, dir, "mk_jobs", 60, "Job");
	CHECK_OK(jobreg_refresh(NULL, st, snap, NULL));
	CHECK_INT(count_records(st, JOBREG_INSTALLED_YES), 60);
	CHECK_STR(text_of(st, path_of("mk_jobs", 31), JOBREG_FIELD_ID), ids[31]);
	CHECK(strcmp(text_of(st, path_of("mk_jobs", 30), JOBREG_FIELD_ID), ids[30]) != 0);
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

static void test_memory_rollback_restores_every_record_exactly(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *first, *second;
	jobreg_storage *st = memory();
	jobreg_refresh_result *res = NULL;
	char *before, *after, value[16];
	int n, writes;

	first = jobs_snapshot(&reg, dir, "rb_jobs", 6, "First");
	CHECK_OK(jobreg_refresh(NULL, st, first, NULL));
	CHECK_OK(jobreg_storage_set_enabled(st, text_of(st, "rb_jobs.J1", JOBREG_FIELD_ID), 1));
	second = jobs_snapshot(&reg, dir, "rb_jobs", 4, "Second");
	/* Two records deleted, so that a rollback must bring deleted ones back. */
	CHECK_OK(jobreg_refresh(NULL, st, second, NULL));
	CHECK_OK(jobreg_storage_delete(st, text_of(st, "rb_jobs.J4", JOBREG_FIELD_ID), 0));
	CHECK_OK(jobreg_storage_delete(st, text_of(st, "rb_jobs.J5", JOBREG_FIELD_ID), 0));
	before = dump_storage(st, 1);

	/* Refreshing to `first` writes 6 records: fail each in turn. */
	for (n = 1; n <= 6; n++) {
		snprintf(value, sizeof(value), "%d", n);
		setenv("JOBREG_TEST_MEMORY_FAIL_WRITE", value, 1);
		CHECK_INT(jobreg_refresh(&res, st, first, NULL), JOBREG_ESTORAGE);
		CHECK_CONTAINS(jobreg_error_last()->message, "fails");
		unsetenv("JOBREG_TEST_MEMORY_FAIL_WRITE");
		after = dump_storage(st, 1);
		CHECK_STR(after, before);
		free(after);
	}
	CHECK_OK(jobreg_refresh(&res, st, first, NULL));
	writes = (int)jobreg_refresh_result_writes(res);
	CHECK_INT(writes, 6);
	jobreg_refresh_result_free(res);
	after = dump_storage(st, 1);
	CHECK(strcmp(after, before) != 0);
	free(after);
	free(before);

	/* A failing delete keeps the record (J5, uninstalled again). */
	jobreg_snapshot_free(second);
	second = jobs_snapshot(&reg, dir, "rb_jobs", 5, "First");
	CHECK_OK(jobreg_refresh(NULL, st, second, NULL));
	before = dump_storage(st, 1);
	setenv("JOBREG_TEST_MEMORY_FAIL_WRITE", "1", 1);
	CHECK_INT(jobreg_storage_delete(st, text_of(st, "rb_jobs.J5", JOBREG_FIELD_ID), 0),
	          JOBREG_ESTORAGE);
	unsetenv("JOBREG_TEST_MEMORY_FAIL_WRITE");
	after = dump_storage(st, 1);
	CHECK_STR(after, before);
	CHECK_INT(count_records(st, JOBREG_INSTALLED_NO), 1);
	free(after);
	free(before);

	jobreg_snapshot_free(first);
	jobreg_snapshot_free(second);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

static void test_memory_git_state_is_kept_redacted(void)
{
	jobreg_storage *st = memory();
	char *url = NULL, *branch = NULL, *head = NULL;

	CHECK_INT(jobreg_storage_git_state_get(&url, &branch, &head, st, "repo"), JOBREG_ENOTFOUND);
	CHECK_CONTAINS(jobreg_error_last()->message, "\"repo\"");
	CHECK_OK(jobreg_storage_git_state_set(st, "repo",
	                                      "https://user:s3cret@example.invalid/repo.git", "main",
	                                      "0123abcd"));
	CHECK_OK(jobreg_storage_git_state_get(&url, &branch, &head, st, "repo"));
	CHECK(url && !strstr(url, "s3cret"));
	CHECK_CONTAINS(url, "example.invalid/repo.git");
	CHECK_STR(branch, "main");
	CHECK_STR(head, "0123abcd");
	jobreg_free(url);
	jobreg_free(branch);
	jobreg_free(head);
	CHECK_OK(jobreg_storage_git_state_set(st, "repo", "https://example.invalid/repo.git", "dev",
	                                      "ffff"));
	CHECK_OK(jobreg_storage_git_state_get(NULL, NULL, &head, st, "repo"));
	CHECK_STR(head, "ffff");
	jobreg_free(head);
	CHECK_INT(jobreg_storage_git_state_set(st, "repo", NULL, "dev", "ffff"), JOBREG_EINVAL);
	jobreg_storage_free(st);
}

struct toggler {
	jobreg_storage *st;
	char id[40];
	int rounds, failures;
};

static void *toggle(void *arg)
{
	struct toggler *t = arg;
	int i;

	for (i = 0; i < t->rounds; i++)
		if (jobreg_storage_set_enabled(t->st, t->id, i % 2) < 0)
			t->failures++;
	return NULL;
}

static void test_memory_storage_serves_many_threads(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg = NULL;
	jobreg_snapshot *snap;
	jobreg_storage *st = memory();
	struct toggler t[4];
	pthread_t threads[4];
	int i;

	snap = jobs_snapshot(&reg, dir, "th_jobs", 4, "Thread");
	CHECK_OK(jobreg_refresh(NULL, st, snap, NULL));
	for (i = 0; i < 4; i++) {
		t[i].st = st;
		snprintf(t[i].id, sizeof(t[i].id), "%s",
		         text_of(st, path_of("th_jobs", i), JOBREG_FIELD_ID));
		t[i].rounds = 201 + i; /* odd counts end enabled, even ones disabled */
		t[i].failures = 0;
	}
	for (i = 0; i < 4; i++)
		pthread_create(&threads[i], NULL, toggle, &t[i]);
	for (i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
	for (i = 0; i < 4; i++) {
		CHECK_INT(t[i].failures, 0);
		CHECK_INT(bool_of(st, path_of("th_jobs", i), JOBREG_FIELD_ENABLED), (t[i].rounds - 1) % 2);
	}
	jobreg_snapshot_free(snap);
	jobreg_storage_free(st);
	jobreg_registry_free(reg);
}

static const struct jr_test tests[] = {
	{ "test_memory_storage_starts_empty", test_memory_storage_starts_empty },
	{ "test_memory_storage_keeps_records_through_inserts_and_deletes",
	  test_memory_storage_keeps_records_through_inserts_and_deletes },
	{ "test_memory_rollback_restores_every_record_exactly",
	  test_memory_rollback_restores_every_record_exactly },
	{ "test_memory_git_state_is_kept_redacted", test_memory_git_state_is_kept_redacted },
	{ "test_memory_storage_serves_many_threads", test_memory_storage_serves_many_threads },
};

JR_TEST_MAIN_WITH_LIBRARY(tests)
