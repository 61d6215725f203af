#!/usr/bin/env bash
# sec_spool.sh: the S3 spool is private (issue 12, defect 3). Runs as root, so another
# user's directories are made by chown to nobody.
#
# - Another user has pre-created $TMPDIR/sluice-spool, world-writable (the old default
#   spool). A load into s3:// that crashes right after its intent record
#   (SLUICE_TEST_FILE_CRASH=after_intent) leaves its spooled files behind: none of them is
#   in that directory; they are in DATA/spool (0700), each 0600. Run again, the load
#   completes and S3 holds exactly the source's rows.
# - spool_dir given in the URL and owned by another user, world-writable, or a symlink to
#   another user's directory: refused at once with a hint, and no object is written.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/files.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/s3.sh"
tmpdir
DB=sl_sec_spool
[ "$(id -u)" = 0 ] || die "this test makes directories of another user: run it as root"

pg_newdb "$DB"
on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $DB WITH (FORCE)' >/dev/null"
pg_sql "$DB" "CREATE TABLE items (id int PRIMARY KEY, v text);
  INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 2000) g"

# The attacker's directory where the old default spool was.
export TMPDIR=$TMPD/tmp
mkdir -p "$TMPDIR/sluice-spool"
chown nobody "$TMPDIR/sluice-spool"
chmod 0777 "$TMPDIR/sluice-spool"

note "a load that crashes after its intent record leaves its spool behind"
write_spec "$TMPD/crash.json" crash "$(pg_url "$DB")" "$(s3_url crash "" "&format=csv&compression=none")"
SLUICE_TEST_FILE_CRASH=after_intent sl_run "$TMPD/crash1" run "$TMPD/crash.json" --data-dir "$TMPD/data" --no-progress
assert_eq 137 "$SL_RC" "exit status of the run that crashes after its intent"
leaked=$(find "$TMPDIR" -type f | head -n 5)
[ -z "$leaked" ] || die "spool files in the other user's directory: $leaked"
spooled=$(find "$TMPD/data/spool" -type f -name '*.spool' | wc -l)
[ "$spooled" -ge 1 ] || die "no spooled file in DATA/spool after the crash: $(find "$TMPD/data" -maxdepth 2)"
assert_eq 700 "$(stat -c %a "$TMPD/data/spool")" "mode of DATA/spool"
wide=$(find "$TMPD/data/spool" -type f -perm /077 | head -n 3)
[ -z "$wide" ] || die "spool files readable by others: $(stat -c '%a %n' $wide)"
note "$spooled spooled file(s) in DATA/spool, 0600"

sl_run "$TMPD/crash2" run "$TMPD/crash.json" --data-dir "$TMPD/data" --no-progress
[ "$SL_RC" = 0 ] || { sed 's/^/  | /' "$TMPD/crash2.err" >&2; die "the second run exited $SL_RC"; }
s3_fetch crash --dest "$TMPD/got" >/dev/null || die "could not fetch the objects"
assert_consistent "$TMPD/got" crash
got=$(jq -r '.tables.items.files[].key' "$TMPD/got/_sluice/crash/manifest.json" | while read -r k; do
  cat "$TMPD/got/$k"; done | tr -d '\r' | grep -v '^id,' | LC_ALL=C sort | md5sum)
want=$(pg_sql "$DB" "SELECT id || ',' || v FROM items" | LC_ALL=C sort | md5sum)
assert_eq "$want" "$got" "rows on S3 against the source"
[ -z "$(find "$TMPDIR" -type f)" ] || die "files in the other user's directory after the second run"
note "the load completed: 2000 rows on S3 equal to the source"

# refused NAME SPOOL_DIR WHY_RE: a load with spool_dir=SPOOL_DIR fails up front, saying
# WHY_RE with a hint, and writes no object.
refused() {
  local name=$1 dir=$2 why=$3
  write_spec "$TMPD/$name.json" "$name" "$(pg_url "$DB")" "$(s3_url "$name" "" "&format=csv&spool_dir=$dir")"
  sl_run "$TMPD/$name" run "$TMPD/$name.json" --data-dir "$TMPD/$name.data" --no-progress
  [ "$SL_RC" != 0 ] || die "$name: a load with spool_dir=$dir ran"
  assert_grep "spool directory .* is not private: $why" "$TMPD/$name.err" "$name: the refusal"
  assert_grep "^hint: " "$TMPD/$name.err" "$name: a hint"
  s3_fetch "$name" --list >"$TMPD/$name.list" || die "$name: could not list the objects"
  assert_eq "" "$(cat "$TMPD/$name.list")" "$name: objects written"
  [ -z "$(find "$dir/" -type f)" ] || die "$name: files written into $dir"
  note "$name: $(grep -m1 'not private' "$TMPD/$name.err")"
}

mkdir -p "$TMPD/theirs" "$TMPD/open" "$TMPD/theirs2"
chown nobody "$TMPD/theirs" "$TMPD/theirs2"
chmod 0700 "$TMPD/theirs"
chmod 0777 "$TMPD/open" "$TMPD/theirs2"
ln -s "$TMPD/theirs2" "$TMPD/link"
refused owned_by_other "$TMPD/theirs" "it belongs to uid $(id -u nobody)"
refused world_writable "$TMPD/open" "group or others may write to it"
refused symlink "$TMPD/link" "it belongs to uid $(id -u nobody)"
note "ok"
