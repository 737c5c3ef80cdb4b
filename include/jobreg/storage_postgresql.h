/*
 * storage_postgresql.h: the PostgreSQL storage backend (libpq).
 *
 * One PostgreSQL database shared by many processes on many machines: the
 * records, git state, source state, load errors and run records live in
 * tables of a schema of their own (default "jobreg"), which the library
 * creates and migrates. It implements every callback of backend version 3
 * (jobreg/sys/storage.h): lookups by id and by class path use indexes, and
 * lists and run records are filtered, sorted (bytewise, whatever the
 * database's collation) and paged by the server. Present in every build,
 * so the ABI does not depend on the build options: a library built without
 * libpq (meson -Dpostgresql=disabled) answers JOBREG_EUNSUPPORTED.
 *
 * Since 0.3.0.
 */
#ifndef JOBREG_STORAGE_POSTGRESQL_H
#define JOBREG_STORAGE_POSTGRESQL_H

#include "common.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Options of jobreg_storage_postgresql_new().
 *
 * Version history:
 *  - 1 (0.3.0): version, schema, connect_timeout_s.
 */
typedef struct jobreg_storage_postgresql_options {
	/** The structure version the caller fills in: JOBREG_STORAGE_POSTGRESQL_OPTIONS_VERSION. */
	unsigned int version;
	/**
	 * The schema that holds the library's tables; NULL means "jobreg".
	 * Letters, digits and '_' only, not starting with a digit, at most 63
	 * bytes. Copied.
	 */
	const char *schema;
	/**
	 * Seconds to wait for the connection (libpq's connect_timeout),
	 * unless the conninfo sets its own. Default 10; 0 = libpq's default
	 * (wait forever).
	 */
	unsigned int connect_timeout_s;
} jobreg_storage_postgresql_options;

/** The version of jobreg_storage_postgresql_options these headers describe. */
#define JOBREG_STORAGE_POSTGRESQL_OPTIONS_VERSION 1
/* clang-format off */
/** Static initializer of jobreg_storage_postgresql_options: this version, the defaults. */
#define JOBREG_STORAGE_POSTGRESQL_OPTIONS_INIT { JOBREG_STORAGE_POSTGRESQL_OPTIONS_VERSION, NULL, 10 }
/* clang-format on */

/**
 * Fill `opts` with the defaults of `version`; JOBREG_EVERSION if unknown,
 * JOBREG_EINVAL for NULL. Thread-safe. Since 0.3.0.
 */
JOBREG_EXTERN(int)
jobreg_storage_postgresql_options_init(jobreg_storage_postgresql_options *opts,
                                       unsigned int version);

/**
 * Connect to PostgreSQL and open its job records as a storage.
 *
 * `conninfo` is anything libpq's PQconnectdb() takes: a URI
 * ("postgresql://user@host:5432/db") or "key=value" pairs. The password
 * comes from the conninfo, or as libpq finds it (PGPASSWORD, ~/.pgpass).
 * Messages never show it: a conninfo in a message is redacted.
 *
 * The backend owns the schema `opts->schema` (default "jobreg"): it creates
 * it when missing (CREATE SCHEMA IF NOT EXISTS) with its tables `records`,
 * `git_state`, `source_state`, `load_errors`, `runs` and `schema_version`,
 * and migrates an older one in place (keeping its rows) in one
 * transaction, under an advisory lock, so that processes opening it at the
 * same time do not race. A schema newer than this library knows is left
 * untouched (JOBREG_EVERSION).
 *
 * Write transactions (refresh, set_enabled, storing a run record, ...)
 * take a transaction-level advisory lock of the schema at `begin`, so
 * writers serialize and no update is lost; readers see one snapshot
 * (REPEATABLE READ) and never wait for writers. One handle is one
 * connection.
 *
 * `opts` may be NULL for the defaults; it is copied. On success `*out` is
 * owned by the caller: free it with jobreg_storage_free() (which closes the
 * connection).
 *
 * Errors: JOBREG_ESTORAGE (cannot connect, or the server refused a
 * statement: the message has the redacted conninfo or the SQLSTATE and the
 * server's message), JOBREG_EVERSION (the schema is newer than this
 * library, or an unknown `opts` version), JOBREG_EINVAL (NULL `out` or
 * `conninfo`, a bad schema name), JOBREG_EUNSUPPORTED (the library was
 * built without PostgreSQL), JOBREG_ENOMEM. Any thread; needs no
 * jobreg_init(); does not touch Python. Since 0.3.0.
 */
JOBREG_EXTERN(int)
jobreg_storage_postgresql_new(jobreg_storage **out, const char *conninfo,
                              const jobreg_storage_postgresql_options *opts);

#ifdef __cplusplus
}
#endif

#endif
