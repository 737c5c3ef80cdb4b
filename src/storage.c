/*
 * storage.c: the storage handle: a copy of the backend's table, its
 * payload and a lock; transactions and every call into the backend, with
 * their errors turned into the library's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jobreg/storage.h"
#include "options.h"
#include "storage_internal.h"
#include "util.h"

static const size_t backend_sizes[] = {
	JR_SIZE_THROUGH(jobreg_storage_backend, free_payload),       /* version 1 */
	JR_SIZE_THROUGH(jobreg_storage_backend, source_state_write), /* version 2 */
};

int jobreg_storage_error_set(int code, const char *message)
{
	return jr_error_set(code, "%s", message ? message : "storage backend error");
}

/*
 * What a backend callback returned, as the library's error: unknown or
 * positive codes become JOBREG_ESTORAGE, and a failure the backend did not
 * explain gets a message naming the callback.
 */
int jr_storage_backend_result(int rc, const char *callback)
{
	if (rc == 0)
		return 0;
	if (rc > 0 || strcmp(jobreg_error_name(rc), "JOBREG_UNKNOWN") == 0) {
		return jr_error_set(JOBREG_ESTORAGE, "storage backend: %s failed with code %d", callback,
		                    rc);
	}
	if (jr_error_code() != rc)
		jr_error_set(rc, "storage backend: %s failed: %s", callback, jobreg_strerror(rc));
	return rc;
}

/*
 * An error-checking mutex: a thread that already holds it (a backend
 * callback calling back into its own handle) gets EDEADLK from
 * pthread_mutex_lock() instead of waiting for itself forever.
 */
static int init_lock(pthread_mutex_t *lock)
{
	pthread_mutexattr_t attr;
	int rc;

	if (pthread_mutexattr_init(&attr) != 0)
		return -1;
	rc = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
	if (rc == 0)
		rc = pthread_mutex_init(lock, &attr);
	pthread_mutexattr_destroy(&attr);
	return rc;
}

/* Take the handle's lock; JOBREG_ESTATE when this thread holds it already. */
static int lock_handle(jobreg_storage *st, const char *doing)
{
	int rc = pthread_mutex_lock(&st->lock);

	if (rc == EDEADLK)
		return jr_error_set(JOBREG_ESTATE,
		                    "%s: this thread is already inside a call on this storage handle "
		                    "(a backend or host callback called back into it); calls on a "
		                    "storage handle do not nest",
		                    doing);
	if (rc != 0)
		return jr_error_set(JOBREG_ERROR, "%s: cannot lock the storage handle: %s", doing,
		                    strerror(rc));
	return 0;
}

int jobreg_storage_new(jobreg_storage **out, const jobreg_storage_backend *backend, void *payload)
{
	static const struct {
		size_t offset;
		const char *name;
	} required[] = {
		{ offsetof(jobreg_storage_backend, begin), "begin" },
		{ offsetof(jobreg_storage_backend, commit), "commit" },
		{ offsetof(jobreg_storage_backend, rollback), "rollback" },
		{ offsetof(jobreg_storage_backend, read_records), "read_records" },
		{ offsetof(jobreg_storage_backend, write_record), "write_record" },
		{ offsetof(jobreg_storage_backend, delete_record), "delete_record" },
	};
	jobreg_storage_backend table;
	jobreg_storage *st;
	size_t i;
	int rc;

	if (!out || !backend)
		return jr_error_set(JOBREG_EINVAL, "jobreg_storage_new: NULL %s", out ? "backend" : "out");
	*out = NULL;
	if (backend->version == 0)
		return jr_error_set(JOBREG_EVERSION,
		                    "jobreg_storage_backend: version 0 is not a version (use %u)",
		                    JOBREG_STORAGE_BACKEND_VERSION);
	memset(&table, 0, sizeof(table));
	rc = jr_options_read(&table, backend, backend_sizes,
	                     sizeof(backend_sizes) / sizeof(backend_sizes[0]),
	                     "jobreg_storage_backend");
	if (rc < 0)
		return rc;
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		void *fn;
		memcpy(&fn, (const char *)&table + required[i].offset, sizeof(fn));
		if (!fn)
			return jr_error_set(JOBREG_EINVAL,
			                    "jobreg_storage_backend: the required callback \"%s\" is NULL",
			                    required[i].name);
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return jr_error_oom();
	if (init_lock(&st->lock) != 0) {
		free(st);
		return jr_error_set(JOBREG_ERROR, "jobreg_storage_new: cannot create a mutex");
	}
	st->backend = table;
	st->payload = payload;
	*out = st;
	return 0;
}

