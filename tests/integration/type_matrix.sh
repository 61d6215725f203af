#!/usr/bin/env bash
# type_matrix.sh: the type-mapping contract (docs/type-mapping.md), value by value.
#
# tests/sql/types_mysql.sql and tests/sql/types_pg.sql create a table of every type on each
# engine (extremes, NULLs, empty strings, 4-byte UTF-8, a 1 MB blob, zero dates, several
# time zones) plus small tables of values the other engine cannot hold. The test loads
#   MariaDB → PostgreSQL   and compares the target with tests/sql/types_mysql_to_pg.expected
#   PostgreSQL → MariaDB   and compares the target with tests/sql/types_pg_to_mysql.expected
#   PostgreSQL → PostgreSQL and MariaDB → MariaDB, which must give back the source itself
# each time also asserting that `sluice verify` reports the copy equal. The .expected files
# hold one line per target column ("type COLUMN TYPE") and one per cell ("ID COLUMN VALUE",
# printed as described in dump_pg / dump_my of tests/lib/dump.sh); diff shows any drift.
# Each refused value (NaN, ±Infinity, infinite or BC dates, numbers past DECIMAL(65,30),
# negative TIME, NUL in text) is loaded on its own and must fail with an error that names
# the table, the column and the row's key, leaving the target table empty. Then, with
# options.on_error "reject", every one of them is rejected with that reason while the other
# rows are written; and with the casts docs/mapping.md names (options.cast by type name)
# every one is carried, its text as the source prints it (a NUL byte excepted: no cast
# carries it).
#
# SLUICE_TEST_REGEN=1 rewrites the .expected files from what the targets hold (keeping their
# comment header): review the diff before committing it. SLUICE_TEST_KEEP=1 keeps the
# databases (sl_types_*) and the temp dir for a look after a failure.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
tmpdir

SQLDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../sql" && pwd)
DOC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../docs" && pwd)/type-mapping.md
REGEN=${SLUICE_TEST_REGEN:-0}

MY_SRC=sl_types_my PG_SRC=sl_types_pg
MY2PG=sl_types_my2pg PG2MY=sl_types_pg2my PG2PG=sl_types_pg2pg MY2MY=sl_types_my2my
BAD=sl_types_bad

# Cell-by-cell dumps: dump_pg and dump_my (tests/lib/dump.sh).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/dump.sh"

# Compares dump FILE with the golden file EXPECTED (its '#' lines are comments), or rewrites
# EXPECTED under SLUICE_TEST_REGEN=1.
check_golden() {
  local got=$1 expected=$2
  if [ "$REGEN" = 1 ]; then
    { grep '^#' "$expected" 2>/dev/null || true; cat "$got"; } >"$got.new"
    mv "$got.new" "$expected"
    note "rewrote $(basename "$expected")"
    return
  fi
  diff -u <(grep -v '^#' "$expected") "$got" >"$got.diff" ||
    { cat "$got.diff" >&2; die "target values differ from $(basename "$expected")"; }
}

# --- loads --------------------------------------------------------------------------------

# Writes spec NAME for SRC → TGT and runs it in a fresh data dir (output in $TMPD/NAME.*).
run_load() {
  local name=$1 src=$2 tgt=$3 tables=$4
  write_spec "$TMPD/$name.json" "$name" "$src" "$tgt" '{"writers": 2}' "$tables"
  sl_run "$TMPD/$name" run "$TMPD/$name.json" --data-dir "$TMPD/$name.data" --no-progress
}

# Loads TABLES (a JSON array) from SRC to TGT and asserts that the run and verify succeed.
load_ok() {
  local name=$1
  run_load "$@"
  [ "$SL_RC" = 0 ] || { sed 's/^/  | /' "$TMPD/$name.err" >&2; die "$name: sluice run exited $SL_RC"; }
  verify_equal "$name"
}

