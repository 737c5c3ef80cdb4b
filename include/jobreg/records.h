/*
 * records.h: job records, the storage that keeps them, and the refresh that
 * brings them in line with a loaded registry (SPEC 4).
 *
 * A *record* is what the host's database knows about a job: its identity
 * (module_name, job_class_name), its metadata as last copied from the class,
 * whether it is installed (its job is loaded) and enabled (the host allows it
 * to run), and override flags that protect host edits from the next refresh.
 *
 * A *storage* handle (jobreg_storage) wraps a backend: the in-memory one, the
 * SQLite one, or a host's own (see jobreg/sys/storage.h). Every operation
 * on it runs inside one backend transaction; a failure rolls it back, so
 * nothing is ever half-written.
 *
 * Since 0.3.0 each subject has a header of its own, and this one includes
 * them all, so `#include <jobreg/records.h>` declares what it always did:
 *
 *  - jobreg/record.h: a record, its fields (jobreg_field), record lists;
 *  - jobreg/storage.h: storage handles: in-memory, SQLite, freeing one;
 *  - jobreg/refresh.h: jobreg_refresh(), its options and its result;
 *  - jobreg/storage_ops.h: list, get, enable, override, delete, migrate;
 *  - jobreg/storage_git_state.h: a git repository's stored state;
 *  - jobreg/runs.h: run records (since 0.3.0).
 *
 * Thread-safety: a jobreg_record or jobreg_record_list is a plain value:
 * safe to read from many threads, not to modify concurrently. Calls on one
 * jobreg_storage are serialized by the handle itself (any thread may call).
 * Several handles, in one process or many, may open the same SQLite file:
 * write transactions serialize on the database, so no update is lost.
 * None of these functions touches Python or needs jobreg_init().
 */
#ifndef JOBREG_RECORDS_H
#define JOBREG_RECORDS_H

#include "common.h"
#include "types.h"

#include "record.h"
#include "refresh.h"
#include "runs.h"
#include "storage.h"
#include "storage_git_state.h"
#include "storage_ops.h"

#endif
