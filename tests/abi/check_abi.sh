#!/bin/sh
# The library's ABI equals the recorded baseline, but for the changes that
# intended.suppr accepts (and the opaque handles' insides, opaque.suppr). Both sides are abidw dumps made the same way (the
# public headers only, no locations), so the comparison sees exactly the
# interface. Exit status: abidiff's (0 when equal).
# usage: check_abi.sh LIBRARY INCLUDE_DIR BASELINE SUPPRESSIONS
set -u
lib=$1 include=$2 baseline=$3 suppressions=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
abidw --headers-dir "$include" --drop-private-types --no-show-locs --out-file "$tmp/current.abi" "$lib" || exit 1
# opaque.suppr (next to this script): handles whose insides are not ABI.
if abidiff --suppressions "$(dirname "$0")/opaque.suppr" --suppressions "$suppressions" \
	"$baseline" "$tmp/current.abi"; then
	echo "1 passed, 0 failed"
	exit 0
else
	status=$?
	echo "The ABI changed. If that is intended, record it: tools/update-abi.sh (and a CHANGELOG line)."
	echo "0 passed, 1 failed"
	exit "$status"
fi
