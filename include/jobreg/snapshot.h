/*
 * snapshot.h: one generation of a registry, frozen: its jobs and the load
 * errors of the load that built it.
 *
 * jobreg_registry_snapshot() (jobreg/registry.h) hands out a reference to
 * the registry's current generation; it stays valid, and unchanged, after
 * later loads and after the registry is freed. A snapshot is immutable: its
 * getters, and those of its jobs (jobreg/job.h) and load errors (below),
 * may be called from any thread, and none of them touches Python. Every
 * getter accepts a NULL snapshot and then returns NULL or 0 (since 0.3.0).
 *
 * A header of its own since 0.3.0; jobreg/registry.h includes it.
 */
#ifndef JOBREG_SNAPSHOT_H
#define JOBREG_SNAPSHOT_H

#include <stdint.h>

#include "common.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The generation number: 0 before the first load, then 1, 2, ... (a reload
 * that changed nothing keeps the number).
 */
JOBREG_EXTERN(uint64_t) jobreg_snapshot_generation(const jobreg_snapshot *snap);

/** How many jobs the generation holds. */
JOBREG_EXTERN(size_t) jobreg_snapshot_job_count(const jobreg_snapshot *snap);

/**
 * Job `i`, ordered by source (in the order added), then class path;
 * NULL when out of range. Borrowed: lives as long as the snapshot.
 */
JOBREG_EXTERN(const jobreg_job *)
jobreg_snapshot_job(const jobreg_snapshot *snap, size_t i);

/**
 * jobreg_registry_resolve() against this generation. `*out` is borrowed
 * from the snapshot (take your own reference with jobreg_job_dup() to keep
 * it longer). Errors as jobreg_registry_resolve(). Thread-safe.
 */
JOBREG_EXTERN(int)
jobreg_snapshot_resolve(const jobreg_job **out, const jobreg_snapshot *snap, const char *ref);

/** How many load errors the load that built this generation recorded. */
JOBREG_EXTERN(size_t) jobreg_snapshot_load_error_count(const jobreg_snapshot *snap);

/**
 * Load error `i`, borrowed from the snapshot; NULL when out of range. The
 * jobreg_load_error_*() getters return borrowed strings, never NULL (""
 * when the failure has no such detail), that live as long as the snapshot.
 */
JOBREG_EXTERN(const jobreg_load_error *)
jobreg_snapshot_load_error(const jobreg_snapshot *snap, size_t i);

/**
 * Bytes the library holds for this generation: jobs, load errors, their
 * strings and lookup tables (not the Python objects, which the interpreter
 * accounts for). For monitoring and benchmarks. Thread-safe.
 */
JOBREG_EXTERN(size_t) jobreg_snapshot_memory(const jobreg_snapshot *snap);

/**
 * Release a snapshot. Accepts NULL. Releasing the last reference to a
 * generation may drop job classes, which takes the GIL briefly.
 * Thread-safe.
 */
JOBREG_EXTERN(void) jobreg_snapshot_free(jobreg_snapshot *snap);

/*
 * Load errors. Every getter returns a borrowed string, never NULL ("" when
 * the failure has no such detail), living as long as the snapshot. Each
 * accepts a NULL error and then returns NULL or 0 (since 0.3.0). Strings
 * are UTF-8: a file name that is not shows its bad bytes escaped
 * (`bad\xff.py`).
 */

/** The type of the source that failed. */
JOBREG_EXTERN(jobreg_source_t) jobreg_load_error_source_type(const jobreg_load_error *err);
/** The name of the source that failed ("" for a jobs root). */
JOBREG_EXTERN(const char *) jobreg_load_error_source(const jobreg_load_error *err);
/** The module at fault ("" for a failure of the source as a whole). */
JOBREG_EXTERN(const char *) jobreg_load_error_module(const jobreg_load_error *err);
/** The file at fault. */
JOBREG_EXTERN(const char *) jobreg_load_error_file(const jobreg_load_error *err);
/** The line at fault, or 0 when unknown. */
JOBREG_EXTERN(int) jobreg_load_error_line(const jobreg_load_error *err);
/** The exception type ("SyntaxError", "SystemExit", "ImportError", ...). */
JOBREG_EXTERN(const char *) jobreg_load_error_type(const jobreg_load_error *err);
/** A one-line message. */
JOBREG_EXTERN(const char *) jobreg_load_error_message(const jobreg_load_error *err);
/** The formatted Python traceback, or "". */
JOBREG_EXTERN(const char *) jobreg_load_error_traceback(const jobreg_load_error *err);

#ifdef __cplusplus
}
#endif

#endif
