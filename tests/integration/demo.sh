#!/usr/bin/env bash
# demo.sh: `sluice server --demo` (docs/server.md "The demo"). It starts its own
# PostgreSQL and MariaDB under the data dir, fills MariaDB's shop database, and runs a CDC
# stream MariaDB → PostgreSQL, a Parquet export and a write load. Checked on the data:
# - rows move: the PostgreSQL copy of orders grows while the server runs;
# - with the write load held (FLUSH TABLES WITH READ LOCK on MariaDB), the PostgreSQL copy
#   catches up and equals MariaDB, table by table (counts, sums and a digest of every row);
# - the Parquet export holds every customer and product, read back by DuckDB;
# - a second start reuses the databases, connections and streams and keeps streaming;
# - stopping the server stops both database servers.
source "$(dirname "$0")/../lib/common.sh"
tmpdir
D=$TMPD/data

# Run as root with the data dir behind a directory the postgres user cannot enter (TMPD is
# 0700), the demo keeps PostgreSQL's files in the postgres user's home: remove them too, once
# the servers are gone.
# The servers are matched by this test's own dirs (the data dir, and the PostgreSQL dir it
# links to): other demos may run on the machine at the same time (another test pass).
demo_gone() {
  local pg
  pg=$(readlink "$D/demo/pg" 2>/dev/null || true)
  ! pgrep -f "$D/demo/(pg|my)/data${pg:+|$pg}" >/dev/null
}
cleanup_demo() {
  [ -z "${SRV:-}" ] || kill -9 "$SRV" 2>/dev/null || true
  wait_for demo_gone 60 || true
  local pg
  pg=$(readlink "$D/demo/pg" 2>/dev/null || true)
  case "$pg" in */sluice-demo-*) rm -rf "$pg" ;; esac
}
on_exit cleanup_demo
FILES_DIR=${SLUICE_SOURCE_DIR:?}/tests/files

start_server() { # $1: log name
  "$SLUICE_BIN" server --demo --data-dir "$D" --listen 127.0.0.1:0 >"$TMPD/$1.out" 2>"$TMPD/$1.err" &
  SRV=$!
  wait_for "grep -q '^demo: open' '$TMPD/$1.out' || grep -q '^demo: could not' '$TMPD/$1.out'" 180 ||
    { cat "$TMPD/$1.err" >&2; die "the demo did not come up"; }
  grep -q '^demo: open' "$TMPD/$1.out" || { cat "$TMPD/$1.out" "$TMPD/$1.err" >&2; die "the demo failed"; }
  API=$(sed -n 's/^listening on //p' "$TMPD/$1.out")
  KEY=$(sed -n 's/^demo: open .* API key //p' "$TMPD/$1.out")
  [ -n "$KEY" ] || die "the demo printed no API key"
}
stop_server() {
  kill -TERM "$SRV"
  wait_for "! kill -0 $SRV" 150 || die "the server did not stop"
}
api() { curl -sf -H "Authorization: Bearer $KEY" "$API$1"; }
state_of() { api "/api/v1/streams/$1" | jq -r .state; }

