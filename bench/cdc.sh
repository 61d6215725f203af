#!/usr/bin/env bash
# bench/cdc.sh [CHANGES]: PostgreSQL -> PostgreSQL change data capture benchmark, sluice
# beside its references in one run, each draining the same backlog of changes.
#
# 1. CHANGES (default 1,000,000; 0 skips it) single-row INSERTs in transactions of 1,000
#    rows, written while the consumers' logical slots hold their place (nothing consumes
#    during the write); then each consumer alone drains the backlog from its own slot:
#    (a) pg_recvlogical with pgoutput, output thrown away: the server's decode limit
#    (b) PostgreSQL native logical replication: CREATE SUBSCRIPTION into a second database
#        of the same cluster (create_slot = false, on a slot made beforehand), until the
#        last row is visible
#    (c) sluice (mode cdc, initial_load false; its slot made by a first short run), from its
#        start until the slot's confirmed_flush_lsn reaches the end LSN (the moment the last
#        row became visible is shown too)
#    Prints changes/s and the ratios. Target tables are created beforehand.
# 2. pgbench TPC-B-like at full speed (4 clients, scale BENCH_PGBENCH_SCALE, default 10)
#    for BENCH_PGBENCH_SECONDS (default 30; 0 skips it), drained the same way (4 changes a
#    transaction); native replication and sluice start from copies of the source database
#    (CREATE DATABASE ... TEMPLATE, so sluice runs with initial_load false). Balances and
#    history rows are compared with the source afterwards.
# 3. One large source transaction per size in BENCH_BIGTX (default "100000 1000000"; 0 skips
#    it): INSERT ... SELECT of that many rows in one statement, drained as in 1. Besides the
#    time, sluice's peak RSS (VmHWM of sluice and of its broker, nats-server) is read just
#    before it stops, and a probe on each sluice target counts the rows every 100 ms: it must
#    only ever see 0 or all of them (the transaction applied whole). With PostgreSQL's
#    default logical_decoding_work_mem (64 MB) the smaller size is sent at its commit and
#    spilled through sluice's broker; the larger one is streamed while in progress.
# 4. End-to-end lag at a steady LAG_RATE changes/s (default 5,000, as 10-row transactions)
#    for LAG_SECONDS (default 30; 0 skips it): each source row carries clock_timestamp(); a
#    probe on the target records every 20 ms the largest visible id; a row's lag is the
#    first probe that saw it minus its source time (p50, p99, max; the first 5 s skipped),
#    for sluice and for native replication.
# BENCH_SKIP_SLUICE=1 measures the references only. Every run of sluice reports its peak RSS.
#
# Two builds side by side: with SLUICE_BIN_BASE set (e.g. a build of main), (c) runs for
# both builds, each BENCH_REPEAT times (default 1) in turns (new, base, new, base, ...),
# each on its own slot and target database, and the summary gives each build's times
# (median, min, max) and the new/base ratio of every round: on a shared, noisy machine
# the ratio of neighbouring runs says more than either time.
#
# Starts its own servers (scripts/test-servers.sh) under a temp dir; needs the packages of
# scripts/install-deps.sh (pgbench and pg_recvlogical come with postgresql-15 and
# postgresql-client-15). Not a test: results go to docs/benchmarks.md. SLUICE_BIN overrides
# build/sluice.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
changes=${1:-1000000}
lag_rate=${LAG_RATE:-5000}
lag_seconds=${LAG_SECONDS:-30}
pgb_seconds=${BENCH_PGBENCH_SECONDS:-30}
pgb_scale=${BENCH_PGBENCH_SCALE:-10}
skip_sluice=${BENCH_SKIP_SLUICE:-0}
bigtx_sizes=${BENCH_BIGTX:-100000 1000000}
[ $((changes % 1000)) = 0 ] || { echo "CHANGES must be a multiple of 1000" >&2; exit 2; }
if [ -z "${SLUICE_BIN:-}" ]; then
  [ -x build/sluice ] || bash scripts/build.sh >/dev/null
  SLUICE_BIN=$PWD/build/sluice
