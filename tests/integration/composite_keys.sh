#!/usr/bin/env bash
# composite_keys.sh: tables whose primary key is not one integer (composite text+int,
# text+uuid, BIGINT UNSIGNED near 2^64) are cut into several chunks by sampled key
# boundaries, read in parallel and resumed by key after SIGKILL: both directions. The killed
# run reads its source through a throttle (tests/lib/throttle.mjs, 4 MB/s), so that the
# load cannot end before the kill on a fast machine; the rerun reads directly.
source "$(dirname "$0")/../lib/common.sh"
tmpdir

my=ck_my_$$
pg=ck_pg_$$
my_newdb "$my"
pg_newdb "$pg"
on_exit "my_sql '' 'DROP DATABASE IF EXISTS $my; DROP DATABASE IF EXISTS ${my}_back' >/dev/null 2>&1 || true"
on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $pg' >/dev/null 2>&1 || true"
on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS ${pg}_back' >/dev/null 2>&1 || true"

my_sql "$my" "CREATE TABLE pairs (a varchar(20), b int, v text, PRIMARY KEY (a, b));
  CREATE TABLE ub (id bigint unsigned PRIMARY KEY, v int);
  INSERT INTO pairs SELECT CONCAT('k', seq % 997), seq, REPEAT('x', seq % 7) FROM seq_1_to_150000;
  INSERT INTO ub SELECT 18446744073709551615 - seq, seq FROM seq_1_to_60000;
  ANALYZE TABLE pairs, ub" >/dev/null
pg_sql "$pg" "CREATE TABLE orders (region text, id uuid, n int, note varchar(30), PRIMARY KEY (region, id));
  INSERT INTO orders SELECT 'r' || (g % 13), md5(g::text)::uuid, g, repeat('y', g % 9)
    FROM generate_series(1, 150000) g;
  ANALYZE orders"

opts='{"writers": 2, "chunk_rows": 10000, "batch_rows": 1000}'
write_spec "$TMPD/my2pg.json" "ck-my2pg" "$(my_url "$my")" "$(pg_url "$pg")" "$opts"
write_spec "$TMPD/pg2my.json" "ck-pg2my" "$(pg_url "$pg")" "$(my_url "$my")" "$opts" '["orders"]'
throttle_start my "$MYSQL_TCP_PORT" 4000000
write_spec "$TMPD/my2pg.slow.json" "ck-my2pg" "$(my_url_via "$THROTTLE_PORT" "$my")" "$(pg_url "$pg")" "$opts"
throttle_start pg "$PGPORT" 4000000
write_spec "$TMPD/pg2my.slow.json" "ck-pg2my" "$(pg_url_via "$THROTTLE_PORT" "$pg")" "$(my_url "$my")" "$opts" '["orders"]'

# Counts of the rows on each target.
count_my2pg() { pg_sql "$pg" 'SELECT (SELECT COUNT(*) FROM pairs) + (SELECT COUNT(*) FROM ub)'; }
count_pg2my() { my_sql "$my" 'SELECT COUNT(*) FROM orders'; }

# Runs SPEC.slow.json (SPEC through the throttle), SIGKILLs it once more than 20000 rows
# arrived (COUNT is a function printing the target's rows), then reruns SPEC to the end.
# Fails unless the kill happened mid-load.
kill_and_finish() {
  local spec=$1 count=$2 total=$3 n pid
  "$SLUICE_BIN" run "${spec%.json}.slow.json" --data-dir "$TMPD/data-$(basename "$spec")" --no-progress >/dev/null 2>"$TMPD/kill.err" &
  pid=$!
  wait_for "[ \"\$($count 2>/dev/null || echo 0)\" -gt 20000 ] || ! kill -0 $pid 2>/dev/null" 120 ||
    die "no rows reached the target"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  n=$($count)
  note "killed $(basename "$spec") with $n of $total rows written"
  [ "$n" -lt "$total" ] || die "the load finished before the kill: the test proved nothing"
  sl_run "$TMPD/rerun" run "$spec" --data-dir "$TMPD/data-$(basename "$spec")" --no-progress
  [ "$SL_RC" -eq 0 ] || { cat "$TMPD/rerun.err" >&2; die "the rerun of $spec failed"; }
  assert_grep "resuming load" "$TMPD/rerun.err" "the rerun did not resume"
}

# MariaDB -> PostgreSQL
kill_and_finish "$TMPD/my2pg.json" count_my2pg 210000
chunks=$(pg_sql "$pg" "SELECT COUNT(*) FROM _sluice_checkpoint WHERE stream = 'ck-my2pg' AND key LIKE 's:%'")
[ "$chunks" -ge 10 ] || die "expected the tables cut into >= 10 chunks, got $chunks"
assert_eq 150000 "$(pg_sql "$pg" 'SELECT COUNT(*) FROM (SELECT DISTINCT a, b FROM pairs) s')" "distinct keys of pairs"
assert_eq 150000 "$(pg_sql "$pg" 'SELECT COUNT(*) FROM pairs')" "rows of pairs"
assert_eq 60000 "$(pg_sql "$pg" 'SELECT COUNT(DISTINCT id) FROM ub')" "distinct keys of ub"
assert_eq "18446744073709551614" "$(pg_sql "$pg" 'SELECT MAX(id) FROM ub')" "largest unsigned key"
assert_eq "$(my_sql "$my" 'SELECT SUM(LENGTH(v)), SUM(b) FROM pairs' | tr '\t' '|')" \
  "$(pg_sql "$pg" 'SELECT SUM(LENGTH(v)), SUM(b) FROM pairs')" "value sums of pairs"
sl_run "$TMPD/v1" verify "$TMPD/my2pg.json"
[ "$SL_RC" -eq 0 ] || { cat "$TMPD/v1.out" >&2; die "verify my2pg found differences"; }

# PostgreSQL -> MariaDB (into the same MariaDB database, table orders)
kill_and_finish "$TMPD/pg2my.json" count_pg2my 150000
assert_eq 150000 "$(my_sql "$my" 'SELECT COUNT(*) FROM (SELECT DISTINCT region, id FROM orders) s')" "distinct keys of orders"
assert_eq 150000 "$(my_sql "$my" 'SELECT COUNT(*) FROM orders')" "rows of orders"
assert_eq "$(pg_sql "$pg" 'SELECT SUM(n), SUM(LENGTH(note)), MIN(id::text), MAX(id::text) FROM orders')" \
  "$(my_sql "$my" 'SELECT SUM(n), SUM(LENGTH(note)), MIN(id), MAX(id) FROM orders' | tr '\t' '|')" "value sums of orders"
sl_run "$TMPD/v2" verify "$TMPD/pg2my.json"
[ "$SL_RC" -eq 0 ] || { cat "$TMPD/v2.out" >&2; die "verify pg2my found differences"; }
note "composite, text, uuid and unsigned keys: chunked, resumed, equal"
