#!/usr/bin/env bash
# files_source.sh: files and S3 objects as a source (file:///dir, s3://bucket/prefix).
# The source files are written by an independent writer, DuckDB (tests/files/src_make.mjs):
# a Parquet table of every type in two files that differ (pages v1/v2, SNAPPY/ZSTD, an
# INTEGER and a DECIMAL that widen), a gzipped CSV with quotes, line breaks, a BOM and \N,
# JSONL (one file zstd) with nested values.
#   1. into PostgreSQL: every value equals DuckDB's own reading of the files
#      (tests/files/src_compare.mjs), and `sluice verify` of the file source says equal;
#   2. into MariaDB: `sluice verify` equal (the CSV and JSONL tables: the Parquet one holds
#      NaN, which MariaDB refuses, with a clear error that is checked too);
#   3. the same files from S3 (s3rver behind the SigV4-checking proxy; ranged GETs) into
#      PostgreSQL: the same values;
#   4. format conversion through the pipeline: files -> Parquet (zstd) -> JSONL, each
#      target checked by `sluice verify` (which reads the written files back) and by DuckDB;
#   5. exactly once: a 300,000-row Parquet file in row-group units, SIGKILLed twice while
#      loading and resumed, ends with each row once;
#   6. a file that changes under an unfinished load fails the rerun naming the file;
#      --restart then loads it as it is.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/files.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/s3.sh"
tmpdir
SRC=$TMPD/src
DB=sl_fsrc
DB2=sl_fsrc_s3
MY=sl_fsrc

