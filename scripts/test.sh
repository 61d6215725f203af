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
# integration test mostly waits on servers, workloads and the start of short processes,
# not on the CPU). Each test pass has SLUICE_TEST_SERVERS (2) sets of servers ("lanes":
# PostgreSQL, MariaDB and S3, scripts/test-servers.sh, free loopback ports under a temp
# dir), and runs as many integration tests at once, each on a lane of its own (ctest's
# resource "servers", see tests/CMakeLists.txt); all are stopped on exit. The servers
# start while the first build runs. Under the sanitizer passes a report from any
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
#   SLUICE_TEST_SERVERS=N          server lanes per test pass (default 2; 1: one test at a time)
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
lanes=${SLUICE_TEST_SERVERS:-2}
[[ "$lanes" =~ ^[1-9][0-9]*$ ]] || { echo "test.sh: SLUICE_TEST_SERVERS must be a number >= 1" >&2; exit 2; }
test_passes=()
for p in "${passes[@]}"; do [ "$p" = fuzz ] || test_passes+=("$p"); done
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
servers_pid=
# Sends SIGTERM to process $1 and all its descendants (children first listed, then killed
# parent first, so that none is re-parented out of reach).
kill_tree() {
  local kids k
  kids=$(cat /proc/"$1"/task/*/children 2>/dev/null || true)
  kill -TERM "$1" 2>/dev/null || true
  for k in $kids; do kill_tree "$k"; done
}
cleanup() {
  local rc=$? p d
  for p in "${passes[@]}"; do
    [ ! -f "$tmp/$p.pid" ] || [ -f "$tmp/$p.end" ] || kill_tree "$(cat "$tmp/$p.pid")"
  done
  for p in "${pids[@]}" $servers_pid; do kill -TERM "$p" 2>/dev/null || true; done
  [ -z "$servers_pid" ] || wait "$servers_pid" 2>/dev/null || true
  for p in "${test_passes[@]}"; do
    for d in "$tmp/$p"/lane*; do
      [ -d "$d" ] || continue
      bash "$root/scripts/test-servers.sh" stop "$d" >/dev/null 2>&1 || true
    done
  done
  if [ "$rc" = 0 ] && [ ${#failed[@]} -eq 0 ] && [ "${SLUICE_TEST_KEEP:-0}" != 1 ]; then
    rm -rf "$tmp"
  else
    echo "test.sh: server data and logs kept in $tmp" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The servers of every lane of every test pass (each pass its own, so that the passes can
# run at the same time), started one set after the other in the background while the first
# build runs; ctest's resource spec of each pass lists its lanes. A failed start is
# reported when the first pass is about to begin, and keeps the logs (failed[]).
start_servers() {
  local p i d
  for p in "${test_passes[@]}"; do
    for ((i = 0; i < lanes; i++)); do
      d=$tmp/$p/lane$i
      mkdir -p "$d"
      bash scripts/test-servers.sh start "$d" >"$d.start.log" 2>&1 ||
        { cat "$d.start.log" >&2; return 1; }
    done
    jq -n --argjson n "$lanes" '{version: {major: 1, minor: 0},
      local: [{servers: [range($n) | {id: "lane\(.)", slots: 1}]}]}' >"$tmp/$p/resources.json"
  done
}
if [ ${#test_passes[@]} -gt 0 ]; then
  start_servers &
  servers_pid=$!
fi
wait_servers() {
  [ -n "$servers_pid" ] || return 0
  local rc=0
  wait "$servers_pid" || rc=$?
  servers_pid=
  if [ "$rc" != 0 ]; then
    failed=(servers)
    echo "test.sh: the test servers did not start" >&2
    exit 1
  fi
  echo "test.sh: servers of ${#test_passes[@]} pass(es) x $lanes lane(s) started"
}

# Prints the CPU seconds used so far by the servers of pass $1's lanes (PostgreSQL with its
# backends, MariaDB, s3rver and its proxy), from /proc/PID/stat (utime stime cutime cstime).
servers_cpu() {
  local d f pid ticks=0
  for d in "$tmp/$1"/lane*; do
    for f in "$d/pg/data/postmaster.pid" "$d/my/mariadbd.pid" "$d/s3/s3rver.pid" "$d/s3/proxy.pid"; do
      pid=$(head -n 1 "$f" 2>/dev/null) || continue
      ticks=$((ticks + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
  done
  echo $((ticks / $(getconf CLK_TCK)))
}

# Runs pass $1's ctest (against the lanes of $tmp/$1; lane0 is also the environment of the
# tests that take no lane) with the remaining arguments, in a subshell; exits non-zero when
# a test failed.
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
  source "$tmp/$p/lane0/env.sh"
  export SLUICE_BIN="$root/$dir/sluice" SLUICE_TEST_LANES_DIR="$tmp/$p"
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
  exec "${timed[@]}" ctest --output-on-failure --no-tests=error -j "$((lanes + $(nproc)))" \
    --resource-spec-file "$tmp/$p/resources.json" "$@"
)

# Starts pass $1 in the background (its log in $tmp/$1.log, each line also printed with a
# prefix), or runs it in the foreground under SLUICE_TEST_SERIAL=1.
start_pass() {
  local p=$1
  shift
  date +%s >"$tmp/$p.start"
  [ "$p" = fuzz ] || servers_cpu "$p" >"$tmp/$p.scpu0"
  if [ "${SLUICE_TEST_SERIAL:-0}" = 1 ]; then
    { echo "$BASHPID" >"$tmp/$p.pid"; r=0; run_pass "$p" "$@" 2>&1 || r=$?; echo "$r" >"$tmp/$p.rc"; date +%s >"$tmp/$p.end"; } |
      tee "$tmp/$p.log" | sed -u "s/^/[$p] /"
    return 0
  fi
  { echo "$BASHPID" >"$tmp/$p.pid"; r=0; run_pass "$p" "$@" 2>&1 || r=$?; echo "$r" >"$tmp/$p.rc"; date +%s >"$tmp/$p.end"; } |
    tee "$tmp/$p.log" | sed -u "s/^/[$p] /" &
  pids+=($!)
}

# The builds, one after the other in the order of the passes (the longest pass first);
# each pass starts when its build is done.
for p in "${passes[@]}"; do
  t0=$(date +%s)
  rc=0
  lanes_opt=-DSLUICE_TEST_LANES=$([ "$lanes" -gt 1 ] && echo ON || echo OFF)
  case $p in
  gcc) bash scripts/build.sh "$lanes_opt" || rc=$? ;;
  fuzz) bash scripts/build.sh --fuzz -DSLUICE_FUZZ_SECONDS="${SLUICE_FUZZ_SECONDS:-30}" || rc=$? ;;
  *) bash scripts/build.sh "--$p" "$lanes_opt" || rc=$? ;;
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
    wait_servers
    start_pass "$p" "$@"
  fi
done
[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}" || true
pids=()

summary=()
for p in "${passes[@]}"; do
  echo "==================== test.sh: ctest log of the $p pass ($(build_dir "$p")/) ===================="
  cat "$tmp/$p.log"
  [ "$(cat "$tmp/$p.rc" 2>/dev/null)" = 0 ] || failed+=("$p")
  [ -f "$tmp/$p.end" ] || continue
  cpu=$(tail -n 1 "$tmp/$p.cpu" 2>/dev/null | awk '{printf "%.0f", $1 + $2}')
  cpu=${cpu:-0}
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
