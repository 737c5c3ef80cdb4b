#!/bin/sh
# Build without sanitizers and run the C tests under valgrind's memcheck.
#
#   tools/run-valgrind.sh [MESON_TEST_ARGUMENT...]
#
# Without arguments it runs the suite `unit` (every C test, one to two
# minutes on two cores; git_sync_atomic and refresh are the slowest, under
# a minute each). Any argument replaces that, e.g. `tools/run-valgrind.sh
# threads run`. A test fails on any memory error or definite leak (the
# `valgrind` test setup in tests/meson.build).
#
# The build lives in build-vg (no sanitizers: valgrind and ASan do not mix).
# What memcheck sees: the C heap (the library's arenas, generations, records,
# and libgit2, SQLite, libyaml). It does not see Python objects: Debian's
# libpython is built without --with-valgrind, so objects of up to 512 bytes
# live in pymalloc's mmap'd arenas, and the isolated interpreter the library
# starts ignores PYTHONMALLOC. A forgotten Py_DECREF does not show up here.
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
