#!/usr/bin/env bash
# bench/files_source.sh [ROWS]: a Parquet file (zstd) into PostgreSQL with sluice, beside
# COPY FROM of the same rows as CSV, in one run (issue 16):
#
#   DuckDB's own read of the Parquet file    the reference reader (every column touched)
#   psql COPY FROM the CSV file              the load limit
#   sluice file:// Parquet -> PostgreSQL     the file source
#   sluice on a file a quarter the size      peak RSS must not grow with the file
#
# ROWS (default 2,000,000) of a 7-column table (bigint, int, numeric(12,2), text, timestamp,
# bool, double precision), written by DuckDB (npm, tests/files) as one Parquet file (zstd,
# DuckDB's row groups of 122,880 rows) and as CSV. Prints wall times, ratios to COPY and
# sluice's peak RSS; checks that every load holds every row (count and sums). Starts its own
# servers (scripts/test-servers.sh) under a temp dir. SLUICE_BIN picks the binary (default
# build/sluice); SLUICE_BENCH_OPTIONS adds spec options, e.g. '"writers": 2';
# SLUICE_BENCH_REPEAT=N runs COPY and sluice N times, alternated, and prints medians;
# SLUICE_BASE_BIN=/path/to/an/older/sluice times that build too, in the same rounds. Not a test:
# results go to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
rows=${1:-2000000}
sluice=${SLUICE_BIN:-$root/build/sluice}
[ -x "$sluice" ] || bash scripts/build.sh >/dev/null
[ -d tests/files/node_modules/@duckdb/node-api ] || (cd tests/files && npm install --no-audit --no-fund --loglevel=error)
dir=$(mktemp -d /tmp/sluice-bench-fsrc.XXXXXX)
chmod 711 "$dir"
bash scripts/test-servers.sh start "$dir" >/dev/null
trap 'bash scripts/test-servers.sh stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
# shellcheck disable=SC1091
. "$dir/env.sh"
# shellcheck source=tests/lib/common.sh
. tests/lib/common.sh
# shellcheck source=tests/lib/files.sh
. tests/lib/files.sh
on_exit "bash '$root/scripts/test-servers.sh' stop '$dir' >/dev/null 2>&1; rm -rf '$dir'"

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }
pg() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
ratio() { echo "scale=2; $1 / $2" | bc; }

# write_files N DIR: DIR/t/t.parquet (the source directory) and DIR.csv with N rows.
write_files() {
  mkdir -p "$2/t"
  duck "COPY (SELECT i AS id, (i % 1000)::INT AS grp, ((i % 100000) * 0.01)::DECIMAL(12,2) AS amount,
          'customer ' || (i % 50000) AS name, TIMESTAMP '2020-01-01' + to_seconds(i) AS created,
          i % 3 = 0 AS flag, i / 7.0 AS score FROM range($1) r(i))
        TO '$2/t/t.parquet' (FORMAT parquet, COMPRESSION zstd)" >/dev/null
  duck "COPY (SELECT * FROM read_parquet('$2/t/t.parquet')) TO '$2.csv' (HEADER)" >/dev/null
}

echo "== writing $rows rows as Parquet (zstd) and CSV with DuckDB"
write_files "$rows" "$dir/full"
write_files $((rows / 4)) "$dir/quarter"
pq_bytes=$(stat -c %s "$dir/full/t/t.parquet")
want=$(duck "SELECT count(*) || ' ' || sum(id) || ' ' || sum(amount) FROM read_parquet('$dir/full/t/t.parquet')")

echo "== DuckDB reads the Parquet file (every column)"
start=$(now)
duck "SELECT count(*), sum(id), sum(grp), sum(amount), max(name), max(created), count(flag), sum(score)
      FROM read_parquet('$dir/full/t/t.parquet')" >/dev/null
t_duck=$(elapsed "$start")

# run_sluice NAME BIN SRC_DIR DB: prints the wall time; sluice's peak RSS (VmHWM, KiB) goes to
# $dir/NAME.rss.
run_sluice() {
  local name=$1 bin=$2 src=$3 db=$4 start pid hwm=0 h
  printf '{"name": "bench-%s", "mode": "load", "source": {"url": "file://%s", "tables": ["t"]},
   "target": {"url": "%s/%s"}, "options": {%s}}\n' "$name" "$src" "$SLUICE_TEST_PG_URL" "$db" \
    "${SLUICE_BENCH_OPTIONS:-}" >"$dir/$name.json"
  start=$(now)
  "$bin" run "$dir/$name.json" --data-dir "$dir/$name.data" --no-progress 2>"$dir/$name.log" &
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

