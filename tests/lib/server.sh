# shellcheck shell=bash
# server.sh: helpers for the tests of `sluice server` (tests/integration/server_*.sh).
# Source it after common.sh (and cdc.sh when needed):
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"
#
# srv_start runs a server on a free port with its own data dir; api calls the REST API with
# curl and keeps every response body in $TMPD/responses.log (the secret tests grep it).
# Servers started here are SIGKILLed at exit (their stream children die with them:
# PR_SET_PDEATHSIG).

tmpdir
SRV_PIDS=()
SRV_KEY=${SRV_KEY:-}

srv_exit() {
  local p
  for p in "${SRV_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
on_exit srv_exit

# Starts `sluice server --listen 127.0.0.1:0 --data-dir DIR [ARGS…]` in the background:
# stdout in $TMPD/LABEL.out, stderr (the server's log) in $TMPD/LABEL.err. Waits for its
# "listening on" line; sets SRV_PID, SRV_URL, SRV_LOG and, when it printed one, SRV_KEY.
srv_start() {
  local label=$1 dir=$2
  shift 2
  "$SLUICE_BIN" server --listen 127.0.0.1:0 --data-dir "$dir" "$@" \
    >"$TMPD/$label.out" 2>"$TMPD/$label.err" &
  SRV_PID=$!
  SRV_PIDS+=("$SRV_PID")
  SRV_LOG=$TMPD/$label.err
  wait_for "grep -q '^listening on' '$TMPD/$label.out' || ! kill -0 $SRV_PID" 60 ||
    die "sluice server did not start within 60 s"
  grep -q '^listening on' "$TMPD/$label.out" || { tail -n 20 "$SRV_LOG" >&2; die "sluice server exited"; }
  SRV_URL=$(sed -n 's/^listening on //p' "$TMPD/$label.out")
  if grep -q '^api key: ' "$TMPD/$label.out"; then
    SRV_KEY=$(sed -n 's/^api key: //p' "$TMPD/$label.out")
  fi
  note "server $label: $SRV_URL (pid $SRV_PID)"
}

# Stops the server SRV_PID with SIGTERM and asserts that it exits 0 and that its log holds
# no sanitizer report (its stream children's output goes to the same log).
srv_stop() {
  local rc=0
  kill -TERM "$SRV_PID"
  wait "$SRV_PID" || rc=$?
  assert_eq 0 "$rc" "exit status of sluice server after SIGTERM"
  if grep -E 'Sanitizer|runtime error' "$SRV_LOG" >&2; then die "a sanitizer report in the server's log"; fi
}

# Calls the API: api METHOD PATH [JSON_BODY]. Sets API_STATUS and API_BODY (never fails by
# itself). KEY overrides the key (KEY=none: no Authorization header).
api() {
  local method=$1 path=$2 body=${3-} key=${KEY:-$SRV_KEY} args
  args=(-s -S -o "$TMPD/api.body" -w '%{http_code}' -X "$method" --max-time 150)
  [ "$key" = none ] || args+=(-H "Authorization: Bearer $key")
  [ -z "$body" ] || args+=(-H 'Content-Type: application/json' --data-binary "$body")
  API_STATUS=$(curl "${args[@]}" "$SRV_URL$path" 2>"$TMPD/api.curlerr") || API_STATUS=000
  API_BODY=$(cat "$TMPD/api.body" 2>/dev/null || true)
  printf '%s %s -> %s %s\n' "$method" "$path" "$API_STATUS" "$API_BODY" >>"$TMPD/responses.log"
}

# api, then asserts the status: api_ok STATUS METHOD PATH [BODY].
api_ok() {
  local want=$1
  shift
  api "$@"
  [ "$API_STATUS" = "$want" ] || die "$1 $2: status $API_STATUS, expected $want: $API_BODY"
}

# Prints the state of stream ID.
srv_state() {
  api GET "/api/v1/streams/$1"
  jq -r .state <<<"$API_BODY"
}

# Waits up to TIMEOUT s until stream ID is in state STATE; fails (showing the stream and
# the end of the server log) otherwise.
srv_wait_state() {
  local id=$1 want=$2 timeout=${3:-60}
  wait_for "[ \"\$(srv_state $id)\" = $want ]" "$timeout" || {
    api GET "/api/v1/streams/$id"
    echo "$API_BODY" >&2
    tail -n 30 "$SRV_LOG" >&2
    die "stream $id is not $want after ${timeout}s"
  }
}

# Fails if the text SECRET appears in any file under DIR, in the logs of the servers (labels
# srv*) or in any API
# response of this test.
srv_no_secret() {
  local secret=$1 dir=$2 hits
  hits=$(grep -r -a -l -F -- "$secret" "$dir" "$TMPD"/srv*.err "$TMPD/responses.log" 2>/dev/null || true)
  [ -z "$hits" ] || die "the secret appears in clear in: $hits"
}

# Asserts that every table of the CDC workload (tests/lib/cdc.sh) is the same in PostgreSQL
# databases SRC and TGT: checksums of each table, and cdc_audit id by id.
srv_workload_same() {
  local src=$1 tgt=$2 t
  for t in "pgbench_accounts aid" "pgbench_branches bid" "pgbench_tellers tid" \
    "pgbench_history tid, bid, aid, delta, mtime" "cdc_items region, item"; do
    cdc_pg_same "$src" "$tgt" "${t%% *}" "${t#* }"
  done
  cdc_audit_same "$src" pg "$tgt"
}
