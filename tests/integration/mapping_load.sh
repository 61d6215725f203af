#!/usr/bin/env bash
# mapping_load.sh: table entries, casts, filters, views and rejects in loads
# (docs/mapping.md), both directions and same-engine, asserted on the data of both sides:
#
#   PostgreSQL -> MariaDB: a table renamed, a column left out and one renamed, a filter, an
#     array as a JSON array, a generated column recreated, a view copied as a table, and a
#     table of values MariaDB cannot store: with on_error "fail" the load stops naming the
#     table, column, key, value and cast; with "reject" it completes, every other row equal
#     and each refused row in _sluice_rejects with its reason (the issue's first "Done
#     when"); `sluice check --scan` proposes casts, and with them the same load carries
#     every row (the second).
#   MariaDB -> PostgreSQL: a table into another schema, TIME values past 24:00 carried by a
#     cast to interval, `columns`, a filter on a date; rejected without the cast.
#   PostgreSQL -> PostgreSQL: a filter and a rename, a cast to a narrower varchar whose
#     overflowing values the server refuses: isolated under savepoints and rejected one by
#     one, every other row written.
#   PostgreSQL -> Parquet files: infinite dates and a NaN decimal, which Parquet has no form
#     for, rejected into _sluice/rejects/<stream>/ as JSONL (listed apart in the manifest),
#     and carried as text by casts.
#   MariaDB -> MariaDB: a table renamed with a column left out.
# `sluice verify` must find every copy equal (rejects counted apart) and `sluice check`
# exits 0 / 1 / 2 as documented. A mapping changed under an unfinished load is refused.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
tmpdir

PG=sl_map_pg MY=sl_map_my PG2=sl_map_pg2 MY2=sl_map_my2
pg_newdb "$PG"
pg_newdb "$PG2"
my_newdb "$MY"
my_newdb "$MY2"
on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $PG WITH (FORCE)' >/dev/null 2>&1 || true"
on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS $PG2 WITH (FORCE)' >/dev/null 2>&1 || true"
on_exit "my_sql '' 'DROP DATABASE IF EXISTS $MY; DROP DATABASE IF EXISTS $MY2' >/dev/null 2>&1 || true"

# Writes spec FILE (a load of TABLES, a JSON array of entries) from SRC to TGT with OPTIONS.
spec() {
  write_spec "$TMPD/$1.json" "$1" "$2" "$3" "${5:-{\}}" "$4"
}

# Runs spec NAME to completion, failing the test otherwise.
load() {
  sl_run "$TMPD/$1" run "$TMPD/$1.json" --data-dir "$TMPD/$1.data" --no-progress
  [ "$SL_RC" = 0 ] || { sed 's/^/  | /' "$TMPD/$1.err" >&2; die "$1: sluice run exited $SL_RC"; }
}

# Runs `sluice verify` on spec NAME: exit 0, and the table lines of its output into NAME.verify.
verify() {
  sl_run "$TMPD/$1.v" verify "$TMPD/$1.json"
  [ "$SL_RC" = 0 ] || { sed 's/^/  | /' "$TMPD/$1.v.out" "$TMPD/$1.v.err" >&2; die "$1: verify exited $SL_RC"; }
  cp "$TMPD/$1.v.out" "$TMPD/$1.verify"
}

