#!/usr/bin/env bash
# tls.sh: `sluice server --tls-cert FILE --tls-key FILE` (docs/server.md "HTTPS").
#
# The test makes its own CA with openssl, a server certificate it signs (for 127.0.0.1),
# and a second CA that signs nothing of the server's. Then:
# - a key file of mode 0644 stops the server with the chmod hint; 0600 starts it;
# - over https with the CA: /healthz, the API (a connection and a stream made and read
#   back), a stream's event stream (its first event), the web UI's page;
# - the CLI over https with --ca and with SLUICE_CA; with the wrong CA, and with none (the
#   system's CAs), it is refused (exit 3, a hint naming --ca), as is curl;
# - a plain-HTTP client on the TLS port gets no HTTP answer (and the CLI says to use
#   https://), and the server serves on;
# - under TLS the per-address cap (64) and the idle timeout (10 s) hold: 300 connections
#   from 127.0.0.1 that finish the handshake and send half a request; meanwhile
#   127.0.0.2 is served; the server closes the half-sent ones, and one that never starts
#   its handshake;
# - reload: a certificate whose key is not the one in place is refused (the old one is
#   still served), then the matching key makes the new pair be served, without a restart;
#   SIGHUP is a reload, not a stop.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"

NET="python3 $(dirname "${BASH_SOURCE[0]}")/../lib/sec_net.py"
unset SLUICE_API_KEY SLUICE_URL SLUICE_CA
command -v openssl >/dev/null || die "openssl is not installed"
P=$TMPD/pki
mkdir -p "$P"

# ca NAME: a self-signed CA in $P/NAME.crt / NAME.key
ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=sluice test $1" \
    -keyout "$P/$1.key" -out "$P/$1.crt" 2>/dev/null || die "openssl could not make CA $1"
}
# leaf NAME SERIAL [KEY]: a certificate for 127.0.0.1 and localhost signed by the CA "ca",
# with a new key (or KEY's), in $P/NAME.crt / NAME.key
leaf() {
  local name=$1 serial=$2 key=${3:-}
  if [ -z "$key" ]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/$name.key" 2>/dev/null
    key=$P/$name.key
  fi
  openssl req -new -key "$key" -subj "/CN=localhost" -out "$P/$name.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$P/ext"
  openssl x509 -req -in "$P/$name.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -set_serial "$serial" -days 2 \
    -extfile "$P/ext" -out "$P/$name.crt" 2>/dev/null || die "openssl could not sign $name"
}
ca ca
ca other
leaf srv 0x1001
# the certificate the server presents on 127.0.0.1:PORT, by serial
served_serial() {
  openssl s_client -connect "127.0.0.1:$1" -CAfile "$P/ca.crt" </dev/null 2>/dev/null |
    openssl x509 -noout -serial 2>/dev/null | sed 's/^serial=//'
}

note "a key file others may read is refused"
cp "$P/srv.key" "$TMPD/tls.key"
cp "$P/srv.crt" "$TMPD/tls.crt"
chmod 644 "$TMPD/tls.key"
rc=0
"$SLUICE_BIN" server --listen 127.0.0.1:0 --data-dir "$TMPD/data" --tls-cert "$TMPD/tls.crt" \
  --tls-key "$TMPD/tls.key" >"$TMPD/open.out" 2>"$TMPD/open.err" || rc=$?
assert_eq 1 "$rc" "exit status with a 0644 key"
grep -q 'is open to other users' "$TMPD/open.err" || die "no clear error: $(cat "$TMPD/open.err")"
grep -q "chmod 600 $TMPD/tls.key" "$TMPD/open.err" || die "no chmod hint: $(cat "$TMPD/open.err")"
grep -q '0644' "$TMPD/open.err" || die "the mode is not named: $(cat "$TMPD/open.err")"
grep -q '^listening' "$TMPD/open.out" && die "the server listened with a 0644 key"
chmod 600 "$TMPD/tls.key"

