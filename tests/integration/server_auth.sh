#!/usr/bin/env bash
# server_auth.sh: keys, secrets, bad input and the OpenAPI document of `sluice server`.
#
# - Connection tests report each server check: a role without REPLICATION fails its check
#   with the ALTER ROLE hint; a MariaDB source passes the binlog checks.
# - A generated API key (printed once, only its hash kept, 0600), and secret.key 0600.
# - Without a key or with a wrong one, every /api route of the OpenAPI document and /metrics
#   answer 401 with a JSON error; /healthz needs none. --rotate-api-key: the running server
#   takes the new key at once and refuses the old one.
# - Bad input gets the right 4xx with a JSON error, and the server keeps serving: malformed
#   JSON, an unknown field, an invalid URL, a body that is not JSON, a wrong method, starting
#   a running stream, deleting a missing one, a 100 MB body (413 before it is read) and an
#   oversized chunked body.
# - Every route of the OpenAPI document answers (not 404 "no route", not 405).
# - A password (separate, inside a connection URL, inside a stream's inline URL) never
#   appears in a response, in the server's log or in any file of the data dir.
# - SIGTERM stops the server with exit 0 (under ASan: no leak report, also none from its
#   stream children, whose output goes to the server's log).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"

SRC=sl_srv_auth_src TGT=sl_srv_auth_tgt SLOT=$(cdc_slot_name srv-auth)
ROLE=sl_srv_auth PW="Pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
DATA=$TMPD/data
unset SLUICE_API_KEY

pg_sql postgres "DROP ROLE IF EXISTS $ROLE; CREATE ROLE $ROLE LOGIN SUPERUSER PASSWORD '$PW'"
on_exit "pg_sql postgres 'DROP ROLE IF EXISTS $ROLE' >/dev/null 2>&1"
cdc_pg_db "$SRC"
cdc_pg_db "$TGT"
pg_sql "$SRC" "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g"

srv_start srv "$DATA"
[ -n "$SRV_KEY" ] || die "no api key printed on the first start"
assert_eq 600 "$(stat -c %a "$DATA/api-key.hash")" "mode of api-key.hash"
assert_eq 600 "$(stat -c %a "$DATA/secret.key")" "mode of secret.key"
grep -q -F -- "$SRV_KEY" "$DATA/api-key.hash" && die "the API key is stored in clear"

note "secrets"
api_ok 201 POST /api/v1/connections "$(jq -nc --arg u "postgres://$ROLE@$PGHOST:$PGPORT/$SRC" --arg p "$PW" \
  '{name: "a-src", url: $u, password: $p}')"
assert_eq "****" "$(jq -r .password <<<"$API_BODY")" "password in the response"
api_ok 201 POST /api/v1/connections "$(jq -nc --arg u "postgres://$ROLE:$PW@$PGHOST:$PGPORT/$TGT" '{name: "a-tgt", url: $u}')"
# PUT with the masked URL sent back keeps the stored password: the test below connects.
api_ok 200 PUT /api/v1/connections/a-tgt "$(jq -c '{name, url}' <<<"$API_BODY")"
api_ok 200 POST /api/v1/connections/a-tgt/test '{"role": "target"}'
assert_eq true "$(jq -r .ok <<<"$API_BODY")" "test after a PUT with the masked password: $API_BODY"
api_ok 201 POST /api/v1/streams "$(jq -nc --arg s "postgres://$ROLE:$PW@$PGHOST:$PGPORT/$SRC" \
  '{name: "srv-auth", mode: "cdc", source: {url: $s, tables: ["t"]}, target: {connection: "a-tgt"}}')"
sid=$(jq -r .id <<<"$API_BODY")
write_cdc_spec "$TMPD/spec.json" srv-auth "postgres://$ROLE:$PW@$PGHOST:$PGPORT/$SRC" \
  "postgres://$ROLE:$PW@$PGHOST:$PGPORT/$TGT" '{}' '["t"]'
cdc_track "$TMPD/spec.json" "$SRC"
api_ok 201 POST /api/v1/streams '{"name": "idle", "source": {"connection": "a-src"}, "target": {"connection": "a-tgt"}}'

