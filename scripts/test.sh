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
#   SLUICE_TEST_SERIAL=1      run the two passes one after the other (by default they run
#                             at the same time, each against its own servers)
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
chmod 711 "$tmp" # the postgres user must reach the servers' dirs below it
passes=(build)
[ "$asan" = 0 ] || passes+=(build-asan)
failed=()
cleanup() {
  local p
  for p in "${passes[@]}"; do
    bash "$root/scripts/test-servers.sh" stop "$tmp/$p" >/dev/null 2>&1 || true
  done
  if [ ${#failed[@]} -eq 0 ] && [ "${SLUICE_TEST_KEEP:-0}" != 1 ]; then
    rm -rf "$tmp"
  else
    echo "test.sh: server data and logs kept in $tmp" >&2
  fi
}
trap cleanup EXIT

# Each pass gets its own servers, so the two passes can run at the same time: most of an
# integration test's time is spent waiting on servers and workloads, not on the CPU.
# A failed start leaves a reason in failed[], so cleanup keeps the logs.
failed=(servers)
for p in "${passes[@]}"; do
  mkdir -p "$tmp/$p"
  bash scripts/test-servers.sh start "$tmp/$p"
done
failed=()

# Runs ctest in build directory $1 (against the servers of $tmp/$1) with the remaining
# arguments, in a subshell; exits non-zero when a test failed.
run_ctest() (
  local dir=$1
  shift
  # shellcheck disable=SC1090
  source "$tmp/$dir/env.sh"
  export SLUICE_BIN="$root/$dir/sluice"
  if [ "$dir" = build-asan ]; then
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    if [ -f "$root/tests/lsan.supp" ]; then
      export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
    fi
  fi
  echo "test.sh: ctest in $dir/"
  cd "$root/$dir" && ctest --output-on-failure --no-tests=error -j "$(nproc)" "$@"
)

if [ "${SLUICE_TEST_SERIAL:-0}" = 1 ] || [ ${#passes[@]} = 1 ]; then
  for p in "${passes[@]}"; do
    run_ctest "$p" "$@" || failed+=("$p")
  done
else
  # Both passes at once; each line is prefixed with its pass, and each pass's whole log is
  # printed again at the end so that a failure reads in one piece.
  pids=()
  for p in "${passes[@]}"; do
    { run_ctest "$p" "$@" 2>&1; echo $? > "$tmp/$p.ctest.rc"; } |
      tee "$tmp/$p.ctest.log" | sed -u "s/^/[$p] /" &
    pids+=($!)
  done
  wait "${pids[@]}"
  for p in "${passes[@]}"; do
    echo "==================== test.sh: ctest log of $p/ ===================="
    cat "$tmp/$p.ctest.log"
    [ "$(cat "$tmp/$p.ctest.rc")" = 0 ] || failed+=("$p")
  done
fi

if [ ${#failed[@]} -ne 0 ]; then
  echo "test.sh: ctest failed in: ${failed[*]}" >&2
  exit 1
fi
