#!/usr/bin/env bash
# sec_names.sh: names are unique under concurrent creates (issue 12, defect 8), on one
# server and across two servers that share one NATS.
#
# - 10 parallel POSTs of one connection name to one server: exactly one 201, the others
#   409 name_taken, one connection stored. The same for a stream name.
# - Two servers on one external NATS (one broker, two data dirs): 10 parallel POSTs of one
#   name split between them: exactly one 201, one record.
# - Renames and deletes keep the names right: after a rename A → B, A is free and B taken;
#   after a delete, the name is free; a PUT to a taken name is 409.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"

N=10
unset SLUICE_API_KEY
export SLUICE_API_KEY="sk_names_$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
SRV_KEY=$SLUICE_API_KEY

# race PATH BODY URL…: POSTs BODY to PATH N times at once, spread over the server URLs;
# prints the statuses sorted and counted ("1 201" "9 409").
race() {
  local path=$1 body=$2 i
  shift 2
  local urls=("$@")
  for i in $(seq 1 "$N"); do
    curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "Authorization: Bearer $SRV_KEY" \
      -H 'Content-Type: application/json' --data-binary "$body" --max-time 60 \
      "${urls[$((i % ${#urls[@]}))]}$path" >"$TMPD/race.$i" &
  done
  wait
  cat "$TMPD"/race.* | sort | uniq -c | awk '{print $1, $2}' | sort -k2
  rm -f "$TMPD"/race.*
}

# count BUCKET NAME: how many records of /api/v1/BUCKET have name NAME.
count() {
  api_ok 200 GET "/api/v1/$1"
  jq --arg n "$2" "[.$1[] | select(.name == \$n)] | length" <<<"$API_BODY"
}

note "one server"
srv_start one "$TMPD/one"
conn='{"name": "dup", "url": "file:///tmp/sl-sec-names"}'
got=$(race /api/v1/connections "$conn" "$SRV_URL")
assert_eq "1 201
$((N - 1)) 409" "$got" "statuses of $N parallel POSTs of one connection name"
assert_eq 1 "$(count connections dup)" "connections named dup"
stream=$(jq -nc --arg s "$(pg_url postgres)" '{name: "dups", source: {url: $s}, target: {connection: "dup"}}')
got=$(race /api/v1/streams "$stream" "$SRV_URL")
assert_eq "1 201
$((N - 1)) 409" "$got" "statuses of $N parallel POSTs of one stream name"
assert_eq 1 "$(count streams dups)" "streams named dups"

note "renames and deletes"
api_ok 201 POST /api/v1/connections '{"name": "a", "url": "file:///tmp/sl-sec-names-a"}'
api_ok 409 POST /api/v1/connections '{"name": "a", "url": "file:///tmp/sl-sec-names-b"}'
api_ok 200 PUT /api/v1/connections/a '{"name": "b", "url": "file:///tmp/sl-sec-names-a"}'
api_ok 201 POST /api/v1/connections '{"name": "a", "url": "file:///tmp/sl-sec-names-c"}'
api_ok 409 POST /api/v1/connections '{"name": "b", "url": "file:///tmp/sl-sec-names-d"}'
api_ok 409 PUT /api/v1/connections/a '{"name": "b", "url": "file:///tmp/sl-sec-names-c"}'
assert_eq name_taken "$(jq -r .error.code <<<"$API_BODY")" "error of a PUT to a taken name"
api_ok 200 GET /api/v1/connections/b
assert_eq "file:///tmp/sl-sec-names-a" "$(jq -r .url <<<"$API_BODY")" "connection b after the rename"
api_ok 204 DELETE /api/v1/connections/b
api_ok 201 POST /api/v1/connections '{"name": "b", "url": "file:///tmp/sl-sec-names-e"}'
api_ok 200 PUT /api/v1/streams/dups "$(jq -nc --arg s "$(pg_url postgres)" '{name: "dups2", source: {url: $s}, target: {connection: "dup"}}')"
api_ok 201 POST /api/v1/streams "$stream"
api_ok 409 POST /api/v1/streams "$(jq -c '.name = "dups2"' <<<"$stream")"
srv_stop

note "two servers on one NATS"
nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nats-server -a 127.0.0.1 -p "$nport" -js -sd "$TMPD/nats" >"$TMPD/nats.log" 2>&1 &
npid=$!
on_exit "kill $npid 2>/dev/null"
wait_for "python3 $(dirname "${BASH_SOURCE[0]}")/../lib/sec_net.py nats-probe $nport" 20 || die "nats-server did not start"
export SLUICE_SECRET_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
srv_start s1 "$TMPD/s1" --nats "nats://127.0.0.1:$nport"
u1=$SRV_URL
srv_start s2 "$TMPD/s2" --nats "nats://127.0.0.1:$nport"
u2=$SRV_URL
got=$(race /api/v1/connections '{"name": "shared", "url": "file:///tmp/sl-sec-names-s"}' "$u1" "$u2")
assert_eq "1 201
$((N - 1)) 409" "$got" "statuses of $N parallel POSTs of one name to two servers"
assert_eq 1 "$(count connections shared)" "connections named shared (server 2)"
SRV_URL=$u1
assert_eq 1 "$(count connections shared)" "connections named shared (server 1)"
got=$(race /api/v1/streams "$(jq -nc --arg s "$(pg_url postgres)" '{name: "shareds", source: {url: $s}, target: {connection: "shared"}}')" "$u1" "$u2")
assert_eq "1 201
$((N - 1)) 409" "$got" "statuses of $N parallel POSTs of one stream name to two servers"
note "ok"
