#!/usr/bin/env bash
# cluster.sh: sluice on a NATS JetStream cluster (docs/cluster.md, issue 17): three
# nats-server nodes (routes and clients with passwords, streams and KV buckets with three
# replicas), two sluice servers A and B (one secret key, one API key) and one worker W,
# all on loopback ports; A reaches NATS only through a proxy that can cut its links. One
# cluster for every phase:
#
#  1. failover: a CDC stream under pgbench, started through A, runs on A; A is SIGKILLed
#     (its children die with it); B takes the stream over from its checkpoints within
#     30 s (B's node in the stream's record, state running, the target moving again).
#  2. a NATS node is lost: node 3 is SIGKILLed; the stream keeps applying changes.
#  3. partition: A is started again; B is SIGKILLed, so A takes the stream over; B is
#     started again; A's links to NATS are cut: A stops the stream's process (its lease
#     cannot be renewed) and B takes it over; the links heal: A does not run or write it.
#  4. a zombie: the owner B and its stream's process are SIGSTOPped until A has taken
#     the stream over, then continued: whatever the old process tried to commit is refused
#     by the fence (the target's fence row holds A's newer epoch).
#  5. workers: a load with options.placement "any" runs its lanes on the owning server and
#     on worker W; W is SIGKILLed mid-load; the load completes with every row once, and
#     rows were written by both (a trigger records each row's writer: application_name).
#
# At the end the CDC stream catches up: every table equals the source (md5 of the rows in
# key order), and the apply log (a trigger on the target's cdc_audit, tests/lib/cdc.sh)
# shows each audit id streamed since the first phase inserted exactly once.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cluster.sh"

SRC=sl_cluster_src TGT=sl_cluster_tgt NAME=cluster-cdc SLOT=$(cdc_slot_name cluster-cdc)
export SLUICE_API_KEY="key-$RANDOM$RANDOM$RANDOM"
SLUICE_SECRET_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export SLUICE_SECRET_KEY
SRV_KEY=$SLUICE_API_KEY

# --- the cluster ------------------------------------------------------------------------------
cluster_nats_start
cluster_proxy_start 1 2 3
URL_A=$PROXY_URL
URL_B=$(cluster_nats_url 1 2 3)
echo "$URL_A" >"$TMPD/nats-a.url"
echo "$URL_B" >"$TMPD/nats-b.url"
chmod 600 "$TMPD"/nats-*.url

start_a() { srv_start "srvA$1" "$TMPD/a" --nats-url-file "$TMPD/nats-a.url"; PID_A=$SRV_PID URL_API_A=$SRV_URL; }
start_b() { srv_start "srvB$1" "$TMPD/b" --nats-url-file "$TMPD/nats-b.url"; PID_B=$SRV_PID URL_API_B=$SRV_URL; }
on_a() { SRV_URL=$URL_API_A; SRV_LOG=$TMPD/srvA$ROUND_A.err; }
on_b() { SRV_URL=$URL_API_B; SRV_LOG=$TMPD/srvB$ROUND_B.err; }
ROUND_A=1 ROUND_B=1
start_a 1
start_b 1
NODE_A=$(cat "$TMPD/a/node-id")
NODE_B=$(cat "$TMPD/b/node-id")
note "server A $NODE_A (through the proxy), server B $NODE_B"

# Replicas: the KV buckets sluice made have three.
for b in SLUICE_STREAMS SLUICE_LEASES; do
  r=$(curl -fsS "http://127.0.0.1:${NATS_HPORT[1]}/jsz?accounts=true&streams=true&config=true" |
    jq -r --arg s "KV_$b" '[.account_details[]?.stream_detail[]? | select(.config.name == $s) | .config.num_replicas][0]')
  assert_eq 3 "$r" "replicas of KV bucket $b"
done

