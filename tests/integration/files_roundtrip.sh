#!/usr/bin/env bash
# files_roundtrip.sh: Chinook and the type-matrix table (tests/sql/types_*.sql), from
# PostgreSQL and from MariaDB, loaded into every format (CSV gzip, JSONL zstd, Parquet zstd
# or snappy, spread over the engines) and read back by independent readers (tests/files/read.mjs: DuckDB for all
# formats, hyparquet as a second Parquet reader), compared value by value with the source:
#   - types_all cell by cell with the source's dump (tests/lib/dump.sh), the source's text
#     brought to sluice's canonical form first (tests/lib/files_compare.mjs says how);
#   - the Chinook tables row by row, every value as text (sorted rows, equal sets), all
#     tables of a load in one DuckDB query (one node process per load: the machine is slow).
# Also: the data objects are exactly those of the manifest (tests/lib/files.sh), the Parquet
# column chunks use the codec asked for, and the manifest's row counts are the source's.
#
# The target is parametrised: FILES_TARGET_BASE (default file://$TMPD/out) is the URL each
# load writes under, as <base>/<engine>_<format>_<codec> (its query string, e.g. an S3
# endpoint, is kept); fetch_dir makes a local copy of such a target to read: the directory
# itself for file://, a download for s3:// (through SLUICE_TEST_S3_DIRECT, the s3rver behind
# the test proxy). For S3: FILES_TARGET_BASE="${SLUICE_TEST_S3_URL/\?//roundtrip?}".
# FILES_LOADS picks the loads as engine:format:codec (default: every format from each
# engine, the codecs spread over the engines); the S3 half runs three of them, every format
# and both engines once, as the store is the same whatever the format and source.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/dump.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/files.sh"
tmpdir
SQLDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../sql" && pwd)
LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../lib" && pwd)
BASE=${FILES_TARGET_BASE:-file://$TMPD/out}
PGDB=sl_fr_pg MYDB=sl_fr_my
LOADS=${FILES_LOADS:-pg:csv:gzip pg:jsonl:zstd pg:parquet:zstd my:csv:zstd my:jsonl:gzip my:parquet:snappy}
with_my() { [[ " $LOADS" == *" my:"* ]]; }

# target_url LABEL PARAMS: <base>/LABEL with PARAMS added to the base's query string.
target_url() {
  case "$BASE" in
  *\?*) echo "${BASE%%\?*}/$1?${BASE#*\?}&$2" ;;
  *) echo "$BASE/$1?$2" ;;
  esac
}

