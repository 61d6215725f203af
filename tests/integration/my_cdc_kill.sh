#!/usr/bin/env bash
# my_cdc_kill.sh: MariaDB -> PostgreSQL change data capture, SIGKILLed five times under the
# workload of my_cdc_sysbench.sh (sysbench oltp_write_only on sbtest1..4 and the
# insert-only cdc_audit) plus cdc_bulk (200,000 narrow rows, so that the initial load takes
# long enough to be hit), and restarted each time with the same spec and data dir:
#   kill 1 during the initial copy (rows on the target, the copy not done),
#   kill 2 0-3 s after the next run finished the copy it resumed,
#   kill 3 0.5-4 s after its run started (start-up or catching up),
#   kills 4 and 5 0-2.5 s after their run first moved the checkpoint on (applying).
# At the end (catch-up to SHOW MASTER STATUS, SIGTERM, exit 0) every table equals the
# source (the rows printed the same way by both engines) and `sluice verify` agrees.
#
# No change may be applied twice: once the copy is done, a trigger on the
# target's cdc_audit (ENABLE ALWAYS, so it fires whatever session_replication_role sluice
# uses) logs every INSERT, UPDATE and DELETE sluice makes on it in audit_applied, inside
# sluice's own transaction (a rolled-back batch leaves no log). The source table is
# insert-only and written by one session (ids grow in commit order), so: nothing but
# INSERTs is logged, and every id above the largest one when the trigger was made is
# logged exactly once. The checkpoint's flush never goes backwards across the kills.
# Set SLUICE_TEST_SEED to replay the kill delays.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc_mysql.sh"

SEED=${SLUICE_TEST_SEED:-$(($(date +%s) % 32768))}
RANDOM=$SEED
note "seed $SEED (SLUICE_TEST_SEED=$SEED replays the kill delays)"
SRC=sl_mycdc_kill_src TGT=sl_mycdc_kill_tgt
NAME=mycdc-kill
TABLES=4 SIZE=10000 BULK=${SLUICE_TEST_BULK_ROWS:-200000}

cdc_my_db "$SRC"
cdc_pg_db "$TGT"
cdc_sb_prepare "$SRC" "$TABLES" "$SIZE"
cdc_my_audit_init "$SRC"
my_sql "$SRC" "CREATE TABLE cdc_bulk (id int NOT NULL PRIMARY KEY, v int NOT NULL, s varchar(20)) ENGINE=InnoDB;
  INSERT INTO cdc_bulk SELECT seq, seq % 1000, CONCAT('b', seq) FROM seq_1_to_$BULK;"
tables=$(cdc_sb_tables "$TABLES" | jq -c '["cdc_bulk"] + . + ["cdc_audit"]')
write_cdc_spec "$TMPD/spec.json" "$NAME" "$(my_url "$SRC")" "$(pg_url "$TGT")" \
  '{"batch_rows": 2000}' "$tables"
# Run 1 reads the source through a throttle (tests/lib/throttle.mjs, 4 MB/s), so that its
# initial load cannot end before kill 1 on a fast machine.
throttle_start src "$MYSQL_TCP_PORT" 4000000
write_cdc_spec "$TMPD/slow.json" "$NAME" "$(my_url_via "$THROTTLE_PORT" "$SRC")" "$(pg_url "$TGT")" \
  '{"batch_rows": 2000}' "$tables"
cdc_track "$TMPD/spec.json" "$SRC"

audit_max() { my_sql "$SRC" "SELECT IFNULL(MAX(id), 0) FROM cdc_audit"; }
# Rows on the target in the tables the load fills (0 while they do not exist).
target_rows() {
  pg_sql "$TGT" "SELECT (SELECT count(*) FROM cdc_bulk) + (SELECT count(*) FROM sbtest1)
    + (SELECT count(*) FROM sbtest4)" 2>/dev/null || echo 0
}
source_rows() {
  my_sql "$SRC" "SELECT (SELECT COUNT(*) FROM cdc_bulk) + (SELECT COUNT(*) FROM sbtest1)
    + (SELECT COUNT(*) FROM sbtest4)"
}

# The apply log on the target's cdc_audit (see above); sets HANDOVER_ID, the source's largest
# audit id once the trigger exists. Done once, after the initial copy.
HANDOVER_ID=
add_apply_log() {
  [ -z "$HANDOVER_ID" ] || return 0
  cdc_apply_log_create "$TGT"
  HANDOVER_ID=$(audit_max)
  note "apply log on the target's cdc_audit from source id $HANDOVER_ID on"
}

# Sets RAND_MS to a random delay between LO and HI ms (in this shell: a $(...) subshell
# would not advance the seeded sequence).
rand_ms() { RAND_MS=$(($1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1))); }

