#!/usr/bin/env bash
# sec_api_secrets.sh: passwords the API must never give back or give away (issue 12,
# defects 4 and 7).
#
# 4. A password with an unencoded '#', '/', '?' or '@' in a connection URL, or in a
#    stream's inline URL, is refused (400 invalid_field, with the hint to percent-encode
#    it or use the "password" field) and stored nowhere; percent-encoded, the same password
#    is accepted, masked in every answer, and connects. The password never appears in a
#    response, the server's log or the data dir.
# 7. A PUT that points a connection (or a stream's inline URL) at another host, port, user
#    or database while sending the password back as "****" is refused (400
#    secret_required): a PostgreSQL impostor (tests/lib/sec_net.py fake-pg, which asks for
#    the password in clear) never receives it through POST …/test. With the password given
#    again, the PUT is taken. A PUT that keeps the endpoint still keeps the password.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"

NET="python3 $(dirname "${BASH_SOURCE[0]}")/../lib/sec_net.py"
DB=sl_sec_api
ROLE=sl_sec_api
RAW="Pw#$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')/x?y@z"
ENC=$(jq -rn --arg p "$RAW" '$p | @uri')
pg_newdb "$DB"
on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $DB WITH (FORCE)' >/dev/null 2>&1"
pg_sql postgres "DROP ROLE IF EXISTS $ROLE; CREATE ROLE $ROLE LOGIN PASSWORD '$RAW'"
on_exit "pg_sql postgres 'DROP ROLE IF EXISTS $ROLE' >/dev/null 2>&1"
unset SLUICE_API_KEY
srv_start srv "$TMPD/data"

note "4: ambiguous passwords"
SUF=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
for pw in "p#ss" "p/ss" "p?ss" "p@ss"; do
  api POST /api/v1/connections "$(jq -nc --arg u "postgres://$ROLE:$pw$SUF@$PGHOST:$PGPORT/$DB" '{name: "amb", url: $u}')"
  assert_eq 400 "$API_STATUS" "POST of a URL with an unencoded '${pw:1:1}' in its password: $API_BODY"
  assert_eq invalid_field "$(jq -r .error.code <<<"$API_BODY")" "error code"
  jq -e '.error.hint | test("percent-encode") and test("\"password\" field")' <<<"$API_BODY" >/dev/null ||
    die "no hint to percent-encode: $API_BODY"
done
api_ok 200 GET /api/v1/connections
assert_eq 0 "$(jq '.connections | length' <<<"$API_BODY")" "connections stored after the refusals"
api POST /api/v1/streams "$(jq -nc --arg s "postgres://$ROLE:$RAW@$PGHOST:$PGPORT/$DB" --arg t "$(pg_url "$DB")" \
  '{name: "amb", source: {url: $s}, target: {url: $t}}')"
assert_eq 400 "$API_STATUS" "POST of a stream whose inline URL has an ambiguous password: $API_BODY"

note "4: the same password percent-encoded"
api_ok 201 POST /api/v1/connections "$(jq -nc --arg u "postgres://$ROLE:$ENC@$PGHOST:$PGPORT/$DB" '{name: "enc", url: $u}')"
assert_eq "postgres://$ROLE:****@$PGHOST:$PGPORT/$DB" "$(jq -r .url <<<"$API_BODY")" "masked URL"
api_ok 200 POST /api/v1/connections/enc/test '{"role": "target"}'
assert_eq true "$(jq -r .ok <<<"$API_BODY")" "test of the connection with the encoded password: $API_BODY"
api_ok 201 POST /api/v1/streams "$(jq -nc --arg s "postgres://$ROLE:$ENC@$PGHOST:$PGPORT/$DB" --arg t "$(pg_url "$DB")" \
  '{name: "enc-stream", source: {url: $s}, target: {url: $t}}')"
assert_eq "postgres://$ROLE:****@$PGHOST:$PGPORT/$DB" "$(jq -r .spec.source.url <<<"$API_BODY")" "masked inline URL"

