#!/usr/bin/env bash
# server_lifecycle.sh: the whole life of a CDC stream through `sluice server`'s REST API
# (raw HTTP with curl), PostgreSQL -> PostgreSQL, with passwords on both connections.
#
# create connections (one password separate, one inside the URL) and a CDC stream; start;
# the initial load hands over and changes flow under a pgbench workload; pause: the target
# does not change for 4 s while the source does (table checksums), and the slot stays;
# resume: it catches up, every table equal and `sluice verify` equal; stop; delete with
# drop_slot=true: the replication slot and the publication are gone, and so is the stream.
# Meanwhile a second stream (a load) runs at the same time and completes, rows equal.
# The password never appears in the data dir, the server's log or a response.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"

SRC=sl_srv_lc_src TGT=sl_srv_lc_tgt LSRC=sl_srv_lc_lsrc LTGT=sl_srv_lc_ltgt
NAME=srv-lc SLOT=$(cdc_slot_name srv-lc)
ROLE=sl_srv_lc PW="Pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
DATA=$TMPD/data

pg_sql postgres "DROP ROLE IF EXISTS $ROLE; CREATE ROLE $ROLE LOGIN SUPERUSER PASSWORD '$PW'"
on_exit "pg_sql postgres 'DROP ROLE IF EXISTS $ROLE' >/dev/null 2>&1"
cdc_pg_db "$SRC"
cdc_pg_db "$TGT"
cdc_pg_db "$LSRC"
cdc_pg_db "$LTGT"
cdc_workload_init "$SRC" 1
pg_sql "$LSRC" "CREATE TABLE items (id int PRIMARY KEY, v text);
  INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 30000) g"

srv_start srv "$DATA"
pgurl() { echo "postgres://$ROLE@$PGHOST:$PGPORT/$1"; }

note "connections"
api_ok 201 POST /api/v1/connections "$(jq -nc --arg u "$(pgurl "$SRC")" --arg p "$PW" \
  '{name: "lc-src", url: $u, password: $p}')"
src_id=$(jq -r .id <<<"$API_BODY")
api_ok 201 POST /api/v1/connections "$(jq -nc --arg u "postgres://$ROLE:$PW@$PGHOST:$PGPORT/$TGT" \
  '{name: "lc-tgt", url: $u}')"
assert_eq "postgres://$ROLE:****@$PGHOST:$PGPORT/$TGT" "$(jq -r .url <<<"$API_BODY")" "masked URL"
api_ok 200 POST "/api/v1/connections/$src_id/test" '{"mode": "cdc", "role": "source"}'
assert_eq true "$(jq -r .ok <<<"$API_BODY")" "connection test of lc-src: $API_BODY"
assert_eq "connect wal_level replication_privilege max_replication_slots max_wal_senders" \
  "$(jq -r '[.checks[].name] | join(" ")' <<<"$API_BODY")" "checks of a PostgreSQL cdc source"
api_ok 200 GET /api/v1/connections/lc-src/tables
jq -e '.tables[] | select(.name == "cdc_audit" and .has_primary_key)' <<<"$API_BODY" >/dev/null ||
  die "tables of lc-src lack cdc_audit: $API_BODY"

note "streams"
api_ok 201 POST /api/v1/streams "$(jq -nc --argjson t "$CDC_WORKLOAD_TABLES" '{name: "srv-lc",
  mode: "cdc", source: {connection: "lc-src", tables: $t}, target: {connection: "lc-tgt"},
  options: {writers: 1, batch_rows: 2000}}')"
sid=$(jq -r .id <<<"$API_BODY")
assert_eq created "$(jq -r .state <<<"$API_BODY")" "state after create"
write_cdc_spec "$TMPD/spec.json" "$NAME" "postgres://$ROLE:$PW@$PGHOST:$PGPORT/$SRC" \
  "postgres://$ROLE:$PW@$PGHOST:$PGPORT/$TGT" '{}' "$CDC_WORKLOAD_TABLES"
cdc_track "$TMPD/spec.json" "$SRC"