# --- PostgreSQL -> MariaDB -----------------------------------------------------------------
pg_sql "$PG" "
  CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, region text, ssn text,
    joined date, tags int[], twice int GENERATED ALWAYS AS (id * 2) STORED);
  INSERT INTO customers (id, email, region, ssn, joined, tags)
    SELECT g, 'u' || g || '@x', CASE WHEN g % 3 = 0 THEN 'US' ELSE 'EU' END, 'ssn-' || g,
      DATE '2024-01-01' + g, CASE WHEN g % 5 = 0 THEN NULL ELSE ARRAY[g, NULL, g + 1] END
    FROM generate_series(1, 3000) g;
  CREATE VIEW eu_emails AS SELECT id, email FROM customers WHERE region = 'EU';
  CREATE TABLE odd (id int PRIMARY KEY, n numeric, f float8, d date, note text);
  INSERT INTO odd SELECT g, g * 1.5, g / 4.0, DATE '2000-01-01' + g, 'row ' || g FROM generate_series(1, 200) g;
  UPDATE odd SET n = 'NaN' WHERE id IN (7, 70);
  UPDATE odd SET f = 'Infinity' WHERE id = 8;
  UPDATE odd SET f = '-Infinity' WHERE id = 80;
  UPDATE odd SET d = 'infinity' WHERE id = 9;
  UPDATE odd SET d = '0044-03-15 BC' WHERE id = 90;"
ENTRIES='[{"name": "customers", "target": "clients", "exclude": ["ssn"],
           "rename": {"email": "email_address"}, "where": "region = '"'EU'"' AND joined >= DATE '"'2024-01-11'"'"},
          "eu_emails", "odd"]'

# fail: the load stops on the first refused value, naming what it must
spec pg2my_fail "$(pg_url "$PG")" "$(my_url "$MY")" "$ENTRIES"
sl_run "$TMPD/fail" run "$TMPD/pg2my_fail.json" --data-dir "$TMPD/fail.data" --no-progress
[ "$SL_RC" = 1 ] || die "on_error fail: expected exit 1, got $SL_RC"
assert_grep '^error: cannot store a value in column "(n|f|d)" of table "public.odd" at key \(id=[0-9]+\)$' "$TMPD/fail.err" \
  "the error names the table, the column and the key"
assert_grep '^detail: value "(NaN|Infinity|infinity)": ' "$TMPD/fail.err" "the error names the value"
assert_grep '^hint: carry it with a cast: \{"name": "public.odd", "cast": \{"[nfd]": "varchar\((64|40)\)"\}\}' \
  "$TMPD/fail.err" "the hint names the cast that carries it"
my_newdb "$MY"

# check: exit 0 for a clean spec, 1 when something would be refused, 2 for an invalid one
spec clean "$(pg_url "$PG")" "$(my_url "$MY")" '["customers"]'
sl_run "$TMPD/check0" check "$TMPD/clean.json"
[ "$SL_RC" = 0 ] || { cat "$TMPD/check0.out" "$TMPD/check0.err" >&2; die "check of a clean spec exited $SL_RC"; }
assert_grep 'generated column recreated on the target' "$TMPD/check0.out" "check shows the generated column"
assert_grep 'CREATE TABLE `customers`' "$TMPD/check0.out" "check shows the DDL"
[ "$(my_sql "$MY" 'SHOW TABLES' | wc -l)" = 0 ] || die "sluice check wrote to the target"
sl_run "$TMPD/check1" check "$TMPD/pg2my_fail.json" --scan --json
[ "$SL_RC" = 1 ] || die "check --scan of values MariaDB refuses: expected exit 1, got $SL_RC"
jq -e '.would_run == false' "$TMPD/check1.out" >/dev/null || die "check: would_run is not false"
assert_eq 6 "$(jq '.tables[] | select(.source == "public.odd") | .refused_rows' "$TMPD/check1.out")" \
  "check --scan counts the rows odd holds that MariaDB refuses"
assert_eq '{"d":"varchar(40)","f":"varchar(64)","n":"varchar(64)"}' \
  "$(jq -cS '.tables[] | select(.source == "public.odd") | .casts' "$TMPD/check1.out")" "the casts check proposes"
assert_eq '"public.eu_emails" true' "$(jq -r '.tables[] | select(.view) | "\"\(.source)\" \(.view)"' "$TMPD/check1.out")" \
  "check says the view is copied as a table"
