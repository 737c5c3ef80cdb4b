#!/bin/sh
# Build with ThreadSanitizer and run the C tests that use threads.
#
#   tools/run-tsan.sh [MESON_TEST_ARGUMENT...]
#
# Without arguments it runs the threaded tests: threads (concurrent
# resolve/snapshot during loads, serialized loads), run (jobs run from
# several threads), storage_sqlite and storage_memory (handles shared by
# threads, processes on one database), git_sync (syncs, ensure-head and
# loads racing), refresh, author_api (logging from several threads),
# borrow_interpreter and error (thread-local errors). Any argument replaces
# that list, e.g. `tools/run-tsan.sh --suite unit` for every C test.
#
# The build lives in build-tsan (gcc, -Db_sanitize=thread). libpython is not
# instrumented: ThreadSanitizer sees the GIL only through the pthread mutex
# and condition variable CPython takes it with, which is exactly what orders
# two threads' Python work, so the library's own accesses are judged
# correctly. tests/tsan.supp holds the suppressions for CPython's own
# reports, each explained there; a report about libjobreg is a bug to fix,
# never to suppress.
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
# old accesses for the long tests (git_sync) to name both sides of a race.
export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp halt_on_error=1 second_deadlock_stack=1 history_size=4 ${TSAN_OPTIONS:-}"

if [ $# -eq 0 ]; then
	set -- threads run storage_sqlite storage_memory git_sync refresh author_api \
		borrow_interpreter error
fi
meson test -C "$build" --print-errorlogs --num-processes 2 --timeout-multiplier 4 "$@"
