#!/usr/bin/env bash
# keys.sh: API keys with roles (docs/server.md "API keys", docs/security.md "Roles").
#
# - `sluice key add` on a running server: a read-only key and an admin key, each printed
#   once, stored only as a hash (the key is in no file of the data dir).
# - Driven by the OpenAPI document, so a new route is covered at once: the read-only key
#   gets 200 on every GET (also /metrics and a stream's event stream) and 403 "forbidden"
#   on every other operation, and nothing changed (connections and streams compared
#   before and after). The admin key creates, starts, pauses and deletes.
# - The server's own key (api-key.hash) still works as admin; GET /whoami names each key.
# - `sluice key list` shows names, roles and, once used, "last used".
# - The CLI with a read-only key: reads work, `stream start` exits 4 with the 403's message.
# - `sluice key rm`: the next request with that key is refused, without a restart.
# - With the server stopped, `sluice key add` still works; the restarted server (with
#   SLUICE_API_KEY now) accepts the named keys at once and the environment's key as admin.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"

unset SLUICE_API_KEY SLUICE_URL SLUICE_CA
DATA=$TMPD/data
DB=sl_keys_src
pg_newdb "$DB"
pg_sql "$DB" "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, 'b')"

srv_start srv "$DATA"
[ -n "$SRV_KEY" ] || die "no server key printed"
SERVER_KEY=$SRV_KEY

# key_add NAME ROLE: prints the new key
key_add() {
  "$SLUICE_BIN" key add "$1" --role "$2" --data-dir "$DATA" >"$TMPD/add.out" 2>"$TMPD/add.err" ||
    die "sluice key add $1: $(cat "$TMPD/add.err")"
  sed -n 's/^api key: //p' "$TMPD/add.out"
}
READ=$(key_add viewer read)
ADMIN=$(key_add ops admin)
[ -n "$READ" ] && [ -n "$ADMIN" ] || die "sluice key add printed no key"
[ "$READ" != "$ADMIN" ] || die "two keys are the same"
rc=0
"$SLUICE_BIN" key add viewer --role admin --data-dir "$DATA" >/dev/null 2>"$TMPD/dup.err" || rc=$?
assert_eq 1 "$rc" "exit status of adding a name that exists"
grep -q 'a key named "viewer" exists' "$TMPD/dup.err" || die "$(cat "$TMPD/dup.err")"
rc=0
"$SLUICE_BIN" key add x --role owner --data-dir "$DATA" >/dev/null 2>"$TMPD/role.err" || rc=$?
assert_eq 2 "$rc" "exit status of an unknown role"

KEY=$READ api_ok 200 GET /api/v1/whoami
assert_eq '{"name":"viewer","role":"read"}' "$(jq -c . <<<"$API_BODY")" "whoami of the read-only key"
KEY=$ADMIN api_ok 200 GET /api/v1/whoami
assert_eq '{"name":"ops","role":"admin"}' "$(jq -c . <<<"$API_BODY")" "whoami of the admin key"
KEY=$SERVER_KEY api_ok 200 GET /api/v1/whoami
assert_eq '{"name":null,"role":"admin"}' "$(jq -c . <<<"$API_BODY")" "whoami of the server's key"

note "the admin key sets things up"
KEY=$ADMIN api_ok 201 POST /api/v1/connections "$(jq -nc --arg u "$(pg_url "$DB")" '{name: "src", url: $u}')"
cid=$(jq -r .id <<<"$API_BODY")
KEY=$ADMIN api_ok 201 POST /api/v1/connections '{"name": "out", "url": "file://'"$TMPD"'/out"}'
KEY=$ADMIN api_ok 201 POST /api/v1/streams '{"name": "k", "mode": "load", "source": {"connection": "src", "tables": ["t"]}, "target": {"connection": "out"}}'
sid=$(jq -r .id <<<"$API_BODY")
# a verify job, so that the GET of its report has one to show
KEY=$ADMIN api_ok 202 POST "/api/v1/streams/$sid/verify"

snapshot() { # what the read-only key must not change
  KEY=$ADMIN api_ok 200 GET /api/v1/connections
  jq -c '[.connections[] | {id, name, url, updated_at}]' <<<"$API_BODY"
  KEY=$ADMIN api_ok 200 GET /api/v1/streams
  jq -c '[.streams[] | {id, name, state, spec, updated_at}]' <<<"$API_BODY"
}
before=$(snapshot)

