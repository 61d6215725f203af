#!/usr/bin/env bash
# load_new_table.sh: a completed load run again loads the tables it did not have: a table
# added to the spec's list, and with "*" a table new in the source. The tables it had are
# not written again (their rows stay as they were, even when the source changed), tables
# taken out of the spec are left alone on the target, and a rerun with nothing new says
# so and changes nothing. The first run of a stream logs nothing about forgetting
# checkpoints; --restart after a load says it deletes them.
source "$(dirname "$0")/../lib/common.sh"
tmpdir

src=lnt_src_$$
dst=lnt_dst_$$
my_newdb "$src"
pg_newdb "$dst"
on_exit "my_sql '' 'DROP DATABASE IF EXISTS $src' >/dev/null 2>&1 || true"
on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $dst' >/dev/null 2>&1 || true"

my_sql "$src" "CREATE TABLE a (id int PRIMARY KEY, v varchar(20));
  INSERT INTO a SELECT seq, CONCAT('a', seq) FROM seq_1_to_30000;
  CREATE TABLE b (id int PRIMARY KEY, v varchar(20));
  INSERT INTO b SELECT seq, CONCAT('b', seq) FROM seq_1_to_2000;
  CREATE TABLE c (id int PRIMARY KEY, v varchar(20));
  INSERT INTO c SELECT seq, CONCAT('c', seq) FROM seq_1_to_12345"
opts='{"chunk_rows": 10000}'
write_spec "$TMPD/ab.json" lnt "$(my_url "$src")" "$(pg_url "$dst")" "$opts" '["a", "b"]'
write_spec "$TMPD/abc.json" lnt "$(my_url "$src")" "$(pg_url "$dst")" "$opts" '["a", "b", "c"]'
write_spec "$TMPD/bc.json" lnt "$(my_url "$src")" "$(pg_url "$dst")" "$opts" '["b", "c"]'
sums() { # table -> "rows|distinct ids|sum of ids|md5 of the values"
  pg_sql "$dst" "SELECT COUNT(*), COUNT(DISTINCT id), SUM(id), md5(string_agg(v, ',' ORDER BY id)) FROM $1"
}
my_sums() {
  my_sql "$src" "SET SESSION group_concat_max_len = 1 << 30;
    SELECT COUNT(*), COUNT(DISTINCT id), SUM(id), md5(GROUP_CONCAT(v ORDER BY id SEPARATOR ',')) FROM $1" | tr '\t' '|'
}

# 1. the first load: a and b; nothing said about forgetting checkpoints
sl_run "$TMPD/r1" run "$TMPD/ab.json" --data-dir "$TMPD/d" --no-progress
[ "$SL_RC" -eq 0 ] || { cat "$TMPD/r1.err" >&2; die "first load failed"; }
if grep -qiE "forget|deleting the .*checkpoint" "$TMPD/r1.err"; then
  die "the first run of a stream talks about forgetting checkpoints"
fi
want_a=$(my_sums a)
assert_eq "$want_a" "$(sums a)" "table a after the first load"
assert_eq "0" "$(pg_sql "$dst" "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'c'")" "c is not loaded yet"

# 2. the same spec again: nothing new, nothing done
sl_run "$TMPD/r2" run "$TMPD/ab.json" --data-dir "$TMPD/d" --no-progress
[ "$SL_RC" -eq 0 ] || { cat "$TMPD/r2.err" >&2; die "rerun failed"; }
assert_grep "already completed and the spec names no new table" "$TMPD/r2.err" "a rerun says there is nothing new"

# 3. the source's a changes (it must not be copied again), and c joins the spec: c is loaded
my_sql "$src" "UPDATE a SET v = 'changed' WHERE id <= 10"
sl_run "$TMPD/r3" run "$TMPD/abc.json" --data-dir "$TMPD/d" --no-progress
[ "$SL_RC" -eq 0 ] || { cat "$TMPD/r3.err" >&2; die "rerun with a new table failed"; }
assert_grep 'loading table "c", which is new in the spec' "$TMPD/r3.err" "the run names the new table"
assert_eq "$(my_sums c)" "$(sums c)" "table c equals the source"
assert_eq "$want_a" "$(sums a)" "table a was not copied again"
assert_eq "0" "$(pg_sql "$dst" "SELECT COUNT(*) FROM a WHERE v = 'changed'")" "no row of a was rewritten"

# 4. a taken out of the spec: left alone, and said so
sl_run "$TMPD/r4" run "$TMPD/bc.json" --data-dir "$TMPD/d" --no-progress
[ "$SL_RC" -eq 0 ] || { cat "$TMPD/r4.err" >&2; die "rerun without table a failed"; }
assert_grep 'table "a" of the earlier load is not among the spec.s tables any more; its target table is left' \
  "$TMPD/r4.err" "the run says a is left alone"
