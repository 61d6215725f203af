#!/usr/bin/env bash
# my_cdc_gtid.sh: a MariaDB -> PostgreSQL change stream in GTID positions, resumed on a
# replica after a SIGKILL (fail-over), and the errors of a GTID stream. On a dedicated
# primary (server_id 11) and replica (12, log_slave_updates, GTID replication) started by
# tests/lib/my_pair.sh; the target is the shared test PostgreSQL.
#
#   1. The source: sysbench oltp_write_only on sbtest1..2, the insert-only cdc_audit (one
#      session, ids in commit order) and, outside the stream, a noise table written ten
#      times a second (transactions the stream skips: heartbeats carry its position on).
#   2. sluice streams from the primary with the default position (auto): the hand-over
#      position and the checkpoint's flush are GTID positions ("40000000/<seq_no>").
#      Once it applies, a trigger on the target's cdc_audit (ENABLE ALWAYS) logs every
#      INSERT, UPDATE and DELETE sluice makes there, inside sluice's transaction.
#   3. SIGKILL mid-stream; the replica's binlog is rotated twice (its file:offset positions
#      now differ from the primary's); sluice restarts with the same name and data dir but
#      the replica's URL, while the workload goes on on the primary, then stops. Once the
#      replica has every GTID of the primary, the stream's flush equals the replica's GTID
#      position exactly (the last transactions touch only the noise table); SIGTERM, exit 0.
#   4. The target equals the primary row by row, `sluice verify` against the replica says
#      equal, and every audit id written after the trigger was made was applied once, as an
#      INSERT: nothing was lost or applied twice across the fail-over.
#   5. Errors, each with new rows waiting on the source, leaving the target as it was (a
#      checksum of every table on the target before and after) and exiting non-zero:
#      - position=file on this GTID stream: the message says "position" and names "gtid"
#        and "file";
#      - the primary's binlogs purged past the stream's position (PURGE BINARY LOGS TO the
#        newest file), resumed from the primary: the message says "purged".
#      Then the stream resumes on the replica (which kept its binlogs) and applies the rows
#      written meanwhile, once; a transaction in a second GTID domain (gtid_domain_id = 1,
#      written on the replica) stops it with an error saying "domain", unapplied.
#   6. A second stream in file positions (position=file) on the primary, stopped, then
#      RESET MASTER: its next run fails ("beyond the end of the binlog"), target unchanged.
# Set SLUICE_TEST_SEED to replay the kill delay.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/my_pair.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc_mysql.sh"

SEED=${SLUICE_TEST_SEED:-$(($(date +%s) % 32768))}
RANDOM=$SEED
note "seed $SEED (SLUICE_TEST_SEED=$SEED replays the kill delay)"
SRC=sl_mycdc_gtid TGT=sl_mycdc_gtid_tgt
NAME=mycdc-gtid
TABLES=2 SIZE=2000
T0=$(now_ms)

my_pair_start
# Every MariaDB helper (my_sql, sysbench, the audit loop, cdc_my_master_pos) talks to the
# primary from here on; MYSQL_TCP_PORT=$MY_PAIR_PORT_r in front of a call asks the replica.
export MYSQL_TCP_PORT=$MY_PAIR_PORT_p

cdc_pg_db "$TGT"
my_newdb "$SRC"
cdc_sb_prepare "$SRC" "$TABLES" "$SIZE"
cdc_my_audit_init "$SRC"
my_sql "$SRC" "CREATE TABLE noise (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, at datetime(6)) ENGINE=InnoDB"
tables=$(cdc_sb_tables "$TABLES" | jq -c '. + ["cdc_audit"]')
write_cdc_spec "$TMPD/spec_p.json" "$NAME" "$(my_pair_url p "$SRC")" "$(pg_url "$TGT")" \
  '{"batch_rows": 500}' "$tables"
write_cdc_spec "$TMPD/spec_r.json" "$NAME" "$(my_pair_url r "$SRC")" "$(pg_url "$TGT")" \
  '{"batch_rows": 500}' "$tables"
write_cdc_spec "$TMPD/spec_file.json" "$NAME" "$(my_pair_url r "$SRC")?position=file" "$(pg_url "$TGT")" \
  '{"batch_rows": 500}' "$tables"

