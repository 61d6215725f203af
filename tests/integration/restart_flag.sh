#!/usr/bin/env bash
# restart_flag.sh: `sluice run --restart` forgets a stream's checkpoints and loads again:
# on a target that has no checkpoint table yet, after a completed load (with
# truncate_insert: the target then equals the changed source), and refused with
# write_mode insert when the target already holds rows (target unchanged).
source "$(dirname "$0")/../lib/common.sh"
tmpdir

src=rf_src_$$
dst=rf_dst_$$
my_newdb "$src"
pg_newdb "$dst"
on_exit "my_sql '' 'DROP DATABASE IF EXISTS $src' >/dev/null 2>&1 || true"
on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $dst' >/dev/null 2>&1 || true"

my_sql "$src" "CREATE TABLE items (id int PRIMARY KEY, name varchar(30));
  INSERT INTO items SELECT seq, CONCAT('n', seq) FROM seq_1_to_50000"
write_spec "$TMPD/insert.json" "restart-flag" "$(my_url "$src")" "$(pg_url "$dst")" '{"chunk_rows": 10000}'
write_spec "$TMPD/truncate.json" "restart-flag" "$(my_url "$src")" "$(pg_url "$dst")" \
  '{"chunk_rows": 10000, "write_mode": "truncate_insert"}'
counts() { pg_sql "$dst" 'SELECT COUNT(*), COUNT(DISTINCT id), SUM(id) FROM items'; }

# 1. --restart on a target without a checkpoint table: a plain first load
[ "$(pg_sql "$dst" "SELECT to_regclass('_sluice_checkpoint') IS NULL")" = t ] || die "checkpoint table already there"
sl_run "$TMPD/r1" run "$TMPD/insert.json" --data-dir "$TMPD/d" --restart --no-progress
[ "$SL_RC" -eq 0 ] || { cat "$TMPD/r1.err" >&2; die "--restart on a fresh target failed"; }
assert_eq "50000|50000|1250025000" "$(counts)" "rows after the first load"

# 2. a rerun without --restart changes nothing
sl_run "$TMPD/r2" run "$TMPD/insert.json" --data-dir "$TMPD/d" --no-progress
[ "$SL_RC" -eq 0 ] || die "rerun of a completed load failed"
assert_eq "50000|50000|1250025000" "$(counts)" "rows after a rerun"

# 3. the source changes; --restart with insert is refused and leaves the target as it was
my_sql "$src" "INSERT INTO items SELECT seq, CONCAT('m', seq) FROM seq_50001_to_50010; DELETE FROM items WHERE id <= 5"
sl_run "$TMPD/r3" run "$TMPD/insert.json" --data-dir "$TMPD/d" --restart --no-progress
[ "$SL_RC" -eq 1 ] || die "--restart into a non-empty target with write_mode insert exited $SL_RC, expected 1"
assert_grep "already holds rows" "$TMPD/r3.err" "the refusal names the problem"
assert_eq "50000|50000|1250025000" "$(counts)" "rows after the refused restart"
# the refused restart kept the record that the load had completed
sl_run "$TMPD/r3b" run "$TMPD/insert.json" --data-dir "$TMPD/d" --no-progress
[ "$SL_RC" -eq 0 ] || { cat "$TMPD/r3b.err" >&2; die "after a refused --restart the completed load was forgotten"; }
assert_eq "50000|50000|1250025000" "$(counts)" "rows after a rerun following the refused restart"

# 4. --restart with truncate_insert loads the changed source again, each row once
sl_run "$TMPD/r4" run "$TMPD/truncate.json" --data-dir "$TMPD/d" --restart --no-progress
[ "$SL_RC" -eq 0 ] || { cat "$TMPD/r4.err" >&2; die "--restart with truncate_insert failed"; }
assert_eq "$(my_sql "$src" 'SELECT COUNT(*), COUNT(DISTINCT id), SUM(id) FROM items' | tr '\t' '|')" \
  "$(counts)" "target equals the changed source"
assert_eq "0" "$(pg_sql "$dst" "SELECT COUNT(*) FROM items WHERE id <= 5")" "deleted source rows are gone"
sl_run "$TMPD/v" verify "$TMPD/truncate.json"
[ "$SL_RC" -eq 0 ] || { cat "$TMPD/v.out" >&2; die "verify found differences"; }
note "--restart: fresh target, refused restart, and truncate_insert reload all exact"