echo '{"name": "bad"' >"$TMPD/bad.json"
sl_run "$TMPD/check2" check "$TMPD/bad.json"
[ "$SL_RC" = 2 ] || die "check of invalid JSON: expected exit 2, got $SL_RC"
spec badwhere "$(pg_url "$PG")" "$(my_url "$MY")" '[{"name": "customers", "where": "region == 1"}]'
sl_run "$TMPD/check3" check "$TMPD/badwhere.json"
[ "$SL_RC" = 2 ] || die "check of a filter with a syntax error: expected exit 2, got $SL_RC"
assert_grep 'syntax error at or near "="' "$TMPD/check3.err" "the filter's error"
spec badcol "$(pg_url "$PG")" "$(my_url "$MY")" '[{"name": "customers", "exclude": ["nope"]}]'
sl_run "$TMPD/check4" check "$TMPD/badcol.json"
[ "$SL_RC" = 1 ] || die "check of a missing column: expected exit 1, got $SL_RC"
assert_grep 'column "nope" in "exclude" of table "public.customers" does not exist' "$TMPD/check4.out" \
  "check names the missing column"

# reject: the load completes, the refused rows are recorded, everything else is equal
spec pg2my "$(pg_url "$PG")" "$(my_url "$MY")" "$ENTRIES" '{"on_error": "reject", "writers": 2}'
load pg2my
assert_eq "$(pg_sql "$PG" "SELECT count(*) FROM customers WHERE region = 'EU' AND joined >= '2024-01-11'")" \
  "$(my_sql "$MY" 'SELECT COUNT(*) FROM clients')" "rows of clients (the filter)"
assert_eq "id email_address region joined tags twice" \
  "$(my_sql "$MY" "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION SEPARATOR ' ') FROM
    information_schema.COLUMNS WHERE TABLE_SCHEMA = '$MY' AND TABLE_NAME = 'clients'")" "columns of clients"
assert_eq "u11@x|EU|2024-01-12|[11,null,12]|22" \
  "$(my_sql "$MY" "SELECT email_address, region, joined, tags, twice FROM clients WHERE id = 11" | tr '\t' '|')" \
  "a row of clients (renamed column, JSON array, recreated generated column)"
assert_eq "[11, null, 12]" "$(my_sql "$MY" "SELECT JSON_EXTRACT(tags, '\$') FROM clients WHERE id = 11")" \
  "tags is JSON MariaDB reads"
assert_eq "VIRTUAL GENERATED|STORED GENERATED" \
  "VIRTUAL GENERATED|$(my_sql "$MY" "SELECT EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '$MY'
    AND TABLE_NAME = 'clients' AND COLUMN_NAME = 'twice'")" "twice is a generated column"
assert_eq 0 "$(my_sql "$MY" "SELECT COUNT(*) FROM clients WHERE twice <> id * 2 OR region <> 'EU'")" \
  "clients holds only the filter's rows, twice computed"
assert_eq "$(pg_sql "$PG" 'SELECT count(*), sum(id) FROM eu_emails' | tr '|' ' ')" \
  "$(my_sql "$MY" 'SELECT COUNT(*), SUM(id) FROM eu_emails' | tr '\t' ' ')" "the view, copied as a table"
assert_eq 194 "$(my_sql "$MY" 'SELECT COUNT(*) FROM odd')" "rows of odd written"
assert_eq "7 n|8 f|9 d|70 n|80 f|90 d" \
  "$(my_sql "$MY" "SELECT GROUP_CONCAT(CONCAT(JSON_UNQUOTE(JSON_EXTRACT(row_key, '\$[0]')), ' ', column_name)
    ORDER BY JSON_EXTRACT(row_key, '\$[0]') + 0 SEPARATOR '|') FROM _sluice_rejects WHERE stream = 'pg2my'
    AND table_name = 'public.odd'")" "the rejected rows of odd, each with its column"
assert_eq 0 "$(my_sql "$MY" 'SELECT COUNT(*) FROM odd WHERE id IN (7, 8, 9, 70, 80, 90)')" \
  "no rejected row is written too"