note "connection tests"
pg_sql postgres "DROP ROLE IF EXISTS ${ROLE}_norepl; CREATE ROLE ${ROLE}_norepl LOGIN PASSWORD '$PW'"
on_exit "pg_sql postgres 'DROP ROLE IF EXISTS ${ROLE}_norepl' >/dev/null 2>&1"
api_ok 201 POST /api/v1/connections "$(jq -nc --arg u "postgres://${ROLE}_norepl:$PW@$PGHOST:$PGPORT/$SRC" '{name: "norepl", url: $u}')"
api_ok 200 POST /api/v1/connections/norepl/test '{"mode": "cdc"}'
assert_eq "false connect:true replication_privilege:false" \
  "$(jq -r '[.ok, (.checks[] | "\(.name):\(.ok)")] | join(" ")' <<<"$API_BODY")" "checks of a role without REPLICATION"
jq -e '.checks[1].hint | test("ALTER ROLE")' <<<"$API_BODY" >/dev/null || die "no ALTER ROLE hint: $API_BODY"
api_ok 201 POST /api/v1/connections "$(jq -nc --arg u "$SLUICE_TEST_MYSQL_URL/mysql" '{name: "maria", url: $u}')"
api_ok 200 POST /api/v1/connections/maria/test '{"mode": "cdc", "role": "source"}'
assert_eq "true connect log_bin binlog_format binlog_row_image binlog_row_metadata replication_privileges" \
  "$(jq -r '[.ok, .checks[].name] | join(" ")' <<<"$API_BODY")" "checks of a MariaDB cdc source: $API_BODY"
api_ok 204 DELETE /api/v1/connections/maria
api_ok 204 DELETE /api/v1/connections/norepl

