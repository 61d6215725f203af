#!/usr/bin/env bash
# my_cdc_ddl.sh: schema changes in a MariaDB change stream, and a source refused by the checks.
#   1. binlog_row_metadata = MINIMAL (SET GLOBAL, restored right after and at exit): the
#      run fails with an error naming the setting and a hint with the SET GLOBAL to run,
#      before anything is written on the target (no table, no checkpoint).
#   2. Two streams of the same source, into PostgreSQL and into MariaDB, of docs and logt:
#      - ALTER TABLE docs ADD COLUMN (two columns), then rows using them: the target
#        columns follow (names and types) and the values arrive;
#      - DDL on a table outside the stream (MODIFY COLUMN, RENAME TABLE) is ignored;
#      - TRUNCATE logt, then new rows: the target holds only the new rows;
#      - ALTER TABLE docs DROP COLUMN, then more changes: the column is gone on the targets;
#      each step checked after catching up (both sides' rows, `sluice verify`);
#      - ALTER TABLE docs MODIFY COLUMN (unsupported): both streams stop with exit 1 and an
#        error naming the table with a hint; the row written before it is applied, the one
#        after it is not, the target column keeps its type; a rerun stops again.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc_mysql.sh"

SRC=sl_mycdc_ddl_src TGT_PG=sl_mycdc_ddl_pg TGT_MY=sl_mycdc_ddl_my
NAME_PG=mycdc-ddl-pg NAME_MY=mycdc-ddl-my
cdc_my_db "$SRC"
cdc_pg_db "$TGT_PG"
cdc_my_db "$TGT_MY"
my_sql "$SRC" "
  CREATE TABLE docs (id int NOT NULL PRIMARY KEY, a varchar(20), n int NOT NULL) ENGINE=InnoDB;
  INSERT INTO docs SELECT seq, CONCAT('a', seq), seq * 10 FROM seq_1_to_20;
  CREATE TABLE logt (id int NOT NULL PRIMARY KEY, v int) ENGINE=InnoDB;
  INSERT INTO logt SELECT seq, seq FROM seq_1_to_50;
  CREATE TABLE other (id int NOT NULL PRIMARY KEY, x int) ENGINE=InnoDB;
  INSERT INTO other VALUES (1, 1);"

# ===== 1. binlog_row_metadata = MINIMAL ======================================================
META=$(my_sql "" "SELECT @@GLOBAL.binlog_row_metadata")
assert_eq FULL "$META" "the test server's binlog_row_metadata"
on_exit "my_sql '' \"SET GLOBAL binlog_row_metadata = 'FULL'\""
my_sql "" "SET GLOBAL binlog_row_metadata = 'MINIMAL'"
write_cdc_spec "$TMPD/minimal.json" mycdc-minimal "$(my_url "$SRC")" "$(pg_url "$TGT_PG")" '{}' '["docs"]'
cdc_track "$TMPD/minimal.json" "$SRC"
cdc_start minimal "$TMPD/minimal.json" "$TMPD/minimal.data"
cdc_wait_exit "$CDC_PID" 60
my_sql "" "SET GLOBAL binlog_row_metadata = 'FULL'"
assert_eq FULL "$(my_sql "" "SELECT @@GLOBAL.binlog_row_metadata")" "binlog_row_metadata restored"
[ "$CDC_RC" != 124 ] || cdc_die "minimal: sluice still runs after 60 s (expected an error)"
[ "$CDC_RC" = 1 ] || cdc_die "minimal: sluice exited $CDC_RC (expected 1: a configuration error)"
note "minimal: exit $CDC_RC: $(grep -m1 '^error' "$CDC_LOG" || head -n 1 "$CDC_LOG")"
assert_grep '^error:.*binlog_row_metadata.*MINIMAL' "$CDC_LOG" "minimal: the error does not name the setting"
assert_grep "^hint:.*SET GLOBAL binlog_row_metadata *= *'?FULL" "$CDC_LOG" \
  "minimal: the hint does not give the SET GLOBAL to run"
cdc_my_nothing_written minimal pg "$TGT_PG" mycdc-minimal

