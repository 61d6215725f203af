#!/usr/bin/env bash
# server_kill.sh: `sluice server` SIGKILLed while a CDC stream runs under a pgbench
# workload, then started again on the same data dir.
#
# Checked: no child of the killed server survives it (its `sluice run` stream child and
# the embedded nats-server die with it: PR_SET_PDEATHSIG); the new server starts the
# stream again by itself (its stored state was running), it resumes from its checkpoints
# and ends with every table equal (checksums) and `sluice verify` equal.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"

SRC=sl_srv_kill_src TGT=sl_srv_kill_tgt NAME=srv-kill SLOT=$(cdc_slot_name srv-kill)
DATA=$TMPD/data
export SLUICE_API_KEY="key-$RANDOM$RANDOM"
SRV_KEY=$SLUICE_API_KEY

cdc_pg_db "$SRC"
cdc_pg_db "$TGT"
cdc_workload_init "$SRC" 1
src_url="postgres://postgres:$PGPASSWORD@$PGHOST:$PGPORT/$SRC"
tgt_url="postgres://postgres:$PGPASSWORD@$PGHOST:$PGPORT/$TGT"
write_cdc_spec "$TMPD/spec.json" "$NAME" "$src_url" "$tgt_url" '{"writers": 1}' "$CDC_WORKLOAD_TABLES"
cdc_track "$TMPD/spec.json" "$SRC"

srv_start srv1 "$DATA"
api_ok 201 POST "/api/v1/streams?start=true" "$(jq -c . "$TMPD/spec.json")"
sid=$(jq -r .id <<<"$API_BODY")
cdc_workload_start wl "$SRC" 150 2
srv_wait_state "$sid" running 30
wait_for "cdc_has_ckpt pg $TGT $NAME" 90 || die "no CDC checkpoint on the target: the initial load did not hand over"
sleep 3

# The server's children (nats-server, the stream's `sluice run`) and their children.
kids=$(cdc_children "$SRV_PID")
grandkids=""
for k in $kids; do grandkids="$grandkids $(cdc_children "$k")"; done
all="$kids $grandkids"
[ "$(wc -w <<<"$all")" -ge 2 ] || die "expected the broker and a stream child under the server, found: $all"
ps -o pid=,args= -p "$(tr -s ' ' ',' <<<"$all" | sed 's/^,//; s/,$//')" | sed 's/^/  child: /' || true
note "SIGKILL the server (pid $SRV_PID) under load"
kill -KILL "$SRV_PID"
alive() { local p n=0; for p in $all; do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done; echo "$n"; }
wait_for "[ \"\$(alive)\" = 0 ]" 10 || die "children of the killed server survive: $(alive) of $all"

sleep 2
note "start the server again on the same data dir"
srv_start srv2 "$DATA"
srv_wait_state "$sid" running 30
sleep 3
cdc_workload_stop wl
cdc_catch_up "$SLOT" "" 90
srv_workload_same "$SRC" "$TGT"
cdc_verify "$TMPD/spec.json"
api_ok 200 POST "/api/v1/streams/$sid/stop"
api_ok 204 DELETE "/api/v1/streams/$sid?drop_slot=true"
assert_eq 0 "$(cdc_slot_count "$SLOT")" "slot $SLOT after delete?drop_slot=true"
srv_stop
note "ok"
