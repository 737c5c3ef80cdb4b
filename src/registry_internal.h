/*
 * registry_internal.h: the registry's state, shared by registry.c and its
 * load transaction, load_txn.c (internal). Anything else goes through
 * load_txn.h or the public API.
 */
#ifndef JR_REGISTRY_INTERNAL_H
#define JR_REGISTRY_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "error.h"
#include "generation.h"
#include "jobreg/registry.h"

struct jobreg_registry {
	/* Held by whatever changes the registry: a load transaction, adding
	 * a source. An error-checking mutex: the same thread taking it twice
	 * gets an error, not a deadlock. */
	pthread_mutex_t load_lock;
	/* Over `current` only, for a few instructions: readers never wait
	 * for an import. */
	pthread_rwlock_t current_lock;
	jobreg_snapshot *current;
	uint64_t last_number; /* the generation of the last snapshot published */
	jobreg_source **sources;
	size_t source_count;
	jobreg_registry_options opts;
	struct jr_pool *pool; /* isolation mode's workers, else NULL */
};

/* Take the load lock of `reg`; JOBREG_ESTATE when this thread holds it. */
static inline int jr_registry_lock_loads(jobreg_registry *reg, const char *what)
{
	if (pthread_mutex_lock(&reg->load_lock) == EDEADLK)
		return jr_error_set(JOBREG_ESTATE,
		                    "%s: this thread is loading the registry already (a callback may "
		                    "not change the registry whose load called it)",
		                    what);
	return 0;
}

#endif
