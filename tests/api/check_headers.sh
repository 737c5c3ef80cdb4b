#!/bin/sh
# Every public header compiles alone: as C99 with -pedantic -Werror, and as C++;
# and a header split by subject still declares all it did (below).
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

# A header split by subject still declares all it did, so existing hosts
# compile unchanged: records.h (split in 0.3.0) and registry.h (snapshot.h
# out of it in 0.3.0) name every function of the headers they include.
functions_of() {
	{
		grep -hoE 'JOBREG_EXTERN\([^)]*\)[[:space:]]*(\*[[:space:]]*)?jobreg_[a-z0-9_]+' "$@"
		grep -hE -A1 'JOBREG_EXTERN\([^)]*\)[[:space:]]*$' "$@" | grep -oE '^jobreg_[a-z0-9_]+'
	} | grep -oE 'jobreg_[a-z0-9_]+$' | sort -u
}
for split in 'records.h: record.h storage.h refresh.h storage_ops.h storage_git_state.h' \
             'registry.h: snapshot.h'; do
	whole=${split%%:*} parts=${split#*: }
	{
		printf '#include <jobreg/%s>\ntypedef void (*any_fn)(void);\nstatic const any_fn all[] = {\n' "$whole"
		functions_of $(for part in $parts; do echo "$src/jobreg/$part"; done) | sed 's/.*/\t(any_fn)&,/'
		printf '};\nint main(void) { return all[0] == 0; }\n'
	} > "$tmp/whole.c"
	if "$cc" -std=c99 -Wall -Wextra -pedantic -Werror -I"$src" -I"$build" -c "$tmp/whole.c" -o "$tmp/t.o"; then
		echo "ok   jobreg/$whole declares all of $parts"
		passed=$((passed + 1))
	else
		echo "FAIL jobreg/$whole no longer declares all of $parts"
		failed=$((failed + 1))
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
