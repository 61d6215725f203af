#!/usr/bin/env bash
# cdc_tables.sh: the tables of a running CDC stream changed while writes go on
# (docs/cdc.md "Changing the tables of a running stream"), PostgreSQL -> PostgreSQL through
# the API and MariaDB -> PostgreSQL through `sluice stream tables`, each a stream of
# `sluice server`:
#
#   - the stream starts with tables a, b and d (its initial copy beside the stream);
#   - c (CROWS rows, written all along) is added; its copy is paced chunk by chunk (the
#     test hook SLUICE_TEST_COPY_STEP, engine/cdc_copy.c) and the stream's process is
#     SIGKILLed once the target has committed part of it; started again, the copy goes on
#     from the committed chunks (the log says so) instead of starting over;
#   - d, damaged on the target (rows deleted, values changed), fails alone on the next
#     change to a missing row (options.table_errors "stop_table") while a streams on, and
#     is resynced;
#   - b is removed: kept on the target (PostgreSQL case) or dropped (MariaDB case, --drop);
#   - then `sluice run` with a spec edited between runs: [a], [a, c], [c].
#
# Tables keep their mapping (docs/mapping.md) through all this: in the PostgreSQL case c is
# added with an entry that writes it to target table c2 (the request's entry maps it); in
# the MariaDB case d's entry writes it to d2, so the table that fails alone is found by
# its target's name in the target's error.
#
# A writer inserts, updates and deletes rows of a, b, c and d throughout. At the end a, c
# and d equal the source row by row (count and md5 of every row, both sides), the removed
# b took no change after its removal (its target rows are those of the moment it was
# removed, while the source's moved on), and each table's state in the stats is right.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"

ROWS=2000 CROWS=${SLUICE_TEST_ADDED_ROWS:-30000}
STEP=$TMPD/step
mkdir -p "$STEP"
export SLUICE_TEST_COPY_STEP=$STEP

# The pacer: lets every chunk through (a "go" file) unless $STEP/hold exists.
pacer() {
  while [ ! -f "$STEP/stop" ] && [ ! -f "$TMPD/stop.all" ]; do
    [ -f "$STEP/hold" ] || touch "$STEP/go"
    sleep 0.02
  done
}
pacer &
CDC_BG_PIDS+=($!)
on_exit "touch '$STEP/stop'"
chunks() { cat "$STEP/chunks" 2>/dev/null || echo 0; }

# SQL on the source of engine ENG (pg or my).
src_sql() { if [ "$1" = pg ]; then pg_sql "$2" "$3"; else my_sql "$2" "$3"; fi; }

# Prints "ROWS MD5" of table T of database DB (ENG pg or my), each row as id|v|s in id
# order: the same text on both engines for these tables.
digest() {
  local eng=$1 db=$2 t=$3 q="SELECT concat_ws('|', id, v, s) FROM $3 ORDER BY id"
  if [ "$eng" = pg ]; then
    printf '%s %s\n' "$(pg_sql "$db" "SELECT count(*) FROM $t")" "$(pg_sql "$db" "$q" | md5sum | cut -d' ' -f1)"
  else
    printf '%s %s\n' "$(my_sql "$db" "SELECT COUNT(*) FROM $t")" "$(my_sql "$db" "$q" | md5sum | cut -d' ' -f1)"
  fi
}
# same ENG SRC TGT T [TARGET_T]: source table T equals target table TARGET_T (default T).
same() { [ "$(digest "$1" "$2" "$4")" = "$(digest pg "$3" "${5:-$4}")" ]; }

# Creates tables a, b, d (ROWS rows each) and c (CROWS rows) on source DB of engine ENG.
make_tables() {
  local eng=$1 db=$2 t gen
  if [ "$eng" = pg ]; then gen="generate_series(1, %d) g"; else gen="seq_1_to_%d g"; fi
  for t in a b c d; do
    local n=$ROWS col=g
    [ "$t" = c ] && n=$CROWS
    [ "$eng" = my ] && col=g.seq
    # shellcheck disable=SC2059
    src_sql "$eng" "$db" "CREATE TABLE $t (id int PRIMARY KEY, v int NOT NULL, s varchar(40) NOT NULL);
      INSERT INTO $t (id, v, s) SELECT $col, $col * 7 % 1000, concat('$t-', $col) FROM $(printf "$gen" "$n")"
  done
}

