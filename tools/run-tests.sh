#!/bin/sh
# Set everything up, build with AddressSanitizer and UndefinedBehaviorSanitizer,
# and run every test (C, Python, CLI, API checks).
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
if [ ! -d build-test ]; then
	meson setup build-test -Db_sanitize=address,undefined -Db_lundef=false
fi
ninja -C build-test
meson test -C build-test --print-errorlogs --num-processes 2 "$@"
