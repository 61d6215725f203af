#!/usr/bin/env bash
# sec_nats_auth.sh: an external NATS that wants credentials or TLS (issue 12, defect 2,
# and docs/server.md "Broker"). For each, a nats-server of the test's own and a small load
# through it with `sluice run`: with the right settings the target equals the source; with
# none, or wrong ones, the run fails with a clear error that shows no secret.
#
#   token         nats://TOKEN@host:port, also from --nats-url-file FILE
#   NKey          --nats-nkey SEEDFILE (the public key is derived from the seed)
#   TLS           tls://host:port with --nats-ca, --nats-cert, --nats-key (the server
#                 verifies the client's certificate)
#   .creds        --nats-creds FILE against an operator-mode server (operator, account and
#                 user JWTs made by tests/lib/nats_jwt.mjs, as nsc would)
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
tmpdir
NET="python3 $(dirname "${BASH_SOURCE[0]}")/../lib/sec_net.py"
SRC=sl_sec_na_src TGT=sl_sec_na_tgt
for db in $SRC $TGT; do
  pg_newdb "$db"
  on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $db WITH (FORCE)' >/dev/null 2>&1"
done
pg_sql "$SRC" "CREATE TABLE items (id int PRIMARY KEY, v text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 500) g"
write_spec "$TMPD/spec.json" na "$(pg_url "$SRC")" "$(pg_url "$TGT")" '{"write_mode": "truncate_insert"}'

# nats_start NAME CONF_BODY: a nats-server with JetStream and CONF_BODY on a free port;
# sets NPORT.
nats_start() {
  local name=$1 body=$2
  NPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$TMPD/$name"
  printf 'listen: "127.0.0.1:%s"\njetstream { store_dir: "%s/store" }\n%s\n' "$NPORT" "$TMPD/$name" "$body" >"$TMPD/$name/nats.conf"
  nats-server -c "$TMPD/$name/nats.conf" >"$TMPD/$name/log" 2>&1 &
  on_exit "kill $! 2>/dev/null"
  wait_for "(exec 3<>/dev/tcp/127.0.0.1/$NPORT) 2>/dev/null" 20 || die "$name: nats-server did not start: $(tail -3 "$TMPD/$name/log")"
}

# load_ok LABEL ARGS…: `sluice run` of the spec with ARGS succeeds and the target equals
# the source.
load_ok() {
  local label=$1
  shift
  pg_sql "$TGT" "DROP TABLE IF EXISTS items; DROP TABLE IF EXISTS _sluice_checkpoint" >/dev/null
  sl_run "$TMPD/$label" run "$TMPD/spec.json" --data-dir "$TMPD/$label.d" --no-progress "$@"
  [ "$SL_RC" = 0 ] || { sed 's/^/  | /' "$TMPD/$label.err" >&2; die "$label: sluice run exited $SL_RC"; }
  assert_eq "$(pg_table_digest "$SRC" items id)" "$(pg_table_digest "$TGT" items id)" "$label: items on the target"
  note "$label: loaded through the broker, rows equal"
}

# load_refused LABEL SECRET ARGS…: `sluice run` fails with an error about the broker that
# does not show SECRET.
load_refused() {
  local label=$1 secret=$2
  shift 2
  sl_run "$TMPD/$label" run "$TMPD/spec.json" --data-dir "$TMPD/$label.d" --no-progress "$@"
  [ "$SL_RC" != 0 ] || die "$label: sluice run succeeded"
  assert_grep "NATS|broker" "$TMPD/$label.err" "$label: an error about the broker"
  if [ -n "$secret" ] && grep -q -F -- "$secret" "$TMPD/$label.out" "$TMPD/$label.err"; then
    die "$label: the secret is in the output"
  fi
  note "$label: refused: $(grep -m1 '^error' "$TMPD/$label.err")"
}

note "token"
TOKEN="tok$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
nats_start token "authorization { token: \"$TOKEN\" }"
load_ok token --nats "nats://$TOKEN@127.0.0.1:$NPORT"
printf 'nats://%s@127.0.0.1:%s\n' "$TOKEN" "$NPORT" >"$TMPD/url"
chmod 600 "$TMPD/url"
load_ok token_file --nats-url-file "$TMPD/url"
load_refused token_none "" --nats "nats://127.0.0.1:$NPORT"
load_refused token_wrong "$TOKEN" --nats "nats://x$TOKEN@127.0.0.1:$NPORT"

note "NKey"
# The user key pair of the NATS documentation (nkeys README).
printf '%s\n' SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY >"$TMPD/user.nk"
chmod 600 "$TMPD/user.nk"
nats_start nkey 'authorization { users = [ { nkey: "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4" } ] }'
load_ok nkey --nats "nats://127.0.0.1:$NPORT" --nats-nkey "$TMPD/user.nk"
load_refused nkey_none "" --nats "nats://127.0.0.1:$NPORT"

note ".creds (operator mode)"
node "$(dirname "${BASH_SOURCE[0]}")/../lib/nats_jwt.mjs" "$TMPD" >"$TMPD/operator.conf" || die "could not make the JWTs"
nats_start creds "$(cat "$TMPD/operator.conf")"
load_ok creds --nats "nats://127.0.0.1:$NPORT" --nats-creds "$TMPD/user.creds"
load_refused creds_none "" --nats "nats://127.0.0.1:$NPORT"

note "TLS with a client certificate"
cd "$TMPD"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=sluice-test-ca 2>/dev/null
for who in server client; do
  openssl req -newkey rsa:2048 -nodes -keyout "$who.key" -out "$who.csr" -subj "/CN=$who" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=%s\n' "$([ $who = server ] && echo serverAuth || echo clientAuth)" >"$who.ext"
  openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$who.pem" -days 2 -extfile "$who.ext" 2>/dev/null
done
cd - >/dev/null
nats_start tls "tls { cert_file: \"$TMPD/server.pem\", key_file: \"$TMPD/server.key\", ca_file: \"$TMPD/ca.pem\", verify: true }"
load_ok tls --nats "tls://127.0.0.1:$NPORT" --nats-ca "$TMPD/ca.pem" --nats-cert "$TMPD/client.pem" --nats-key "$TMPD/client.key"
load_refused tls_no_cert "" --nats "tls://127.0.0.1:$NPORT" --nats-ca "$TMPD/ca.pem"
load_refused tls_plain "" --nats "nats://127.0.0.1:$NPORT"
note "ok"
