#!/usr/bin/env bash
# server_verify.sh: verify from the API and the CLI with stored connections. A load from
# PostgreSQL (a stored connection whose password is in its own field) into PostgreSQL (the
# password in the URL) completes; then
#   - POST /api/v1/streams/{id}/verify answers 202 with a running job, GET follows it to
#     done, result equal, per table the row counts the databases hold and equal checksums;
#   - rows changed on the target (one deleted, one updated, one added): the next job is
#     different, with the differing keys among its samples; `sluice stream verify NAME`
#     exits 1 and prints exactly what `sluice verify SPEC` prints for the equivalent spec
#     written with the passwords; after the target is repaired it exits 0;
#   - the job survives a restart of the server (GET answers the last one from disk); a
#     stream never verified answers 404;
#   - a load into Parquet files: the job reads the files (the file source) and finds them
#     equal; after one file is removed, `sluice stream verify` exits 1 and names the table;
#   - a job that cannot read a side fails with the reason, `sluice stream verify` exits 2;
#   - no password in any API answer, job log or server file.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"
tmpdir

SRC=sl_ver_src TGT=sl_ver_tgt ROLE=sl_ver_reader PW='Ve-ri.fy%pw'
pg_newdb "$SRC"
pg_newdb "$TGT"
on_exit "pg_sql postgres 'DROP ROLE IF EXISTS $ROLE' >/dev/null 2>&1 || true"
pg_sql postgres "DROP ROLE IF EXISTS $ROLE; CREATE ROLE $ROLE LOGIN PASSWORD '$PW'"
pg_sql "$SRC" "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2));
  INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 20000) g;
  CREATE TABLE tags (k text PRIMARY KEY, v int);
  INSERT INTO tags SELECT 'k' || g, g FROM generate_series(1, 300) g;
  GRANT SELECT ON ALL TABLES IN SCHEMA public TO $ROLE"

srv_start srv "$TMPD/data"
export SLUICE_URL=$SRV_URL SLUICE_API_KEY=$SRV_KEY
api_ok 201 POST /api/v1/connections "$(jq -nc --arg url "postgres://$ROLE@$PGHOST:$PGPORT/$SRC" --arg pw "$PW" \
  '{name: "ver-src", url: $url, password: $pw}')"
api_ok 201 POST /api/v1/connections "$(jq -nc --arg url "$(pg_url "$TGT")" '{name: "ver-tgt", url: $url}')"
api_ok 201 POST '/api/v1/streams?start=true' '{"name": "ver", "mode": "load",
  "source": {"connection": "ver-src", "tables": ["items", "tags"]}, "target": {"connection": "ver-tgt"}}'
srv_wait_state ver completed 120

# job: POST, then GET until it ends; the job's JSON in JOB
verify_job() {
  api_ok 202 POST "/api/v1/streams/$1/verify"
  assert_eq running "$(jq -r .state <<<"$API_BODY")" "a new verify job is running"
  [ "$(jq -r '.report, .finished_at, .exit_code' <<<"$API_BODY" | sort -u)" = null ] ||
    die "a running job has a report or an end: $API_BODY"
  wait_for "api_ok 200 GET /api/v1/streams/$1/verify; [ \"\$(jq -r .state <<<\"\$API_BODY\")\" != running ]" 120 ||
    die "the verify job of $1 did not end in 120 s: $API_BODY"
  JOB=$API_BODY
  echo "$JOB" >>"$TMPD/responses.log"
}

# --- 1. equal --------------------------------------------------------------------------------
api GET /api/v1/streams/ver/verify
assert_eq 404 "$API_STATUS" "GET verify before the first job"
verify_job ver
assert_eq "done equal 0 true" "$(jq -r '"\(.state) \(.result) \(.exit_code) \(.report.equal)"' <<<"$JOB")" "the first job"
for t in items tags; do
  n=$(pg_sql "$TGT" "SELECT count(*) FROM $t")
  assert_eq "$n $n true" "$(jq -r --arg t "$t" '.report.tables[] | select(.table == $t) |
    "\(.source_rows) \(.target_rows) \(.source_checksum == .target_checksum and (.source_checksum | length) == 32)"' <<<"$JOB")" \
    "$t: rows on both sides and equal checksums"
done
[ "$(jq '.log | length' <<<"$JOB")" -gt 0 ] || die "the job has no log"

# --- 2. different, through the CLI too -----------------------------------------------------------
pg_sql "$TGT" "DELETE FROM items WHERE id = 777; UPDATE items SET name = 'changed' WHERE id = 4242;
  INSERT INTO tags VALUES ('extra', 1)"
verify_job ver
assert_eq "done different 1 false" "$(jq -r '"\(.state) \(.result) \(.exit_code) \(.report.equal)"' <<<"$JOB")" \
  "the job after the target changed"
[ "$(jq -r '.report.tables[] | select(.table == "items") | .source_checksum != .target_checksum' <<<"$JOB")" = true ] ||
  die "items: equal checksums after a change"