# Kills sluice PID with SIGKILL and checks that its children (the broker) die with it.
kill_now() {
  local pid=$1 kids p
  kids=$(cdc_children "$pid")
  kill -KILL "$pid" 2>/dev/null || cdc_die "sluice $pid had exited before the kill"
  wait "$pid" 2>/dev/null || true
  for p in $kids; do
    wait_for "! kill -0 $p" 15 || die "child $p of SIGKILLed sluice $pid still runs after 15 s"
  done
}

cdc_sb_start wl "$SRC" "$TABLES" "$SIZE" 150 3
cdc_my_audit_start "$SRC"
wait_for "[ \"\$(audit_max)\" -gt 100 ]" 30 || die "the audit loop does not run"
prev_flush=
for i in 1 2 3 4 5; do
  spec=$TMPD/spec.json
  [ "$i" != 1 ] || spec=$TMPD/slow.json
  cdc_start run "$spec" "$TMPD/data"
  pid=$CDC_PID
  case $i in
  1)
    # During the initial copy: as soon as copied rows are on the target.
    deadline=$(($(now_ms) + 60000))
    until [ "$(target_rows)" -gt 0 ]; do
      cdc_alive "$pid" || cdc_die "sluice exited during the initial copy"
      [ "$(now_ms)" -lt "$deadline" ] || cdc_die "no copied row on the target after 60 s"
      sleep 0.02
    done
    kill_now "$pid"
    throttle_stop src
    n=$(target_rows)
    ! cdc_copied pg "$TGT" "$NAME" ||
      die "kill 1 came after the initial copy ($n rows): it did not hit it"
    [ "$n" -lt "$(source_rows)" ] || die "kill 1: the copy had copied every row already"
    note "kill 1 during the initial copy: $n of $(source_rows) rows of cdc_bulk, sbtest1 and sbtest4 on the target"
    continue
    ;;
  2)
    # While streaming: 0-3 s after this run finished the copy (it resumes after kill 1).
    wait_for "cdc_my_handed_over pg $TGT $NAME || ! kill -0 $pid" 60 ||
      cdc_die "run 2: the initial copy is not done after 60 s"
    cdc_alive "$pid" || cdc_die "run 2 exited during the initial copy"
    assert_grep 'copying \(generation 1, [1-9][0-9]* rows copied so far\)' "$CDC_LOG" \
      "run 2 does not resume the copy from the rows run 1 committed"
    add_apply_log
    rand_ms 0 3000
    delay=$RAND_MS
    what="$delay ms after the initial copy"
    ;;
  3)
    rand_ms 500 4000
    delay=$RAND_MS
    what="$delay ms after the start"
    ;;
  *)
    # While applying: 0-2.5 s after this run first moved the checkpoint on.
    ck0=$(cdc_my_flush pg "$TGT" "$NAME")
    wait_for "[ \"\$(cdc_my_flush pg $TGT $NAME)\" != '$ck0' ] || ! kill -0 $pid" 60 ||
      cdc_die "run $i applied nothing in 60 s"
    rand_ms 0 2500
    delay=$RAND_MS
    what="$delay ms after it applied its first changes"
    ;;
  esac
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  cdc_alive "$pid" || cdc_die "sluice run $i exited by itself"
  kill_now "$pid"
  f=$(cdc_my_flush pg "$TGT" "$NAME")
  if [ -n "$prev_flush" ]; then
    cdc_my_pos_ge "$f" "$prev_flush" || die "the checkpoint went backwards: $prev_flush, then $f"
  fi
  prev_flush=$f
  note "kill $i $what: checkpoint flush $f, binlog at $(cdc_my_master_pos)"
done

note "final run"
cdc_start run "$TMPD/spec.json" "$TMPD/data"
pid=$CDC_PID
sleep 2
cdc_my_audit_stop "$SRC"
cdc_sb_stop wl
cdc_my_catch_up pg "$TGT" "$NAME" "$pid" 60
cdc_stop "$pid"

note "comparing"
cdc_sb_same "$SRC" pg "$TGT" "$TABLES"
cdc_my_same_pg bulk "$SRC" "$TGT" "SELECT CONCAT_WS('|', id, v, s) FROM cdc_bulk" \
  "SELECT concat_ws('|', id, v, s) FROM cdc_bulk"
cdc_my_audit_same "$SRC" pg "$TGT"

# The apply log: nothing but inserts, and each id streamed after the initial copy once.
streamed=$(my_sql "$SRC" "SELECT COUNT(*) FROM cdc_audit WHERE id > $HANDOVER_ID")
cdc_apply_log_check "$TGT" "$streamed" "$HANDOVER_ID" 500
note "apply log: $streamed audit rows streamed after the initial copy (id > $HANDOVER_ID), each inserted once"
cdc_verify "$TMPD/spec.json"
note "ok"
