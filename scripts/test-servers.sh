#!/usr/bin/env bash
# test-servers.sh: starts and stops the PostgreSQL 15 and MariaDB 10.11 servers the tests use.
#
#   test-servers.sh start DIR   initialise and start both servers under DIR, on free loopback
#                               ports; wait until both accept password logins over TCP; write
#                               DIR/env.sh
#   test-servers.sh stop DIR    stop both (safe to call twice, or after a failed start)
#   test-servers.sh env DIR     print DIR/env.sh (for eval or source)
#
# PostgreSQL: superuser postgres / pgpass, scram-sha-256 over TCP (a wrong password is
# refused), trust only on the unix socket inside DIR/pg; wal_level=logical.
# MariaDB: root / mypass over TCP (root@127.0.0.1, root@%), root@localhost by unix
# socket auth or the same password; ROW binlog with full images and full metadata.
# Both are tuned for tests: no fsync (a killed server process loses nothing; only an OS crash
# would), but commits stay synchronous so crash tests of sluice mean something.
# S3: s3rver (tests/s3, npm) holding bucket sluice-test under DIR/s3, behind tests/s3/proxy.js,
# which verifies every request's SigV4 signature (credentials S3RVER / S3RVER) and can inject
# faults; tests talk to the proxy (SLUICE_TEST_S3_ENDPOINT) and may check objects on s3rver
# itself (SLUICE_TEST_S3_DIRECT). Skipped with a warning when tests/s3 cannot be installed.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PASSWORD=pgpass
MY_PASSWORD=mypass
START_TIMEOUT=${SLUICE_TEST_START_TIMEOUT:-90}
STOP_TIMEOUT=60

die() { echo "test-servers: $*" >&2; exit 1; }
note() { echo "test-servers: $*"; }
as_pg() { runuser -u postgres -- "$@"; }

# free_port [AVOID...]: a free loopback port (scripts/lib/free-port.sh).
# shellcheck source=lib/free-port.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/free-port.sh"

# Milliseconds since the epoch, for deadlines.
now_ms() { date +%s%3N; }