audit_max() { my_sql "$SRC" "SELECT IFNULL(MAX(id), 0) FROM cdc_audit"; }
flush() { cdc_my_flush pg "$TGT" "$NAME"; }

# Writes to the noise table (outside the stream) ten times a second until noise.stop.
noise_start() {
  rm -f "$TMPD/noise.stop"
  (
    while [ ! -e "$TMPD/noise.stop" ] && [ ! -e "$TMPD/stop.all" ]; do
      my_sql "$SRC" "INSERT INTO noise (at) VALUES (NOW(6))" || exit 1
      sleep 0.1
    done
  ) &
  NOISE_PID=$!
  CDC_BG_PIDS+=("$NOISE_PID")
}
noise_stop() {
  touch "$TMPD/noise.stop"
  wait "$NOISE_PID" || die "the noise loop failed"
}

# Kills sluice PID with SIGKILL and waits until its children (the broker) are gone.
kill_now() {
  local pid=$1 kids p
  kids=$(cdc_children "$pid")
  kill -KILL "$pid" 2>/dev/null || cdc_die "sluice $pid had exited before the kill"
  wait "$pid" 2>/dev/null || true
  for p in $kids; do
    wait_for "! kill -0 $p" 15 || die "child $p of SIGKILLed sluice $pid still runs after 15 s"
  done
}

# Prints "table rows md5" for every table on the target, checkpoints included; with
# "positions", only the checkpoints' positions (a running stream rewrites its checkpoint's
# updated_at on heartbeats).
target_sum() {
  local t
  for t in $(pg_sql "$TGT" "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"); do
    if [ "$t" = _sluice_checkpoint ] && [ "${1:-}" = positions ]; then
      echo "$t $(pg_sql "$TGT" "SELECT string_agg(concat_ws(' ', stream, key, epoch, seq, position, done),
        ', ' ORDER BY stream, key) FROM _sluice_checkpoint")"
    else
      echo "$t $(cdc_pg_digest "$TGT" "$t" "t::text")"
    fi
  done
}

