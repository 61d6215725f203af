# shellcheck shell=bash
# my_pair.sh: a dedicated MariaDB primary and replica for one test (the shared test server
# is written by other tests at the same time, so a test that needs its own GTID history,
# a replica, or PURGE BINARY LOGS starts this pair). Source it right after common.sh and
# before cdc.sh, so that the pair is stopped after cdc_exit has killed sluice:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib/my_pair.sh"
#   my_pair_start
#
# Both servers run as scripts/test-servers.sh runs the shared one (--no-defaults, root with
# the tests' password over TCP on a free loopback port, socket and data under
# $TMPD/pair/{p,r}, ROW binlog with FULL image and FULL metadata), smaller (64 MB buffer
# pool, 16 MB redo log), with gtid_strict_mode on: the primary has server_id 11, the
# replica server_id 12 and log_slave_updates, replicating from the primary with
# master_use_gtid=slave_pos. One data directory is initialised and copied, and both servers
# start at the same time (a few seconds in all). Nothing written while setting up goes to
# a binlog (sql_log_bin=0), so both binlogs hold only what the test writes on the primary,
# and the replica's GTIDs are the primary's.
#
# After my_pair_start: MY_PAIR_PORT_p, MY_PAIR_PORT_r (ports), my_pair_sql p|r DB [SQL],
# my_pair_url p|r DB, my_pair_gtid_pos p|r, my_pair_wait_synced [TIMEOUT], my_pair_binlog
# p|r (the current binlog file). The servers are stopped at exit (my_pair_stop).

MY_PAIR_PASSWORD=${MYSQL_PWD:-mypass}
MY_PAIR_START_TIMEOUT=${SLUICE_TEST_START_TIMEOUT:-90}
MY_PAIR_NAMES=()
MY_PAIR_PORT_p='' MY_PAIR_PORT_r=''
# shellcheck disable=SC2034  # read through ${!pidvar}
MY_PAIR_PID_p='' MY_PAIR_PID_r=''

tmpdir
MY_PAIR_DIR=$TMPD/pair
on_exit my_pair_stop

# free_port [AVOID...] (scripts/lib/free-port.sh, shared with scripts/test-servers.sh)
# shellcheck source=../../scripts/lib/free-port.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/free-port.sh"

# Starts server NAME (p or r) with server id ID on a free port (avoiding AVOID) and extra
# options; sets MY_PAIR_PID_<NAME> and MY_PAIR_PORT_<NAME>. Does not wait.
my_pair_launch() {
  local name=$1 id=$2 avoid=$3 d=$MY_PAIR_DIR/$1 port
  shift 3
  port=$(free_port "$avoid") || die "my_pair: could not find a free port"
  mariadbd --no-defaults --user=root --datadir="$d/data" --tmpdir="$d/tmp" \
    --socket="$d/mysqld.sock" --pid-file="$d/mariadbd.pid" \
    --port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
    --log-error="$d/error.log" \
    --log-bin="$d/data/binlog" --binlog-format=ROW --binlog-row-image=FULL \
    --binlog-row-metadata=FULL --server-id="$id" --gtid-strict-mode=ON \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --max-connections=100 --max-allowed-packet=64M \
    --innodb-buffer-pool-size=64M --innodb-log-file-size=16M \
    --innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0 --innodb-use-native-aio=0 \
    "$@" </dev/null >>"$d/stdout.log" 2>&1 &
  printf -v "MY_PAIR_PID_$name" %s "$!"
  printf -v "MY_PAIR_PORT_$name" %s "$port"
}

# Succeeds when server NAME answers on its socket.
my_pair_ping() {
  mariadb-admin --no-defaults --protocol=SOCKET -h localhost -S "$MY_PAIR_DIR/$1/mysqld.sock" -u root \
    --connect-timeout=2 ping >/dev/null 2>&1
}

# Waits until server NAME answers (0), or its process died (1) or the start timed out (2).
my_pair_wait_up() {
  local name=$1 pidvar="MY_PAIR_PID_$1" deadline
  deadline=$(($(date +%s%3N) + MY_PAIR_START_TIMEOUT * 1000))
  until my_pair_ping "$name"; do
    kill -0 "${!pidvar}" 2>/dev/null || return 1
    [ "$(date +%s%3N)" -lt "$deadline" ] || return 2
    sleep 0.1
  done
}

