#!/bin/sh
# Set everything up, build, and run the jobreg command on the bundled examples.
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
[ -d build ] || meson setup build
ninja -C build
./build/src/cli/jobreg -c docs/examples/jobreg.yaml sync
./build/src/cli/jobreg -c docs/examples/jobreg.yaml list
