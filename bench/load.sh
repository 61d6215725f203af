#!/usr/bin/env bash
# bench/load.sh [SCALE]: bulk-load benchmark, sluice beside its references in one run.
#
#   PostgreSQL -> PostgreSQL: sluice  vs  psql COPY TO STDOUT | psql COPY FROM STDIN (the raw limit)
#   MariaDB    -> PostgreSQL: sluice  vs  mariadb --quick | psql COPY (raw)  vs  pgloader
#
# on pgbench_accounts at pgbench scale SCALE (default 50 = 5,000,000 rows). Prints wall
# times, ratios and sluice's peak RSS (and the embedded nats-server's). Starts its own
# servers (scripts/test-servers.sh) under a temp dir; needs the packages of
# scripts/install-deps.sh. Not a test: results go to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scale=${1:-50}
[ -x build/sluice ] || bash scripts/build.sh >/dev/null
sluice=$PWD/build/sluice
dir=$(mktemp -d /tmp/sluice-bench.XXXXXX)
bash scripts/test-servers.sh start "$dir" >/dev/null
trap 'bash scripts/test-servers.sh stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
# shellcheck disable=SC1091
. "$dir/env.sh"

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }
pg() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
rows=$((scale * 100000))

echo "== preparing pgbench_accounts at scale $scale ($rows rows)"
pg -d postgres -c "CREATE DATABASE bench"
pgbench -i -s "$scale" -q -I dtgp bench >/dev/null 2>&1
mariadb -e "CREATE DATABASE bench"
mariadb bench -e "CREATE TABLE pgbench_accounts (aid int NOT NULL PRIMARY KEY, bid int, abalance int, filler char(84)) ENGINE=InnoDB"
pg -d bench -c "COPY pgbench_accounts TO STDOUT" > "$dir/accounts.tsv"
mariadb --local-infile=1 bench -e "SET GLOBAL local_infile=1; LOAD DATA LOCAL INFILE '$dir/accounts.tsv' INTO TABLE pgbench_accounts"
rm -f "$dir/accounts.tsv"
mariadb bench -e "ANALYZE TABLE pgbench_accounts" >/dev/null
pg -d bench -c "ANALYZE pgbench_accounts"
ddl="CREATE TABLE pgbench_accounts (aid int NOT NULL PRIMARY KEY, bid int, abalance int, filler character(84))"

fresh_pg() { pg -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"; }

# sluice run, timed, with the peak RSS of sluice itself and of its nats-server child,
# each read from /proc (VmHWM) while it runs: /usr/bin/time would report the larger of
# sluice and the child it reaps.
run_sluice() { # name spec
  local name=$1 spec=$2 start t pid
  start=$(now)
  "$sluice" run "$spec" --data-dir "$dir/$name.data" --no-progress 2> "$dir/$name.log" &
  pid=$!
  : > "$dir/$name.rss"; : > "$dir/$name.nats-rss"
  while kill -0 "$pid" 2>/dev/null; do
    awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null >> "$dir/$name.rss" || true
    for n in $(pgrep -P "$pid" nats-server); do
      awk '/VmHWM/ {print $2}' "/proc/$n/status" 2>/dev/null >> "$dir/$name.nats-rss" || true
    done
    sleep 0.2
  done
  wait "$pid" || { echo "sluice $name failed:" >&2; tail -5 "$dir/$name.log" >&2; exit 1; }
  t=$(elapsed "$start")
  echo "$t"
}
peak() { sort -n "$1" | tail -n 1; }

echo "== PostgreSQL -> PostgreSQL"
fresh_pg raw_pg
pg -d raw_pg -c "$ddl"
start=$(now)
pg -d bench -c "COPY pgbench_accounts TO STDOUT" | pg -d raw_pg -c "COPY pgbench_accounts FROM STDIN"
t_raw_pg=$(elapsed "$start")
fresh_pg sl_pg
cat > "$dir/pg2pg.json" <<JSON
{"name": "bench-pg2pg", "source": {"url": "$SLUICE_TEST_PG_URL/bench", "tables": ["pgbench_accounts"]},
 "target": {"url": "$SLUICE_TEST_PG_URL/sl_pg"}, "options": {}}
JSON
t_sl_pg=$(run_sluice pg2pg "$dir/pg2pg.json")
rss_pg=$(peak "$dir/pg2pg.rss"); nats_pg=$(peak "$dir/pg2pg.nats-rss")
[ "$(pg -d sl_pg -c 'SELECT count(*) FROM pgbench_accounts')" = "$rows" ] || { echo "sluice pg->pg row count wrong"; exit 1; }

echo "== MariaDB -> PostgreSQL"
fresh_pg raw_my
pg -d raw_my -c "$ddl"
start=$(now)
mariadb --quick -N -B bench -e "SELECT aid, bid, abalance, filler FROM pgbench_accounts" |
  pg -d raw_my -c "COPY pgbench_accounts FROM STDIN"
t_raw_my=$(elapsed "$start")
fresh_pg sl_my
cat > "$dir/my2pg.json" <<JSON
{"name": "bench-my2pg", "source": {"url": "$SLUICE_TEST_MYSQL_URL/bench", "tables": ["pgbench_accounts"]},
 "target": {"url": "$SLUICE_TEST_PG_URL/sl_my"}, "options": {}}
JSON
t_sl_my=$(run_sluice my2pg "$dir/my2pg.json")
rss_my=$(peak "$dir/my2pg.rss"); nats_my=$(peak "$dir/my2pg.nats-rss")
[ "$(pg -d sl_my -c 'SELECT count(*) FROM pgbench_accounts')" = "$rows" ] || { echo "sluice my->pg row count wrong"; exit 1; }
fresh_pg pgl_my
start=$(now)
pgloader --quiet "mysql://root:${MYSQL_PWD}@127.0.0.1:${MYSQL_TCP_PORT}/bench" \
  "postgresql://postgres:${PGPASSWORD}@127.0.0.1:${PGPORT}/pgl_my" > "$dir/pgloader.log" 2>&1 || {
  echo "pgloader failed:"; tail -20 "$dir/pgloader.log"; t_pgl=nan; }
t_pgl=${t_pgl:-$(elapsed "$start")}

ratio() { if [ "$2" = nan ]; then echo n/a; else echo "scale=2; $1 / $2" | bc; fi; }
echo
echo "results ($rows rows, $(nproc) cores, $(date -u +%Y-%m-%d))"
printf '%-34s %8.1f s\n' "raw COPY pipe pg->pg" "$t_raw_pg"
printf '%-34s %8.1f s   %sx raw   peak RSS %d MB (nats-server %d MB)\n' "sluice pg->pg" "$t_sl_pg" "$(ratio "$t_sl_pg" "$t_raw_pg")" $((rss_pg / 1024)) $((${nats_pg:-0} / 1024))
printf '%-34s %8.1f s\n' "raw mariadb|psql pipe my->pg" "$t_raw_my"
printf '%-34s %8s s\n' "pgloader my->pg" "$t_pgl"
printf '%-34s %8.1f s   %sx raw, %sx pgloader   peak RSS %d MB (nats-server %d MB)\n' "sluice my->pg" "$t_sl_my" "$(ratio "$t_sl_my" "$t_raw_my")" "$(ratio "$t_sl_my" "$t_pgl")" $((rss_my / 1024)) $((${nats_my:-0} / 1024))