# ===== 2. schema changes =====================================================================
write_cdc_spec "$TMPD/pg.json" "$NAME_PG" "$(my_url "$SRC")" "$(pg_url "$TGT_PG")" '{}' '["docs", "logt"]'
write_cdc_spec "$TMPD/my.json" "$NAME_MY" "$(my_url "$SRC")" "$(my_url "$TGT_MY")" '{}' '["docs", "logt"]'
cdc_track "$TMPD/pg.json" "$SRC"
cdc_track "$TMPD/my.json" "$SRC"
cdc_start pg "$TMPD/pg.json" "$TMPD/pg.data"
pid_pg=$CDC_PID log_pg=$CDC_LOG
cdc_start my "$TMPD/my.json" "$TMPD/my.data"
pid_my=$CDC_PID log_my=$CDC_LOG
wait_for "cdc_my_handed_over pg $TGT_PG $NAME_PG || ! kill -0 $pid_pg" 60 ||
  cdc_die "MariaDB→PostgreSQL: no hand-over after 60 s" "$log_pg"
wait_for "cdc_my_handed_over my $TGT_MY $NAME_MY || ! kill -0 $pid_my" 60 ||
  cdc_die "MariaDB→MariaDB: no hand-over after 60 s" "$log_my"

# Both streams catch up and still run.
catch_up() {
  cdc_my_catch_up pg "$TGT_PG" "$NAME_PG" "$pid_pg" 60
  cdc_my_catch_up my "$TGT_MY" "$NAME_MY" "$pid_my" 60
  cdc_alive "$pid_pg" || cdc_die "MariaDB→PostgreSQL: sluice exited after $1" "$log_pg"
  cdc_alive "$pid_my" || cdc_die "MariaDB→MariaDB: sluice exited after $1" "$log_my"
}
# The columns of TABLE as "name type, ..." on the source (MariaDB types), the MariaDB
# target and the PostgreSQL target (format_type).
my_cols() {
  my_sql "$1" "SELECT GROUP_CONCAT(CONCAT(COLUMN_NAME, ' ', COLUMN_TYPE) ORDER BY ORDINAL_POSITION SEPARATOR ', ')
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '$2'"
}
pg_cols() {
  pg_sql "$TGT_PG" "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
    FROM pg_attribute WHERE attrelid = '$1'::regclass AND attnum > 0 AND NOT attisdropped"
}
# Asserts that docs and logt are the same on the source and both targets (every column,
# NULLs told apart).
same_tables() {
  local cols pgcols t
  for t in docs logt; do
    cdc_my_same_my "$SRC" "$TGT_MY" "$t" id
    cols=$(my_sql "$SRC" "SELECT GROUP_CONCAT(CONCAT('IFNULL(', COLUMN_NAME, ', ''<NULL>'')')
      ORDER BY ORDINAL_POSITION SEPARATOR ', ') FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '$t'")
    pgcols=$(pg_sql "$TGT_PG" "SELECT string_agg('coalesce(' || quote_ident(attname) || '::text, ''<NULL>'')', ', '
      ORDER BY attnum) FROM pg_attribute WHERE attrelid = '$t'::regclass AND attnum > 0 AND NOT attisdropped")
    cdc_my_same_pg "$t.$1" "$SRC" "$TGT_PG" "SELECT CONCAT_WS('|', $cols) FROM $t" \
      "SELECT concat_ws('|', $pgcols) FROM $t"
  done
  note "docs and logt equal on both targets ($1)"
}

note "ADD COLUMN"
my_sql "$SRC" "
  ALTER TABLE docs ADD COLUMN extra varchar(30), ADD COLUMN amount decimal(10,2);
  INSERT INTO docs (id, a, n, extra, amount) VALUES (40, 'a40', 400, 'extra-40', 12345678.91);
  UPDATE docs SET extra = CONCAT('e', id), amount = id / 4 WHERE id <= 10;"
catch_up "ADD COLUMN"
assert_eq "id int(11), a varchar(20), n int(11), extra varchar(30), amount decimal(10,2)" "$(my_cols "$SRC" docs)" \
  "source columns of docs after ADD COLUMN"
assert_eq "$(my_cols "$SRC" docs)" "$(my_cols "$TGT_MY" docs)" "MariaDB target columns of docs after ADD COLUMN"
assert_eq "id integer, a character varying(20), n integer, extra character varying(30), amount numeric(10,2)" \
  "$(pg_cols docs)" "PostgreSQL target columns of docs after ADD COLUMN"
same_tables "after ADD COLUMN"
assert_eq "extra-40|12345678.91" "$(pg_sql "$TGT_PG" "SELECT extra || '|' || amount FROM docs WHERE id = 40")" \
  "PostgreSQL target row 40 with the new columns"
assert_eq "e3|0.75" "$(my_sql "$TGT_MY" "SELECT CONCAT(extra, '|', amount) FROM docs WHERE id = 3")" \
  "MariaDB target row 3 with the new columns"