# --- 5. workers (a function: it runs after the CDC phases) ---------------------------------------
LSRC=sl_cluster_lsrc LTGT=sl_cluster_ltgt LNAME=cluster-load ROWS=${SLUICE_TEST_CLUSTER_ROWS:-300000}
phase_workers() {
  note "phase 5: a load with placement any, its lanes on server B and worker W; W is SIGKILLed mid-load"
  pg_newdb "$LSRC"
  pg_newdb "$LTGT"
  on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $LSRC WITH (FORCE)' >/dev/null; pg_sql postgres 'DROP DATABASE IF EXISTS $LTGT WITH (FORCE)' >/dev/null"
  local ddl="CREATE TABLE items (id bigint PRIMARY KEY, grp int NOT NULL, label text, amount numeric(12,2))"
  pg_sql "$LSRC" "$ddl; INSERT INTO items SELECT i, i % 97, 'item ' || md5(i::text), i * 0.25
    FROM generate_series(1, $ROWS) i"
  # the target's table exists with a statement trigger that records who wrote each batch:
  # the connection's application_name ("sluice" for a server's stream process, "sluice-worker
  # <node>" for a worker) and the rows of the statement, inside the writer's own transaction
  pg_sql "$LTGT" "$ddl; CREATE TABLE writer_log (app text NOT NULL, rows bigint NOT NULL);
    CREATE FUNCTION writer_log() RETURNS trigger LANGUAGE plpgsql AS \$\$
    BEGIN
      INSERT INTO writer_log SELECT current_setting('application_name'), count(*) FROM new_rows;
      RETURN NULL;
    END \$\$;
    CREATE TRIGGER writer_log AFTER INSERT ON items REFERENCING NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION writer_log()"
  write_spec "$TMPD/load.json" "$LNAME" "$(pg_url "$LSRC")" "$(pg_url "$LTGT")" \
    '{"placement": "any", "writers": 2, "readers": 1, "batch_rows": 1000, "chunk_rows": 20000, "schema": "none"}'
  echo "$URL_B" >"$TMPD/nats-w.url"
  chmod 600 "$TMPD/nats-w.url"
  "$SLUICE_BIN" worker --nats-url-file "$TMPD/nats-w.url" --data-dir "$TMPD/w" --lanes 3 \
    >"$TMPD/worker.out" 2>"$TMPD/worker.err" &
  PID_W=$!
  SRV_PIDS+=("$PID_W")
  wait_for "[ -s '$TMPD/w/node-id' ]" 60 || die "the worker did not start"
  local node_w worker_rows server_rows
  node_w=$(cat "$TMPD/w/node-id")
  on_b
  api_ok 201 POST "/api/v1/streams?start=true" "$(jq -c . "$TMPD/load.json")"
  LID=$(jq -r .id <<<"$API_BODY")
  wait_for "[ \"\$(pg_sql $LTGT \"SELECT coalesce(sum(rows), 0) FROM writer_log WHERE app = 'sluice-worker $node_w'\")\" -gt 5000 ]" 240 ||
    { tail -n 30 "$TMPD/worker.err" >&2; die "the worker wrote no rows"; }
  grep -q "reading stripes of pass" "$TMPD/worker.err" || die "the worker took no read job"
  note "worker $node_w reads stripes and wrote rows; SIGKILL it mid-load"
  kill -KILL "$PID_W"
  srv_wait_state "$LID" completed 600
  worker_rows=$(pg_sql "$LTGT" "SELECT coalesce(sum(rows), 0) FROM writer_log WHERE app = 'sluice-worker $node_w'")
  server_rows=$(pg_sql "$LTGT" "SELECT coalesce(sum(rows), 0) FROM writer_log WHERE app = 'sluice'")
  note "rows written: $worker_rows by worker $node_w, $server_rows by server B's stream process"
  { [ "$worker_rows" -gt 0 ] && [ "$server_rows" -gt 0 ]; } || die "rows were not written by both the worker and the server"
  assert_eq "$ROWS" "$((worker_rows + server_rows))" "rows inserted in committed statements (each row once)"
  assert_eq "$(pg_sql "$LSRC" "SELECT count(*) || ' ' || md5(string_agg(t::text, ',' ORDER BY id)) FROM items t")" \
    "$(pg_sql "$LTGT" "SELECT count(*) || ' ' || md5(string_agg(t::text, ',' ORDER BY id)) FROM items t")" \
    "items: rows and md5 on the source (expected) and the target"
}
if [ "${SLUICE_TEST_CLUSTER_ONLY:-}" = 5 ]; then
  phase_workers
  if grep -E 'Sanitizer|runtime error' "$TMPD"/srv*.err "$TMPD"/worker.err >&2; then
    die "a sanitizer report in a log"
  fi
  note "ok (phase 5 only)"
  exit 0
