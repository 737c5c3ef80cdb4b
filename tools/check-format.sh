#!/bin/sh
# Check that the C code is laid out as .clang-format says.
#
#   tools/check-format.sh             every .c and .h in src/, include/, tests/c/
#   tools/check-format.sh FILE...     only these files
#   tools/check-format.sh --fix FILE...
#                                     rewrite these files in place (name them:
#                                     --fix never runs over the whole tree)
#
# Prints a unified diff per file that clang-format would change, then a
# summary, and exits 1 when there is any; 0 when everything matches; 2 when
# clang-format is missing. Made for clang-format 14 (Debian 12's
# clang-format package); another version may break lines differently, so
# it says when it is not 14. CLANG_FORMAT names another binary.
#
# A region that must keep a hand layout (a table, an X-macro) goes between
# /* clang-format off */ and /* clang-format on */.
set -eu
cd "$(dirname "$0")/.."

clang_format=${CLANG_FORMAT:-}
if [ -z "$clang_format" ]; then
	for candidate in clang-format-14 clang-format; do
		if command -v "$candidate" >/dev/null 2>&1; then
			clang_format=$candidate
			break
		fi
	done
fi
if [ -z "$clang_format" ] || ! command -v "$clang_format" >/dev/null 2>&1; then
	echo "check-format: clang-format is not installed (apt-get install clang-format)" >&2
	exit 2
fi
version=$("$clang_format" --version | sed -n 's/.*version \([0-9][0-9]*\)\..*/\1/p')
if [ "$version" != "14" ]; then
	echo "check-format: $clang_format is version ${version:-unknown}, .clang-format is tuned for 14" >&2
fi

fix=0
if [ "${1:-}" = "--fix" ]; then
	fix=1
	shift
	if [ $# -eq 0 ]; then
		echo "check-format: --fix needs the files to rewrite" >&2
		exit 2
	fi
fi

if [ $# -eq 0 ]; then
	set -- $(find src include tests/c -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
fi

if [ "$fix" -eq 1 ]; then
	exec "$clang_format" --style=file -i "$@"
fi

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT INT TERM
files=0
lines=0
for file in "$@"; do
	"$clang_format" --style=file --assume-filename="$file" <"$file" >"$tmp"
	if ! cmp -s "$file" "$tmp"; then
		diff -u --label "a/$file" --label "b/$file" "$file" "$tmp" || true
		files=$((files + 1))
		lines=$((lines + $(diff "$file" "$tmp" | grep -c '^<' || true)))
	fi
done
if [ "$files" -gt 0 ]; then
	echo "check-format: $files file(s) differ from .clang-format ($lines line(s) would change);" >&2
	echo "check-format: fix with: sh tools/check-format.sh --fix FILE..." >&2
	exit 1
fi
echo "check-format: $# file(s) match .clang-format"
