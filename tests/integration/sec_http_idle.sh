#!/usr/bin/env bash
# sec_http_idle.sh: idle, half-sent requests cannot lock the API and the UI out (issue 12,
# defect 9).
#
# 300 connections from 127.0.0.1 each send half a request and wait (tests/lib/sec_net.py
# idle). Meanwhile, from another address (127.0.0.2): /healthz answers within 2 s, an API
# call answers, a stream's event stream delivers its first event, and the UI's page loads.
# One address holds at most 64 connections (the rest are closed at once); the half-sent
# ones are closed by the server after its timeout (10 s), after which 127.0.0.1 is served
# again.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"

NET="python3 $(dirname "${BASH_SOURCE[0]}")/../lib/sec_net.py"
unset SLUICE_API_KEY
srv_start srv "$TMPD/data"
port=${SRV_URL##*:}
api_ok 201 POST /api/v1/connections '{"name": "out", "url": "file:///tmp/sl-sec-http"}'
api_ok 201 POST /api/v1/streams "$(jq -nc --arg s "$(pg_url postgres)" '{name: "idle", source: {url: $s}, target: {connection: "out"}}')"

# other PATH [CURL_ARGS…]: a request from 127.0.0.2; prints "STATUS SECONDS".
other() {
  local path=$1
  shift
  curl -s -o "$TMPD/other.body" -w '%{http_code} %{time_total}' --interface 127.0.0.2 --max-time 5 "$@" \
    "$SRV_URL$path" || true
}

$NET idle 300 "$port" 60 >"$TMPD/idle.out" &
ipid=$!
on_exit "kill $ipid 2>/dev/null"
wait_for "grep -q '^opened' '$TMPD/idle.out'" 30 || die "the idle connections did not open"
opened=$(sed -n 's/^opened //p' "$TMPD/idle.out")
note "$opened half-sent connections held from 127.0.0.1"
[ "$opened" -ge 32 ] || die "only $opened idle connections were accepted: the test would prove nothing"

read -r status secs <<<"$(other /healthz)"
assert_eq 200 "$status" "/healthz from 127.0.0.2 during the flood"
awk -v s="$secs" 'BEGIN { exit !(s < 2) }' || die "/healthz took $secs s during the flood"
read -r status _ <<<"$(other /api/v1/streams -H "Authorization: Bearer $SRV_KEY")"
assert_eq 200 "$status" "GET /api/v1/streams from 127.0.0.2 during the flood"
read -r status _ <<<"$(other /)"
assert_eq 200 "$status" "the UI's page from 127.0.0.2 during the flood"
curl -s -N --interface 127.0.0.2 --max-time 3 -H "Authorization: Bearer $SRV_KEY" \
  "$SRV_URL/api/v1/streams/idle/events" >"$TMPD/events" || true
grep -q '^event: state' "$TMPD/events" || die "no state event from the event stream during the flood: $(head -c 300 "$TMPD/events")"
note "/healthz in $secs s; API, UI and events answer"
[ "$opened" -le 64 ] || die "$opened connections from one address were accepted (the cap is 64)"

wait_for "grep -q '^closed' '$TMPD/idle.out'" 40 || die "the server did not close the half-sent connections"
read -r _ closed _ after _ <<<"$(grep '^closed' "$TMPD/idle.out")"
assert_eq "$opened" "$closed" "half-sent connections closed by the server"
note "the server closed all $closed after $after s"
assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$SRV_URL/healthz")" "/healthz from 127.0.0.1 afterwards"
srv_stop
note "ok"
