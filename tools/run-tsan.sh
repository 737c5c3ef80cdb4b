#!/bin/sh
# Build with ThreadSanitizer and run the C tests that use threads.
#
#   tools/run-tsan.sh [MESON_TEST_ARGUMENT...]
#
# Without arguments it runs the tests with more than one thread:
#   threads            readers resolve and snapshot while loads run;
#                      loads from several threads serialized; two
#                      registries' import time limits at once
#   run                jobs run from four threads at once
#   storage_memory     one in-memory backend used from several threads
#   git_sync_atomic    a reader takes snapshots while syncs (good and
#                      failing) move the checkout
#   git_sync_locks     threads playing another process that holds a
#                      checkout's lock while a load or a sync waits
#   borrow_interpreter a host-started interpreter, a load from a 2nd thread
#   error              the thread-local last error
#   load_errors        the import watchdog thread interrupting a module
# Tests whose only concurrency is between processes (storage_sqlite: two
# processes on one database) or that run one thread (refresh, author_api)
# give ThreadSanitizer nothing to judge and are left out. Any argument
# replaces the list, e.g. `tools/run-tsan.sh --suite unit` for every C test
# (about 20 seconds; clean too).
#
# The build lives in build-tsan (gcc, -Db_sanitize=thread). libpython is not
# instrumented: ThreadSanitizer sees the GIL only through the pthread mutex
# and condition variable CPython takes it with, which is exactly what orders
# two threads' Python work, so the library's own accesses are judged
# correctly. tests/tsan.supp holds the suppressions for CPython's own
# reports, each explained there; a report about libjobreg is a bug to fix,
# never to suppress.
#
# Address-space randomization: gcc 12's ThreadSanitizer runtime expects the
# kernel's default of at most 28 random bits for mmap. With more (sysctl
# vm.mmap_rnd_bits=32, as some distributions now set it) every test dies at
# start with "FATAL: ThreadSanitizer: unexpected memory mapping". Then the
# tests run under `setarch -R` (randomization off for them only; nothing
# system-wide changes). `sysctl vm.mmap_rnd_bits=28` as root fixes it too.
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh

build=build-tsan
if [ ! -d "$build" ]; then
	meson setup "$build" -Db_sanitize=thread -Db_lundef=false
fi
ninja -C "$build"

# halt_on_error: the first report fails the test. second_deadlock_stack:
# both stacks of a lock-order inversion. history_size=4: enough memory of
# old accesses for the long tests (git_sync_atomic) to name both sides of a race.
export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp halt_on_error=1 second_deadlock_stack=1 history_size=4 ${TSAN_OPTIONS:-}"

norandom=""
bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)
if [ "$bits" -gt 28 ]; then
	echo "vm.mmap_rnd_bits is $bits: running the tests under setarch -R"
	norandom="setarch $(uname -m) -R"
fi

if [ $# -eq 0 ]; then
	set -- threads run storage_memory git_sync_atomic git_sync_locks borrow_interpreter error load_errors
fi
$norandom meson test -C "$build" --print-errorlogs --num-processes 2 --timeout-multiplier 4 "$@"