fi

# --- the stream -------------------------------------------------------------------------------
cdc_pg_db "$SRC"
cdc_pg_db "$TGT"
cdc_workload_init "$SRC" 1
write_cdc_spec "$TMPD/spec.json" "$NAME" "$(pg_url "$SRC")" "$(pg_url "$TGT")" '{"writers": 1, "batch_rows": 2000}' \
  "$CDC_WORKLOAD_TABLES"
cdc_track "$TMPD/spec.json" "$SRC"
audit_max() { pg_sql "$SRC" "SELECT coalesce(max(id), 0) FROM cdc_audit"; }
applied() { pg_sql "$TGT" "SELECT count(*) FROM audit_applied"; }

# The stream's record as server (on_a/on_b) sees it: "STATE NODE".
where() {
  api GET "/api/v1/streams/$SID"
  jq -r '"\(.state) \(.node)"' <<<"$API_BODY"
}
# Waits up to T s until the stream runs on NODE (seen through the current server), then up
# to A s until the target applies changes again; notes how long it took from T0 (ms). The
# deadlines are generous (a loaded machine, a sanitizer build): the 30 s of a failover is
# asserted on the measured time, below, not by the deadline.
wait_owner() {
  local node=$1 t=$2 t0=$3 what=$4 a=${5:-90} n
  wait_for "[ \"\$(where)\" = 'running $node' ]" "$t" || {
    where >&2; tail -n 40 "$SRV_LOG" >&2; die "the stream does not run on $node after ${t}s"; }
  n=$(applied)
  wait_for "[ \"\$(applied)\" -gt $n ]" "$a" || { tail -n 40 "$SRV_LOG" >&2; die "the target does not move under $node"; }
  TAKEOVER_MS=$(($(now_ms) - t0))
  note "running on $node and applying again $TAKEOVER_MS ms after the $what"
}
# A failover within 30 s (the issue's bound), checked on a gcc build; a sanitizer build's
# processes start several times slower, so there the time is noted, not asserted.
check_30s() {
  if [ "$TAKEOVER_MS" -le 30000 ]; then return 0; fi
  [ -n "${SLUICE_SANITIZER_LOG_DIR:-}" ] || die "failover took $TAKEOVER_MS ms (at most 30 s)"
  note "failover took $TAKEOVER_MS ms: over 30 s, accepted under a sanitizer build"
}

on_a
api_ok 201 POST "/api/v1/streams?start=true" "$(jq -c . "$TMPD/spec.json")"
SID=$(jq -r .id <<<"$API_BODY")
cdc_workload_start wl "$SRC" 100 2
srv_wait_state "$SID" running 120
wait_for "cdc_has_ckpt pg $TGT $NAME" 120 || die "no CDC checkpoint on the target: the initial load did not hand over"
cdc_apply_log_create "$TGT"
HANDOVER_ID=$(audit_max)
wait_for "[ \"\$(applied)\" -gt 20 ]" 120 || die "no change applied under A"
assert_eq "running $NODE_A" "$(where)" "the stream after its start through A"

# --- 1. failover ------------------------------------------------------------------------------
note "phase 1: SIGKILL server A, the owner"
t0=$(now_ms)
cdc_kill_tree "$PID_A"
on_b
wait_owner "$NODE_B" 120 "$t0" "kill"
check_30s

