#!/usr/bin/env bash
# pg_cdc_key_drop.sh: PostgreSQL -> PostgreSQL change data capture, lanes by key (2 writers),
# across a DROP COLUMN of a column of a composite primary key.
#
# Table pairs (a, b, v) has PRIMARY KEY (a, b) and REPLICA IDENTITY FULL. Dropping a drops the
# key at the source (and at the target); the stream must take the source's key as it is now
# (none) instead of keeping b at key position 2 with nothing at position 1, which made every
# later change of the table look its key up at column index -1. Inserts, updates and deletes
# after the drop must arrive (rows and md5 both sides), the stream must keep running, and
# `sluice verify` must find the tables equal. A second table, untouched, keeps streaming.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"

SRC=sl_cdc_kd_src TGT=sl_cdc_kd_tgt
NAME=cdc-key-drop
SLOT=$(cdc_slot_name "$NAME")
cdc_pg_db "$SRC"
cdc_pg_db "$TGT"

pg_sql "$SRC" "
  CREATE TABLE pairs (a integer NOT NULL, b integer NOT NULL, v text, PRIMARY KEY (a, b));
  ALTER TABLE pairs REPLICA IDENTITY FULL;
  INSERT INTO pairs SELECT g % 7, g, 'v' || g FROM generate_series(1, 200) g;
  CREATE TABLE other (id integer PRIMARY KEY, n integer NOT NULL);
  INSERT INTO other SELECT g, g FROM generate_series(1, 50) g;"

write_cdc_spec "$TMPD/spec.json" "$NAME" "$(pg_url "$SRC")" "$(pg_url "$TGT")" \
  '{"batch_rows": 100, "ordering": "key", "writers": 2}' '["pairs", "other"]'
cdc_track "$TMPD/spec.json" "$SRC"
cdc_start run "$TMPD/spec.json" "$TMPD/data"
pid=$CDC_PID
wait_for "cdc_has_ckpt pg $TGT $NAME || ! kill -0 $pid" 90 ||
  cdc_die "no CDC checkpoint (cdc:0) on the target after 90 s"
cdc_alive "$pid" || cdc_die "sluice exited during the initial load"

same() {
  cdc_pg_same "$SRC" "$TGT" pairs "b"
  cdc_pg_same "$SRC" "$TGT" other "id"
}

pg_sql "$SRC" "
  UPDATE pairs SET v = 'before drop ' || b WHERE b % 10 = 0;
  DELETE FROM pairs WHERE b BETWEEN 5 AND 9;
  UPDATE other SET n = n + 1000 WHERE id <= 10;"
cdc_catch_up "$SLOT" "$pid" 60
same

note "DROP COLUMN a (part of the primary key)"
pg_sql "$SRC" "
  ALTER TABLE pairs DROP COLUMN a;
  INSERT INTO pairs (b, v) SELECT g, 'new ' || g FROM generate_series(1001, 1100) g;
  UPDATE pairs SET v = 'after drop ' || b WHERE b % 3 = 0;
  DELETE FROM pairs WHERE b BETWEEN 20 AND 40;
  UPDATE other SET n = n + 1 WHERE id > 40;"
cdc_catch_up "$SLOT" "$pid" 60
cdc_alive "$pid" || cdc_die "sluice exited after DROP COLUMN of a key column"
assert_eq "b integer, v text" "$(pg_sql "$TGT" "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod),
  ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'pairs'::regclass AND attnum > 0 AND NOT attisdropped")" \
  "columns of pairs on the target after DROP COLUMN"
same
assert_eq 274 "$(pg_sql "$TGT" "SELECT count(*) FROM pairs")" "rows of pairs on the target"
cdc_verify "$TMPD/spec.json"
cdc_stop "$pid"
note "ok"
