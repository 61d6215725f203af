#!/usr/bin/env bash
# pg_cdc_toast_schema.sh: PostgreSQL -> PostgreSQL change data capture of TOASTed values and
# of schema changes.
#
# TOAST: docs (primary key) and docs_full (no key, REPLICA IDENTITY FULL) hold ~25 KB of
# random hex per row, stored out of line (checked: pg_column_size and the TOAST table). While
# streaming, rows are updated only on other columns, so pgoutput sends their big values as
# "unchanged": the target must keep them (md5 both sides), also when the update moves the
# row to another primary key; new big rows, a changed big value and a delete stream too.
#
# Schema: ADD COLUMN (text and numeric(10,2)) then rows using them, DROP COLUMN then more
# changes: the target's columns and values follow the source. An unsupported change,
# ALTER COLUMN ... TYPE integer -> boolean, stops sluice with a non-zero exit and an error
# naming the table with a hint; nothing after it is applied and a rerun stops again. A second
# stream checks the same for RENAME COLUMN.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"

SRC=sl_cdc_ts_src TGT=sl_cdc_ts_tgt
NAME=cdc-toast
SLOT=$(cdc_slot_name "$NAME")
cdc_pg_db "$SRC"
cdc_pg_db "$TGT"

# 800 md5 hashes of random numbers: ~25 KB of hex that pglz cannot shrink by 25 %, so it is
# stored uncompressed out of line. (s references g: one value per row.)
BIG="(SELECT string_agg(md5(random()::text || g || s), '') FROM generate_series(1, 800) s)"
pg_sql "$SRC" "
  CREATE TABLE docs (id integer PRIMARY KEY, big text NOT NULL, small integer NOT NULL, note text);
  INSERT INTO docs SELECT g, $BIG, g, 'note ' || g FROM generate_series(1, 20) g;
  CREATE TABLE docs_full (k integer NOT NULL, big text, small integer);
  ALTER TABLE docs_full REPLICA IDENTITY FULL;
  INSERT INTO docs_full SELECT g, $BIG, g FROM generate_series(1, 5) g;"
assert_eq "20 20" "$(pg_sql "$SRC" "SELECT count(*) || ' ' || count(*) FILTER (WHERE pg_column_size(big) > 20000)
  FROM docs")" "big values stored uncompressed"
toast_chunks() {
  pg_sql "$SRC" "SELECT count(*) FROM $(pg_sql "$SRC" "SELECT reltoastrelid::regclass FROM pg_class
    WHERE oid = '$1'::regclass")"
}
[ "$(toast_chunks docs)" -ge 200 ] || die "the big values of docs are not in its TOAST table"
[ "$(toast_chunks docs_full)" -ge 50 ] || die "the big values of docs_full are not in its TOAST table"

write_cdc_spec "$TMPD/spec.json" "$NAME" "$(pg_url "$SRC")" "$(pg_url "$TGT")" \
  '{"batch_rows": 500, "writers": 2}' '["docs", "docs_full"]'
cdc_track "$TMPD/spec.json" "$SRC"
cdc_start run "$TMPD/spec.json" "$TMPD/data"
pid=$CDC_PID
wait_for "cdc_has_ckpt pg $TGT $NAME || ! kill -0 $pid" 90 ||
  cdc_die "no CDC checkpoint (cdc:0) on the target after 90 s"
cdc_alive "$pid" || cdc_die "sluice exited during the initial load"

