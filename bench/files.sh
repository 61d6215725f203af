#!/usr/bin/env bash
# bench/files.sh [SCALE]: PostgreSQL -> Parquet (zstd) benchmark, sluice beside the ways a
# user would do it without sluice, in one run (issue 5):
#
#   psql COPY TO a CSV file                the read limit
#   COPY to CSV, then DuckDB CSV->Parquet  the two-step way (DuckDB from npm, tests/files)
#   sluice -> file:// Parquet zstd         local store
#   sluice -> s3:// Parquet zstd           s3rver behind the SigV4-checking proxy
#
# on pgbench_accounts at pgbench scale SCALE (default 50 = 5,000,000 rows). Prints wall
# times, ratios to COPY and to COPY+DuckDB, sluice's peak RSS, and checks that every copy
# holds every row (DuckDB counts and sums aid over the Parquet files). Starts its own servers
# (scripts/test-servers.sh) under a temp dir. SLUICE_BIN picks the binary (default
# build/sluice); SLUICE_BENCH_OPTIONS adds spec options, e.g. '"writers": 2'. Not a test:
# results go to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
scale=${1:-50}
sluice=${SLUICE_BIN:-$root/build/sluice}
[ -x "$sluice" ] || bash scripts/build.sh >/dev/null
[ -d tests/files/node_modules/@duckdb/node-api ] || (cd tests/files && npm install --no-audit --no-fund --loglevel=error)
dir=$(mktemp -d /tmp/sluice-bench-files.XXXXXX)
bash scripts/test-servers.sh start "$dir" >/dev/null
trap 'bash scripts/test-servers.sh stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
# shellcheck disable=SC1091
. "$dir/env.sh"
[ -n "${SLUICE_TEST_S3_ENDPOINT:-}" ] || { echo "no S3 test server (tests/s3 npm packages?)" >&2; exit 1; }
# The tests' helpers (duck: one DuckDB query). common.sh takes over the EXIT trap.
# shellcheck source=tests/lib/common.sh
. tests/lib/common.sh
# shellcheck source=tests/lib/files.sh
. tests/lib/files.sh
on_exit "bash '$root/scripts/test-servers.sh' stop '$dir' >/dev/null 2>&1; rm -rf '$dir'"

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }
pg() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
rows=$((scale * 100000))

echo "== preparing pgbench_accounts at scale $scale ($rows rows)"
pg -d postgres -c "CREATE DATABASE bench"
pgbench -i -s "$scale" -q -I dtgp bench >/dev/null 2>&1
pg -d bench -c "VACUUM ANALYZE pgbench_accounts"
want=$(pg -d bench -c "SELECT count(*) || ' ' || sum(aid) FROM pgbench_accounts")

echo "== psql COPY TO a CSV file"
start=$(now)
pg -d bench -c "COPY pgbench_accounts TO STDOUT (FORMAT csv, HEADER)" >"$dir/accounts.csv"
t_copy=$(elapsed "$start")

echo "== COPY, then DuckDB CSV -> Parquet (zstd)"
start=$(now)
pg -d bench -c "COPY pgbench_accounts TO STDOUT (FORMAT csv, HEADER)" >"$dir/accounts2.csv"
duck "COPY (SELECT * FROM read_csv('$dir/accounts2.csv', header = true))
      TO '$dir/duck.parquet' (FORMAT parquet, COMPRESSION zstd)" >/dev/null
t_duck=$(elapsed "$start")
got=$(duck "SELECT count(*) || ' ' || sum(aid) FROM read_parquet('$dir/duck.parquet')")
[ "$got" = "$want" ] || { echo "DuckDB's Parquet holds $got, want $want" >&2; exit 1; }
rm -f "$dir/accounts.csv" "$dir/accounts2.csv"

# run_sluice NAME TARGET_URL: prints the wall time; the peak RSS (VmHWM, KiB) of sluice
# itself goes to $dir/NAME.rss.
run_sluice() {
  local name=$1 url=$2 start pid hwm=0 h
  printf '{"name": "bench-%s", "mode": "load", "source": {"url": "%s/bench", "tables": ["pgbench_accounts"]},
   "target": {"url": "%s"}, "options": {%s}}\n' "$name" "$SLUICE_TEST_PG_URL" "$url" "${SLUICE_BENCH_OPTIONS:-}" >"$dir/$name.json"
  start=$(now)
  "$sluice" run "$dir/$name.json" --data-dir "$dir/$name.data" --no-progress 2>"$dir/$name.log" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    h=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${h:-0}" -le "$hwm" ] || hwm=$h
    sleep 0.2
  done
  wait "$pid" || { echo "sluice $name failed:" >&2; tail -5 "$dir/$name.log" >&2; exit 1; }
  echo "$hwm" >"$dir/$name.rss"
  elapsed "$start"
}

echo "== sluice -> file:// Parquet zstd"
t_local=$(run_sluice local "file://$dir/out?format=parquet&compression=zstd")
got=$(duck "SELECT count(*) || ' ' || sum(aid) FROM read_parquet('$dir/out/pgbench_accounts/*.parquet')")
[ "$got" = "$want" ] || { echo "sluice's local Parquet holds $got, want $want" >&2; exit 1; }
local_bytes=$(du -sb "$dir/out/pgbench_accounts" | cut -f1)

echo "== sluice -> s3:// (s3rver) Parquet zstd"
t_s3=$(run_sluice s3 "$SLUICE_TEST_S3_URL&format=parquet&compression=zstd")
mkdir -p "$dir/s3copy"
node tests/s3/fetch.js --endpoint "$SLUICE_TEST_S3_DIRECT" --bucket "$SLUICE_TEST_S3_BUCKET" \
  --prefix pgbench_accounts --dest "$dir/s3copy" >/dev/null
got=$(duck "SELECT count(*) || ' ' || sum(aid) FROM read_parquet('$dir/s3copy/*.parquet')")
[ "$got" = "$want" ] || { echo "sluice's S3 Parquet holds $got, want $want" >&2; exit 1; }

ratio() { echo "scale=2; $1 / $2" | bc; }
echo
echo "results ($rows rows, $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M') UTC)"
printf '%-36s %8.1f s\n' "psql COPY TO csv file" "$t_copy"
printf '%-36s %8.1f s   %sx COPY\n' "COPY + DuckDB csv->parquet zstd" "$t_duck" "$(ratio "$t_duck" "$t_copy")"
printf '%-36s %8.1f s   %sx COPY, %sx COPY+DuckDB   peak RSS %d MB   %d MB of Parquet\n' \
  "sluice -> file:// parquet zstd" "$t_local" "$(ratio "$t_local" "$t_copy")" "$(ratio "$t_local" "$t_duck")" \
  $(($(cat "$dir/local.rss") / 1024)) $((local_bytes / 1048576))
printf '%-36s %8.1f s   %sx COPY, %sx COPY+DuckDB   peak RSS %d MB\n' \
  "sluice -> s3:// parquet zstd" "$t_s3" "$(ratio "$t_s3" "$t_copy")" "$(ratio "$t_s3" "$t_duck")" \
  $(($(cat "$dir/s3.rss") / 1024))