fi
# shellcheck source=bench/runs.sh
. bench/runs.sh
[ "$skip_sluice" = 1 ] || bench_runs_init
PG_BINDIR=/usr/lib/postgresql/15/bin
pgbench=$(command -v pgbench || echo "$PG_BINDIR/pgbench")
recvlogical=$(command -v pg_recvlogical || echo "$PG_BINDIR/pg_recvlogical")
dir=$(mktemp -d /tmp/sluice-bench-cdc.XXXXXX)
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
secs() { echo "scale=2; $1 / 1000" | bc; }
rate() { echo "$1 * 1000 / $2" | bc; }
ratio() { echo "scale=2; $1 / $2" | bc; }
fail() { echo "bench: $*" >&2; exit 1; }
# Fails showing the end of sluice's log $1 (the temp dir goes away at exit).
sluice_died() { echo "--- $1:" >&2; tail -n 25 "$1" >&2; fail "sluice exited"; }

# Waits until slot $1 has confirmed LSN $2 (polls every 50 ms, up to $3 s, default 1800).
wait_confirmed() {
  local deadline=$(($(now_ms) + ${3:-1800} * 1000))
  until [ "$(pg -d postgres -c "SELECT confirmed_flush_lsn >= '$2'::pg_lsn FROM pg_replication_slots
      WHERE slot_name = '$1'")" = t ]; do
    [ "$(now_ms)" -lt "$deadline" ] || fail "slot $1 did not reach $2"
    sleep 0.05
  done
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
  wait "$1" || sluice_died "$2"
}

# Makes the reference consumers' slots for publication bench_pub of database $1 (suffix
# $2): bench_recv$2 and bench_native$2.
make_slots() {
  pg -d "$1" -c "SELECT pg_create_logical_replication_slot('bench_recv$2', 'pgoutput')" >/dev/null
  pg -d "$1" -c "SELECT pg_create_logical_replication_slot('bench_native$2', 'pgoutput')" >/dev/null
}