# Rows of docs as "id|md5(big)|length(big)|other columns", in id order, on database DB.
docs_rows() {
  pg_sql "$1" "SELECT concat_ws('|', id, md5(big), length(big), small,
    coalesce(to_jsonb(d) - 'id' - 'big' - 'small', '{}')::text) FROM docs d ORDER BY id"
}
full_rows() {
  pg_sql "$1" "SELECT concat_ws('|', k, md5(big), small) FROM docs_full ORDER BY k, small"
}
# Asserts that docs and docs_full are the same on both sides.
same_docs() {
  docs_rows "$SRC" >"$TMPD/docs.src"
  docs_rows "$TGT" >"$TMPD/docs.tgt"
  cdc_same_file "$TMPD/docs.src" "$TMPD/docs.tgt" "docs rows ($1)"
  full_rows "$SRC" >"$TMPD/full.src"
  full_rows "$TGT" >"$TMPD/full.tgt"
  cdc_same_file "$TMPD/full.src" "$TMPD/full.tgt" "docs_full rows ($1)"
}
# The columns of docs as "name type, ..." on database DB.
docs_columns() {
  pg_sql "$1" "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
    FROM pg_attribute WHERE attrelid = 'docs'::regclass AND attnum > 0 AND NOT attisdropped"
}

same_docs "after the initial load"

note "TOAST: updates that leave the big values unchanged"
pg_sql "$SRC" "
  INSERT INTO docs SELECT g, $BIG, g, 'note ' || g FROM generate_series(21, 30) g;
  UPDATE docs SET small = small + 1000, note = 'updated' WHERE id % 2 = 0;
  BEGIN;
  UPDATE docs SET id = id + 100 WHERE id IN (3, 23);
  UPDATE docs SET note = NULL WHERE id = 9;
  COMMIT;
  UPDATE docs SET big = big || 'x' WHERE id = 5;
  DELETE FROM docs WHERE id = 7;
  UPDATE docs_full SET small = small + 100 WHERE k IN (1, 2);
  DELETE FROM docs_full WHERE k = 3;"
assert_eq "0" "$(pg_sql "$SRC" "SELECT count(*) FROM docs WHERE id IN (3, 23, 7)")" "source rows moved"
cdc_catch_up "$SLOT" "$pid" 60
same_docs "after updates of other columns"
assert_eq 15 "$(pg_sql "$TGT" "SELECT count(*) FROM docs WHERE small > 1000 AND length(big) = 25600")" \
  "target rows updated on small with the big value kept"

note "ADD COLUMN"
pg_sql "$SRC" "
  ALTER TABLE docs ADD COLUMN extra text, ADD COLUMN amount numeric(10,2);
  INSERT INTO docs (id, big, small, note, extra, amount) VALUES (40, 'short', 40, 'n40', 'extra-40', 12345678.91);
  UPDATE docs SET extra = 'e' || id, amount = id / 4.0 WHERE id <= 10;"
cdc_catch_up "$SLOT" "$pid" 60
cdc_alive "$pid" || cdc_die "sluice exited after ADD COLUMN"
assert_eq "$(docs_columns "$SRC")" "$(docs_columns "$TGT")" "columns of docs after ADD COLUMN (source, target)"
same_docs "after ADD COLUMN"
assert_eq "extra-40|12345678.91" "$(pg_sql "$TGT" "SELECT extra || '|' || amount FROM docs WHERE id = 40")" \
  "target row 40 with the new columns"

note "DROP COLUMN"
pg_sql "$SRC" "
  ALTER TABLE docs DROP COLUMN note;
  UPDATE docs SET small = small + 1, extra = 'after drop' WHERE id IN (1, 2, 40);
  INSERT INTO docs (id, big, small, extra) VALUES (41, 'short 41', 41, 'e41');"
cdc_catch_up "$SLOT" "$pid" 60
cdc_alive "$pid" || cdc_die "sluice exited after DROP COLUMN"
assert_eq "id integer, big text, small integer, extra text, amount numeric(10,2)" "$(docs_columns "$TGT")" \
  "columns of docs on the target after DROP COLUMN"
same_docs "after DROP COLUMN"
cdc_verify "$TMPD/spec.json"

note "unsupported: ALTER COLUMN small TYPE boolean"
pg_sql "$SRC" "INSERT INTO docs (id, big, small) VALUES (50, 'before', 50);
  ALTER TABLE docs ALTER COLUMN small TYPE boolean USING small > 0;
  INSERT INTO docs (id, big, small) VALUES (51, 'after', true);"