note "DDL outside the stream, TRUNCATE"
my_sql "$SRC" "
  ALTER TABLE other MODIFY COLUMN x bigint;
  RENAME TABLE other TO other2;
  INSERT INTO other2 VALUES (2, 2);
  TRUNCATE TABLE logt;
  INSERT INTO logt VALUES (100, 1), (101, NULL);
  UPDATE docs SET n = n + 1 WHERE id = 1;"
catch_up "DDL on another table and TRUNCATE"
assert_eq "100 101" "$(pg_sql "$TGT_PG" "SELECT string_agg(id::text, ' ' ORDER BY id) FROM logt")" \
  "PostgreSQL target logt after TRUNCATE and two inserts"
assert_eq "100 101" "$(my_sql "$TGT_MY" "SELECT GROUP_CONCAT(id ORDER BY id SEPARATOR ' ') FROM logt")" \
  "MariaDB target logt after TRUNCATE and two inserts"
same_tables "after TRUNCATE"

note "DROP COLUMN"
my_sql "$SRC" "
  ALTER TABLE docs DROP COLUMN a;
  UPDATE docs SET n = n + 1, extra = 'after drop' WHERE id IN (1, 2, 40);
  INSERT INTO docs (id, n, extra) VALUES (41, 410, 'e41');
  DELETE FROM docs WHERE id = 5;"
catch_up "DROP COLUMN"
assert_eq "id integer, n integer, extra character varying(30), amount numeric(10,2)" "$(pg_cols docs)" \
  "PostgreSQL target columns of docs after DROP COLUMN"
assert_eq "$(my_cols "$SRC" docs)" "$(my_cols "$TGT_MY" docs)" "MariaDB target columns of docs after DROP COLUMN"
same_tables "after DROP COLUMN"
cdc_verify "$TMPD/pg.json" verify-pg
cdc_verify "$TMPD/my.json" verify-my

note "unsupported: MODIFY COLUMN"
my_sql "$SRC" "INSERT INTO docs (id, n) VALUES (50, 500);
  ALTER TABLE docs MODIFY COLUMN n bigint NOT NULL;
  INSERT INTO docs (id, n) VALUES (51, 510);"
for e in pg my; do
  if [ "$e" = pg ]; then pid=$pid_pg log=$log_pg; else pid=$pid_my log=$log_my; fi
  cdc_wait_exit "$pid" 60
  [ "$CDC_RC" != 124 ] || cdc_die "$e: sluice still runs 60 s after MODIFY COLUMN" "$log"
  [ "$CDC_RC" = 1 ] || cdc_die "$e: sluice exited $CDC_RC after MODIFY COLUMN (expected 1)" "$log"
  note "$e: sluice stopped with exit $CDC_RC: $(grep -m1 '^error' "$log" || true)"
  assert_grep '^error:.*docs' "$log" "$e: the error does not name table docs"
  assert_grep '^error:.*MODIFY' "$log" "$e: the error does not quote the statement"
  assert_grep '^hint: ' "$log" "$e: the error does not say what to do (no hint line)"
done
assert_eq "50" "$(pg_sql "$TGT_PG" "SELECT string_agg(id::text, ',' ORDER BY id) FROM docs WHERE id IN (50, 51)")" \
  "PostgreSQL target: the insert before MODIFY COLUMN is applied, the one after it is not"
assert_eq "50" "$(my_sql "$TGT_MY" "SELECT GROUP_CONCAT(id ORDER BY id) FROM docs WHERE id IN (50, 51)")" \
  "MariaDB target: the insert before MODIFY COLUMN is applied, the one after it is not"
assert_eq "integer" "$(pg_sql "$TGT_PG" "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
  WHERE attrelid = 'docs'::regclass AND attname = 'n'")" "PostgreSQL target column n"
assert_eq "int(11)" "$(my_sql "$TGT_MY" "SELECT COLUMN_TYPE FROM information_schema.COLUMNS
  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'docs' AND COLUMN_NAME = 'n'")" "MariaDB target column n"
# A rerun meets the same statement and stops again: it does not skip it.
cdc_start rerun "$TMPD/pg.json" "$TMPD/pg.data"
cdc_wait_exit "$CDC_PID" 60
[ "$CDC_RC" = 1 ] || cdc_die "the rerun did not stop at MODIFY COLUMN with exit 1 (exit $CDC_RC)"
assert_grep '^error:.*docs' "$CDC_LOG" "the rerun's error does not name table docs"
assert_eq 0 "$(pg_sql "$TGT_PG" "SELECT count(*) FROM docs WHERE id = 51")" "row 51 after the rerun"
note "ok"
