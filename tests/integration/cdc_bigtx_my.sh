#!/usr/bin/env bash
# cdc_bigtx_my.sh: MariaDB binlog transactions much larger than a batch (batch_rows 500)
# are applied whole, each in one target transaction at its commit, into PostgreSQL and
# into MariaDB (two streams of one source), also across kill -9:
#   T1  30,000 inserts in one statement, single-row transactions committing meanwhile;
#   T2  30,000 updates, the stream into PostgreSQL SIGKILLed while its lane applies them;
#   T3  deletes, updates and inserts in one transaction of 30,000 row changes, the stream
#       into MariaDB SIGKILLed while its lane applies it.
# A probe on each target records count(*) and sum(grp) of the table every few ms: every
# state it saw must be one of the states between transactions (and it must have seen each
# of them). On the PostgreSQL target a trigger logs every row operation sluice makes, in
# its own transaction: each source row change is applied exactly once. At the end every
# table equals the source on both targets.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc_mysql.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc_bigtx.sh"

SRC=sl_bigtx_my_src TPG=sl_bigtx_my_pg TMY=sl_bigtx_my_my
N=30000

cdc_my_db "$SRC"
cdc_pg_db "$TPG"
cdc_my_db "$TMY"
my_sql "$SRC" "CREATE TABLE big (id bigint NOT NULL PRIMARY KEY, grp int NOT NULL, note varchar(40)) ENGINE=InnoDB;
  CREATE TABLE small (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, v int NOT NULL) ENGINE=InnoDB"
write_cdc_spec "$TMPD/pg.json" bigtx-my-pg "$(my_url "$SRC")" "$(pg_url "$TPG")" '{"batch_rows": 500}' \
  '["big", "small"]'
write_cdc_spec "$TMPD/my.json" bigtx-my-my "$(my_url "$SRC")" "$(my_url "$TMY")" '{"batch_rows": 500}' \
  '["big", "small"]'

# Starts stream LABEL (pg or my: spec $TMPD/LABEL.json, target ENGINE DB) and waits until
# it streams; sets PID_<LABEL>.
start_stream() {
  local label=$1 db=$2 log=$3
  cdc_start "$log" "$TMPD/$label.json" "$TMPD/$label.data"
  eval "PID_$label=$CDC_PID"
  wait_for "cdc_my_handed_over $label $db bigtx-my-$label || ! kill -0 $CDC_PID" 90 ||
    cdc_die "$label: not streaming after 90 s"
  cdc_alive "$CDC_PID" || { cdc_wait_exit "$CDC_PID" 1; cdc_die "$label: sluice exited ($CDC_RC)"; }
}
# Waits until both streams applied everything the source wrote so far.
catch_up_both() {
  cdc_my_catch_up pg "$TPG" bigtx-my-pg "$PID_pg" 120
  cdc_my_catch_up my "$TMY" bigtx-my-my "$PID_my" 120
}

start_stream pg "$TPG" pg1
start_stream my "$TMY" my1
bigtx_apply_log "$TPG"
bigtx_probe_start "$TPG" pg
bigtx_probe_start "$TMY" my

# --- T1: one statement of 30,000 inserts ------------------------------------------------------
bigtx_small_start "$SRC" my
my_sql "$SRC" "INSERT INTO big SELECT seq, 1, CONCAT('row ', seq) FROM seq_1_to_$N"
bigtx_small_stop
catch_up_both
for t in "$TPG pg" "$TMY my"; do
  set -- $t
  assert_eq "$N $N" "$(bigtx_state "$1" "$2")" "T1 on $1 (rows, sum of grp)"
  bigtx_probe_only "$1" "$2" "0 0" "$N $N"
done
assert_grep "is larger than a batch: spilling it through the broker" "$TMPD/pg1.err"

# --- T2: killed while the stream into PostgreSQL applies it -----------------------------------
my_sql "$SRC" "UPDATE big SET grp = 2"
bigtx_kill_mid_apply "$PID_pg" "$TPG" pg1 pg
start_stream pg "$TPG" pg2
catch_up_both
assert_eq "$N $((2 * N))" "$(bigtx_state "$TPG")" "T2 on $TPG after the kill"

# --- T3: a mixed transaction, killed while the stream into MariaDB applies it ------------------
my_sql "$SRC" "BEGIN;
  DELETE FROM big WHERE id % 3 = 0;
  UPDATE big SET grp = grp + 1 WHERE id % 3 = 1;
  INSERT INTO big SELECT 100000 + seq, 5, 'new' FROM seq_1_to_10000;
  COMMIT"
bigtx_kill_mid_apply "$PID_my" "$TMY" my1 my
start_stream my "$TMY" my2
catch_up_both
assert_eq "$N 100000" "$(bigtx_state "$TMY" my)" "T3 on $TMY after the kill"
cdc_stop "$PID_pg"
cdc_stop "$PID_my"

# --- what the targets saw ----------------------------------------------------------------------
for t in "$TPG pg" "$TMY my"; do
  set -- $t
  bigtx_probe_check "$1" "$2" "0 0" "$N $N" "$N $((2 * N))" "$N 100000"
done
# every row operation once: 40,000 inserts, 30,000 + 10,000 updates, 10,000 deletes
assert_eq "DELETE 10000 10000|INSERT 40000 40000|UPDATE 40000 30000" \
  "$(pg_sql "$TPG" "SELECT string_agg(op || ' ' || n || ' ' || ids, '|' ORDER BY op) FROM
    (SELECT op, count(*) n, count(DISTINCT id) ids FROM big_applied GROUP BY op) s")" \
  "row operations sluice applied on $TPG (operation, count, distinct ids)"
cdc_my_same_my "$SRC" "$TMY" big id
cdc_my_same_my "$SRC" "$TMY" small id
cdc_my_same_pg big "$SRC" "$TPG" "SELECT CONCAT_WS('|', id, grp, note) FROM big" \
  "SELECT concat_ws('|', id, grp, note) FROM big"
cdc_my_same_pg small "$SRC" "$TPG" "SELECT CONCAT_WS('|', id, v) FROM small" \
  "SELECT concat_ws('|', id, v) FROM small"
note "ok"
