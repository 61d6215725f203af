#!/usr/bin/env bash
# sec_table_name.sh: a file-target table name that no object key may hold ("a..b") is
# refused up front, with nothing written (issue 12, defect 11): no intent record, no
# checkpoint, no data file; the error names the table, says why, and hints what to do.
# The same load without that table completes.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
tmpdir
DB=sl_sec_tname
pg_newdb "$DB"
on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $DB WITH (FORCE)' >/dev/null"
pg_sql "$DB" 'CREATE TABLE "a..b" (id int PRIMARY KEY, v text); INSERT INTO "a..b" VALUES (1, '"'x'"');
  CREATE TABLE ok (id int PRIMARY KEY); INSERT INTO ok SELECT generate_series(1, 10)'

write_spec "$TMPD/spec.json" dots "$(pg_url "$DB")" "file://$TMPD/out?format=csv"
sl_run "$TMPD/r1" run "$TMPD/spec.json" --data-dir "$TMPD/d1" --no-progress
[ "$SL_RC" != 0 ] || die "the load of a table named a..b succeeded"
assert_grep 'table name "a\.\.b" cannot be a directory of a file target' "$TMPD/r1.err" "the refusal"
assert_grep '^detail: .*"\.\."' "$TMPD/r1.err" "the reason"
assert_grep "^hint: " "$TMPD/r1.err" "a hint"
written=$(find "$TMPD/out" -type f | head -n 5)
[ -z "$written" ] || die "files were written before the refusal: $written"

write_spec "$TMPD/ok.json" dots "$(pg_url "$DB")" "file://$TMPD/out?format=csv" '{}' '["ok"]'
sl_run "$TMPD/r2" run "$TMPD/ok.json" --data-dir "$TMPD/d2" --no-progress
[ "$SL_RC" = 0 ] || { cat "$TMPD/r2.err" >&2; die "the load without a..b failed"; }
assert_eq 10 "$(cat "$TMPD"/out/ok/*.csv | tr -d '\r' | grep -vc '^id$')" "rows of ok"
note "ok"
