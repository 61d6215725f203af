#!/usr/bin/env bash
# server_cli.sh: the whole lifecycle of a CDC stream through the CLI clients
# (`sluice connection …`, `sluice stream …`) against a real `sluice server` (its own data
# dir, port and API key) and the test PostgreSQL:
#   - the server, the key: a wrong key and no key exit 4 (unauthorized) with a clear
#     message; a config file others may read is refused (exit 2, hint chmod 600), the same
#     file at 0600 works;
#   - connection add (passwords via --password-stdin and --password-env; never echoed),
#     list (--json through jq), test in cdc mode as a source: every check passes; a role
#     without REPLICATION fails the replication check with a hint (exit 1);
#   - stream create (spec on stdin, connections by name, three tables with rows) --start;
#     the target equals the source (row digests) after the initial copy and after changes;
#   - pause under a write load: the target does not change for 3 s while the source does;
#     start while paused is a conflict (exit 6); resume: it catches up (slot confirmed past
#     the source's LSN), tables equal, `sluice verify` equal;
#   - stats, logs, list; rm while running (exit 6), connection rm while in use (exit 6);
#     `stream watch` (no terminal) follows it and exits 0 once stop --wait has it stopped;
#   - rm --drop-slot: slot and publication gone; show of the removed stream exits 5;
#   - no output of the CLI holds the API key or the database password;
#   - the server stopped: the CLI exits 3 (cannot reach the server).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
ROLE=sl_srvcli_norepl
on_exit "pg_sql postgres 'DROP ROLE IF EXISTS $ROLE' >/dev/null 2>&1"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"

SRC=sl_srvcli_src TGT=sl_srvcli_tgt NAME=srvcli
SLOT=$(cdc_slot_name "$NAME")
TABLES='["items", "customers", "events"]'
T0=$(now_ms)
# note, with the milliseconds since the start of the test.
tnote() { note "+$(($(now_ms) - T0)) ms: $*"; }

# cli LABEL ARGS...: runs `sluice ARGS`; its output in $TMPD/cli.LABEL.out and .err, its
# exit status in RC (never fails by itself).
cli() {
  local l=$1 t
  shift
  RC=0
  t=$(now_ms)
  "${SLUICE_BIN:?}" "$@" >"$TMPD/cli.$l.out" 2>"$TMPD/cli.$l.err" || RC=$?
  t=$(($(now_ms) - t))
  [ "$t" -lt 2000 ] || tnote "(slow: sluice $* took $t ms)"
}
# cli_rc CODE LABEL ARGS...: the same, failing the test unless it exits CODE.
cli_rc() {
  local want=$1 l=$2
  shift
  cli "$@"
  [ "$RC" = "$want" ] && return 0
  sed 's/^/  out| /' "$TMPD/cli.$l.out" >&2
  sed 's/^/  err| /' "$TMPD/cli.$l.err" >&2
  die "sluice ${*:2} exited $RC, expected $want"
}
cli_ok() { cli_rc 0 "$@"; }
# The state of stream $1, as the API reports it.
state_of() { "$SLUICE_BIN" stream show "$1" --json | jq -r .state; }
# Prints "ROWS MD5" of each of the three tables of database $1 (the rows as row literals in
# id order, as cdc_pg_digest), in one psql run.
digests() {
  local t sql=""
  for t in items customers events; do
    sql+="SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, E'\n' ORDER BY id, t::text)), '-')
      FROM $t t;"
  done
  pg_sql "$1" "$sql"
}
tables_equal() { [ "$(digests "$SRC")" = "$(digests "$TGT" 2>/dev/null)" ]; }
target_digest() { digests "$TGT"; }

# ===== databases ==============================================================================
tnote "databases"
cdc_pg_db "$SRC"
cdc_pg_db "$TGT"
pg_sql "$SRC" "
  CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, qty integer, price numeric(10,2));
  INSERT INTO items SELECT g, 'item ' || g, g % 17, g * 0.25 FROM generate_series(1, 5000) g;
  CREATE TABLE customers (id bigint PRIMARY KEY, email text, created timestamptz);
  INSERT INTO customers SELECT g, 'c' || g || '@example.com', '2026-01-01'::timestamptz + g * interval '1 min'
    FROM generate_series(1, 2000) g;
  CREATE TABLE events (id bigserial PRIMARY KEY, item integer, payload jsonb, at timestamptz DEFAULT now());
  INSERT INTO events (item, payload) SELECT g % 5000 + 1, jsonb_build_object('n', g) FROM generate_series(1, 3000) g;"
