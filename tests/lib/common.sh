# shellcheck shell=bash
# common.sh: helpers for integration tests (tests/integration/*.sh). Source it first:
#
#   source "$(dirname "$0")/../lib/common.sh"
#
# It turns on `set -euo pipefail`, checks that the test servers' environment is present
# (scripts/test.sh provides it: SLUICE_TEST_*, PG*, MYSQL_*, and SLUICE_BIN from ctest) and
# defines the helpers below. SQL helpers talk to the servers over TCP with the passwords.
# Register exit actions with on_exit rather than `trap ... EXIT`, which would replace the
# trap that runs them (and removes tmpdir).
# Table digests print "ROWS MD5" over the rows in key order, for comparing a table with its
# copy on the same engine (pg→pg, mysql→mysql); across engines compare values, not digests.

set -euo pipefail

# tests/lib/ and the repository's test data (tests/data/: Chinook and its licence), found
# from this file so that a test needs nothing outside the repository.
SLUICE_TEST_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SLUICE_TEST_DATA=$(cd "$SLUICE_TEST_LIB/../data" && pwd)

# Prints a message to stderr and fails the test.
die() {
  echo "FAIL: $*" >&2
  exit 1
}

# Prints a progress line, prefixed with the test's name.
note() {
  echo "[$(basename "$0" .sh)] $*"
}

# Fails unless the test servers' variables are set (they come from scripts/test.sh).
require_test_env() {
  local v
  for v in SLUICE_TEST_PG_URL SLUICE_TEST_MYSQL_URL PGHOST PGPORT MYSQL_HOST MYSQL_TCP_PORT; do
    [ -n "${!v:-}" ] || die "$v is not set: run integration tests with scripts/test.sh" \
      "(or source the env.sh written by scripts/test-servers.sh start DIR before ctest)"
  done
}
require_test_env

