/*
 * test_storage_reentrant.c: a storage backend callback that calls back into
 * its own storage handle gets JOBREG_ESTATE, never a deadlock (issue 14).
 * A custom backend written against jobreg/sys/storage.h keeps its records
 * in an array; each test makes one of its callbacks call back into the
 * handle. A deadlock would hang the test: alarm() fails it instead.
 */
#include <jobreg.h>
#include <jobreg/sys/storage.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

enum reenter {
	REENTER_NONE,
	REENTER_LIST,   /* read_records calls jobreg_storage_list on its handle */
	REENTER_GET,    /* read_records calls jobreg_storage_get */
	REENTER_ENABLE, /* write_record calls jobreg_storage_set_enabled */
	REENTER_FREE,   /* read_records calls jobreg_storage_free */
	REENTER_OTHER,  /* read_records lists another handle: allowed */
};

struct backend {
	jobreg_storage *self;  /* the handle over this backend */
	jobreg_storage *other; /* another handle, for REENTER_OTHER */
	enum reenter reenter;
	int pass_error; /* return the inner call's error from the callback */
	int inner_rc;
	char inner_message[512];
	jobreg_record *records[8];
	size_t count;
};

static void inner(struct backend *b, int rc)
{
	b->inner_rc = rc;
	snprintf(b->inner_message, sizeof(b->inner_message), "%s",
	         rc < 0 ? jobreg_error_last()->message : "");
}

static int reenter_now(struct backend *b)
{
	jobreg_record_list *list = NULL;
	jobreg_record *rec = NULL;
	enum reenter what = b->reenter;

	b->reenter = REENTER_NONE; /* once */
	switch (what) {
	case REENTER_LIST:
		inner(b, jobreg_storage_list(&list, b->self, JOBREG_INSTALLED_ALL));
		jobreg_record_list_free(list);
		break;
	case REENTER_GET:
		inner(b, jobreg_storage_get(&rec, b->self, "r1"));
		jobreg_record_free(rec);
		break;
	case REENTER_ENABLE:
		inner(b, jobreg_storage_set_enabled(b->self, "r1", 1));
		break;
	case REENTER_FREE:
		jobreg_storage_free(b->self);
		inner(b, jobreg_error_last()->code);
		break;
	case REENTER_OTHER:
		inner(b, jobreg_storage_list(&list, b->other, JOBREG_INSTALLED_ALL));
		jobreg_record_list_free(list);
		break;
	default:
		return 0;
	}
	return b->pass_error && b->inner_rc < 0 ? b->inner_rc : 0;
}

static int be_begin(unsigned int flags, void *payload)
{
	(void)flags;
	(void)payload;
	return 0;
}

static int be_commit(void *payload)
{
	(void)payload;
	return 0;
}

static int be_rollback(void *payload)
{
	(void)payload;
	return 0;
}

static int be_read(jobreg_storage_emit_fn emit, void *emit_payload, void *payload)
{
	struct backend *b = payload;
	size_t i;
	int rc;

	if (b->reenter != REENTER_ENABLE && (rc = reenter_now(b)) < 0)
		return rc;
	for (i = 0; i < b->count; i++) {
		jobreg_record *copy = NULL;

		if ((rc = jobreg_record_dup(&copy, b->records[i])) < 0)
			return rc;
		if ((rc = emit(copy, emit_payload)) != 0)
			return rc;
	}
	return 0;
}

static int be_write(const jobreg_record *rec, void *payload)
{
	struct backend *b = payload;
	size_t i;
	int rc;

	if (b->reenter == REENTER_ENABLE && (rc = reenter_now(b)) < 0)
		return rc;
	for (i = 0; i < b->count; i++) {
		if (strcmp(jobreg_record_text(b->records[i], JOBREG_FIELD_ID),
		           jobreg_record_text(rec, JOBREG_FIELD_ID)) == 0) {
			jobreg_record_free(b->records[i]);
			return jobreg_record_dup(&b->records[i], rec);
		}
	}
	return jobreg_storage_error_set(JOBREG_ESTORAGE, "test backend: only replaces records");
}

static int be_delete(const char *id, void *payload)
{
	(void)id;
	(void)payload;
	return 0;
}

static void be_free(void *payload)
{
	struct backend *b = payload;
	size_t i;

	for (i = 0; i < b->count; i++)
		jobreg_record_free(b->records[i]);
	free(b);
}

/* A handle over a new backend holding one record "r1" (a.B). */
static struct backend *new_backend(void)
{
	static const jobreg_storage_backend table = {
		.version = JOBREG_STORAGE_BACKEND_VERSION,
		.begin = be_begin,
		.commit = be_commit,
		.rollback = be_rollback,
		.read_records = be_read,
		.write_record = be_write,
		.delete_record = be_delete,
		.free_payload = be_free,
	};
	struct backend *b = calloc(1, sizeof(*b));
	jobreg_record *rec = NULL;

