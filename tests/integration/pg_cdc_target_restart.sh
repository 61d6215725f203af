#!/usr/bin/env bash
# pg_cdc_target_restart.sh: change data capture must ride out a restart of the target
# server by itself, under the pgbench workload (tests/sql/cdc_*.sql), with no change lost
# or applied twice:
#   A. PostgreSQL -> MariaDB: MariaDB is shut down while sluice streams, stays down 3 s
#      and is started again (same data dir and port, the command line of the running
#      server).
#   B. PostgreSQL -> PostgreSQL: the shared PostgreSQL server (source and target at once)
#      is restarted with pg_ctl -m fast, as target_restart.sh does: sluice loses its
#      replication connection and its target connections at the same moment.
# sluice is never restarted by the test: after the workload, the same process must catch up
# (the slot confirms the source's current LSN), stop on SIGTERM with exit 0, and the copy
# must equal the source (values both sides, cdc_audit id by id, `sluice verify`).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"

audit_max() { pg_sql "$1" "SELECT coalesce(max(id), 0) FROM cdc_audit"; }

# Restarts the test MariaDB server: shutdown, DOWN seconds with nothing listening, then the
# same command line again, detached (scripts/test-servers.sh stop finds it by its pid file).
my_restart() {
  local down=$1 pidf="$SLUICE_TEST_DIR/my/mariadbd.pid" pid cmd=()
  pid=$(cat "$pidf")
  mapfile -d '' -t cmd <"/proc/$pid/cmdline"
  [ "${#cmd[@]}" -gt 3 ] || die "cannot read the command line of mariadbd $pid"
  mariadb-admin --no-defaults --protocol=SOCKET -S "$SLUICE_TEST_MYSQL_SOCKET" -u root \
    --connect-timeout=5 shutdown || die "mariadb-admin shutdown failed"
  wait_for "! kill -0 $pid" 60 || die "mariadbd $pid did not stop"
  sleep "$down"
  setsid -f "${cmd[@]}" </dev/null >>"$SLUICE_TEST_DIR/my/stdout.log" 2>&1
  wait_for "my_sql '' 'SELECT 1'" 60 || die "mariadb did not come back"
  wait_for "[ -s '$pidf' ] && [ \"\$(cat '$pidf')\" != '$pid' ]" 10 || die "mariadb wrote no new pid file"
}

# Restarts the test PostgreSQL server (all sessions, replication included, are cut). The
# server's log goes on in DIR/pg/server.log, not to this test's stderr: the restarted server
# outlives the test. If the fast shutdown hangs (a walsender waits for its client to
# confirm what it was sent), sluice is killed to let it finish, the server is started
# again for the tests that follow, and the test fails.
pg_ctl_() { runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "$SLUICE_TEST_DIR/pg/data" "$@"; }
pg_ensure_up() {
  pg_ctl_ status >/dev/null 2>&1 && return 0
  pg_ctl_ -l "$SLUICE_TEST_DIR/pg/server.log" -o "-p $PGPORT" -w -t 60 start >/dev/null ||
    echo "FAIL: could not start PostgreSQL again" >&2
}
pg_restart() {
  local t0 p
  t0=$(now_ms)
  pg_ctl_ -l "$SLUICE_TEST_DIR/pg/server.log" -m fast -w -t 30 restart >"$TMPD/pg_ctl.out" 2>&1 && return 0
  cat "$TMPD/pg_ctl.out" >&2
  echo "--- the server's processes while the shutdown hangs:" >&2
  pgrep -a -P "$(head -n 1 "$SLUICE_TEST_DIR/pg/data/postmaster.pid")" >&2 || true
  for p in "${CDC_SLUICE_PIDS[@]}"; do cdc_kill_tree "$p"; done
  wait_for "! pg_ctl_ status" 60 || true
  note "PostgreSQL stopped $(($(now_ms) - t0)) ms after the fast shutdown began, once sluice was killed"
  pg_ensure_up
  die "pg_ctl -m fast restart did not finish in 30 s while sluice streamed: the shutdown waits for sluice (see above)"
}
on_exit pg_ensure_up

