/*
 * registry.h: sources in; load, reload and resolve; jobs and load errors out.
 *
 * A load imports every source into the embedded interpreter and builds a new
 * generation. Only a complete generation replaces the old one, atomically:
 * resolves and snapshots taken in other threads see the old or the new
 * generation, never a mix (SPEC 3).
 *
 * Threads: jobreg_registry_load(), _reload() and _add_source() are
 * serialized by the registry; jobreg_registry_snapshot() and
 * jobreg_registry_resolve() may run in any thread at any time, also during a
 * load, and never touch Python. A snapshot is immutable: its getters, and
 * those of its jobs and load errors, may be called from any thread.
 *
 * What a snapshot holds is read with the functions of jobreg/snapshot.h
 * (included here), a job's metadata with those of jobreg/job.h.
 */
#ifndef JOBREG_REGISTRY_H
#define JOBREG_REGISTRY_H

#include "common.h"
#include "snapshot.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Options of jobreg_registry_new().
 *
 * Version history:
 *  - 1 (0.1.0): version, import_timeout_ms.
 *  - 2 (0.3.0): isolation, workers, worker_memory_limit_mb.
 */
typedef struct jobreg_registry_options {
	/** The structure version the caller fills in: JOBREG_REGISTRY_OPTIONS_VERSION. */
	unsigned int version;
	/**
	 * Longest a module body may run at import; 0 (default) = no limit. In
	 * the host's process a body running Python code is interrupted at the
	 * limit, but one blocked in a call (time.sleep(), a socket read) only
	 * when that call returns; in isolation mode such a body's worker is
	 * killed soon after the limit (docs/isolation.md).
	 */
	unsigned int import_timeout_ms;
	/**
	 * Version 2. Where job code runs: JOBREG_ISOLATION_NONE (default) in
	 * the host's process, JOBREG_ISOLATION_PROCESS in worker processes the
	 * registry forks and keeps (docs/isolation.md).
	 */
	int isolation;
	/**
	 * Version 2. Isolation mode: the most worker processes at once (as
	 * many jobs run at once; more wait for a worker); 0 = 2.
	 */
	unsigned int workers;
	/**
	 * Version 2. Isolation mode: how many MiB each worker's address space
	 * may grow beyond its size when forked (an allocation past it raises
	 * MemoryError in the job code); 0 (default) = no limit.
	 */
	unsigned int worker_memory_limit_mb;
} jobreg_registry_options;

/** Where a registry's job code runs (jobreg_registry_options.isolation). */
typedef enum jobreg_isolation {
	/** In the host's process, on the calling thread. */
	JOBREG_ISOLATION_NONE = 0,
	/** In worker processes forked from the host. */
	JOBREG_ISOLATION_PROCESS = 1
} jobreg_isolation;

/** The version of jobreg_registry_options these headers describe. */
#define JOBREG_REGISTRY_OPTIONS_VERSION 2
/** Static initializer of jobreg_registry_options: this version, the defaults. */
#define JOBREG_REGISTRY_OPTIONS_INIT                                    \
	{                                                                   \
		JOBREG_REGISTRY_OPTIONS_VERSION, 0, JOBREG_ISOLATION_NONE, 0, 0 \
	}

/**
 * Fill `opts` with the defaults of `version`; JOBREG_EVERSION if unknown,
 * JOBREG_EINVAL for NULL. Thread-safe; needs no jobreg_init().
 */
JOBREG_EXTERN(int)
jobreg_registry_options_init(jobreg_registry_options *opts, unsigned int version);

/**
 * Create an empty registry (no sources, an empty generation 0).
 * `opts` may be NULL (the defaults); it is read during the call only.
 * Requires jobreg_init(). On success `*out` is owned by the caller: free it
 * with jobreg_registry_free(). Errors: JOBREG_ESTATE (not initialized),
 * JOBREG_EVERSION, JOBREG_EINVAL (NULL `out`, an unknown `isolation`),
 * JOBREG_ENOMEM. Any thread; does not touch Python. In isolation mode no
 * worker starts yet: the first load or run forks one (with the GIL held,
 * from the thread that asks; docs/isolation.md).
 */
JOBREG_EXTERN(int)
jobreg_registry_new(jobreg_registry **out, const jobreg_registry_options *opts);

/**
 * Free the registry and the sources it owns. Accepts NULL. Snapshots and
 * job references still held stay valid until released (in isolation mode
 * the worker processes live until the last of them is released; then they
 * are killed). Closing the sources
 * purges their modules from `sys.modules` (taking the GIL briefly), which
 * frees their module names for another registry. Must not run concurrently
 * with any other call on the same registry or its sources.
 */
JOBREG_EXTERN(void) jobreg_registry_free(jobreg_registry *reg);

