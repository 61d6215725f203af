#!/usr/bin/env bash
# bench/cdc_mysql.sh [CHANGES]: MariaDB -> PostgreSQL change data capture benchmark (the
# binlog), sluice beside the decode limit in one run, on the same backlog of changes.
#
# Workload: CHANGES (default 1,000,000) single-row INSERTs in transactions of 1,000 rows
# (a stored procedure on the server), written after a first short sluice run (mode cdc,
# initial_load false) made the target table and stored the stream's start position; nothing
# consumes during the write. Then, over the binlog range the workload wrote:
#   (r) mariadb-binlog --raw: the events copied to a file as they come (the transfer
#       limit of the server's dump thread, no parsing);
#   (a) mariadb-binlog --read-from-remote-server to /dev/null: the server's dump thread and
#       the client's event parsing (row events printed as base64 BINLOG statements);
#   (a') the same with --verbose: every row decoded to pseudo-SQL (the decode limit);
#   (c) sluice from start until the checkpoint's flush on the target reaches the end of
#       the workload (the time the last row became visible is shown too);
# and prints changes/s and ratios.
#
# Then, unless BENCH_SYSBENCH_SECONDS=0, sysbench oltp_write_only at full speed (Debian
# package sysbench): BENCH_SYSBENCH_TABLES (4) tables of BENCH_SYSBENCH_SIZE (100,000)
# rows, copied by a first sluice run (initial load, then stopped once it has handed over
# to the binlog); then BENCH_SYSBENCH_THREADS (4) threads write for BENCH_SYSBENCH_SECONDS
# (default 30) with nothing consuming, and (a), (a') and (c) drain that backlog alone as
# above. Changes are counted as row events in the binlog range: the rows that
# mariadb-binlog --verbose prints as "### INSERT INTO", "### UPDATE" and "### DELETE FROM"
# (the (a') pass counts them; each oltp_write_only transaction changes 4 rows). The target
# tables are compared with the source afterwards (row count and sums per table).
#
# Then, unless LAG_SECONDS=0, the end-to-end lag at a
# steady rate (LAG_RATE changes/s, default 5,000, as 10-row transactions paced by a
# procedure, for LAG_SECONDS, default 30 s): the source row carries UTC_TIMESTAMP(6), a probe
# on the target records every 20 ms the largest id visible; a row's lag is the first probe
# that saw it minus its source time (p50, p99, max), skipping the first 5 s.
#
# CHANGES=0 skips the insert workload. Two builds side by side: with SLUICE_BIN_BASE set
# (e.g. a build of main), (c) runs for both builds, each BENCH_REPEAT times (default 1) in
# turns (new, base, new, base, ...), each into its own target database (made, and for
# sysbench loaded, before the workload), and the summary gives each build's median, min
# and max and the new/base ratio of every round: on a shared machine the ratio of
# neighbouring runs says more than either time.
#
# Starts its own servers (scripts/test-servers.sh) under a temp dir; needs the packages of
# scripts/install-deps.sh (mariadb-client for mariadb-binlog). Not a test: results go to
# docs/benchmarks.md. SLUICE_BIN overrides build/sluice.
#
# sluice's progress is watched by one psql session per drain that polls the checkpoint
# inside the server every 20 ms (a new psql every 50 ms took a tenth of the 2 cores).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
changes=${1:-1000000}
lag_rate=${LAG_RATE:-5000}
lag_seconds=${LAG_SECONDS:-30}
sb_seconds=${BENCH_SYSBENCH_SECONDS:-30}
sb_tables=${BENCH_SYSBENCH_TABLES:-4}
sb_size=${BENCH_SYSBENCH_SIZE:-100000}
sb_threads=${BENCH_SYSBENCH_THREADS:-4}
[ $((changes % 1000)) = 0 ] || { echo "CHANGES must be a multiple of 1000" >&2; exit 2; }
[ $((lag_rate % 10)) = 0 ] || { echo "LAG_RATE must be a multiple of 10" >&2; exit 2; }
if [ -z "${SLUICE_BIN:-}" ]; then
  [ -x build/sluice ] || bash scripts/build.sh >/dev/null
  SLUICE_BIN=$PWD/build/sluice