# Runs SQL as root over server NAME's socket (for the setup), nothing binlogged. (-h
# localhost everywhere with -S: with MYSQL_HOST set, as in the tests, the client would
# otherwise ignore the socket and talk to the shared test server over TCP.)
my_pair_root() {
  { echo "SET SESSION sql_log_bin = 0;"; cat; } |
    mariadb --no-defaults --protocol=SOCKET -h localhost -S "$MY_PAIR_DIR/$1/mysqld.sock" -u root -N -B
}

# Runs SQL on database DB ("" for none) of server NAME (p or r) over TCP, like my_sql.
my_pair_sql() {
  local name=$1 portvar="MY_PAIR_PORT_$1"
  shift
  MYSQL_TCP_PORT=${!portvar} MYSQL_PWD=$MY_PAIR_PASSWORD my_sql "$@"
}

# Prints the sluice URL of database DB on server NAME.
my_pair_url() {
  local portvar="MY_PAIR_PORT_$1"
  echo "mysql://root:$MY_PAIR_PASSWORD@127.0.0.1:${!portvar}/$2"
}

# Prints @@gtid_binlog_pos of server NAME ("" before the first transaction).
my_pair_gtid_pos() { my_pair_sql "$1" "" "SELECT @@GLOBAL.gtid_binlog_pos"; }

# Prints the current binlog file of server NAME (SHOW MASTER STATUS).
my_pair_binlog() { my_pair_sql "$1" "" "SHOW MASTER STATUS" | cut -f1; }

# Prints field FIELD of SHOW SLAVE STATUS on the replica.
my_pair_slave_field() {
  MYSQL_PWD=$MY_PAIR_PASSWORD mariadb --no-defaults --protocol=TCP -h 127.0.0.1 \
    -P "$MY_PAIR_PORT_r" -u root -E -e "SHOW SLAVE STATUS" |
    sed -n "s/^ *$1: //p"
}

# Succeeds when the replica has applied and binlogged everything the primary binlogged:
# the replica's gtid_slave_pos and gtid_binlog_pos both equal the primary's gtid_binlog_pos.
my_pair_synced() {
  local p r
  p=$(my_pair_gtid_pos p)
  r=$(my_pair_sql r "" "SELECT CONCAT(@@GLOBAL.gtid_slave_pos, ' ', @@GLOBAL.gtid_binlog_pos)")
  [ "$r" = "$p $p" ]
}

# Waits up to TIMEOUT s (default 60) until my_pair_synced; fails with the replica's state.
my_pair_wait_synced() {
  local timeout=${1:-60}
  wait_for my_pair_synced "$timeout" && return 0
  echo "primary gtid_binlog_pos: $(my_pair_gtid_pos p)" >&2
  echo "replica gtid_slave_pos, gtid_binlog_pos: $(my_pair_sql r "" \
    "SELECT CONCAT(@@GLOBAL.gtid_slave_pos, ' / ', @@GLOBAL.gtid_binlog_pos)")" >&2
  echo "replica: IO $(my_pair_slave_field Slave_IO_Running), SQL $(my_pair_slave_field Slave_SQL_Running)," \
    "last error: $(my_pair_slave_field Last_Error)$(my_pair_slave_field Last_IO_Error)" >&2
  die "my_pair: the replica did not catch up with the primary within ${timeout}s"
}