# Runs SQL on PostgreSQL database DB and prints the results unaligned, one row a line,
# columns separated by '|'. SQL comes from the second argument or, without one, from stdin
# (pg_sql DB < file.sql). Stops at the first error; notices are not shown.
pg_sql() {
  local db=$1
  shift
  if [ $# -gt 0 ]; then
    printf '%s\n' "$1" | pg_sql "$db"
    return
  fi
  PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" \
    psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "${PGUSER:-postgres}" \
    -d "$db" -f -
}

# Runs SQL on MariaDB database DB ("" for none) and prints the results tab-separated without
# column names. SQL comes from the second argument or stdin, like pg_sql.
my_sql() {
  local db=$1
  shift
  local args=(--no-defaults --protocol=TCP -h "$MYSQL_HOST" -P "$MYSQL_TCP_PORT" -u root
    --default-character-set=utf8mb4 -N -B)
  [ -z "$db" ] || args+=("$db")
  if [ $# -gt 0 ]; then
    mariadb "${args[@]}" -e "$1"
  else
    mariadb "${args[@]}"
  fi
}

# Succeeds when no replication connection is using a slot of PostgreSQL database DB.
pg_slots_idle() {
  [ "$(pg_sql postgres "SELECT count(*) FROM pg_replication_slots
    WHERE database = '${1//\'/\'\'}' AND active")" = 0 ]
}

# Recreates PostgreSQL database NAME, empty. Replication slots on it are dropped first
# (their walsenders terminated), and other sessions are forced off.
pg_newdb() {
  local name=$1 lit=${1//\'/\'\'} q="\"${1//\"/\"\"}\""
  pg_sql postgres "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
    WHERE database = '$lit' AND active_pid IS NOT NULL" >/dev/null
  wait_for "pg_slots_idle $(printf %q "$name")" 30 || die "pg_newdb: slots of $name stay active"
  pg_sql postgres "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
    WHERE database = '$lit'" >/dev/null
  pg_sql postgres "DROP DATABASE IF EXISTS $q WITH (FORCE)"
  pg_sql postgres "CREATE DATABASE $q"
}

# Recreates MariaDB database NAME, empty, in utf8mb4.
my_newdb() {
  local q=\`${1//\`/\`\`}\`
  my_sql "" "DROP DATABASE IF EXISTS $q; CREATE DATABASE $q CHARACTER SET utf8mb4"
}

# Fails the test with MSG unless EXPECTED and ACTUAL are the same string.
assert_eq() {
  local expected=$1 actual=$2 msg=${3:-values differ}
  [ "$expected" == "$actual" ] && return 0
  printf 'FAIL: %s\n  expected: %s\n  actual:   %s\n' "$msg" "$expected" "$actual" >&2
  exit 1
}

# Runs CMD (a string, evaluated in this shell, so helpers work) every 0.2 s until it succeeds
# or TIMEOUT_SEC seconds have passed; returns 1 on timeout. wait_for "pg_sql db 'SELECT 1'" 30
wait_for() {
  local cmd=$1 timeout=${2:-30} deadline
  deadline=$(($(date +%s%3N) + timeout * 1000))
  until eval "$cmd" >/dev/null 2>&1; do
    if [ "$(date +%s%3N)" -ge "$deadline" ]; then
      echo "wait_for: timed out after ${timeout}s: $cmd" >&2
      return 1
    fi
    sleep 0.2
  done
}

# Commands run when the test exits, last registered first: on_exit "kill $pid".
SL_ON_EXIT=()
on_exit() {
  SL_ON_EXIT=("$1" "${SL_ON_EXIT[@]}")
}
sl_run_on_exit() {
  local c
  for c in "${SL_ON_EXIT[@]}"; do eval "$c" || true; done
}
trap sl_run_on_exit EXIT

# Creates the test's temp dir once, sets and exports TMPD to it, and removes it on exit
# (kept when SLUICE_TEST_KEEP=1). Call it as a plain command, not in $(...).
tmpdir() {
  [ -n "${TMPD:-}" ] && return 0
  TMPD=$(mktemp -d "${TMPDIR:-/tmp}/sluice-$(basename "$0" .sh).XXXXXX")
  export TMPD
  [ "${SLUICE_TEST_KEEP:-0}" = 1 ] || on_exit "rm -rf '$TMPD'"
}

# Prints "ROWS MD5" of PostgreSQL table TABLE ("name" or "schema.name", as stored: case
# kept) in database DB, the rows as row literals in ORDERCOL order (an SQL expression list,
# ties broken by the row text). Equal output means equal rows, NULL and '' told apart.
pg_table_digest() {
  local db=$1 table=$2 order=$3 qt
  if [[ "$table" == *.* ]]; then
    qt="\"${table%%.*}\".\"${table#*.}\""
  else
    qt="\"$table\""
  fi
  local n md5
  n=$(pg_sql "$db" "SELECT count(*) FROM $qt")
  md5=$(pg_sql "$db" "SELECT t::text FROM $qt t ORDER BY $order, 1" | md5sum | cut -d' ' -f1)
  echo "$n $md5"
}

# Prints "ROWS MD5" of MariaDB table TABLE (name as stored) in database DB, each column
# through QUOTE() (so NULL and 'NULL' differ) in ORDERCOL order, ties broken by the values
# compared as bytes.
my_table_digest() {
  local db=$1 table=$2 order=$3 qt="\`${2//\`/\`\`}\`" cols bcols n md5
  IFS=$'\t' read -r cols bcols < <(my_sql "$db" "
    SELECT GROUP_CONCAT(CONCAT('QUOTE(\`', REPLACE(COLUMN_NAME, '\`', '\`\`'), '\`)')
             ORDER BY ORDINAL_POSITION SEPARATOR ', '),
           GROUP_CONCAT(CONCAT('BINARY QUOTE(\`', REPLACE(COLUMN_NAME, '\`', '\`\`'), '\`)')
             ORDER BY ORDINAL_POSITION SEPARATOR ', ')
      FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table//\'/\'\'}'") || true
  if [ -z "$cols" ] || [ "$cols" = NULL ]; then die "my_table_digest: no table $db.$table"; fi
  n=$(my_sql "$db" "SELECT COUNT(*) FROM $qt")
  md5=$(my_sql "$db" "SELECT $cols FROM $qt ORDER BY $order, $bcols" | md5sum | cut -d' ' -f1)
  echo "$n $md5"
}

# --- sluice helpers (used by tests/integration/) ----------------------------------------

# Prints the URL of PostgreSQL database DB, or of MariaDB database DB, on the test servers.
pg_url() { echo "$SLUICE_TEST_PG_URL/$1"; }
my_url() { echo "$SLUICE_TEST_MYSQL_URL/$1"; }

# URLs of database DB through a throttle (throttle_start) on loopback port PORT.
pg_url_via() { echo "${SLUICE_TEST_PG_URL%:*}:$1/$2"; }
my_url_via() { echo "${SLUICE_TEST_MYSQL_URL%:*}:$1/$2"; }

# throttle_start NAME PORT RATE: starts tests/lib/throttle.mjs, a TCP proxy in front of
# loopback port PORT that moves at most RATE bytes/s (both directions together), and sets
# THROTTLE_PORT to its port. A kill test loads through it so that the load cannot finish
# before the kill on a fast machine (see throttle.mjs). Stopped by throttle_stop NAME, or
# at exit.
throttle_start() {
  local name=$1 port=$2 rate=$3 f
  tmpdir
  f=$TMPD/throttle.$name
  rm -f "$f.port"
  node "$SLUICE_TEST_LIB/throttle.mjs" --upstream-port "$port" --rate "$rate" \
    --port-file "$f.port" </dev/null >>"$f.log" 2>&1 &
  echo $! >"$f.pid"
  on_exit "throttle_stop $name"
  wait_for "[ -s '$f.port' ]" 30 || { cat "$f.log" >&2; die "throttle $name did not start"; }
  THROTTLE_PORT=$(cat "$f.port")
}
throttle_stop() {
  local f=$TMPD/throttle.$1 pid
  pid=$(cat "$f.pid" 2>/dev/null) || return 0
  rm -f "$f.pid"
  kill -TERM "$pid" 2>/dev/null || return 0
  wait "$pid" 2>/dev/null || true
  note "throttle $1: $(tail -n 1 "$f.log")"
}

# Writes a load spec to FILE: write_spec FILE NAME SOURCE_URL TARGET_URL [OPTIONS] [TABLES].
# OPTIONS is a JSON object ({} by default), TABLES a JSON array (omitted: every table).
write_spec() {
  local file=$1 name=$2 src=$3 tgt=$4 opts=${5:-'{}'} tables=${6:-}
  jq -n --arg name "$name" --arg src "$src" --arg tgt "$tgt" --argjson opts "$opts" \
    --argjson tables "${tables:-null}" '{name: $name, mode: "load",
      source: ({url: $src} + (if $tables == null then {} else {tables: $tables} end)),
      target: {url: $tgt}, options: $opts}' >"$file" || die "write_spec: bad JSON for $file"
}

# Runs the sluice binary with ARGS, its stdout in OUT.out and stderr in OUT.err, and sets
# SL_RC to its exit status (never fails the test by itself): sl_run "$TMPD/r1" run spec.json.
# shellcheck disable=SC2034  # SL_RC is read by the caller
sl_run() {
  local out=$1
  shift
  SL_RC=0
  "${SLUICE_BIN:?SLUICE_BIN is not set}" "$@" >"$out.out" 2>"$out.err" || SL_RC=$?
}

# Fails with MSG unless file FILE has a line matching extended regexp RE (case-insensitive);
# the file is shown on failure.
assert_grep() {
  local re=$1 file=$2 msg=${3:-pattern not found}
  grep -qiE -- "$re" "$file" && return 0
  printf 'FAIL: %s\n  no line matches /%s/ in %s:\n' "$msg" "$re" "$file" >&2
  sed 's/^/  | /' "$file" | head -n 40 >&2
  exit 1
}

# Creates the Chinook database (tests/data/chinook, 11 tables, 15,607 rows) under the name
# DB: chinook_mysql DB on MariaDB, chinook_pg DB on PostgreSQL (recreating DB).
chinook_mysql() {
  sed -e "1,40s/\`Chinook\`/\`$1\`/" "$SLUICE_TEST_DATA/chinook/Chinook_MySql.sql" | my_sql ""
}
chinook_pg() {
  pg_newdb "$1"
  sed -e '1,40{/^DROP DATABASE/d; /^CREATE DATABASE/d; s/^\\c chinook;//}' \
    "$SLUICE_TEST_DATA/chinook/Chinook_PostgreSql.sql" | pg_sql "$1" >/dev/null
}
