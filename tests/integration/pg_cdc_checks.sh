#!/usr/bin/env bash
# pg_cdc_checks.sh: what PostgreSQL change data capture refuses, and initial_load: false.
#   1. A source role without the REPLICATION privilege: a clear error naming the privilege,
#      before anything is written (no slot, no row on the target).
#   2. A table with neither a primary key nor REPLICA IDENTITY FULL: an error naming the
#      table whose hint gives the ALTER TABLE ... REPLICA IDENTITY FULL to run; nothing
#      written, no slot.
#   3. The slot dropped behind sluice's back after the hand-over to streaming: the rerun
#      fails with an error about the slot and does NOT copy the tables again (every target
#      row keeps its xmin and ctid, and a source change made meanwhile is not applied).
#   4. initial_load: false streams only the changes committed after the slot was created:
#      the rows that were there before are not copied (and `sluice verify` says so, exit 1).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
ROLE=sl_cdc_norepl
# Runs after cdc_exit (registered when cdc.sh is sourced), once its databases are gone.
on_exit "pg_sql postgres 'DROP ROLE IF EXISTS $ROLE' >/dev/null 2>&1"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"

# Runs spec SPEC (label LABEL) and expects it to fail by itself within 60 s; sets CDC_LOG.
run_expect_fail() {
  local label=$1 spec=$2
  cdc_start "$label" "$spec" "$TMPD/$label.data"
  cdc_wait_exit "$CDC_PID" 60
  [ "$CDC_RC" != 124 ] || cdc_die "$label: sluice still runs after 60 s (expected an error)"
  [ "$CDC_RC" != 0 ] || cdc_die "$label: sluice exited 0 (expected an error)"
  note "$label: exit $CDC_RC: $(grep -m1 '^error' "$CDC_LOG" || head -n 1 "$CDC_LOG")"
  grep -m1 '^hint' "$CDC_LOG" | sed "s/^/[$(basename "$0" .sh)] $label: /" || true
}

# Asserts that nothing of stream NAME was written to PostgreSQL database DB: no table but
# (perhaps) an empty-for-this-stream _sluice_checkpoint, and that slot SLOT does not exist.
assert_nothing_written() {
  local label=$1 db=$2 name=$3 slot=$4
  assert_eq "" "$(pg_sql "$db" "SELECT string_agg(tablename, ',') FROM pg_tables
    WHERE schemaname = 'public' AND tablename <> '_sluice_checkpoint'")" "$label: tables on the target"
  if [ "$(pg_sql "$db" "SELECT to_regclass('_sluice_checkpoint') IS NOT NULL")" = t ]; then
    assert_eq 0 "$(pg_sql "$db" "SELECT count(*) FROM _sluice_checkpoint WHERE stream = '$name'")" \
      "$label: checkpoints on the target"
  fi
  assert_eq 0 "$(cdc_slot_count "$slot")" "$label: slot $slot"
}

# ===== 1. no REPLICATION privilege =============================================================
SRC=sl_cdc_ck_src TGT=sl_cdc_ck_tgt
cdc_pg_db "$SRC"
cdc_pg_db "$TGT"
pg_sql "$SRC" "CREATE TABLE items (id integer PRIMARY KEY, v text);
  INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 1000) g;"
pg_sql postgres "DROP ROLE IF EXISTS $ROLE; CREATE ROLE $ROLE LOGIN NOREPLICATION PASSWORD 'norepl'"
pg_sql postgres "GRANT ALL ON DATABASE $SRC TO $ROLE"
pg_sql "$SRC" "GRANT SELECT ON ALL TABLES IN SCHEMA public TO $ROLE"
write_cdc_spec "$TMPD/norepl.json" cdc-norepl \
  "postgres://$ROLE:norepl@127.0.0.1:$PGPORT/$SRC" "$(pg_url "$TGT")" '{}' '["items"]'
cdc_track "$TMPD/norepl.json" "$SRC"
run_expect_fail norepl "$TMPD/norepl.json"
assert_grep 'replication' "$CDC_LOG" "norepl: the error does not name the REPLICATION privilege"
grep -q "$ROLE" "$CDC_LOG" || note "norepl: (the error does not name role $ROLE)"
assert_nothing_written norepl "$TGT" cdc-norepl "$(cdc_slot_name cdc-norepl)"

# ===== 2. a table without a primary key or REPLICA IDENTITY FULL ===============================
pg_sql "$SRC" "CREATE TABLE nokey (a integer, b text);
  INSERT INTO nokey VALUES (1, 'x'), (1, 'x'), (2, NULL);"
write_cdc_spec "$TMPD/nokey.json" cdc-nokey "$(pg_url "$SRC")" "$(pg_url "$TGT")" '{}' '["items", "nokey"]'
cdc_track "$TMPD/nokey.json" "$SRC"
run_expect_fail nokey "$TMPD/nokey.json"
assert_grep '^error:.*nokey' "$CDC_LOG" "nokey: the error does not name the table"
assert_grep '^hint:.*ALTER TABLE .*nokey.* REPLICA IDENTITY FULL' "$CDC_LOG" \
  "nokey: the hint does not give the ALTER TABLE ... REPLICA IDENTITY FULL to run"