# The writer: until FILE exists, transactions on source DB (ENG) that insert, update and
# delete rows of a, b, c and d.
writer() {
  local eng=$1 db=$2 stop=$3 i=0 t r sql
  while [ ! -f "$stop" ] && [ ! -f "$TMPD/stop.all" ]; do
    i=$((i + 1))
    sql="BEGIN;"
    for t in a b c d; do
      r=$((RANDOM % ROWS + 1))
      [ "$t" = c ] && r=$(((RANDOM * 32768 + RANDOM) % CROWS + 1))
      sql="$sql INSERT INTO $t (id, v, s) VALUES ($((1000000 + i)), $i, 'w$i');
        UPDATE $t SET v = v + 1, s = concat(s, '+') WHERE id = $r;
        DELETE FROM $t WHERE id = $(((r * 13) % ROWS + 1));"
    done
    src_sql "$eng" "$db" "$sql COMMIT;" >/dev/null 2>&1 || true
    sleep 0.05
  done
}

# The pid of the stream's `sluice run` under the server.
stream_child() {
  local k
  for k in $(cdc_children "$SRV_PID"); do
    tr '\0' ' ' <"/proc/$k/cmdline" 2>/dev/null | grep -q ' run ' && { echo "$k"; return 0; }
  done
  return 1
}

# The state of table T in the stats of stream SID ("" when it has none).
table_state() {
  api GET "/api/v1/streams/$1/stats"
  jq -r --arg t "$2" '[.tables[]? | select(.name == $t or (.name | endswith("." + $t)))][0].state // ""' <<<"$API_BODY"
}

