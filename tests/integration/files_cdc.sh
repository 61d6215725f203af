#!/usr/bin/env bash
# files_cdc.sh: CDC from PostgreSQL into JSONL files on S3 (s3rver behind the SigV4-checking
# proxy; the local store's code is the same file target) under a pgbench workload
# (tests/lib/cdc.sh: TPC-B-like, item upserts and bulk deletes/reinserts, a keyless table
# with REPLICA IDENTITY FULL). When the workload stops and the slot has confirmed the end
# of the WAL, sluice is stopped, and a fresh PostgreSQL database (same schema, no rows)
# replays the files without sluice: the initial load's files, then every change record in
# _pos order (docs/files.md "CDC records"), applied by a plpgsql loop that fails on any
# UPDATE or DELETE that does not hit exactly one row. The replica must equal the source,
# table by table (count and md5 of the rows in key order). The manifest must list exactly
# the objects in the bucket (fetched straight from s3rver, not through sluice).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/files.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/s3.sh"

SRC=sl_fc_src REP=sl_fc_rep NAME=files_cdc OUT=$TMPD/out
cdc_pg_db "$SRC"
cdc_pg_db "$REP"
cdc_workload_init "$SRC" 1
pg_dump -s -h "$PGHOST" -p "$PGPORT" -U "${PGUSER:-postgres}" "$SRC" | pg_sql "$REP" >/dev/null

write_cdc_spec "$TMPD/spec.json" "$NAME" "$(pg_url "$SRC")" "$(s3_url cdc "" "&format=jsonl&rotate_seconds=3")" \
  '{"batch_rows": 500}' "$CDC_WORKLOAD_TABLES"
cdc_track "$TMPD/spec.json" "$SRC"
SLOT=$(cdc_slot_name "$NAME")

cdc_start run "$TMPD/spec.json" "$TMPD/data"
wait_for "[ -n \"\$(cdc_slot_confirmed $SLOT)\" ]" 60 || cdc_die "the stream did not start in 60 s"
cdc_workload_start wl "$SRC" 150 2
sleep 8
cdc_workload_stop wl
cdc_catch_up "$SLOT" "$CDC_PID" 90
cdc_stop "$CDC_PID"

mkdir -p "$OUT"
s3_fetch cdc --dest "$OUT" >/dev/null || die "could not download the stream's objects from s3rver"
M=$OUT/_sluice/$NAME/manifest.json
assert_consistent "$OUT" "$NAME"
nload=$(jq '[.tables[].files[] | select(.checkpoint | startswith("s:"))] | length' "$M")
nchg=$(jq '[.tables[].files[] | select(.checkpoint | startswith("cdc:"))] | length' "$M")
[ "$nchg" -gt 0 ] || die "no change file was written"
# change files rotate by time (rotate_seconds=3), not per committed batch: over the ~10 s of
# changes each table gets a few files, not one per transaction group
ntab=$(jq '[.tables[] | select(any(.files[]; .checkpoint | startswith("cdc:")))] | length' "$M")
[ "$nchg" -le $((ntab * 6)) ] || die "$nchg change files for $ntab tables: files are not batched across commits"
# snapshot and change files of a table have the same columns (change_columns)
jq -e '[.tables[] | [.files[].columns[:5] | map(.[0])] | unique | length <= 1] | all' "$M" >/dev/null ||
  die "a table's initial-load and change files have different leading columns"
note "$nload initial-load files, $nchg change files, $(jq '[.tables[].files[] | select(.checkpoint | startswith("cdc:")) | .rows] | add' "$M") change records"

