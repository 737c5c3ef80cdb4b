#!/bin/sh
# The library exports exactly the functions of src/libjobreg.map, each one
# versioned, and exactly those the public headers declare.
# usage: check_symbols.sh LIBRARY MAP_FILE INCLUDE_DIR
set -u
lib=$1 map=$2 inc=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRWV]$/ { print $3 }' | sed 's/@.*//' | grep -v '^JOBREG_' | sort > "$tmp/exported"
sed 's|/\*.*\*/||' "$map" | grep -oE '^[[:space:]]*jobreg_[a-z0-9_]+;' | tr -d ' \t;' | sort > "$tmp/mapped"
grep -rhoE 'JOBREG_EXTERN\([^)]*\)[[:space:]]*(\*[[:space:]]*)?jobreg_[a-z0-9_]+|^jobreg_[a-z0-9_]+\(' "$inc" \
	| grep -oE 'jobreg_[a-z0-9_]+$|jobreg_[a-z0-9_]+\($' | tr -d '(' | sort -u > "$tmp/declared"
# Declarations split over two lines: "JOBREG_EXTERN(int)\njobreg_x(...)".
grep -rhE -A1 'JOBREG_EXTERN\([^)]*\)[[:space:]]*$' "$inc" | grep -oE '^jobreg_[a-z0-9_]+' >> "$tmp/declared"
sort -u -o "$tmp/declared" "$tmp/declared"

check() {
	if [ -n "$2" ]; then
		echo "FAIL $1:"; echo "$2" | sed 's/^/    /'; failed=$((failed + 1))
	else
		echo "ok   $1"
	fi
}
check "every exported symbol is in the map" "$(comm -23 "$tmp/exported" "$tmp/mapped")"
check "every symbol of the map is exported" "$(comm -13 "$tmp/exported" "$tmp/mapped")"
check "every exported symbol is declared in a public header" "$(comm -23 "$tmp/exported" "$tmp/declared")"
check "every declared function is exported" "$(comm -13 "$tmp/exported" "$tmp/declared")"
check "every exported symbol carries a JOBREG_ version" \
	"$(nm -D --defined-only --with-symbol-versions "$lib" 2>/dev/null | awk '$2 ~ /^[TDBRWV]$/ { print $3 }' | grep '^jobreg_' | grep -v '@@JOBREG_[0-9.]*$')"
check "no internal jr_ symbol leaks" "$(grep '^jr_' "$tmp/exported")"
passed=$((6 - failed))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
