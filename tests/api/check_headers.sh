#!/bin/sh
# Every public header compiles alone: as C99 with -pedantic -Werror, and as C++.
# usage: check_headers.sh SOURCE_INCLUDE_DIR BUILD_INCLUDE_DIR CC CXX
set -u
src=$1 build=$2 cc=$3 cxx=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0 passed=0
for header in $(cd "$src" && find . -name '*.h' | sed 's|^\./||' | sort) jobreg/version.h; do
	printf '#include <%s>\n#include <%s>\nint main(void) { return 0; }\n' "$header" "$header" > "$tmp/t.c"
	cp "$tmp/t.c" "$tmp/t.cpp"
	if "$cc" -std=c99 -Wall -Wextra -pedantic -Werror -I"$src" -I"$build" -c "$tmp/t.c" -o "$tmp/t.o" &&
	   "$cxx" -std=c++11 -Wall -Wextra -pedantic -Werror -I"$src" -I"$build" -c "$tmp/t.cpp" -o "$tmp/t.o"; then
		echo "ok   $header"
		passed=$((passed + 1))
	else
		echo "FAIL $header"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