# Asserts that the GTID position P (e.g. 40000000/1F4) is one, naming WHAT.
assert_gtid_pos() {
  if [ "$(cdc_my_pos_kind "$2")" != gtid ] || [[ "$2" != 40000000/* ]]; then
    cdc_die "$1 is '$2', not a GTID position of domain 0 (40000000/<seq_no>)"
  fi
}

# Checks the apply log: nothing but inserts, and every audit id above HANDOVER_ID logged
# once. The argument says when, for the note.
check_apply_log() {
  local streamed
  streamed=$(my_sql "$SRC" "SELECT COUNT(*) FROM cdc_audit WHERE id > $HANDOVER_ID")
  cdc_apply_log_check "$TGT" "$streamed" "$HANDOVER_ID" 300
  note "apply log: $streamed audit rows streamed after id $HANDOVER_ID, $1, each inserted once"
}

# ===== 1, 2: stream from the primary =============================================================
cdc_sb_start wl "$SRC" "$TABLES" "$SIZE" 100 2
cdc_my_audit_start "$SRC"
noise_start
wait_for "[ \"\$(audit_max)\" -gt 50 ]" 30 || die "the audit loop does not run"

cdc_start run1 "$TMPD/spec_p.json" "$TMPD/data"
pid=$CDC_PID
wait_for "cdc_my_handed_over pg $TGT $NAME || ! kill -0 $pid" 60 ||
  cdc_die "run 1: no hand-over (cdc_tables) after 60 s"
cdc_alive "$pid" || cdc_die "run 1 exited during the initial load"
start=$(cdc_my_ckpt pg "$TGT" "$NAME" cdc_start)
assert_gtid_pos "the hand-over position (checkpoint cdc_start)" "$start"

# The apply log on the target's cdc_audit (see the top); HANDOVER_ID: the primary's largest
# audit id once the trigger exists.
cdc_apply_log_create "$TGT"
HANDOVER_ID=$(audit_max)
note "run 1 handed over at $start; apply log on the target's cdc_audit from primary id $HANDOVER_ID on"

# Kill it 0.3-1.5 s after it first moved the checkpoint on (applying).
f0=$(flush)
wait_for "[ \"\$(flush)\" != '$f0' ] || ! kill -0 $pid" 60 || cdc_die "run 1 applied nothing in 60 s"
delay=$((300 + RANDOM % 1201))
sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
cdc_alive "$pid" || cdc_die "run 1 exited by itself"
kill_now "$pid"
kill_flush=$(flush)
assert_gtid_pos "the checkpoint's flush after the kill" "$kill_flush"
cdc_my_pos_ge "$kill_flush" "$start" || die "the flush $kill_flush is behind the hand-over position $start"
note "SIGKILL $delay ms after run 1 applied: flush $kill_flush, primary at $(cdc_my_master_pos gtid)"

# ===== 3: resume on the replica ===================================================================
my_pair_sql r "" "FLUSH BINARY LOGS; FLUSH BINARY LOGS"
bin_p=$(my_pair_binlog p) bin_r=$(my_pair_binlog r)
[ "$bin_p" != "$bin_r" ] || die "the replica's binlog ($bin_r) is the primary's ($bin_p) after two rotations"
note "binlogs now: primary $bin_p ($(cdc_my_master_pos file)), replica $bin_r" \
  "($(MYSQL_TCP_PORT=$MY_PAIR_PORT_r cdc_my_master_pos file))"

cdc_start run2 "$TMPD/spec_r.json" "$TMPD/data"
pid=$CDC_PID
wait_for "[ \"\$(flush)\" != '$kill_flush' ] || ! kill -0 $pid" 60 ||
  cdc_die "run 2 (on the replica) applied nothing in 60 s"
cdc_alive "$pid" || cdc_die "run 2 (on the replica) exited"
sleep 2
cdc_my_audit_stop "$SRC"
cdc_sb_stop wl
noise_stop
# The last transactions touch only the noise table: the flush reaches them by heartbeats.
my_sql "$SRC" "INSERT INTO noise (at) VALUES (NOW(6)); INSERT INTO noise (at) VALUES (NOW(6))"
my_pair_wait_synced 60
MYSQL_TCP_PORT=$MY_PAIR_PORT_r cdc_my_catch_up pg "$TGT" "$NAME" "$pid" 60
end_r=$(MYSQL_TCP_PORT=$MY_PAIR_PORT_r cdc_my_master_pos gtid)
assert_eq "$end_r" "$(cdc_my_master_pos gtid)" "the replica's GTID position (actual) and the primary's (expected)"
wait_for "[ \"\$(flush)\" = '$end_r' ]" 10 ||
  cdc_die "the flush $(flush) does not equal the replica's GTID position $end_r (@@gtid_binlog_pos $(my_pair_gtid_pos r))"
cdc_my_pos_ge "$end_r" "$kill_flush" || die "the flush went backwards: $kill_flush, then $end_r"
cdc_stop "$pid"
assert_eq "$end_r" "$(flush)" "the flush after SIGTERM (actual) and the replica's GTID position"
note "run 2 on the replica: flush $kill_flush -> $end_r (= @@gtid_binlog_pos $(my_pair_gtid_pos r))"

# ===== 4: the data ===========================================================================
note "comparing with the primary"
cdc_sb_same "$SRC" pg "$TGT" "$TABLES"
cdc_my_audit_same "$SRC" pg "$TGT"
check_apply_log "across the kill and the fail-over"
cdc_verify "$TMPD/spec_r.json" verify-replica

# ===== 5: errors =============================================================================
# New rows on the source, so that a run that wrongly went on would change the target.
more_rows() {
  my_sql "$SRC" "INSERT INTO cdc_audit (client, note, amount, at) SELECT 9, CONCAT('late ', seq), seq, NOW(6)
    FROM seq_1_to_$1; UPDATE sbtest1 SET k = k + 1 WHERE id <= 10"
}
# Runs sluice with SPEC (label LABEL) expecting it to fail before applying anything, with
# an error matching each extended regexp after the third argument.
expect_error() {
  local label=$1 spec=$2 before re
  shift 2
  before=$(target_sum)
  cdc_start "$label" "$spec" "$TMPD/data"
  cdc_wait_exit "$CDC_PID" 60
  [ "$CDC_RC" != 124 ] || cdc_die "$label: sluice still runs after 60 s (expected an error)"
  [ "$CDC_RC" != 0 ] || cdc_die "$label: sluice exited 0 (expected an error)"
  for re in "$@"; do
    assert_grep "^error:.*$re" "$CDC_LOG" "$label: the error does not say /$re/"
  done
  assert_eq "$before" "$(target_sum)" "$label: the target's tables (rows, md5) before (expected) and after"
  note "$label: exit $CDC_RC, target unchanged: $(grep -m1 '^error' "$CDC_LOG")"
}

more_rows 20
my_pair_wait_synced 60
expect_error file "$TMPD/spec_file.json" position gtid file

more_rows 20
my_pair_wait_synced 60
my_sql "" "FLUSH BINARY LOGS"
newest=$(my_pair_binlog p)
# (Retried: the server keeps a binlog that a replica's dump thread or crash recovery still
# needs for a moment after the rotation.)
binlogs() { my_sql "" "SHOW BINARY LOGS" | cut -f1 | tr '\n' ' ' | sed 's/ $//'; }
purge_to_newest() { my_sql "" "PURGE BINARY LOGS TO '$newest'" && [ "$(binlogs)" = "$newest" ]; }
wait_for purge_to_newest 30 || die "the primary still has binlogs $(binlogs) after PURGE BINARY LOGS TO '$newest'"
note "primary: binlogs purged up to $newest; the stream's flush $(flush), the primary at $(cdc_my_master_pos gtid)"
expect_error purged "$TMPD/spec_p.json" purged

# The stream goes on from the replica (which kept its binlogs): the late rows arrive, once.
cdc_start run3 "$TMPD/spec_r.json" "$TMPD/data"
pid=$CDC_PID
MYSQL_TCP_PORT=$MY_PAIR_PORT_r cdc_my_catch_up pg "$TGT" "$NAME" "$pid" 60
cdc_sb_same "$SRC" pg "$TGT" "$TABLES"
cdc_my_audit_same "$SRC" pg "$TGT"
check_apply_log "with the late rows, after the errors"

# A transaction in a second GTID domain (written on the replica) stops the running stream
# with an error, unapplied.
before=$(target_sum positions)
my_pair_sql r "$SRC" "SET SESSION gtid_domain_id = 1;
  INSERT INTO cdc_audit (client, note, amount, at) VALUES (7, 'domain 1', 0, NOW(6))"
note "replica: @@gtid_binlog_pos $(my_pair_gtid_pos r)"
cdc_wait_exit "$pid" 60
[ "$CDC_RC" != 124 ] || cdc_die "domain: sluice still runs 60 s after a transaction in GTID domain 1"
[ "$CDC_RC" != 0 ] || cdc_die "domain: sluice exited 0 after a transaction in GTID domain 1 (expected an error)"
assert_grep '^error:.*domain' "$CDC_LOG" "domain: the error does not say 'domain'"
assert_eq "$before" "$(target_sum positions)" "domain: the target's tables before (expected) and after"
note "domain: exit $CDC_RC, target unchanged: $(grep -m1 '^error' "$CDC_LOG")"

# A stream in file positions (the noise table, from the primary) cannot resume once the
# primary's binlog was reset: its position lies beyond the new binlog's end.
write_cdc_spec "$TMPD/spec_pf.json" "$NAME-file" "$(my_pair_url p "$SRC")?position=file" "$(pg_url "$TGT")" \
  '{}' '["noise"]'
cdc_start run4 "$TMPD/spec_pf.json" "$TMPD/data"
pid=$CDC_PID
wait_for "cdc_my_handed_over pg $TGT $NAME-file || ! kill -0 $pid" 60 || cdc_die "file: no hand-over after 60 s"
[ "$(cdc_my_pos_kind "$(cdc_my_ckpt pg "$TGT" "$NAME-file" cdc_start)")" = file ] ||
  die "file: position=file was asked for, the hand-over is $(cdc_my_ckpt pg "$TGT" "$NAME-file" cdc_start)"
my_sql "$SRC" "INSERT INTO noise (at) VALUES (NOW(6))"
cdc_my_catch_up pg "$TGT" "$NAME-file" "$pid" 60
cdc_stop "$pid"
my_sql "" "RESET MASTER"
my_sql "$SRC" "INSERT INTO noise (at) VALUES (NOW(6))"
expect_error reset "$TMPD/spec_pf.json" "beyond the end of the binlog"

note "ok ($(($(now_ms) - T0)) ms)"
