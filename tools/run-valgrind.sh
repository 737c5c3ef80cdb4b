#!/bin/sh
# Build without sanitizers and run the C tests under valgrind's memcheck.
#
#   tools/run-valgrind.sh [MESON_TEST_ARGUMENT...]
#
# Without arguments it runs the suite `unit` (every C test, one to two
# minutes on two cores; git_sync and refresh are the slowest, under a
# minute each). Any argument replaces that, e.g. `tools/run-valgrind.sh
# threads run`. A test fails on any memory error or definite leak (the
# `valgrind` test setup in tests/meson.build).
#
# The build lives in build-vg (no sanitizers: valgrind and ASan do not mix).
# Debian's libpython is built --with-valgrind: under valgrind its small-object
# allocator steps aside and every Python object is a malloc block, so a
# reference the library forgets to drop shows up as a leak here too.
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
if ! command -v valgrind >/dev/null; then
	echo "valgrind is not installed: apt-get install valgrind" >&2
	echo "(or JOBREG_QUALITY_TOOLS=1 sh tools/install-deps.sh)" >&2
	exit 1
fi

build=build-vg
if [ ! -d "$build" ]; then
	meson setup "$build" -Db_sanitize=none
fi
ninja -C "$build"

[ $# -eq 0 ] && set -- --suite unit
meson test -C "$build" --setup valgrind --print-errorlogs --num-processes 2 "$@"