fi
# shellcheck source=bench/runs.sh
. bench/runs.sh
bench_runs_init
binlog_tool=$(command -v mariadb-binlog || command -v mysqlbinlog) ||
  { echo "bench: mariadb-binlog not found (Debian package mariadb-client)" >&2; exit 1; }
dir=$(mktemp -d /tmp/sluice-bench-cdc-mysql.XXXXXX)
bash scripts/test-servers.sh start "$dir" >/dev/null
SLUICE_PIDS=()
cleanup() {
  local p
  for p in "${SLUICE_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  bash scripts/test-servers.sh stop "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
# shellcheck disable=SC1091
. "$dir/env.sh"

now_ms() { date +%s%3N; }
pg() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
my() {
  mariadb --no-defaults --protocol=TCP -h "$MYSQL_HOST" -P "$MYSQL_TCP_PORT" -u root \
    --default-character-set=utf8mb4 -N -B "$@"
}
secs() { echo "scale=2; $1 / 1000" | bc; }
rate() { echo "$1 * 1000 / $2" | bc; }
ratio() { echo "scale=2; $1 / $2" | bc; }
fail() { echo "bench: $*" >&2; exit 1; }

# SHOW MASTER STATUS as "FILE OFFSET".
master() { my -e "SHOW MASTER STATUS" | awk '{print $1, $2}'; }
# Any position "X/Y" (hex) as one number.
pos_num() { echo $(((16#${1%/*} << 32) | 16#${1#*/})); }
# The server's last GTID as sluice's position (the streams use the default, GTID positions:
# bit 62, domain 0, seq_no; docs/cdc.md).
gtid_end() {
  local seq
  seq=$(my -e "SELECT @@gtid_binlog_pos" | tr ',' '\n' | awk -F- '$1 == 0 {print $3}')
  printf '40000000/%X\n' "${seq:?no GTID of domain 0}"
}
# Waits until stream $2 in database $1 has applied up to position $3 ("X/Y"), while
# sluice ($SPID, log $4) runs. One psql polls inside the server; with SQL condition $5,
# it also prints "visible <epoch ms>" when that first holds.
wait_reached() {
  local db=$1 stream=$2 endn visible=${5:-false} w
  endn=$(pos_num "$3")
  PGOPTIONS="-c client_min_messages=notice -c statement_timeout=3600000" psql -X -q -At \
    -v ON_ERROR_STOP=1 -d "$db" -c "DO \$\$ DECLARE f text; seen bool := false; BEGIN LOOP
      IF NOT seen AND ($visible) THEN
        seen := true;
        RAISE NOTICE 'visible %', round(extract(epoch FROM clock_timestamp()) * 1000);
      END IF;
      BEGIN
        SELECT position::json->>'flush' INTO f FROM _sluice_checkpoint
          WHERE stream = '$stream' AND key = 'cdc:0';
      EXCEPTION WHEN undefined_table THEN f := NULL;
      END;
      EXIT WHEN f IS NOT NULL AND (('x' || lpad(split_part(f, '/', 1), 8, '0'))::bit(32)::bigint << 32)
        + ('x' || lpad(split_part(f, '/', 2), 8, '0'))::bit(32)::bigint >= $endn;
      PERFORM pg_sleep(0.02);
    END LOOP; END \$\$" >"$dir/wait.out" 2>&1 &
  w=$!
  while kill -0 "$w" 2>/dev/null; do
    if ! kill -0 "$SPID" 2>/dev/null; then
      kill "$w" 2>/dev/null || true
      fail "sluice exited (log: $4)"
    fi
    sleep 0.1
  done
  wait "$w" || fail "waiting for $stream failed: $(cat "$dir/wait.out")"
}

# Starts sluice (binary $4, default SLUICE_BIN) on spec $1 (data dir $2, log $3) in the
# background; sets SPID.
start_sluice() {
  "${4:-$SLUICE_BIN}" run "$1" --data-dir "$2" --no-progress >>"$3" 2>&1 &
  SPID=$!
  SLUICE_PIDS+=("$SPID")
}
stop_sluice() {
  kill -TERM "$1"
  wait "$1" || fail "sluice exited $? on SIGTERM (log: $2)"
}
# A first short run of spec $1 (stream $2, target database $3): creates the target table
# and stores the start position (checkpoint cdc_start; with an initial load, KEY=cdc_tables:
# the hand-over to the binlog), then stops.
first_run() {
  local spec=$1 name=$2 db=$3 key=${4:-cdc_start} deadline
  start_sluice "$spec" "$dir/data.$name" "$dir/sluice.$name.log" "${5:-}"
  deadline=$(($(now_ms) + 120000))
  until [ -n "$(pg -d "$db" -c "SELECT 1 FROM _sluice_checkpoint WHERE stream = '$name' AND key = '$key'" 2>/dev/null)" ]; do
    kill -0 "$SPID" 2>/dev/null || fail "sluice exited (log: $dir/sluice.$name.log)"
    [ "$(now_ms)" -lt "$deadline" ] || fail "sluice stored no $key checkpoint in 120 s"
    sleep 0.1
  done
  sleep 1
  stop_sluice "$SPID" "$dir/sluice.$name.log"
}

# prepare_runs PART SRC_DB TABLES SPEC_OPTIONS KEY: for every run LABEL, database
# PART_sl_LABEL and spec $dir/PART.LABEL.json (stream bench-PART-LABEL), and its first run
# (until checkpoint KEY).
prepare_runs() {
  local part=$1 src=$2 tables=$3 opts=$4 key=$5 run label bin
  for run in "${RUNS[@]}"; do
    read -r label bin <<<"$run"
    pg -d postgres -c "CREATE DATABASE ${part}_sl_$label"
    cat >"$dir/$part.$label.json" <<JSON
{"name": "bench-$part-$label", "mode": "cdc", "source": {"url": "$SLUICE_TEST_MYSQL_URL/$src",
 "tables": $tables}, "target": {"url": "$SLUICE_TEST_PG_URL/${part}_sl_$label"}, "options": $opts}
JSON
    first_run "$dir/$part.$label.json" "bench-$part-$label" "${part}_sl_$label" "$key" "$bin"
  done
}

# drain_runs PART END [VISIBLE_SQL]: (c) for every run in turn, until its checkpoint
# reaches END; appends "LABEL ms ms_until_visible" to $dir/PART.times.
drain_runs() {
  local part=$1 end=$2 visible=${3:-false} run label bin t0 t tv
  for run in "${RUNS[@]}"; do
    read -r label bin <<<"$run"
    echo "-- (c) sluice, run $label ($bin)"
    t0=$(now_ms)
    start_sluice "$dir/$part.$label.json" "$dir/data.bench-$part-$label" "$dir/sluice.bench-$part-$label.log" "$bin"
    wait_reached "${part}_sl_$label" "bench-$part-$label" "$end" "$dir/sluice.bench-$part-$label.log" "$visible"
    t=$(($(now_ms) - t0))
    tv=$(sed -n 's/.*visible \([0-9]*\).*/\1/p' "$dir/wait.out" | head -n 1)
    stop_sluice "$SPID" "$dir/sluice.bench-$part-$label.log"
    echo "$label $t $((${tv:-$((t0 + t))} - t0))" >>"$dir/$part.times"
  done
}

# summary PART CHANGES REF_MS REF_LABEL: every run of (c), per build the median, min and
# max and the ratio to the reference, and new/base per round.
summary() {
  local part=$1 n=$2 ref=$3 reflabel=$4 label t tv
  while read -r label t tv; do
    printf '%-48s %8.1f s %10s changes/s   (%sx %s; last row visible after %.1f s)\n' \
      "(c) sluice, run $label" "$(secs "$t")" "$(rate "$n" "$t")" "$(ratio "$t" "$ref")" "$reflabel" "$(secs "$tv")"
  done <"$dir/$part.times"
  bench_runs_summary "$dir/$part.times" "$n" "$ref" "$reflabel"
}

# ===== 1. single-row inserts, 1,000 per transaction ============================================
if [ "$changes" -gt 0 ]; then
echo "== $changes single-row inserts in transactions of 1,000 rows (MariaDB -> PostgreSQL)"
my -e "CREATE DATABASE bench CHARACTER SET utf8mb4"
my bench -e "CREATE TABLE ev (id bigint NOT NULL PRIMARY KEY, v int NOT NULL, note varchar(40),
  at datetime(6) NOT NULL) ENGINE=InnoDB"
my bench <<'SQL'
DELIMITER //
CREATE PROCEDURE fill(IN ntx int)
BEGIN
  DECLARE t int DEFAULT 0;
  DECLARE i int;
  WHILE t < ntx DO
    START TRANSACTION;
    SET i = 1;
    WHILE i <= 1000 DO
      INSERT INTO ev VALUES (t * 1000 + i, i, CONCAT('row ', t * 1000 + i), NOW(6));
      SET i = i + 1;
    END WHILE;
    COMMIT;
    SET t = t + 1;
  END WHILE;
END //
SQL
prepare_runs ev bench '["ev"]' '{"initial_load": false}' cdc_start
read -r start_file start_off < <(master)
t0=$(now_ms)
my bench -e "CALL fill($((changes / 1000)))"
read -r end_file end_off < <(master)
end=$(gtid_end)
echo "   written in $(secs $(($(now_ms) - t0))) s: binlog $start_file:$start_off to $end_file:$end_off ($end)"

binlog_args=(--read-from-remote-server --host="$MYSQL_HOST" --port="$MYSQL_TCP_PORT" --user=root
  --password="$MYSQL_PWD" --start-position="$start_off" --stop-position="$end_off")
[ "$start_file" = "$end_file" ] || binlog_args+=(--to-last-log)
echo "-- (r) mariadb-binlog --raw"
mkdir -p "$dir/raw"
t0=$(now_ms)
"$binlog_tool" --read-from-remote-server --host="$MYSQL_HOST" --port="$MYSQL_TCP_PORT" --user=root \
  --password="$MYSQL_PWD" --raw --result-file="$dir/raw/" --start-position="$start_off" \
  --stop-position="$end_off" "$start_file" || fail "mariadb-binlog --raw failed"
T_COPY=$(($(now_ms) - t0))
rm -rf "$dir/raw"
echo "-- (a) mariadb-binlog"
t0=$(now_ms)
"$binlog_tool" "${binlog_args[@]}" "$start_file" >/dev/null || fail "mariadb-binlog failed"
T_RAW=$(($(now_ms) - t0))
echo "-- (a') mariadb-binlog --verbose"
t0=$(now_ms)
"$binlog_tool" "${binlog_args[@]}" --verbose "$start_file" >/dev/null || fail "mariadb-binlog -v failed"
T_DEC=$(($(now_ms) - t0))

drain_runs ev "$end" "EXISTS (SELECT 1 FROM ev WHERE id = $changes)"
for run in "${RUNS[@]}"; do
  n=$(pg -d "ev_sl_${run%% *}" -c "SELECT count(*) FROM ev")
  [ "$n" = "$changes" ] || fail "run ${run%% *}: the target holds $n rows of $changes"
done

echo
echo "results: $changes changes, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
printf '%-48s %8.1f s %10s changes/s\n' "(r) mariadb-binlog --raw (events copied to a file)" "$(secs "$T_COPY")" "$(rate "$changes" "$T_COPY")"
printf '%-48s %8.1f s %10s changes/s\n' "(a) mariadb-binlog (remote, row events raw)" "$(secs "$T_RAW")" "$(rate "$changes" "$T_RAW")"
printf '%-48s %8.1f s %10s changes/s\n' "(a') mariadb-binlog --verbose (rows decoded)" "$(secs "$T_DEC")" "$(rate "$changes" "$T_DEC")"
summary ev "$changes" "$T_RAW" mariadb-binlog
fi

# ===== 2. sysbench oltp_write_only at full speed ================================================
if [ "$sb_seconds" -gt 0 ]; then
  command -v sysbench >/dev/null || fail "sysbench not found (Debian package sysbench)"
  echo
  echo "== sysbench oltp_write_only, $sb_threads threads, ${sb_seconds} s, $sb_tables tables of $sb_size rows"
  my -e "CREATE DATABASE sb CHARACTER SET utf8mb4"
  sb_args=(oltp_write_only --db-driver=mysql --mysql-host="$MYSQL_HOST" --mysql-port="$MYSQL_TCP_PORT"
    --mysql-user=root --mysql-password="$MYSQL_PWD" --mysql-db=sb --tables="$sb_tables" --table-size="$sb_size")
  sysbench "${sb_args[@]}" prepare >"$dir/sb.prepare.log" 2>&1 || { cat "$dir/sb.prepare.log" >&2; fail "sysbench prepare failed"; }
  sb_list=$(seq 1 "$sb_tables" | sed 's/.*/"sbtest&"/' | paste -sd, -)
  prepare_runs sb sb "[$sb_list]" '{}' cdc_tables
  read -r sb_start_file sb_start_off < <(master)
  t0=$(now_ms)
  sysbench "${sb_args[@]}" --threads="$sb_threads" --time="$sb_seconds" --report-interval=0 \
    --mysql-ignore-errors=1213,1205,1020 run >"$dir/sb.run.log" 2>&1 || { tail -n 30 "$dir/sb.run.log" >&2; fail "sysbench run failed"; }
  read -r sb_end_file sb_end_off < <(master)
  sb_end=$(gtid_end)
  sb_tx=$(awk '/^ *transactions:/ {print $2}' "$dir/sb.run.log")
  echo "   $sb_tx transactions in $(secs $(($(now_ms) - t0))) s: binlog $sb_start_file:$sb_start_off to $sb_end_file:$sb_end_off ($sb_end)"
  sb_binlog_args=(--read-from-remote-server --host="$MYSQL_HOST" --port="$MYSQL_TCP_PORT" --user=root
    --password="$MYSQL_PWD" --start-position="$sb_start_off" --stop-position="$sb_end_off")
  [ "$sb_start_file" = "$sb_end_file" ] || sb_binlog_args+=(--to-last-log)
  echo "-- (a) mariadb-binlog"
  t0=$(now_ms)
  "$binlog_tool" "${sb_binlog_args[@]}" "$sb_start_file" >/dev/null || fail "mariadb-binlog failed"
  SB_RAW=$(($(now_ms) - t0))
  echo "-- (a') mariadb-binlog --verbose (counting the row events)"
  t0=$(now_ms)
  sb_changes=$("$binlog_tool" "${sb_binlog_args[@]}" --verbose "$sb_start_file" |
    grep -c -E '^### (INSERT INTO|UPDATE|DELETE FROM) ') || fail "mariadb-binlog -v failed"
  SB_DEC=$(($(now_ms) - t0))
  drain_runs sb "$sb_end"
  # every row compared: count and the sum of the first 32 bits of each row's md5
  for i in $(seq 1 "$sb_tables"); do
    a=$(my sb -e "SELECT COUNT(*), COALESCE(SUM(CONV(LEFT(MD5(CONCAT_WS(':', id, k, c, pad)), 8), 16, 10)), 0)
      FROM sbtest$i" | tr '\t' ' ')
    for run in "${RUNS[@]}"; do
      b=$(pg -d "sb_sl_${run%% *}" -F ' ' -c "SELECT count(*), coalesce(sum(('x' || left(md5(concat_ws(':', id, k, c::text, pad::text)), 8))::bit(32)::bigint), 0)
        FROM sbtest$i")
      [ "$a" = "$b" ] || fail "run ${run%% *}: sbtest$i differs: source (rows, checksum) $a, target $b"
    done
  done
  echo
  echo "results: sysbench oltp_write_only, $sb_tx transactions, $sb_changes row changes (binlog row events), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
  printf '%-48s %8.1f s %10s changes/s\n' "(a) mariadb-binlog (remote, row events raw)" "$(secs "$SB_RAW")" "$(rate "$sb_changes" "$SB_RAW")"
  printf '%-48s %8.1f s %10s changes/s\n' "(a') mariadb-binlog --verbose (rows decoded)" "$(secs "$SB_DEC")" "$(rate "$sb_changes" "$SB_DEC")"
  summary sb "$sb_changes" "$SB_RAW" mariadb-binlog
fi

# ===== 3. end-to-end lag at a steady rate ========================================================
[ "$lag_seconds" -gt 0 ] || exit 0
echo
echo "== lag at $lag_rate changes/s for $lag_seconds s (10-row transactions)"
my -e "CREATE DATABASE lagsrc"
my lagsrc -e "CREATE TABLE lag (id bigint NOT NULL PRIMARY KEY, src_ts datetime(6) NOT NULL) ENGINE=InnoDB"
# pace(rate, seconds): 10-row transactions, the k-th not before start + k * 10 / rate s.
my lagsrc <<'SQL'
DELIMITER //
CREATE PROCEDURE pace(IN r int, IN secs int)
BEGIN
  DECLARE k bigint DEFAULT 0;
  DECLARE t0 double DEFAULT UNIX_TIMESTAMP(NOW(6));
  DECLARE d double;
  WHILE UNIX_TIMESTAMP(NOW(6)) - t0 < secs DO
    START TRANSACTION;
    INSERT INTO lag SELECT k * 10 + seq, UTC_TIMESTAMP(6) FROM seq_1_to_10;
    COMMIT;
    SET k = k + 1;
    SET d = t0 + k * 10 / r - UNIX_TIMESTAMP(NOW(6));
    IF d > 0 THEN DO SLEEP(d); END IF;
  END WHILE;
END //
SQL
pg -d postgres -c "CREATE DATABASE lag_sl"
cat >"$dir/lag.json" <<JSON
{"name": "bench-lag", "mode": "cdc", "source": {"url": "$SLUICE_TEST_MYSQL_URL/lagsrc", "tables": ["lag"]},
 "target": {"url": "$SLUICE_TEST_PG_URL/lag_sl"}, "options": {"initial_load": false}}
JSON
first_run "$dir/lag.json" bench-lag lag_sl
start_sluice "$dir/lag.json" "$dir/data.bench-lag" "$dir/sluice.bench-lag.log"
sleep 2
pg -d lag_sl -c "CREATE UNLOGGED TABLE probe (ts timestamp, maxid bigint)"
pg -d lag_sl -c "DO \$\$ BEGIN LOOP
    INSERT INTO probe SELECT clock_timestamp() AT TIME ZONE 'UTC', coalesce(max(id), 0) FROM lag;
    COMMIT;
    EXIT WHEN EXISTS (SELECT 1 FROM lag WHERE id < 0);
    PERFORM pg_sleep(0.02);
  END LOOP; END \$\$" &
probe=$!
my lagsrc -e "CALL pace($lag_rate, $lag_seconds)"
last=$(my lagsrc -e "SELECT MAX(id) FROM lag")
deadline=$(($(now_ms) + 120000))
until [ "$(pg -d lag_sl -c "SELECT coalesce(max(id), 0) >= $last FROM lag")" = t ]; do
  [ "$(now_ms)" -lt "$deadline" ] || fail "lag: the last row did not arrive"
  sleep 0.1
done
my lagsrc -e "INSERT INTO lag VALUES (-1, UTC_TIMESTAMP(6))"
wait "$probe" || true
stop_sluice "$SPID" "$dir/sluice.bench-lag.log"
my lagsrc -e "SELECT id, DATE_FORMAT(src_ts, '%Y-%m-%d %H:%i:%s.%f') FROM lag WHERE id > 0" >"$dir/lag.src"
sent=$(wc -l <"$dir/lag.src")
echo
echo "end-to-end lag at $lag_rate changes/s ($(date -u +%Y-%m-%d), $(nproc) cores; $sent rows, $(echo "$sent / $lag_seconds" | bc) rows/s achieved)"
pg -d lag_sl -c "CREATE TEMP TABLE src (id bigint, src_ts timestamp)" \
  -c "\\copy src FROM '$dir/lag.src'" -c "
  WITH p AS (SELECT ts, maxid, lag(maxid, 1, 0::bigint) OVER (ORDER BY ts) AS prev FROM probe),
  l AS (SELECT extract(epoch FROM p.ts - s.src_ts) * 1000 AS ms FROM p JOIN src s
          ON s.id > p.prev AND s.id <= p.maxid
       WHERE s.src_ts > (SELECT min(src_ts) + interval '5 s' FROM src))
  SELECT format('%-44s p50 %6s ms   p99 %6s ms   max %6s ms   (%s rows)', 'sluice (MariaDB -> PostgreSQL)',
    round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
    round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1),
    round(max(ms)::numeric, 1), count(*)) FROM l"
