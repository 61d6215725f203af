#!/usr/bin/env bash
# cdc_bigtx.sh: PostgreSQL -> PostgreSQL source transactions much larger than a batch
# (batch_rows 500) are applied whole, each in one target transaction at its commit, also
# across kill -9, and rolled-back work never reaches the target:
#   T1  30,000 inserts sent whole at commit (spilled by lane batches), small transactions
#       committing on another table meanwhile;
#   T2  30,000 updates, sluice SIGKILLed while its lane applies them, then restarted;
# then with logical_decoding_work_mem = 64kB on the source database, so that PostgreSQL
# streams every transaction of more than 64 kB while it is in progress (pgoutput protocol
# 2, streaming 'on'):
#   T3  30,000 inserts streamed, small transactions committing in between;
#   T4  30,000 inserts streamed, then ROLLBACK: nothing may arrive;
#   T5  a streamed transaction whose savepoints are rolled back (20,000 rows, and a
#       savepoint with a nested one), between kept work: exactly the kept 15,010 rows;
#   T6  an update of all 75,010 rows streamed, sluice SIGKILLed while it applies it.
# A probe on the target records count(*) and sum(grp) of the table every few ms from the
# hand-over on: every state it saw must be one of the states between transactions (and it
# must have seen each of them). A trigger on the target logs every row operation sluice
# makes in its own transaction: each source row change is applied exactly once (the killed
# attempts rolled back). Throughout, the slot's confirmed_flush_lsn never passes the flush
# LSN of the target's checkpoint. At the end both tables equal the source.
# The 5 M-row transaction of the issue is measured by bench/cdc.sh (docs/benchmarks.md).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc_bigtx.sh"

SRC=sl_bigtx_src TGT=sl_bigtx_tgt
NAME=cdc-bigtx
SLOT=$(cdc_slot_name "$NAME")
N=30000

cdc_pg_db "$SRC"
cdc_pg_db "$TGT"
pg_sql "$SRC" "CREATE TABLE big (id bigint PRIMARY KEY, grp int NOT NULL, note text);
  CREATE TABLE small (id bigserial PRIMARY KEY, v int NOT NULL)"
write_cdc_spec "$TMPD/spec.json" "$NAME" "$(pg_url "$SRC")" "$(pg_url "$TGT")" \
  '{"batch_rows": 500}' '["big", "small"]'
cdc_track "$TMPD/spec.json" "$SRC"

# Starts sluice on the spec (log LABEL) and waits until it streams; sets PID.
start_run() {
  cdc_start "$1" "$TMPD/spec.json" "$TMPD/data"
  PID=$CDC_PID
  wait_for "cdc_has_ckpt pg $TGT $NAME || ! kill -0 $PID" 90 || cdc_die "$1: not streaming after 90 s"
  cdc_alive "$PID" || { cdc_wait_exit "$PID" 1; cdc_die "$1: sluice exited ($CDC_RC)"; }
}

start_run run1
bigtx_apply_log "$TGT"
bigtx_probe_start "$TGT"
bigtx_sampler_start "$TGT" "$SLOT" "$NAME"

# --- T1: a transaction sent whole, much larger than a batch ----------------------------------
bigtx_small_start "$SRC"
pg_sql "$SRC" "INSERT INTO big SELECT g, 1, 'row ' || g FROM generate_series(1, $N) g"
bigtx_small_stop
cdc_catch_up "$SLOT" "$PID"
assert_eq "$N $N" "$(bigtx_state "$TGT")" "T1 on the target (rows, sum of grp)"
bigtx_probe_only "$TGT" pg "0 0" "$N $N"
assert_grep "is larger than a batch: spilling it through the broker" "$CDC_LOG"

# --- T2: the same, killed while the lane applies it --------------------------------------------
pg_sql "$SRC" "UPDATE big SET grp = 2"
bigtx_kill_mid_apply "$PID" "$TGT" run1
start_run run2
cdc_catch_up "$SLOT" "$PID"
assert_eq "$N $((2 * N))" "$(bigtx_state "$TGT")" "T2 on the target after the kill"
cdc_stop "$PID"

# --- streamed transactions ---------------------------------------------------------------------
pg_sql postgres "ALTER DATABASE $SRC SET logical_decoding_work_mem = '64kB'"
start_run run3

