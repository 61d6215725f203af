#!/usr/bin/env bash
# pg_cdc_names.sh: PostgreSQL streams never share, take over or skip past each other's slot
# and publication (issue 12, item 1), and streams an earlier sluice handed over keep working.
#   1. The attack: streams "Sales-Sync" (table orders) and "sales_sync" (table items) on one
#      source. An earlier sluice gave both the slot sluice_sales_sync, so the second dropped
#      the first's slot and recreated the publication with its own tables, and the first,
#      restarted, reported 0 changes applied while rows were missing on its target. Now each
#      has its own slot and publication (a hash of the exact name), marked with its name, and
#      both targets end up equal to the source, the rows written while the first was stopped
#      included.
#   2. A slot dropped and created again under a stopped stream (same name): the stream fails
#      with an error about the slot and applies nothing, rather than skip the changes made
#      in between; the slot is left as it is; `sluice run --restart` then copies again.
#   3. A stream handed over by an earlier sluice (slot and publication sluice_<name>, no
#      "cdc_source" checkpoint): the new sluice resumes it on that slot with no gap and no
#      duplicate (an apply log on the target counts every row applied), and `sluice cleanup`
#      drops that slot and publication.
#   4. Two streams of an earlier sluice that shared one slot ("Shop-Feed", "shop_feed"; the
#      second dropped the first's slot and took the name): the first now fails (the slot is
#      past its checkpoints) instead of skipping; `sluice cleanup` of the first leaves the
#      slot alone; the second goes on streaming.
# The earlier sluice: SLUICE_OLD_BIN, a sluice binary built before slot names carried a hash
# (e.g. `git worktree add /tmp/old 4c957e7 && bash /tmp/old/scripts/build.sh`); without it,
# its state is made from the new one's exactly as it would have left it: the slot copied to
# the old name (pg_copy_logical_replication_slot keeps its positions), the publication
# renamed and unmarked, and the "cdc_source" checkpoint deleted.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"

SRC=sl_cdc_nm_src
cdc_pg_db "$SRC"
pg_sql "$SRC" "CREATE TABLE orders (id integer PRIMARY KEY, v text);
  CREATE TABLE items (id integer PRIMARY KEY, v text);
  CREATE TABLE feed_a (id integer PRIMARY KEY, v text);
  CREATE TABLE feed_b (id integer PRIMARY KEY, v text);
  CREATE TABLE cdc_audit (id bigint PRIMARY KEY, v text);
  INSERT INTO orders SELECT g, 'o' || g FROM generate_series(1, 1000) g;
  INSERT INTO items SELECT g, 'i' || g FROM generate_series(1, 500) g;
  INSERT INTO feed_a SELECT g, 'a' || g FROM generate_series(1, 100) g;
  INSERT INTO feed_b SELECT g, 'b' || g FROM generate_series(1, 100) g;
  INSERT INTO cdc_audit SELECT g, 'x' || g FROM generate_series(1, 100) g;"

# Stream NAME (label LABEL) of table TABLE into a new PostgreSQL database TGT.
stream_spec() { cdc_table_stream "$1" "$2" "$(pg_url "$SRC")" "$SRC" "$3" "$4"; }

# Runs stream LABEL (binary BIN, default $SLUICE_BIN) until its target TGT holds a lane
# checkpoint; sets PID.
run_until_ckpt() {
  cdc_start_until "$1" "cdc_has_ckpt pg $2 '$(jq -r .name "$TMPD/$1.json")'" "${3:-}"
}

# Runs stream LABEL and expects it to fail by itself within 60 s.
run_expect_fail() {
  local label=$1
  cdc_start "$label" "$TMPD/$label.json" "$TMPD/$label.data"
  cdc_wait_exit "$CDC_PID" 60
  [ "$CDC_RC" != 124 ] || cdc_die "$label: sluice still runs after 60 s (expected an error)"
  [ "$CDC_RC" != 0 ] || cdc_die "$label: sluice exited 0 (expected an error)"
  note "$label: exit $CDC_RC: $(grep -m1 '^error' "$CDC_LOG" || head -n 1 "$CDC_LOG")"
}

