# shellcheck shell=bash
# cdc.sh: helpers for the change data capture tests (tests/integration/pg_cdc_*.sh). Source
# it right after common.sh:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
#
# It creates the test's temp dir (tmpdir) and registers one exit action, cdc_exit, that
# runs before the temp dir is removed and does, in this order: stop the workloads and
# samplers started here, SIGKILL every sluice started here (by pid, with its children), run
# `sluice cleanup` for every stream registered with cdc_track and drop what it left (the
# slot, its walsender, the publication), then drop the databases made with cdc_pg_db /
# cdc_my_db (kept with SLUICE_TEST_KEEP=1; slots are dropped anyway, they hold WAL).
#
# A CDC stream's slot and publication are both named sluice_<name>_<hash> (cdc_slot_name); its
# lane checkpoint is the row (stream, 'cdc:0') of the target's _sluice_checkpoint, whose
# position is JSON {"lsn": …, "idx": …, "flush": …}: flush is the source LSN sluice may
# confirm, and the slot's confirmed_flush_lsn must never pass it.

CDC_SQLDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../sql" && pwd)
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
PGBENCH=$(command -v pgbench || echo "$PG_BINDIR/pgbench")
[ -x "$PGBENCH" ] || die "pgbench not found (Debian package postgresql-15)"

tmpdir

CDC_SLUICE_PIDS=() # sluice runs started by cdc_start (killed at exit)
CDC_BG_PIDS=()     # workload loops and samplers (killed at exit)
CDC_STREAMS=()     # "spec<TAB>source db<TAB>slot" per cdc_track
CDC_PG_DBS=()
CDC_MY_DBS=()

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

# Prints the slot and publication name of a new stream NAME: sluice_<name>, lowercased,
# every character outside [a-z0-9_] replaced by '_', cut at 40 bytes, then '_' and the
# first 12 hex digits of the SHA-256 of the exact name (docs/cdc.md).
cdc_slot_name() {
  local n
  n=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]' | LC_ALL=C sed 's/[^a-z0-9_]/_/g')
  echo "sluice_${n:0:40}_$(printf '%s' "$1" | sha256sum | cut -c1-12)"
}

# Prints the name an earlier sluice gave the slot and publication of stream NAME (and of
# every name that differs from it only in case or punctuation): sluice_<name>, lowercased,
# every character outside [a-z0-9_] replaced by '_', at most 63 bytes.
cdc_legacy_slot_name() {
  local n
  n=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]' | LC_ALL=C sed 's/[^a-z0-9_]/_/g')
  n="sluice_$n"
  echo "${n:0:63}"
}

# Writes a CDC spec to FILE: write_cdc_spec FILE NAME SOURCE_URL TARGET_URL [OPTIONS]
# [TABLES]. OPTIONS (a JSON object) is merged over {"initial_load": true, "ordering":
# "transaction"}; TABLES is a JSON array (omitted: every table).
write_cdc_spec() {
  local file=$1 name=$2 src=$3 tgt=$4 opts=${5:-'{}'} tables=${6:-}
  jq -n --arg name "$name" --arg src "$src" --arg tgt "$tgt" --argjson opts "$opts" \
    --argjson tables "${tables:-null}" '{name: $name, mode: "cdc",
      source: ({url: $src} + (if $tables == null then {} else {tables: $tables} end)),
      target: {url: $tgt},
      options: ({initial_load: true, ordering: "transaction"} + $opts)}' >"$file" ||
    die "write_cdc_spec: bad JSON for $file"
}

# Recreates PostgreSQL (cdc_pg_db) or MariaDB (cdc_my_db) database NAME, empty, and drops
# it at exit after the slots are gone.
cdc_pg_db() {
  pg_newdb "$1"
  CDC_PG_DBS+=("$1")
}
cdc_my_db() {
  my_newdb "$1"
  CDC_MY_DBS+=("$1")
}

# Registers stream SPEC, whose source is PostgreSQL database SRC_DB, for cleanup at exit.
cdc_track() {
  local name
  name=$(jq -r .name "$1")
  CDC_STREAMS+=("$1"$'\t'"$2"$'\t'"$(cdc_slot_name "$name")")
}