assert_eq "MySQL decimals have no NaN|MySQL floating-point columns cannot store Infinity|MySQL has no \"infinity\" date" \
  "$(my_sql "$MY" "SELECT GROUP_CONCAT(reason ORDER BY JSON_EXTRACT(row_key, '\$[0]') + 0 SEPARATOR '|')
    FROM _sluice_rejects WHERE stream = 'pg2my' AND row_key IN ('[\"7\"]', '[\"8\"]', '[\"9\"]')")" \
  "the rejects say why"
assert_eq '"NaN"|"row 7"|1' \
  "$(my_sql "$MY" "SELECT JSON_EXTRACT(row_data, '\$.n'), JSON_EXTRACT(row_data, '\$.note'),
    position RLIKE '^load chunk [0-9]+, batch 1$'
    FROM _sluice_rejects WHERE stream = 'pg2my' AND row_key = '[\"7\"]'" | tr '\t' '|')" "a reject's row and position"
assert_grep 'table public.odd +194 rows written in this run, 6 rejected' "$TMPD/pg2my.err" "the summary counts rejects"
verify pg2my
assert_grep '^customers .* equal$' "$TMPD/pg2my.verify" "verify: customers under the mapping"
assert_grep '^odd +194 +194 +equal \(6 rejected\)$' "$TMPD/pg2my.verify" "verify counts rejects apart"

# with the casts check proposed, the same load carries every row
my_newdb "$MY2"
CASTS=$(jq -c '.tables[] | select(.source == "public.odd") | .casts' "$TMPD/check1.out")
spec pg2my_cast "$(pg_url "$PG")" "$(my_url "$MY2")" "[{\"name\": \"odd\", \"cast\": $CASTS}]" '{"on_error": "reject"}'
load pg2my_cast
assert_eq 200 "$(my_sql "$MY2" 'SELECT COUNT(*) FROM odd')" "every row of odd carried by the casts"
assert_eq 0 "$(my_sql "$MY2" 'SELECT COUNT(*) FROM _sluice_rejects')" "nothing rejected with the casts"
assert_eq "NaN|Infinity|infinity|-Infinity|0044-03-15 BC" \
  "$(my_sql "$MY2" "SELECT (SELECT n FROM odd WHERE id = 7), (SELECT f FROM odd WHERE id = 8),
    (SELECT d FROM odd WHERE id = 9), (SELECT f FROM odd WHERE id = 80), (SELECT d FROM odd WHERE id = 90)" | tr '\t' '|')" \
  "the carried values, as PostgreSQL prints them"
assert_eq "varchar(64)" "$(my_sql "$MY2" "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE
  TABLE_SCHEMA = '$MY2' AND TABLE_NAME = 'odd' AND COLUMN_NAME = 'n'")" "the cast's type"
verify pg2my_cast
assert_grep '^odd +200 +200 +equal$' "$TMPD/pg2my_cast.verify" "verify compares the cast columns"

# a mapping edited under an unfinished load is refused (the plan is stored before the data)
spec pg2my_changed "$(pg_url "$PG")" "$(my_url "$MY")" \
  '[{"name": "customers", "target": "clients", "where": "region = '"'US'"'"}]'
my_sql "$MY" "UPDATE _sluice_checkpoint SET stream = 'pg2my_changed' WHERE stream = 'pg2my' AND \`key\` = 'plan'"
sl_run "$TMPD/changed" run "$TMPD/pg2my_changed.json" --data-dir "$TMPD/changed.data" --no-progress
[ "$SL_RC" = 1 ] || die "a changed mapping: expected exit 1, got $SL_RC"
assert_grep 'the mapping of table "public.customers" changed since the load started' "$TMPD/changed.err" \
  "the changed mapping is refused by name"
assert_grep 'hint: restore the table.s entry .* or run with --restart' "$TMPD/changed.err" "with a hint"