assert_eq "$want_a" "$(sums a)" "table a is left as it was"

# 5. "*": a table new in the source is loaded on the next run
pg_newdb "${dst}_all"
on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS ${dst}_all' >/dev/null 2>&1 || true"
write_spec "$TMPD/all.json" lnt-all "$(my_url "$src")" "$(pg_url "${dst}_all")" \
  '{"chunk_rows": 10000, "write_mode": "truncate_insert"}'
sl_run "$TMPD/r5" run "$TMPD/all.json" --data-dir "$TMPD/d" --no-progress
[ "$SL_RC" -eq 0 ] || { cat "$TMPD/r5.err" >&2; die "load of every table failed"; }
my_sql "$src" "CREATE TABLE d (id int PRIMARY KEY, v varchar(20)); INSERT INTO d SELECT seq, CONCAT('d', seq) FROM seq_1_to_777"
sl_run "$TMPD/r6" run "$TMPD/all.json" --data-dir "$TMPD/d" --no-progress
[ "$SL_RC" -eq 0 ] || { cat "$TMPD/r6.err" >&2; die "rerun of the load of every table failed"; }
assert_eq "777|777|302253" "$(pg_sql "${dst}_all" 'SELECT COUNT(*), COUNT(DISTINCT id), SUM(id) FROM d')" \
  "the table new in the source is loaded"
assert_eq "2000" "$(pg_sql "${dst}_all" 'SELECT COUNT(*) FROM b')" "the other tables are as they were"

# 6. --restart after a load says, in plain words, that it deletes the checkpoints
sl_run "$TMPD/r7" run "$TMPD/all.json" --data-dir "$TMPD/d" --no-progress --restart
[ "$SL_RC" -eq 0 ] || { cat "$TMPD/r7.err" >&2; die "--restart failed"; }
assert_grep 'starting stream "lnt-all" over: deleting the [0-9]+ checkpoints of its earlier run' "$TMPD/r7.err" \
  "--restart says what it forgets"
# 7. an unfinished load (it failed on a row the target refused) run again with one more
#    table: it finishes the first and loads the new one; without the first it is refused
my_sql "$src" "CREATE TABLE e (id int PRIMARY KEY, v varchar(20));
  INSERT INTO e SELECT seq, CONCAT('e', seq) FROM seq_1_to_30000;
  CREATE TABLE f (id int PRIMARY KEY, v varchar(20)); INSERT INTO f SELECT seq, 'f' FROM seq_1_to_99"
pg_sql "$dst" "CREATE TABLE e (id int PRIMARY KEY, v varchar(20) CONSTRAINT no_e25000 CHECK (v <> 'e25000'))"
write_spec "$TMPD/e.json" lnt-e "$(my_url "$src")" "$(pg_url "$dst")" '{"chunk_rows": 10000, "batch_rows": 1000}' '["e"]'
write_spec "$TMPD/ef.json" lnt-e "$(my_url "$src")" "$(pg_url "$dst")" '{"chunk_rows": 10000, "batch_rows": 1000}' '["e", "f"]'
write_spec "$TMPD/f.json" lnt-e "$(my_url "$src")" "$(pg_url "$dst")" '{"chunk_rows": 10000, "batch_rows": 1000}' '["f"]'
sl_run "$TMPD/r8" run "$TMPD/e.json" --data-dir "$TMPD/d" --no-progress
[ "$SL_RC" -ne 0 ] || die "the load into a table that refuses a row succeeded"
pg_sql "$dst" "ALTER TABLE e DROP CONSTRAINT no_e25000"
sl_run "$TMPD/r9" run "$TMPD/f.json" --data-dir "$TMPD/d" --no-progress
[ "$SL_RC" -ne 0 ] || die "an unfinished load without its table was not refused"
assert_grep 'table "e" of the unfinished load "lnt-e" is not in the spec any more' "$TMPD/r9.err" "the refusal names the table"
sl_run "$TMPD/r10" run "$TMPD/ef.json" --data-dir "$TMPD/d" --no-progress
[ "$SL_RC" -eq 0 ] || { cat "$TMPD/r10.err" >&2; die "the unfinished load with one more table failed"; }
assert_grep 'loading table "f", which is new in the spec' "$TMPD/r10.err" "the resumed load names the new table"
assert_eq "$(my_sums e)" "$(sums e)" "e finished, each row once"
assert_eq "$(my_sums f)" "$(sums f)" "f loaded"
note "completed loads: new tables loaded, old ones untouched, removed ones left alone; unfinished ones take new tables"