jq -r '.report.tables[].samples[]' <<<"$JOB" >"$TMPD/samples"
assert_grep 'id=777' "$TMPD/samples" "the deleted row is named"
assert_grep 'id=4242' "$TMPD/samples" "the updated row is named"
assert_grep 'k=extra' "$TMPD/samples" "the extra row is named"
rc=0
"$SLUICE_BIN" stream verify ver >"$TMPD/sv.out" 2>"$TMPD/sv.err" || rc=$?
assert_eq 1 "$rc" "sluice stream verify on differences"
jq -n --arg src "postgres://$ROLE@$PGHOST:$PGPORT/$SRC" --arg pw "$PW" --arg tgt "$(pg_url "$TGT")" \
  '{name: "ver", source: {url: $src, password: $pw, tables: ["items", "tags"]}, target: {url: $tgt}}' >"$TMPD/spec.json"
rc=0
"$SLUICE_BIN" verify "$TMPD/spec.json" >"$TMPD/v.out" 2>"$TMPD/v.err" || rc=$?
assert_eq 1 "$rc" "sluice verify SPEC on differences"
diff "$TMPD/v.out" "$TMPD/sv.out" >&2 || die "sluice stream verify and sluice verify print different reports"
assert_grep 'DIFFERENT' "$TMPD/sv.out" "the report says DIFFERENT"
"$SLUICE_BIN" stream verify-status ver --json >"$TMPD/vs.json" 2>/dev/null || true
assert_eq different "$(jq -r .result "$TMPD/vs.json")" "verify-status --json"
pg_sql "$SRC" "SELECT id, name, price FROM items WHERE id IN (777, 4242)" | while IFS='|' read -r id name price; do
  pg_sql "$TGT" "INSERT INTO items VALUES ($id, '$name', $price) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name"
done
pg_sql "$TGT" "DELETE FROM tags WHERE k = 'extra'"
rc=0
"$SLUICE_BIN" stream verify ver >"$TMPD/sv2.out" 2>"$TMPD/sv2.err" || rc=$?
assert_eq 0 "$rc" "sluice stream verify after the repair"
assert_grep '^all 2 tables equal$' "$TMPD/sv2.out" "the repaired target is equal"

# --- 3. the last job after a restart -------------------------------------------------------------
last=$(api_ok 200 GET /api/v1/streams/ver/verify; jq -r .id <<<"$API_BODY")
srv_stop
srv_start srv2 "$TMPD/data"
export SLUICE_URL=$SRV_URL
api_ok 200 GET /api/v1/streams/ver/verify
assert_eq "$last done equal" "$(jq -r '"\(.id) \(.state) \(.result)"' <<<"$API_BODY")" "the last job after a restart"

# --- 4. a file target, and a job that fails --------------------------------------------------------
api_ok 201 POST '/api/v1/streams?start=true' "$(jq -nc --arg out "file://$TMPD/out?format=parquet" '{name: "ver-files",
  mode: "load", source: {connection: "ver-src", tables: ["items", "tags"]}, target: {url: $out}}')"
srv_wait_state ver-files completed 120
verify_job ver-files
assert_eq "done equal" "$(jq -r '"\(.state) \(.result)"' <<<"$JOB")" "a job on a Parquet target"
assert_eq "20000 20000" "$(jq -r '.report.tables[] | select(.table == "items") | "\(.source_rows) \(.target_rows)"' <<<"$JOB")" \
  "items read from the files"
rm "$TMPD"/out/tags/*.parquet
rc=0
"$SLUICE_BIN" stream verify ver-files >"$TMPD/svf.out" 2>"$TMPD/svf.err" || rc=$?
assert_eq 1 "$rc" "sluice stream verify after a file was removed"
assert_grep '^tags .*DIFFERENT' "$TMPD/svf.out" "the table whose file is gone differs"
# a side that cannot be read: the target database is gone
pg_sql postgres "DROP DATABASE $TGT WITH (FORCE)"
verify_job ver
assert_eq "failed error" "$(jq -r '"\(.state) \(.result)"' <<<"$JOB")" "a job whose target is gone"
assert_grep "does not exist" <(jq -r .error.message <<<"$JOB") "the job says why"
rc=0
"$SLUICE_BIN" stream verify ver >"$TMPD/svg.out" 2>"$TMPD/svg.err" || rc=$?
assert_eq 2 "$rc" "sluice stream verify when a side cannot be read"
assert_grep 'does not exist' "$TMPD/svg.err" "the CLI says why"

# --- 5. no password anywhere ---------------------------------------------------------------------------
cat "$TMPD"/sv*.out "$TMPD"/sv*.err >>"$TMPD/responses.log"
srv_no_secret "$PW" "$TMPD/data"
srv_stop
note "verify jobs: equal, different with samples, CLI = sluice verify, kept across a restart, files, failures"
