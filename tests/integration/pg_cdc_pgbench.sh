#!/usr/bin/env bash
# pg_cdc_pgbench.sh: PostgreSQL -> PostgreSQL change data capture under a pgbench workload.
#
# The source: pgbench -i -s 2 (pgbench_history, which has no key, with REPLICA IDENTITY
# FULL), cdc_items (composite primary key) and cdc_audit (insert-only, unique id) of
# tests/sql/cdc_workload.sql, and the type matrix table types_all (tests/sql/types_pg.sql).
# pgbench (TPC-B-like + tests/sql/cdc_pgbench_*.sql, 3 clients) runs before sluice starts,
# through the initial load and for 15 s of streaming; meanwhile every row of types_all is
# copied, updated (also leaving TOASTed values unchanged), moved to another primary key and
# deleted. Then: catch up (the slot confirms the source's current LSN), SIGTERM (exit 0), and
# every table is compared row by row (md5 over the rows in key order), cdc_audit id by id,
# plus `sluice verify`. Also checked: the slot and publication names, the checkpoint's flush
# LSN is never behind the slot's confirmed position, and `sluice cleanup` drops the slot,
# the publication and the stream's checkpoints.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"

SRC=sl_cdc_pb_src TGT=sl_cdc_pb_tgt
NAME=cdc-PgBench # mixed case and '-': the slot is sluice_cdc_pgbench_<hash of the exact name>
SLOT=$(cdc_slot_name "$NAME")
assert_eq sluice_cdc_pgbench_0526b40c1f71 "$SLOT" "cdc_slot_name"
STREAM_SECONDS=${SLUICE_TEST_CDC_SECONDS:-15}

cdc_pg_db "$SRC"
cdc_pg_db "$TGT"
cdc_workload_init "$SRC" 2
cdc_types_init "$SRC"
tables=$(jq -c '. + ["types_all"]' <<<"$CDC_WORKLOAD_TABLES")
write_cdc_spec "$TMPD/spec.json" "$NAME" "$(pg_url "$SRC")" "$(pg_url "$TGT")" \
  '{"batch_rows": 2000, "writers": 2}' "$tables"
cdc_track "$TMPD/spec.json" "$SRC"

audit_count() { pg_sql "$SRC" "SELECT count(*) FROM cdc_audit"; }

cdc_workload_start wl "$SRC" 200 3
wait_for "[ \"\$(audit_count)\" -gt 100 ]" 30 || die "the workload does not run"
a0=$(audit_count)
t0=$(now_ms)
cdc_start run "$TMPD/spec.json" "$TMPD/data"
pid=$CDC_PID

wait_for "[ \"\$(cdc_slot_count $SLOT)\" = 1 ] || ! kill -0 $pid" 30 || cdc_die "no slot $SLOT after 30 s"
cdc_alive "$pid" || cdc_die "sluice exited before creating its slot"
assert_eq 1 "$(pg_sql "$SRC" "SELECT count(*) FROM pg_publication WHERE pubname = '$SLOT'")" \
  "publication $SLOT in the source database"
wait_for "cdc_has_ckpt pg $TGT $NAME || ! kill -0 $pid" 90 ||
  cdc_die "no CDC checkpoint (cdc:0) on the target after 90 s: the initial load did not hand over"
cdc_alive "$pid" || cdc_die "sluice exited during the initial load"
a1=$(audit_count)
note "initial load handed over after $(($(now_ms) - t0)) ms; $((a1 - a0)) audit rows were written meanwhile"
[ "$a1" -gt "$a0" ] || die "the workload wrote nothing during the initial load: the test proved nothing"

sleep $((STREAM_SECONDS / 3))
note "type matrix changes"
cdc_types_dml "$SRC"
sleep $((STREAM_SECONDS - STREAM_SECONDS / 3))
cdc_workload_stop wl
a2=$(audit_count)
[ "$a2" -gt "$((a1 + 100))" ] || die "the workload wrote only $((a2 - a1)) audit rows while streaming"

cdc_catch_up "$SLOT" "$pid" 90
cdc_stop "$pid"

note "comparing"
cdc_pg_same "$SRC" "$TGT" pgbench_accounts aid
cdc_pg_same "$SRC" "$TGT" pgbench_branches bid
cdc_pg_same "$SRC" "$TGT" pgbench_tellers tid
cdc_pg_same "$SRC" "$TGT" pgbench_history "tid, bid, aid, delta, mtime"
cdc_pg_same "$SRC" "$TGT" cdc_items "region, item"
cdc_pg_same "$SRC" "$TGT" types_all id
cdc_audit_same "$SRC" pg "$TGT"
# The workload changed things: the copy is not just the initial load.
[ "$(pg_sql "$TGT" "SELECT count(*) FROM pgbench_history")" -gt 0 ] || die "pgbench_history is empty on the target"
assert_eq "9 201 202" "$(pg_sql "$TGT" "SELECT string_agg(id::text, ' ' ORDER BY id) FROM types_all
  WHERE id IN (4, 9, 101, 102, 201, 202)")" "types_all: rows moved to another primary key"
assert_eq "$(pg_sql "$SRC" "SELECT md5(c_bytea) || length(c_text) FROM types_all WHERE id = 202")" \
  "$(pg_sql "$TGT" "SELECT md5(c_bytea) || length(c_text) FROM types_all WHERE id = 202")" \
  "types_all: TOASTed values of row 202 (key moved, values not sent again)"
cdc_verify "$TMPD/spec.json"

# The checkpoint is the record: the slot never confirmed more than the target committed.
ck=$(cdc_ckpt_flush pg "$TGT" "$NAME")
cf=$(cdc_slot_confirmed "$SLOT")
{ [ -n "$ck" ] && [ -n "$cf" ]; } || die "no checkpoint flush ($ck) or confirmed_flush_lsn ($cf)"
assert_eq t "$(pg_sql postgres "SELECT '$cf'::pg_lsn <= '$ck'::pg_lsn")" \
  "slot confirmed_flush_lsn $cf <= checkpoint flush $ck"

note "sluice cleanup"
sl_run "$TMPD/cleanup" cleanup "$TMPD/spec.json"
[ "$SL_RC" = 0 ] || { cat "$TMPD/cleanup.out" "$TMPD/cleanup.err" >&2; die "sluice cleanup exited $SL_RC"; }
assert_eq 0 "$(cdc_slot_count "$SLOT")" "slot $SLOT after sluice cleanup"
assert_eq 0 "$(pg_sql "$SRC" "SELECT count(*) FROM pg_publication WHERE pubname = '$SLOT'")" \
  "publication $SLOT after sluice cleanup"
assert_eq 0 "$(pg_sql "$TGT" "SELECT count(*) FROM _sluice_checkpoint WHERE stream = '$NAME'")" \
  "checkpoints of $NAME after sluice cleanup"
# The copy stays.
cdc_pg_same "$SRC" "$TGT" cdc_items "region, item"
note "ok"
