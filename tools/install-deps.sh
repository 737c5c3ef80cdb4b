#!/bin/sh
# Install the Debian 12 packages libjobreg builds, tests and runs with.
# Does nothing when they are all present already.
#
# doxygen is in the base list so that every CI run builds the API reference
# (the 'docs' test suite fails on broken markup and undocumented functions).
# It is not small: on Debian 12 it pulls in LLVM's libraries, about 50 MB to
# download and 240 MB installed; docs/documentation.md says why it is here.
#
# python3-yaml is PyYAML, which Job.load_yaml() uses as Nautobot does (the
# library itself reads YAML with libyaml); the Nautobot compatibility tests
# need it (docs/nautobot-compat.md).
#
# clang-format (14 on Debian 12) checks the layout of the C code against
# .clang-format: the 'format' test (docs/conventions.md).
#
# libpq-dev builds the PostgreSQL storage backend (-Dpostgresql=auto finds
# it); postgresql brings initdb and pg_ctl, with which the 'postgresql' test
# suite starts a throw-away cluster (without them those tests are skipped).
#
# The reference server (docs/examples/server, docs/server.md) and its
# end-to-end test need Django, Celery with Redis, psycopg2, redis-server,
# and a headless browser for the page: chromium, chromium-driver and
# python3-selenium (about 110 MB to download). The 'server' suite fails,
# rather than skips, without them.
set -eu
packages="meson ninja-build pkg-config gcc g++ git libgit2-dev libyaml-dev python3-dev
libsqlite3-dev python3-cffi python3-pytest python3-yaml abigail-tools doxygen
clang-format libpq-dev postgresql
python3-django python3-celery python3-redis python3-psycopg2 redis-server
chromium chromium-driver python3-selenium fonts-dejavu-core"
[ "${JOBREG_QUALITY_TOOLS:-0}" = 1 ] && packages="$packages clang valgrind libclang-rt-14-dev"

missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing:$missing"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
