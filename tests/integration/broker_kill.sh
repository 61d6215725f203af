#!/usr/bin/env bash
# broker_kill.sh: the embedded nats-server is killed with SIGKILL twice in the middle of a
# MariaDB -> PostgreSQL load. The supervisor restarts it, the load restarts its data phase
# from the target's checkpoints, and ends with every row exactly once, without a rerun.
# The source is read through a throttle (tests/lib/throttle.mjs, 4 MB/s), so that the
# load cannot end before the kills on a fast machine.
source "$(dirname "$0")/../lib/common.sh"
tmpdir

src=bk_src_$$
dst=bk_dst_$$
my_newdb "$src"
pg_newdb "$dst"
on_exit "my_sql '' 'DROP DATABASE IF EXISTS $src' >/dev/null 2>&1 || true"
on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $dst' >/dev/null 2>&1 || true"

total=400000
my_sql "$src" "CREATE TABLE events (id bigint PRIMARY KEY, kind varchar(20), payload text, at datetime(6))"
my_sql "$src" "INSERT INTO events SELECT seq, ELT(1 + seq % 3, 'click', 'view', 'buy'),
  REPEAT(CHAR(65 + seq % 26), seq % 50), TIMESTAMP '2024-01-01 00:00:00.000001' + INTERVAL seq SECOND
  FROM seq_1_to_$total"
write_spec "$TMPD/spec.json" "broker-kill" "$(my_url "$src")" "$(pg_url "$dst")" \
  '{"writers": 2, "batch_rows": 1000, "chunk_rows": 20000}'
throttle_start my "$MYSQL_TCP_PORT" 4000000
write_spec "$TMPD/slow.json" "broker-kill" "$(my_url_via "$THROTTLE_PORT" "$src")" "$(pg_url "$dst")" \
  '{"writers": 2, "batch_rows": 1000, "chunk_rows": 20000}'

"$SLUICE_BIN" run "$TMPD/slow.json" --data-dir "$TMPD/data" --no-progress >"$TMPD/run.out" 2>"$TMPD/run.err" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null || true"
target_rows() { pg_sql "$dst" 'SELECT COUNT(*) FROM events' 2>/dev/null || echo 0; }
broker_pid() { pgrep -f "$TMPD/data/nats/nats-server.conf" | head -n 1; }

kills=0
for threshold in 1 150000; do
  wait_for "[ \"\$(target_rows)\" -ge $threshold ] || ! kill -0 $pid 2>/dev/null" 120 || die "the load made no progress"
  kill -0 "$pid" 2>/dev/null || break
  n=$(target_rows)
  [ "$n" -lt "$total" ] || break
  bp=$(broker_pid)
  [ -n "$bp" ] || die "no embedded nats-server found for the run"
  note "killing the broker (pid $bp) with $n of $total rows on the target"
  kill -9 "$bp"
  kills=$((kills + 1))
  # wait until the supervisor has a new broker running
  wait_for '[ -n "$(broker_pid)" ] && [ "$(broker_pid)" != "'"$bp"'" ]' 30 || die "the broker was not restarted"
done
[ "$kills" -ge 1 ] || die "the load finished before any broker kill: the test proved nothing"

rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { tail -n 30 "$TMPD/run.err" >&2; die "sluice exited $rc after the broker was killed"; }
assert_eq "$total" "$(pg_sql "$dst" 'SELECT COUNT(*) FROM events')" "target rows"
assert_eq "$total" "$(pg_sql "$dst" 'SELECT COUNT(DISTINCT id) FROM events')" "distinct ids"
assert_eq "$(my_sql "$src" "SELECT SUM(LENGTH(payload)), SUM(id), COUNT(DISTINCT kind) FROM events" | tr '\t' '|')" \
  "$(pg_sql "$dst" 'SELECT SUM(LENGTH(payload)), SUM(id), COUNT(DISTINCT kind) FROM events')" "value sums"
throttle_stop my
sl_run "$TMPD/verify" verify "$TMPD/spec.json"
[ "$SL_RC" -eq 0 ] || { cat "$TMPD/verify.out" >&2; die "verify found differences"; }
note "survived $kills broker kills: $total rows, each once"