# Initialises, starts and connects the pair (see the top of the file).
my_pair_start() {
  local t0 name id attempt rc extra
  t0=$(date +%s%3N)
  mkdir -p "$MY_PAIR_DIR/p/tmp" "$MY_PAIR_DIR/r/tmp"
  mariadb-install-db --no-defaults --datadir="$MY_PAIR_DIR/p/data" --user=root --skip-test-db \
    --auth-root-authentication-method=socket --innodb-log-file-size=16M \
    >"$MY_PAIR_DIR/install.log" 2>&1 ||
    { cat "$MY_PAIR_DIR/install.log" >&2; die "my_pair: mariadb-install-db failed"; }
  cp -a "$MY_PAIR_DIR/p/data" "$MY_PAIR_DIR/r/data"
  MY_PAIR_NAMES=(p r)
  my_pair_launch p 11 ""
  my_pair_launch r 12 "$MY_PAIR_PORT_p" --log-slave-updates --relay-log="$MY_PAIR_DIR/r/data/relay"
  for name in p r; do
    for attempt in 1 2 3; do
      rc=0
      my_pair_wait_up "$name" || rc=$?
      [ "$rc" != 0 ] || break
      if [ "$rc" = 1 ] && [ "$attempt" -lt 3 ] && grep -q 'Do you already have another server running\|Address already in use' \
        "$MY_PAIR_DIR/$name/error.log" 2>/dev/null; then
        note "my_pair: server $name could not bind its port, trying another"
        mv "$MY_PAIR_DIR/$name/error.log" "$MY_PAIR_DIR/$name/error.log.$attempt"
        if [ "$name" = p ]; then id=11 extra=(); else id=12 extra=(--log-slave-updates --relay-log="$MY_PAIR_DIR/r/data/relay"); fi
        my_pair_launch "$name" "$id" "$MY_PAIR_PORT_p $MY_PAIR_PORT_r" "${extra[@]}"
        continue
      fi
      tail -n 30 "$MY_PAIR_DIR/$name/error.log" >&2 || true
      die "my_pair: MariaDB $name did not start (see above)"
    done
  done
  for name in p r; do
    my_pair_root "$name" <<SQL || die "my_pair: could not set up users on $name"
ALTER USER root@localhost IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('$MY_PAIR_PASSWORD');
CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY '$MY_PAIR_PASSWORD';
CREATE USER IF NOT EXISTS root@'%' IDENTIFIED BY '$MY_PAIR_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO root@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO root@'%' WITH GRANT OPTION;
DELETE FROM mysql.global_priv WHERE User = '';
FLUSH PRIVILEGES;
SQL
  done
  my_pair_root r <<SQL || die "my_pair: CHANGE MASTER on the replica failed"
CHANGE MASTER TO master_host = '127.0.0.1', master_port = $MY_PAIR_PORT_p, master_user = 'root',
  master_password = '$MY_PAIR_PASSWORD', master_use_gtid = slave_pos, master_connect_retry = 1;
START SLAVE;
SQL
  # shellcheck disable=SC2016  # evaluated by wait_for
  wait_for '[ "$(my_pair_slave_field Slave_IO_Running)/$(my_pair_slave_field Slave_SQL_Running)" = Yes/Yes ]' 30 ||
    die "my_pair: replication does not run: $(my_pair_slave_field Last_IO_Error) $(my_pair_slave_field Last_SQL_Error)"
  note "my_pair: primary (server_id 11) on 127.0.0.1:$MY_PAIR_PORT_p, replica (12) on" \
    "127.0.0.1:$MY_PAIR_PORT_r, replicating by GTID, after $(($(date +%s%3N) - t0)) ms"
}

# Stops both servers (shutdown over the socket, SIGKILL after 30 s); safe to call twice.
my_pair_stop() {
  local name pidvar pid
  for name in "${MY_PAIR_NAMES[@]}"; do
    pidvar="MY_PAIR_PID_$name"
    pid=${!pidvar:-}
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then continue; fi
    mariadb-admin --no-defaults --protocol=SOCKET -h localhost -S "$MY_PAIR_DIR/$name/mysqld.sock" -u root \
      --connect-timeout=5 shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  done
  for name in "${MY_PAIR_NAMES[@]}"; do
    pidvar="MY_PAIR_PID_$name"
    pid=${!pidvar:-}
    [ -n "$pid" ] || continue
    if ! wait_for "! kill -0 $pid" 30; then
      kill -KILL "$pid" 2>/dev/null || true
      echo "my_pair: MariaDB $name did not stop within 30 s, killed" >&2
    fi
    wait "$pid" 2>/dev/null || true
  done
  MY_PAIR_NAMES=()
}
