#!/usr/bin/env bash
# files_cdc_kill.sh: CDC from PostgreSQL into Parquet files (local store) that rotate every
# second, under a workload of upserts and deletes, killed again and again: three runs end
# in each window of storing a rotation (SLUICE_TEST_FILE_CRASH after_intent, after_data,
# after_ckpt, the same hook as files_kill.sh), four more are SIGKILLed at random moments,
# then a last run catches up and stops. Exactly once is then checked on the files alone
# (read by DuckDB): the change records of the files are, as a multiset, exactly the
# changes a trigger logged on the source (operation, key and value: none lost, none
# twice), and replaying the snapshot and change files of the table in _pos order (each
# key's last record wins) gives the source's table. The objects are exactly the
# manifest's, nothing of a dead run is left, and the change files are a few per rotation,
# not one per transaction. SLUICE_TEST_SEED replays the delays.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/files.sh"

SEED=${SLUICE_TEST_SEED:-$(($(date +%s) % 32768))}
RANDOM=$SEED
note "seed $SEED"
SRC=sl_fck_src NAME=files_cdc_kill OUT=$TMPD/out
cdc_pg_db "$SRC"
pg_sql "$SRC" "
  CREATE TABLE ev (id bigint PRIMARY KEY, v bigint NOT NULL, note text);
  ALTER TABLE ev REPLICA IDENTITY FULL;
  INSERT INTO ev SELECT n, 0, 'snap ' || n FROM generate_series(1, 2000) n;
  -- every change the source makes, as the change files must hold it
  CREATE TABLE ev_log (seq bigserial, op text NOT NULL, id bigint NOT NULL, v bigint NOT NULL);
  CREATE FUNCTION ev_log_fn() RETURNS trigger LANGUAGE plpgsql AS \$\$
  BEGIN
    IF TG_OP = 'DELETE' THEN
      INSERT INTO ev_log (op, id, v) VALUES ('delete', OLD.id, OLD.v);
    ELSE
      INSERT INTO ev_log (op, id, v) VALUES (lower(TG_OP), NEW.id, NEW.v);
    END IF;
    RETURN NULL;
  END \$\$;"
cat >"$TMPD/wl.sql" <<'SQL'
\set id random(1, 3000)
\set d random(1, 30000)
BEGIN;
INSERT INTO ev (id, v, note) VALUES (:id, 0, 'ins ' || :id) ON CONFLICT (id) DO UPDATE SET v = ev.v + 1;
DELETE FROM ev WHERE id = :d;
COMMIT;
SQL

write_cdc_spec "$TMPD/spec.json" "$NAME" "$(pg_url "$SRC")" \
  "file://$OUT?format=parquet&compression=zstd&rotate_seconds=1" '{"batch_rows": 200}' '["ev"]'
cdc_track "$TMPD/spec.json" "$SRC"
SLOT=$(cdc_slot_name "$NAME")
STATE=$OUT/_sluice/$NAME

# 1. the first run: the initial load, then streaming; the workload starts once the changes
#    stream (the trigger logs only what comes after the snapshot)
cdc_start run1 "$TMPD/spec.json" "$TMPD/data"
wait_for "[ -f $STATE/ckpt/cdc_start.json ]" 90 || cdc_die "the initial load did not hand over in 90 s"
pg_sql "$SRC" "CREATE TRIGGER ev_log AFTER INSERT OR UPDATE OR DELETE ON ev FOR EACH ROW EXECUTE FUNCTION ev_log_fn()"
rm -f "$TMPD/wl.stop"
(
  set +e
  while [ ! -e "$TMPD/wl.stop" ]; do
    "$PGBENCH" -n -T 2 -c 2 -j 1 -R 150 --max-tries=50 -f "$TMPD/wl.sql" "$SRC" >>"$TMPD/wl.log" 2>&1
  done
) &
WL=$!
CDC_BG_PIDS+=("$WL")
sleep 2
cdc_kill_tree "$CDC_PID"
wait "$CDC_PID" 2>/dev/null || true
note "run 1 killed after the hand-over and 2 s of changes"

changes_durable() { jq -r '[.tables.ev.files[]? | select(.checkpoint | startswith("cdc:")) | .rows] | add // 0' \
  "$STATE/manifest.json" 2>/dev/null || echo 0; }