# --- replay into the empty replica -------------------------------------------------------------
{
  echo "CREATE TEMP TABLE load_rows (t text, j jsonb);"
  echo "CREATE TEMP TABLE changes (t text, j jsonb);"
  jq -r '.tables | to_entries[] | .key as $t | .value.files[] |
    "\(if (.checkpoint | startswith("s:")) then "load_rows" else "changes" end)\t\($t)\t\(.key)"' "$M" |
    while IFS=$'\t' read -r into t key; do
      # each line of the file is one JSON object; CSV with quote and delimiter that JSON
      # never holds reads it verbatim
      printf "\\\\copy %s (j) FROM '%s' WITH (FORMAT csv, QUOTE E'\\\\x01', DELIMITER E'\\\\x02')\n" "$into" "$OUT/$key"
      echo "UPDATE $into SET t = '$t' WHERE t IS NULL;"
    done
  cat <<'SQL'
DO $$
DECLARE
  r record; tab text; n bigint;
BEGIN
  FOR tab IN SELECT DISTINCT t FROM load_rows LOOP
    EXECUTE format('INSERT INTO %I SELECT p.* FROM load_rows l, jsonb_populate_record(NULL::%I, l.j) p
      WHERE l.t = %L', tab, tab, tab);
  END LOOP;
END $$;
CREATE FUNCTION pg_temp.cols(tab text, only_key boolean, skip jsonb) RETURNS text LANGUAGE sql AS $f$
  SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
    FROM pg_attribute a
   WHERE a.attrelid = tab::regclass AND a.attnum > 0 AND NOT a.attisdropped
     AND NOT (skip ? a.attname)
     AND (NOT only_key OR a.attnum = ANY ((SELECT i.indkey FROM pg_index i
                                   WHERE i.indrelid = tab::regclass AND i.indisprimary)::int2[]))
$f$;
DO $$
DECLARE
  r record; rowj jsonb; oldj jsonb; keyc text; setc text; allc text; n bigint; applied bigint := 0;
BEGIN
  FOR r IN SELECT t, j FROM changes ORDER BY j->>'_pos' LOOP
    rowj := r.j - '_op' - '_pos' - '_commit_ts' - '_unchanged' - '_old_key';
    allc := pg_temp.cols(r.t, false, '[]');
    keyc := coalesce(pg_temp.cols(r.t, true, '[]'), allc);
    CASE r.j->>'_op'
    WHEN 'insert', 'read' THEN -- read: a row the stream copied beside its changes
      EXECUTE format('INSERT INTO %I SELECT * FROM jsonb_populate_record(NULL::%I, $1)', r.t, r.t) USING rowj;
      n := 1;
    WHEN 'update' THEN
      oldj := coalesce(nullif(r.j->'_old_key', 'null'), rowj);
      setc := pg_temp.cols(r.t, false, coalesce(nullif(r.j->'_unchanged', 'null'), '[]'));
      EXECUTE format('UPDATE %I SET (%s) = (SELECT %s FROM jsonb_populate_record(NULL::%I, $1))
        WHERE ctid = (SELECT ctid FROM %I WHERE ROW(%s) IS NOT DISTINCT FROM
          (SELECT ROW(%s) FROM jsonb_populate_record(NULL::%I, $2)) LIMIT 1)',
        r.t, setc, setc, r.t, r.t, keyc, keyc, r.t) USING rowj, oldj;
      GET DIAGNOSTICS n = ROW_COUNT;
    WHEN 'delete' THEN
      EXECUTE format('DELETE FROM %I WHERE ctid = (SELECT ctid FROM %I WHERE ROW(%s) IS NOT DISTINCT FROM
          (SELECT ROW(%s) FROM jsonb_populate_record(NULL::%I, $1)) LIMIT 1)', r.t, r.t, keyc, keyc, r.t) USING rowj;
      GET DIAGNOSTICS n = ROW_COUNT;
    WHEN 'truncate' THEN
      EXECUTE format('TRUNCATE %I', r.t);
      n := 1;
    END CASE;
    IF n <> 1 THEN
      RAISE EXCEPTION 'change % (% on %) hit % rows', r.j->>'_pos', r.j->>'_op', r.t, n;
    END IF;
    applied := applied + 1;
  END LOOP;
  RAISE NOTICE 'replayed % changes', applied;
END $$;
SQL
} >"$TMPD/replay.sql"
pg_sql "$REP" <"$TMPD/replay.sql" >"$TMPD/replay.out" 2>&1 || { tail -n 20 "$TMPD/replay.out" >&2; die "the replay failed"; }

for t in pgbench_accounts:aid pgbench_branches:bid pgbench_tellers:tid cdc_items:region,item cdc_audit:id \
  pgbench_history:tid,bid,aid,delta,mtime; do
  cdc_pg_same "$SRC" "$REP" "${t%%:*}" "${t#*:}"
done
note "ok: the replica rebuilt from the files equals the source"