pg_sql postgres "DROP ROLE IF EXISTS $ROLE; CREATE ROLE $ROLE LOGIN NOREPLICATION PASSWORD 'norepl-pw'"
pg_sql postgres "GRANT ALL ON DATABASE $SRC TO $ROLE"
# The spec with URLs, for `sluice verify` (and for cleanup at exit if the test fails).
write_cdc_spec "$TMPD/verify.json" "$NAME" "$(pg_url "$SRC")" "$(pg_url "$TGT")" '{}' "$TABLES"
cdc_track "$TMPD/verify.json" "$SRC"

# ===== the server ===============================================================================
tnote "server"
KEY="k-$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
SLUICE_API_KEY=$KEY "$SLUICE_BIN" server --listen 127.0.0.1:0 --data-dir "$TMPD/server" \
  >"$TMPD/server.out" 2>"$TMPD/server.err" &
SERVER_PID=$!
CDC_SLUICE_PIDS+=("$SERVER_PID")
wait_for "grep -q '^listening on http' '$TMPD/server.out'" 30 ||
  cdc_die "sluice server did not say where it listens within 30 s" "$TMPD/server.err"
URL=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$TMPD/server.out" | head -n 1)
wait_for "curl -sf '$URL/healthz'" 30 || cdc_die "$URL/healthz does not answer" "$TMPD/server.err"
tnote "sluice server at $URL"
export SLUICE_URL=$URL SLUICE_API_KEY=$KEY
export XDG_CONFIG_HOME=$TMPD/xdg # no config file of the user's

# ===== keys and the config file ==================================================================
SLUICE_API_KEY=not-the-key cli_rc 4 wrongkey connection list
assert_grep '^sluice: error: .*(key|unauthori)' "$TMPD/cli.wrongkey.err" "wrong key: no clear error"
assert_grep '^hint: .*SLUICE_API_KEY' "$TMPD/cli.wrongkey.err" "wrong key: the hint does not say where the key goes"
if grep -qF not-the-key "$TMPD/cli.wrongkey.err" "$TMPD/cli.wrongkey.out"; then
  die "the CLI printed the key it was given"
fi
SLUICE_API_KEY='' cli_rc 4 nokey stream list
mkdir -p "$XDG_CONFIG_HOME/sluice"
jq -n --arg url "$URL" --arg key "$KEY" '{url: $url, api_key: $key}' >"$XDG_CONFIG_HOME/sluice/cli.json"
chmod 644 "$XDG_CONFIG_HOME/sluice/cli.json"
SLUICE_URL='' SLUICE_API_KEY='' cli_rc 2 cfg644 connection list
assert_grep '^hint: chmod 600' "$TMPD/cli.cfg644.err" "a config file others may read: no chmod hint"
chmod 600 "$XDG_CONFIG_HOME/sluice/cli.json"
SLUICE_URL='' SLUICE_API_KEY='' cli_ok cfg600 connection list --json
assert_eq 0 "$(jq '.connections | length' "$TMPD/cli.cfg600.out")" "connections on a new server (through the config file)"
rm -f "$XDG_CONFIG_HOME/sluice/cli.json"
tnote "keys: wrong and missing key exit 4; config file refused at 0644, used at 0600"

# ===== connections ================================================================================
cli_ok add_src connection add src "postgres://postgres@127.0.0.1:$PGPORT/$SRC" --password-stdin <<<"$PGPASSWORD"
TGT_PW=$PGPASSWORD cli_ok add_tgt connection add tgt "postgres://postgres@127.0.0.1:$PGPORT/$TGT" \
  --password-env TGT_PW --json
