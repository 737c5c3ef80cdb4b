/*
 * isolate.h: isolation mode, job code in worker processes (internal).
 *
 * A registry created with JOBREG_ISOLATION_PROCESS owns a *pool* of worker
 * processes, forked from the host and kept warm. A load of one of its
 * sources is imported in a worker, which sends back only metadata (the
 * same jobs and load errors an import in the host would give, with no
 * classes); a run goes to a worker that has that load, or that loads it
 * first. A worker that exits, crashes, overruns a time limit or is
 * cancelled is killed and replaced; what it was doing ends as a load error
 * or a failed run that says why. The worker's side is jobreg._worker
 * (src/py/jobreg/_worker.py), which documents the protocol.
 */
#ifndef JR_ISOLATE_H
#define JR_ISOLATE_H

#include <stdint.h>

#include "jobreg/run.h"
#include "source.h"

typedef struct jr_pool jr_pool;

/* A pool of at most `workers` processes (none started yet); each may grow
 * its address space by `memory_limit_mb` MiB (0: no limit). */
int jr_pool_new(jr_pool **out, unsigned int workers, unsigned int memory_limit_mb);
void jr_pool_ref(jr_pool *pool);
/* The last reference kills the workers (no GIL needed). NULL is ignored. */
void jr_pool_unref(jr_pool *pool);

/*
 * Import source `src` in a worker as jr_source_import_python() would in
 * the host (its Python loader class `loader_class`, called with `args`),
 * and fill plan->part with what it found. On success the part remembers
 * how to load the same code in any worker (jr_part's `code`). GIL held.
 */
int jr_pool_import(jr_pool *pool, jobreg_source *src, jr_load_plan *plan, const char *loader_class,
                   PyObject *args);

/* How a part's code is loaded in a worker again; freed with the part. */
struct jr_part_code {
	jr_pool *pool; /* referenced */
	char *key;     /* the source in the workers: "<type>:<name>" */
	uint64_t serial;
	double import_timeout; /* seconds per module, 0: none */
	char *request;         /* the marshalled "load" request */
	size_t request_len;
	char *location;    /* an app source's package folder, else "" */
	int from_checkout; /* a git source's <slug> and <slug>.jobs came from its checkout */
};
void jr_part_code_free(struct jr_part_code *code);

/*
 * Run `job`, whose part has code in the pool, with the record (as JSON)
 * that allowed it and the host's options; `soft` and `hard` are the time
 * limits in seconds (0: none). Results and errors as jobreg_job_run().
 * GIL not held.
 */
int jr_pool_run(jobreg_run_result **out, const jobreg_job *job, const char *record_json,
                const jobreg_run_options *opts, double soft, double hard);

#endif
