#!/usr/bin/env bash
# mapping_cdc.sh: filters, mappings and rejects in change streams (docs/mapping.md),
# asserted on the data of both sides.
#
# 1. PostgreSQL -> MariaDB under kill -9. acct (REPLICA IDENTITY FULL) streams with
#    where region = 'EU', a column left out, one renamed, a generated column recreated,
#    and on_error "reject". A workload inserts rows in and out of the filter, moves rows in
#    and out (UPDATE region), sets amounts to NaN (which MariaDB cannot store) and back,
#    touches only the left-out column, and deletes, while sluice is SIGKILLed three times
#    (0.5-4 s into a run) and restarted. At the end the target equals the filtered source
#    (`sluice verify`, rejected keys apart) and holds no row outside the filter, and the
#    rejects are exactly the changes that wrote a NaN inside the filter (counted by a
#    trigger on the source): none recorded twice across the kills, none missing, no
#    rejected change written. Enough rows crossed the filter's boundary both ways.
# 2. MariaDB -> PostgreSQL, a scripted stream: TIME values PostgreSQL's time refuses are
#    rejected while every other change streams on (the issue's third "Done when"); a later
#    UPDATE of a rejected row that carries a storable row is written as an INSERT, one that
#    does not is rejected again, a DELETE of one writes nothing; rows move in and out of
#    the filter (MariaDB sends whole old rows).
# 3. Refusals before anything is created: a filter on a non-key column of a PostgreSQL
#    table without REPLICA IDENTITY FULL (the hint names the ALTER TABLE), a view; a
#    mapping changed between runs; a generated column that does not translate is left out
#    with a warning and the stream runs.
# Set SLUICE_TEST_SEED to replay the kill delays.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"

SEED=${SLUICE_TEST_SEED:-$(($(date +%s) % 32768))}
RANDOM=$SEED
note "seed $SEED (SLUICE_TEST_SEED=$SEED replays the kill delays)"
rand_ms() { RAND_MS=$(($1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1))); }
msleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# --- 1. PostgreSQL -> MariaDB under kill -9 ------------------------------------------------
SRC=sl_mapc_src TGT=sl_mapc_tgt NAME=mapc-pg2my
SLOT=$(cdc_slot_name "$NAME")
cdc_pg_db "$SRC"
cdc_my_db "$TGT"
pg_sql "$SRC" "
  CREATE TABLE acct (id int PRIMARY KEY, region text NOT NULL, v numeric, note text NOT NULL,
    twice int GENERATED ALWAYS AS (id * 2) STORED);
  ALTER TABLE acct REPLICA IDENTITY FULL;
  CREATE SEQUENCE acct_ids START 2001;
  INSERT INTO acct (id, region, v, note)
    SELECT g, CASE WHEN g % 2 = 0 THEN 'EU' ELSE 'US' END, g * 1.25, 'n' FROM generate_series(1, 2000) g;
  -- what every change does with respect to the filter, logged in its own transaction
  CREATE TABLE acct_log (n bigserial PRIMARY KEY, id int, op text, was_in bool, is_in bool, nan bool);
  CREATE FUNCTION acct_log() RETURNS trigger LANGUAGE plpgsql AS \$\$
  BEGIN
    INSERT INTO acct_log (id, op, was_in, is_in, nan) VALUES (
      CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, TG_OP,
      CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.region = 'EU' END,
      CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.region = 'EU' END,
      CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.v = 'NaN' END);
    RETURN NULL;
  END \$\$;
  CREATE TRIGGER acct_log AFTER INSERT OR UPDATE OR DELETE ON acct FOR EACH ROW EXECUTE FUNCTION acct_log();
  -- forty random changes a call
  CREATE FUNCTION work() RETURNS void LANGUAGE plpgsql AS \$\$
  DECLARE r float; k int;
  BEGIN
    FOR i IN 1..40 LOOP
      r := random();
      k := 1 + floor(random() * (SELECT last_value FROM acct_ids));
      IF r < 0.25 THEN
        INSERT INTO acct (id, region, v, note) VALUES (nextval('acct_ids'),
          CASE WHEN random() < 0.6 THEN 'EU' ELSE 'US' END,
          CASE WHEN random() < 0.1 THEN 'NaN' ELSE round((random() * 1000)::numeric, 2) END, 'n');
      ELSIF r < 0.5 THEN
        UPDATE acct SET region = CASE region WHEN 'EU' THEN 'US' ELSE 'EU' END WHERE id = k;
      ELSIF r < 0.75 THEN
        UPDATE acct SET v = CASE WHEN random() < 0.2 THEN 'NaN' ELSE round((random() * 1000)::numeric, 2) END
          WHERE id = k;
      ELSIF r < 0.88 THEN
        UPDATE acct SET note = note || 'x' WHERE id = k;
      ELSE
        DELETE FROM acct WHERE id = k;
      END IF;
    END LOOP;
  END \$\$;"