# Runs one case: ENG (pg or my) source, PostgreSQL target.
run_case() {
  local eng=$1 SRC=sl_tables_${1}_src TGT=sl_tables_${1}_tgt NAME=tables-$1 src_url n b_at tables
  # the target tables of c and d (mapped to other names: see the top)
  local -A tt=([a]=a [c]=c [d]=d)
  tables='["a", "b", "d"]'
  if [ "$eng" = pg ]; then tt[c]=c2; else tt[d]=d2; tables='["a", "b", {"name": "d", "target": "d2"}]'; fi
  if [ "$eng" = pg ]; then cdc_pg_db "$SRC"; src_url=$(pg_url "$SRC"); else cdc_my_db "$SRC"; src_url=$(my_url "$SRC"); fi
  cdc_pg_db "$TGT"
  make_tables "$eng" "$SRC"
  write_cdc_spec "$TMPD/$eng.json" "$NAME" "$src_url" "$(pg_url "$TGT")" \
    '{"writers": 1, "chunk_rows": 1000, "table_errors": "stop_table"}' "$tables"
  [ "$eng" = pg ] && cdc_track "$TMPD/$eng.json" "$SRC"

  api_ok 201 POST "/api/v1/streams?start=true" "$(jq -c . "$TMPD/$eng.json")"
  local sid
  sid=$(jq -r .id <<<"$API_BODY")
  rm -f "$TMPD/$eng.stop"
  writer "$eng" "$SRC" "$TMPD/$eng.stop" &
  CDC_BG_PIDS+=($!)
  srv_wait_state "$sid" running 60
  wait_for "cdc_copied pg $TGT $NAME" 180 || die "$eng: the initial copy of a, b and d is not done after 180 s"
  note "$eng: initial copy done, streaming a, b and d under writes"

  # Add c with its copy held, let three chunks through, kill the stream once the target
  # holds some of c.
  touch "$STEP/hold"
  sleep 0.3
  rm -f "$STEP/go"
  local c0
  c0=$(chunks)
  if [ "$eng" = pg ]; then
    api_ok 200 POST "/api/v1/streams/$sid/tables" '{"tables": [{"name": "c", "target": "c2"}]}'
    assert_eq '["c"] true' "$(jq -c .added <<<"$API_BODY") $(jq -c .applied <<<"$API_BODY")" "added, applied"
  else
    SLUICE_URL=$SRV_URL SLUICE_API_KEY=$SRV_KEY "$SLUICE_BIN" stream tables add "$NAME" c >"$TMPD/cli.out" 2>&1 ||
      { cat "$TMPD/cli.out" >&2; die "sluice stream tables add failed"; }
    assert_grep 'table added' "$TMPD/cli.out" "sluice stream tables add"
  fi
  wait_for "[ \"\$(table_state $sid c)\" = copying ]" 60 || die "$eng: the added table c is not copying: $API_BODY"
  for k in 1 2 3; do
    touch "$STEP/go"
    wait_for "[ \$(chunks) -ge $((c0 + k)) ]" 60 || die "$eng: chunk $k of c was not read"
  done
  wait_for "[ \$(pg_sql $TGT 'SELECT count(*) FROM ${tt[c]}' 2>/dev/null || echo 0) -gt 0 ]" 60 ||
    die "$eng: no row of c committed on the target"
  local child
  child=$(stream_child) || die "$eng: no stream child under the server"
  kill -KILL "$child"
  n=$(pg_sql "$TGT" "SELECT count(*) FROM ${tt[c]}")
  [ "$n" -lt "$CROWS" ] || die "$eng: the kill came after c was copied"
  ! cdc_copied pg "$TGT" "$NAME" || die "$eng: the kill came after c's copy was done"
  note "$eng: SIGKILL during c's copy: $n of about $CROWS rows on the target"
  srv_wait_state "$sid" failed 60
  rm -f "$STEP/hold"
  api_ok 200 POST "/api/v1/streams/$sid/start"
  srv_wait_state "$sid" running 60
  wait_for "cdc_copied pg $TGT $NAME" 180 || die "$eng: c's copy is not done after 180 s"
  grep -Eq "table \"([^\"]*\\.)?c\": copying \\(generation [0-9]+, [1-9][0-9]* rows copied so far\\)" "$SRV_LOG" ||
    die "$eng: c's copy did not go on from the rows committed before the kill"
  note "$eng: c's copy resumed and done"

  # Damage d on the target: the next change to a row deleted there fails d alone
  # (options.table_errors "stop_table") while the others stream on; then resync it.
  pg_sql "$TGT" "DELETE FROM ${tt[d]} WHERE id % 7 = 0; UPDATE ${tt[d]} SET v = -1 WHERE id % 5 = 0"
  ! same "$eng" "$SRC" "$TGT" d "${tt[d]}" || die "$eng: d was not damaged"
  wait_for "[ \"\$(table_state $sid d)\" = failed ]" 90 || die "$eng: d did not fail alone: $API_BODY"
  local why
  table_state "$sid" d >/dev/null # (sets API_BODY here, not in a subshell)
  why=$(jq -r '[.tables[] | select(.state == "failed")][0].error' <<<"$API_BODY")
  assert_grep 'missing from the target table' <(echo "$why") "$eng: d's error in the stats"
  assert_eq running "$(srv_state "$sid")" "$eng: the stream's state while d has failed"
  local a_rows
  a_rows=$(pg_sql "$TGT" "SELECT count(*) FROM a WHERE id > 1000000")
  wait_for "[ \$(pg_sql $TGT 'SELECT count(*) FROM a WHERE id > 1000000') -gt $a_rows ]" 60 ||
    die "$eng: a took no change while d had failed"
  note "$eng: d failed alone ($why); a streams on"
  if [ "$eng" = pg ]; then
    api_ok 200 POST "/api/v1/streams/$sid/tables/d/resync"
    assert_eq true "$(jq -c .applied <<<"$API_BODY")" "resync applied"
  else
    SLUICE_URL=$SRV_URL SLUICE_API_KEY=$SRV_KEY "$SLUICE_BIN" stream tables resync "$NAME" d >"$TMPD/cli.out" 2>&1 ||
      { cat "$TMPD/cli.out" >&2; die "sluice stream tables resync failed"; }
  fi

  # Remove b: kept (pg case) or dropped (my case).
  if [ "$eng" = pg ]; then
    api_ok 200 DELETE "/api/v1/streams/$sid/tables/b"
    assert_eq '"b" false true' "$(jq -c .removed <<<"$API_BODY") $(jq -c .dropped <<<"$API_BODY") $(jq -c .applied <<<"$API_BODY")" \
      "removed, dropped, applied"
    b_at=$(digest pg "$TGT" b)
  else
    SLUICE_URL=$SRV_URL SLUICE_API_KEY=$SRV_KEY "$SLUICE_BIN" stream tables rm --drop "$NAME" b >"$TMPD/cli.out" 2>&1 ||
      { cat "$TMPD/cli.out" >&2; die "sluice stream tables rm --drop failed"; }
    assert_grep 'target table dropped' "$TMPD/cli.out" "sluice stream tables rm --drop"
  fi
  api_ok 200 GET "/api/v1/streams/$sid"
  local want='["a","d",{"name":"c","target":"c2"}]'
  [ "$eng" = my ] && want='["a",{"name":"d","target":"d2"},"c"]'
  assert_eq "$want" "$(jq -c .spec.source.tables <<<"$API_BODY")" "$eng: the spec's tables after add and remove"

  wait_for "cdc_copied pg $TGT $NAME" 180 || die "$eng: d's resync is not done after 180 s"
  sleep 2
  touch "$TMPD/$eng.stop"
  for t in a c d; do
    wait_for "same $eng $SRC $TGT $t ${tt[$t]}" 180 || true
    assert_eq "$(digest "$eng" "$SRC" "$t")" "$(digest pg "$TGT" "${tt[$t]}")" "$eng: table $t, source (expected) and target ${tt[$t]}"
  done
  if [ "$eng" = pg ]; then
    assert_eq "$b_at" "$(digest pg "$TGT" b)" "$eng: the removed b changed on the target after its removal"
    [ "$(digest pg "$SRC" b)" != "$b_at" ] || die "$eng: b had no write on the source after its removal"
  else
    assert_eq 0 "$(pg_sql "$TGT" "SELECT count(*) FROM pg_tables WHERE tablename = 'b'")" "$eng: b dropped on the target"
  fi
  wait_for "[ \"\$(table_state $sid a) \$(table_state $sid c) \$(table_state $sid d)\" = 'streaming streaming streaming' ]" 60 ||
    die "$eng: a, c and d are not all streaming: $API_BODY"
  note "$eng: a, c and d equal the source row by row; b removed$([ "$eng" = my ] && echo ' and dropped')"
  api_ok 200 POST "/api/v1/streams/$sid/stop"
  srv_wait_state "$sid" stopped 60
  api_ok 204 DELETE "/api/v1/streams/$sid?drop_slot=true"
}

