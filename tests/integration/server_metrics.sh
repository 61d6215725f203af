#!/usr/bin/env bash
# server_metrics.sh: the monitoring plane end to end. `sluice server` (tests/lib/server.sh:
# own data dir, free port, its generated API key) runs two streams from PostgreSQL: a load
# into one schema and a CDC stream into another, while a real Prometheus (Debian's, own
# config and storage under the test's temp dir, scrape interval 1 s) scrapes /metrics with
# the key as a bearer token.
#   - load: once it completes, GET /api/v1/streams/{id}/stats says phase "done", its totals
#     equal the rows counted on the target, per table too, with progress 1.0; the
#     summary in GET /api/v1/streams/{id} agrees.
#   - cdc: after its initial load and a burst of inserts on the source, the
#     sluice_rows_written_total series of each table, read back through Prometheus's HTTP
#     API (/api/v1/query), equals the rows counted in the target table; lag and state
#     series are there; the scrape is up (the bearer token works); a wrong key gets 401.
#     The initial load's rows and the change events are counted apart (rows_loaded,
#     changes_applied in the stats and sluice_changes_applied_total) and add up to the
#     target's rows. Paused: the rates are 0 at once. More inserts, resumed (a new process
#     that counts from zero): the series still equals the target's count.
#   - the event stream of the running CDC stream delivers stats events with those figures.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"

SRC=sl_met_src TGT=sl_met_tgt
LOAD=met-load CDC=met-cdc
command -v prometheus >/dev/null || die "prometheus is not installed (Debian package prometheus)"

# --- databases ------------------------------------------------------------------------
pg_newdb "$SRC"
pg_newdb "$TGT"
pg_sql "$TGT" "CREATE SCHEMA ld; CREATE SCHEMA cd;" # the load's tables, the cdc stream's
pg_sql "$SRC" "
CREATE TABLE big (id bigint PRIMARY KEY, payload text NOT NULL);
CREATE TABLE small (id int PRIMARY KEY, n int NOT NULL);
INSERT INTO big SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 60000) g;
INSERT INTO small SELECT g, g FROM generate_series(1, 2500) g;
ANALYZE;"
note "source ready"

# --- the server and Prometheus --------------------------------------------------------------
srv_start srv "$TMPD/data"
[ -n "$SRV_KEY" ] || die "the server printed no API key"
PPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PROM="http://127.0.0.1:$PPORT"
printf '%s' "$SRV_KEY" >"$TMPD/prom-token"
chmod 600 "$TMPD/prom-token"
cat >"$TMPD/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: sluice
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials_file: $TMPD/prom-token
    static_configs:
      - targets: ['${SRV_URL#http://}']
EOF
prometheus --config.file="$TMPD/prometheus.yml" --storage.tsdb.path="$TMPD/prom" \
  --web.listen-address="127.0.0.1:$PPORT" --log.level=warn >"$TMPD/prometheus.log" 2>&1 &
prom=$!
on_exit "kill $prom 2>/dev/null; wait $prom 2>/dev/null"
wait_for "curl -fsS $PROM/-/ready" 30 || { cat "$TMPD/prometheus.log" >&2; die "prometheus did not start"; }
note "prometheus on $PROM"
# pq QUERY: the value of the query's first series ("" when it has none)
pq() {
  curl -fsS "$PROM/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // ""'
}
stats() { # stats ID: the stream's stats JSON in STATS
  api_ok 200 GET "/api/v1/streams/$1/stats"
  STATS=$API_BODY
}

# --- both streams start -------------------------------------------------------------------
spec() { # spec NAME MODE SCHEMA
  jq -nc --arg name "$1" --arg mode "$2" --arg src "$(pg_url "$SRC")" --arg tgt "$(pg_url "$TGT")?schema=$3" \
    '{name: $name, mode: $mode, source: {url: $src, tables: ["big", "small"]}, target: {url: $tgt},
      options: {batch_rows: 2000}}'
}
api_ok 201 POST '/api/v1/streams?start=true' "$(spec "$LOAD" load ld)"
api_ok 201 POST '/api/v1/streams?start=true' "$(spec "$CDC" cdc cd)"
note "streams $LOAD and $CDC started"

