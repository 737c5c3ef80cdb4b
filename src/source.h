/*
 * source.h: what every kind of source provides to a load (internal).
 *
 * A load transaction (load_txn.h) asks each source it chooses to `discover`
 * what it would import, with no Python and no GIL (a file-system walk),
 * then to `import` it with the GIL held, filling the source's part of the
 * next snapshot. Two optional hooks let a source keep its own bookkeeping:
 * `release` when the load is done with the source's files, `published`
 * when what it imported became the registry's code.
 */
#ifndef JR_SOURCE_H
#define JR_SOURCE_H

#include <stdint.h>

#include "generation.h"
#include "jobreg/source.h"

enum jr_module_kind {
	JR_MODULE_FILE,
	JR_MODULE_PACKAGE,
	JR_MODULE_NAMESPACE
};

typedef struct jr_module_entry {
	char *name; /* "inventory.check_inventory" */
	char *path; /* the .py file, or the folder of a package */
	enum jr_module_kind kind;
} jr_module_entry;

/* What discovery found for one source. */
typedef struct jr_load_plan {
	jr_part *part; /* receives discovery's errors now, jobs later */
	jr_module_entry *modules;
	size_t module_count, module_capacity;
	uint64_t fingerprint; /* of every file and folder seen, for reloads */
	/* The commit a git source's discovery found (40 hex digits), or "". */
	char commit[41];
	int keep_loaded;       /* discovery says: keep the last import, read nothing */
	double import_timeout; /* seconds per module, 0 = none */
	/* Nautobot 1.x jobs in this load (the source's effective mode, read
	 * once by jr_plan_read_nautobot_mode() right after discovery). */
	int nautobot_1x;
	/* Set by the transaction: its owner holds a lock that another process
	 * may be waiting for, so discovery must never wait for one. */
	int never_wait;
	/* Set by the transaction: the registry's worker processes (isolation
	 * mode), where the import happens; NULL: in this process. */
	struct jr_pool *pool;
} jr_load_plan;

struct jr_source_ops {
	int (*discover)(jobreg_source *src, jr_load_plan *plan);
	int (*import)(jobreg_source *src, jr_load_plan *plan); /* GIL held */
	/* May be NULL. The load is done with the files (imported, kept or
	 * abandoned); called at least once after every discover. */
	void (*release)(jobreg_source *src);
	/* May be NULL. The source's last import is now the registry's code. */
	void (*published)(jobreg_source *src);
	void (*free)(jobreg_source *src);
};

/* A root string replaced while a host may still hold it. */
struct jr_retired_root {
	struct jr_retired_root *next;
	char *text;
};

struct jobreg_source {
	jobreg_source_t type;
	char *name;
	char *root;                      /* changed only by jr_source_set_root() */
	struct jr_retired_root *retired; /* earlier roots, freed with the source */
	const struct jr_source_ops *ops;
	PyObject *state; /* the Python-side loader object; GIL to touch */
	int owned;       /* by a registry */
	/* jobreg_source_set_nautobot_compat()'s mode: any thread writes and
	 * reads it, atomically (JOBREG_COMPAT_DEFAULT until set). */
	int nautobot_compat;
	/* What the last published import produced, for reloads (written by
	 * the load transaction only). */
	jr_part *loaded_part;
	uint64_t loaded_fingerprint;
	int loaded_nautobot_1x; /* the mode that import ran in (its plan's) */
	/* A jobs root's or app's last walk and the inotify watches that tell
	 * whether it still holds (source_dir.c); NULL before the first walk.
	 * Touched by discovery and import only (the load lock). */
	struct jr_dir_watch *dir_watch;
};

/*
 * The source's effective mode now: 1 for Nautobot 1.x jobs (its own mode,
 * or jobreg_init()'s when it has none), else 0.
 */
int jr_source_nautobot_1x(const jobreg_source *src);

/* Fix the effective mode for this load in `plan` (after discovery). */
void jr_plan_read_nautobot_mode(const jobreg_source *src, jr_load_plan *plan);

/*
 * The fingerprint of every file and folder under the source's root (names,
 * sizes, times, inodes), without recording modules; 0 when the root is
 * missing. Walks only when the source's watches saw a change (or cannot
 * be trusted): see "Reloads" in docs/architecture.md.
 */
int jr_dir_fingerprint(jobreg_source *src, uint64_t *out);

/* Free a source's last walk and close its inotify fd; NULL is fine. */
void jr_dir_watch_free(struct jr_dir_watch *watch);

/* How many walks discovery made in this process (for internal tests:
 * a reload with nothing changed makes none). Any thread. */
uint64_t jr_dir_walk_count(void);

/*
 * Replace the source's root with a copy of `root` (loading thread). The old
 * string is kept until the source is freed, because jobreg_source_root()
 * lends it to any thread.
 */
int jr_source_set_root(jobreg_source *src, const char *root);

/* Allocate a source with the given type, name and root (copied). */
int jr_source_new(jobreg_source **out, jobreg_source_t type, const char *name, const char *root,
                  const struct jr_source_ops *ops);
/* Free a source, whoever owns it (registries call this). */
void jr_source_destroy(jobreg_source *src);

int jr_plan_add_module(jr_load_plan *plan, const char *name, const char *path,
                       enum jr_module_kind kind);
void jr_plan_clear(jr_load_plan *plan);

/* Run the Python-side loader `loader_class` of jobreg._loader for this
 * source over `args` (in a worker process when plan->pool is set) and move
 * its jobs and errors into plan->part. */
int jr_source_import_python(jobreg_source *src, jr_load_plan *plan, const char *loader_class,
                            PyObject *args);

/* Copy a loader's `(jobs, errors)` into `part` (GIL held): a job whose
 * "class" is None has its class in a worker process. */
int jr_source_copy_results(jr_part *part, PyObject *result);

#endif
