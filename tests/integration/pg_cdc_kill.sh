#!/usr/bin/env bash
# pg_cdc_kill.sh: PostgreSQL -> PostgreSQL change data capture, SIGKILLed five times under
# the pgbench workload (tests/sql/cdc_*.sql) and restarted each time with the same spec and
# data dir: the first kill lands during the initial copy (rows of pgbench_accounts on the
# target, the copy not done), the second 0-3 s after the next run finished the copy it
# resumed, the third 0.5-4 s after its run started (start-up or catching up), the last
# two 0-2.5 s after their run first moved the checkpoint on (applying). At the end
# (catch-up, SIGTERM, exit 0) every table equals the source (md5 of the rows in key order;
# pgbench_history, which has no key, catches a doubled insert) and `sluice verify` agrees.
#
# No change may be applied twice: once the initial copy is done, a trigger on the target's cdc_audit (ENABLE ALWAYS, so it fires whatever
# session_replication_role sluice uses) logs every INSERT, UPDATE and DELETE sluice makes
# on it in audit_applied, inside sluice's own transaction (a rolled-back batch leaves no
# log). The source table is insert-only, so: nothing but INSERTs is logged, and every id
# committed on the source after the trigger existed is logged exactly once.
#
# Throughout, a sampler reads the slot's confirmed_flush_lsn and THEN the flush LSN of the
# target's checkpoint and asserts confirmed <= flush: the source is never told more than
# the target committed. It must take at least 30 samples with both set.
# Set SLUICE_TEST_SEED to replay the kill delays.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"

SEED=${SLUICE_TEST_SEED:-$(($(date +%s) % 32768))}
RANDOM=$SEED
note "seed $SEED (SLUICE_TEST_SEED=$SEED replays the kill delays)"
SRC=sl_cdc_kill_src TGT=sl_cdc_kill_tgt
NAME=cdc-kill
SLOT=$(cdc_slot_name "$NAME")
SCALE=${SLUICE_TEST_CDC_SCALE:-3}
ACCOUNTS=$((SCALE * 100000))

cdc_pg_db "$SRC"
cdc_pg_db "$TGT"
cdc_workload_init "$SRC" "$SCALE"
write_cdc_spec "$TMPD/spec.json" "$NAME" "$(pg_url "$SRC")" "$(pg_url "$TGT")" \
  '{"batch_rows": 2000, "writers": 2}' "$CDC_WORKLOAD_TABLES"
# Run 1 reads the source through a throttle (tests/lib/throttle.mjs, 4 MB/s), so that its
# initial load cannot end before kill 1 on a fast machine.
throttle_start src "$PGPORT" 4000000
write_cdc_spec "$TMPD/slow.json" "$NAME" "$(pg_url_via "$THROTTLE_PORT" "$SRC")" "$(pg_url "$TGT")" \
  '{"batch_rows": 2000, "writers": 2}' "$CDC_WORKLOAD_TABLES"
cdc_track "$TMPD/spec.json" "$SRC"

# The apply log on the target's cdc_audit (see above); sets HANDOVER_ID, the source's largest
# audit id once the trigger exists. Done once, after the initial copy.
HANDOVER_ID=
add_apply_log() {
  [ -z "$HANDOVER_ID" ] || return 0
  cdc_copied pg "$TGT" "$NAME" || return 0
  cdc_apply_log_create "$TGT"
  HANDOVER_ID=$(audit_max)
  note "apply log on the target's cdc_audit from source id $HANDOVER_ID on"
}

# --- the sampler ------------------------------------------------------------------------------
# One session on the target (source and target share the server, and pg_replication_slots is
# the same in every database) loops every 50 ms: confirmed_flush_lsn of the slot, THEN, in a
# later statement (a later snapshot), the checkpoint's flush LSN, into lsn_samples. A row in
# lsn_samples_stop ends it.
pg_sql "$TGT" "CREATE TABLE lsn_samples (at timestamptz, confirmed pg_lsn, flush pg_lsn, err text);
  CREATE TABLE lsn_samples_stop (x int)"
pg_sql "$TGT" "DO \$\$
DECLARE cf pg_lsn; ck pg_lsn; e text;
BEGIN
  LOOP
    SELECT confirmed_flush_lsn INTO cf FROM pg_replication_slots WHERE slot_name = '$SLOT';
    e := NULL;
    BEGIN
      SELECT (position::json->>'flush')::pg_lsn INTO ck FROM _sluice_checkpoint
       WHERE stream = '$NAME' AND key = 'cdc:0';
    EXCEPTION WHEN undefined_table THEN ck := NULL;
      WHEN OTHERS THEN ck := NULL; e := SQLERRM;
    END;
    INSERT INTO lsn_samples VALUES (clock_timestamp(), cf, ck, e);
    COMMIT;
    EXIT WHEN EXISTS (SELECT 1 FROM lsn_samples_stop);
    PERFORM pg_sleep(0.05);
  END LOOP;
END \$\$" >"$TMPD/sampler.out" 2>&1 &
sampler=$!
CDC_BG_PIDS+=("$sampler")