assert_nothing_written nokey "$TGT" cdc-nokey "$(cdc_slot_name cdc-nokey)"
# With REPLICA IDENTITY FULL the same table is accepted (checked in part 3's stream).
pg_sql "$SRC" "ALTER TABLE nokey REPLICA IDENTITY FULL"

# ===== 3. the slot dropped behind sluice's back ================================================
NAME=cdc-lostslot
SLOT=$(cdc_slot_name "$NAME")
write_cdc_spec "$TMPD/lost.json" "$NAME" "$(pg_url "$SRC")" "$(pg_url "$TGT")" '{}' '["items", "nokey"]'
cdc_track "$TMPD/lost.json" "$SRC"
cdc_start lost "$TMPD/lost.json" "$TMPD/lost.data"
pid=$CDC_PID
wait_for "cdc_has_ckpt pg $TGT $NAME || ! kill -0 $pid" 90 || cdc_die "lost: no CDC checkpoint after 90 s"
pg_sql "$SRC" "INSERT INTO items SELECT g, 'new ' || g FROM generate_series(1001, 1100) g;
  UPDATE items SET v = 'changed' WHERE id <= 10; DELETE FROM items WHERE id BETWEEN 11 AND 20;
  INSERT INTO nokey VALUES (3, 'streamed'); UPDATE nokey SET b = 'y' WHERE b IS NULL;"
cdc_catch_up "$SLOT" "$pid" 60
cdc_stop "$pid"
cdc_pg_same "$SRC" "$TGT" items id
cdc_pg_same "$SRC" "$TGT" nokey "a, b"
# Every target row with where it lies and which transaction wrote it.
fingerprint() {
  pg_sql "$TGT" "SELECT count(*) || ' ' || md5(string_agg(id || ':' || xmin || ':' || ctid || ':' || v, ','
    ORDER BY id)) FROM items"
}
before=$(fingerprint)
pg_sql postgres "SELECT pg_drop_replication_slot('$SLOT')" >/dev/null
assert_eq 0 "$(cdc_slot_count "$SLOT")" "lost: the slot is dropped"
pg_sql "$SRC" "INSERT INTO items VALUES (5000, 'after the slot was dropped'); UPDATE items SET v = 'late' WHERE id = 1;"
run_expect_fail lost-rerun "$TMPD/lost.json"
assert_grep 'slot' "$CDC_LOG" "lost: the error does not mention the replication slot"
assert_eq "$before" "$(fingerprint)" "lost: target rows (count, md5 of id:xmin:ctid:v) before and after the rerun"
assert_eq 0 "$(pg_sql "$TGT" "SELECT count(*) FROM items WHERE id = 5000 OR v = 'late'")" \
  "lost: source changes made after the slot was dropped on the target"
if [ "$(cdc_slot_count "$SLOT")" != 0 ]; then
  note "WARNING: the failed rerun left a new slot $SLOT behind (it holds WAL)"
fi

# ===== 4. initial_load: false ==================================================================
SRC4=sl_cdc_ck_src4 TGT4=sl_cdc_ck_tgt4 NAME=cdc-noload
SLOT=$(cdc_slot_name "$NAME")
cdc_pg_db "$SRC4"
cdc_pg_db "$TGT4"
pg_sql "$SRC4" "CREATE TABLE events (id integer PRIMARY KEY, v text, n numeric(8,2));
  INSERT INTO events SELECT g, 'old ' || g, g / 3.0 FROM generate_series(1, 100) g;"
write_cdc_spec "$TMPD/noload.json" "$NAME" "$(pg_url "$SRC4")" "$(pg_url "$TGT4")" \
  '{"initial_load": false}' '["events"]'
cdc_track "$TMPD/noload.json" "$SRC4"
cdc_start noload "$TMPD/noload.json" "$TMPD/noload.data"
pid=$CDC_PID
wait_for "[ \"\$(cdc_slot_count $SLOT)\" = 1 ] || ! kill -0 $pid" 60 || cdc_die "noload: no slot after 60 s"
cdc_alive "$pid" || cdc_die "noload: sluice exited"
pg_sql "$SRC4" "INSERT INTO events SELECT g, 'new ' || g, g / 7.0 FROM generate_series(101, 150) g;
  BEGIN; UPDATE events SET v = 'updated' WHERE id = 120; DELETE FROM events WHERE id = 130;
  UPDATE events SET id = 201 WHERE id = 101; COMMIT;"
cdc_catch_up "$SLOT" "$pid" 60
cdc_stop "$pid"
rows() { pg_sql "$1" "SELECT concat_ws('|', id, v, n) FROM events WHERE id > 100 ORDER BY id"; }
assert_eq "$(rows "$SRC4" | md5sum)" "$(rows "$TGT4" | md5sum)" "noload: rows changed after the start"
assert_eq "49 0" "$(pg_sql "$TGT4" "SELECT count(*) || ' ' || count(*) FILTER (WHERE id <= 100) FROM events")" \
  "noload: target rows (all, and those from before the start)"
sl_run "$TMPD/noload.verify" verify "$TMPD/noload.json"
[ "$SL_RC" = 1 ] || { cat "$TMPD/noload.verify.out" "$TMPD/noload.verify.err" >&2
  die "noload: sluice verify exited $SL_RC (expected 1: the old rows are not on the target)"; }
assert_grep 'missing on target' "$TMPD/noload.verify.out" "noload: verify's report"
note "ok"
