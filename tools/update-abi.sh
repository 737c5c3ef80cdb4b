#!/bin/sh
# Record the library's ABI as the baseline that CI compares against
# (tests/abi/libjobreg.abi). Run it only for an intended change: in the same
# commit, say what changed in CHANGELOG.md. A release also freezes its
# headers: cp -r include tests/abi/release-X.Y/include (plus version.h).
# usage: tools/update-abi.sh [BUILD_DIR]   (default: build)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
ninja -C "$build"
abidw --headers-dir include --drop-private-types --no-show-locs \
	--out-file tests/abi/libjobreg.abi "$build"/src/libjobreg.so
echo "wrote tests/abi/libjobreg.abi"
