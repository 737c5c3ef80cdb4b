#!/bin/sh
# Run the libFuzzer targets of tests/fuzz/ for a while.
#
#   tools/fuzz.sh TARGET [MINUTES] [LIBFUZZER_OPTION...]
#   tools/fuzz.sh all [MINUTES]          every target, one after the other
#   tools/fuzz.sh TARGET --run FILE...   run these inputs once (a crash's)
#
# TARGET is config, resolve, slug or meta; MINUTES defaults to 5.
#
# On first use it sets up build-fuzz: clang, AddressSanitizer and
# UndefinedBehaviorSanitizer, and the library itself instrumented for
# coverage (-fsanitize=fuzzer-no-link), so that the fuzzer is guided by the
# library's branches, not only the harness's. The sanitizer runtime is the
# shared one (-shared-libsan) because src/meson.build links the library with
# -Wl,--no-undefined, which clang's static runtimes cannot satisfy in a
# shared object.
#
# The seeds in tests/fuzz/corpus/TARGET are read, never written; what the
# fuzzer finds goes to build-fuzz/fuzz-corpus/TARGET (kept between runs) and
# crashes to build-fuzz/fuzz-crashes/TARGET/. To keep an input as a
# regression test, fix the bug, then copy the input into
# tests/fuzz/corpus/TARGET/: every CI run replays that folder
# (meson test --suite fuzz-replay).
set -eu
cd "$(dirname "$0")/.."

usage() {
	echo "usage: $0 config|resolve|slug|meta|all [MINUTES] [LIBFUZZER_OPTION...]" >&2
	echo "       $0 config|resolve|slug|meta --run FILE..." >&2
	exit 2
}
[ $# -ge 1 ] || usage
target=$1
shift
minutes=5
run_files=0
if [ "${1:-}" = --run ]; then
	run_files=1
	shift
	[ $# -ge 1 ] || usage
elif [ $# -ge 1 ]; then
	minutes=$1
	shift
fi
case $minutes in '' | *[!0-9]*) usage ;; esac

JOBREG_QUALITY_TOOLS=1 sh tools/install-deps.sh

build=build-fuzz
if [ ! -d "$build" ]; then
	CC=clang meson setup "$build" \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fsanitize=fuzzer-no-link \
		"-Dc_link_args=-shared-libsan -Wl,-rpath,$(clang --print-runtime-dir)"
fi
ninja -C "$build"

# libpython is not instrumented and keeps memory until exit by design: the
# same suppressions as the test suite (tests/lsan.supp, each explained).
# libFuzzer pulls libstdc++ in ahead of the shared ASan runtime; that order
# is harmless (libstdc++ does not define malloc), so ASan is told not to
# insist on coming first.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:detect_odr_violation=0:verify_asan_link_order=0}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export PYTHONDONTWRITEBYTECODE=1

run_one() {
	t=$1
	shift
	case $t in config | resolve | slug | meta) ;; *) usage ;; esac
	mkdir -p "$build/fuzz-corpus/$t" "$build/fuzz-crashes/$t"
	echo "== fuzz_$t for $minutes minute(s)"
	"$build/tests/fuzz/fuzz_$t" \
		-max_total_time=$((minutes * 60)) \
		-timeout=10 -max_len=4096 -print_final_stats=1 \
		-dict="tests/fuzz/dict/$t.dict" \
		-artifact_prefix="$build/fuzz-crashes/$t/" \
		"$@" \
		"$build/fuzz-corpus/$t" "tests/fuzz/corpus/$t"
}

if [ "$run_files" = 1 ]; then
	case $target in config | resolve | slug | meta) ;; *) usage ;; esac
	exec "$build/tests/fuzz/fuzz_$target" "$@"
fi
if [ "$target" = all ]; then
	for t in config resolve slug meta; do
		run_one "$t" "$@"
	done
else
	run_one "$target" "$@"
fi
