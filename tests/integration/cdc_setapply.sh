#!/usr/bin/env bash
# cdc_setapply.sh: set-based apply (docs/cdc.md "Applying changes") under mixed workloads,
# checked row by row and change by change with apply logs.
#
# 1. PostgreSQL -> PostgreSQL: pgbench TPC-B-like with tests/sql/cdc_pgbench_*.sql
#    (cdc_workload_start: single and multi-row inserts, updates, deletes and re-inserts of
#    one key in one batch, a keyless table, a composite key), and beside it a loop on
#    sa_docs: large documents stored out of line (TOAST) left unchanged by updates of a
#    few hot rows, rows moved to another key and back (key changes, the document not sent
#    again), deletes and re-inserts.
# 2. MariaDB -> PostgreSQL and MariaDB -> MariaDB at once: sysbench oltp_write_only (an
#    update of an indexed column, an update of a text column, a delete and the re-insert
#    of that key in every transaction).
#
# Apply logs: every table, on the source and on each target, has a row trigger that
# writes (table, operation, key) into sa_log ("old>new" for an update that moves its row;
# on the targets ENABLE ALWAYS). The workloads start only once the stream has handed over
# from its initial load, so every change the source logs is one the stream applies:
# counted per (table, operation, key), inserts, deletes and row moves must be equal, and
# updates no more than the source's (sluice merges an update into the insert or update of
# its key right before it in a batch); the tables are then compared row by row, and
# `sluice verify` runs.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc_mysql.sh"

STREAM_SECONDS=${SLUICE_TEST_CDC_SECONDS:-12}

# The PostgreSQL apply log of database DB: sa_log and the trigger function that fills it
# (its arguments name the key columns; none for a keyless table).
sa_log_pg() {
  pg_sql "$1" "
    CREATE TABLE sa_log (tbl text NOT NULL, op text NOT NULL, k text);
    CREATE FUNCTION sa_log_fn() RETURNS trigger LANGUAGE plpgsql AS \$\$
    DECLARE o text; n text;
    BEGIN
      IF TG_OP <> 'INSERT' THEN SELECT string_agg(to_jsonb(OLD)->>a, '/') INTO o FROM unnest(TG_ARGV) a; END IF;
      IF TG_OP <> 'DELETE' THEN SELECT string_agg(to_jsonb(NEW)->>a, '/') INTO n FROM unnest(TG_ARGV) a; END IF;
      INSERT INTO public.sa_log VALUES (TG_TABLE_NAME, TG_OP,
        CASE WHEN TG_OP = 'UPDATE' AND o IS DISTINCT FROM n THEN o || '>' || n ELSE coalesce(n, o) END);
      RETURN NULL;
    END \$\$;" >/dev/null
}

# sa_log_pg_on DB TABLE [KEY_COLUMN...]: logs TABLE's row changes (enabled always).
sa_log_pg_on() {
  local db=$1 table=$2 args
  shift 2
  args=$(printf "'%s', " "$@")
  pg_sql "$db" "CREATE TRIGGER sa_log AFTER INSERT OR UPDATE OR DELETE ON $table
      FOR EACH ROW EXECUTE FUNCTION sa_log_fn(${args%, });
    ALTER TABLE $table ENABLE ALWAYS TRIGGER sa_log" >/dev/null
}

# The MariaDB apply log of database DB on sbtest1..N (key: id).
sa_log_my() {
  local db=$1 n=$2 i
  my_sql "$db" "CREATE TABLE sa_log (tbl varchar(64) NOT NULL, op varchar(8) NOT NULL, k varchar(200))"
  for i in $(seq 1 "$n"); do
    my_sql "$db" "CREATE TRIGGER sbtest${i}_ai AFTER INSERT ON sbtest$i FOR EACH ROW
        INSERT INTO sa_log VALUES ('sbtest$i', 'INSERT', NEW.id)"
    my_sql "$db" "CREATE TRIGGER sbtest${i}_au AFTER UPDATE ON sbtest$i FOR EACH ROW
        INSERT INTO sa_log VALUES ('sbtest$i', 'UPDATE', IF(OLD.id = NEW.id, NEW.id, CONCAT(OLD.id, '>', NEW.id)))"
    my_sql "$db" "CREATE TRIGGER sbtest${i}_ad AFTER DELETE ON sbtest$i FOR EACH ROW
        INSERT INTO sa_log VALUES ('sbtest$i', 'DELETE', OLD.id)"
  done
}