ENTRY='[{"name": "acct", "where": "region = '"'EU'"'", "exclude": ["note"], "rename": {"v": "amount"}}]'
write_cdc_spec "$TMPD/pg2my.json" "$NAME" "$(pg_url "$SRC")" "$(my_url "$TGT")" \
  '{"on_error": "reject", "batch_rows": 200}' "$ENTRY"
cdc_track "$TMPD/pg2my.json" "$SRC"

# The workload: calls of work() until the stop file appears.
work_loop() {
  while [ ! -f "$TMPD/stop.work" ] && [ ! -f "$TMPD/stop.all" ]; do
    pg_sql "$SRC" "SELECT work()" >/dev/null 2>>"$TMPD/work.err" || true
  done
}

cdc_start run "$TMPD/pg2my.json" "$TMPD/data"
pid=$CDC_PID
wait_for "cdc_has_ckpt my $TGT $NAME || ! kill -0 $pid" 90 || cdc_die "no hand-over to streaming in 90 s"
cdc_alive "$pid" || cdc_die "sluice exited during the initial load"
assert_eq 1000 "$(my_sql "$TGT" 'SELECT COUNT(*) FROM acct')" "the initial load copied the filter's rows"
work_loop &
CDC_BG_PIDS+=($!)
for i in 1 2 3; do
  rand_ms 500 4000
  msleep "$RAND_MS"
  cdc_alive "$pid" || cdc_die "sluice run $i exited by itself"
  cdc_kill_tree "$pid"
  wait "$pid" 2>/dev/null || true
  note "kill $i, $RAND_MS ms into the run: $(my_sql "$TGT" 'SELECT COUNT(*) FROM _sluice_rejects') rejects so far"
  cdc_start run "$TMPD/pg2my.json" "$TMPD/data"
  pid=$CDC_PID
done
# The workload runs on until it has made enough of each kind of change (a slow machine
# makes fewer in the same time), 180 s at most.
enough() {
  [ "$(pg_sql "$SRC" "SELECT count(*) FILTER (WHERE op = 'UPDATE' AND NOT was_in AND is_in) >= 50
    AND count(*) FILTER (WHERE op = 'UPDATE' AND was_in AND NOT is_in) >= 50
    AND count(*) FILTER (WHERE op IN ('INSERT', 'UPDATE') AND is_in AND nan) >= 20 FROM acct_log")" = t ]
}
sleep 3
wait_for enough 180 || note "the workload made fewer changes than wanted in 180 s"
touch "$TMPD/stop.work"
sleep 1
cdc_catch_up "$SLOT" "$pid" 120
cdc_stop "$pid"
[ ! -s "$TMPD/work.err" ] || { cat "$TMPD/work.err" >&2; die "the workload failed"; }

IFS='|' read -r changes into outof expected < <(pg_sql "$SRC" "SELECT count(*),
  count(*) FILTER (WHERE op = 'UPDATE' AND NOT was_in AND is_in),
  count(*) FILTER (WHERE op = 'UPDATE' AND was_in AND NOT is_in),
  count(*) FILTER (WHERE op IN ('INSERT', 'UPDATE') AND is_in AND nan) FROM acct_log")
note "workload: $changes changes, $into moved into the filter, $outof out of it, $expected wrote a NaN inside it"
[ "$into" -ge 50 ] && [ "$outof" -ge 50 ] || die "too few boundary crossings ($into in, $outof out)"
[ "$expected" -ge 20 ] || die "too few NaN changes inside the filter ($expected)"
assert_eq "$expected" "$(my_sql "$TGT" "SELECT COUNT(*) FROM _sluice_rejects WHERE stream = '$NAME'")" \
  "each change that wrote a NaN inside the filter rejected, once"
assert_eq "" "$(my_sql "$TGT" "SELECT IFNULL(GROUP_CONCAT(CONCAT(row_key, ' ', position)), '') FROM (SELECT row_key, position
  FROM _sluice_rejects GROUP BY row_key, position HAVING COUNT(*) > 1) d")" "no reject recorded twice"
assert_eq "0" "$(my_sql "$TGT" "SELECT COUNT(*) FROM _sluice_rejects WHERE JSON_UNQUOTE(JSON_EXTRACT(row_data, '\$.v')) <> 'NaN'
  OR reason <> 'MySQL decimals have no NaN' OR column_name <> 'v' OR table_name <> 'public.acct'")" \
  "every reject is a NaN amount, with its reason and source names"
assert_eq 0 "$(my_sql "$TGT" "SELECT COUNT(*) FROM acct WHERE region <> 'EU' OR twice <> id * 2")" \
  "the target holds only rows inside the filter, twice computed"
# rows whose source row is inside the filter and never got a NaN are on the target as they are
pg_sql "$SRC" "SELECT id, v FROM acct WHERE region = 'EU' AND id NOT IN
  (SELECT id FROM acct_log WHERE nan AND is_in) ORDER BY id" | tr '|' '\t' >"$TMPD/src.rows"
my_sql "$TGT" "SELECT id, amount FROM acct WHERE id NOT IN (SELECT JSON_UNQUOTE(JSON_EXTRACT(row_key, '\$[0]')) + 0
  FROM _sluice_rejects) ORDER BY id" | sed 's/\.\([0-9]*[1-9]\)0*$/.\1/; s/\.0*$//' >"$TMPD/tgt.rows"