/**
 * Add a source; it takes part from the next load on. On success the
 * registry owns `src` (do not free it; it lives as long as the registry).
 * On error the caller still owns it.
 * Errors: JOBREG_EEXISTS (a source of the same type and name is there; the
 * message names it), JOBREG_EINVAL, JOBREG_ENOMEM.
 */
JOBREG_EXTERN(int) jobreg_registry_add_source(jobreg_registry *reg, jobreg_source *src);

/**
 * Remove the source `src` from the registry and publish, at once, a new
 * generation without its jobs and load errors (the other sources keep the
 * code they have: nothing is imported). Its modules leave `sys.modules`.
 * Snapshots taken before keep its jobs, which still run. Records are not
 * touched: the next jobreg_refresh() of every source (or
 * jobreg_registry_sync()) marks its jobs not installed.
 *
 * On success `src` is freed: it must not be used afterwards, and no call
 * on it may be in progress in another thread (a host that shares a
 * registry across threads removes a source as it adds one: from the thread
 * that manages sources). On error nothing changes. Errors: JOBREG_ENOTFOUND
 * (`src` is not one of this registry's sources), JOBREG_EINVAL (NULL),
 * JOBREG_ESTATE (called from a callback of a load of this registry, or
 * before jobreg_init()), JOBREG_ENOMEM. Takes the GIL briefly. Since 0.3.0.
 */
JOBREG_EXTERN(int) jobreg_registry_remove_source(jobreg_registry *reg, jobreg_source *src);

/**
 * How many sources the registry holds; 0 for NULL. Not synchronized with
 * jobreg_registry_add_source(): call it from the thread that adds sources,
 * or once they are all added.
 */
JOBREG_EXTERN(size_t) jobreg_registry_source_count(const jobreg_registry *reg);

/**
 * Source `i` in the order added, borrowed from the registry (it lives as
 * long as the registry); NULL when out of range. Threads as
 * jobreg_registry_source_count().
 */
JOBREG_EXTERN(jobreg_source *)
jobreg_registry_source(const jobreg_registry *reg, size_t i);

/**
 * Import every source and swap the new generation in.
 *
 * Each source's modules are purged from `sys.modules` first. A module that
 * fails (syntax error, exception, SystemExit, a register_jobs misuse, a
 * refused name, a bad Meta value) is recorded as a load error and the load
 * goes on: that is still success (0). Errors are returned only when no new
 * generation could be built (JOBREG_ENOMEM, JOBREG_EPYTHON, JOBREG_ESTATE);
 * the old generation then stays. Takes the GIL while importing and returns
 * without it. Loads of one registry are serialized: a second thread's load
 * waits for the first. A load (reload, sync, git sync) started from a
 * callback of a load of the same registry on the same thread (a storage
 * backend's callback during jobreg_registry_sync(), say) is refused with
 * JOBREG_ESTATE rather than run nested (since 0.3.0).
 */
JOBREG_EXTERN(int) jobreg_registry_load(jobreg_registry *reg);

/**
 * Re-import only the sources that changed since they were last imported: a
 * file or folder added, removed or changed under a jobs root or an app
 * package (names, sizes, times and inodes are compared; nothing is read or
 * imported to tell). Each re-imported source's modules are purged first;
 * other sources' modules and jobs are kept as they are. With nothing
 * changed it imports nothing, builds no generation and returns at once
 * (cheap enough to call before every job run). Before the first load it
 * loads everything. Errors and threads as jobreg_registry_load().
 */
JOBREG_EXTERN(int) jobreg_registry_reload(jobreg_registry *reg);

/**
 * Take the current generation. Never fails for a valid registry (before the
 * first load it is the empty generation 0). On success `*out` is a
 * reference owned by the caller: release it with jobreg_snapshot_free(); it
 * stays valid after later loads and after the registry is freed.
 * Errors: JOBREG_EINVAL. Thread-safe, lock-light, never touches Python.
 */
JOBREG_EXTERN(int) jobreg_registry_snapshot(jobreg_snapshot **out, jobreg_registry *reg);

/**
 * Find a job in the current generation. `ref` is the job's class path
 * (`inventory.check_inventory.CheckInventory`) or the short form
 * `<source name>.jobs.<ClassName>` of a git or app source, which must name
 * exactly one job of that source.
 *
 * On success `*out` is a reference the caller releases with
 * jobreg_job_free(). Errors: JOBREG_ENOTFOUND (message names the
 * reference), JOBREG_EAMBIGUOUS (message lists the candidates),
 * JOBREG_EINVAL. Thread-safe; never touches Python.
 */
JOBREG_EXTERN(int)
jobreg_registry_resolve(jobreg_job **out, jobreg_registry *reg, const char *ref);

#ifdef __cplusplus
}
#endif

#endif