# T3: streamed, with transactions committing in between its blocks
bigtx_small_start "$SRC"
pg_sql "$SRC" "INSERT INTO big SELECT g, 1, 'row ' || g FROM generate_series($N + 1, 2 * $N) g"
bigtx_small_stop
cdc_catch_up "$SLOT" "$PID"
assert_grep "PostgreSQL streams a transaction in progress" "$CDC_LOG"
assert_eq "$((2 * N)) $((3 * N))" "$(bigtx_state "$TGT")" "T3 on the target"

# T4: streamed, then rolled back
pg_sql "$SRC" "BEGIN; INSERT INTO big SELECT g, 9, 'gone' FROM generate_series(900001, 900000 + $N) g;
  ROLLBACK"
pg_sql "$SRC" "INSERT INTO small (v) VALUES (4)" # something after it to catch up to
cdc_catch_up "$SLOT" "$PID"
assert_eq "$((2 * N)) $((3 * N))" "$(bigtx_state "$TGT")" "the target after the rolled-back T4"

# T5: savepoints rolled back inside a committed streamed transaction; 60001..70000,
# 90001..95000 and 99001..99010 stay
pg_sql "$SRC" "BEGIN;
  INSERT INTO big SELECT g, 1, 'kept' FROM generate_series(60001, 70000) g;
  SAVEPOINT a;
  INSERT INTO big SELECT g, 7, 'rolled back' FROM generate_series(70001, 90000) g;
  ROLLBACK TO a;
  SAVEPOINT b;
  INSERT INTO big SELECT g, 1, 'released' FROM generate_series(90001, 95000) g;
  RELEASE b;
  SAVEPOINT c;
  INSERT INTO big SELECT g, 7, 'rolled back' FROM generate_series(95001, 98000) g;
  SAVEPOINT d;
  INSERT INTO big SELECT g, 7, 'rolled back' FROM generate_series(98001, 99000) g;
  ROLLBACK TO c;
  INSERT INTO big SELECT g, 1, 'after' FROM generate_series(99001, 99010) g;
  COMMIT"
cdc_catch_up "$SLOT" "$PID"
T5=$((2 * N + 15010))
assert_eq "$T5 $((3 * N + 15010))" "$(bigtx_state "$TGT")" "T5 on the target"
assert_eq "0" "$(pg_sql "$TGT" "SELECT count(*) FROM big WHERE grp = 7 OR id BETWEEN 70001 AND 90000
  OR id BETWEEN 95001 AND 99000")" "rows of rolled-back savepoints on the target"

# T6: streamed, killed while the lane applies it
pg_sql "$SRC" "UPDATE big SET grp = grp + 1"
bigtx_kill_mid_apply "$PID" "$TGT" run3
start_run run4
cdc_catch_up "$SLOT" "$PID"
T6=$((3 * N + 15010 + T5))
assert_eq "$T5 $T6" "$(bigtx_state "$TGT")" "T6 on the target after the kill"
cdc_stop "$PID"

# --- what the target saw -----------------------------------------------------------------------
bigtx_sampler_stop "$TGT" 20
bigtx_probe_check "$TGT" pg "0 0" "$N $N" "$N $((2 * N))" "$((2 * N)) $((3 * N))" \
  "$T5 $((3 * N + 15010))" "$T5 $T6"
# every row operation once: inserts of ids, updates of each row by T2 and T6
assert_eq "INSERT $((2 * N + 15010)) $((2 * N + 15010))|UPDATE $((N + T5)) $T5" \
  "$(pg_sql "$TGT" "SELECT string_agg(op || ' ' || n || ' ' || ids, '|' ORDER BY op) FROM
    (SELECT op, count(*) n, count(DISTINCT id) ids FROM big_applied GROUP BY op) s")" \
  "row operations sluice applied (operation, count, distinct ids)"
assert_eq "0" "$(pg_sql "$TGT" "SELECT count(*) FROM (SELECT id FROM big_applied WHERE op = 'UPDATE'
  GROUP BY id HAVING count(*) > CASE WHEN id <= $N THEN 2 ELSE 1 END) s")" "rows updated more often than the source did"
cdc_pg_same "$SRC" "$TGT" big id
cdc_pg_same "$SRC" "$TGT" small id
cdc_verify "$TMPD/spec.json"
note "ok"