# Loads table TABLE alone from SRC to TGT (engine TENGINE, database TDB) and asserts that the
# load fails with an error line naming the table, column "COLUMN" and key (id=KEY), that the
# error text matches RE (as docs/type-mapping.md quotes it), and that the target table holds
# no row.
load_refused() {
  local src=$1 tgt=$2 tengine=$3 tdb=$4 table=$5 column=$6 key=$7 re=$8 name=refuse_$5 line n
  run_load "$name" "$src" "$tgt" "[\"$table\"]"
  [ "$SL_RC" = 1 ] || { sed 's/^/  | /' "$TMPD/$name.err" >&2
    die "$table: expected the load to fail (exit 1), got exit $SL_RC"; }
  line=$(grep '^error: ' "$TMPD/$name.err" | tail -n 1)
  [[ "$line" == *"$table"* && "$line" == *"\"$column\""* && "$line" == *"(id=$key)"* ]] ||
    { sed 's/^/  | /' "$TMPD/$name.err" >&2
      die "$table: the error does not name table, column \"$column\" and key (id=$key)"; }
  assert_grep "$re" "$TMPD/$name.err" "$table: the error does not say why"
  assert_grep "$re" "$DOC" "$table: docs/type-mapping.md does not quote the error"
  if [ "$tengine" = pg ]; then
    n=$(pg_sql "$tdb" "SELECT count(*) FROM \"$table\"")
  else
    n=$(my_sql "$tdb" "SELECT COUNT(*) FROM \`$table\`")
  fi
  assert_eq 0 "$n" "$table: rows were written before the refused one"
}

