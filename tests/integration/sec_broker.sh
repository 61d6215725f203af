#!/usr/bin/env bash
# sec_broker.sh: who can reach the broker, and where its password may show (issue 12,
# defects 2, 5 and 6).
#
# - The embedded broker: a raw NATS client (tests/lib/sec_net.py) without credentials, or
#   with a wrong password, cannot even subscribe; with DIR/nats/password it can. Its
#   directory and store are 0700, its config and password file 0600; its process has no
#   secret on its command line or in its environment.
# - A CDC stream run by the server: its child's command line and environment
#   (/proc/PID/cmdline, /proc/PID/environ) hold neither the broker's password nor the
#   server's SLUICE_API_KEY, SLUICE_SECRET_KEY or AWS_SECRET_ACCESS_KEY; the stream still
#   streams rows (checked on the target).
# - An external NATS with a password (--nats nats://user:PW@…): PW is not in the server's
#   own /proc/PID/cmdline (overwritten at start), nor in its log, its children's command
#   lines or environments, nor in any API answer; rows flow. A wrong password: the server
#   refuses to start with an error about the credentials that does not show it.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"

NET="python3 $(dirname "${BASH_SOURCE[0]}")/../lib/sec_net.py"
SRC=sl_sec_broker_src TGT=sl_sec_broker_tgt
API_KEY="sk_sec_broker_$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
SECRET_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
AWS_MARK="awsSecret$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
cdc_pg_db "$SRC"
cdc_pg_db "$TGT"
pg_sql "$SRC" "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 50) g"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Fails if file FILE (a /proc entry, NUL-separated) holds any of the strings after it.
assert_not_in_proc() {
  local file=$1 s
  shift
  for s in "$@"; do
    if tr '\0' '\n' <"$file" | grep -q -F -- "$s"; then die "$file holds a secret: $(tr '\0' ' ' <"$file" | head -c 300)"; fi
  done
}

# The pids of server SRV's stream children (`sluice run`), one a line.
stream_children() {
  local p
  for p in $(cdc_children "$1"); do
    tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q ' run ' && echo "$p"
  done
  return 0
}

# Runs a CDC stream NAME from SRC to TGT (connections with the PostgreSQL password) on the
# server at SRV_URL, checks its children against the secrets given, a row inserted on the
# source reaches the target, and deletes the stream (and its slot).
stream_and_check() {
  local name=$1 row=$2 kids=
  shift 2
  api_ok 201 POST /api/v1/connections "$(jq -nc --arg u "$(pg_url "$SRC")" --arg n "$name-src" '{name: $n, url: $u}')"
  api_ok 201 POST /api/v1/connections "$(jq -nc --arg u "$(pg_url "$TGT")" --arg n "$name-tgt" '{name: $n, url: $u}')"
  api_ok 201 POST "/api/v1/streams?start=true" "$(jq -nc --arg n "$name" '{name: $n, mode: "cdc",
    source: {connection: ($n + "-src"), tables: ["t"]}, target: {connection: ($n + "-tgt")},
    options: {write_mode: "truncate_insert"}}')"
  local sid
  sid=$(jq -r .id <<<"$API_BODY")
  srv_wait_state "$sid" running 60
  wait_for "[ -n \"\$(stream_children $SRV_PID)\" ]" 30 || die "no stream child of the server"
  kids=$(stream_children "$SRV_PID")
  local p
  for p in $kids; do
    assert_not_in_proc "/proc/$p/cmdline" "$@"
    assert_not_in_proc "/proc/$p/environ" "$@"
    tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- '--secrets-fd 3' || die "the child is not given its secrets on fd 3"
  done
  note "$name: children $kids: no secret in their command lines or environments"
  pg_sql "$SRC" "INSERT INTO t VALUES ($row, 'after')"
  wait_for "[ \"\$(pg_sql $TGT \"SELECT v FROM t WHERE id = $row\" 2>/dev/null)\" = after ]" 60 ||
    die "$name: the row inserted on the source did not reach the target"
  api_ok 200 POST "/api/v1/streams/$sid/stop"
  api_ok 204 DELETE "/api/v1/streams/$sid?drop_slot=true"
}

