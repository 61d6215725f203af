#!/usr/bin/env bash
# target_restart.sh: the PostgreSQL target is restarted (all connections cut) in the
# middle of a MariaDB -> PostgreSQL load. sluice must retry with backoff, recover by
# itself and end with the target equal to the source: every row once. The source is read
# through a throttle (tests/lib/throttle.mjs, 4 MB/s), so that the load is still going when
# the restart comes, however fast the machine.
source "$(dirname "$0")/../lib/common.sh"
tmpdir

src=tr_src_$$
dst=tr_dst_$$
my_newdb "$src"
pg_newdb "$dst"
on_exit "my_sql '' 'DROP DATABASE IF EXISTS $src' >/dev/null 2>&1 || true"
on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $dst' >/dev/null 2>&1 || true"

total=300000
my_sql "$src" "CREATE TABLE items (id int PRIMARY KEY, name varchar(40), amount decimal(12,2), at datetime(6))"
# MariaDB's SEQUENCE engine: seq_1_to_N is a table of 1..N
my_sql "$src" "INSERT INTO items SELECT seq, CONCAT('item-', seq), seq * 1.25,
  TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_$total"
assert_eq "$total" "$(my_sql "$src" 'SELECT COUNT(*) FROM items')" "source rows"

write_spec "$TMPD/spec.json" "target-restart" "$(my_url "$src")" "$(pg_url "$dst")" \
  '{"writers": 2, "batch_rows": 1000, "chunk_rows": 10000}'
throttle_start my "$MYSQL_TCP_PORT" 4000000
write_spec "$TMPD/slow.json" "target-restart" "$(my_url_via "$THROTTLE_PORT" "$src")" "$(pg_url "$dst")" \
  '{"writers": 2, "batch_rows": 1000, "chunk_rows": 10000}'

"$SLUICE_BIN" run "$TMPD/slow.json" --data-dir "$TMPD/data" --no-progress >"$TMPD/run.out" 2>"$TMPD/run.err" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null || true"

# wait until rows are arriving, then restart the target under the load
target_rows() { pg_sql "$dst" 'SELECT COUNT(*) FROM items' 2>/dev/null || echo 0; }
wait_for '[ "$(target_rows)" -gt 0 ]' 60 || die "no row reached the target"
before=$(target_rows)
note "restarting PostgreSQL with $before of $total rows on the target"
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$SLUICE_TEST_DIR/pg/data" -m fast -w restart >/dev/null
[ "$before" -lt "$total" ] || die "the load finished before the restart ($before rows): the test proved nothing"

rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { cat "$TMPD/run.err" >&2; die "sluice exited $rc after the target restart"; }

assert_eq "$total" "$(pg_sql "$dst" 'SELECT COUNT(*) FROM items')" "target rows"
assert_eq "$total" "$(pg_sql "$dst" 'SELECT COUNT(DISTINCT id) FROM items')" "distinct ids on the target"
# independent value check: the same sums on both sides
assert_eq "$(my_sql "$src" 'SELECT SUM(amount), SUM(id), MIN(name), MAX(at) FROM items' | tr '\t' '|')" \
  "$(pg_sql "$dst" "SELECT SUM(amount), SUM(id), MIN(name), to_char(MAX(at), 'YYYY-MM-DD HH24:MI:SS.US') FROM items")" \
  "sums of the source and target values"
throttle_stop my
sl_run "$TMPD/verify" verify "$TMPD/spec.json"
[ "$SL_RC" -eq 0 ] || { cat "$TMPD/verify.out" >&2; die "verify found differences"; }
grep -E "WARN|retries" "$TMPD/run.err" | tail -n 4 || true
note "recovered from the restart: $total rows, each once"