# --- 2. a NATS node lost ----------------------------------------------------------------------
note "phase 2: SIGKILL nats node 3"
cluster_nats_stop 3
n=$(applied)
wait_for "[ \"\$(applied)\" -gt $((n + 50)) ]" 120 || die "the stream stopped applying with one NATS node down"
assert_eq "running $NODE_B" "$(where)" "the stream with one NATS node down"
note "the stream applied $(($(applied) - n)) audit rows with node 3 down"
# When node 3 led the SLUICE_LEASES stream, JetStream elects a new leader in 4-9 s, and a
# renewal held up over 6 s makes B restart the stream's process in place (docs/cluster.md):
# said here, not failed; the data checks at the end cover it.
if grep -q "could not be renewed" "$TMPD/srvB1.err"; then
  note "B restarted the stream's process while the leases' stream elected a leader"
fi
cluster_nats_start_one 3
cluster_nats_ready 3

# --- 3. partition -----------------------------------------------------------------------------
ROUND_A=2
start_a 2
note "phase 3: SIGKILL server B: A takes the stream over"
t0=$(now_ms)
cdc_kill_tree "$PID_B"
on_a
wait_owner "$NODE_A" 120 "$t0" "kill"
check_30s
ROUND_B=2
start_b 2
note "cut A from NATS"
t0=$(now_ms)
cluster_proxy_cut
on_b
wait_owner "$NODE_B" 120 "$t0" "cut"
check_30s
# A stopped its stream's process itself, before B could take the lease
grep -q "could not be renewed" "$TMPD/srvA2.err" || die "server A did not stop its stream on losing NATS"
[ -z "$(cdc_children "$PID_A")" ] || {
  ps -o pid=,args= --ppid "$PID_A" >&2 || true
  die "server A still has a stream process while cut off"
}
note "heal A's links"
cluster_proxy_heal
sleep 12 # a lease TTL and more: A scanned the streams again meanwhile
[ -z "$(cdc_children "$PID_A")" ] || die "server A started the stream again after the partition healed"
assert_eq "running $NODE_B" "$(where)" "the stream after the partition healed"

# --- 4. a zombie ------------------------------------------------------------------------------
note "phase 4: SIGSTOP server B and its stream's process until A takes over"
kids=$(cdc_children "$PID_B")
t0=$(now_ms)
# shellcheck disable=SC2086 # kids: one pid a word
kill -STOP "$PID_B" $kids
on_a
# the new process waits for the replication slot until PostgreSQL's wal_sender_timeout
# (60 s) ends the stopped process's connection: no 30 s bound here
wait_owner "$NODE_A" 120 "$t0" "stop" 180
# shellcheck disable=SC2086
kill -CONT $kids "$PID_B"
sleep 5
on_a
assert_eq "running $NODE_A" "$(where)" "the stream after the old owner continued"
fence=$(pg_sql "$TGT" "SELECT epoch FROM _sluice_checkpoint WHERE stream = '$NAME' AND key = 'fence'")
note "fence on the target: epoch $fence"
if grep -q "fenced by lease epoch" "$TMPD/srvB2.err"; then
  note "the old owner's process tried to commit and was refused by the fence"
fi

phase_workers

# --- the end ----------------------------------------------------------------------------------
on_a
cdc_workload_stop wl
cdc_catch_up "$SLOT" "" 300
srv_workload_same "$SRC" "$TGT"
streamed=$(pg_sql "$SRC" "SELECT count(*) FROM cdc_audit WHERE id > $HANDOVER_ID")
cdc_apply_log_check "$TGT" "$streamed" "$HANDOVER_ID" 200
note "apply log: $streamed audit rows streamed after the hand-over, each inserted once"
api_ok 200 POST "/api/v1/streams/$SID/stop"
api_ok 204 DELETE "/api/v1/streams/$SID?drop_slot=true"
# no sanitizer report from any server, stream process or worker (an ASan build's tests)
if grep -E 'Sanitizer|runtime error' "$TMPD"/srv*.err "$TMPD"/worker.err >&2; then
  die "a sanitizer report in a log"
fi
note "ok"