assert_eq tgt "$(jq -r .name "$TMPD/cli.add_tgt.out")" "connection add --json: name"
[[ "$(jq -r .id "$TMPD/cli.add_tgt.out")" == c_* ]] || die "connection add --json: id is not c_…"
cli_rc 6 add_dup connection add src "postgres://postgres@127.0.0.1:$PGPORT/$SRC" --password-stdin <<<"$PGPASSWORD"
cli_ok conn_list connection list --json
assert_eq "src tgt" "$(jq -r '[.connections[].name] | sort | join(" ")' "$TMPD/cli.conn_list.out")" "connection list"
cli_ok conn_list_h connection list
assert_grep '^NAME +KIND +URL' "$TMPD/cli.conn_list_h.out" "connection list: no table header"
assert_grep '^src +postgres +postgres://' "$TMPD/cli.conn_list_h.out" "connection list: no row for src"
cli_ok test_src connection test src --mode cdc --role source
sed 's/^/  | /' "$TMPD/cli.test_src.out"
assert_grep '^  pass  connect' "$TMPD/cli.test_src.out" "connection test: no passed connect check"
assert_grep '^  pass  wal_level' "$TMPD/cli.test_src.out" "connection test: no passed wal_level check"
NOREPL_PW=norepl-pw cli_ok add_norepl connection add norepl "postgres://$ROLE@127.0.0.1:$PGPORT/$SRC" \
  --password-env NOREPL_PW
cli_rc 1 test_norepl connection test norepl --mode cdc --role source
assert_grep '^  FAIL  .*replication' "$TMPD/cli.test_norepl.out" "a role without REPLICATION: no failed check"
assert_grep '^        hint: ' "$TMPD/cli.test_norepl.out" "the failed check has no hint"
cli_ok rm_norepl connection rm norepl
cli_rc 5 show_norepl connection show norepl
tnote "connections: added, listed, tested (pass, and FAIL with a hint, exit 1), removed"

# ===== a CDC stream =================================================================================
jq -n --arg name "$NAME" --argjson tables "$TABLES" '{name: $name, mode: "cdc",
    source: {connection: "src", tables: $tables}, target: {connection: "tgt"},
    options: {initial_load: true}}' >"$TMPD/stream.json"
cli_ok create stream create - --start --json <"$TMPD/stream.json"
ID=$(jq -r .id "$TMPD/cli.create.out")
[[ "$ID" == s_* ]] || die "stream create --json: id \"$ID\" is not s_…"
cli_rc 6 create_dup stream create "$TMPD/stream.json"
"$SLUICE_BIN" stream watch "$NAME" --interval 1 >"$TMPD/cli.watch.out" 2>"$TMPD/cli.watch.err" &
WATCH_PID=$!
CDC_BG_PIDS+=("$WATCH_PID")
t=$(now_ms)
wait_for tables_equal 60 || { target_digest >&2; cdc_die "the initial copy did not reach the target in 60 s" "$TMPD/server.err"; }
tnote "initial copy: 10000 rows in 3 tables equal on the target after $(($(now_ms) - t)) ms"
pg_sql "$SRC" "UPDATE items SET qty = qty + 100 WHERE id % 10 = 0; DELETE FROM customers WHERE id > 1900;
  INSERT INTO events (item, payload) SELECT g, '{\"cdc\": true}' FROM generate_series(1, 500) g;"
wait_for tables_equal 30 || cdc_die "changes did not reach the target in 30 s" "$TMPD/server.err"
assert_eq running "$(state_of "$NAME")" "state after the copy"
tnote "changes: applied"