note "https"
srv_start srv "$TMPD/data" --tls-cert "$TMPD/tls.crt" --tls-key "$TMPD/tls.key"
[[ "$SRV_URL" == https://127.0.0.1:* ]] || die "the server does not announce https: $SRV_URL"
port=${SRV_URL##*:}
export CURL_CA_BUNDLE=$P/ca.crt # curl (and tests/lib/server.sh's api) trust the test's CA
KEY=none api_ok 200 GET /healthz
api_ok 201 POST /api/v1/connections '{"name": "out", "url": "file:///tmp/sl-tls-test"}'
api_ok 201 POST /api/v1/streams "$(jq -nc --arg s "$(pg_url postgres)" '{name: "tls", source: {url: $s}, target: {connection: "out"}}')"
api_ok 200 GET /api/v1/streams/tls
assert_eq "tls created" "$(jq -r '"\(.name) \(.state)"' <<<"$API_BODY")" "the stream read back over https"
curl -s -N --max-time 3 -H "Authorization: Bearer $SRV_KEY" "$SRV_URL/api/v1/streams/tls/events" >"$TMPD/events" || true
grep -q '^event: state' "$TMPD/events" || die "no state event over https: $(head -c 300 "$TMPD/events")"
curl -fsS "$SRV_URL/" | grep -q '<script type="module" src="/js/app.js">' || die "the UI's page over https"
assert_eq "$(served_serial "$port")" 1001 "serial of the certificate served"

note "the CLI over https"
cli() { SLUICE_URL=$SRV_URL SLUICE_API_KEY=$SRV_KEY "$SLUICE_BIN" "$@"; }
cli connection list --ca "$P/ca.crt" --json >"$TMPD/cli.json" || die "sluice connection list --ca failed"
assert_eq out "$(jq -r '.connections[].name' "$TMPD/cli.json")" "connections listed by the CLI over https"
SLUICE_CA=$P/ca.crt cli stream show tls --json >"$TMPD/cli2.json" || die "sluice stream show with SLUICE_CA failed"
assert_eq tls "$(jq -r .name "$TMPD/cli2.json")" "stream shown by the CLI with SLUICE_CA"
for ca in "$P/other.crt" ""; do
  rc=0
  if [ -n "$ca" ]; then
    cli connection list --ca "$ca" >/dev/null 2>"$TMPD/cli.err" || rc=$?
  else
    env -u CURL_CA_BUNDLE SLUICE_URL="$SRV_URL" SLUICE_API_KEY="$SRV_KEY" "$SLUICE_BIN" connection list \
      >/dev/null 2>"$TMPD/cli.err" || rc=$?
  fi
  assert_eq 3 "$rc" "exit status of the CLI with CA '${ca:-(system)}'"
  grep -q -- '--ca FILE' "$TMPD/cli.err" || die "no --ca hint: $(cat "$TMPD/cli.err")"
done
rc=0
curl -s -o /dev/null --cacert "$P/other.crt" "$SRV_URL/healthz" || rc=$?
assert_eq 60 "$rc" "curl's exit status with the wrong CA (peer verification failed)"

note "plain http on the TLS port"
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/healthz" || true)
assert_eq 000 "$status" "an HTTP answer to a plain-HTTP request on the TLS port"
rc=0
SLUICE_URL=http://127.0.0.1:$port SLUICE_API_KEY=$SRV_KEY "$SLUICE_BIN" connection list >/dev/null 2>"$TMPD/plain.err" || rc=$?
assert_eq 3 "$rc" "exit status of the CLI with http:// to the TLS port"
grep -q 'https://' "$TMPD/plain.err" || die "no hint to use https://: $(cat "$TMPD/plain.err")"
KEY=none api_ok 200 GET /healthz

note "per-address cap and idle timeout under TLS"
other() { # PATH [CURL_ARGS…]: from 127.0.0.2, prints "STATUS SECONDS"
  local path=$1
  shift
  curl -s -o "$TMPD/other.body" -w '%{http_code} %{time_total}' --interface 127.0.0.2 --max-time 5 "$@" \
    "$SRV_URL$path" || true
}
# and one connection that never starts its handshake: the same timeout closes it
python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(40)
t = time.time()
try:
    s.recv(64)
except OSError:
    pass
print("silent closed after %.0f s" % (time.time() - t))' "$port" >"$TMPD/silent.out" &
$NET idle 300 "$port" 60 "$P/ca.crt" >"$TMPD/idle.out" &
ipid=$!
on_exit "kill $ipid 2>/dev/null"
wait_for "grep -q '^opened' '$TMPD/idle.out'" 60 || die "the idle TLS connections did not open"
opened=$(sed -n 's/^opened //p' "$TMPD/idle.out")
note "$opened half-sent TLS connections held from 127.0.0.1"
[ "$opened" -ge 32 ] || die "only $opened idle TLS connections were accepted: the test would prove nothing"
[ "$opened" -le 64 ] || die "$opened connections from one address were accepted (the cap is 64)"
read -r status secs <<<"$(other /healthz)"
assert_eq 200 "$status" "/healthz over https from 127.0.0.2 during the flood"
awk -v s="$secs" 'BEGIN { exit !(s < 2) }' || die "/healthz took $secs s during the flood"
read -r status _ <<<"$(other /api/v1/streams -H "Authorization: Bearer $SRV_KEY")"
assert_eq 200 "$status" "GET /api/v1/streams over https from 127.0.0.2 during the flood"
curl -s -N --interface 127.0.0.2 --max-time 3 -H "Authorization: Bearer $SRV_KEY" \
  "$SRV_URL/api/v1/streams/tls/events" >"$TMPD/events2" || true
grep -q '^event: state' "$TMPD/events2" || die "no state event during the flood: $(head -c 300 "$TMPD/events2")"
wait_for "grep -q '^closed' '$TMPD/idle.out'" 40 || die "the server did not close the half-sent TLS connections"
read -r _ closed _ after _ <<<"$(grep '^closed' "$TMPD/idle.out")"
assert_eq "$opened" "$closed" "half-sent TLS connections closed by the server"
note "the server closed all $closed after $after s"
wait_for "grep -q '^silent closed' '$TMPD/silent.out'" 20 || die "a connection without a handshake was not closed"
secs=$(sed -n 's/^silent closed after \([0-9]*\) s/\1/p' "$TMPD/silent.out")
[ "$secs" -le 20 ] || die "a connection without a handshake was closed only after $secs s"
KEY=none api_ok 200 GET /healthz

note "reload"
leaf new 0x1002 # a new key too
cp "$P/new.crt" "$TMPD/tls.crt.tmp" && mv "$TMPD/tls.crt.tmp" "$TMPD/tls.crt" # its key is not in place yet
wait_for "grep -q 'keeping the certificate in use' '$SRV_LOG'" 15 || die "the mismatched pair was not refused in the log"
assert_eq 1001 "$(served_serial "$port")" "serial served while the new certificate lacks its key"
install -m 600 "$P/new.key" "$TMPD/tls.key.tmp" && mv "$TMPD/tls.key.tmp" "$TMPD/tls.key"
wait_for "[ \"\$(served_serial $port)\" = 1002 ]" 15 || die "the new pair is not served: $(served_serial "$port")"
api_ok 200 GET /api/v1/streams/tls
kill -HUP "$SRV_PID"
wait_for "grep -q 'certificate and key are unchanged' '$SRV_LOG'" 10 || die "SIGHUP did not reload"
kill -0 "$SRV_PID" || die "SIGHUP stopped the server"
assert_eq 1002 "$(served_serial "$port")" "serial served after SIGHUP"
srv_stop
note "ok"