# Succeeds when the lane checkpoint of stream NAME on target TGT may confirm LSN.
ckpt_at_least() {
  [ "$(pg_sql "$1" "SELECT (position::json->>'flush')::pg_lsn >= '$3' FROM _sluice_checkpoint
    WHERE stream = '$2' AND key = 'cdc:0'")" = t ]
}

# Waits until stream NAME (sluice PID) has applied everything written on the source so far,
# by its checkpoint on target TGT (whatever its slot is called).
ckpt_catch_up() {
  local tgt=$1 name=$2 pid=$3 lsn
  lsn=$(pg_sql postgres "SELECT pg_current_wal_lsn()")
  wait_for "ckpt_at_least $tgt '$name' $lsn || ! kill -0 $pid" 60 || cdc_die "$name: not at $lsn after 60 s"
  cdc_alive "$pid" || { cdc_wait_exit "$pid" 1; cdc_die "$name: sluice exited ($CDC_RC)"; }
}

# Prints the stream a publication's comment names (its mark), empty when unmarked.
pub_mark() {
  pg_sql "$SRC" "SELECT obj_description(oid, 'pg_publication')::json->>'sluice_stream' FROM pg_publication
    WHERE pubname = '$1'"
}

# Every target row of table TABLE in TGT with where it lies and which transaction wrote it.
fingerprint() {
  pg_sql "$1" "SELECT count(*) || ' ' || md5(string_agg(id || ':' || xmin || ':' || ctid || ':' || v, ','
    ORDER BY id)) FROM $2"
}

# Makes stream NAME's state on the source and its target TGT what an earlier sluice left:
# its slot and publication under the old name (taking that name over from any other stream,
# as that version did), no mark, no "cdc_source" checkpoint. Without SLUICE_OLD_BIN only.
to_legacy() {
  local name=$1 tgt=$2 new old
  new=$(cdc_slot_name "$name")
  old=$(cdc_legacy_slot_name "$name")
  cdc_drop_slot "$old" "$SRC"
  pg_sql "$SRC" "SELECT pg_copy_logical_replication_slot('$new', '$old')" >/dev/null
  pg_sql postgres "SELECT pg_drop_replication_slot('$new')" >/dev/null
  pg_sql "$SRC" "ALTER PUBLICATION \"$new\" RENAME TO \"$old\"; COMMENT ON PUBLICATION \"$old\" IS NULL"
  pg_sql "$tgt" "DELETE FROM _sluice_checkpoint WHERE stream = '$name' AND key = 'cdc_source'"
}

# Hands stream LABEL (NAME) over as an earlier sluice would: with SLUICE_OLD_BIN, or with
# this one and to_legacy. The stream is stopped after it caught up.
legacy_handover() {
  local label=$1 name=$2 tgt=$3
  run_until_ckpt "$label" "$tgt" "${SLUICE_OLD_BIN:-$SLUICE_BIN}"
  if [ -n "${SLUICE_OLD_BIN:-}" ]; then
    cdc_catch_up "$(cdc_legacy_slot_name "$name")" "$PID" 60
  else
    cdc_catch_up "$(cdc_slot_name "$name")" "$PID" 60
  fi
  cdc_stop "$PID"
  [ -n "${SLUICE_OLD_BIN:-}" ] || to_legacy "$name" "$tgt"
  assert_eq 1 "$(cdc_slot_count "$(cdc_legacy_slot_name "$name")")" "$label: slot under the earlier name"
}
[ -z "${SLUICE_OLD_BIN:-}" ] || note "the earlier sluice: $SLUICE_OLD_BIN"

# ===== 1. Sales-Sync and sales_sync ===========================================================
A=Sales-Sync B=sales_sync TGT_A=sl_cdc_nm_tgta TGT_B=sl_cdc_nm_tgtb
SLOT_A=$(cdc_slot_name "$A") SLOT_B=$(cdc_slot_name "$B")
[ "$SLOT_A" != "$SLOT_B" ] || die "one slot name for $A and $B: $SLOT_A"
stream_spec a "$A" "$TGT_A" orders
stream_spec b "$B" "$TGT_B" items
run_until_ckpt a "$TGT_A"
pg_sql "$SRC" "INSERT INTO orders SELECT g, 'new ' || g FROM generate_series(1001, 1100) g;
  UPDATE orders SET v = 'changed' WHERE id <= 10;"