# 2. a run ends in each window of storing a rotation
for step in after_intent after_data after_ckpt; do
  echo "=== SLUICE_TEST_FILE_CRASH=$step" >>"$TMPD/crash.err"
  SL_RC=0
  SLUICE_TEST_FILE_CRASH=$step timeout -k 5 120 "$SLUICE_BIN" run "$TMPD/spec.json" --data-dir "$TMPD/data" \
    --no-progress >>"$TMPD/crash.out" 2>>"$TMPD/crash.err" || SL_RC=$?
  assert_eq 137 "$SL_RC" "the run with SLUICE_TEST_FILE_CRASH=$step exits as killed"
  note "crashed $step: $(changes_durable) change records durable"
done

# 3. SIGKILLs at random moments (a rotation a second: some land while files are stored)
for i in 1 2 3 4; do
  cdc_start "kill$i" "$TMPD/spec.json" "$TMPD/data"
  sleep "$((1 + RANDOM % 3)).$((RANDOM % 10))"
  cdc_alive "$CDC_PID" || { cdc_wait_exit "$CDC_PID" 1; cdc_die "run $i exited ($CDC_RC) before the kill"; }
  cdc_kill_tree "$CDC_PID"
  wait "$CDC_PID" 2>/dev/null || true
  note "kill $i: $(changes_durable) change records durable"
done

# 4. the workload stops; a last run catches up and stops cleanly
touch "$TMPD/wl.stop"
wait_for "! kill -0 $WL" 30 || die "the workload did not stop"
cdc_start final "$TMPD/spec.json" "$TMPD/data"
cdc_catch_up "$SLOT" "$CDC_PID" 120
cdc_stop "$CDC_PID"
cat "$TMPD"/*.err >"$TMPD/all.log"
assert_grep "rolling back unfinished files" "$TMPD/all.log" "the rotation cut short before its data files is rolled back"
[ "$(grep -c "rolling forward" "$TMPD/all.log")" -ge 2 ] || die "the rotations cut short after their data files were not rolled forward"

# --- the objects -------------------------------------------------------------------------------
assert_consistent "$OUT" "$NAME"
M=$STATE/manifest.json
nlog=$(pg_sql "$SRC" "SELECT count(*) FROM ev_log")
nfiles=$(jq '[.tables.ev.files[] | select(.checkpoint | startswith("cdc:"))] | length' "$M")
[ "$nlog" -gt 1000 ] || die "the workload made only $nlog changes"
[ "$nfiles" -lt $((nlog / 20)) ] || die "$nfiles change files for $nlog changes: not batched across commits"
note "$nlog changes on the source, $nfiles change files"

# --- exactly once --------------------------------------------------------------------------------
# the change records, as a multiset, are the source's changes
expect=$(pg_sql "$SRC" "SELECT count(*) || ' ' || md5(string_agg(op || ':' || id || ':' || v, ',' ORDER BY op, id, v))
  FROM ev_log")
got=$(duck "SELECT count(*) || ' ' || md5(string_agg(_op || ':' || id || ':' || v, ',' ORDER BY _op, id, v))
  FROM read_parquet('$OUT/ev/*.parquet') WHERE _op <> 'read'")
assert_eq "$expect" "$got" "change records (count, md5 of the sorted multiset) equal the source's changes"
# every record once: no position twice
assert_eq "0" "$(duck "SELECT count(*) FROM (SELECT _pos FROM read_parquet('$OUT/ev/*.parquet') WHERE _op <> 'read'
  GROUP BY _pos HAVING count(*) > 1)")" "no change position is in the files twice"
# snapshot rows and change records sorted by _pos replay the table
expect=$(pg_sql "$SRC" "SELECT count(*) || ' ' || md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM ev")
got=$(duck "WITH f AS (SELECT * FROM read_parquet('$OUT/ev/*.parquet')),
  last AS (SELECT id, arg_max(_op, _pos) AS op, arg_max(v, _pos) AS v FROM f GROUP BY id)
  SELECT count(*) || ' ' || md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM last WHERE op <> 'delete'")
assert_eq "$expect" "$got" "the snapshot and the changes in _pos order give the source's table"
note "ok: every change exactly once after 3 crashes in a rotation and 5 kills"