STARTED=()
kill_started() {
  local p
  for p in "${STARTED[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
on_exit kill_started
if [ "${SLUICE_TEST_KEEP:-0}" != 1 ]; then
  on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $DB WITH (FORCE)'"
  on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $DB2 WITH (FORCE)'"
  on_exit "my_sql '' 'DROP DATABASE IF EXISTS $MY'"
fi

(cd "$FILES_DIR" && node src_make.mjs "$SRC") || die "src_make.mjs could not write the source files"
SRC_URL="file://$SRC?null=%5CN"
TABLES='["typed", "people", "events"]'

# pg_rows DB TABLE FILE: the table's rows ordered by id, one JSON array of texts per line.
pg_rows() {
  local cols
  cols=$(pg_sql "$1" "SELECT string_agg(format('%I::text', attname), ', ' ORDER BY attnum)
    FROM pg_attribute WHERE attrelid = 'public.$2'::regclass AND attnum > 0 AND NOT attisdropped")
  PGOPTIONS="-c TimeZone=UTC -c IntervalStyle=iso_8601" pg_sql "$1" \
    "SELECT json_build_array($cols) FROM \"$2\" ORDER BY id" >"$3"
}

# compare_pg DB: the three tables of DB equal DuckDB's reading of the source files.
compare_pg() {
  local db=$1
  pg_rows "$db" typed "$TMPD/$db.typed"
  pg_rows "$db" people "$TMPD/$db.people"
  pg_rows "$db" events "$TMPD/$db.events"
  (cd "$FILES_DIR" &&
    node src_compare.mjs --rows "$TMPD/$db.typed" \
      --duck "SELECT * FROM read_parquet('$SRC/typed/*.parquet', union_by_name = true) ORDER BY id" &&
    node src_compare.mjs --rows "$TMPD/$db.people" \
      --duck "SELECT * FROM read_csv('$SRC/people.csv.gz', nullstr = '\\N') ORDER BY id" &&
    node src_compare.mjs --rows "$TMPD/$db.events" \
      --duck "SELECT id, obj, to_json(tags) AS tags, amount, opt FROM read_json('$SRC/events/*',
              format = 'newline_delimited', union_by_name = true) ORDER BY id") ||
    die "$db: the loaded rows differ from DuckDB's reading of the files"
}

# run_ok LABEL SPEC: a load that must complete, then `sluice verify` must say equal.
run_ok() {
  local label=$1 spec=$2 n
  sl_run "$TMPD/$label" run "$spec" --data-dir "$TMPD/$label.data" --no-progress
  [ "$SL_RC" = 0 ] || { tail -n 30 "$TMPD/$label.err" >&2; die "$label: load exited $SL_RC"; }
  sl_run "$TMPD/$label.verify" verify "$spec"
  n=$(jq '.source.tables | length' "$spec")
  [ "$SL_RC" = 0 ] || { cat "$TMPD/$label.verify".{out,err} >&2; die "$label: verify exited $SL_RC"; }
  assert_grep "^all $n tables equal$" "$TMPD/$label.verify.out" "$label: verify"
}

# --- 1. PostgreSQL ----------------------------------------------------------------------
pg_newdb "$DB"
write_spec "$TMPD/pg.json" fsrc_pg "$SRC_URL" "$(pg_url "$DB")" '{"chunk_rows": 1000, "writers": 2}' "$TABLES"
run_ok pg "$TMPD/pg.json"
assert_eq "$(pg_sql "$DB" "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
  WHERE attrelid = 'typed'::regclass AND attname IN ('id', 'amount', 'li', 'st') ORDER BY attnum" | tr '\n' ' ')" \
  "bigint numeric(12,4) integer[] json " "merged and mapped column types"
compare_pg "$DB"
note "PostgreSQL: every value equals DuckDB's reading"

# --- 2. MariaDB ----------------------------------------------------------------------------
my_newdb "$MY"
write_spec "$TMPD/my.json" fsrc_my "$SRC_URL" "$(my_url "$MY")" '{"chunk_rows": 1000}' '["people", "events"]'
run_ok my "$TMPD/my.json"
assert_eq "$(my_sql "$MY" 'SELECT COUNT(*) FROM people')" 1500 "MariaDB people rows"
write_spec "$TMPD/my2.json" fsrc_my2 "$SRC_URL" "$(my_url "$MY")" '{}' '["typed"]'
sl_run "$TMPD/my2" run "$TMPD/my2.json" --data-dir "$TMPD/my2.data" --no-progress
[ "$SL_RC" != 0 ] || die "MariaDB took a NaN"
assert_grep 'cannot store a value in column "f64" of table "typed"' "$TMPD/my2.err" "MariaDB: NaN refused clearly"
note "MariaDB: verify equal"

# --- 3. S3 ------------------------------------------------------------------------------------
for f in typed/part-1.parquet typed/part-2.parquet people.csv.gz events/a.jsonl.zst events/b.jsonl; do
  curl -sf -X PUT --data-binary "@$SRC/$f" "$SLUICE_TEST_S3_DIRECT/$SLUICE_TEST_S3_BUCKET/$S3_RUN/src/$f" >/dev/null ||
    die "could not put $f into s3rver"
done
pg_newdb "$DB2"
s3_proxy_reset
write_spec "$TMPD/s3.json" fsrc_s3 "$(s3_url src "" "&null=%5CN")" "$(pg_url "$DB2")" '{"chunk_rows": 1000}' "$TABLES"
run_ok s3 "$TMPD/s3.json"
[ "$(s3_proxy_count GetObject)" -gt 5 ] || die "S3: the files were not read with (ranged) GETs through the proxy"
compare_pg "$DB2"
note "S3: every value equals DuckDB's reading ($(s3_proxy_count GetObject) GETs)"

# --- 4. conversion ------------------------------------------------------------------------------
write_spec "$TMPD/conv1.json" fsrc_conv1 "$SRC_URL" "file://$TMPD/pq?format=parquet&compression=zstd" '{}' "$TABLES"
run_ok conv1 "$TMPD/conv1.json"
write_spec "$TMPD/conv2.json" fsrc_conv2 "file://$TMPD/pq" "file://$TMPD/jl?format=jsonl" '{}' "$TABLES"
run_ok conv2 "$TMPD/conv2.json"
assert_eq "$(duck "SELECT count(*), sum(id) FROM read_parquet('$TMPD/pq/typed/*.parquet')")" "$(printf '3000\t4498500')" \
  "DuckDB reads the converted Parquet"
assert_eq "$(duck "SELECT count(*), sum(id) FROM read_json('$TMPD/jl/people/*.jsonl', format = 'newline_delimited')")" \
  "$(printf '1500\t1124250')" "DuckDB reads the converted JSONL"
note "conversion: CSV/JSONL/Parquet -> Parquet -> JSONL verified"

# --- 5. kill and resume -------------------------------------------------------------------------
# kill_when_loading SPEC DATA LABEL: starts a run and SIGKILLs it (with its broker) once some
# but not all of big's rows are in.
big_count() {
  if [ "$(pg_sql "$DB" "SELECT to_regclass('big') IS NOT NULL")" = t ]; then
    pg_sql "$DB" 'SELECT count(*) FROM big'
  else
    echo 0
  fi
}
kill_when_loading() {
  local spec=$1 data=$2 label=$3 pid kids= n deadline
  "$SLUICE_BIN" run "$spec" --data-dir "$data" --no-progress >>"$TMPD/$label.log" 2>&1 &
  pid=$!
  STARTED+=("$pid")
  deadline=$(($(date +%s) + 120))
  while kill -0 "$pid" 2>/dev/null; do
    kids="$kids $(cat /proc/"$pid"/task/*/children 2>/dev/null | tr '\n' ' ')"
    n=$(big_count)
    [ "$n" -gt 0 ] && break
    [ "$(date +%s)" -lt "$deadline" ] || die "$label: no row of big in 120 s"
    sleep 0.05
  done
  kids="$kids $(cat /proc/"$pid"/task/*/children 2>/dev/null | tr '\n' ' ')"
  for p in $kids; do STARTED+=("$p"); done
  kill -KILL "$pid" 2>/dev/null || true
  { wait "$pid"; } 2>/dev/null || true
  for p in $kids; do wait_for "! kill -0 $p" 15 || die "$label: broker $p outlived sluice"; done
  note "$label: killed with $(big_count) of 300000 rows of big loaded"
}
write_spec "$TMPD/big.json" fsrc_big "$SRC_URL" "$(pg_url "$DB")" \
  '{"chunk_rows": 60000, "batch_rows": 1000, "writers": 2}' '["big"]'
kill_when_loading "$TMPD/big.json" "$TMPD/big.data" big1
kill_when_loading "$TMPD/big.json" "$TMPD/big.data" big2
n=$(big_count)
[ "$n" -lt 300000 ] || note "big: the second run finished before its kill"
run_ok big "$TMPD/big.json"
assert_eq "$(pg_sql "$DB" 'SELECT count(*), count(DISTINCT id), sum(id), sum(grp) FROM big' | tr '|' ' ')" \
  "300000 300000 44999850000 $(duck "SELECT sum(grp) FROM read_parquet('$SRC/big/big.parquet')")" \
  "big: every row exactly once after two kills"

# --- 6. a file that changes under an unfinished load --------------------------------------------
pg_sql "$DB" 'DROP TABLE big'
write_spec "$TMPD/chg.json" fsrc_chg "$SRC_URL" "$(pg_url "$DB")" \
  '{"chunk_rows": 60000, "batch_rows": 1000, "write_mode": "truncate_insert"}' '["big"]'
kill_when_loading "$TMPD/chg.json" "$TMPD/chg.data" chg
[ "$(big_count)" -lt 300000 ] || die "chg: the load finished before it could be interrupted"
touch -d '2001-01-01' "$SRC/big/big.parquet"
sl_run "$TMPD/chg2" run "$TMPD/chg.json" --data-dir "$TMPD/chg.data" --no-progress
[ "$SL_RC" != 0 ] || die "chg: the rerun loaded a file that changed under it"
assert_grep 'source file "big/big.parquet" changed after the load planned it' "$TMPD/chg2.err" "chg: error names the file"
sl_run "$TMPD/chg3" run "$TMPD/chg.json" --data-dir "$TMPD/chg.data" --no-progress --restart
[ "$SL_RC" = 0 ] || { tail -n 20 "$TMPD/chg3.err" >&2; die "chg: --restart failed"; }
assert_eq "$(pg_sql "$DB" 'SELECT count(*), count(DISTINCT id) FROM big' | tr '|' ' ')" "300000 300000" \
  "chg: --restart loads the file as it is"
note "files_source: all checks passed"