# fetch_dir URL: prints a local directory holding the target's objects.
fetch_dir() {
  local u=${1%%\?*} ldir bucket prefix key
  case "$u" in
  file://*) echo "${u#file://}" ;;
  s3://*)
    u=${u#s3://}
    u=${u#*@}
    bucket=${u%%/*} prefix=${u#*/}
    ldir=$TMPD/s3copy/$prefix
    rm -rf "$ldir"
    mkdir -p "$ldir"
    for key in $(curl -sf "$SLUICE_TEST_S3_DIRECT/$bucket?list-type=2&max-keys=1000&prefix=$prefix/" |
      grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g'); do
      mkdir -p "$(dirname "$ldir/${key#"$prefix"/}")"
      curl -sf -o "$ldir/${key#"$prefix"/}" "$SLUICE_TEST_S3_DIRECT/$bucket/$key" || die "fetch_dir: could not get $key"
    done
    echo "$ldir" ;;
  *) die "fetch_dir: no reader for $1" ;;
  esac
}

if [ "${SLUICE_TEST_KEEP:-0}" != 1 ]; then
  on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $PGDB WITH (FORCE)'"
  on_exit "my_sql '' 'DROP DATABASE IF EXISTS $MYDB'"
fi
chinook_pg "$PGDB"
pg_sql "$PGDB" <"$SQLDIR/types_pg.sql" >/dev/null
PG_TABLES=$(pg_sql "$PGDB" "SELECT json_agg(tablename ORDER BY tablename) FROM pg_tables
  WHERE schemaname = 'public' AND tablename NOT LIKE 'bad\_%'")
if with_my; then
  chinook_mysql "$MYDB"
  my_sql "$MYDB" <"$SQLDIR/types_mysql.sql" >/dev/null
  # MariaDB geometry compares as WKB (the canonical form): a view over types_all
  my_sql "$MYDB" "$(my_sql "$MYDB" "SELECT CONCAT('CREATE VIEW types_all_wkb AS SELECT ',
    GROUP_CONCAT(IF(DATA_TYPE IN ('geometry','point','linestring','polygon','multipoint','multilinestring',
      'multipolygon','geometrycollection'), CONCAT('ST_AsWKB(\`', COLUMN_NAME, '\`) AS \`', COLUMN_NAME, '\`'),
      CONCAT('\`', COLUMN_NAME, '\`')) ORDER BY ORDINAL_POSITION SEPARATOR ', '), ' FROM types_all')
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'types_all'")"
  MY_TABLES=$(my_sql "$MYDB" "SELECT JSON_ARRAYAGG(TABLE_NAME) FROM information_schema.TABLES
    WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME NOT LIKE 'bad\\_%'")
fi

# Source rows of Chinook table T as JSON arrays of text, sorted.
src_rows() {
  local eng=$1 t=$2 cols
  if [ "$eng" = pg ]; then
    cols=$(pg_sql "$PGDB" "SELECT string_agg(format('%I::text', attname), ', ' ORDER BY attnum) FROM pg_attribute
      WHERE attrelid = 'public.$t'::regclass AND attnum > 0 AND NOT attisdropped")
    pg_sql "$PGDB" "SELECT json_build_array($cols) FROM $t"
  else
    cols=$(my_sql "$MYDB" "SELECT GROUP_CONCAT(CONCAT('CAST(\`', COLUMN_NAME, '\` AS CHAR)') ORDER BY ORDINAL_POSITION)
      FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '$t'")
    my_raw "$MYDB" "SELECT JSON_ARRAY($cols) FROM \`$t\`"
  fi | jq -c . | LC_ALL=C sort
}

# read_table DIR STREAM TABLE [READER]: every file of TABLE (from the manifest) through
# read.mjs, rows in file order. Call with stdout on a file: read.mjs loses output past a
# pipe's buffer when it exits.
read_table() {
  local dir=$1 stream=$2 t=$3 reader=${4:-duckdb} m types f
  m=$dir/_sluice/$stream/manifest.json
  types=$(jq -r --arg t "$t" '[.tables[$t].columns[] | .[1]] | join(",")' "$m")
  for f in $(jq -r --arg t "$t" '.tables[$t].files[].key' "$m"); do
    node "$FILES_DIR/read.mjs" "$dir/$f" --reader "$reader" --types "$types" ||
      die "read.mjs ($reader) could not read $dir/$f"
  done
}

# csv_rows DIR STREAM TABLE: the rows of TABLE's CSV files as JSON arrays of text, read as
# read.mjs reads CSV (its cells are canonical text already) with a 64 MB line limit.
csv_rows() {
  local dir=$1 stream=$2 t=$3 m f cols names
  m=$dir/_sluice/$stream/manifest.json
  cols=$(jq -r --arg t "$t" '[.tables[$t].columns[] | "'"'"'\(.[0])'"'"': '"'"'VARCHAR'"'"'"] | join(", ")' "$m")
  names=$(jq -r --arg t "$t" '[.tables[$t].columns[] | "\"\(.[0])\""] | join(", ")' "$m")
  for f in $(jq -r --arg t "$t" '.tables[$t].files[].key' "$m"); do
    duck "SELECT to_json(list_value($names))::VARCHAR FROM read_csv('$dir/$f', all_varchar = true, header = true,
      delim = ',', quote = '\"', escape = '\"', nullstr = '', allow_quoted_nulls = false, auto_detect = false,
      columns = {$cols}, strict_mode = true, max_line_size = 67108864)"
  done
}

# duck_tables DIR STREAM FORMAT TABLE...: one DuckDB query over every file of the tables,
# printing "TABLE<TAB>[values as text]" per row (timestamps as "YYYY-MM-DD HH:MM:SS").
duck_tables() {
  local dir=$1 stream=$2 fmt=$3 m sql="" t files cols src
  shift 3
  m=$dir/_sluice/$stream/manifest.json
  for t in "$@"; do
    files=$(jq -r --arg t "$t" --arg d "$dir" '[.tables[$t].files[].key | "'"'"'\($d)/\(.)'"'"'"] | join(", ")' "$m")
    cols=$(jq -r --arg t "$t" '[.tables[$t].columns[] | if .[1] == "timestamp" then
        "strftime(CAST(\"\(.[0])\" AS TIMESTAMP), '"'"'%Y-%m-%d %H:%M:%S'"'"')" else "CAST(\"\(.[0])\" AS VARCHAR)" end]
      | join(", ")' "$m")
    case $fmt in
    parquet) src="read_parquet([$files])" ;;
    csv) src="read_csv([$files], all_varchar = true, header = true, nullstr = '')" ;;
    jsonl) src="read_json([$files], format = 'newline_delimited', columns = {$(jq -r --arg t "$t" \
      '[.tables[$t].columns[] | "\"\(.[0])\": '"'"'VARCHAR'"'"'"] | join(", ")' "$m")})" ;;
    esac
    sql+="${sql:+ UNION ALL }SELECT '$t' AS t, to_json(list_value($cols))::VARCHAR FROM $src"
  done
  duck "$sql"
}

check_load() {
  local eng=$1 fmt=$2 codec=$3 label=${1}_$2_$3 tables url dir m t n cols src reader
  [ "$eng" = pg ] && tables=$PG_TABLES || tables=$MY_TABLES
  [ "$eng" = pg ] && src=$(pg_url "$PGDB") || src=$(my_url "$MYDB")
  url=$(target_url "$label" "format=$fmt&compression=$codec")
  write_spec "$TMPD/$label.json" "$label" "$src" "$url" '{"writers": 2}' "$tables"
  sl_run "$TMPD/$label" run "$TMPD/$label.json" --data-dir "$TMPD/$label.data" --no-progress
  [ "$SL_RC" = 0 ] || { sed 's/^/  | /' "$TMPD/$label.err" >&2; die "$label: sluice run exited $SL_RC"; }
  dir=$(fetch_dir "$url")
  m=$dir/_sluice/$label/manifest.json
  assert_consistent "$dir" "$label"
  local chinook=()
  for t in $(jq -r '.[]' <<<"$tables"); do
    if [ "$eng" = pg ]; then n=$(pg_sql "$PGDB" "SELECT count(*) FROM \"$t\""); else n=$(my_sql "$MYDB" "SELECT COUNT(*) FROM \`$t\`"); fi
    assert_eq "$n" "$(jq -r --arg t "$t" '.tables[$t].rows // 0' "$m")" "$label: rows of $t in the manifest"
    [ "$t" = types_all ] || chinook+=("$t")
  done
  # types_all: read.mjs (DuckDB, and hyparquet for Parquet), cell by cell with the source
  cols=$(jq -r '[.tables.types_all.columns[] | "\(.[0]):\(.[1])"] | join(",")' "$m")
  for reader in duckdb $([ "$fmt" = parquet ] && echo hyparquet); do
    if [ "$fmt" = csv ]; then
      # read.mjs's read_csv keeps DuckDB's 2 MB max_line_size, and types_all has a 1 MB
      # blob (2 MB as hex): read it with read.mjs's options plus a larger line limit
      csv_rows "$dir" "$label" types_all >"$TMPD/$label.$reader.rows"
    else
      read_table "$dir" "$label" types_all "$reader" >"$TMPD/$label.$reader.rows"
    fi
    node "$LIBDIR/files_cells.mjs" "$cols" <"$TMPD/$label.$reader.rows" >"$TMPD/$label.$reader.cells"
    sort -t$'\t' -k1,1n -k2,2n "$TMPD/$label.$reader.cells" | cut -f3- >"$TMPD/$label.$reader.got"
    node "$LIBDIR/files_compare.mjs" "$TMPD/$eng.types.want" "$TMPD/$label.$reader.got" "$cols" \
      >"$TMPD/$label.$reader.cmp" || die "$label: types_all read by $reader differs from the source"
    note "$label: types_all read by $reader: $(cat "$TMPD/$label.$reader.cmp")"
  done
  # Chinook: every table in one DuckDB query, row sets equal to the source's
  duck_tables "$dir" "$label" "$fmt" "${chinook[@]}" >"$TMPD/$label.chinook.rows"
  for t in "${chinook[@]}"; do
    [ -f "$TMPD/$eng.$t.want" ] || src_rows "$eng" "$t" >"$TMPD/$eng.$t.want"
    awk -F'\t' -v t="$t" '$1 == t { print $2 }' "$TMPD/$label.chinook.rows" | jq -c . | LC_ALL=C sort >"$TMPD/$label.$t.got"
    diff "$TMPD/$eng.$t.want" "$TMPD/$label.$t.got" >"$TMPD/$label.$t.diff" ||
      { head -n 10 "$TMPD/$label.$t.diff" >&2; die "$label: rows of $t differ (< source, > files)"; }
  done
  if [ "$fmt" = parquet ]; then
    local files
    files=$(jq -r --arg d "$dir" '[.tables[].files[].key | "'"'"'\($d)/\(.)'"'"'"] | join(", ")' "$m")
    assert_eq "${codec^^}" "$(duck "SELECT string_agg(DISTINCT compression, ',') FROM parquet_metadata([$files])")" \
      "$label: the codec of every Parquet column chunk"
  fi
  note "$label: $(jq -r '.rows' "$m") rows in $(jq '[.tables[].files[]] | length' "$m") files equal to the source"
}

dump_pg "$PGDB" types_all >"$TMPD/pg.types.want"
with_my && dump_my "$MYDB" types_all_wkb >"$TMPD/my.types.want"
for load in $LOADS; do
  IFS=: read -r eng fmt codec <<<"$load"
  check_load "$eng" "$fmt" "$codec"
done

# partition_by: one directory per date of invoice_date, every row in its own date's file
url=$(target_url pg_part "format=csv&partition_by=invoice_date&rotate_rows=1000")
write_spec "$TMPD/part.json" pg_part "$(pg_url "$PGDB")" "$url" '{"batch_rows": 100}' '["invoice", "artist"]'
sl_run "$TMPD/part" run "$TMPD/part.json" --data-dir "$TMPD/part.data" --no-progress
[ "$SL_RC" = 0 ] || { sed 's/^/  | /' "$TMPD/part.err" >&2; die "pg_part: sluice run exited $SL_RC"; }
dir=$(fetch_dir "$url")
assert_consistent "$dir" pg_part
ndays=$(pg_sql "$PGDB" "SELECT count(DISTINCT invoice_date::date) FROM invoice")
assert_eq "$ndays" "$(find "$dir/invoice" -mindepth 1 -maxdepth 1 -type d -name 'dt=*' | wc -l)" "pg_part: one directory per day"
assert_eq "$(pg_sql "$PGDB" "SELECT count(*) FROM invoice") 0" \
  "$(duck "SELECT count(*), count(*) FILTER (WHERE regexp_extract(filename, 'dt=([0-9-]+)/', 1) <> left(invoice_date, 10))
    FROM read_csv('$dir/invoice/*/*.csv', all_varchar = true, filename = true)" | tr '\t' ' ')" \
  "pg_part: rows, and rows whose dt= directory is not their invoice_date"
[ -z "$(find "$dir/artist" -name 'dt=*' -print -quit)" ] || die "pg_part: artist (no such column) was partitioned"
note "pg_part: invoice in $ndays date directories"
