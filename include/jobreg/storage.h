/*
 * storage.h: storage handles: the in-memory and the SQLite backend, and
 * freeing a handle (SPEC 4).
 *
 * A *storage* handle (jobreg_storage) wraps a backend: the in-memory one, the
 * SQLite one, or a host's own (jobreg_storage_new() in jobreg/sys/storage.h).
 * What a handle does: refresh its records (jobreg/refresh.h), the host's
 * operations on them (jobreg/storage_ops.h), the git state it keeps
 * (jobreg/storage_git_state.h). Every such operation runs inside one backend
 * transaction; a failure rolls it back, so nothing is ever half-written.
 *
 * Thread-safety: calls on one jobreg_storage are serialized by the handle
 * itself (any thread may call). They do not nest: a call made on a handle
 * from inside a call on that same handle (from a callback of its backend)
 * fails with JOBREG_ESTATE instead of waiting for itself forever (since
 * 0.3.0; other handles may be used from there). Several handles, in one process or many,
 * may open the same SQLite file: write transactions serialize on the
 * database, so no update is lost. None of these functions touches Python or
 * needs jobreg_init().
 *
 * A header of its own since 0.3.0; jobreg/records.h includes it.
 */
#ifndef JOBREG_STORAGE_H
#define JOBREG_STORAGE_H

#include "common.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A storage over the in-memory backend: records live as long as the
 * handle. Transactions roll back exactly. For tests and ephemeral hosts.
 * Free with jobreg_storage_free(). Errors: JOBREG_EINVAL, JOBREG_ENOMEM.
 */
JOBREG_EXTERN(int) jobreg_storage_memory_new(jobreg_storage **out);

/**
 * Options of jobreg_storage_sqlite_open().
 *
 * Version history:
 *  - 1 (0.1.0): version, busy_timeout_ms.
 */
typedef struct jobreg_sqlite_options {
	/** The structure version the caller fills in: JOBREG_SQLITE_OPTIONS_VERSION. */
	unsigned int version;
	/**
	 * How long a call waits for another connection's write transaction
	 * before failing with JOBREG_ESTORAGE. Default 5000; 0 = do not wait.
	 */
	unsigned int busy_timeout_ms;
} jobreg_sqlite_options;

/** The version of jobreg_sqlite_options these headers describe. */
#define JOBREG_SQLITE_OPTIONS_VERSION 1
/* clang-format off */
/** Static initializer of jobreg_sqlite_options: this version, the defaults. */
#define JOBREG_SQLITE_OPTIONS_INIT { JOBREG_SQLITE_OPTIONS_VERSION, 5000 }
/* clang-format on */

/**
 * Fill `opts` with the defaults of `version`; JOBREG_EVERSION if unknown,
 * JOBREG_EINVAL for NULL. Thread-safe.
 */
JOBREG_EXTERN(int)
jobreg_sqlite_options_init(jobreg_sqlite_options *opts, unsigned int version);

/**
 * Open (creating it if missing) the SQLite database file `path` as a
 * storage. The file's parent folder must exist.
 *
 * The backend owns its schema: tables `jobreg_records`,
 * `jobreg_git_state`, `jobreg_source_state`, `jobreg_load_errors` and
 * `jobreg_runs`, versioned with `PRAGMA user_version` (schema 4 in this
 * library, since 0.3.0: indexes for the lookups and lists of backend
 * version 3, the load errors each refresh stores per source, and run
 * records (jobreg/runs.h); a file of 0.1 (schema 1) or 0.2 (schema 2) is
 * migrated in place when opened), so a host may keep its own tables in the
 * same file. The
 * database is put in WAL mode; every write runs in a transaction, and the
 * read-modify-write operations (refresh, set_enabled, ...) take the write
 * lock first (`BEGIN IMMEDIATE`), so concurrent processes serialize and
 * never lose an update. `opts` may be NULL for the defaults.
 *
 * The file's `user_version` belongs to libjobreg; tables of the host are
 * left alone.
 *
 * Errors: JOBREG_ESTORAGE (cannot open or create, not a database, locked
 * for longer than the busy timeout, or a full disk, which its calls also
 * report as "the disk is full" rather than SQLite's "disk I/O error"
 * (since 0.3.0): the message names the file),
 * JOBREG_EVERSION (the file's schema is newer than this library knows, and
 * it is left untouched; the message names the file and both versions, or
 * an unknown `opts` version), JOBREG_EINVAL, JOBREG_ENOMEM.
 */
JOBREG_EXTERN(int)
jobreg_storage_sqlite_open(jobreg_storage **out, const char *path,
                           const jobreg_sqlite_options *opts);

/**
 * Free a storage handle. Accepts NULL. Calls the backend's `free_payload` callback
 * on its payload (the SQLite backend closes its connection). Must not run
 * concurrently with another call on the same handle. Called from a callback
 * of that very handle (a backend's, during one of its calls), it frees
 * nothing and records JOBREG_ESTATE (since 0.3.0): free it once the call
 * has returned.
 */
JOBREG_EXTERN(void) jobreg_storage_free(jobreg_storage *st);

#ifdef __cplusplus
}
#endif

#endif
