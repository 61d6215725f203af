#!/usr/bin/env bash
# pg_estimate.sh: a PostgreSQL table that was never analysed (reltuples -1) with a text
# key is still planned in chunks: its rows are estimated from its size (the rows of its
# first pages times its pages, source/pg/pg_describe.c), so a load of 200,000 rows with
# chunk_rows 50,000 is cut into about 4 chunks (it used to be one: no read parallelism
# and one unit of resume), and every row arrives.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
tmpdir

SRC=sl_estimate_src TGT=sl_estimate_tgt ROWS=200000
pg_newdb "$SRC"
pg_newdb "$TGT"
on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $SRC WITH (FORCE); DROP DATABASE IF EXISTS $TGT WITH (FORCE)' >/dev/null"
pg_sql "$SRC" "CREATE TABLE t (k text PRIMARY KEY, v int NOT NULL) WITH (autovacuum_enabled = false);
  INSERT INTO t SELECT 'k' || g, g FROM generate_series(1, $ROWS) g"
assert_eq "-1" "$(pg_sql "$SRC" "SELECT reltuples::int FROM pg_class WHERE relname = 't'")" \
  "reltuples of the new table (never analysed: autovacuum is off for it)"

write_spec "$TMPD/spec.json" estimate "$(pg_url "$SRC")" "$(pg_url "$TGT")" '{"chunk_rows": 50000}' '["t"]'
sl_run "$TMPD/load" run "$TMPD/spec.json" --data-dir "$TMPD/data" --no-progress
[ "$SL_RC" = 0 ] || { cat "$TMPD/load.err" >&2; die "sluice run exited $SL_RC"; }
chunks=$(sed -n 's/.*planned 1 tables in \([0-9]*\) chunks.*/\1/p' "$TMPD/load.err")
[ -n "$chunks" ] && [ "$chunks" -ge 3 ] && [ "$chunks" -le 8 ] ||
  die "the unanalysed table was planned in '${chunks:-?}' chunks, expected about $((ROWS / 50000))"
assert_eq "$(pg_table_digest "$SRC" t k)" "$(pg_table_digest "$TGT" t k)" "rows of t, source (expected) and target"
note "a never-analysed table of $ROWS rows planned in $chunks chunks; every row copied"
note "ok"
