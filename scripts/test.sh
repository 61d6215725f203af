#!/usr/bin/env bash
# test.sh [CTEST_ARGS...]: THE test command (the README's, and CI's through .ci/run).
#
# Installs what is missing, builds build/ (gcc) and build-asan/ (clang, ASan+UBSan), starts
# PostgreSQL and MariaDB on free loopback ports under a temp dir, runs ctest in both build
# directories against them, and stops the servers on exit. Exits non-zero if any ctest run
# failed. Extra arguments go to both ctest runs, e.g. `scripts/test.sh -R chinook` or
# `scripts/test.sh -L unit`.
#
#   SLUICE_TEST_SKIP_ASAN=1   skip the ASan build and pass (quicker local iteration)
#   SLUICE_TEST_KEEP=1        keep the temp dir (server data and logs) even on success
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh

# npm dependencies of test helpers (an S3 server, Parquet readers, a browser driver).
while IFS= read -r pkg; do
  echo "test.sh: npm install in ${pkg%/package.json}"
  (cd "$(dirname "$pkg")" && npm install --no-audit --no-fund --loglevel=error)
done < <(find tests -name package.json -not -path '*/node_modules/*' | sort)

asan=1
[ "${SLUICE_TEST_SKIP_ASAN:-0}" = 1 ] && asan=0
bash scripts/build.sh
[ "$asan" = 0 ] || bash scripts/build.sh --asan

tmp=$(mktemp -d /tmp/sluice-test.XXXXXX)
failed=()
cleanup() {
  bash "$root/scripts/test-servers.sh" stop "$tmp" >/dev/null || true
  if [ ${#failed[@]} -eq 0 ] && [ "${SLUICE_TEST_KEEP:-0}" != 1 ]; then
    rm -rf "$tmp"
  else
    echo "test.sh: server data and logs kept in $tmp" >&2
  fi
}
trap cleanup EXIT
# A failed start leaves a reason in failed[], so cleanup keeps the logs.
failed=(servers)
bash scripts/test-servers.sh start "$tmp"
failed=()
# shellcheck disable=SC1091
source "$tmp/env.sh"

# Runs ctest in build directory $1 with the remaining arguments; records a failure.
run_ctest() {
  local dir=$1
  shift
  echo "test.sh: ctest in $dir/"
  export SLUICE_BIN="$root/$dir/sluice"
  (cd "$dir" && ctest --output-on-failure --no-tests=error -j "$(nproc)" "$@") ||
    failed+=("$dir")
}

run_ctest build "$@"
if [ "$asan" = 1 ]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  if [ -f tests/lsan.supp ]; then
    export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
  fi
  run_ctest build-asan "$@"
fi

if [ ${#failed[@]} -ne 0 ]; then
  echo "test.sh: ctest failed in: ${failed[*]}" >&2
  exit 1
fi