# median of the numbers on stdin
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

table_sql="CREATE TABLE t (id bigint, grp integer, amount numeric(12,2), name text,
  created timestamp, flag boolean, score double precision)"
check() { # check DB WHAT: the table holds every row
  local got
  got=$(pg -d "$1" -c "SELECT count(*) || ' ' || sum(id) || ' ' || sum(amount) FROM t")
  [ "$got" = "$want" ] || { echo "$2 loaded $got, want $want" >&2; exit 1; }
}

# REPEAT rounds, each COPY then sluice (then SLUICE_BASE_BIN, another build to compare
# with, when set), alternated so that the machine's load falls on all of them alike.
repeat=${SLUICE_BENCH_REPEAT:-1}
: >"$dir/copy.times"
: >"$dir/sluice.times"
: >"$dir/base.times"
for r in $(seq 1 "$repeat"); do
  echo "== round $r/$repeat: psql COPY FROM the CSV file"
  pg -d postgres -c "CREATE DATABASE bench_copy_$r"
  pg -d "bench_copy_$r" -c "$table_sql"
  start=$(now)
  pg -d "bench_copy_$r" -c "COPY t FROM STDIN (FORMAT csv, HEADER)" <"$dir/full.csv"
  elapsed "$start" >>"$dir/copy.times"
  check "bench_copy_$r" COPY
  echo "== round $r/$repeat: sluice file:// Parquet -> PostgreSQL"
  pg -d postgres -c "CREATE DATABASE bench_sluice_$r"
  run_sluice "full$r" "$sluice" "$dir/full" "bench_sluice_$r" >>"$dir/sluice.times"
  check "bench_sluice_$r" sluice
  if [ -n "${SLUICE_BASE_BIN:-}" ]; then
    echo "== round $r/$repeat: the base build ($SLUICE_BASE_BIN)"
    pg -d postgres -c "CREATE DATABASE bench_base_$r"
    run_sluice "base$r" "$SLUICE_BASE_BIN" "$dir/full" "bench_base_$r" >>"$dir/base.times"
    check "bench_base_$r" "the base build"
  fi
done
t_copy=$(median <"$dir/copy.times")
t_sluice=$(median <"$dir/sluice.times")
cp "$dir/full1.rss" "$dir/full.rss"

echo "== sluice on a file a quarter the size (peak RSS)"
pg -d postgres -c "CREATE DATABASE bench_quarter"
t_quarter=$(run_sluice quarter "$sluice" "$dir/quarter" bench_quarter)
[ "$(pg -d bench_quarter -c 'SELECT count(*) FROM t')" = $((rows / 4)) ] || { echo "quarter load incomplete" >&2; exit 1; }

echo
echo "results ($rows rows, medians of $repeat, $((pq_bytes / 1048576)) MB of Parquet, $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M') UTC)"
printf '%-40s %8.1f s   %sx COPY\n' "DuckDB reads the Parquet file" "$t_duck" "$(ratio "$t_duck" "$t_copy")"
printf '%-40s %8.1f s\n' "psql COPY FROM csv" "$t_copy"
printf '%-40s %8.1f s   %sx COPY   peak RSS %d MB\n' "sluice file:// parquet -> PostgreSQL" "$t_sluice" \
  "$(ratio "$t_sluice" "$t_copy")" $(($(cat "$dir/full.rss") / 1024))
[ -z "${SLUICE_BASE_BIN:-}" ] || printf '%-40s %8.1f s   %sx COPY   peak RSS %d MB\n' "the base build (SLUICE_BASE_BIN)" \
  "$(median <"$dir/base.times")" "$(ratio "$(median <"$dir/base.times")" "$t_copy")" $(($(cat "$dir/base1.rss") / 1024))
echo "times per round: COPY $(tr '\n' ' ' <"$dir/copy.times")| sluice $(tr '\n' ' ' <"$dir/sluice.times")| base $(tr '\n' ' ' <"$dir/base.times")"
printf '%-40s %8.1f s              peak RSS %d MB\n' "sluice, a quarter of the rows" "$t_quarter" \
  $(($(cat "$dir/quarter.rss") / 1024))
