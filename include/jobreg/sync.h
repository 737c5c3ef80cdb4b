/*
 * sync.h: load and refresh in one step, importing only what changed since
 * the last sync into the same storage (0.2).
 *
 * jobreg_registry_load() followed by jobreg_refresh() imports every source
 * every time. A sync remembers, in the storage, a fingerprint of each source
 * it refreshed without load errors: the source's files (names, sizes,
 * times; a git source's checked-out commit), the library and Python
 * versions, sys.path and the import time limit, and a digest of the
 * source's records as that refresh left them. The next sync recomputes the
 * fingerprint without running any code and, when it is the same, neither
 * imports the source nor touches its records: importing it again could not
 * change them.
 *
 * What a fingerprint cannot see: modules outside the source that its jobs
 * import (a helper library on sys.path), or anything a module reads at
 * import time (environment, other files). After changing those, sync with
 * `full` set: every source is imported and refreshed, as by a load and a
 * refresh.
 *
 * Thread-safety: as jobreg_registry_load() and jobreg_refresh(): any
 * thread; loads of one registry serialize; the storage handle serializes
 * its own calls.
 */
#ifndef JOBREG_SYNC_H
#define JOBREG_SYNC_H

#include "common.h"
#include "records.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Options of jobreg_registry_sync().
 *
 * Version history:
 *  - 1 (0.2.0): version, full.
 */
typedef struct jobreg_sync_options {
	/** The structure version the caller fills in: JOBREG_SYNC_OPTIONS_VERSION. */
	unsigned int version;
	/**
	 * 0 (default): skip the sources whose fingerprint is the stored one.
	 * Non-zero: import and refresh every source (the stored fingerprints
	 * are then written anew).
	 */
	int full;
} jobreg_sync_options;

/** The version of jobreg_sync_options these headers describe. */
#define JOBREG_SYNC_OPTIONS_VERSION 1
/** Static initializer of jobreg_sync_options: this version, the defaults. */
#define JOBREG_SYNC_OPTIONS_INIT       \
	{                                  \
		JOBREG_SYNC_OPTIONS_VERSION, 0 \
	}

/**
 * Fill `opts` with the defaults of `version`; JOBREG_EVERSION if unknown,
 * JOBREG_EINVAL for NULL. Thread-safe; needs no jobreg_init().
 */
JOBREG_EXTERN(int)
jobreg_sync_options_init(jobreg_sync_options *opts, unsigned int version);

/**
 * Bring the records of `st` in line with the sources of `reg`, importing
 * only the sources that may have changed (see the top of this header).
 *
 * For each source of `reg`:
 *  - *unchanged* (its fingerprint equals the one stored by the last sync,
 *    and `full` is not set): not imported; its records are left exactly as
 *    they are and count as unchanged in the result. In the registry it
 *    keeps the part of its last load, or has no jobs when this registry
 *    never loaded it: a host that runs jobs from `reg` calls
 *    jobreg_registry_load() or _reload() for those;
 *  - otherwise it is loaded as jobreg_registry_reload() would (imported
 *    unless this registry already holds an import of the same files) and
 *    its records are refreshed as by jobreg_refresh(). Its fingerprint is
 *    stored, in the same transaction, when it loaded without any load
 *    error; a source with load errors is imported again by every sync, so
 *    that its errors are always reported.
 *
 * Records of sources that `reg` does not have (a removed app) are in scope:
 * they become installed = 0, as with jobreg_refresh() of every record.
 * The load errors are in the registry's snapshot afterwards.
 *
 * A backend without source state (version 1 tables, or a NULL
 * `source_state_read`/`_write`) works too: every sync then imports
 * everything. Two jobs roots in one registry share the source key
 * ("local", ""): neither is ever skipped.
 *
 * On success `*out` (if `out` is not NULL) is the refresh's result (free
 * with jobreg_refresh_result_free()), with
 * jobreg_refresh_result_skipped_count() telling how many sources were not
 * imported. `opts` may be NULL for the defaults.
 *
 * Errors: those of jobreg_registry_load() (the registry is then as before)
 * and of jobreg_refresh() (the records and stored fingerprints are then as
 * before).
 */
JOBREG_EXTERN(int)
jobreg_registry_sync(jobreg_refresh_result **out, jobreg_registry *reg, jobreg_storage *st,
                     const jobreg_sync_options *opts);

/**
 * How many sources the sync that made `res` recognised as unchanged and
 * did not import; 0 for a result of jobreg_refresh() or NULL.
 */
JOBREG_EXTERN(size_t) jobreg_refresh_result_skipped_count(const jobreg_refresh_result *res);

#ifdef __cplusplus
}
#endif

#endif
