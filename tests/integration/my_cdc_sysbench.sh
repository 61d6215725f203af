#!/usr/bin/env bash
# my_cdc_sysbench.sh: MariaDB change data capture (binlog) under sysbench oltp_write_only,
# into PostgreSQL and into MariaDB at once: two streams of the same source database.
#
# The source: sysbench's sbtest1..4 (10,000 rows each) and the insert-only cdc_audit (ids
# from AUTO_INCREMENT, written by a loop on the server, ~200 rows/s, partly in 3-row
# transactions). The workload runs before sluice starts, through the initial load (the
# audit ids written meanwhile prove it) and for STREAM_SECONDS (default 10) of streaming.
# Then each stream catches up (its checkpoint's flush reaches SHOW MASTER STATUS), stops
# on SIGTERM with exit 0, and both targets are compared with the source: every sbtest row
# value by value (MariaDB: md5 of every column in key order; PostgreSQL: the rows printed
# the same way by both engines), cdc_audit row by row with each id once, and `sluice
# verify`. The MariaDB→MariaDB stream uses ordering "key" with 2 writer lanes and binlog
# file positions (`?position=file`), the MariaDB→PostgreSQL one ordering "transaction" and
# the default positions (MariaDB GTIDs): both kinds run side by side on one source.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc_mysql.sh"

SRC=sl_mycdc_sb_src TGT_PG=sl_mycdc_sb_pg TGT_MY=sl_mycdc_sb_my
NAME_PG=mycdc-sb-pg NAME_MY=mycdc-sb-my
TABLES=4 SIZE=${SLUICE_TEST_SB_SIZE:-10000}
STREAM_SECONDS=${SLUICE_TEST_CDC_SECONDS:-10}

cdc_my_db "$SRC"
cdc_pg_db "$TGT_PG"
cdc_my_db "$TGT_MY"
cdc_sb_prepare "$SRC" "$TABLES" "$SIZE"
cdc_my_audit_init "$SRC"
tables=$(cdc_sb_tables "$TABLES" | jq -c '. + ["cdc_audit"]')
write_cdc_spec "$TMPD/pg.json" "$NAME_PG" "$(my_url "$SRC")" "$(pg_url "$TGT_PG")" \
  '{"batch_rows": 2000}' "$tables"
write_cdc_spec "$TMPD/my.json" "$NAME_MY" "$(my_url "$SRC")?position=file" "$(my_url "$TGT_MY")" \
  '{"batch_rows": 2000, "ordering": "key", "writers": 2}' "$tables"
cdc_track "$TMPD/pg.json" "$SRC"
cdc_track "$TMPD/my.json" "$SRC"

audit_max() { my_sql "$SRC" "SELECT IFNULL(MAX(id), 0) FROM cdc_audit"; }

cdc_sb_start wl "$SRC" "$TABLES" "$SIZE" 150 3
cdc_my_audit_start "$SRC"
wait_for "[ \"\$(audit_max)\" -gt 100 ]" 30 || die "the audit loop does not run"
a0=$(audit_max)
t0=$(now_ms)
cdc_start pg "$TMPD/pg.json" "$TMPD/pg.data"
pid_pg=$CDC_PID log_pg=$CDC_LOG
cdc_start my "$TMPD/my.json" "$TMPD/my.data"
pid_my=$CDC_PID log_my=$CDC_LOG
wait_for "cdc_my_handed_over pg $TGT_PG $NAME_PG || ! kill -0 $pid_pg" 60 ||
  cdc_die "MariaDB→PostgreSQL: no hand-over (cdc_tables) after 60 s" "$log_pg"
wait_for "cdc_my_handed_over my $TGT_MY $NAME_MY || ! kill -0 $pid_my" 60 ||
  cdc_die "MariaDB→MariaDB: no hand-over (cdc_tables) after 60 s" "$log_my"
cdc_alive "$pid_pg" || cdc_die "MariaDB→PostgreSQL: sluice exited during the initial load" "$log_pg"
cdc_alive "$pid_my" || cdc_die "MariaDB→MariaDB: sluice exited during the initial load" "$log_my"
a1=$(audit_max)
note "both streams handed over after $(($(now_ms) - t0)) ms (at $(cdc_my_ckpt pg "$TGT_PG" "$NAME_PG" cdc_start) and $(cdc_my_ckpt my "$TGT_MY" "$NAME_MY" cdc_start)); $((a1 - a0)) audit rows were written meanwhile"
[ "$a1" -gt "$a0" ] || die "the workload wrote nothing during the initial load: the test proved nothing"
kind_pg=$(cdc_my_pos_kind "$(cdc_my_ckpt pg "$TGT_PG" "$NAME_PG" cdc_start)")
kind_my=$(cdc_my_pos_kind "$(cdc_my_ckpt my "$TGT_MY" "$NAME_MY" cdc_start)")
[ "$kind_pg" = gtid ] || die "MariaDB→PostgreSQL: the default positions should be GTIDs, the hand-over is a $kind_pg position"
[ "$kind_my" = file ] || die "MariaDB→MariaDB: position=file was asked for, the hand-over is a $kind_my position"
# (No "MySQL snapshot" line to look for: a change stream copies its tables in chunks beside
# the stream, each chunk in a snapshot of its own, docs/cdc.md; loads still log it.)

sleep "$STREAM_SECONDS"
cdc_my_audit_stop "$SRC"
cdc_sb_stop wl
[ "$CDC_SB_TX" -gt 500 ] || die "sysbench did only $CDC_SB_TX transactions"
a2=$(audit_max)
[ "$a2" -gt "$((a1 + 200))" ] || die "only $((a2 - a1)) audit rows were written while streaming"

cdc_my_catch_up pg "$TGT_PG" "$NAME_PG" "$pid_pg" 60
cdc_my_catch_up my "$TGT_MY" "$NAME_MY" "$pid_my" 60
cdc_stop "$pid_pg"
cdc_stop "$pid_my"
for log in "$log_pg" "$log_my"; do
  assert_grep 'changes applied' "$log" "sluice did not report the changes it applied"
done
note "MariaDB→PostgreSQL: $(grep -o '[0-9]* changes applied in this run' "$log_pg" | tail -n 1)"
note "MariaDB→MariaDB: $(grep -o '[0-9]* changes applied in this run' "$log_my" | tail -n 1)"

note "comparing MariaDB→PostgreSQL"
cdc_sb_same "$SRC" pg "$TGT_PG" "$TABLES"
cdc_my_audit_same "$SRC" pg "$TGT_PG"
cdc_verify "$TMPD/pg.json" verify-pg
note "comparing MariaDB→MariaDB"
cdc_sb_same "$SRC" my "$TGT_MY" "$TABLES"
cdc_my_audit_same "$SRC" my "$TGT_MY"
cdc_verify "$TMPD/my.json" verify-my
note "ok"
