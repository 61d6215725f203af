#!/usr/bin/env bash
# install-deps.sh: installs the Debian packages that sluice builds and tests with.
#
# Idempotent and quiet when there is nothing to do: each package is checked with dpkg -s,
# and apt-get update/install run only when something is missing. Works with no TTY.
# While it installs, services are kept from starting (a temporary policy-rc.d), so the
# Debian postgresql and mariadb-server packages do not start their own servers on 5432
# and 3306: the tests run their own servers on free ports (scripts/test-servers.sh).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libpq-dev libmariadb-dev libnats-dev nats-server libmicrohttpd-dev libgnutls28-dev libjansson-dev
  libcurl4-openssl-dev libssl-dev libsodium-dev libzstd-dev libsnappy-dev zlib1g-dev liblz4-dev
  libcmocka-dev
  postgresql postgresql-client mariadb-server mariadb-client sysbench pgloader
  jq bc time procps curl python3 prometheus chromium
)
# Node.js and npm only when the tests have npm dependencies (test.sh runs npm install).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -n "$(find "$here/../tests" -name package.json -not -path '*/node_modules/*' 2>/dev/null | head -n 1)" ] &&
   ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

# dpkg-query prints only the status field; comparing a captured string avoids a pipe into
# `grep -q`, which exits at its first match and, under pipefail, turned dpkg's SIGPIPE into
# "not installed" for packages with a long `dpkg -s` output (prometheus).
installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for p in "${PACKAGES[@]}"; do
  installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages are installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive

policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
  trap '"${sudo[@]}" rm -f "$policy"' EXIT
fi

apt_opts=(-y -q -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install "${apt_opts[@]}" "${missing[@]}" </dev/null

still=()
for p in "${missing[@]}"; do
  installed "$p" || still+=("$p")
done
if [ ${#still[@]} -ne 0 ]; then
  echo "install-deps: still missing after apt-get install: ${still[*]}" >&2
  exit 1
fi
echo "install-deps: done"