note "no key, wrong key"
api_ok 200 GET /api/v1/openapi.json
cp "$TMPD/api.body" "$TMPD/openapi.json"
routes=$(jq -r '.paths | to_entries[] | .key as $p | .value | keys[] | "\(ascii_upcase) \($p)"' "$TMPD/openapi.json")
[ "$(wc -l <<<"$routes")" -ge 20 ] || die "the OpenAPI document lists only $(wc -l <<<"$routes") routes"
while read -r method path; do
  p=${path//\{id\}/$sid}
  for k in none wrong-key; do
    KEY=$k api "$method" "$p"
    if [ "$path" = /healthz ]; then
      assert_eq 200 "$API_STATUS" "$method $path without a key"
    else
      assert_eq 401 "$API_STATUS" "$method $p with key '$k'"
      assert_eq unauthorized "$(jq -r .error.code <<<"$API_BODY")" "$method $p error code"
    fi
  done
done <<<"$routes"
KEY=none api GET /metrics
assert_eq 401 "$API_STATUS" "/metrics without a key"

note "bad input"
expect_err() { # STATUS CODE METHOD PATH [BODY]
  local st=$1 code=$2
  shift 2
  api "$@"
  assert_eq "$st $code" "$API_STATUS $(jq -r .error.code <<<"$API_BODY" 2>/dev/null)" "$1 $2 ${3-}: $API_BODY"
  [ -n "$(jq -r .error.message <<<"$API_BODY")" ] || die "$1 $2: no error message"
}
expect_err 400 bad_json POST /api/v1/connections '{"name": "x", "url": '
expect_err 400 bad_json POST /api/v1/connections '[1, 2]'
expect_err 400 unknown_field POST /api/v1/connections '{"name": "x", "url": "postgres://h/db", "colour": 1}'
expect_err 400 unknown_field POST /api/v1/streams '{"name": "y", "source": {"url": "postgres://h/db", "tabels": []}, "target": {"url": "postgres://h/db"}}'
expect_err 400 unknown_field POST /api/v1/streams '{"name": "y", "source": {"url": "postgres://h/db"}, "target": {"url": "postgres://h/db"}, "options": {"writerz": 1}}'
expect_err 400 invalid_field POST /api/v1/connections '{"name": "x", "url": "gopher://h/db"}'
expect_err 400 invalid_field POST /api/v1/connections '{"name": "x", "url": "postgres://h:99999999/db"}'
expect_err 400 invalid_field POST /api/v1/connections '{"name": "-bad name", "url": "postgres://h/db"}'
expect_err 400 invalid_field POST /api/v1/streams '{"name": "z", "source": {"connection": "nope"}, "target": {"connection": "a-tgt"}}'
expect_err 409 name_taken POST /api/v1/connections "$(jq -nc --arg u "postgres://$ROLE@$PGHOST:$PGPORT/$SRC" '{name: "a-src", url: $u}')"
expect_err 404 not_found DELETE /api/v1/streams/s_0000000000000000
expect_err 404 not_found DELETE /api/v1/streams/no-such-stream
expect_err 404 not_found GET /api/v1/nothing-here
expect_err 405 method_not_allowed DELETE /api/v1/connections
status=$(curl -s -o "$TMPD/ct.body" -w '%{http_code}' -H "Authorization: Bearer $SRV_KEY" \
  -H 'Content-Type: text/plain' --data-binary 'hello' "$SRV_URL/api/v1/connections")
assert_eq "415 unsupported_media_type" "$status $(jq -r .error.code "$TMPD/ct.body")" "a text/plain body"

api_ok 200 POST "/api/v1/streams/$sid/start"
srv_wait_state "$sid" running 30
expect_err 409 invalid_state POST "/api/v1/streams/$sid/start"
expect_err 409 invalid_state POST "/api/v1/streams/$sid/resume"
expect_err 409 invalid_state DELETE "/api/v1/streams/$sid"
expect_err 409 invalid_state PUT "/api/v1/streams/$sid" '{"name": "srv-auth", "source": {"connection": "a-src"}, "target": {"connection": "a-tgt"}}'
# The stream works with the secrets it was given.
wait_for "cdc_has_ckpt pg $TGT srv-auth" 60 || die "the stream copied nothing"
pg_sql "$SRC" "INSERT INTO t VALUES (1000, 'late')"
wait_for "[ \"\$(pg_sql $TGT 'SELECT count(*) FROM t')\" = 101 ]" 30 || die "a change did not reach the target"

note "100 MB body"
t0=$(date +%s%3N)
head -c 100000000 /dev/zero | tr '\0' ' ' >"$TMPD/big.json"
status=$(curl -s -o "$TMPD/big.body" -w '%{http_code}' -H "Authorization: Bearer $SRV_KEY" \
  -H 'Content-Type: application/json' --data-binary @"$TMPD/big.json" "$SRV_URL/api/v1/streams" || true)
assert_eq "413 too_large" "$status $(jq -r .error.code "$TMPD/big.body")" "a 100 MB body"
note "413 after $(($(date +%s%3N) - t0)) ms"
# Chunked, without a Content-Length: cut off at 1 MiB (the connection is closed).
head -c 3000000 "$TMPD/big.json" | curl -s -o /dev/null -H "Authorization: Bearer $SRV_KEY" \
  -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @- \
  "$SRV_URL/api/v1/connections" || true
rm -f "$TMPD/big.json"
KEY=none api_ok 200 GET /healthz
api_ok 200 GET /api/v1/connections

note "every documented route answers"
api GET /api/v1/connections/a-src
cid=$(jq -r .id <<<"$API_BODY")
while read -r method path; do
  case "$path" in
  /api/v1/connections*) p=${path//\{id\}/$cid} ;;
  *) p=${path//\{id\}/$sid} ;;
  esac
  # Lifecycle actions go to the running stream (start/resume: 409), pause/stop/DELETE to a
  # missing one; only the route must be known.
  case "$method $path" in
  "POST /api/v1/streams/{id}/pause" | "POST /api/v1/streams/{id}/stop" | "DELETE /api/v1/streams/{id}" | \
    "DELETE /api/v1/connections/{id}" | "PUT /api/v1/connections/{id}") p=${p//$sid/nope}; p=${p//$cid/nope} ;;
  esac
  if [ "$path" = "/api/v1/streams/{id}/events" ]; then
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H "Authorization: Bearer $SRV_KEY" "$SRV_URL$p" || true)
    assert_eq 200 "$status" "GET $p (server-sent events)"
    continue
  fi
  body=""
  [ "$method" = GET ] || [ "$method" = DELETE ] || body='{}'
  api "$method" "$p" "$body"
  if [ "$API_STATUS" = 405 ] || grep -q '"no route' <<<"$API_BODY"; then die "$method $p: $API_STATUS $API_BODY"; fi
done <<<"$routes"

note "key rotation"
"$SLUICE_BIN" server --rotate-api-key --data-dir "$DATA" >"$TMPD/rotate.out"
new=$(sed -n 's/^api key: //p' "$TMPD/rotate.out")
if [ -z "$new" ] || [ "$new" = "$SRV_KEY" ]; then die "--rotate-api-key printed no new key"; fi
api GET /api/v1/streams
assert_eq 401 "$API_STATUS" "the old key after rotation"
KEY=$new api_ok 200 GET /api/v1/streams
SRV_KEY=$new

api_ok 200 POST "/api/v1/streams/$sid/stop"
api_ok 204 DELETE "/api/v1/streams/$sid?drop_slot=true"
assert_eq 0 "$(cdc_slot_count "$SLOT")" "slot after delete?drop_slot=true"
note "graceful stop"
srv_stop
srv_no_secret "$PW" "$DATA"
note "ok"