# The log counted per (table, operation, key), one "tbl|op|key|count" line each, sorted.
sa_log_pg_dump() {
  pg_sql "$1" "SELECT tbl || '|' || op || '|' || coalesce(k, '-') || '|' || count(*) FROM sa_log
    GROUP BY tbl, op, k" | LC_ALL=C sort
}
sa_log_my_dump() {
  my_sql "$1" "SELECT CONCAT(tbl, '|', op, '|', IFNULL(k, '-'), '|', COUNT(*)) FROM sa_log
    GROUP BY tbl, op, k" | LC_ALL=C sort
}

# Asserts that the target's log dump TGT matches the source's SRC and that SRC holds at
# least MIN changes: the same inserts, deletes and row moves per key, exactly; per key at
# most as many updates as the source made (an update that follows an insert or an update
# of its key in the same batch is merged into it: one row operation, see docs/cdc.md),
# and nothing the source did not do.
sa_logs_same() {
  local src=$1 tgt=$2 what=$3 min=$4 n bad
  n=$(awk -F'|' '{s += $4} END {print s + 0}' "$src")
  [ "$n" -ge "$min" ] || die "$what: the source logged only $n changes (need $min): the test proved nothing"
  bad=$(awk -F'|' 'NR == FNR { s[$1 "|" $2 "|" $3] = $4; next }
    { k = $1 "|" $2 "|" $3; t[k] = $4
      if (!(k in s)) print "not on the source: " $0
      else if (($2 != "UPDATE" || index($3, ">")) && $4 != s[k]) print "source " s[k] ", target " $0
      else if ($4 > s[k]) print "more updates than the source (" s[k] "): " $0 }
    END { for (k in s) if (!(k in t) && (k !~ /\|UPDATE\|/ || k ~ />/)) print "not on the target: " k "|" s[k] }' \
    "$src" "$tgt" | head -n 10)
  [ -z "$bad" ] || { echo "$bad" >&2; die "$what: the apply log differs from the source's (table|operation|key|count)"; }
  note "$what: $n changes on the source ($(awk -F'|' '{s[$2] += $4}
    END {for (o in s) printf "%s %d ", o, s[o]}' "$src")), on the target $(awk -F'|' '{s[$2] += $4}
    END {for (o in s) printf "%s %d ", o, s[o]}' "$tgt")"
}

# ===== 1. PostgreSQL -> PostgreSQL ==============================================================
SRC=sl_sa_src TGT=sl_sa_tgt NAME=cdc-setapply
SLOT=$(cdc_slot_name "$NAME")
cdc_pg_db "$SRC"
cdc_pg_db "$TGT"
cdc_workload_init "$SRC" 2
pg_sql "$SRC" "
  CREATE TABLE sa_docs (id integer PRIMARY KEY, n integer NOT NULL, doc text NOT NULL);
  ALTER TABLE sa_docs ALTER doc SET STORAGE EXTERNAL;
  INSERT INTO sa_docs SELECT g, 0, (SELECT string_agg(md5(g::text || i), '') FROM generate_series(1, 120) i)
    FROM generate_series(1, 200) g;" >/dev/null
tables=$(jq -c '. + ["sa_docs"]' <<<"$CDC_WORKLOAD_TABLES")
write_cdc_spec "$TMPD/pg.json" "$NAME" "$(pg_url "$SRC")" "$(pg_url "$TGT")" '{"batch_rows": 5000}' "$tables"
cdc_track "$TMPD/pg.json" "$SRC"
sa_log_pg "$SRC"
sa_log_pg "$TGT"
cdc_start pg "$TMPD/pg.json" "$TMPD/pg.data"
pid=$CDC_PID
# the tables are copied beside the stream: the triggers go in once every copy is done
wait_for "(cdc_has_ckpt pg $TGT $NAME && cdc_copied pg $TGT $NAME) || ! kill -0 $pid" 120 ||
  cdc_die "no hand-over and copy after 120 s"
cdc_alive "$pid" || cdc_die "sluice exited during the initial copy"
for db in "$SRC" "$TGT"; do
  sa_log_pg_on "$db" pgbench_accounts aid
  sa_log_pg_on "$db" pgbench_branches bid
  sa_log_pg_on "$db" pgbench_tellers tid
  sa_log_pg_on "$db" pgbench_history
  sa_log_pg_on "$db" cdc_items region item
  sa_log_pg_on "$db" cdc_audit id
  sa_log_pg_on "$db" sa_docs id
done
[ "$(pg_sql "$TGT" "SELECT count(*) FROM sa_log")" = 0 ] || die "the target logged changes before the workload"

# sa_docs: one client (its deletes and re-inserts of one key would collide between clients)
cat >"$TMPD/docs.sql" <<'SQL'
\set hot random(1, 4)
\set id random(1, 200)
\set mv random(1, 200)
\set re random(1, 50)
BEGIN;
UPDATE sa_docs SET n = n + 1 WHERE id = :hot;
UPDATE sa_docs SET n = n + 1 WHERE id = :hot + 1;
UPDATE sa_docs SET n = n + 2 WHERE id = :id;
UPDATE sa_docs SET id = CASE WHEN id > 1000 THEN id - 1000 ELSE id + 1000 END, n = n + 1
 WHERE id IN (:mv, :mv + 1000) AND :mv > 4;
DELETE FROM sa_docs WHERE id = :re + 2000;
INSERT INTO sa_docs SELECT :re + 2000, :re, string_agg(md5(random()::text), '') FROM generate_series(1, 100);
END;
SQL
(
  set +e
  while [ ! -e "$TMPD/docs.stop" ] && [ ! -e "$TMPD/stop.all" ]; do
    "$PGBENCH" -n -T 2 -c 1 -R 60 -f "$TMPD/docs.sql" "$SRC" >>"$TMPD/docs.pgbench.log" 2>&1
    echo "$?" >>"$TMPD/docs.rcs"
  done
) &
CDC_BG_PIDS+=("$!")
docs_pid=$!
cdc_workload_start wl "$SRC" 250 3
sleep "$STREAM_SECONDS"
cdc_workload_stop wl
touch "$TMPD/docs.stop"
wait_for "! kill -0 $docs_pid" 30 || die "the sa_docs loop did not stop"
[ "$(awk '$1 != 0' "$TMPD/docs.rcs" | wc -l)" = 0 ] || { tail -n 20 "$TMPD/docs.pgbench.log" >&2; die "a sa_docs run failed"; }

cdc_catch_up "$SLOT" "$pid" 120
cdc_stop "$pid"
note "comparing (PostgreSQL target)"
sa_log_pg_dump "$SRC" >"$TMPD/log.src"
sa_log_pg_dump "$TGT" >"$TMPD/log.tgt"
sa_logs_same "$TMPD/log.src" "$TMPD/log.tgt" "PostgreSQL -> PostgreSQL" 3000
grep -q '^sa_docs|UPDATE|[0-9]*>' "$TMPD/log.src" || die "no sa_docs row moved to another key: the test proved less"
cdc_pg_same "$SRC" "$TGT" pgbench_accounts aid
cdc_pg_same "$SRC" "$TGT" pgbench_branches bid
cdc_pg_same "$SRC" "$TGT" pgbench_tellers tid
cdc_pg_same "$SRC" "$TGT" pgbench_history "tid, bid, aid, delta, mtime"
cdc_pg_same "$SRC" "$TGT" cdc_items "region, item"
cdc_pg_same "$SRC" "$TGT" sa_docs id
cdc_audit_same "$SRC" pg "$TGT"
cdc_verify "$TMPD/pg.json" verify-pg

# ===== 2. MariaDB -> PostgreSQL and MariaDB -> MariaDB ===========================================
MSRC=sl_sa_my_src MTGT_PG=sl_sa_my_pg MTGT_MY=sl_sa_my_my
TABLES=3 SIZE=${SLUICE_TEST_SB_SIZE:-5000}
cdc_my_db "$MSRC"
cdc_pg_db "$MTGT_PG"
cdc_my_db "$MTGT_MY"
cdc_sb_prepare "$MSRC" "$TABLES" "$SIZE"
sb_tables=$(cdc_sb_tables "$TABLES")
write_cdc_spec "$TMPD/mp.json" sa-my-pg "$(my_url "$MSRC")" "$(pg_url "$MTGT_PG")" '{"batch_rows": 5000}' "$sb_tables"
write_cdc_spec "$TMPD/mm.json" sa-my-my "$(my_url "$MSRC")" "$(my_url "$MTGT_MY")" '{"batch_rows": 5000}' "$sb_tables"
cdc_track "$TMPD/mp.json" "$MSRC"
cdc_track "$TMPD/mm.json" "$MSRC"
sa_log_pg "$MTGT_PG"
cdc_start mp "$TMPD/mp.json" "$TMPD/mp.data"
pid_pg=$CDC_PID
cdc_start mm "$TMPD/mm.json" "$TMPD/mm.data"
pid_my=$CDC_PID
wait_for "cdc_my_handed_over pg $MTGT_PG sa-my-pg || ! kill -0 $pid_pg" 120 || cdc_die "MariaDB->PostgreSQL: no hand-over" "$TMPD/mp.err"
wait_for "cdc_my_handed_over my $MTGT_MY sa-my-my || ! kill -0 $pid_my" 120 || cdc_die "MariaDB->MariaDB: no hand-over" "$TMPD/mm.err"
cdc_alive "$pid_pg" || cdc_die "MariaDB->PostgreSQL: sluice exited during the initial load" "$TMPD/mp.err"
cdc_alive "$pid_my" || cdc_die "MariaDB->MariaDB: sluice exited during the initial load" "$TMPD/mm.err"
# a first stream's position is the binlog after its load: wait until both stream before
# anything is written, so that every logged change is one they apply
wait_for "cdc_has_ckpt pg $MTGT_PG sa-my-pg && cdc_has_ckpt my $MTGT_MY sa-my-my" 60 ||
  die "the MariaDB streams do not stream"
sa_log_my "$MSRC" "$TABLES"
sa_log_my "$MTGT_MY" "$TABLES"
for i in $(seq 1 "$TABLES"); do sa_log_pg_on "$MTGT_PG" "sbtest$i" id; done
cdc_sb_start sb "$MSRC" "$TABLES" "$SIZE" 200 3
sleep "$STREAM_SECONDS"
cdc_sb_stop sb
cdc_my_catch_up pg "$MTGT_PG" sa-my-pg "$pid_pg" 120
cdc_my_catch_up my "$MTGT_MY" sa-my-my "$pid_my" 120
cdc_stop "$pid_pg"
cdc_stop "$pid_my"
note "comparing (MariaDB source)"
sa_log_my_dump "$MSRC" >"$TMPD/mlog.src"
sa_log_pg_dump "$MTGT_PG" >"$TMPD/mlog.pg"
sa_log_my_dump "$MTGT_MY" >"$TMPD/mlog.my"
sa_logs_same "$TMPD/mlog.src" "$TMPD/mlog.pg" "MariaDB -> PostgreSQL" 2000
sa_logs_same "$TMPD/mlog.src" "$TMPD/mlog.my" "MariaDB -> MariaDB" 2000
cdc_sb_same "$MSRC" pg "$MTGT_PG" "$TABLES"
cdc_sb_same "$MSRC" my "$MTGT_MY" "$TABLES"
cdc_verify "$TMPD/mp.json" verify-mp
cdc_verify "$TMPD/mm.json" verify-mm
note "ok"