cdc_wait_exit "$pid" 60
[ "$CDC_RC" != 124 ] || cdc_die "sluice still runs 60 s after an incompatible ALTER COLUMN TYPE"
[ "$CDC_RC" != 0 ] || cdc_die "sluice exited 0 after an incompatible ALTER COLUMN TYPE"
note "sluice stopped with exit $CDC_RC: $(grep -m1 '^error' "$CDC_LOG" || true)"
assert_grep '^error:.*docs' "$CDC_LOG" "the error does not name table docs"
assert_grep '^hint: ' "$CDC_LOG" "the error does not say what to do (no hint line)"
assert_eq "50:before" "$(pg_sql "$TGT" "SELECT string_agg(id || ':' || big, ',' ORDER BY id)
  FROM docs WHERE id IN (50, 51)")" \
  "the change before the ALTER is applied, the one after it is not"
assert_eq "small integer" "$(pg_sql "$TGT" "SELECT attname || ' ' || format_type(atttypid, atttypmod)
  FROM pg_attribute WHERE attrelid = 'docs'::regclass AND attname = 'small'")" "target column small"
# A rerun meets the same change and stops again: it does not skip it.
cdc_start rerun "$TMPD/spec.json" "$TMPD/data"
cdc_wait_exit "$CDC_PID" 60
{ [ "$CDC_RC" != 124 ] && [ "$CDC_RC" != 0 ]; } || cdc_die "the rerun did not stop at the incompatible change (exit $CDC_RC)"
assert_grep '^error:.*docs' "$CDC_LOG" "the rerun's error does not name table docs"
assert_eq 0 "$(pg_sql "$TGT" "SELECT count(*) FROM docs WHERE id = 51")" "row 51 after the rerun"

note "unsupported: RENAME COLUMN"
SRC2=sl_cdc_ts_src2 TGT2=sl_cdc_ts_tgt2 NAME2=cdc-rename
cdc_pg_db "$SRC2"
cdc_pg_db "$TGT2"
pg_sql "$SRC2" "CREATE TABLE ren (id integer PRIMARY KEY, a text, b integer);
  INSERT INTO ren VALUES (1, 'one', 1), (2, 'two', 2), (3, NULL, 3);"
write_cdc_spec "$TMPD/ren.json" "$NAME2" "$(pg_url "$SRC2")" "$(pg_url "$TGT2")" '{}' '["ren"]'
cdc_track "$TMPD/ren.json" "$SRC2"
cdc_start ren "$TMPD/ren.json" "$TMPD/ren.data"
pid=$CDC_PID
wait_for "cdc_has_ckpt pg $TGT2 $NAME2 || ! kill -0 $pid" 90 || cdc_die "ren: no CDC checkpoint after 90 s"
pg_sql "$SRC2" "UPDATE ren SET b = 20 WHERE id = 2;
  ALTER TABLE ren RENAME COLUMN a TO a2;
  INSERT INTO ren VALUES (4, 'four', 4);"
cdc_wait_exit "$pid" 60
[ "$CDC_RC" != 124 ] || cdc_die "sluice still runs 60 s after RENAME COLUMN"
[ "$CDC_RC" != 0 ] || cdc_die "sluice exited 0 after RENAME COLUMN"
note "sluice stopped with exit $CDC_RC: $(grep -m1 '^error' "$CDC_LOG" || true)"
assert_grep '^error:.*ren' "$CDC_LOG" "the error does not name table ren"
assert_grep '^hint: ' "$CDC_LOG" "the error does not say what to do (no hint line)"
assert_eq "1|one|1 2|two|20 3||3" "$(pg_sql "$TGT2" "SELECT string_agg(concat_ws('|', id, coalesce(a, ''), b), ' '
  ORDER BY id) FROM ren")" "target ren: the update before the rename applied, the insert after it not"
note "ok"