	if (!b)
		abort();
	CHECK_OK(jobreg_record_new(&rec));
	CHECK_OK(jobreg_record_set_text(rec, JOBREG_FIELD_ID, "r1"));
	CHECK_OK(jobreg_record_set_text(rec, JOBREG_FIELD_MODULE_NAME, "a"));
	CHECK_OK(jobreg_record_set_text(rec, JOBREG_FIELD_JOB_CLASS_NAME, "B"));
	CHECK_OK(jobreg_record_set_text(rec, JOBREG_FIELD_CLASS_PATH, "a.B"));
	b->records[b->count++] = rec;
	CHECK_OK(jobreg_storage_new(&b->self, &table, b));
	if (!b->self)
		abort();
	return b;
}

static void check_refused(const struct backend *b)
{
	CHECK_INT(b->inner_rc, JOBREG_ESTATE);
	CHECK_CONTAINS(b->inner_message, "already inside a call on this storage handle");
}

static void test_read_records_listing_its_own_handle_is_refused(void)
{
	struct backend *b = new_backend();
	jobreg_storage *st = b->self;
	jobreg_record_list *list = NULL;

	b->reenter = REENTER_LIST;
	/* The callback swallows the inner error: the outer call goes on. */
	CHECK_OK(jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL));
	check_refused(b);
	CHECK_INT(jobreg_record_list_count(list), 1);
	jobreg_record_list_free(list);
	jobreg_storage_free(st);
}

static void test_the_refusal_reaches_the_outer_caller(void)
{
	struct backend *b = new_backend();
	jobreg_storage *st = b->self;
	jobreg_record *rec = NULL;

	b->reenter = REENTER_GET;
	b->pass_error = 1;
	CHECK_INT(jobreg_storage_get(&rec, st, "r1"), JOBREG_ESTATE);
	CHECK(rec == NULL);
	check_refused(b);
	CHECK_CONTAINS(jobreg_error_last()->message, "already inside a call on this storage handle");
	/* The handle is usable again afterwards: the lock was released. */
	CHECK_OK(jobreg_storage_get(&rec, st, "r1"));
	jobreg_record_free(rec);
	jobreg_storage_free(st);
}

static void test_write_record_changing_its_own_handle_is_refused(void)
{
	struct backend *b = new_backend();
	jobreg_storage *st = b->self;
	jobreg_record *rec = NULL;

	b->reenter = REENTER_ENABLE;
	b->pass_error = 1;
	CHECK_INT(jobreg_storage_override_text(st, "r1", JOBREG_FIELD_NAME, "Renamed"), JOBREG_ESTATE);
	check_refused(b);
	CHECK_OK(jobreg_storage_get(&rec, st, "r1"));
	if (rec) {
		CHECK_INT(jobreg_record_bool(rec, JOBREG_FIELD_ENABLED), 0);
		CHECK_STR(jobreg_record_text(rec, JOBREG_FIELD_NAME), "");
	}
	jobreg_record_free(rec);
	jobreg_storage_free(st);
}

static void test_freeing_its_own_handle_from_a_callback_is_refused(void)
{
	struct backend *b = new_backend();
	jobreg_storage *st = b->self;
	jobreg_record_list *list = NULL;

	b->reenter = REENTER_FREE;
	CHECK_OK(jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL));
	check_refused(b);
	CHECK_INT(jobreg_record_list_count(list), 1); /* the handle survived its callback */
	jobreg_record_list_free(list);
	jobreg_storage_free(st); /* and frees normally afterwards (ASan checks) */
}

static void test_a_callback_may_use_another_handle(void)
{
	struct backend *b = new_backend();
	jobreg_storage *st = b->self;
	jobreg_record_list *list = NULL;

	CHECK_OK(jobreg_storage_memory_new(&b->other));
	b->reenter = REENTER_OTHER;
	b->pass_error = 1;
	CHECK_OK(jobreg_storage_list(&list, st, JOBREG_INSTALLED_ALL));
	CHECK_INT(b->inner_rc, 0);
	jobreg_record_list_free(list);
	jobreg_storage_free(b->other);
	jobreg_storage_free(st);
}

static const struct jr_test tests[] = {
	JR_TEST(read_records_listing_its_own_handle_is_refused),
	JR_TEST(the_refusal_reaches_the_outer_caller),
	JR_TEST(write_record_changing_its_own_handle_is_refused),
	JR_TEST(freeing_its_own_handle_from_a_callback_is_refused),
	JR_TEST(a_callback_may_use_another_handle),
};

int main(int argc, char **argv)
{
	/* A deadlock is the failure under test: end it instead of hanging. */
	alarm(120);
	return jr_test_run(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