# ===== pause under write load =========================================================================
(
  set +e
  while [ ! -e "$TMPD/writer.stop" ]; do
    pg_sql "$SRC" "INSERT INTO events (item, payload) SELECT g, '{\"load\": 1}' FROM generate_series(1, 20) g;
      UPDATE items SET qty = qty + 1 WHERE id = (random() * 4999)::int + 1;" >/dev/null 2>&1
    sleep 0.05
  done
) &
WRITER_PID=$!
CDC_BG_PIDS+=("$WRITER_PID")
sleep 1
cli_ok pause stream pause "$ID"
assert_grep 'paused' "$TMPD/cli.pause.out" "stream pause: the answer is not paused"
assert_eq paused "$(state_of "$ID")" "state after pause"
before=$(target_digest)
src_before=$(pg_sql "$SRC" "SELECT count(*) FROM events")
sleep 3
after=$(target_digest)
src_after=$(pg_sql "$SRC" "SELECT count(*) FROM events")
[ "$src_after" -gt "$src_before" ] || die "the write load did not write while paused ($src_before → $src_after)"
assert_eq "$before" "$after" "the target changed while the stream was paused"
assert_eq 1 "$(cdc_slot_count "$SLOT")" "slot $SLOT while paused"
cli_rc 6 start_paused stream start "$NAME"
assert_grep '^sluice: error: ' "$TMPD/cli.start_paused.err" "start while paused: no error line"
tnote "paused: target unchanged for 3 s while the source took $((src_after - src_before)) events; start refused (exit 6)"
cli_ok resume stream resume "$NAME" --wait
assert_eq running "$(state_of "$NAME")" "state after resume"
sleep 1
touch "$TMPD/writer.stop"
wait_for "! kill -0 $WRITER_PID" 30 || die "the write load did not stop"
cdc_catch_up "$SLOT" "" 60
wait_for tables_equal 30 || { target_digest >&2; die "tables differ after resume and catch-up"; }
cdc_verify "$TMPD/verify.json"

# ===== stats, logs, list, refusals ======================================================================
cli_ok stats stream stats "$NAME"
assert_grep '^TABLE +STATE +READ +WRITTEN' "$TMPD/cli.stats.out" "stream stats: no table header"
cli_ok stats_json stream stats "$NAME" --json
assert_eq 3 "$(jq '.tables | length' "$TMPD/cli.stats_json.out")" "stream stats --json: tables"
cli_ok logs stream logs "$NAME" --limit 5 --json
jq -e '.lines | type == "array"' "$TMPD/cli.logs.out" >/dev/null || die "stream logs --json: no lines array"
cli_ok list stream list
assert_grep "^$NAME +running +cdc " "$TMPD/cli.list.out" "stream list: no running row"
cli_rc 6 rm_running stream rm "$NAME"
cli_rc 6 rm_conn_in_use connection rm src

# ===== stop, watch, delete ================================================================================
cli_ok stop stream stop "$NAME" --wait --timeout 60
assert_eq stopped "$(state_of "$NAME")" "state after stop --wait"
wait_for "! kill -0 $WATCH_PID" 20 || die "stream watch did not exit within 20 s of the stop"
wrc=0
wait "$WATCH_PID" || wrc=$?
assert_eq 0 "$wrc" "stream watch exit status once the stream stopped"
assert_grep "stream \"$NAME\" is stopped" "$TMPD/cli.watch.out" "stream watch: no line for the stop"
assert_grep 'rows written' "$TMPD/cli.watch.out" "stream watch: no progress line"
assert_eq 1 "$(cdc_slot_count "$SLOT")" "slot $SLOT after stop (kept for a later start)"
cli_ok rm stream rm "$NAME" --drop-slot
assert_eq 0 "$(cdc_slot_count "$SLOT")" "slot $SLOT after rm --drop-slot"
assert_eq 0 "$(pg_sql "$SRC" "SELECT count(*) FROM pg_publication WHERE pubname = '$SLOT'")" \
  "publication $SLOT after rm --drop-slot"
cli_rc 5 show_gone stream show "$NAME"
cli_rc 5 rm_gone stream rm "$ID"
cli_ok rm_src connection rm src
cli_ok rm_tgt connection rm tgt
tnote "stopped (watch exited 0), removed with slot and publication; show and rm of it exit 5"

# ===== secrets, and no server ================================================================================
if grep -lF -e "$KEY" -e "$PGPASSWORD" -e norepl-pw "$TMPD"/cli.*.out "$TMPD"/cli.*.err; then
  die "a CLI output above holds the API key or a password"
fi
kill -TERM "$SERVER_PID"
cdc_wait_exit "$SERVER_PID" 30
[ "$CDC_RC" != 124 ] || die "sluice server did not stop within 30 s of SIGTERM"
cli_rc 3 noserver stream list
assert_grep 'could not reach' "$TMPD/cli.noserver.err" "no server: unclear error"
tnote "finished"