# run_part LABEL ENGINE: one part, target ENGINE (my or pg) in database $TGT.
run_part() {
  local label=$1 engine=$2 name="cdc-tr-$1" slot pid a_restart t0 n
  slot=$(cdc_slot_name "$name")
  cdc_workload_init "$SRC" 1
  write_cdc_spec "$TMPD/$label.json" "$name" "$(pg_url "$SRC")" "$TGT_URL" \
    '{"batch_rows": 1000, "writers": 2}' "$CDC_WORKLOAD_TABLES"
  cdc_track "$TMPD/$label.json" "$SRC"
  cdc_workload_start "$label" "$SRC" 150 3
  cdc_start "$label" "$TMPD/$label.json" "$TMPD/$label.data"
  pid=$CDC_PID
  wait_for "cdc_has_ckpt $engine $TGT $name || ! kill -0 $pid" 90 ||
    cdc_die "$label: no CDC checkpoint on the target after 90 s"
  cdc_alive "$pid" || cdc_die "$label: sluice exited during the initial load"
  sleep 3
  cdc_alive "$pid" || cdc_die "$label: sluice exited while streaming"
  a_restart=$(audit_max "$SRC")
  t0=$(now_ms)
  if [ "$engine" = my ]; then
    note "$label: restarting MariaDB (source audit id $a_restart)"
    my_restart 3
  else
    note "$label: restarting PostgreSQL (source audit id $a_restart)"
    pg_restart
  fi
  note "$label: the server was back after $(($(now_ms) - t0)) ms"
  sleep 6
  cdc_alive "$pid" || cdc_die "$label: sluice exited after the restart instead of recovering"
  # pgbench runs that were cut by the PostgreSQL restart fail: allowed in part B.
  cdc_workload_stop "$label" "$([ "$engine" = pg ] && echo 1 || echo 0)"
  [ "$(audit_max "$SRC")" -gt "$((a_restart + 300))" ] || die "$label: little workload after the restart"
  cdc_catch_up "$slot" "$pid" 90
  cdc_alive "$pid" || cdc_die "$label: sluice exited"
  cdc_stop "$pid"
  grep -iE 'retry|reconnect|lost|restart' "$TMPD/$label.err" | tail -n 3 || true

  note "$label: comparing"
  cdc_audit_same "$SRC" "$engine" "$TGT"
  if [ "$engine" = my ]; then
    n=$(my_sql "$TGT" "SELECT COUNT(*) FROM cdc_audit WHERE id > $a_restart")
    cdc_items_same_my "$SRC" "$TGT"
    assert_eq "$(pg_sql "$SRC" "SELECT sum(abalance) || '|' || count(*) FROM pgbench_accounts")" \
      "$(my_sql "$TGT" "SELECT CONCAT(SUM(abalance), '|', COUNT(*)) FROM pgbench_accounts")" \
      "$label: pgbench_accounts sum(abalance) and count"
    assert_eq "$(pg_sql "$SRC" "SELECT count(*) || '|' || sum(delta) || '|' || sum(aid) FROM pgbench_history")" \
      "$(my_sql "$TGT" "SELECT CONCAT(COUNT(*), '|', SUM(delta), '|', SUM(aid)) FROM pgbench_history")" \
      "$label: pgbench_history count, sum(delta), sum(aid)"
  else
    n=$(pg_sql "$TGT" "SELECT count(*) FROM cdc_audit WHERE id > $a_restart")
    for t in "pgbench_accounts aid" "pgbench_branches bid" "pgbench_tellers tid" \
      "pgbench_history tid, bid, aid, delta, mtime" "cdc_items region, item"; do
      cdc_pg_same "$SRC" "$TGT" "${t%% *}" "${t#* }"
    done
  fi
  [ "$n" -gt 300 ] || die "$label: only $n audit rows written after the restart reached the target"
  cdc_verify "$TMPD/$label.json" "$label.verify"
}

# ===== A. PostgreSQL -> MariaDB, MariaDB restarted ============================================
SRC=sl_cdc_tr_src TGT=sl_cdc_tr_my
cdc_pg_db "$SRC"
cdc_my_db "$TGT"
TGT_URL=$(my_url "$TGT")
run_part my my

# ===== B. PostgreSQL -> PostgreSQL, the PostgreSQL server restarted ===========================
SRC=sl_cdc_tr_src2 TGT=sl_cdc_tr_pg
cdc_pg_db "$SRC"
cdc_pg_db "$TGT"
TGT_URL=$(pg_url "$TGT")
run_part pg pg
note "ok"
