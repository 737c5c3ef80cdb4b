/*
 * load_txn.h: a load transaction, the one way a registry's code changes
 * (internal).
 *
 *	jr_load_begin()     take the registry's load lock (loads never interleave)
 *	jr_load_discover()  what a source would import: no Python, no GIL
 *	jr_load_select()    the caller's choice of sources to import
 *	jr_load_import()    the chosen sources import (GIL); the others keep
 *	                    the part they have (an empty one when none)
 *	jr_load_get_result() per source: fingerprint, mode, clean or not
 *	jr_load_publish()   a snapshot over the parts becomes the current one
 *	jr_load_end()       unlock; whatever was not published is dropped
 *
 * Callers: registry.c (load, reload), sync.c (a sync), git_sync.c (a move
 * of a checkout). Nothing is published before jr_load_publish(), so a
 * caller that refuses what was imported simply ends the transaction.
 * Sources are numbered as in the registry, 0 to jr_load_count() - 1.
 */
#ifndef JR_LOAD_TXN_H
#define JR_LOAD_TXN_H

#include <stddef.h>
#include <stdint.h>

#include "generation.h"

typedef struct jr_load_txn jr_load_txn;

/*
 * Begin a transaction on `reg`, waiting for any other. JOBREG_ESTATE when
 * the library is not initialized or this thread is in a transaction of
 * `reg` already (a callback loading the registry whose load called it).
 * `what` (the public function) names the call in errors.
 */
int jr_load_begin(jr_load_txn **out, jobreg_registry *reg, const char *what);
/* Unlock; parts imported and not published are dropped. NULL is ignored. */
void jr_load_end(jr_load_txn *txn);

size_t jr_load_count(const jr_load_txn *txn);
jobreg_source *jr_load_source(const jr_load_txn *txn, size_t i);
/* The number of `src`, or jr_load_count() when it is not the registry's. */
size_t jr_load_index(const jr_load_txn *txn, const jobreg_source *src);
/* 1 when the registry has code of source `i` (a published import). */
int jr_load_has_code(const jr_load_txn *txn, size_t i);
/* The registry's import time limit per module, in milliseconds. */
unsigned int jr_load_import_timeout_ms(const jr_load_txn *txn);

/*
 * This transaction's owner holds a lock that another process may be
 * waiting for (a git checkout's lock file): no discovery may wait for
 * another process. Call before discovering.
 */
void jr_load_never_wait(jr_load_txn *txn);

/*
 * Discover source `i` (again: what an earlier discovery or import of it in
 * this transaction found is dropped first). No GIL.
 */
int jr_load_discover(jr_load_txn *txn, size_t i);
int jr_load_discover_all(jr_load_txn *txn);

/* What discovery found for a source (after jr_load_discover()). */
typedef struct jr_load_found {
	uint64_t fingerprint; /* 0: none */
	int nautobot_1x;      /* the mode an import would run in */
	int kept;             /* it keeps the code it has: never imported, whatever is selected */
	int changed;          /* not at the fingerprint and mode of its code, or it has none */
} jr_load_found;
void jr_load_get_found(jr_load_found *out, const jr_load_txn *txn, size_t i);

/* Import discovered source `i` at the next jr_load_import(). */
void jr_load_select(jr_load_txn *txn, size_t i);
/*
 * Import every selected source that is discovered, not kept and not
 * imported yet by this transaction, with the GIL; then release every
 * source's files. A failure leaves nothing to publish but what was
 * imported before it.
 */
int jr_load_import(jr_load_txn *txn);

/* Source `i`'s part in this transaction: what it imported, else the registry's (NULL: none). */
const jr_part *jr_load_part(const jr_load_txn *txn, size_t i);

/* What the part of a source stands for. */
typedef struct jr_load_result {
	uint64_t fingerprint; /* of the files it was imported from; 0: no import */
	int nautobot_1x;      /* the mode it was imported in */
	int clean;            /* imported without a load error */
} jr_load_result;
void jr_load_get_result(jr_load_result *out, const jr_load_txn *txn, size_t i);

/*
 * Build a snapshot over every source's part and make it the registry's
 * current one; the imported sources remember their part for reloads. With
 * nothing imported, nothing is built unless `even_if_unchanged` or the
 * registry has never published.
 */
int jr_load_publish(jr_load_txn *txn, int even_if_unchanged);
/*
 * Leave source `i` out of what this transaction publishes; once published,
 * jr_load_detach() takes it out of the registry (returned: the caller
 * destroys it) and out of the transaction.
 */
void jr_load_exclude(jr_load_txn *txn, size_t i);
jobreg_source *jr_load_detach(jr_load_txn *txn, size_t i);
/* The registry's current snapshot (the one just published), referenced. */
jobreg_snapshot *jr_load_snapshot(jr_load_txn *txn);

#endif