# Changes one cell of table types_all on a target (ENGINE pg|my, database DB, row ID, SET
# clause SET), asserts that `sluice verify` of spec NAME now reports row ID different, and
# puts the row back. Proves that verify's normalisation (docs/type-mapping.md) does not hide
# a real difference: a microsecond, a float's last bit, a trailing space, '' against NULL.
tamper() {
  local engine=$1 db=$2 id=$3 set=$4 name=$5 q
  if [ "$engine" = pg ]; then
    q='"'
    pg_sql "$db" "BEGIN; CREATE TABLE _saved AS SELECT * FROM types_all WHERE id = $id;
      UPDATE types_all SET $set WHERE id = $id; COMMIT;"
  else
    q='`'
    my_sql "$db" "BEGIN; CREATE TABLE _saved AS SELECT * FROM types_all WHERE id = $id;
      UPDATE types_all SET $set WHERE id = $id; COMMIT;"
  fi
  sl_run "$TMPD/$name.tamper" verify "$TMPD/$name.json"
  if [ "$SL_RC" != 1 ] || ! grep -q "different values: id=$id\$" "$TMPD/$name.tamper.out"; then
    sed 's/^/  | /' "$TMPD/$name.tamper.out" "$TMPD/$name.tamper.err" >&2
    die "$name: verify did not see SET $set on row $id (exit $SL_RC)"
  fi
  local cols='*' list=''
  if [ "$engine" = my ]; then # a generated column (PostgreSQL's, recreated) is not inserted
    cols=$(my_sql "$db" "SELECT GROUP_CONCAT(CONCAT('\`', COLUMN_NAME, '\`') ORDER BY ORDINAL_POSITION)
      FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'types_all'
      AND EXTRA NOT LIKE '%GENERATED%'")
    list="($cols)"
  fi
  local restore="BEGIN; DELETE FROM types_all WHERE id = $id;
    INSERT INTO types_all $list SELECT $cols FROM ${q}_saved${q}; DROP TABLE ${q}_saved${q}; COMMIT;"
  if [ "$engine" = pg ]; then pg_sql "$db" "$restore"; else my_sql "$db" "$restore"; fi
}

# Asserts that `sluice verify` of spec NAME reports the copy equal.
verify_equal() {
  sl_run "$TMPD/$1.verify" verify "$TMPD/$1.json"
  [ "$SL_RC" = 0 ] || { sed 's/^/  | /' "$TMPD/$1.verify.out" "$TMPD/$1.verify.err" >&2
    die "$1: sluice verify exited $SL_RC"; }
}

# --- sources --------------------------------------------------------------------------------

note "creating the source tables"
if [ "${SLUICE_TEST_KEEP:-0}" != 1 ]; then
  for db in "$MY_SRC" "$PG2MY" "$MY2MY" "$BAD"; do
    on_exit "my_sql '' 'DROP DATABASE IF EXISTS \`$db\`' >/dev/null 2>&1"
  done
  for db in "$PG_SRC" "$MY2PG" "$PG2PG" "$BAD"; do
    on_exit "pg_sql postgres 'DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)' >/dev/null 2>&1"
  done
fi
my_newdb "$MY_SRC"
my_sql "$MY_SRC" <"$SQLDIR/types_mysql.sql"
pg_newdb "$PG_SRC"
pg_sql "$PG_SRC" <"$SQLDIR/types_pg.sql" >/dev/null
for db in "$MY2PG" "$PG2PG" "$BAD"; do pg_newdb "$db"; done
for db in "$PG2MY" "$MY2MY" "$BAD"; do my_newdb "$db"; done

MY_URL=$(my_url "$MY_SRC") PG_URL=$(pg_url "$PG_SRC")

# --- MariaDB → PostgreSQL ---------------------------------------------------------------------

note "MariaDB → PostgreSQL"
load_ok my2pg "$MY_URL" "$(pg_url "$MY2PG")" '["types_all"]'
dump_pg "$MY2PG" types_all >"$TMPD/my2pg.got"
check_golden "$TMPD/my2pg.got" "$SQLDIR/types_mysql_to_pg.expected"
# The enum types sluice creates (named TABLE_COLUMN) keep the labels, in order.
assert_eq "{small,medium,large}" \
  "$(pg_sql "$MY2PG" "SELECT enum_range(NULL::types_all_c_enum)::text")" "enum labels"
assert_eq "{it's,\"a,b\",Ünï,\" pad\"}" \
  "$(pg_sql "$MY2PG" "SELECT enum_range(NULL::types_all_c_enum_odd)::text")" "odd enum labels"

# --- PostgreSQL → MariaDB ---------------------------------------------------------------------

note "PostgreSQL → MariaDB"
load_ok pg2my "$PG_URL" "$(my_url "$PG2MY")" '["types_all"]'
dump_my "$PG2MY" types_all >"$TMPD/pg2my.got"
check_golden "$TMPD/pg2my.got" "$SQLDIR/types_pg_to_mysql.expected"

# --- same engine: the copy is the source ------------------------------------------------------

# The tables of values MariaDB cannot hold (tests/sql/types_pg.sql).
PG_BAD=(bad_numeric_nan bad_numeric_huge bad_double_inf bad_double_neginf bad_double_nan
  bad_timestamp_inf bad_timestamptz_inf bad_timestamp_y10k bad_date_inf bad_date_bc)

note "PostgreSQL → PostgreSQL"
load_ok pg2pg "$PG_URL" "$(pg_url "$PG2PG")" \
  "$(printf '%s\n' types_all "${PG_BAD[@]}" | jq -R . | jq -cs .)"
for t in types_all "${PG_BAD[@]}"; do
  dump_pg "$PG_SRC" "$t" >"$TMPD/pg2pg.$t.want"
  dump_pg "$PG2PG" "$t" >"$TMPD/pg2pg.$t.got"
done
# Domains arrive as their base types; everything else, the generated column included, is
# declared as on the source.
sed -i -e 's/^\(type\tc_domain\t\)positive_int$/\1integer/' \
  -e 's/^\(type\tc_domain_text\t\)short_text$/\1character varying(8)/' \
  "$TMPD/pg2pg.types_all.want"
for t in types_all "${PG_BAD[@]}"; do
  diff -u "$TMPD/pg2pg.$t.want" "$TMPD/pg2pg.$t.got" >&2 || die "PostgreSQL copy of $t differs"
done
assert_eq "(id * 10)" "$(pg_sql "$PG2PG" "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef
  WHERE adrelid = 'public.types_all'::regclass")" "generated column expression"

note "MariaDB → MariaDB"
load_ok my2my "$MY_URL" "$(my_url "$MY2MY")" '["types_all", "bad_time", "bad_nul"]'
for t in types_all bad_time bad_nul; do
  dump_my "$MY_SRC" "$t" >"$TMPD/my2my.$t.want"
  dump_my "$MY2MY" "$t" >"$TMPD/my2my.$t.got"
done
# Documented losses, even MariaDB to MariaDB: zero dates have no canonical form and arrive
# as NULL; geometry travels as WKB, which has no SRID, so SRID 4326 arrives as 0.
sed -i -E -e 's/^(3\tc_(date|datetime|timestamp)\t).*/\1\\N/' \
  -e 's/^(2\tc_geometry\t)SRID=4326;/\1SRID=0;/' "$TMPD/my2my.types_all.want"
for t in types_all bad_time bad_nul; do
  diff -u "$TMPD/my2my.$t.want" "$TMPD/my2my.$t.got" >&2 || die "MariaDB copy of $t differs"
done

# --- verify sees what normalisation must not hide ---------------------------------------------

note "verify detects single-cell changes"
tamper pg "$MY2PG" 4 "c_float = 1.5000001" my2pg
tamper pg "$MY2PG" 4 "c_timestamp = c_timestamp + interval '1 microsecond'" my2pg
tamper pg "$MY2PG" 4 "c_datetime = c_datetime - interval '1 microsecond'" my2pg
tamper pg "$MY2PG" 4 "c_varchar = 'x '" my2pg
tamper pg "$MY2PG" 6 "c_dec65 = 0" my2pg
tamper pg "$MY2PG" 3 "c_text = NULL" my2pg
tamper pg "$MY2PG" 2 "c_longblob = overlay(c_longblob placing '\\x00' from 1048576)" my2pg
verify_equal my2pg
tamper my "$PG2MY" 4 "c_real = 1.5000001" pg2my
tamper my "$PG2MY" 4 "c_timestamptz = c_timestamptz + INTERVAL 1 MICROSECOND" pg2my
tamper my "$PG2MY" 4 "c_bool = 0" pg2my
tamper my "$PG2MY" 1 "c_bool = 2" pg2my
tamper my "$PG2MY" 4 "c_varbit = '0101'" pg2my
tamper my "$PG2MY" 3 "c_text = NULL" pg2my
tamper my "$PG2MY" 2 "c_json = REPLACE(c_json, ',  ', ', ')" pg2my
tamper my "$PG2MY" 8 "c_double = 1e-323" pg2my
verify_equal pg2my

# --- refused values ---------------------------------------------------------------------------

note "refused values, PostgreSQL → MariaDB"
BAD_MY=$(my_url "$BAD") BAD_PG=$(pg_url "$BAD")
load_refused "$PG_URL" "$BAD_MY" my "$BAD" bad_numeric_nan v 2 "decimals have no NaN"
load_refused "$PG_URL" "$BAD_MY" my "$BAD" bad_numeric_huge v 2 "41 integer and 0 fraction digits"
load_refused "$PG_URL" "$BAD_MY" my "$BAD" bad_double_inf v 2 "columns cannot store Infinity"
load_refused "$PG_URL" "$BAD_MY" my "$BAD" bad_double_neginf v 2 "columns cannot store -Infinity"
load_refused "$PG_URL" "$BAD_MY" my "$BAD" bad_double_nan v 2 "columns cannot store NaN"
load_refused "$PG_URL" "$BAD_MY" my "$BAD" bad_timestamp_inf v 2 'no "infinity" date'
load_refused "$PG_URL" "$BAD_MY" my "$BAD" bad_timestamptz_inf v 2 'no "-infinity" date'
load_refused "$PG_URL" "$BAD_MY" my "$BAD" bad_timestamp_y10k v 2 "years 1 to 9999"
load_refused "$PG_URL" "$BAD_MY" my "$BAD" bad_date_inf v 2 'no "infinity" date'
load_refused "$PG_URL" "$BAD_MY" my "$BAD" bad_date_bc v 2 "BC date"

note "refused values, MariaDB → PostgreSQL"
load_refused "$MY_URL" "$BAD_PG" pg "$BAD" bad_time t 2 "PostgreSQL's time holds 00:00:00 to 24:00:00"
load_refused "$MY_URL" "$BAD_PG" pg "$BAD" bad_nul s 2 "NUL byte"

# --- rejected with their reason, carried with a cast -----------------------------------------

# Loads TABLES (a JSON array) from SRC into a fresh database TDB of engine TENGINE with
# options OPTS (spec NAME).
load_into() {
  local name=$1 src=$2 tengine=$3 tdb=$4 tables=$5 opts=$6 url
  if [ "$tengine" = pg ]; then pg_newdb "$tdb"; url=$(pg_url "$tdb"); else my_newdb "$tdb"; url=$(my_url "$tdb"); fi
  write_spec "$TMPD/$name.json" "$name" "$src" "$url" "$opts" "$tables"
  sl_run "$TMPD/$name" run "$TMPD/$name.json" --data-dir "$TMPD/$name.data" --no-progress
  [ "$SL_RC" = 0 ] || { sed 's/^/  | /' "$TMPD/$name.err" >&2; die "$name: sluice run exited $SL_RC"; }
}
# Prints "table key column|reason" of each reject of stream NAME in TDB (engine TENGINE).
rejects_of() {
  if [ "$2" = pg ]; then
    pg_sql "$3" "SELECT table_name || ' ' || row_key || ' ' || column_name || '|' || reason FROM _sluice_rejects
      WHERE stream = '$1' ORDER BY 1"
  else
    my_sql "$3" "SELECT CONCAT(table_name, ' ', row_key, ' ', column_name, '|', reason) FROM _sluice_rejects
      WHERE stream = '$1' ORDER BY 1"
  fi
}

note "on_error reject, PostgreSQL → MariaDB"
REJ=sl_types_rej
on_exit "my_sql '' 'DROP DATABASE IF EXISTS \`$REJ\`' >/dev/null 2>&1; pg_sql postgres 'DROP DATABASE IF EXISTS \"$REJ\" WITH (FORCE)' >/dev/null 2>&1"
load_into rej_pg2my "$PG_URL" my "$REJ" "$(printf '%s\n' "${PG_BAD[@]}" | jq -R . | jq -cs .)" '{"on_error": "reject"}'
rejects_of rej_pg2my my "$REJ" >"$TMPD/rej_pg2my.got"
for t in "${PG_BAD[@]}"; do
  assert_eq "1 3" "$(my_sql "$REJ" "SELECT GROUP_CONCAT(id ORDER BY id SEPARATOR ' ') FROM \`$t\`")" "$t: the other rows written"
  grep -q "^public.$t \[\"2\"\] v|" "$TMPD/rej_pg2my.got" || { cat "$TMPD/rej_pg2my.got" >&2; die "$t: row 2 not rejected"; }
done
assert_eq "${#PG_BAD[@]}" "$(wc -l <"$TMPD/rej_pg2my.got")" "one reject per table"
for re in "decimals have no NaN" "41 integer and 0 fraction digits" "columns cannot store Infinity" \
  "columns cannot store -Infinity" "columns cannot store NaN" 'no "infinity" date' 'no "-infinity" date' \
  "years 1 to 9999" "BC date"; do
  assert_grep "$re" "$TMPD/rej_pg2my.got" "a reject's reason"
done
verify_equal rej_pg2my

note "carried with casts, PostgreSQL → MariaDB"
load_into cast_pg2my "$PG_URL" my "$REJ" "$(printf '%s\n' "${PG_BAD[@]}" | jq -R . | jq -cs .)" \
  '{"on_error": "reject", "cast": {"numeric": "varchar(64)", "double precision": "varchar(64)",
    "timestamp": "varchar(40)", "timestamptz": "varchar(40)", "date": "varchar(40)"}}'
assert_eq 0 "$(my_sql "$REJ" 'SELECT COUNT(*) FROM _sluice_rejects')" "nothing rejected with the casts"
for t in "${PG_BAD[@]}"; do
  assert_eq "$(pg_sql "$PG_SRC" "SELECT string_agg(v::text, '|' ORDER BY id) FROM $t")" \
    "$(my_sql "$REJ" "SELECT GROUP_CONCAT(v ORDER BY id SEPARATOR '|') FROM \`$t\`")" "$t carried as its text"
done
verify_equal cast_pg2my

note "on_error reject and casts, MariaDB → PostgreSQL"
load_into rej_my2pg "$MY_URL" pg "$REJ" '["bad_time", "bad_nul"]' '{"on_error": "reject"}'
assert_eq "bad_nul [\"2\"] s|PostgreSQL text cannot hold a NUL byte
bad_time [\"2\"] t|PostgreSQL's time holds 00:00:00 to 24:00:00, not -01:00:00.5
bad_time [\"3\"] t|PostgreSQL's time holds 00:00:00 to 24:00:00, not 838:59:59" \
  "$(rejects_of rej_my2pg pg "$REJ")" "the rejects of MariaDB values PostgreSQL refuses"
assert_eq "1" "$(pg_sql "$REJ" "SELECT string_agg(id::text, ' ' ORDER BY id) FROM bad_time")" "bad_time: the other row"
assert_eq "1 3" "$(pg_sql "$REJ" "SELECT string_agg(id::text, ' ' ORDER BY id) FROM bad_nul")" "bad_nul: the other rows"
verify_equal rej_my2pg
load_into cast_my2pg "$MY_URL" pg "$REJ" '["bad_time"]' '{"cast": {"time": "interval"}}'
assert_eq "10:00:00|-01:00:00.5|838:59:59" \
  "$(pg_sql "$REJ" "SELECT string_agg(t::text, '|' ORDER BY id) FROM bad_time")" "TIME carried as intervals"
verify_equal cast_my2pg

note "ok"
