#!/usr/bin/env bash
# test.sh [CTEST_ARGS...]: THE test command (the README's, and CI's through .ci/run).
#
# Installs what is missing, then runs four passes (docs/testing.md has their times):
#
#   tsan   build-tsan/   clang, ThreadSanitizer: every unit and integration test
#   asan   build-asan/   clang, ASan+UBSan: every unit and integration test
#   gcc    build/        gcc, the release build: every unit and integration test
#   fuzz   build-fuzz/   every libFuzzer target for SLUICE_FUZZ_SECONDS (30) from its corpus
#
# The builds run one after the other, each on every core; a pass starts as soon as its build
# is done, so the passes run side by side with the later builds and with each other (an
# integration test mostly waits on servers and workloads, not on the CPU). Each test pass
# has its own PostgreSQL, MariaDB and S3 server (scripts/test-servers.sh, free loopback
# ports under a temp dir), stopped on exit. Under the sanitizer passes a report from any
# process a test starts fails that test (tests/lib/run-integration.sh). Each line of output
# is prefixed with its pass; each pass's whole log is printed again at the end, then the
# time of every pass and its slowest tests. Exits non-zero if any pass failed.
#
# Extra arguments go to the ctest runs of the test passes, e.g. `scripts/test.sh -R chinook`
# or `scripts/test.sh -L unit`; the fuzz pass then runs only when SLUICE_TEST_PASSES names it.
#
#   SLUICE_TEST_PASSES="gcc asan"  the passes to run (default: tsan asan gcc fuzz)
#   SLUICE_TEST_SKIP_ASAN=1        leave out the asan pass (kept from before the list above)
#   SLUICE_TEST_KEEP=1             keep the temp dir (server data and logs) even on success
#   SLUICE_TEST_SERIAL=1           each pass after the previous one has finished
#   SLUICE_FUZZ_SECONDS=N          seconds of fuzzing per target (default 30)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
t_start=$(date +%s)

if [ -n "${SLUICE_TEST_PASSES:-}" ]; then
  read -r -a passes <<<"$SLUICE_TEST_PASSES"
elif [ $# -gt 0 ]; then
  passes=(tsan asan gcc)
else
  passes=(tsan asan gcc fuzz)
fi
if [ "${SLUICE_TEST_SKIP_ASAN:-0}" = 1 ]; then
  for i in "${!passes[@]}"; do [ "${passes[$i]}" != asan ] || unset 'passes[i]'; done
  passes=("${passes[@]}")
fi
[ ${#passes[@]} -gt 0 ] || { echo "test.sh: no pass to run" >&2; exit 2; }
for p in "${passes[@]}"; do
  case $p in gcc | asan | tsan | fuzz) ;; *) echo "test.sh: unknown pass '$p'" >&2; exit 2 ;; esac
done
has_pass() { [[ " ${passes[*]} " == *" $1 "* ]]; }
build_dir() {
  case $1 in gcc) echo build ;; *) echo "build-$1" ;; esac
}

bash scripts/install-deps.sh

# npm dependencies of test helpers (an S3 server, Parquet readers, a browser driver).
while IFS= read -r pkg; do
  echo "test.sh: npm install in ${pkg%/package.json}"
  (cd "$(dirname "$pkg")" && npm install --no-audit --no-fund --loglevel=error)
done < <(find tests -name package.json -not -path '*/node_modules/*' | sort)