note "the read-only key, route by route from the OpenAPI document"
KEY=$READ api_ok 200 GET /api/v1/openapi.json
routes=$(jq -r '.paths | to_entries[] | .key as $p | .value | to_entries[] | "\(.key | ascii_upcase) \($p) \(.value["x-sluice-role"] // "open")"' <<<"$API_BODY")
[ "$(wc -l <<<"$routes")" -ge 20 ] || die "the OpenAPI document lists only $(wc -l <<<"$routes") routes"
gets=0 denied=0
while read -r method path role; do
  case "$path" in
  /api/v1/connections*) p=${path//\{id\}/$cid} ;;
  *) p=${path//\{id\}/$sid} ;;
  esac
  p=${p//\{table\}/no_such_table} # denied before the table is looked up

  [[ "$p" != *"{"* ]] || die "$method $path: a path parameter this test does not know; teach it one"
  if [ "$method" = GET ]; then
    [ "$role" != admin ] || die "GET $path needs admin: GETs are for read-only keys too"
    if [ "$path" = "/api/v1/streams/{id}/events" ]; then
      status=$(curl -s -o "$TMPD/ev" -w '%{http_code}' --max-time 2 -H "Authorization: Bearer $READ" "$SRV_URL$p" || true)
      grep -q '^event: state' "$TMPD/ev" || die "no state event for the read-only key"
    else
      KEY=$READ api GET "$p"
      status=$API_STATUS
    fi
    assert_eq 200 "$status" "GET $p with the read-only key: $API_BODY"
    gets=$((gets + 1))
  else
    body=""
    [ "$method" = DELETE ] || body='{}'
    KEY=$READ api "$method" "$p" "$body"
    assert_eq 403 "$API_STATUS" "$method $p with the read-only key: $API_BODY"
    assert_eq forbidden "$(jq -r .error.code <<<"$API_BODY")" "$method $p error code"
    jq -e '.error.message | test("read-only")' <<<"$API_BODY" >/dev/null || die "$method $p: $API_BODY"
    jq -e '.error.hint | test("--role admin")' <<<"$API_BODY" >/dev/null || die "$method $p: no hint: $API_BODY"
    denied=$((denied + 1))
  fi
done <<<"$routes"
KEY=$READ api_ok 200 GET /metrics
grep -q '^# TYPE' "$TMPD/api.body" || die "/metrics for the read-only key is not Prometheus text"
assert_eq "$before" "$(snapshot)" "connections and streams after the read-only key's attempts"
note "read-only key: $gets GETs answered, $denied other operations refused with 403"
[ "$denied" -ge 10 ] || die "only $denied mutating routes: the sweep proved little"

note "the CLI with a read-only key"
SLUICE_URL=$SRV_URL SLUICE_API_KEY=$READ "$SLUICE_BIN" stream list --json >"$TMPD/list.json" ||
  die "sluice stream list with the read-only key"
assert_eq k "$(jq -r '.streams[].name' "$TMPD/list.json")" "streams the CLI lists"
rc=0
SLUICE_URL=$SRV_URL SLUICE_API_KEY=$READ "$SLUICE_BIN" stream start k >/dev/null 2>"$TMPD/start.err" || rc=$?
assert_eq 4 "$rc" "exit status of sluice stream start with the read-only key"
grep -q 'read-only' "$TMPD/start.err" || die "$(cat "$TMPD/start.err")"
assert_eq created "$(KEY=$ADMIN srv_state "$sid")" "state of the stream the read-only key tried to start"

note "the admin key and the server's key change things"
KEY=$ADMIN api_ok 200 POST "/api/v1/streams/$sid/start"
KEY=$ADMIN srv_wait_state "$sid" completed 120
KEY=$SERVER_KEY api_ok 201 POST /api/v1/connections '{"name": "spare", "url": "file://'"$TMPD"'/spare"}'
KEY=$ADMIN api_ok 204 DELETE /api/v1/connections/spare
KEY=$ADMIN api_ok 204 DELETE "/api/v1/streams/$sid"

note "sluice key list"
wait_for "\"$SLUICE_BIN\" key list --json --data-dir '$DATA' | jq -e '.[] | select(.name == \"viewer\") | .last_used_at' >/dev/null" 15 ||
  die "no last_used_at for the used key: $("$SLUICE_BIN" key list --json --data-dir "$DATA")"
"$SLUICE_BIN" key list --json --data-dir "$DATA" >"$TMPD/keys.json"
assert_eq "viewer:read ops:admin" "$(jq -r '[.[] | "\(.name):\(.role)"] | join(" ")' "$TMPD/keys.json")" "keys listed"
jq -e 'all(.[]; .created_at and (has("hash") | not))' "$TMPD/keys.json" >/dev/null || die "list: $(cat "$TMPD/keys.json")"
"$SLUICE_BIN" key list --data-dir "$DATA" >"$TMPD/keys.txt"
grep -Eq '^viewer +read +20[0-9-]+T' "$TMPD/keys.txt" || die "the table: $(cat "$TMPD/keys.txt")"
head -n 1 "$TMPD/keys.txt" | grep -q 'LAST USED' || die "the table has no LAST USED column"

note "a removed key is refused at its next request"
"$SLUICE_BIN" key rm viewer --data-dir "$DATA" 2>/dev/null || die "sluice key rm viewer"
KEY=$READ api GET /api/v1/streams
assert_eq 401 "$API_STATUS" "the removed key's next request"
KEY=$ADMIN api_ok 200 GET /api/v1/streams
rc=0
"$SLUICE_BIN" key rm viewer --data-dir "$DATA" 2>"$TMPD/rm.err" || rc=$?
assert_eq 1 "$rc" "exit status of removing a missing key"
grep -q 'no key named "viewer"' "$TMPD/rm.err" || die "$(cat "$TMPD/rm.err")"
srv_stop

note "with the server stopped"
LATE=$(key_add late read)
[ -n "$LATE" ] || die "sluice key add printed no key with the server stopped"
grep -r -a -l -F -e "$LATE" -e "$ADMIN" -e "$READ" "$DATA" && die "a key is stored in clear in the data dir"
ENV_KEY="env-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
SLUICE_API_KEY=$ENV_KEY srv_start srv2 "$DATA"
KEY=$LATE api_ok 200 GET /api/v1/whoami
assert_eq read "$(jq -r .role <<<"$API_BODY")" "role of the key added while the server was stopped"
KEY=$ADMIN api_ok 200 GET /api/v1/streams
KEY=$ENV_KEY api_ok 201 POST /api/v1/connections '{"name": "env", "url": "file://'"$TMPD"'/env"}'
KEY=$ENV_KEY api_ok 200 GET /api/v1/whoami
assert_eq admin "$(jq -r .role <<<"$API_BODY")" "role of SLUICE_API_KEY"
KEY=$READ api GET /api/v1/streams
assert_eq 401 "$API_STATUS" "the removed key after a restart"
srv_stop
note "ok"