# Prepares run LABEL (binary BIN) of part PART: a spec $dir/PART.LABEL.json streaming
# tables TABLES (a JSON array) of database SRC into database PART_sl_LABEL (which must
# exist), and its slot, made by a first short run that stops once it streams (its lane
# checkpoint cdc:0 is on the target). Sets SLOT_<PART>_<LABEL> to the slot's name.
prepare_run() {
  local part=$1 label=$2 bin=$3 src=$4 tables=$5 spec before slot deadline
  spec=$dir/$part.$label.json
  cat >"$spec" <<JSON
{"name": "bench-$part-$label", "mode": "cdc", "source": {"url": "$SLUICE_TEST_PG_URL/$src",
 "tables": $tables}, "target": {"url": "$SLUICE_TEST_PG_URL/${part}_sl_$label"},
 "options": {"initial_load": false}}
JSON
  before=$(pg -d postgres -c "SELECT string_agg(slot_name, ' ') FROM pg_replication_slots")
  start_sluice "$spec" "$dir/data.$part.$label" "$dir/sluice.$part.$label.log" "$bin"
  deadline=$(($(now_ms) + 600000))
  until [ "$(pg -d "${part}_sl_$label" -c "SELECT count(*) FROM _sluice_checkpoint WHERE key = 'cdc:0'" 2>/dev/null)" = 1 ]; do
    kill -0 "$SPID" 2>/dev/null || sluice_died "$dir/sluice.$part.$label.log"
    [ "$(now_ms)" -lt "$deadline" ] || fail "sluice did not start streaming in 600 s"
    sleep 0.2
  done
  stop_sluice "$SPID" "$dir/sluice.$part.$label.log"
  slot=$(pg -d postgres -c "SELECT slot_name FROM pg_replication_slots
    WHERE slot_name <> ALL (string_to_array('$before', ' ')) AND database = '$src'")
  [ -n "$slot" ] || fail "no slot appeared for run $label of $part"
  printf -v "SLOT_${part}_$label" '%s' "$slot"
}

# drain SFX SRC_DB TARGET_DB END_LSN CHECK_SQL: (a) and (b) over the backlog up to
# END_LSN; CHECK_SQL (run on a target) must print "t" once the last change is visible.
# Sets T_RECV, T_NATIVE (ms).
drain() {
  local sfx=$1 src=$2 tgt_native=$3 end=$4 check=$5 t0
  echo "-- (a) pg_recvlogical"
  t0=$(now_ms)
  "$recvlogical" -d "$src" --slot "bench_recv$sfx" --start --endpos "$end" --no-loop -F 0 -f - \
    -o proto_version=1 -o publication_names=bench_pub >/dev/null || fail "pg_recvlogical failed"
  T_RECV=$(($(now_ms) - t0))

  echo "-- (b) native logical replication"
  t0=$(now_ms)
  pg -d "$tgt_native" -c "CREATE SUBSCRIPTION bench_sub$sfx
    CONNECTION 'host=127.0.0.1 port=$PGPORT user=postgres password=$PGPASSWORD dbname=$src'
    PUBLICATION bench_pub WITH (create_slot = false, slot_name = 'bench_native$sfx', copy_data = false)"
  until [ "$(pg -d "$tgt_native" -c "$check")" = t ]; do sleep 0.05; done
  T_NATIVE=$(($(now_ms) - t0))
  pg -d "$tgt_native" -c "ALTER SUBSCRIPTION bench_sub$sfx DISABLE"
}

# drain_sluice PART LABEL BIN END_LSN CHECK_SQL: (c), run LABEL, over the backlog up to
# END_LSN. Appends "LABEL ms ms_until_visible" to $dir/PART.times.
drain_sluice() {
  local part=$1 label=$2 bin=$3 end=$4 check=$5 t0 t_rows='' slotvar tgt
  slotvar="SLOT_${part}_$label"
  tgt=${part}_sl_$label
  echo "-- (c) sluice, run $label ($bin)"
  t0=$(now_ms)
  start_sluice "$dir/$part.$label.json" "$dir/data.$part.$label" "$dir/sluice.$part.$label.log" "$bin"
  while [ "$(pg -d postgres -c "SELECT confirmed_flush_lsn >= '$end'::pg_lsn FROM pg_replication_slots
      WHERE slot_name = '${!slotvar}'")" != t ]; do
    kill -0 "$SPID" 2>/dev/null || sluice_died "$dir/sluice.$part.$label.log"
    if [ -z "$t_rows" ] && [ "$(pg -d "$tgt" -c "$check")" = t ]; then t_rows=$(($(now_ms) - t0)); fi
    sleep 0.05
  done
  local t=$(($(now_ms) - t0)) rss
  rss=$(peak_rss "$SPID")
  stop_sluice "$SPID" "$dir/sluice.$part.$label.log"
  echo "$label $t ${t_rows:-$t} $rss" >>"$dir/$part.times"
}

# peak_rss PID: "SLUICE_KB BROKER_KB", the peak resident set (VmHWM) of sluice PID and of
# its child nats-server (0 when there is none).
peak_rss() {
  local c b=0
  # shellcheck disable=SC2013 # the children files hold space-separated pids
  for c in $(cat "/proc/$1/task/"*/children 2>/dev/null); do
    b=$(awk '/^VmHWM/ {print $2}' "/proc/$c/status" 2>/dev/null || echo 0)
  done
  echo "$(awk '/^VmHWM/ {print $2}' "/proc/$1/status") ${b:-0}"
}

# report PART CHANGES: the references, every run of (c), and per build the median, min
# and max, the ratio to (b), and new/base per round.
report() {
  local part=$1 n=$2 label t tv
  printf '%-44s %8.1f s %10s changes/s\n' "(a) pg_recvlogical (pgoutput, decode only)" "$(secs "$T_RECV")" "$(rate "$n" "$T_RECV")"
  printf '%-44s %8.1f s %10s changes/s   (%sx the time of (a))\n' "(b) native logical replication" \
    "$(secs "$T_NATIVE")" "$(rate "$n" "$T_NATIVE")" "$(ratio "$T_NATIVE" "$T_RECV")"
  if [ ! -s "$dir/$part.times" ]; then echo "(c) sluice: skipped"; return; fi
  while read -r label t tv rss brss; do
    printf '%-44s %8.1f s %10s changes/s   (%sx native; last row visible after %.1f s; peak RSS %d MB, broker %d MB)\n' \
      "(c) sluice, run $label" "$(secs "$t")" "$(rate "$n" "$t")" "$(ratio "$t" "$T_NATIVE")" "$(secs "$tv")" \
      $((rss / 1024)) $((brss / 1024))
  done <"$dir/$part.times"
  bench_runs_summary "$dir/$part.times" "$n" "$T_NATIVE" native
}

# ===== 1. single-row inserts, 1,000 per transaction ============================================
if [ "$changes" -gt 0 ]; then
  echo "== $changes single-row inserts in transactions of 1,000 rows"
  ddl="CREATE TABLE ev (id bigint PRIMARY KEY, v integer NOT NULL, note text, at timestamptz NOT NULL DEFAULT clock_timestamp())"
  pg -d postgres -c "CREATE DATABASE bench" -c "CREATE DATABASE native"
  pg -d bench -c "$ddl" -c "CREATE PUBLICATION bench_pub FOR TABLE ev"
  pg -d native -c "$ddl"
  make_slots bench ""
  for run in "${RUNS[@]}"; do
    read -r label bin <<<"$run"
    pg -d postgres -c "CREATE DATABASE ev_sl_$label"
    pg -d "ev_sl_$label" -c "$ddl"
    prepare_run ev "$label" "$bin" bench '["ev"]'
  done
  t0=$(now_ms)
  pg -d bench -c "DO \$\$ BEGIN
    FOR t IN 0 .. $((changes / 1000 - 1)) LOOP
      FOR i IN 1 .. 1000 LOOP
        INSERT INTO ev (id, v, note) VALUES (t * 1000 + i, i, 'row ' || (t * 1000 + i));
      END LOOP;
      COMMIT;
    END LOOP; END \$\$"
  end=$(pg -d bench -c "SELECT pg_current_wal_lsn()")
  echo "   written in $(secs $(($(now_ms) - t0))) s, end LSN $end"
  check="SELECT EXISTS (SELECT 1 FROM ev WHERE id = $changes)"
  drain "" bench native "$end" "$check"
  for run in "${RUNS[@]}"; do
    read -r label bin <<<"$run"
    drain_sluice ev "$label" "$bin" "$end" "$check"
  done
  for db in native $(for run in "${RUNS[@]}"; do echo "ev_sl_${run%% *}"; done); do
    n=$(pg -d "$db" -c "SELECT count(*) FROM ev")
    [ "$n" = "$changes" ] || fail "$db holds $n rows of $changes"
  done
  echo
  echo "results: $changes changes, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
  report ev "$changes"
fi

# ===== 2. pgbench at full speed (optional) =======================================================
if [ "$pgb_seconds" -gt 0 ]; then
  echo
  echo "== pgbench TPC-B-like at full speed for $pgb_seconds s, scale $pgb_scale (4 changes a transaction)"
  pg -d postgres -c "CREATE DATABASE pgb"
  "$pgbench" -i -q -s "$pgb_scale" pgb >/dev/null 2>&1
  pg -d pgb -c "ALTER TABLE pgbench_history REPLICA IDENTITY FULL" \
    -c "CREATE PUBLICATION bench_pub FOR TABLE pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history"
  # Every consumer starts from a copy of the source (its updates need the rows).
  pg -d postgres -c "CREATE DATABASE pgb_native TEMPLATE pgb"
  pg -d pgb_native -c "DROP PUBLICATION bench_pub"
  for run in "${RUNS[@]}"; do
    read -r label bin <<<"$run"
    pg -d postgres -c "CREATE DATABASE pgb_sl_$label TEMPLATE pgb"
    pg -d "pgb_sl_$label" -c "DROP PUBLICATION bench_pub"
  done
  make_slots pgb _pgb
  for run in "${RUNS[@]}"; do
    read -r label bin <<<"$run"
    prepare_run pgb "$label" "$bin" pgb \
      '["pgbench_accounts", "pgbench_branches", "pgbench_tellers", "pgbench_history"]'
  done
  tx=$("$pgbench" -n -T "$pgb_seconds" -c 4 -j 2 pgb 2>&1 |
    awk '/number of transactions actually processed/ {print $NF}' | cut -d/ -f1)
  end=$(pg -d pgb -c "SELECT pg_current_wal_lsn()")
  hist=$(pg -d pgb -c "SELECT count(*) FROM pgbench_history")
  echo "   $tx transactions, end LSN $end"
  check="SELECT count(*) = $hist FROM pgbench_history"
  drain _pgb pgb pgb_native "$end" "$check"
  for run in "${RUNS[@]}"; do
    read -r label bin <<<"$run"
    drain_sluice pgb "$label" "$bin" "$end" "$check"
  done
  want=$(pg -d pgb -c "SELECT (SELECT sum(abalance) FROM pgbench_accounts) || '/' || (SELECT sum(tbalance) FROM pgbench_tellers) || '/' || (SELECT count(*) FROM pgbench_history)")
  for db in pgb_native $(for run in "${RUNS[@]}"; do echo "pgb_sl_${run%% *}"; done); do
    got=$(pg -d "$db" -c "SELECT (SELECT sum(abalance) FROM pgbench_accounts) || '/' || (SELECT sum(tbalance) FROM pgbench_tellers) || '/' || (SELECT count(*) FROM pgbench_history)")
    [ "$got" = "$want" ] || fail "$db: sum(abalance)/sum(tbalance)/history rows $got, source $want"
  done
  echo
  echo "results: pgbench, $((tx * 4)) changes, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
  report pgb $((tx * 4))
fi

# ===== 3. one large transaction per size ==========================================================
for n in $bigtx_sizes; do
  [ "$n" -gt 0 ] || continue
  part=big$n
  echo
  echo "== one transaction of $n inserted rows"
  ddl="CREATE TABLE big (id bigint PRIMARY KEY, v integer NOT NULL, note text NOT NULL)"
  pg -d postgres -c "CREATE DATABASE $part" -c "CREATE DATABASE ${part}_native"
  pg -d "$part" -c "$ddl" -c "CREATE PUBLICATION bench_pub FOR TABLE big"
  pg -d "${part}_native" -c "$ddl"
  make_slots "$part" "_$part"
  for run in "${RUNS[@]}"; do
    read -r label bin <<<"$run"
    pg -d postgres -c "CREATE DATABASE ${part}_sl_$label"
    pg -d "${part}_sl_$label" -c "$ddl"
    prepare_run "$part" "$label" "$bin" "$part" '["big"]'
  done
  t0=$(now_ms)
  pg -d "$part" -c "INSERT INTO big SELECT g, g % 1000, 'a row of the large transaction, number ' || g
    FROM generate_series(1, $n) g"
  end=$(pg -d "$part" -c "SELECT pg_current_wal_lsn()")
  echo "   written in $(secs $(($(now_ms) - t0))) s, end LSN $end"
  check="SELECT EXISTS (SELECT 1 FROM big WHERE id = $n)"
  drain "_$part" "$part" "${part}_native" "$end" "$check"
  for run in "${RUNS[@]}"; do
    read -r label bin <<<"$run"
    tgt=${part}_sl_$label
    # The probe: the row count every 100 ms, until all rows are there (or 1 hour).
    pg -d "$tgt" -c "CREATE UNLOGGED TABLE probe (ts timestamptz, n bigint)"
    pg -d "$tgt" -c "DO \$\$ DECLARE c bigint; BEGIN
        FOR i IN 1 .. 36000 LOOP
          SELECT count(*) INTO c FROM big;
          INSERT INTO probe VALUES (clock_timestamp(), c);
          COMMIT;
          EXIT WHEN c >= $n;
          PERFORM pg_sleep(0.1);
        END LOOP; END \$\$" &
    probe=$!
    drain_sluice "$part" "$label" "$bin" "$end" "$check"
    wait "$probe" || fail "the probe on $tgt failed"
    seen=$(pg -d "$tgt" -c "SELECT string_agg(DISTINCT n::text, ' ') FROM probe")
    echo "   probe on $tgt saw row counts: $seen ($(pg -d "$tgt" -c "SELECT count(*) FROM probe") samples)"
    [ "$(pg -d "$tgt" -c "SELECT count(*) FROM probe WHERE n NOT IN (0, $n)")" = 0 ] ||
      fail "$tgt: a reader saw part of the transaction"
    grep -q "streams a transaction in progress" "$dir/sluice.$part.$label.log" &&
      echo "   (PostgreSQL streamed it while in progress)" || echo "   (PostgreSQL sent it at its commit)"
  done
  for db in "${part}_native" $(for run in "${RUNS[@]}"; do echo "${part}_sl_${run%% *}"; done); do
    got=$(pg -d "$db" -c "SELECT count(*) || '/' || sum(v) FROM big")
    want=$(pg -d "$part" -c "SELECT count(*) || '/' || sum(v) FROM big")
    [ "$got" = "$want" ] || fail "$db: rows/sum(v) $got, source $want"
  done
  echo
  echo "results: one transaction of $n rows, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
  report "$part" "$n"
done

# ===== 4. end-to-end lag at a steady rate ========================================================
[ "$lag_seconds" -gt 0 ] || exit 0
echo
echo "== lag at $lag_rate changes/s for $lag_seconds s (10-row transactions)"
lag_ddl="CREATE TABLE lag (id bigint PRIMARY KEY, src_ts timestamptz NOT NULL)"
pg -d postgres -c "CREATE DATABASE lagsrc" -c "CREATE DATABASE lag_native" -c "CREATE DATABASE lag_sl"
pg -d lagsrc -c "$lag_ddl" -c "CREATE SEQUENCE lag_seq" -c "CREATE PUBLICATION bench_pub FOR TABLE lag"
pg -d lag_native -c "$lag_ddl"
pg -d lag_sl -c "$lag_ddl"
cat >"$dir/lag.json" <<JSON
{"name": "bench-lag", "mode": "cdc", "source": {"url": "$SLUICE_TEST_PG_URL/lagsrc", "tables": ["lag"]},
 "target": {"url": "$SLUICE_TEST_PG_URL/lag_sl"}, "options": {"initial_load": false}}
JSON
echo "INSERT INTO lag SELECT nextval('lag_seq'), clock_timestamp() FROM generate_series(1, 10);" >"$dir/lag.sql"

# lag_run LABEL TARGET_DB: the workload at the steady rate while a probe on TARGET_DB
# records the largest visible id every 20 ms; prints p50/p99/max of the lag, skipping the
# first 5 s.
lag_run() {
  local label=$1 tgt=$2 first last probe
  pg -d "$tgt" -c "DROP TABLE IF EXISTS probe" -c "CREATE UNLOGGED TABLE probe (ts timestamptz, maxid bigint)"
  first=$(pg -d lagsrc -c "SELECT coalesce(max(id), 0) FROM lag")
  pg -d "$tgt" -c "DO \$\$ BEGIN LOOP
      INSERT INTO probe SELECT clock_timestamp(), coalesce(max(id), 0) FROM lag;
      COMMIT;
      EXIT WHEN EXISTS (SELECT 1 FROM lag WHERE id < 0);
      PERFORM pg_sleep(0.02);
    END LOOP; END \$\$" &
  probe=$!
  "$pgbench" -n -T "$lag_seconds" -R $((lag_rate / 10)) -c 1 -f "$dir/lag.sql" lagsrc >"$dir/lag.$label.pgbench" 2>&1 ||
    fail "pgbench failed: $(tail -n 3 "$dir/lag.$label.pgbench")"
  last=$(pg -d lagsrc -c "SELECT max(id) FROM lag")
  # The probe stops once the last row arrived and a marker row (id -1) follows it.
  local deadline=$(($(now_ms) + 120000))
  until [ "$(pg -d "$tgt" -c "SELECT coalesce(max(id), 0) >= $last FROM lag")" = t ]; do
    [ "$(now_ms)" -lt "$deadline" ] || fail "$label: the last row did not arrive"
    sleep 0.1
  done
  pg -d lagsrc -c "INSERT INTO lag VALUES (-1, clock_timestamp())"
  wait "$probe" || true
  pg -d lagsrc -c "COPY (SELECT id, src_ts FROM lag WHERE id > $first) TO STDOUT" >"$dir/lag.src"
  pg -d "$tgt" -c "CREATE TEMP TABLE src (id bigint, src_ts timestamptz)" \
    -c "\\copy src FROM '$dir/lag.src'" -c "
    WITH p AS (SELECT ts, maxid, lag(maxid, 1, 0::bigint) OVER (ORDER BY ts) AS prev FROM probe),
    l AS (SELECT extract(epoch FROM p.ts - s.src_ts) * 1000 AS ms FROM p JOIN src s
            ON s.id > p.prev AND s.id <= p.maxid
         WHERE s.src_ts > (SELECT min(src_ts) + interval '5 s' FROM src))
    SELECT format('%-44s p50 %6s ms   p99 %6s ms   max %6s ms   (%s rows)', '$label',
      round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
      round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1),
      round(max(ms)::numeric, 1), count(*)) FROM l" >>"$dir/lag.results"
  pg -d lagsrc -c "DELETE FROM lag WHERE id = -1"
}