note "embedded broker"
export SLUICE_API_KEY=$API_KEY SLUICE_SECRET_KEY=$SECRET_KEY AWS_SECRET_ACCESS_KEY=$AWS_MARK
SRV_KEY=$API_KEY
srv_start emb "$TMPD/emb"
port=$(sed -n 's/^listen: "127.0.0.1:\([0-9]*\)"$/\1/p' "$TMPD/emb/nats/nats-server.conf")
[ -n "$port" ] || die "no listen line in the embedded broker's config"
pw=$(cat "$TMPD/emb/nats/password")
[ ${#pw} = 64 ] || die "the broker password is not 64 hex digits"
out=$($NET nats-probe "$port" || true)
[[ "$out" == denied:*Authorization* ]] || die "a client without credentials reached the embedded broker: $out"
out=$($NET nats-probe "$port" sluice wrong-password || true)
[[ "$out" == denied:*Authorization* ]] || die "a client with a wrong password reached the embedded broker: $out"
assert_eq ok "$($NET nats-probe "$port" sluice "$pw")" "a client with the broker's password"
assert_eq 700 "$(stat -c %a "$TMPD/emb/nats")" "mode of DIR/nats"
assert_eq 700 "$(stat -c %a "$TMPD/emb/nats/store")" "mode of DIR/nats/store"
assert_eq 600 "$(stat -c %a "$TMPD/emb/nats/password")" "mode of DIR/nats/password"
assert_eq 600 "$(stat -c %a "$TMPD/emb/nats/nats-server.conf")" "mode of the broker's config"
for p in $(cdc_children "$SRV_PID"); do
  if tr '\0' ' ' <"/proc/$p/cmdline" | grep -q nats-server; then
    assert_not_in_proc "/proc/$p/cmdline" "$pw"
    assert_not_in_proc "/proc/$p/environ" "$API_KEY" "$SECRET_KEY" "$AWS_MARK"
    note "the broker's process $p: no secret in its command line or environment"
  fi
done
stream_and_check emb 1001 "$pw" "$API_KEY" "$SECRET_KEY" "$AWS_MARK"
grep -q -F -- "$pw" "$SRV_LOG" && die "the broker password is in the server's log"
srv_stop

note "external NATS with a password"
NPW="Np-$(head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n')"
nport=$(free_port)
mkdir -p "$TMPD/nats"
cat >"$TMPD/nats/nats.conf" <<EOF
listen: "127.0.0.1:$nport"
authorization { user: "sec", password: "$NPW" }
jetstream { store_dir: "$TMPD/nats/store" }
EOF
nats-server -c "$TMPD/nats/nats.conf" >"$TMPD/nats/log" 2>&1 &
npid=$!
on_exit "kill $npid 2>/dev/null"
wait_for "$NET nats-probe $nport sec '$NPW'" 20 || die "the test's nats-server did not start"
srv_start ext "$TMPD/ext" --nats "nats://sec:$NPW@127.0.0.1:$nport"
assert_not_in_proc "/proc/$SRV_PID/cmdline" "$NPW"
tr '\0' ' ' <"/proc/$SRV_PID/cmdline" | grep -q -F 'nats://****' ||
  die "the server's --nats URL in ps does not show its password overwritten: $(tr '\0' ' ' <"/proc/$SRV_PID/cmdline")"
stream_and_check ext 1002 "$NPW" "$API_KEY" "$SECRET_KEY" "$AWS_MARK"
srv_stop
srv_no_secret "$NPW" "$TMPD/ext"
grep -q -F -- "$NPW" "$SRV_LOG" "$TMPD/ext.out" && die "the broker password is in the server's output"

note "external NATS with a wrong password"
sl_run "$TMPD/bad" server --listen 127.0.0.1:0 --data-dir "$TMPD/bad" --nats "nats://sec:wrong-$NPW@127.0.0.1:$nport" &
bad=$!
wait_for "! kill -0 $bad" 60 || { kill "$bad"; die "the server with a wrong broker password neither started nor stopped"; }
wait "$bad" || true
SL_RC=$(grep -q '^listening on' "$TMPD/bad.out" && echo 0 || echo 1)
[ "$SL_RC" != 0 ] || die "the server started with a wrong broker password"
assert_grep "could not connect" "$TMPD/bad.err" "error of a wrong broker password"
assert_grep "credentials|authoriz" "$TMPD/bad.err" "the error names the credentials"
grep -q -F -- "$NPW" "$TMPD/bad.err" && die "the error shows the broker password: $(cat "$TMPD/bad.err")"
note "ok"
