#!/usr/bin/env bash
# pg_cdc_mariadb.sh: PostgreSQL -> MariaDB change data capture under the pgbench workload of
# pg_cdc_pgbench.sh, shorter: pgbench -i -s 1, cdc_items (composite key), cdc_audit
# (insert-only), pgbench_history (no key, REPLICA IDENTITY FULL) and the type matrix table
# types_all, whose every row is copied, updated (also leaving TOASTed values unchanged),
# moved to another key and deleted while streaming. After catching up and a clean stop
# (SIGTERM, exit 0): `sluice verify` (values normalised across engines) and independent
# checks of the values, each table's rows printed the same way by both engines. types_all's
# generated column is recreated on MariaDB from its translated expression.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"

SRC=sl_cdc_my_src TGT=sl_cdc_my_tgt
NAME=cdc-pg2my
SLOT=$(cdc_slot_name "$NAME")
STREAM_SECONDS=${SLUICE_TEST_CDC_SECONDS:-8}

cdc_pg_db "$SRC"
cdc_my_db "$TGT"
cdc_workload_init "$SRC" 1
cdc_types_init "$SRC"
tables=$(jq -c '. + ["types_all"]' <<<"$CDC_WORKLOAD_TABLES")
write_cdc_spec "$TMPD/spec.json" "$NAME" "$(pg_url "$SRC")" "$(my_url "$TGT")" \
  '{"batch_rows": 2000, "writers": 2}' "$tables"
cdc_track "$TMPD/spec.json" "$SRC"

# PostgreSQL leaves generated columns out of its change stream: into MariaDB types_all's
# c_generated (id * 10) is recreated as a generated column, whose expression translates, and
# the stream is not refused (docs/mapping.md); checked at the end.

audit_count() { pg_sql "$SRC" "SELECT count(*) FROM cdc_audit"; }

cdc_workload_start wl "$SRC" 150 3
wait_for "[ \"\$(audit_count)\" -gt 100 ]" 30 || die "the workload does not run"
a0=$(audit_count)
t0=$(now_ms)
cdc_start run "$TMPD/spec.json" "$TMPD/data"
pid=$CDC_PID
wait_for "cdc_has_ckpt my $TGT $NAME || ! kill -0 $pid" 90 ||
  cdc_die "no CDC checkpoint (cdc:0) on the target after 90 s: the initial load did not hand over"
cdc_alive "$pid" || cdc_die "sluice exited during the initial load"
a1=$(audit_count)
note "initial load handed over after $(($(now_ms) - t0)) ms; $((a1 - a0)) audit rows were written meanwhile"
[ "$a1" -gt "$a0" ] || die "the workload wrote nothing during the initial load: the test proved nothing"

sleep $((STREAM_SECONDS / 2))
cdc_types_dml "$SRC"
sleep $((STREAM_SECONDS - STREAM_SECONDS / 2))
cdc_workload_stop wl
a2=$(audit_count)
[ "$a2" -gt "$((a1 + 100))" ] || die "the workload wrote only $((a2 - a1)) audit rows while streaming"

cdc_catch_up "$SLOT" "$pid" 90
cdc_stop "$pid"

# Compares the rows of PG_QUERY on the source with those of MY_QUERY on the target, sorted
# as bytes; each query prints one text line per row.
same_rows() {
  local label=$1
  pg_sql "$SRC" "$2" | LC_ALL=C sort >"$TMPD/$label.src"
  my_sql "$TGT" "$3" | LC_ALL=C sort >"$TMPD/$label.tgt"
  [ -s "$TMPD/$label.src" ] || die "$label: no rows on the source"
  cdc_same_file "$TMPD/$label.src" "$TMPD/$label.tgt" "$label: rows"
}

note "comparing"
same_rows accounts "SELECT concat_ws('|', aid, bid, abalance) FROM pgbench_accounts" \
  "SELECT CONCAT_WS('|', aid, bid, abalance) FROM pgbench_accounts"
same_rows branches "SELECT concat_ws('|', bid, bbalance) FROM pgbench_branches" \
  "SELECT CONCAT_WS('|', bid, bbalance) FROM pgbench_branches"
same_rows tellers "SELECT concat_ws('|', tid, bid, tbalance) FROM pgbench_tellers" \
  "SELECT CONCAT_WS('|', tid, bid, tbalance) FROM pgbench_tellers"
same_rows history "SELECT concat_ws('|', tid, bid, aid, delta, to_char(mtime, 'YYYY-MM-DD HH24:MI:SS.US'))
    FROM pgbench_history" \
  "SELECT CONCAT_WS('|', tid, bid, aid, delta, DATE_FORMAT(mtime, '%Y-%m-%d %H:%i:%s.%f'))
    FROM pgbench_history"
[ "$(wc -l <"$TMPD/history.src")" -gt 0 ] || die "pgbench_history is empty"
cdc_items_same_my "$SRC" "$TGT"
cdc_audit_same "$SRC" my "$TGT"
same_rows types "SELECT concat_ws('|', id, c_int, c_smallint, c_bool::int, c_varchar,
    coalesce(md5(c_bytea), '<NULL>'), coalesce(md5(c_text), '<NULL>')) FROM types_all" \
  "SELECT CONCAT_WS('|', id, c_int, c_smallint, c_bool, c_varchar,
    COALESCE(MD5(c_bytea), '<NULL>'), COALESCE(MD5(c_text), '<NULL>')) FROM types_all"
assert_eq "STORED GENERATED" "$(my_sql "$TGT" "SELECT EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '$TGT'
  AND TABLE_NAME = 'types_all' AND COLUMN_NAME = 'c_generated'")" "c_generated recreated as a generated column"
assert_eq 0 "$(my_sql "$TGT" "SELECT COUNT(*) FROM types_all WHERE NOT c_generated <=> id * 10")" \
  "c_generated computed on the target for every streamed row"
cdc_verify "$TMPD/spec.json"
note "ok"