void jobreg_storage_free(jobreg_storage *st)
{
	if (!st)
		return;
	/* From a callback of this very handle: freeing it would pull it from
	 * under the call in progress. Refused (the error says so), never a
	 * crash; the host's next free works. */
	if (lock_handle(st, "jobreg_storage_free") < 0)
		return;
	pthread_mutex_unlock(&st->lock);
	if (st->backend.free_payload)
		st->backend.free_payload(st->payload);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/* ---- transactions ------------------------------------------------ */

int jr_storage_begin(jobreg_storage *st, unsigned int flags)
{
	int rc;

	if (!st)
		return jr_error_set(JOBREG_EINVAL, "storage handle is NULL");
	if ((rc = lock_handle(st, "storage transaction")) < 0)
		return rc;
	jobreg_error_clear();
	rc = jr_storage_backend_result(st->backend.begin(flags, st->payload), "begin");
	if (rc < 0)
		pthread_mutex_unlock(&st->lock);
	return rc;
}

int jr_storage_rollback(jobreg_storage *st, int rc)
{
	jr_saved_error cause;

	/* The caller wants the error that caused the rollback, not the rollback's. */
	jr_error_save(&cause, rc);
	st->backend.rollback(st->payload);
	jr_error_restore(&cause);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int jr_storage_commit(jobreg_storage *st)
{
	int rc;

	jobreg_error_clear();
	rc = jr_storage_backend_result(st->backend.commit(st->payload), "commit");
	if (rc < 0)
		return jr_storage_rollback(st, rc);
	pthread_mutex_unlock(&st->lock);
	return 0;
}

/* ---- records ----------------------------------------------------- */

static int collect(jobreg_record *rec, void *emit_payload)
{
	if (!rec)
		return jr_error_set(JOBREG_EINVAL, "storage backend: read_records emitted NULL");
	return jr_records_push(emit_payload, rec);
}

int jr_storage_read_all(jr_records *out, jobreg_storage *st)
{
	jobreg_error_clear();
	return jr_storage_backend_result(st->backend.read_records(collect, out, st->payload),
	                                 "read_records");
}

int jr_storage_write(jobreg_storage *st, const jobreg_record *rec)
{
	jobreg_error_clear();
	return jr_storage_backend_result(st->backend.write_record(rec, st->payload), "write_record");
}

int jr_storage_delete(jobreg_storage *st, const char *id)
{
	jobreg_error_clear();
	return jr_storage_backend_result(st->backend.delete_record(id, st->payload), "delete_record");
}

/* ---- source state ------------------------------------------------ */

int jr_storage_keeps_source_state(const jobreg_storage *st)
{
	return st->backend.source_state_read && st->backend.source_state_write;
}

int jr_storage_source_state_read(char **out, jobreg_storage *st, const char *source_type,
                                 const char *source_name)
{
	const char *state = NULL;
	int rc;

	*out = NULL;
	jobreg_error_clear();
	rc = st->backend.source_state_read(&state, source_type, source_name, st->payload);
	if (rc == JOBREG_ENOTFOUND)
		return 0;
	if ((rc = jr_storage_backend_result(rc, "source_state_read")) < 0)
		return rc;
	if (state && !(*out = jr_strdup(state)))
		return JOBREG_ENOMEM;
	return 0;
}

int jr_storage_source_state_write(jobreg_storage *st, const char *source_type,
                                  const char *source_name, const char *state)
{
	jobreg_error_clear();
	return jr_storage_backend_result(st->backend.source_state_write(source_type, source_name, state,
	                                                                st->payload),
	                                 "source_state_write");
}