# --- MariaDB -> PostgreSQL -------------------------------------------------------------------
my_sql "$MY" "CREATE TABLE shifts (id int PRIMARY KEY, worked time(2), day date, crew varchar(10), secret text);
  INSERT INTO shifts SELECT seq, SEC_TO_TIME(CAST(seq % 50 AS SIGNED) * 3600 - 20 * 3600 + 0.25), DATE '2024-01-01' + INTERVAL seq DAY,
    CONCAT('c', seq % 4), 'x' FROM seq_1_to_400"
pg_sql "$PG2" "CREATE SCHEMA hr"
spec my2pg "$(my_url "$MY")" "$(pg_url "$PG2")" \
  '[{"name": "shifts", "target": "hr.shifts", "columns": ["id", "worked", "day", "crew"], "cast": {"worked": "interval"},
     "where": "day >= DATE '"'2024-02-01'"'"}]'
load my2pg
assert_eq "$(my_sql "$MY" "SELECT COUNT(*) FROM shifts WHERE day >= '2024-02-01'")" \
  "$(pg_sql "$PG2" 'SELECT count(*) FROM hr.shifts')" "rows of hr.shifts (the filter)"
assert_eq "$(my_sql "$MY" "SELECT COUNT(*) FROM shifts WHERE day >= '2024-02-01' AND (worked < 0 OR worked > '24:00:00')")" \
  "$(pg_sql "$PG2" "SELECT count(*) FROM hr.shifts WHERE worked < '0' OR worked > '24:00:00'")" \
  "durations outside PostgreSQL's time, carried as intervals"
assert_eq "-19:59:59.75" "$(pg_sql "$PG2" 'SELECT worked FROM hr.shifts WHERE id = 50')" "a negative TIME as an interval"
assert_eq "id worked day crew" "$(pg_sql "$PG2" "SELECT string_agg(attname, ' ' ORDER BY attnum) FROM pg_attribute
  WHERE attrelid = 'hr.shifts'::regclass AND attnum > 0")" "columns of hr.shifts"
verify my2pg
# without the cast the same durations are rejected, the others written
spec my2pg_rej "$(my_url "$MY")" "$(pg_url "$PG2")" '[{"name": "shifts", "exclude": ["secret"]}]' '{"on_error": "reject"}'
load my2pg_rej
N_OUT=$(my_sql "$MY" "SELECT COUNT(*) FROM shifts WHERE worked < 0 OR worked > '24:00:00'")
[ "$N_OUT" -gt 50 ] || die "too few TIME values outside PostgreSQL's range ($N_OUT)"
assert_eq "$N_OUT" "$(pg_sql "$PG2" "SELECT count(*) FROM _sluice_rejects WHERE stream = 'my2pg_rej'
  AND column_name = 'worked' AND reason LIKE 'PostgreSQL''s time holds 00:00:00 to 24:00:00, not %'")" \
  "each TIME outside 00:00-24:00 rejected with its reason"
assert_eq $((400 - N_OUT)) "$(pg_sql "$PG2" 'SELECT count(*) FROM public.shifts')" "every other row written"
verify my2pg_rej
assert_grep "^shifts +$((400 - N_OUT)) +$((400 - N_OUT)) +equal \\($N_OUT rejected\\)$" "$TMPD/my2pg_rej.verify" \
  "verify counts the rejects apart"

# --- PostgreSQL -> PostgreSQL: values the server refuses, isolated ---------------------------
pg_sql "$PG" "CREATE TABLE notes (id int PRIMARY KEY, body text, kind text);
  INSERT INTO notes SELECT g, repeat('n', CASE WHEN g % 97 = 0 THEN 30 ELSE g % 12 END), CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END
    FROM generate_series(1, 5000) g"
spec pg2pg "$(pg_url "$PG")" "$(pg_url "$PG2")" \
  '[{"name": "notes", "target": "memo", "rename": {"body": "text"}, "cast": {"body": "varchar(20)"}, "where": "kind = '"'a'"'"}]' \
  '{"on_error": "reject", "batch_rows": 1000}'