# --- the load: stats after completion -------------------------------------------------------
srv_wait_state "$LOAD" completed 120
n_big=$(pg_sql "$TGT" "SELECT count(*) FROM ld.big")
n_small=$(pg_sql "$TGT" "SELECT count(*) FROM ld.small")
assert_eq 62500 $((n_big + n_small)) "rows in the load's target"
# the final snapshot is sent before the child exits; give its delivery a moment
wait_for "stats $LOAD; [ \"\$(jq -r .phase <<<\"\$STATS\")\" = done ]" 10 ||
  die "the stats of $LOAD never said phase done: $STATS"
echo "$STATS" >"$TMPD/load-stats.json"
assert_eq completed "$(jq -r .state <<<"$STATS")" "stats state of $LOAD"
assert_eq $((n_big + n_small)) "$(jq -r .totals.rows_written <<<"$STATS")" "stats totals.rows_written of $LOAD"
assert_eq $((n_big + n_small)) "$(jq -r .totals.rows_read <<<"$STATS")" "stats totals.rows_read of $LOAD"
assert_eq "$n_big" "$(jq -r '.tables[] | select(.name == "public.big") | .rows_written' <<<"$STATS")" \
  "stats rows_written of public.big"
assert_eq "$n_small" "$(jq -r '.tables[] | select(.name == "public.small") | .rows_written' <<<"$STATS")" \
  "stats rows_written of public.small"
assert_eq "1 1" "$(jq -r '[.tables[].progress] | map(tostring) | join(" ")' <<<"$STATS")" "table progress"
assert_eq 2500 "$(jq -r '.tables[] | select(.name == "public.small") | .est_rows' <<<"$STATS")" "est_rows of small"
[ "$(jq -r '.totals.bytes_written > 0 and .totals.batches > 0 and .lag == null' <<<"$STATS")" = true ] ||
  die "load stats lack bytes or batches, or show a lag: $STATS"
api_ok 200 GET "/api/v1/streams/$LOAD"
assert_eq "$((n_big + n_small)) 1" "$(jq -r '.summary | "\(.rows_written) \(.progress)"' <<<"$API_BODY")" \
  "summary of $LOAD"
note "load stats equal the target: $((n_big + n_small)) rows"

# --- the CDC stream: changes, then Prometheus against the target --------------------------
wait_for "stats $CDC; [ \"\$(jq -r .phase <<<\"\$STATS\")\" = cdc ]" 90 ||
  { tail -n 30 "$SRV_LOG" >&2; die "stream $CDC never reached its change stream: $STATS"; }
for i in $(seq 1 10); do
  pg_sql "$SRC" "INSERT INTO big SELECT g, 'live' FROM generate_series(100000 + $i * 100, 100000 + $i * 100 + 99) g;
                 INSERT INTO small VALUES (10000 + $i, $i);" >/dev/null
done
caught_up() {
  [ "$(pg_sql "$TGT" "SELECT count(*) FROM cd.big")" = "$(pg_sql "$SRC" "SELECT count(*) FROM big")" ] &&
    [ "$(pg_sql "$TGT" "SELECT count(*) FROM cd.small")" = "$(pg_sql "$SRC" "SELECT count(*) FROM small")" ]
}
wait_for caught_up 60 || die "stream $CDC did not catch up with the source"
assert_eq running "$(srv_state "$CDC")" "state of $CDC"
t_big=$(pg_sql "$TGT" "SELECT count(*) FROM cd.big")
t_small=$(pg_sql "$TGT" "SELECT count(*) FROM cd.small")
assert_eq 61000 "$t_big" "rows of big on the cdc target"
series() { echo "sluice_rows_written_total{stream=\"$CDC\",table=\"public.$1\"}"; }
wait_for "[ \"\$(pq '$(series big)')\" = $t_big ] && [ \"\$(pq '$(series small)')\" = $t_small ]" 30 || {
  curl -fsS -H "Authorization: Bearer $SRV_KEY" "$SRV_URL/metrics" | grep -E "^sluice_rows_written_total" >&2 || true
  die "Prometheus has $(series big) = '$(pq "$(series big)")' (target: $t_big)," \
    "$(series small) = '$(pq "$(series small)")' (target: $t_small)"
}
assert_eq 1 "$(pq 'up{job="sluice"}')" "Prometheus's scrape of /metrics is up"
assert_eq 1 "$(pq "sluice_stream_state{stream=\"$CDC\",state=\"running\"}")" "state series of $CDC"
assert_eq 1 "$(pq "sluice_stream_state{stream=\"$LOAD\",state=\"completed\"}")" "state series of $LOAD"
assert_eq $((n_big + n_small)) "$(pq "sum(sluice_rows_written_total{stream=\"$LOAD\"})")" "load rows in Prometheus"
lag=$(pq "sluice_lag_seconds{stream=\"$CDC\"}")
slot=$(pq "sluice_slot_lag_bytes{stream=\"$CDC\"}")
[ -n "$lag" ] && [ -n "$slot" ] || die "no lag series for $CDC (lag '$lag', slot '$slot')"
KEY="wrong-$SRV_KEY" api GET /metrics
assert_eq 401 "$API_STATUS" "/metrics with a wrong key"
note "Prometheus: $(series big) = $t_big = rows on the target; lag ${lag}s, slot lag $slot bytes"
# loaded rows and change events apart: 60000 + 2500 loaded, 1000 + 10 changes
wait_for "stats $CDC; [ \"\$(jq -r .totals.changes_applied <<<\"\$STATS\")\" = 1010 ]" 10 ||
  die "stats of $CDC do not count the 1010 changes apart: $STATS"
assert_eq "60000 1000 2500 10 62500" "$(jq -r '[(.tables[] | select(.name == "public.big") | .rows_loaded, .changes_applied),
  (.tables[] | select(.name == "public.small") | .rows_loaded, .changes_applied), .totals.rows_loaded] | map(tostring) | join(" ")' <<<"$STATS")" \
  "rows loaded and changes applied per table, and loaded in all"
