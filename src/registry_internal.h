/* registry_internal.h: what sources may ask of their registry (internal). */
#ifndef JR_REGISTRY_INTERNAL_H
#define JR_REGISTRY_INTERNAL_H

#include "generation.h"
#include "jobreg/registry.h"

struct jr_load_plan;

/*
 * Decides whether a freshly imported part may be published: 0 to publish,
 * or a negative error (recorded) to keep the current generation.
 */
typedef int (*jr_accept_fn)(jobreg_source *src, const jr_part *part, void *payload);

/*
 * Import `src` alone (its modules purged first; every other source keeps
 * its part) and, when `accept` (may be NULL) agrees, publish a generation
 * with the new part. When `accept` refuses, its error is returned and the
 * current generation stays; the source's modules in sys.modules are then
 * those of the refused import, so the caller restores the files and calls
 * this again to bring the old code back. Serialized with every other load.
 */
int jr_registry_load_source(jobreg_registry *reg, jobreg_source *src, jr_accept_fn accept,
                            void *payload);

/*
 * Decides, once `src` is discovered (no GIL held), whether a load leaves it
 * out: 1 to skip it (it keeps its last part, or an empty one, and is not
 * imported), 0 to go on as usual.
 */
typedef int (*jr_skip_fn)(const jobreg_source *src, const struct jr_load_plan *plan,
                          void *payload);

/*
 * A load for a sync: with `full`, every source is imported (as
 * jobreg_registry_load); otherwise as jobreg_registry_reload (unchanged
 * sources keep their part) and `skip` may leave sources out altogether.
 */
int jr_registry_load_skipping(jobreg_registry *reg, int full, jr_skip_fn skip, void *payload,
                              const char *what);

/* The registry's import time limit per module (its options). */
unsigned int jr_registry_import_timeout_ms(const jobreg_registry *reg);

/*
 * Hold off every other load of `reg` (recursive: loads by the holder's own
 * thread go on). A git sync holds it while the checkout is on a commit
 * under trial, so that no other load imports that commit.
 */
void jr_registry_lock(jobreg_registry *reg);
void jr_registry_unlock(jobreg_registry *reg);

#endif