cdc_workload_start wl "$SRC" 150 2
api_ok 200 POST "/api/v1/streams/$sid/start"
# The load runs beside it: a second stream, with inline URLs (one with a password).
api_ok 201 POST "/api/v1/streams?start=true" "$(jq -nc --arg s "$(pgurl "$LSRC")" --arg p "$PW" \
  --arg t "postgres://$ROLE:$PW@$PGHOST:$PGPORT/$LTGT" \
  '{name: "srv-lc-load", source: {url: $s, password: $p}, target: {url: $t}}')"
lid=$(jq -r .id <<<"$API_BODY")
srv_wait_state "$sid" running 30
wait_for "cdc_has_ckpt pg $TGT $NAME" 90 || die "no CDC checkpoint on the target: the initial load did not hand over"
assert_eq 1 "$(cdc_slot_count "$SLOT")" "slot $SLOT while running"
srv_wait_state "$lid" completed 90
assert_eq "$(cdc_pg_digest "$LSRC" items id)" "$(cdc_pg_digest "$LTGT" items id)" "items of the load stream"
sleep 3
cdc_catch_up "$SLOT" "" 60
[ "$(pg_sql "$TGT" "SELECT count(*) FROM cdc_audit")" -gt 0 ] || die "no change reached the target"

note "pause under load"
t0=$(now_ms)
api_ok 200 POST "/api/v1/streams/$sid/pause"
note "paused in $(($(now_ms) - t0)) ms"
assert_eq paused "$(jq -r .state <<<"$API_BODY")" "state after pause"
t1=$(cdc_pg_digest "$TGT" pgbench_tellers tid)/$(cdc_pg_digest "$TGT" cdc_audit id)
s1=$(pg_sql "$SRC" "SELECT count(*) FROM cdc_audit")
sleep 4
t2=$(cdc_pg_digest "$TGT" pgbench_tellers tid)/$(cdc_pg_digest "$TGT" cdc_audit id)
s2=$(pg_sql "$SRC" "SELECT count(*) FROM cdc_audit")
[ "$s2" -gt "$s1" ] || die "the source did not change while paused: the test proved nothing"
assert_eq "$t1" "$t2" "the target changed while paused"
assert_eq 1 "$(cdc_slot_count "$SLOT")" "slot $SLOT kept while paused"
api_ok 409 POST "/api/v1/streams/$sid/pause"
assert_eq invalid_state "$(jq -r .error.code <<<"$API_BODY")" "pause of a paused stream"

note "resume"
api_ok 200 POST "/api/v1/streams/$sid/resume"
srv_wait_state "$sid" running 30
sleep 2
cdc_workload_stop wl
cdc_catch_up "$SLOT" "" 90
srv_workload_same "$SRC" "$TGT"
cdc_verify "$TMPD/spec.json"

note "stop and delete"
api_ok 409 DELETE "/api/v1/streams/$sid"
api_ok 200 POST "/api/v1/streams/$sid/stop"
assert_eq stopped "$(jq -r .state <<<"$API_BODY")" "state after stop"
api_ok 409 DELETE /api/v1/connections/lc-src
assert_eq in_use "$(jq -r .error.code <<<"$API_BODY")" "deleting a connection a stream uses"
api_ok 204 DELETE "/api/v1/streams/$sid?drop_slot=true"
assert_eq 0 "$(cdc_slot_count "$SLOT")" "slot $SLOT after delete?drop_slot=true"
assert_eq 0 "$(pg_sql "$SRC" "SELECT count(*) FROM pg_publication WHERE pubname = '$SLOT'")" \
  "publication $SLOT after delete?drop_slot=true"
api_ok 404 GET "/api/v1/streams/$sid"
[ ! -e "$DATA/streams/$sid" ] || die "the stream's local dir is left"
api_ok 204 DELETE "/api/v1/streams/$lid"
api_ok 204 DELETE /api/v1/connections/lc-src

srv_no_secret "$PW" "$DATA"
srv_stop
note "ok"