ckpt_catch_up "$TGT_A" "$A" "$PID"
cdc_stop "$PID"
# written while Sales-Sync is stopped: they must reach its target when it resumes
pg_sql "$SRC" "INSERT INTO orders SELECT g, 'while stopped ' || g FROM generate_series(1101, 1200) g;
  DELETE FROM orders WHERE id BETWEEN 11 AND 20;"
run_until_ckpt b "$TGT_B"
pg_sql "$SRC" "INSERT INTO items SELECT g, 'new ' || g FROM generate_series(501, 600) g;"
ckpt_catch_up "$TGT_B" "$B" "$PID"
cdc_stop "$PID"
pg_sql "$SRC" "INSERT INTO orders SELECT g, 'later ' || g FROM generate_series(1201, 1300) g;"
cdc_start a2 "$TMPD/a.json" "$TMPD/a.data"
PID=$CDC_PID
ckpt_catch_up "$TGT_A" "$A" "$PID"
cdc_stop "$PID"
cdc_pg_same "$SRC" "$TGT_A" orders id
cdc_pg_same "$SRC" "$TGT_B" items id
assert_eq "1 1" "$(cdc_slot_count "$SLOT_A") $(cdc_slot_count "$SLOT_B")" "slots $SLOT_A and $SLOT_B"
assert_eq "$A|$B" "$(pub_mark "$SLOT_A")|$(pub_mark "$SLOT_B")" "the marks of the two publications"
assert_eq 0 "$(cdc_slot_count "$(cdc_legacy_slot_name "$A")")" "the shared name of an earlier sluice is unused"
note "1: $A and $B each streamed from their own slot; both targets equal the source"

# ===== 2. the slot dropped and created again under Sales-Sync ==================================
before=$(fingerprint "$TGT_A" orders)
pg_sql postgres "SELECT pg_drop_replication_slot('$SLOT_A')" >/dev/null
pg_sql "$SRC" "INSERT INTO orders SELECT g, 'lost ' || g FROM generate_series(1301, 1350) g;"
pg_sql "$SRC" "SELECT pg_create_logical_replication_slot('$SLOT_A', 'pgoutput')" >/dev/null
pg_sql "$SRC" "INSERT INTO orders SELECT g, 'after ' || g FROM generate_series(1351, 1360) g;"
recreated=$(cdc_slot_confirmed "$SLOT_A")
cp "$TMPD/a.json" "$TMPD/recreated.json"
run_expect_fail recreated
assert_grep '^error:.*replication slot.*has confirmed.*past where stream' "$CDC_LOG" \
  "recreated: the error does not say that the slot is past the stream's position"
assert_grep '^hint:.*--restart' "$CDC_LOG" "recreated: the hint does not say how to copy again"
assert_eq "$before" "$(fingerprint "$TGT_A" orders)" "recreated: target rows (count, md5 of id:xmin:ctid:v)"
assert_eq "$recreated" "$(cdc_slot_confirmed "$SLOT_A")" "recreated: the slot is left as it was"
assert_eq 0 "$(pg_sql "$TGT_A" "SELECT count(*) FROM orders WHERE id > 1350")" "recreated: rows applied"
# the way out the hint gives
"$SLUICE_BIN" run "$TMPD/a.json" --data-dir "$TMPD/a.data" --no-progress --restart \
  >"$TMPD/restart-ok.out" 2>"$TMPD/restart-ok.err" &
PID=$!
CDC_SLUICE_PIDS+=("$PID")
CDC_LOG=$TMPD/restart-ok.err
wait_for "grep -q 'streaming changes from' $TMPD/restart-ok.err || ! kill -0 $PID" 120 ||
  cdc_die "restart: no hand-over after 120 s"
cdc_alive "$PID" || cdc_die "restart: sluice exited"
cdc_catch_up "$SLOT_A" "$PID" 60
cdc_stop "$PID"
cdc_pg_same "$SRC" "$TGT_A" orders id
note "2: a recreated slot stopped $A with an error; --restart copied again"