tmp=$(mktemp -d /tmp/sluice-test.XXXXXX)
chmod 711 "$tmp" # the postgres user must reach the servers' dirs below it
failed=()
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${passes[@]}"; do
    [ "$p" = fuzz ] || bash "$root/scripts/test-servers.sh" stop "$tmp/$p" >/dev/null 2>&1 || true
  done
  if [ ${#failed[@]} -eq 0 ] && [ "${SLUICE_TEST_KEEP:-0}" != 1 ]; then
    rm -rf "$tmp"
  else
    echo "test.sh: server data and logs kept in $tmp" >&2
  fi
}
trap cleanup EXIT

# Each test pass gets its own servers, so the passes can run at the same time. A failed
# start leaves a reason in failed[], so cleanup keeps the logs.
failed=(servers)
for p in "${passes[@]}"; do
  [ "$p" != fuzz ] || continue
  mkdir -p "$tmp/$p"
  bash scripts/test-servers.sh start "$tmp/$p"
done
failed=()

# Prints the CPU seconds used so far by the servers of pass $1 (PostgreSQL with its
# backends, MariaDB, s3rver and its proxy), from /proc/PID/stat (utime stime cutime cstime).
servers_cpu() {
  local d=$tmp/$1 f pid ticks=0
  for f in "$d/pg/data/postmaster.pid" "$d/my/mariadbd.pid" "$d/s3/s3rver.pid" "$d/s3/proxy.pid"; do
    pid=$(head -n 1 "$f" 2>/dev/null) || continue
    ticks=$((ticks + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo $((ticks / $(getconf CLK_TCK)))
}

# Runs pass $1's ctest (against the servers of $tmp/$1) with the remaining arguments, in a
# subshell; exits non-zero when a test failed.
run_pass() (
  local p=$1 dir
  shift
  dir=$(build_dir "$p")
  cd "$root/$dir"
  # CPU seconds of ctest and everything it waited for, for the summary (the machine's load
  # changes wall times, not these).
  local timed=(/usr/bin/time -f '%U %S' -o "$tmp/$p.cpu")
  if [ "$p" = fuzz ]; then
    echo "test.sh: fuzz in $dir/ (${SLUICE_FUZZ_SECONDS:-30} s per target)"
    exec "${timed[@]}" ctest --output-on-failure --no-tests=error -L fuzz_budget
  fi
  # shellcheck disable=SC1090
  source "$tmp/$p/env.sh"
  export SLUICE_BIN="$root/$dir/sluice"
  case $p in
  asan)
    export SLUICE_SANITIZER_LOG_DIR="$tmp/$p/sanitizer"
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    if [ -f "$root/tests/lsan.supp" ]; then
      export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
    fi
    ;;
  tsan)
    export SLUICE_SANITIZER_LOG_DIR="$tmp/$p/sanitizer"
    export TSAN_OPTIONS="suppressions=$root/tests/tsan.supp:second_deadlock_stack=1:print_suppressions=0"
    ;;
  esac
  echo "test.sh: ctest in $dir/"
  exec "${timed[@]}" ctest --output-on-failure --no-tests=error -j "$(nproc)" "$@"
)

# Starts pass $1 in the background (its log in $tmp/$1.log, each line also printed with a
# prefix), or runs it in the foreground under SLUICE_TEST_SERIAL=1.
start_pass() {
  local p=$1
  shift
  date +%s >"$tmp/$p.start"
  [ "$p" = fuzz ] || servers_cpu "$p" >"$tmp/$p.scpu0"
  if [ "${SLUICE_TEST_SERIAL:-0}" = 1 ]; then
    { run_pass "$p" "$@" 2>&1; echo $? >"$tmp/$p.rc"; date +%s >"$tmp/$p.end"; } |
      tee "$tmp/$p.log" | sed -u "s/^/[$p] /"
    return 0
  fi
  { run_pass "$p" "$@" 2>&1; echo $? >"$tmp/$p.rc"; date +%s >"$tmp/$p.end"; } |
    tee "$tmp/$p.log" | sed -u "s/^/[$p] /" &
  pids+=($!)
}

# The builds, one after the other in the order of the passes (the longest pass first);
# each pass starts when its build is done.
for p in "${passes[@]}"; do
  t0=$(date +%s)
  rc=0
  case $p in
  gcc) bash scripts/build.sh || rc=$? ;;
  fuzz) bash scripts/build.sh --fuzz -DSLUICE_FUZZ_SECONDS="${SLUICE_FUZZ_SECONDS:-30}" || rc=$? ;;
  *) bash scripts/build.sh "--$p" || rc=$? ;;
  esac
  echo "$(($(date +%s) - t0))" >"$tmp/$p.build"
  if [ "$rc" != 0 ]; then
    echo "test.sh: the build of the $p pass failed" | tee "$tmp/$p.log"
    echo "$rc" >"$tmp/$p.rc"
    continue
  fi
  if [ "$p" = fuzz ]; then
    start_pass fuzz
  else
    start_pass "$p" "$@"
  fi
done
[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
pids=()

summary=()
for p in "${passes[@]}"; do
  echo "==================== test.sh: ctest log of the $p pass ($(build_dir "$p")/) ===================="
  cat "$tmp/$p.log"
  [ "$(cat "$tmp/$p.rc" 2>/dev/null)" = 0 ] || failed+=("$p")
  [ -f "$tmp/$p.end" ] || continue
  cpu=$(awk '{printf "%.0f", $1 + $2}' "$tmp/$p.cpu" 2>/dev/null || echo 0)
  [ "$p" = fuzz ] || cpu=$((cpu + $(servers_cpu "$p") - $(cat "$tmp/$p.scpu0")))
  summary+=("$(printf '%-5s build %4s s, tests %5s s (CPU %5s s); slowest: %s' "$p" "$(cat "$tmp/$p.build")" \
    "$(($(cat "$tmp/$p.end") - $(cat "$tmp/$p.start")))" "$cpu" \
    "$(sed -nE 's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([^ ]+) .* ([0-9.]+) sec$/\2 \1/p' "$tmp/$p.log" |
      sort -rn | head -n 5 | awk '{printf "%s%s %.0f s", (NR > 1 ? ", " : ""), $2, $1}')")")
done
echo "==================== test.sh: $(($(date +%s) - t_start)) s in all ===================="
printf '%s\n' "${summary[@]}"

if [ ${#failed[@]} -ne 0 ]; then
  echo "test.sh: failed: ${failed[*]}" >&2
  exit 1
fi