note "7: a PUT that moves the connection keeps no password"
fport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$NET fake-pg "$fport" "$TMPD/stolen" &
fpid=$!
on_exit "kill $fpid 2>/dev/null"
sleep 0.5
for moved in "postgres://$ROLE:****@127.0.0.1:$fport/$DB" "postgres://$ROLE:****@$PGHOST:$PGPORT/postgres" \
  "postgres://other:****@$PGHOST:$PGPORT/$DB"; do
  api PUT /api/v1/connections/enc "$(jq -nc --arg u "$moved" '{name: "enc", url: $u}')"
  assert_eq 400 "$API_STATUS" "PUT to $moved with the password masked: $API_BODY"
  assert_eq secret_required "$(jq -r .error.code <<<"$API_BODY")" "error code"
  jq -e '.error.hint | test("again")' <<<"$API_BODY" >/dev/null || die "no hint: $API_BODY"
done
api_ok 200 POST /api/v1/connections/enc/test '{"role": "target"}'
assert_eq true "$(jq -r .ok <<<"$API_BODY")" "the connection still points at the real server: $API_BODY"
[ ! -s "$TMPD/stolen" ] || die "the impostor received a password: $(cat "$TMPD/stolen")"
# A separate password field sent back masked is held to the same rule.
api_ok 201 POST /api/v1/connections "$(jq -nc --arg u "postgres://$ROLE@$PGHOST:$PGPORT/$DB" --arg p "$RAW" \
  '{name: "sep", url: $u, password: $p}')"
api PUT /api/v1/connections/sep "$(jq -nc --arg u "postgres://$ROLE@127.0.0.1:$fport/$DB" '{name: "sep", url: $u, password: "****"}')"
assert_eq 400 "$API_STATUS" "PUT moving a connection with a separate masked password: $API_BODY"
# The same endpoint keeps it; a new endpoint with the password given again is taken.
api_ok 200 PUT /api/v1/connections/sep "$(jq -nc --arg u "postgres://$ROLE@$PGHOST:$PGPORT/$DB" '{name: "sep2", url: $u, password: "****"}')"
api_ok 200 POST /api/v1/connections/sep2/test '{"role": "target"}'
assert_eq true "$(jq -r .ok <<<"$API_BODY")" "test after a PUT that kept the endpoint: $API_BODY"
api_ok 200 PUT /api/v1/connections/sep2 "$(jq -nc --arg u "postgres://$ROLE@127.0.0.1:$fport/$DB" '{name: "sep2", url: $u, password: "decoy"}')"
api_ok 200 POST /api/v1/connections/sep2/test '{"role": "target"}'
wait_for "grep -q decoy '$TMPD/stolen'" 10 || die "the impostor did not get the password given with the new URL (the test is blind)"
grep -q -F -- "$RAW" "$TMPD/stolen" && die "the impostor received the stored password"

note "7: a stream's inline URL moved with its password masked"
api PUT /api/v1/streams/enc-stream "$(jq -nc --arg s "postgres://$ROLE:****@127.0.0.1:$fport/$DB" --arg t "$(pg_url "$DB")" \
  '{name: "enc-stream", source: {url: $s}, target: {url: $t}}')"
assert_eq 400 "$API_STATUS" "PUT moving a stream's source with its password masked: $API_BODY"
assert_eq secret_required "$(jq -r .error.code <<<"$API_BODY")" "error code"
api_ok 200 PUT /api/v1/streams/enc-stream "$(jq -nc --arg s "postgres://$ROLE:****@$PGHOST:$PGPORT/$DB" --arg t "$(pg_url "$DB")" \
  '{name: "enc-stream", source: {url: $s}, target: {url: $t}, options: {batch_rows: 5000}}')"

srv_no_secret "ss$SUF" "$TMPD/data"
srv_no_secret "$RAW" "$TMPD/data"
srv_no_secret "$ENC" "$TMPD/data"
note "ok"