sed -i 's/\.\([0-9]*[1-9]\)0*$/.\1/; s/\.0*$//' "$TMPD/src.rows"
diff -u "$TMPD/src.rows" "$TMPD/tgt.rows" >"$TMPD/rows.diff" || { head -n 30 "$TMPD/rows.diff" >&2
  die "rows never rejected differ between the filtered source and the target"; }
note "$(wc -l <"$TMPD/src.rows") rows never rejected are equal"
cdc_verify "$TMPD/pg2my.json"

# --- 2. MariaDB -> PostgreSQL: rejects under a stream that goes on ---------------------------
MSRC=sl_mapc_msrc PTGT=sl_mapc_ptgt MNAME=mapc-my2pg
cdc_my_db "$MSRC"
cdc_pg_db "$PTGT"
my_sql "$MSRC" "CREATE TABLE ev (id int PRIMARY KEY, region varchar(4) NOT NULL, t time(2), note text);
  INSERT INTO ev SELECT seq, IF(seq % 2 = 0, 'EU', 'US'), '10:00:00', 'x' FROM seq_1_to_20"
write_cdc_spec "$TMPD/my2pg.json" "$MNAME" "$(my_url "$MSRC")" "$(pg_url "$PTGT")" '{"on_error": "reject"}' \
  '[{"name": "ev", "where": "region = '"'EU'"'", "columns": ["id", "region", "t"]}]'
cdc_start my2pg "$TMPD/my2pg.json" "$TMPD/my2pg.data"
mpid=$CDC_PID
handed_over() { [ "$(pg_sql "$PTGT" "SELECT count(*) FROM _sluice_checkpoint WHERE stream = '$MNAME'
  AND key = 'cdc_tables'" 2>/dev/null)" = 1 ]; }
# (the table is copied beside the stream: the changes below come after its copy, as the
# expected rows say; a change during the copy is judged against the copy's snapshot)
wait_for "(handed_over && cdc_copied pg $PTGT $MNAME) || ! kill -0 $mpid" 90 || cdc_die "my2pg: no hand-over in 90 s"
my_sql "$MSRC" "
  INSERT INTO ev VALUES (100, 'EU', '-12:00:00.25', 'a');   -- rejected
  INSERT INTO ev VALUES (101, 'EU', '11:00:00', 'b');       -- written
  UPDATE ev SET t = '30:00:00' WHERE id = 2;                -- rejected: 2 keeps 10:00
  UPDATE ev SET t = '09:30:00' WHERE id = 100;              -- rejected before, whole row: inserted
  INSERT INTO ev VALUES (102, 'EU', '838:59:59', 'c');      -- rejected
  DELETE FROM ev WHERE id = 102;                            -- of a rejected row: nothing
  INSERT INTO ev VALUES (103, 'EU', '-01:00:00', 'd');      -- rejected
  UPDATE ev SET note = 'e' WHERE id = 103;                  -- rejected again (still -01:00)
  UPDATE ev SET region = 'EU' WHERE id = 3;                 -- moves in: inserted
  UPDATE ev SET region = 'US' WHERE id = 4;                 -- moves out: deleted
  BEGIN; INSERT INTO ev VALUES (104, 'US', '-05:00:00', 'f'); UPDATE ev SET t = '12:00:00' WHERE id = 6; COMMIT;"
wait_for "[ \"\$(pg_sql $PTGT 'SELECT t FROM ev WHERE id = 6')\" = '12:00:00' ] || ! kill -0 $mpid" 60 ||
  cdc_die "my2pg: the last change did not arrive" "$TMPD/my2pg.err"
cdc_stop "$mpid"
assert_eq "2 10:00:00|3 10:00:00|6 12:00:00|100 09:30:00|101 11:00:00" \
  "$(pg_sql "$PTGT" "SELECT string_agg(id || ' ' || t, '|' ORDER BY id) FROM ev WHERE id IN (2, 3, 4, 6, 100, 101, 102, 103, 104)")" \
  "the rows after the rejects, the later changes and the moves"