# `sluice run` given a spec whose table list changed since its last run: PostgreSQL ->
# PostgreSQL, [a], then [a, c] (c copied beside the stream), then [c] (a left as it was).
run_spec_case() {
  local SRC=sl_tables_run_src TGT=sl_tables_run_tgt NAME=tables-run a_at pid
  cdc_pg_db "$SRC"
  cdc_pg_db "$TGT"
  make_tables pg "$SRC"
  write_cdc_spec "$TMPD/run.json" "$NAME" "$(pg_url "$SRC")" "$(pg_url "$TGT")" '{"writers": 1, "chunk_rows": 1000}' '["a"]'
  cdc_track "$TMPD/run.json" "$SRC"
  rm -f "$TMPD/run.stop"
  writer pg "$SRC" "$TMPD/run.stop" &
  CDC_BG_PIDS+=($!)
  cdc_start run "$TMPD/run.json" "$TMPD/run.data"
  pid=$CDC_PID
  wait_for "cdc_copied pg $TGT $NAME || ! kill -0 $pid" 120 && cdc_alive "$pid" || cdc_die "run [a]: no copy"
  cdc_stop "$pid"
  jq '.source.tables = ["a", "c"]' "$TMPD/run.json" >"$TMPD/run2.json" && mv "$TMPD/run2.json" "$TMPD/run.json"
  cdc_start run "$TMPD/run.json" "$TMPD/run.data"
  pid=$CDC_PID
  wait_for "grep -q 'table \"public.c\": copied (' '$CDC_LOG' || ! kill -0 $pid" 180 && cdc_alive "$pid" ||
    cdc_die "run [a, c]: c was not copied"
  cdc_stop "$pid"
  jq '.source.tables = ["c"]' "$TMPD/run.json" >"$TMPD/run2.json" && mv "$TMPD/run2.json" "$TMPD/run.json"
  cdc_start run "$TMPD/run.json" "$TMPD/run.data"
  pid=$CDC_PID
  wait_for "grep -q 'table \"public.a\" left the stream' '$CDC_LOG' || ! kill -0 $pid" 120 && cdc_alive "$pid" ||
    cdc_die "run [c]: a did not leave the stream"
  a_at=$(digest pg "$TGT" a)
  sleep 2
  touch "$TMPD/run.stop"
  wait_for "same pg $SRC $TGT c" 120 || true
  cdc_stop "$pid"
  assert_eq "$(digest pg "$SRC" c)" "$(digest pg "$TGT" c)" "run: table c, source (expected) and target"
  assert_eq "$a_at" "$(digest pg "$TGT" a)" "run: a changed on the target after it left the spec"
  [ "$(digest pg "$SRC" a)" != "$a_at" ] || die "run: a had no write on the source after it left the spec"
  note "run: c added and a removed by editing the spec; c equals the source, a kept as it was"
}

export SLUICE_API_KEY="key-$RANDOM$RANDOM"
SRV_KEY=$SLUICE_API_KEY
srv_start srv "$TMPD/data"
run_case pg
run_case my
srv_stop
run_spec_case
note "ok"