load pg2pg
N_LONG=$(pg_sql "$PG" "SELECT count(*) FROM notes WHERE kind = 'a' AND length(body) > 20")
[ "$N_LONG" -gt 10 ] || die "too few overlong notes ($N_LONG)"
assert_eq "$N_LONG" "$(pg_sql "$PG2" "SELECT count(*) FROM _sluice_rejects WHERE stream = 'pg2pg' AND column_name = 'body'
  AND reason LIKE '%value too long for type character varying(20)%'")" "each overlong value isolated and rejected"
assert_eq "$(pg_sql "$PG" "SELECT count(*), sum(id) FROM notes WHERE kind = 'a' AND length(body) <= 20")" \
  "$(pg_sql "$PG2" 'SELECT count(*), sum(id) FROM memo')" "every other row of the filter written"
assert_eq 0 "$(pg_sql "$PG2" "SELECT count(*) FROM memo m JOIN _sluice_rejects r ON r.stream = 'pg2pg' AND r.row_key::text = json_build_array(m.id::text)::text")" \
  "no row both written and rejected"
verify pg2pg

# --- PostgreSQL -> Parquet files: values Parquet has no form for, rejected as JSONL ----------
pg_sql "$PG" "CREATE TABLE dated (id int PRIMARY KEY, d date, amount numeric(10,2));
  INSERT INTO dated SELECT g, DATE '2024-01-01' + g, g * 1.25 FROM generate_series(1, 100) g;
  UPDATE dated SET d = 'infinity' WHERE id IN (5, 50); UPDATE dated SET amount = 'NaN' WHERE id = 7"
LAKE=$TMPD/lake
spec pg2files "$(pg_url "$PG")" "file://$LAKE?format=parquet" '[{"name": "dated", "target": "dated_copy"}]' \
  '{"on_error": "reject"}'
load pg2files
assert_eq '["5"] d|["50"] d|["7"] amount' \
  "$(cat "$LAKE"/_sluice/rejects/pg2files/*.jsonl | jq -r '"\(.row_key | tojson) \(.column_name)"' | LC_ALL=C sort |
    paste -sd '|')" "the rows Parquet has no form for, rejected into _sluice/rejects/ as JSONL"
assert_eq 'pg2files|public.dated|"infinity"|true' \
  "$(jq -r 'select(.row_key == ["5"]) | "\(.stream)|\(.table_name)|\(.row_data.d | tojson)|\(.position | test("^load chunk"))"' \
    "$LAKE"/_sluice/rejects/pg2files/*.jsonl)" "a reject's fields"
assert_eq "97 1" "$(jq -r '"\(.tables.dated_copy.rows) \(.rejects | length)"' "$LAKE/_sluice/pg2files/manifest.json")" \
  "the manifest: the rows written, the rejects file apart"
spec pg2files_cast "$(pg_url "$PG")" "file://$LAKE?format=parquet" \
  '[{"name": "dated", "target": "dated_cast", "cast": {"d": "text", "amount": "text"}}]' '{"on_error": "reject"}'
load pg2files_cast
assert_eq "100 0" "$(jq -r '"\(.tables.dated_cast.rows) \(.rejects | length)"' "$LAKE/_sluice/pg2files_cast/manifest.json")" \
  "every row carried as text by the casts"
verify pg2files_cast

# --- MariaDB -> MariaDB --------------------------------------------------------------------
spec my2my "$(my_url "$MY")" "$(my_url "$MY2")" '[{"name": "shifts", "target": "shifts_copy", "exclude": ["secret"]}]'
load my2my
assert_eq "400" "$(my_sql "$MY2" 'SELECT COUNT(*) FROM shifts_copy')" "rows of shifts_copy"
assert_eq "0" "$(my_sql "$MY2" "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '$MY2'
  AND TABLE_NAME = 'shifts_copy' AND COLUMN_NAME = 'secret'")" "the excluded column is not created"
verify my2my
note "mappings, casts, filters, views and rejects: every load equal under its mapping"