: >"$dir/lag.results"
make_slots lagsrc _lag
if [ "$skip_sluice" = 0 ]; then
  start_sluice "$dir/lag.json" "$dir/data_lag" "$dir/sluice_lag.log"
  until [ "$(pg -d lag_sl -c "SELECT count(*) FROM _sluice_checkpoint WHERE key = 'cdc:0'" 2>/dev/null)" = 1 ]; do
    kill -0 "$SPID" 2>/dev/null || sluice_died "$dir/sluice_lag.log"
    sleep 0.2
  done
  lag_run "sluice" lag_sl
  stop_sluice "$SPID" "$dir/sluice_lag.log"
fi
pg -d lag_native -c "CREATE SUBSCRIPTION bench_sub_lag
  CONNECTION 'host=127.0.0.1 port=$PGPORT user=postgres password=$PGPASSWORD dbname=lagsrc'
  PUBLICATION bench_pub WITH (create_slot = false, slot_name = 'bench_native_lag', copy_data = false)"
# Native replication first drains what sluice's run wrote, then the measured run.
end=$(pg -d lagsrc -c "SELECT pg_current_wal_lsn()")
wait_confirmed bench_native_lag "$end" 300
lag_run "native logical replication" lag_native
pg -d lag_native -c "ALTER SUBSCRIPTION bench_sub_lag DISABLE"
echo
echo "end-to-end lag at $lag_rate changes/s ($(date -u +%Y-%m-%d), $(nproc) cores)"
cat "$dir/lag.results"
