#!/usr/bin/env bash
# files_s3_basic.sh: loads into s3:// through the test S3 server (s3rver behind
# tests/s3/proxy.js, which verifies every SigV4 signature and payload hash):
#   - Chinook from PostgreSQL into CSV (gzip) and Parquet (zstd): the objects are exactly
#     those of the manifest, and every table read back by an independent reader
#     (tests/files/read.mjs, DuckDB) from copies fetched straight from s3rver (not through
#     sluice) equals the source row for row;
#   - a table written as a multipart upload (part_size_mb=5, one ~14 MB CSV object): parts
#     went up through the proxy, the object is whole and its rows equal the source;
#   - a wrong secret: sluice fails with a clear error and hint that never shows the secret,
#     and no object is written.
# The >100 MB multipart upload is tested at store level (tests/live/test_s3_store.c).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/files.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/s3.sh"
tmpdir
DB=sl_s3_basic

[ "${SLUICE_TEST_KEEP:-0}" = 1 ] || on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $DB WITH (FORCE)'"
chinook_pg "$DB"
# ~14 MB of CSV in one chunk (below chunk_rows), so one object bigger than two 5 MiB parts.
pg_sql "$DB" "CREATE TABLE big (id int PRIMARY KEY, grp int NOT NULL, payload text);
  INSERT INTO big SELECT g, g % 97, repeat(md5(g::text), 3) FROM generate_series(1, 120000) g;"