# Polls "$@" every 100 ms until it succeeds (0) or TIMEOUT seconds pass (1); stops early
# (2) when process PID has died. Usage: poll TIMEOUT PID CMD...
poll() {
  local timeout=$1 pid=$2 deadline
  shift 2
  deadline=$(($(now_ms) + timeout * 1000))
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || return 2
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# --- PostgreSQL ---------------------------------------------------------------------------

pg_pid() { head -n 1 "$DIR/pg/data/postmaster.pid" 2>/dev/null || true; }

pg_query_tcp() {
  PGPASSWORD=$PG_PASSWORD PGCONNECT_TIMEOUT=2 "$PG_BIN/psql" -X -q -At -h 127.0.0.1 \
    -p "$1" -U postgres -d postgres -c 'SELECT 1'
}

pg_init() {
  mkdir -p "$DIR/pg"
  chown postgres:postgres "$DIR/pg"
  chmod 700 "$DIR/pg"
  printf '%s\n' "$PG_PASSWORD" >"$DIR/pg/pwfile"
  chown postgres:postgres "$DIR/pg/pwfile"
  as_pg "$PG_BIN/initdb" -D "$DIR/pg/data" -U postgres --pwfile="$DIR/pg/pwfile" \
    -E UTF8 --no-locale --auth-local=trust --auth-host=scram-sha-256 \
    >"$DIR/pg/initdb.log" 2>&1 || { cat "$DIR/pg/initdb.log" >&2; die "initdb failed"; }
  rm -f "$DIR/pg/pwfile"
  # Only loopback over TCP, always with a password (initdb's defaults, stated here).
  cat >"$DIR/pg/data/pg_hba.conf" <<HBA
local all         all                 trust
local replication all                 trust
host  all         all   127.0.0.1/32  scram-sha-256
host  replication all   127.0.0.1/32  scram-sha-256
HBA
  cat >>"$DIR/pg/data/postgresql.conf" <<CONF

# --- sluice test server (scripts/test-servers.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR/pg'
password_encryption = 'scram-sha-256'
wal_level = logical
max_wal_senders = 20
max_replication_slots = 20
max_connections = 200
fsync = off
full_page_writes = off
logging_collector = off
log_min_messages = warning
CONF
  chown postgres:postgres "$DIR/pg/data/pg_hba.conf"
}

pg_start() {
  local attempt port
  [ -d "$DIR/pg/data" ] || pg_init
  for attempt in 1 2 3; do
    port=$(free_port) || die "could not find a free port"
    # pg_ctl -w polls until the server accepts connections, and returns at once if the
    # postmaster dies; then a real password login over TCP must work.
    if as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg/data" -l "$DIR/pg/server.log" -o "-p $port" \
      -w -t "$START_TIMEOUT" start >/dev/null 2>&1; then
      poll 10 "$(pg_pid)" pg_query_tcp "$port" ||
        die "postgres refuses postgres/$PG_PASSWORD over TCP on port $port"
      PG_PORT=$port
      return 0
    fi
    if grep -q 'could not bind\|Address already in use' "$DIR/pg/server.log" 2>/dev/null; then
      note "postgres could not bind port $port, trying another"
      pg_stop quiet
      mv "$DIR/pg/server.log" "$DIR/pg/server.log.$attempt"
      continue
    fi
    tail -n 30 "$DIR/pg/server.log" >&2 || true
    die "postgres did not accept connections on port $port within ${START_TIMEOUT}s"
  done
  die "postgres could not bind a free port in 3 attempts"
}

pg_stop() {
  [ -d "$DIR/pg/data" ] || return 0
  if as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg/data" status >/dev/null 2>&1; then
    if ! as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg/data" -m fast -w -t "$STOP_TIMEOUT" stop >/dev/null; then
      echo "test-servers: postgres did not stop within ${STOP_TIMEOUT}s" >&2
      return 1
    fi
    [ "${1:-}" = quiet ] || note "postgres stopped"
  fi
}

# --- MariaDB ------------------------------------------------------------------------------

my_pid() { cat "$DIR/my/mariadbd.pid" 2>/dev/null || true; }

my_socket_ping() {
  mariadb-admin --no-defaults --protocol=SOCKET -S "$DIR/my/mysqld.sock" -u root \
    --connect-timeout=2 ping
}

my_query_tcp() {
  MYSQL_PWD=$MY_PASSWORD mariadb --no-defaults --protocol=TCP -h 127.0.0.1 -P "$1" -u root \
    --connect-timeout=2 -N -B -e 'SELECT 1'
}

my_init() {
  mkdir -p "$DIR/my/tmp"
  mariadb-install-db --no-defaults --datadir="$DIR/my/data" --user=root --skip-test-db \
    --auth-root-authentication-method=socket >"$DIR/my/install.log" 2>&1 ||
    { cat "$DIR/my/install.log" >&2; die "mariadb-install-db failed"; }
}

# The first start sets the passwords; mariadb-install-db gives root@localhost unix socket
# auth only. The server listens on 127.0.0.1 and resolves no names, so TCP logins come from
# root@127.0.0.1; that row and root@'%' get the password.
my_setup_users() {
  mariadb --no-defaults --protocol=SOCKET -S "$DIR/my/mysqld.sock" -u root <<SQL
ALTER USER root@localhost IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('$MY_PASSWORD');
CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY '$MY_PASSWORD';
CREATE USER IF NOT EXISTS root@'%' IDENTIFIED BY '$MY_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO root@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO root@'%' WITH GRANT OPTION;
DELETE FROM mysql.global_priv WHERE User = '';
FLUSH PRIVILEGES;
SQL
}

my_start() {
  local attempt port pid rc first=0
  [ -d "$DIR/my/data" ] || { my_init; first=1; }
  for attempt in 1 2 3; do
    port=$(free_port "${PG_PORT:-}") || die "could not find a free port"
    # --no-defaults: nothing from /etc/mysql (its socket, port and bind address are the
    # system server's). Native AIO off: io_setup() can fail in containers.
    mariadbd --no-defaults --user=root --datadir="$DIR/my/data" --tmpdir="$DIR/my/tmp" \
      --socket="$DIR/my/mysqld.sock" --pid-file="$DIR/my/mariadbd.pid" \
      --port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
      --log-error="$DIR/my/error.log" \
      --log-bin="$DIR/my/data/binlog" --binlog-format=ROW --binlog-row-image=FULL \
      --binlog-row-metadata=FULL --server-id=1 --local-infile=1 \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
      --max-connections=300 --max-allowed-packet=256M \
      --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 \
      --innodb-doublewrite=0 --innodb-use-native-aio=0 \
      </dev/null >>"$DIR/my/stdout.log" 2>&1 &
    pid=$!
    echo "$pid" >"$DIR/my/mariadbd.pid"
    rc=0
    poll "$START_TIMEOUT" "$pid" my_socket_ping || rc=$?
    if [ "$rc" -eq 0 ]; then
      [ "$first" -eq 0 ] || my_setup_users >/dev/null || die "could not set the mariadb passwords"
      poll 10 "$pid" my_query_tcp "$port" || die "mariadb refuses root/mypass over TCP on port $port"
      MY_PORT=$port
      return 0
    fi
    if grep -q 'Do you already have another server running\|Address already in use' \
      "$DIR/my/error.log" 2>/dev/null; then
      note "mariadb could not bind port $port, trying another"
      my_stop quiet
      mv "$DIR/my/error.log" "$DIR/my/error.log.$attempt"
      continue
    fi
    tail -n 30 "$DIR/my/error.log" >&2 || true
    die "mariadb did not accept connections on port $port within ${START_TIMEOUT}s"
  done
  die "mariadb could not bind a free port in 3 attempts"
}

my_stop() {
  local pid
  pid=$(my_pid)
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$DIR/my/mariadbd.pid"
    return 0
  fi
  mariadb-admin --no-defaults --protocol=SOCKET -S "$DIR/my/mysqld.sock" -u root \
    --connect-timeout=5 shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  if ! poll "$STOP_TIMEOUT" "" sh -c "! kill -0 $pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    echo "test-servers: mariadb did not stop within ${STOP_TIMEOUT}s, killed" >&2
  fi
  rm -f "$DIR/my/mariadbd.pid"
  [ "${1:-}" = quiet ] || note "mariadb stopped"
}

# --- S3 (s3rver behind the SigV4-verifying proxy) -------------------------------------------

S3_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/s3" && pwd)
S3_BUCKET=sluice-test
S3_KEY=S3RVER

s3_http_ok() { curl -s -o /dev/null -f --max-time 2 "$1"; }

# Starts s3rver, then the proxy in front of it; sets S3_PORT (proxy) and S3_DIRECT_PORT.
# Returns 1 (after a warning) when the npm packages are not there and cannot be installed.
s3_start() {
  local attempt port pid rc
  mkdir -p "$DIR/s3/data"
  if [ ! -d "$S3_DIR/node_modules/s3rver" ] || [ ! -d "$S3_DIR/node_modules/aws4" ]; then
    (cd "$S3_DIR" && npm install --no-audit --no-fund --loglevel=error) >"$DIR/s3/npm.log" 2>&1 || {
      echo "test-servers: WARNING: npm install in tests/s3 failed (see $DIR/s3/npm.log): no S3 server" >&2
      return 1
    }
  fi
  for attempt in 1 2 3; do
    port=$(free_port "${PG_PORT:-}" "${MY_PORT:-}") || die "could not find a free port"
    # --openssl-legacy-provider: s3rver's paginated listing fails on Node >= 17 without it.
    # tests/s3/s3rver.js is s3rver's command line with a fix for a delete/PUT race.
    NODE_OPTIONS=--openssl-legacy-provider node "$S3_DIR/s3rver.js" \
      -d "$DIR/s3/data" -a 127.0.0.1 -p "$port" --silent --no-vhost-buckets \
      --configure-bucket "$S3_BUCKET" </dev/null >>"$DIR/s3/s3rver.log" 2>&1 &
    pid=$!
    echo "$pid" >"$DIR/s3/s3rver.pid"
    rc=0
    poll 30 "$pid" s3_http_ok "http://127.0.0.1:$port/$S3_BUCKET?list-type=2" || rc=$?
    if [ "$rc" -eq 0 ]; then
      S3_DIRECT_PORT=$port
      break
    fi
    s3_kill s3rver
    if [ "$rc" -eq 2 ] && grep -q EADDRINUSE "$DIR/s3/s3rver.log" 2>/dev/null; then
      note "s3rver could not bind port $port, trying another"
      continue
    fi
    tail -n 30 "$DIR/s3/s3rver.log" >&2 || true
    die "s3rver did not answer on port $port"
  done
  [ -n "${S3_DIRECT_PORT:-}" ] || die "s3rver could not bind a free port in 3 attempts"
  # The proxy binds port 0 (the kernel picks a free one) and writes it to a file when ready.
  rm -f "$DIR/s3/proxy.port"
  node "$S3_DIR/proxy.js" --port 0 --upstream-port "$S3_DIRECT_PORT" --access-key "$S3_KEY" \
    --secret-key "$S3_KEY" --port-file "$DIR/s3/proxy.port" </dev/null >>"$DIR/s3/proxy.log" 2>&1 &
  pid=$!
  echo "$pid" >"$DIR/s3/proxy.pid"
  poll 30 "$pid" test -s "$DIR/s3/proxy.port" || { cat "$DIR/s3/proxy.log" >&2; die "the S3 proxy did not start"; }
  S3_PORT=$(cat "$DIR/s3/proxy.port")
  poll 10 "$pid" s3_http_ok "http://127.0.0.1:$S3_PORT/__proxy/stats" ||
    die "the S3 proxy does not answer on port $S3_PORT"
}

# Stops the process whose pid is in DIR/s3/NAME.pid (TERM, then KILL after 10 s).
s3_kill() {
  local f="$DIR/s3/$1.pid" pid
  pid=$(cat "$f" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    poll 10 "" sh -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

s3_stop() {
  [ -d "$DIR/s3" ] || return 0
  s3_kill proxy
  s3_kill s3rver
}

# --- commands -----------------------------------------------------------------------------

write_env() {
  local tmp="$DIR/env.sh.tmp"
  cat >"$tmp" <<ENV
# Written by scripts/test-servers.sh start; source it (set -a not needed).
export SLUICE_TEST_DIR='$DIR'
export SLUICE_TEST_PG_PORT=$PG_PORT
export SLUICE_TEST_PG_URL='postgres://postgres:$PG_PASSWORD@127.0.0.1:$PG_PORT'
export SLUICE_TEST_PG_SOCKET_DIR='$DIR/pg'
export SLUICE_TEST_MYSQL_PORT=$MY_PORT
export SLUICE_TEST_MYSQL_URL='mysql://root:$MY_PASSWORD@127.0.0.1:$MY_PORT'
export SLUICE_TEST_MYSQL_SOCKET='$DIR/my/mysqld.sock'
export PGHOST=127.0.0.1
export PGPORT=$PG_PORT
export PGUSER=postgres
export PGPASSWORD='$PG_PASSWORD'
export MYSQL_HOST=127.0.0.1
export MYSQL_TCP_PORT=$MY_PORT
export MYSQL_PWD='$MY_PASSWORD'
ENV
  if [ -n "${S3_PORT:-}" ]; then
    cat >>"$tmp" <<ENV
export SLUICE_TEST_S3_ENDPOINT='http://127.0.0.1:$S3_PORT'
export SLUICE_TEST_S3_DIRECT='http://127.0.0.1:$S3_DIRECT_PORT'
export SLUICE_TEST_S3_BUCKET='$S3_BUCKET'
export SLUICE_TEST_S3_ACCESS_KEY='$S3_KEY'
export SLUICE_TEST_S3_SECRET_KEY='$S3_KEY'
export SLUICE_TEST_S3_URL='s3://$S3_KEY:$S3_KEY@$S3_BUCKET?endpoint=http://127.0.0.1:$S3_PORT&region=us-east-1'
ENV
  fi
  mv "$tmp" "$DIR/env.sh"
}

[ $# -eq 2 ] || die "usage: test-servers.sh start|stop|env DIR"
cmd=$1
[ -d "$2" ] || die "no such directory: $2"
DIR=$(cd "$2" && pwd)

case "$cmd" in
start)
  [ "$(id -u)" -eq 0 ] || die "must run as root (PostgreSQL runs as user postgres via runuser)"
  if [ -n "$(pg_pid)" ] && kill -0 "$(pg_pid)" 2>/dev/null; then die "postgres already runs in $DIR"; fi
  if [ -n "$(my_pid)" ] && kill -0 "$(my_pid)" 2>/dev/null; then die "mariadb already runs in $DIR"; fi
  # The postgres user must reach DIR/pg: mktemp -d makes DIR 0700 root.
  chmod 755 "$DIR"
  t0=$(now_ms)
  pg_start
  t1=$(now_ms)
  my_start
  t2=$(now_ms)
  s3_start || true
  t3=$(now_ms)
  write_env
  note "postgres on 127.0.0.1:$PG_PORT ($((t1 - t0)) ms), mariadb on 127.0.0.1:$MY_PORT ($((t2 - t1)) ms)"
  [ -z "${S3_PORT:-}" ] ||
    note "s3 (signature-checking proxy) on 127.0.0.1:$S3_PORT, s3rver on 127.0.0.1:$S3_DIRECT_PORT ($((t3 - t2)) ms)"
  note "environment in $DIR/env.sh"
  ;;
stop)
  rc=0
  pg_stop || rc=1
  my_stop || rc=1
  s3_stop || rc=1
  rm -f "$DIR/env.sh"
  exit "$rc"
  ;;
env)
  [ -f "$DIR/env.sh" ] || die "no $DIR/env.sh: start the servers first"
  cat "$DIR/env.sh"
  ;;
*) die "usage: test-servers.sh start|stop|env DIR" ;;
esac