note "first start"
start_server s1
assert_eq "$(jq -r '.password | length' "$D/demo/state.json")" 32 "the demo's password"
[ "$(stat -c %a "$D/demo/state.json")" = 600 ] || die "state.json is not 0600"
[ "$(stat -c %a "$D/demo/api-key")" = 600 ] || die "the demo's api key file is not 0600"
PGP=$(jq -r .pg_port "$D/demo/state.json")
MYP=$(jq -r .mariadb_port "$D/demo/state.json")
PW=$(jq -r .password "$D/demo/state.json")
dpg() { PGPASSWORD=$PW psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGP" -U postgres -d shop -c "$1"; }
dmy() { MYSQL_PWD=$PW mariadb --no-defaults --protocol=TCP -h 127.0.0.1 -P "$MYP" -u root -N -B shop -e "$1"; }

wait_for '[ "$(state_of demo-mariadb-to-postgres)" = running ]' 120 || die "the CDC stream is not running"
wait_for '[ "$(state_of demo-parquet-export)" = completed ]' 120 || die "the export did not complete"
wait_for '[ "$(dpg "SELECT count(*) FROM orders" 2>/dev/null || echo 0)" -gt 20000 ]' 120 ||
  die "no change reached PostgreSQL (orders stay at $(dpg 'SELECT count(*) FROM orders'))"
n1=$(dpg "SELECT count(*) FROM orders")
wait_for "[ \"\$(dpg 'SELECT count(*) FROM orders')\" -gt $n1 ]" 60 || die "rows stopped moving"

# The same figures on both sides: counts, sums, and an md5 over every row's text.
MY_FIGURES="SELECT (SELECT COUNT(*) FROM customers), (SELECT MD5(GROUP_CONCAT(CONCAT_WS('|', id, name, email,
    region, DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s')) ORDER BY id SEPARATOR ',')) FROM customers);
  SELECT COUNT(*), SUM(stock), SUM(price) FROM products;
  SELECT COUNT(*), SUM(id), SUM(customer_id), SUM(total), SUM(status = 'paid'), SUM(status = 'shipped') FROM orders;
  SELECT MD5(GROUP_CONCAT(CONCAT_WS('|', id, status, total) ORDER BY id SEPARATOR ',')) FROM orders;
  SELECT COUNT(*), SUM(qty), SUM(qty * price), SUM(order_id * line) FROM order_items"
PG_FIGURES="SELECT (SELECT count(*) FROM customers) || '|' || (SELECT md5(string_agg(concat_ws('|', id, name, email,
    region, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS')), ',' ORDER BY id)) FROM customers);
  SELECT count(*) || '|' || sum(stock) || '|' || sum(price) FROM products;
  SELECT count(*) || '|' || sum(id) || '|' || sum(customer_id) || '|' || sum(total) || '|' ||
    count(*) FILTER (WHERE status = 'paid') || '|' || count(*) FILTER (WHERE status = 'shipped') FROM orders;
  SELECT md5(string_agg(concat_ws('|', id, status, total), ',' ORDER BY id)) FROM orders;
  SELECT count(*) || '|' || sum(qty) || '|' || sum(qty * price) || '|' || sum(order_id * line) FROM order_items"
figures_my() {
  MYSQL_PWD=$PW mariadb --no-defaults --protocol=TCP -h 127.0.0.1 -P "$MYP" -u root -N -B shop \
    --init-command="SET SESSION group_concat_max_len = 67108864" -e "$MY_FIGURES" | tr '\t' '|'
}
figures_pg() { dpg "$PG_FIGURES"; }

note "holding the write load and comparing"
coproc LOCK { MYSQL_PWD=$PW mariadb --no-defaults --unbuffered --protocol=TCP -h 127.0.0.1 -P "$MYP" -u root -N -B shop; }
echo "FLUSH TABLES WITH READ LOCK; SELECT 'locked';" >&"${LOCK[1]}"
read -r -t 60 line <&"${LOCK[0]}" || die "could not hold the write load"
assert_eq "$line" locked "read lock"
src=$(figures_my)
[ "$(echo "$src" | sed -n 1p | cut -d'|' -f1)" = 2000 ] || die "unexpected customers on MariaDB: $src"
wait_for '[ "$(figures_pg)" = "$src" ]' 120 || {
  printf 'MariaDB:\n%s\nPostgreSQL:\n%s\n' "$src" "$(figures_pg)" >&2
  die "the PostgreSQL copy does not catch up with MariaDB"
}
echo "UNLOCK TABLES;" >&"${LOCK[1]}"
exec {LOCK[1]}>&-
note "copy equal: $(echo "$src" | sed -n 3p | cut -d'|' -f1) orders"

note "the Parquet export"
for t in customers products; do
  n=0
  for f in "$D"/demo/export/$t/*.parquet; do
    n=$((n + $(node "$FILES_DIR/read.mjs" "$f" --reader duckdb | wc -l)))
  done
  assert_eq "$n" "$(dmy "SELECT COUNT(*) FROM $t")" "$t rows in the Parquet export"
done

note "second start: same databases, same streams, changes keep coming"
stop_server
demo_gone || die "a demo database server outlived the sluice server"
start_server s2
assert_eq "$(jq -r .pg_port "$D/demo/state.json")" "$PGP" "PostgreSQL port kept"
assert_eq "$(api /api/v1/streams | jq '[.streams[] | select(.name | startswith("demo-"))] | length')" 2 \
  "no stream made twice"
n2=$(dpg "SELECT count(*) FROM orders")
wait_for "[ \"\$(dpg 'SELECT count(*) FROM orders')\" -gt $n2 ]" 120 || die "no change after the second start"
stop_server
demo_gone || die "a demo database server outlived the sluice server"
note "ok"