assert_eq "$((t_big + t_small))" "$(jq -r '.totals.rows_loaded + .totals.changes_applied' <<<"$STATS")" \
  "loaded rows + changes applied = rows on the target"
wait_for "[ \"\$(pq 'sluice_changes_applied_total{stream=\"$CDC\",table=\"public.big\"}')\" = 1000 ]" 30 ||
  die "Prometheus has no sluice_changes_applied_total = 1000 for big"

# --- pause and resume: a new process counts from zero, the totals go on ----------------------
api_ok 200 POST "/api/v1/streams/$CDC/pause"
srv_wait_state "$CDC" paused 60
stats "$CDC"
assert_eq "0 0 0" "$(jq -r '[.totals.rows_per_sec_read, .totals.rows_per_sec_written, ([.tables[].rows_per_sec] | add)]
  | map(tostring) | join(" ")' <<<"$STATS")" "rates of the paused stream"
api_ok 200 GET "/api/v1/streams/$CDC"
assert_eq 0 "$(jq -r .summary.rows_per_sec <<<"$API_BODY")" "summary rate of the paused stream"
pg_sql "$SRC" "INSERT INTO big SELECT g, 'paused' FROM generate_series(200001, 200500) g" >/dev/null
api_ok 200 POST "/api/v1/streams/$CDC/resume"
wait_for caught_up 60 || die "stream $CDC did not catch up after resume"
t_big=$(pg_sql "$TGT" "SELECT count(*) FROM cd.big")
assert_eq 61500 "$t_big" "rows of big on the cdc target after resume"
wait_for "[ \"\$(pq '$(series big)')\" = $t_big ]" 30 ||
  die "after pause/resume Prometheus has $(series big) = '$(pq "$(series big)")' (target: $t_big)"
note "after pause/resume: $(series big) = $t_big"

# --- server-sent events: stats of the running stream --------------------------------------
curl -sS -N --max-time 4 -H "Authorization: Bearer $SRV_KEY" "$SRV_URL/api/v1/streams/$CDC/events" \
  >"$TMPD/events.txt" 2>/dev/null || true
grep -q '^event: stats' "$TMPD/events.txt" || { cat "$TMPD/events.txt" >&2; die "no stats event in 4 s"; }
last=$(awk '/^event: stats/ {s = 1; next} s && /^data: / {d = substr($0, 7); s = 0} END {print d}' "$TMPD/events.txt")
assert_eq "$((t_big + t_small))" "$(jq -r .totals.rows_written <<<"$last")" "rows written in the last stats event"

# --- stop and clean up --------------------------------------------------------------------------
api_ok 200 POST "/api/v1/streams/$CDC/stop"
srv_wait_state "$CDC" stopped 60
api_ok 204 DELETE "/api/v1/streams/$CDC?drop_slot=true"
api_ok 204 DELETE "/api/v1/streams/$LOAD"
assert_eq 0 "$(pg_sql "$SRC" "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'sluice_met%'")" \
  "replication slots left"
srv_stop
note "passed"