# Prints the pids of the children of process PID (all its threads'), space-separated.
cdc_children() {
  cat /proc/"$1"/task/*/children 2>/dev/null | tr '\n' ' ' || true
}

# SIGKILLs process PID and then the children it had.
cdc_kill_tree() {
  local pid=$1 kids p
  kids=$(cdc_children "$pid")
  kill -KILL "$pid" 2>/dev/null || true
  for p in $kids; do kill -KILL "$p" 2>/dev/null || true; done
}

# Drops slot SLOT (terminating a walsender that holds it) and the publication of the same
# name in database DB, each if it exists.
cdc_drop_slot() {
  local slot=$1 db=$2 _
  for _ in $(seq 1 50); do
    [ "$(pg_sql postgres "SELECT count(*) FROM pg_replication_slots
      WHERE slot_name = '$slot' AND active_pid IS NOT NULL")" = 0 ] && break
    pg_sql postgres "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
      WHERE slot_name = '$slot' AND active_pid IS NOT NULL" >/dev/null || true
    sleep 0.2
  done
  pg_sql postgres "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
    WHERE slot_name = '$slot'" >/dev/null || true
  if [ "$(pg_sql postgres "SELECT count(*) FROM pg_database WHERE datname = '$db'")" = 1 ]; then
    pg_sql "$db" "DROP PUBLICATION IF EXISTS \"$slot\"" >/dev/null || true
  fi
}

cdc_exit() {
  local p s spec db slot
  [ -z "${TMPD:-}" ] || touch "$TMPD"/stop.all 2>/dev/null || true
  for p in "${CDC_BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${CDC_SLUICE_PIDS[@]}"; do cdc_kill_tree "$p"; done
  for p in "${CDC_BG_PIDS[@]}"; do cdc_kill_tree "$p"; done
  for s in "${CDC_STREAMS[@]}"; do
    IFS=$'\t' read -r spec db slot <<<"$s"
    if [ -f "$spec" ]; then
      timeout -k 5 60 "$SLUICE_BIN" cleanup "$spec" >/dev/null 2>&1 || true
    fi
    cdc_drop_slot "$slot" "$db"
  done
  [ "${SLUICE_TEST_KEEP:-0}" != 1 ] || return 0
  # (pg_sql's status is useless here: a bare `return` in a function called from an EXIT
  # trap returns the script's exit status, so check what is left instead.)
  for db in "${CDC_PG_DBS[@]}"; do
    pg_sql postgres "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null || true
    [ "$(pg_sql postgres "SELECT count(*) FROM pg_database WHERE datname = '$db'")" = 0 ] ||
      echo "cdc_exit: could not drop PostgreSQL database $db" >&2
  done
  for db in "${CDC_MY_DBS[@]}"; do
    my_sql "" "DROP DATABASE IF EXISTS \`$db\`" >/dev/null 2>&1 ||
      echo "cdc_exit: could not drop MariaDB database $db" >&2
  done
}
on_exit cdc_exit

# --- running sluice -------------------------------------------------------------------------

# Starts `sluice run SPEC --data-dir DIR --no-progress` in the background, its stdout and
# stderr appended to $TMPD/LABEL.out and .err; sets CDC_PID and CDC_LOG (the .err file).
cdc_start() {
  local label=$1 spec=$2 dir=$3
  echo "=== $(date +%T.%3N) sluice run" >>"$TMPD/$label.err"
  "${SLUICE_BIN:?}" run "$spec" --data-dir "$dir" --no-progress \
    >>"$TMPD/$label.out" 2>>"$TMPD/$label.err" &
  CDC_PID=$!
  CDC_LOG=$TMPD/$label.err
  CDC_SLUICE_PIDS+=("$CDC_PID")
}

# Writes the spec of stream NAME ($TMPD/LABEL.json) of table TABLE from source URL SRC_URL
# (database SRC_DB) into a new PostgreSQL database TGT, and registers it for cleanup at exit.
cdc_table_stream() {
  local label=$1 name=$2 src_url=$3 src_db=$4 tgt=$5 table=$6
  cdc_pg_db "$tgt"
  write_cdc_spec "$TMPD/$label.json" "$name" "$src_url" "$(pg_url "$tgt")" '{}' "[\"$table\"]"
  cdc_track "$TMPD/$label.json" "$src_db"
}

# Starts stream LABEL ($TMPD/LABEL.json) with binary BIN (default $SLUICE_BIN) and waits up to
# 90 s until shell condition COND holds, failing if sluice exits first; sets PID.
cdc_start_until() {
  local label=$1 cond=$2 bin=${3:-$SLUICE_BIN}
  SLUICE_BIN=$bin cdc_start "$label" "$TMPD/$label.json" "$TMPD/$label.data"
  PID=$CDC_PID
  wait_for "$cond || ! kill -0 $PID" 90 || cdc_die "$label: not there after 90 s: $cond"
  cdc_alive "$PID" || { cdc_wait_exit "$PID" 1; cdc_die "$label: sluice exited ($CDC_RC)"; }
}

# True while process PID runs.
cdc_alive() { kill -0 "$1" 2>/dev/null; }

# Prints the end of sluice's log LOG (default CDC_LOG) to stderr and fails with MSG.
cdc_die() {
  local msg=$1 log=${2:-${CDC_LOG:-}}
  if [ -n "$log" ] && [ -f "$log" ]; then
    echo "--- last lines of $log:" >&2
    tail -n 40 "$log" | sed 's/^/  | /' >&2
  fi
  die "$msg"
}

# Waits up to TIMEOUT seconds for background process PID to exit by itself and sets CDC_RC
# to its exit status (124 if it was still running: it is then SIGKILLed).
cdc_wait_exit() {
  local pid=$1 timeout=${2:-60} deadline
  deadline=$(($(now_ms) + timeout * 1000))
  while cdc_alive "$pid"; do
    if [ "$(now_ms)" -ge "$deadline" ]; then
      cdc_kill_tree "$pid"
      wait "$pid" 2>/dev/null || true
      CDC_RC=124
      return 0
    fi
    sleep 0.1
  done
  CDC_RC=0
  wait "$pid" 2>/dev/null || CDC_RC=$?
}

# Stops sluice PID with SIGTERM and asserts that it drains and exits 0 within TIMEOUT s.
cdc_stop() {
  local pid=$1 timeout=${2:-60} t0
  t0=$(now_ms)
  cdc_alive "$pid" || { cdc_wait_exit "$pid" 1; cdc_die "sluice $pid exited ($CDC_RC) before it was stopped"; }
  kill -TERM "$pid"
  cdc_wait_exit "$pid" "$timeout"
  [ "$CDC_RC" != 124 ] || cdc_die "sluice did not exit within ${timeout}s of SIGTERM"
  [ "$CDC_RC" = 0 ] || cdc_die "sluice exited $CDC_RC on SIGTERM (expected 0: drain, commit, confirm)"
  note "sluice stopped by SIGTERM in $(($(now_ms) - t0)) ms, exit 0"
}

# --- positions --------------------------------------------------------------------------------

# Prints confirmed_flush_lsn of slot SLOT (empty when the slot does not exist or is unset).
cdc_slot_confirmed() {
  pg_sql postgres "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '$1'"
}

# Prints how many slots are named SLOT (0 or 1).
cdc_slot_count() {
  pg_sql postgres "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$1'"
}

# Prints the flush LSN of the CDC lane checkpoint of stream STREAM on the target (ENGINE pg
# or my, database DB); empty while there is none (or no checkpoint table).
cdc_ckpt_flush() {
  local engine=$1 db=$2 stream=${3//\'/\'\'}
  if [ "$engine" = pg ]; then
    pg_sql "$db" "SELECT position::json->>'flush' FROM _sluice_checkpoint
      WHERE stream = '$stream' AND key = 'cdc:0'" 2>/dev/null || true
  else
    my_sql "$db" "SELECT JSON_UNQUOTE(JSON_EXTRACT(position, '\$.flush')) FROM _sluice_checkpoint
      WHERE stream = '$stream' AND \`key\` = 'cdc:0'" 2>/dev/null || true
  fi
}

# Succeeds when the CDC lane checkpoint of stream STREAM exists on the target and the
# stream's initial copy (made beside the change stream, checkpoint cdc_copy) is complete:
# the point where the target holds the source's rows, as the old initial load's hand-over
# was.
cdc_has_ckpt() {
  [ -n "$(cdc_ckpt_flush "$@")" ] || return 1
  local j
  j=$(cdc_ckpt "$@" cdc_copy)
  [ -z "$j" ] || jq -e 'all(.[]; .done >= .gen)' <<<"$j" >/dev/null 2>&1
}

# Prints checkpoint KEY of stream STREAM on the target (ENGINE pg or my, database DB):
# cdc_ckpt ENGINE DB STREAM KEY; empty while there is none.
cdc_ckpt() {
  local engine=$1 db=$2 stream=${3//\'/\'\'} key=$4
  if [ "$engine" = pg ]; then
    pg_sql "$db" "SELECT position FROM _sluice_checkpoint WHERE stream = '$stream' AND key = '$key'" 2>/dev/null || true
  else
    my_sql "$db" "SELECT position FROM _sluice_checkpoint WHERE stream = '$stream' AND \`key\` = '$key'" \
      2>/dev/null || true
  fi
}

# Succeeds once stream STREAM (target ENGINE pg or my, database DB) has copied every table
# it copies beside the change stream (its initial copy, added tables, resyncs): checkpoint
# "cdc_copy" says each table's copy generation is done (docs/cdc.md).
cdc_copied() {
  local j
  j=$(cdc_ckpt "$@" cdc_copy)
  [ -n "$j" ] && jq -e 'all(.[]; .done >= .gen)' <<<"$j" >/dev/null 2>&1
}

# Waits until slot SLOT has confirmed everything written on the source so far: takes
# L = pg_current_wal_lsn() now, then polls until confirmed_flush_lsn >= L (up to TIMEOUT
# s). Fails at once if sluice PID (optional) exits meanwhile.
cdc_catch_up() {
  local slot=$1 pid=${2:-} timeout=${3:-90} lsn deadline t0 ok
  t0=$(now_ms)
  lsn=$(pg_sql postgres "SELECT pg_current_wal_lsn()")
  deadline=$((t0 + timeout * 1000))
  while :; do
    ok=$(pg_sql postgres "SELECT confirmed_flush_lsn >= '$lsn'::pg_lsn FROM pg_replication_slots
      WHERE slot_name = '$slot'")
    [ "$ok" != t ] || break
    if [ -n "$pid" ] && ! cdc_alive "$pid"; then
      cdc_wait_exit "$pid" 1
      cdc_die "sluice exited ($CDC_RC) before confirming $lsn"
    fi
    [ "$(now_ms)" -lt "$deadline" ] ||
      cdc_die "slot $slot did not confirm $lsn within ${timeout}s (confirmed: $(cdc_slot_confirmed "$slot"))"
    sleep 0.2
  done
  note "caught up: $slot confirmed $lsn after $(($(now_ms) - t0)) ms"
}

# The apply log of the kill tests: a trigger on PostgreSQL target DB's cdc_audit (ENABLE
# ALWAYS, so it fires whatever session_replication_role sluice uses) logs every INSERT,
# UPDATE and DELETE sluice makes there in audit_applied, inside sluice's own transaction (a
# rolled-back batch leaves no log). Usage: cdc_apply_log_create DB.
cdc_apply_log_create() {
  pg_sql "$1" "
    CREATE TABLE audit_applied (id bigint NOT NULL, op text NOT NULL,
      xid bigint NOT NULL DEFAULT txid_current(), at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE FUNCTION audit_applied_log() RETURNS trigger LANGUAGE plpgsql AS \$\$
    BEGIN
      INSERT INTO audit_applied (id, op)
        VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, TG_OP);
      RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END \$\$;
    CREATE TRIGGER audit_applied_log BEFORE INSERT OR UPDATE OR DELETE ON cdc_audit
      FOR EACH ROW EXECUTE FUNCTION audit_applied_log();
    ALTER TABLE cdc_audit ENABLE ALWAYS TRIGGER audit_applied_log;"
}

# Checks the apply log of target DB for an insert-only source cdc_audit: the trigger is
# still enabled always, nothing but INSERTs was applied, and each of the STREAMED source
# ids above FROM_ID was inserted exactly once; STREAMED must exceed MIN (else the test
# proved nothing). Usage: cdc_apply_log_check DB STREAMED FROM_ID MIN.
cdc_apply_log_check() {
  local db=$1 streamed=$2 from=$3 min=$4
  assert_eq t "$(pg_sql "$db" "SELECT tgenabled = 'A' FROM pg_trigger WHERE tgname = 'audit_applied_log'")" \
    "the apply log trigger is still there, enabled always"
  assert_eq "" "$(pg_sql "$db" "SELECT string_agg(op || ' ' || id, ', ') FROM
    (SELECT * FROM audit_applied WHERE op <> 'INSERT' ORDER BY id LIMIT 10) s")" \
    "UPDATE or DELETE applied to the insert-only cdc_audit"
  [ "$streamed" -gt "$min" ] || die "only $streamed audit rows were streamed after id $from (need more than $min)"
  assert_eq "" "$(pg_sql "$db" "SELECT string_agg(id || ' x' || n, ', ') FROM (SELECT id, count(*) n
    FROM audit_applied WHERE id > $from GROUP BY id HAVING count(*) > 1 ORDER BY id LIMIT 10) s")" \
    "audit ids inserted more than once (id xTIMES) after id $from"
  assert_eq "$streamed" "$(pg_sql "$db" "SELECT count(DISTINCT id) FROM audit_applied WHERE id > $from")" \
    "audit ids > $from in the apply log"
}

# Runs `sluice verify SPEC` and asserts exit 0 ("all N tables equal").
cdc_verify() {
  local spec=$1 label=${2:-verify}
  sl_run "$TMPD/$label" verify "$spec"
  [ "$SL_RC" = 0 ] || { sed 's/^/  | /' "$TMPD/$label.out" "$TMPD/$label.err" >&2
    die "sluice verify $spec exited $SL_RC (0 = equal)"; }
  note "sluice verify: $(tail -n 1 "$TMPD/$label.out")"
}

# --- workload -------------------------------------------------------------------------------

# Prepares PostgreSQL database DB (empty) for the workload: pgbench -i at SCALE, then the
# tables of tests/sql/cdc_workload.sql (cdc_items, cdc_audit; pgbench_history gets
# REPLICA IDENTITY FULL).
cdc_workload_init() {
  local db=$1 scale=$2
  "$PGBENCH" -i -q -s "$scale" "$db" >"$TMPD/pgbench-init.$db.log" 2>&1 ||
    { cat "$TMPD/pgbench-init.$db.log" >&2; die "pgbench -i failed"; }
  pg_sql "$db" <"$CDC_SQLDIR/cdc_workload.sql" >/dev/null
}

# The workload's tables, as a JSON array for a spec.
# shellcheck disable=SC2034  # used by the tests
CDC_WORKLOAD_TABLES='["pgbench_accounts", "pgbench_branches", "pgbench_tellers", "pgbench_history", "cdc_items", "cdc_audit"]'

# Starts the workload on database DB in the background until cdc_workload_stop LABEL:
# pgbench runs of 2 s one after the other, each with CLIENTS clients at RATE transactions
# a second in all, mixing the builtin TPC-B-like script (weight 5),
# tests/sql/cdc_pgbench_items.sql (5) and tests/sql/cdc_pgbench_bulk.sql (1). Each run's
# exit status goes to $TMPD/LABEL.rcs, its report to $TMPD/LABEL.pgbench.log.
cdc_workload_start() {
  local label=$1 db=$2 rate=${3:-200} clients=${4:-3}
  rm -f "$TMPD/$label.stop" "$TMPD/$label.rcs"
  (
    set +e
    while [ ! -e "$TMPD/$label.stop" ] && [ ! -e "$TMPD/stop.all" ]; do
      "$PGBENCH" -n -T 2 -c "$clients" -j 1 -R "$rate" --max-tries=50 \
        -b tpcb-like@5 -f "$CDC_SQLDIR/cdc_pgbench_items.sql@5" \
        -f "$CDC_SQLDIR/cdc_pgbench_bulk.sql@1" "$db" >>"$TMPD/$label.pgbench.log" 2>&1
      echo "$? $(date +%T.%3N)" >>"$TMPD/$label.rcs"
    done
  ) &
  CDC_BG_PIDS+=("$!")
  eval "CDC_WL_PID_$label=$!"
}

# Stops the workload LABEL (the pgbench run in progress finishes first) and fails if a run
# failed, unless ALLOW_FAIL=1 (e.g. while the source server restarts). Prints nothing;
# notes the number of runs and transactions.
cdc_workload_stop() {
  local label=$1 allow=${2:-0} pidvar="CDC_WL_PID_$1" pid bad tx
  pid=${!pidvar}
  touch "$TMPD/$label.stop"
  wait_for "! kill -0 $pid" 30 || die "workload $label did not stop within 30 s"
  wait "$pid" 2>/dev/null || true
  [ -s "$TMPD/$label.rcs" ] || die "workload $label did no pgbench run"
  bad=$(awk '$1 != 0' "$TMPD/$label.rcs" | wc -l)
  tx=$(awk '/number of transactions actually processed/ {s += $NF} END {print s + 0}' \
    "$TMPD/$label.pgbench.log")
  note "workload $label: $(wc -l <"$TMPD/$label.rcs") pgbench runs, $tx transactions, $bad runs failed"
  if [ "$bad" != 0 ] && [ "$allow" != 1 ]; then
    grep -i -E 'error|abort' "$TMPD/$label.pgbench.log" | head -n 20 >&2
    tail -n 30 "$TMPD/$label.pgbench.log" >&2
    die "workload $label: $bad pgbench runs failed"
  fi
}

# --- comparing ------------------------------------------------------------------------------

# Prints "ROWS MD5" of PostgreSQL table TABLE in database DB: the md5 of its rows as row
# literals in ORDER order, computed by the server (as pg_table_digest, without moving the
# rows to the client).
cdc_pg_digest() {
  pg_sql "$1" "SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, E'\n' ORDER BY $3, t::text)), '-')
    FROM \"$2\" t"
}

# Asserts that PostgreSQL table TABLE is the same in databases SRC and TGT (count and md5
# of the rows in ORDER order, see cdc_pg_digest).
cdc_pg_same() {
  local src=$1 tgt=$2 table=$3 order=$4 a b
  a=$(cdc_pg_digest "$src" "$table" "$order")
  b=$(cdc_pg_digest "$tgt" "$table" "$order")
  assert_eq "$a" "$b" "$table: rows and md5 on the source (expected) and the target (actual)"
}

# Asserts that the text files A (source) and B (target) are equal; shows a diff.
cdc_same_file() {
  cmp -s "$1" "$2" && return 0
  echo "FAIL: $3 (< source, > target)" >&2
  diff "$1" "$2" | head -n 20 >&2
  exit 1
}

# Checks the audit table cdc_audit of PostgreSQL source SRC against the target (ENGINE pg or
# my, database DB): the same count, no id twice, the same ids and the same rows.
cdc_audit_same() {
  local src=$1 engine=$2 db=$3 n
  n=$(pg_sql "$src" "SELECT count(*) || ' ' || count(DISTINCT id) FROM cdc_audit")
  pg_sql "$src" "SELECT concat_ws('|', id, client, region, item, delta,
      to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')) FROM cdc_audit ORDER BY id" \
    >"$TMPD/audit.src"
  if [ "$engine" = pg ]; then
    assert_eq "$n" "$(pg_sql "$db" "SELECT count(*) || ' ' || count(DISTINCT id) FROM cdc_audit")" \
      "cdc_audit: count(*) and count(DISTINCT id), source (expected) and target"
    pg_sql "$db" "SELECT concat_ws('|', id, client, region, item, delta,
        to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')) FROM cdc_audit ORDER BY id" \
      >"$TMPD/audit.tgt"
  else
    assert_eq "$n" "$(my_sql "$db" "SELECT CONCAT(COUNT(*), ' ', COUNT(DISTINCT id)) FROM cdc_audit")" \
      "cdc_audit: count(*) and count(DISTINCT id), source (expected) and target"
    my_sql "$db" "SELECT CONCAT_WS('|', id, client, region, item, delta,
        DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f')) FROM cdc_audit ORDER BY id" >"$TMPD/audit.tgt"
  fi
  cdc_same_file "$TMPD/audit.src" "$TMPD/audit.tgt" "cdc_audit rows in id order"
  note "cdc_audit: ${n% *} rows on both sides, each id once"
}

# Checks cdc_items of PostgreSQL source SRC against MariaDB database DB, value by value.
cdc_items_same_my() {
  local src=$1 db=$2
  pg_sql "$src" "SELECT concat_ws('|', region, item, qty, coalesce(price::text, '<NULL>'),
      coalesce(note, '<NULL>'), to_char(touched AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'))
    FROM cdc_items" | LC_ALL=C sort >"$TMPD/items.src"
  my_sql "$db" "SELECT CONCAT_WS('|', region, item, qty, COALESCE(CAST(price AS CHAR), '<NULL>'),
      COALESCE(note, '<NULL>'), DATE_FORMAT(touched, '%Y-%m-%d %H:%i:%s.%f')) FROM cdc_items" |
    LC_ALL=C sort >"$TMPD/items.tgt"
  cdc_same_file "$TMPD/items.src" "$TMPD/items.tgt" "cdc_items rows"
}

# --- the type matrix under change -------------------------------------------------------------

# Creates tests/sql/types_pg.sql's tables (types_all and the bad_* ones) in database DB.
cdc_types_init() {
  pg_sql "$1" <"$CDC_SQLDIR/types_pg.sql" >/dev/null
}

# Runs INSERT, UPDATE and DELETE over every column of types_all in database DB, in three
# transactions: a copy of each of the 8 rows under id + 100 (every value, NULLs and extremes
# through the change stream); updates of ordinary columns, an update of row 2 that leaves
# its TOASTed text and 1 MB bytea unchanged, primary key changes (one of them of row 102,
# whose TOASTed values are not sent again); deletes.
cdc_types_dml() {
  local db=$1 cols
  cols=$(pg_sql "$db" "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
    FROM pg_attribute WHERE attrelid = 'types_all'::regclass AND attnum > 1
     AND NOT attisdropped AND attgenerated = ''")
  pg_sql "$db" "INSERT INTO types_all (id, $cols) SELECT id + 100, $cols FROM types_all WHERE id < 100"
  pg_sql "$db" "BEGIN;
    UPDATE types_all SET c_int = c_int / 2 + 1, c_text = c_text || ' (updated)',
           c_bool = NOT c_bool, c_numeric = c_numeric / 3 WHERE id IN (4, 104, 5, 105);
    UPDATE types_all SET c_bool = NOT c_bool, c_smallint = 7 WHERE id IN (2, 102);
    UPDATE types_all SET c_json = NULL, c_jsonb = '{\"new\": [null]}', c_text_arr = NULL,
           c_timestamptz = '2030-05-06 07:08:09.123456+02' WHERE id = 106;
    UPDATE types_all SET id = 201 WHERE id = 101;
    UPDATE types_all SET id = 202 WHERE id = 102;
    UPDATE types_all SET id = 9, c_varchar = 'moved' WHERE id = 4;
    COMMIT;"
  pg_sql "$db" "DELETE FROM types_all WHERE id IN (3, 105, 108)"
}