# --- the kills --------------------------------------------------------------------------------
# Sets RAND_MS to a random delay between LO and HI ms (in this shell: a $(...) subshell
# would not advance the seeded sequence).
rand_ms() { RAND_MS=$(($1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1))); }
target_accounts() { pg_sql "$TGT" "SELECT count(*) FROM pgbench_accounts" 2>/dev/null || echo 0; }
audit_max() { pg_sql "$SRC" "SELECT coalesce(max(id), 0) FROM cdc_audit"; }

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

cdc_workload_start wl "$SRC" 200 3
wait_for "[ \"\$(audit_max)\" -gt 150 ]" 30 || die "the workload does not run"
for i in 1 2 3 4 5; do
  spec=$TMPD/spec.json
  [ "$i" != 1 ] || spec=$TMPD/slow.json
  cdc_start run "$spec" "$TMPD/data"
  pid=$CDC_PID
  case $i in
  1)
    # During the initial copy: as soon as rows of pgbench_accounts are on the target.
    deadline=$(($(now_ms) + 90000))
    until [ "$(target_accounts)" -gt 0 ]; do
      cdc_alive "$pid" || cdc_die "sluice exited during the initial copy"
      [ "$(now_ms)" -lt "$deadline" ] || cdc_die "no row of pgbench_accounts on the target after 90 s"
      sleep 0.02
    done
    kill_now "$pid"
    throttle_stop src
    n=$(target_accounts)
    ! cdc_copied pg "$TGT" "$NAME" || die "kill 1 came after the initial copy ($n accounts): it did not hit it"
    [ "$n" -lt "$ACCOUNTS" ] || die "kill 1: the copy had copied every account already"
    note "kill 1 during the initial copy: $n of $ACCOUNTS accounts on the target"
    continue
    ;;
  2)
    # While streaming: 0-3 s after this run finished the copy (it resumes after kill 1).
    wait_for "cdc_copied pg $TGT $NAME || ! kill -0 $pid" 90 ||
      cdc_die "run 2: the initial copy is not done after 90 s"
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
    ck0=$(cdc_ckpt_flush pg "$TGT" "$NAME")
    wait_for "[ \"\$(cdc_ckpt_flush pg $TGT $NAME)\" != '$ck0' ] || ! kill -0 $pid" 90 ||
      cdc_die "run $i applied nothing in 90 s"
    rand_ms 0 2500
    delay=$RAND_MS
    what="$delay ms after it applied its first changes"
    ;;
  esac
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  cdc_alive "$pid" || cdc_die "sluice run $i exited by itself"
  kill_now "$pid"
  note "kill $i $what: checkpoint flush $(cdc_ckpt_flush pg "$TGT" "$NAME"), slot confirmed $(cdc_slot_confirmed "$SLOT")"
done

note "final run"
cdc_start run "$TMPD/spec.json" "$TMPD/data"
pid=$CDC_PID
sleep 4
cdc_workload_stop wl
cdc_catch_up "$SLOT" "$pid" 90
sleep 1 # more samples after the catch-up
pg_sql "$TGT" "INSERT INTO lsn_samples_stop VALUES (1)"
wait "$sampler" || { cat "$TMPD/sampler.out" >&2; die "the sampler failed"; }
cdc_stop "$pid"

note "comparing"
cdc_pg_same "$SRC" "$TGT" pgbench_accounts aid
cdc_pg_same "$SRC" "$TGT" pgbench_branches bid
cdc_pg_same "$SRC" "$TGT" pgbench_tellers tid
cdc_pg_same "$SRC" "$TGT" pgbench_history "tid, bid, aid, delta, mtime"
cdc_pg_same "$SRC" "$TGT" cdc_items "region, item"
cdc_audit_same "$SRC" pg "$TGT"

# The apply log: nothing but inserts, and each id streamed after the initial copy once.
streamed=$(pg_sql "$SRC" "SELECT count(*) FROM cdc_audit WHERE id > $HANDOVER_ID")
cdc_apply_log_check "$TGT" "$streamed" "$HANDOVER_ID" 200
note "apply log: $streamed audit rows streamed after the initial copy (id > $HANDOVER_ID), each inserted once"
cdc_verify "$TMPD/spec.json"

# The sampler's verdicts.
IFS='|' read -r both bad errs unset < <(pg_sql "$TGT" "SELECT
  count(*) FILTER (WHERE confirmed IS NOT NULL AND flush IS NOT NULL),
  count(*) FILTER (WHERE confirmed > flush), count(*) FILTER (WHERE err IS NOT NULL),
  count(*) FILTER (WHERE confirmed IS NULL OR flush IS NULL) FROM lsn_samples")
note "sampler: $both samples with both LSNs set, $bad with confirmed_flush_lsn > checkpoint flush, $errs unreadable checkpoints, $unset with one unset"
if [ "$bad" != 0 ]; then
  pg_sql "$TGT" "SELECT to_char(at, 'HH24:MI:SS.MS'), confirmed, flush FROM lsn_samples
    WHERE confirmed > flush ORDER BY at LIMIT 10" >&2
  die "the slot confirmed a position past the target's checkpoint (time, confirmed, flush)"
fi
[ "$errs" = 0 ] || die "the checkpoint's flush could not be read as an LSN: $(pg_sql "$TGT" "SELECT min(err) FROM lsn_samples")"
[ "$both" -ge 100 ] || die "the sampler took only $both samples with both LSNs set"
note "ok"