CHINOOK=$(pg_sql "$DB" "SELECT json_agg(tablename ORDER BY tablename) FROM pg_tables
  WHERE schemaname = 'public' AND tablename <> 'big'")

# Source rows of tables TABLES_JSON as sorted ["table", [values as text]] lines.
src_rows() {
  local t cols
  for t in $(jq -r '.[]' <<<"$1"); do
    cols=$(pg_sql "$DB" "SELECT string_agg(format('%I::text', attname), ', ' ORDER BY attnum)
      FROM pg_attribute WHERE attrelid = 'public.$t'::regclass AND attnum > 0 AND NOT attisdropped")
    pg_sql "$DB" "SELECT json_build_array('$t', json_build_array($cols)) FROM \"$t\""
  done | jq -c . | LC_ALL=C sort
}

# The rows of every file in the local copy DIR of load NAME, read by DuckDB in one read.mjs
# process (--batch; with --codec CODEC each Parquet file must use it), as sorted
# ["table", [values]] lines: the output is cut into tables by the manifest's row counts.
got_rows() {
  local dir=$1 name=$2 codec=${3:-} m=$1/_sluice/$2/manifest.json
  jq -c --arg d "$dir" --arg codec "$codec" '.tables | to_entries[] | .value.columns as $c | .value.files[] |
    [$d + "/" + .key, "--types", ([$c[] | .[1]] | join(","))] + (if $codec == "" then [] else ["--codec", $codec] end)' \
    "$m" >"$TMPD/$name.batch"
  jq -r '.tables | to_entries[] | .key as $t | .value.files[] | "\($t)\t\(.rows)"' "$m" >"$TMPD/$name.counts"
  # into a file: read.mjs exits before a pipe has taken all of its output
  node "$FILES_DIR/read.mjs" --batch "$TMPD/$name.batch" >"$TMPD/$name.read" || die "$name: read.mjs failed"
  awk -F'\t' 'NR == FNR { t[NR] = $1; c[NR] = $2; n = NR; next }
    { while (i <= n && c[i] == 0) i++; if (i > n) { print "more rows than the manifest counts: " $0 > "/dev/stderr"; exit 1 }
      printf "[\"%s\",%s]\n", t[i], $0; c[i]-- }
    BEGIN { i = 1 }' "$TMPD/$name.counts" "$TMPD/$name.read" | jq -c . | LC_ALL=C sort
}

# load NAME TABLES_JSON URL_EXTRA [CODEC]: runs the load, fetches its objects straight from
# s3rver, checks them against the manifest and the source.
load_and_check() {
  local name=$1 tables=$2 extra=$3 codec=${4:-} dir=$TMPD/$1 m t n
  write_spec "$TMPD/$name.json" "$name" "$(pg_url "$DB")" "$(s3_url "$name" "" "$extra")" \
    '{"writers": 2}' "$tables"
  sl_run "$TMPD/$name" run "$TMPD/$name.json" --data-dir "$TMPD/$name.data" --no-progress
  [ "$SL_RC" = 0 ] || { sed 's/^/  | /' "$TMPD/$name.err" >&2; die "$name: sluice run exited $SL_RC"; }
  mkdir -p "$dir"
  n=$(s3_fetch "$name" --dest "$dir") || die "$name: could not fetch the objects from s3rver"
  m=$dir/_sluice/$name/manifest.json
  assert_consistent "$dir" "$name"
  for t in $(jq -r '.[]' <<<"$tables"); do
    assert_eq "$(pg_sql "$DB" "SELECT count(*) FROM \"$t\"")" "$(jq -r --arg t "$t" '.tables[$t].rows // 0' "$m")" \
      "$name: rows of $t in the manifest"
  done
  src_rows "$tables" >"$TMPD/$name.want" || die "$name: could not dump the source"
  got_rows "$dir" "$name" "$codec" >"$TMPD/$name.got" || die "$name: could not read the objects back"
  diff "$TMPD/$name.want" "$TMPD/$name.got" >"$TMPD/$name.diff" ||
    { head -n 10 "$TMPD/$name.diff" >&2; die "$name: rows differ (< source, > S3)"; }
  note "$name: $n objects on S3, $(wc -l <"$TMPD/$name.got") rows equal to the source"
}

# 1. Chinook into CSV and Parquet.
load_and_check chinook_csv "$CHINOOK" "&format=csv&compression=gzip"
load_and_check chinook_parquet "$CHINOOK" "&format=parquet&compression=zstd" ZSTD

# 2. A multipart upload through sluice, with the proxy counting the requests.
s3_proxy_reset
load_and_check big_multipart '["big"]' "&format=csv&compression=none&part_size_mb=5"
key=$(jq -r '.tables.big.files[0].key' "$TMPD/big_multipart/_sluice/big_multipart/manifest.json")
s3_fetch big_multipart --list >"$TMPD/big.list" || die "big_multipart: could not list the objects"
size=$(awk -F'\t' -v k="$key" '$1 == k {print $2}' "$TMPD/big.list")
if [ -z "$size" ] || [ "$size" -le $((10 << 20)) ]; then
  die "big_multipart: object $key is ${size:-absent} bytes, want > 10 MiB"
fi
parts=$(s3_proxy_count UploadPart)
[ "$parts" -ge 3 ] || die "big_multipart: $parts parts went up, want >= 3 for a $size-byte object"
assert_eq 0 "$(s3_proxy_count AbortMultipartUpload)" "big_multipart: aborted uploads"
[ "$(s3_proxy_count CompleteMultipartUpload)" -ge 1 ] || die "big_multipart: no CompleteMultipartUpload"
note "big_multipart: $size bytes in $parts parts"

# 3. A wrong secret: a clear error, the secret never shown, nothing written.
bad_secret="Wrong-$RANDOM-Secret"
write_spec "$TMPD/wrong.json" wrong "$(pg_url "$DB")" "$(s3_url wrong "$bad_secret" "&format=csv")" '{}' '["artist"]'
sl_run "$TMPD/wrong" run "$TMPD/wrong.json" --data-dir "$TMPD/wrong.data" --no-progress
[ "$SL_RC" != 0 ] || die "wrong secret: sluice run succeeded"
assert_grep "could not write to s3://$SLUICE_TEST_S3_BUCKET/$S3_RUN/wrong: the secret access key is wrong" \
  "$TMPD/wrong.err" "wrong secret: no clear error"
assert_grep "hint:.*secret" "$TMPD/wrong.err" "wrong secret: no hint"
if grep -q -- "$bad_secret" "$TMPD/wrong.out" "$TMPD/wrong.err"; then
  die "wrong secret: the secret appears in sluice's output"
fi
s3_fetch wrong --list >"$TMPD/wrong.list" || die "wrong secret: could not list the objects"
assert_eq "" "$(cat "$TMPD/wrong.list")" "wrong secret: objects were written"
note "wrong secret: refused with: $(grep -m1 'secret access key is wrong' "$TMPD/wrong.err")"