# ===== 3. a stream an earlier sluice handed over ==============================================
L=Legacy-Sync TGT_L=sl_cdc_nm_tgtl
stream_spec legacy "$L" "$TGT_L" cdc_audit
OLD_L=$(cdc_legacy_slot_name "$L")
CDC_STREAMS+=("$TMPD/legacy.json"$'\t'"$SRC"$'\t'"$OLD_L")
legacy_handover legacy "$L" "$TGT_L"
cdc_apply_log_create "$TGT_L"
pg_sql "$SRC" "INSERT INTO cdc_audit SELECT g, 'while stopped ' || g FROM generate_series(101, 300) g;"
cdc_start legacy2 "$TMPD/legacy.json" "$TMPD/legacy.data"
PID=$CDC_PID
pg_sql "$SRC" "INSERT INTO cdc_audit SELECT g, 'after the upgrade ' || g FROM generate_series(301, 500) g;"
cdc_catch_up "$OLD_L" "$PID" 60
cdc_stop "$PID"
cdc_pg_same "$SRC" "$TGT_L" cdc_audit id
cdc_apply_log_check "$TGT_L" 400 100 399
assert_eq "1 0" "$(cdc_slot_count "$OLD_L") $(cdc_slot_count "$(cdc_slot_name "$L")")" \
  "$L: slots under the earlier name and under the new one"
sl_run "$TMPD/legacy-cleanup" cleanup "$TMPD/legacy.json"
[ "$SL_RC" = 0 ] || { sed 's/^/  | /' "$TMPD/legacy-cleanup.err" >&2; die "cleanup of $L exited $SL_RC"; }
assert_eq "0 0" "$(cdc_slot_count "$OLD_L") $(pg_sql "$SRC" "SELECT count(*) FROM pg_publication
  WHERE pubname = '$OLD_L'")" "$L: slot and publication after sluice cleanup"
note "3: $L resumed on $OLD_L with each row applied once; cleanup dropped it"

# ===== 4. two streams of an earlier sluice that shared one slot ================================
FA=Shop-Feed FB=shop_feed TGT_FA=sl_cdc_nm_tgtfa TGT_FB=sl_cdc_nm_tgtfb
OLD_F=$(cdc_legacy_slot_name "$FA")
assert_eq "$OLD_F" "$(cdc_legacy_slot_name "$FB")" "one name of an earlier sluice for $FA and $FB"
stream_spec fa "$FA" "$TGT_FA" feed_a
stream_spec fb "$FB" "$TGT_FB" feed_b
CDC_STREAMS+=("$TMPD/fb.json"$'\t'"$SRC"$'\t'"$OLD_F")
legacy_handover fa "$FA" "$TGT_FA"
pg_sql "$SRC" "INSERT INTO feed_a SELECT g, 'new ' || g FROM generate_series(101, 200) g;"
legacy_handover fb "$FB" "$TGT_FB" # takes the slot over
before=$(fingerprint "$TGT_FA" feed_a)
taken=$(cdc_slot_confirmed "$OLD_F")
cp "$TMPD/fa.json" "$TMPD/fa2.json"
run_expect_fail fa2
assert_grep '^error:.*replication slot.*has confirmed.*past where stream' "$CDC_LOG" \
  "$FA: the error does not say that the slot is past the stream's position"
assert_eq "$before" "$(fingerprint "$TGT_FA" feed_a)" "$FA: target rows (count, md5 of id:xmin:ctid:v)"
sl_run "$TMPD/fa-cleanup" cleanup "$TMPD/fa.json"
[ "$SL_RC" = 0 ] || { sed 's/^/  | /' "$TMPD/fa-cleanup.err" >&2; die "cleanup of $FA exited $SL_RC"; }
assert_grep 'left replication slot .* alone' "$TMPD/fa-cleanup.err" "$FA: cleanup did not say it left the slot"
assert_eq "1 $taken" "$(cdc_slot_count "$OLD_F") $(cdc_slot_confirmed "$OLD_F")" \
  "$FA: cleanup left $FB's slot as it was"
pg_sql "$SRC" "INSERT INTO feed_b SELECT g, 'new ' || g FROM generate_series(101, 200) g;"
cdc_start fb2 "$TMPD/fb.json" "$TMPD/fb.data"
PID=$CDC_PID
cdc_catch_up "$OLD_F" "$PID" 60
cdc_stop "$PID"
cdc_pg_same "$SRC" "$TGT_FB" feed_b id
note "4: $FA failed on the slot $FB took over, cleanup left it, $FB went on"
note "ok"
