#!/usr/bin/env bash
# sec_pause_starting.sh: pause and stop are accepted while a stream is starting (issue 13:
# a pause in a stream's first second was refused with 409 while rows already flowed).
#
# - A load created with ?start=true and paused at once (while `starting`): 200, `paused`,
#   and the server's log shows starting → stopping → paused with no `running` between.
#   Resumed, it completes and the target equals the source.
# - The same with stop: `stopped`; started again, it completes, rows equal.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"
SRC=sl_sec_ps_src TGT1=sl_sec_ps_tgt1 TGT2=sl_sec_ps_tgt2
for db in $SRC $TGT1 $TGT2; do
  pg_newdb "$db"
  on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $db WITH (FORCE)' >/dev/null 2>&1"
done
pg_sql "$SRC" "CREATE TABLE items (id int PRIMARY KEY, v text);
  INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 200000) g"
unset SLUICE_API_KEY
srv_start srv "$TMPD/data"

# halt_while_starting NAME TGT ACTION STATE RESTART: creates and starts a load into TGT,
# ACTIONs it at once, expects STATE, then RESTARTs it (resume or start) to completion.
halt_while_starting() {
  local name=$1 tgt=$2 action=$3 state=$4 restart=$5 id
  api_ok 201 POST "/api/v1/streams?start=true" "$(jq -nc --arg n "$name" --arg s "$(pg_url "$SRC")" \
    --arg t "$(pg_url "$tgt")" '{name: $n, source: {url: $s}, target: {url: $t}, options: {batch_rows: 1000}}')"
  id=$(jq -r .id <<<"$API_BODY")
  assert_eq starting "$(jq -r .state <<<"$API_BODY")" "$name: state after create with start"
  api_ok 200 POST "/api/v1/streams/$id/$action"
  assert_eq "$state" "$(jq -r .state <<<"$API_BODY")" "$name: state after $action while starting"
  assert_eq "starting stopping $state" \
    "$(sed -n "s/.*INFO  stream $name: \([a-z]*\)$/\1/p" "$SRV_LOG" | tr '\n' ' ' | sed 's/ $//')" \
    "$name: the states the server went through"
  api_ok 200 POST "/api/v1/streams/$id/$restart"
  srv_wait_state "$id" completed 120
  assert_eq "$(pg_table_digest "$SRC" items id)" "$(pg_table_digest "$tgt" items id)" "$name: items on the target"
  note "$name: $action while starting: $state; after $restart: completed, rows equal"
}
halt_while_starting ps-pause "$TGT1" pause paused resume
halt_while_starting ps-stop "$TGT2" stop stopped start
srv_stop
note "ok"
