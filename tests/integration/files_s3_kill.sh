#!/usr/bin/env bash
# files_s3_kill.sh: a load into S3 is SIGKILLed in the middle of a multipart upload (the
# proxy holds each part 1.5 s; the kill comes once part 1 is in and part 2 on its way, long
# before the completion), then rerun to the end. While it is dead no object of the table is
# visible (an incomplete multipart upload is not an object); after the rerun the objects are
# exactly those of the manifest (no partial, no duplicate), the manifest counts every source
# row once, and the rows read back by DuckDB from copies fetched straight from s3rver are the
# source's (count, distinct keys, md5 over the rows in key order).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/files.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/s3.sh"
tmpdir
SRC=sl_s3_kill N=150000
[ "${SLUICE_TEST_KEEP:-0}" = 1 ] || on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $SRC WITH (FORCE)'"
pg_newdb "$SRC"
# ~15 MB of CSV in one chunk: one object of 4 parts of 5 MiB.
pg_sql "$SRC" "CREATE TABLE big (id bigint PRIMARY KEY, payload text NOT NULL);
  INSERT INTO big SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, $N) g;
  CREATE TABLE small (id int PRIMARY KEY, v text);
  INSERT INTO small SELECT g, 'v' || g FROM generate_series(1, 1000) g;"
write_spec "$TMPD/spec.json" s3kill "$(pg_url "$SRC")" "$(s3_url out "" "&format=csv&part_size_mb=5")" \
  '{"writers": 2}'

s3_proxy_reset
# Every part is held 1.5 s by the proxy, so the upload is still going when the kill comes.
curl -sf -X POST "$SLUICE_TEST_S3_ENDPOINT/__proxy/fail?op=UploadPart&count=1000&delay=1500" ||
  die "the S3 proxy does not answer"
on_exit "curl -sf -X POST '$SLUICE_TEST_S3_ENDPOINT/__proxy/reset' || true"
# In a process group of its own (setsid), so that one kill takes sluice and its children
# (the embedded nats-server) at the same instant.
setsid "$SLUICE_BIN" run "$TMPD/spec.json" --data-dir "$TMPD/data1" --no-progress >"$TMPD/run1.log" 2>&1 &
pid=$!
on_exit "kill -KILL -- -$pid 2>/dev/null || true"
deadline=$(($(date +%s) + 60))
until [ "$(s3_proxy_count UploadPart)" -ge 2 ]; do # part 1 in, part 2 on its way
  kill -0 "$pid" 2>/dev/null || { cat "$TMPD/run1.log" >&2; die "the first run ended before a part went up"; }
  [ "$(date +%s)" -lt "$deadline" ] || die "no multipart upload started within 60 s"
  sleep 0.05
done
kill -KILL -- "-$pid"
{ wait "$pid"; } 2>/dev/null || true
wait_for "! pgrep -g $pid >/dev/null" 15 || die "processes of the killed sluice still run: $(pgrep -g "$pid" | tr '\n' ' ')"
parts=$(s3_proxy_count UploadPart) completed=$(s3_proxy_count CompleteMultipartUpload)
note "killed after $parts part(s) went up, $completed upload(s) completed"
[ "$completed" = 0 ] || die "the kill came after the completion: not mid-upload"
s3_fetch out --list >"$TMPD/after-kill.list" || die "could not list the objects after the kill"
assert_eq "" "$(grep '^big/' "$TMPD/after-kill.list" || true)" "an object of big is visible after the kill mid-upload"

s3_proxy_reset
sl_run "$TMPD/run2" run "$TMPD/spec.json" --data-dir "$TMPD/data2" --no-progress
[ "$SL_RC" = 0 ] || { tail -n 30 "$TMPD/run2.err" >&2; die "the rerun exited $SL_RC"; }

mkdir -p "$TMPD/out"
s3_fetch out --dest "$TMPD/out" >/dev/null || die "could not fetch the objects from s3rver"
assert_consistent "$TMPD/out" s3kill
M=$TMPD/out/_sluice/s3kill/manifest.json
assert_eq "$N 1000" "$(jq -r '"\(.tables.big.rows) \(.tables.small.rows)"' "$M")" "manifest row counts"
s3_fetch out --list >"$TMPD/all.list" || die "could not list the objects"
grep '^big/' "$TMPD/all.list" >"$TMPD/big.objects" || true
assert_eq "$(jq '.tables.big.files | length' "$M")" "$(wc -l <"$TMPD/big.objects")" "objects of big"
expect=$(pg_sql "$SRC" "SELECT count(*) || ' ' || count(DISTINCT id) || ' ' ||
  md5(string_agg(id::text || '|' || payload, E'\n' ORDER BY id)) FROM big")
got=$(duck "SELECT count(*) || ' ' || count(DISTINCT id) || ' ' ||
  md5(string_agg(id::VARCHAR || '|' || payload, chr(10) ORDER BY id::BIGINT))
  FROM read_csv('$TMPD/out/big/*.csv', header = true, all_varchar = true)")
assert_eq "$expect" "$got" "big: count, distinct ids and md5 of the rows in id order"
expect=$(pg_sql "$SRC" "SELECT count(*) || ' ' || md5(string_agg(id || '|' || v, E'\n' ORDER BY id)) FROM small")
got=$(duck "SELECT count(*) || ' ' || md5(string_agg(id || '|' || v, chr(10) ORDER BY id::INT))
  FROM read_csv('$TMPD/out/small/*.csv', header = true, all_varchar = true)")
assert_eq "$expect" "$got" "small: count and md5"
note "ok: $N + 1000 rows exactly once; big in $(cut -f2 "$TMPD/big.objects" | paste -sd+ | bc) bytes"