assert_eq "$(my_sql "$MSRC" "SELECT COUNT(*) FROM ev WHERE region = 'EU' AND t BETWEEN '00:00:00' AND '24:00:00'")" \
  "$(pg_sql "$PTGT" "SELECT count(*) FROM ev WHERE id <> 2")" "every other row of the filter streamed"
assert_eq '["2"] t|["100"] t|["102"] t|["103"] t|["103"] t' \
  "$(pg_sql "$PTGT" "SELECT string_agg(row_key::text || ' ' || coalesce(column_name, ''), '|'
    ORDER BY (row_key->>0)::int) FROM _sluice_rejects WHERE stream = '$MNAME'")" "the rejected changes"
assert_eq "PostgreSQL's time holds 00:00:00 to 24:00:00, not -01:00:00|" \
  "$(pg_sql "$PTGT" "SELECT min(reason), max(row_data->>'note') FROM _sluice_rejects WHERE row_key::text = '[\"103\"]'")" \
  "103's later change is rejected again for its time (its note is not in the stream)"
cdc_verify "$TMPD/my2pg.json" my2pg_verify

# --- 3. refused before anything is created ---------------------------------------------------
RSRC=sl_mapc_rsrc RTGT=sl_mapc_rtgt
cdc_pg_db "$RSRC"
cdc_pg_db "$RTGT"
pg_sql "$RSRC" "CREATE TABLE t (id int PRIMARY KEY, region text, up text GENERATED ALWAYS AS (upper(region)) STORED);
  INSERT INTO t VALUES (1, 'EU'), (2, 'US'); CREATE VIEW v AS SELECT id FROM t"
refused() {
  local label=$1 re=$2
  sl_run "$TMPD/$label" run "$TMPD/$label.json" --data-dir "$TMPD/$label.data" --no-progress
  [ "$SL_RC" = 1 ] || { cat "$TMPD/$label.err" >&2; die "$label: expected exit 1, got $SL_RC"; }
  assert_grep "$re" "$TMPD/$label.err" "$label: the reason"
  assert_eq 0 "$(pg_sql postgres "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$(cdc_slot_name "$label")'")" \
    "$label: no slot created"
}
write_cdc_spec "$TMPD/ri.json" ri "$(pg_url "$RSRC")" "$(my_url "$TGT")" '{}' '[{"name": "t", "where": "region = '"'EU'"'"}]'
refused ri 'hint: Run ALTER TABLE "public"."t" REPLICA IDENTITY FULL on the source'
write_cdc_spec "$TMPD/view.json" view "$(pg_url "$RSRC")" "$(pg_url "$RTGT")" '{}' '["v"]'
refused view 'error: table "public.v" is a view'
# a filter on the key alone needs no whole old rows; the generated column into MariaDB does
# not translate (upper()): left out, with a warning, and the stream runs
write_cdc_spec "$TMPD/gen.json" mapc-gen "$(pg_url "$RSRC")" "$(my_url "$TGT")" '{}' '[{"name": "t", "where": "id >= 1"}]'
cdc_track "$TMPD/gen.json" "$RSRC"
cdc_start gen "$TMPD/gen.json" "$TMPD/gen.data"
gpid=$CDC_PID
wait_for "cdc_has_ckpt my $TGT mapc-gen || ! kill -0 $gpid" 90 || cdc_die "gen: no hand-over" "$TMPD/gen.err"
pg_sql "$RSRC" "INSERT INTO t VALUES (3, 'eu')"
wait_for "[ \"\$(my_sql $TGT 'SELECT COUNT(*) FROM t')\" = 3 ] || ! kill -0 $gpid" 60 || cdc_die "gen: the insert did not arrive"
cdc_stop "$gpid"
assert_grep 'column "up": generated column left out' "$TMPD/gen.err" "the warning names the column"
assert_eq "id region" "$(my_sql "$TGT" "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION SEPARATOR ' ')
  FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '$TGT' AND TABLE_NAME = 't'")" "t without the generated column"
# the same stream with another filter is refused, naming the table
write_cdc_spec "$TMPD/gen2.json" mapc-gen "$(pg_url "$RSRC")" "$(my_url "$TGT")" '{}' '[{"name": "t", "where": "id >= 2"}]'
sl_run "$TMPD/gen2" run "$TMPD/gen2.json" --data-dir "$TMPD/gen.data" --no-progress
[ "$SL_RC" = 1 ] || die "a changed mapping: expected exit 1, got $SL_RC"
assert_grep 'the mapping of table "public.t" changed since the change stream started' "$TMPD/gen2.err" \
  "a mapping changed between runs is refused"
note "ok"
