#!/usr/bin/env bash
# my_cdc_types.sh: every MariaDB type through the binlog. The type matrix table types_all
# of tests/sql/types_mysql.sql (every type sluice maps, minimum / maximum / zero / ordinary /
# NULL / float-corner rows, a 1 MB blob) is replicated by two streams at once, MariaDB ->
# PostgreSQL and MariaDB -> MariaDB, while tests/sql/my_cdc_types_dml.sql changes it:
# INSERT (a copy of every row), UPDATE (values to NULL and back, big values untouched,
# primary key changes) and DELETE. After catch-up and a clean stop:
#   - `sluice verify` of both streams (exit 0);
#   - each target, dumped cell by cell, is the same as a plain `mode: load` of the final
#     source into a fresh database of the same engine (the load's values are checked
#     against golden files by type_matrix.sh): the change stream decodes every value as the
#     load reads it;
#   - the MariaDB target equals the source cell by cell, but for the documented losses
#     (zero dates arrive as NULL, geometry loses its SRID);
#   - a few tricky columns compared directly between the source and the PostgreSQL target
#     (unsigned 64-bit, decimal(65,30), TIMESTAMP as epoch, TIME(6), BIT(64), md5 of the 1
#     MB blob and of the 200,000-character text, JSON, enum, set).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cdc_mysql.sh"

SRC=sl_mycdc_ty_src TGT_PG=sl_mycdc_ty_pg TGT_MY=sl_mycdc_ty_my
REF_PG=sl_mycdc_ty_refpg REF_MY=sl_mycdc_ty_refmy
NAME_PG=mycdc-types-pg NAME_MY=mycdc-types-my

cdc_my_db "$SRC"
cdc_pg_db "$TGT_PG"
cdc_my_db "$TGT_MY"
cdc_pg_db "$REF_PG"
cdc_my_db "$REF_MY"
my_sql "$SRC" <"$CDC_SQLDIR/types_mysql.sql"
write_cdc_spec "$TMPD/pg.json" "$NAME_PG" "$(my_url "$SRC")" "$(pg_url "$TGT_PG")" '{}' '["types_all"]'
write_cdc_spec "$TMPD/my.json" "$NAME_MY" "$(my_url "$SRC")" "$(my_url "$TGT_MY")" '{}' '["types_all"]'
cdc_track "$TMPD/pg.json" "$SRC"
cdc_track "$TMPD/my.json" "$SRC"

cdc_start pg "$TMPD/pg.json" "$TMPD/pg.data"
pid_pg=$CDC_PID log_pg=$CDC_LOG
cdc_start my "$TMPD/my.json" "$TMPD/my.data"
pid_my=$CDC_PID log_my=$CDC_LOG
wait_for "cdc_my_handed_over pg $TGT_PG $NAME_PG || ! kill -0 $pid_pg" 60 ||
  cdc_die "MariaDB→PostgreSQL: no hand-over after 60 s" "$log_pg"
wait_for "cdc_my_handed_over my $TGT_MY $NAME_MY || ! kill -0 $pid_my" 60 ||
  cdc_die "MariaDB→MariaDB: no hand-over after 60 s" "$log_my"
cdc_alive "$pid_pg" || cdc_die "MariaDB→PostgreSQL: sluice exited during the initial load" "$log_pg"
cdc_alive "$pid_my" || cdc_die "MariaDB→MariaDB: sluice exited during the initial load" "$log_my"
assert_eq 6 "$(pg_sql "$TGT_PG" "SELECT count(*) FROM types_all")" "rows loaded into PostgreSQL"

note "changing types_all on the source"
my_sql "$SRC" <"$CDC_SQLDIR/my_cdc_types_dml.sql"
ids=$(my_sql "$SRC" "SELECT GROUP_CONCAT(id ORDER BY id) FROM types_all")
assert_eq "2,5,9,103,104,105,106,201,202" "$ids" "source ids after the changes"

cdc_my_catch_up pg "$TGT_PG" "$NAME_PG" "$pid_pg" 60
cdc_my_catch_up my "$TGT_MY" "$NAME_MY" "$pid_my" 60
cdc_stop "$pid_pg"
cdc_stop "$pid_my"

assert_eq "$ids" "$(pg_sql "$TGT_PG" "SELECT string_agg(id::text, ',' ORDER BY id) FROM types_all")" \
  "ids on the PostgreSQL target"
assert_eq "$ids" "$(my_sql "$TGT_MY" "SELECT GROUP_CONCAT(id ORDER BY id) FROM types_all")" \
  "ids on the MariaDB target"
cdc_verify "$TMPD/pg.json" verify-pg
cdc_verify "$TMPD/my.json" verify-my

note "the change streams against a plain load of the final source"
for e in pg my; do
  if [ "$e" = pg ]; then ref=$(pg_url "$REF_PG"); else ref=$(my_url "$REF_MY"); fi
  write_spec "$TMPD/ref$e.json" "mycdc-types-ref$e" "$(my_url "$SRC")" "$ref" '{}' '["types_all"]'
  sl_run "$TMPD/ref$e" run "$TMPD/ref$e.json" --data-dir "$TMPD/ref$e.data" --no-progress
  [ "$SL_RC" = 0 ] || { sed 's/^/  | /' "$TMPD/ref$e.err" >&2; die "reference load into $e exited $SL_RC"; }
done
dump_pg "$REF_PG" types_all >"$TMPD/pg.want"
dump_pg "$TGT_PG" types_all >"$TMPD/pg.got"
cdc_same_file "$TMPD/pg.want" "$TMPD/pg.got" \
  "MariaDB→PostgreSQL: types_all cell by cell, the load (<) and the change stream (>)"
dump_my "$REF_MY" types_all >"$TMPD/my.want"
dump_my "$TGT_MY" types_all >"$TMPD/my.got"
cdc_same_file "$TMPD/my.want" "$TMPD/my.got" \
  "MariaDB→MariaDB: types_all cell by cell, the load (<) and the change stream (>)"
[ "$(grep -c $'^202\t' "$TMPD/pg.got")" -ge 30 ] || die "row 202 is missing from the PostgreSQL dump"

note "the MariaDB target against the source"
dump_my "$SRC" types_all >"$TMPD/src.dump"
# Documented losses, even MariaDB to MariaDB: zero dates arrive as NULL (row 103, the copy of
# row 3); geometry travels as WKB without SRID (rows 2 and 202).
sed -E -e 's/^(103\tc_(date|datetime|timestamp)\t).*/\1\\N/' \
  -e 's/^(2|202)(\tc_geometry\t)SRID=4326;/\1\2SRID=0;/' "$TMPD/src.dump" >"$TMPD/src.want"
[ "$(diff "$TMPD/src.dump" "$TMPD/src.want" | grep -c '^>')" = 5 ] ||
  die "the source dump does not hold the 3 zero dates of row 103 and the SRIDs of rows 2 and 202"
cdc_same_file "$TMPD/src.want" "$TMPD/my.got" "MariaDB→MariaDB: types_all cell by cell, source (<) and target (>)"

note "tricky columns, source and PostgreSQL target"
# same_col LABEL MY_EXPR PG_EXPR: the expression per row (id order) on both sides.
same_col() {
  cdc_my_same_pg "col.$1" "$SRC" "$TGT_PG" \
    "SELECT CONCAT(id, '|', IFNULL($2, '<NULL>')) FROM types_all" \
    "SELECT id || '|' || coalesce(($3)::text, '<NULL>') FROM types_all"
}
# (a zero TIMESTAMP arrives as NULL, documented)
same_col bigint_u "CAST(c_bigint_u AS CHAR)" "c_bigint_u"
same_col dec65 "CAST(c_dec65 AS CHAR)" "c_dec65"
same_col timestamp "NULLIF(UNIX_TIMESTAMP(c_timestamp), 0)" "to_char(extract(epoch FROM c_timestamp), 'FM9999999999.000000')"
same_col time "TIME_FORMAT(c_time, '%H:%i:%s.%f')" "to_char(c_time, 'HH24:MI:SS.US')"
same_col bit64 "LPAD(BIN(c_bit64), 64, '0')" "c_bit64"
same_col longblob "CONCAT(LENGTH(c_longblob), ':', MD5(c_longblob))" "length(c_longblob) || ':' || md5(c_longblob)"
same_col mediumtext "CONCAT(CHAR_LENGTH(c_mediumtext), ':', MD5(c_mediumtext))" \
  "length(c_mediumtext) || ':' || md5(c_mediumtext)"
same_col json "c_json" "c_json"
same_col enum_set "CONCAT_WS('/', c_enum, c_enum_odd, c_set)" "concat_ws('/', c_enum, c_enum_odd, c_set)"
same_col uuid "CAST(c_uuid AS CHAR)" "c_uuid"
same_col inet "CONCAT_WS('/', CAST(c_inet4 AS CHAR), CAST(c_inet6 AS CHAR))" "concat_ws('/', c_inet4, c_inet6)"
assert_eq "18446744073709551615|9223372036854775807" \
  "$(pg_sql "$TGT_PG" "SELECT c_bigint_u || '|' || c_bigint FROM types_all WHERE id = 202")" \
  "row 202 (row 2 copied, then moved): the largest unsigned and signed 64-bit values"
assert_eq "23:59:59.999999|2038-01-19 03:14:07.999999+00" \
  "$(PGOPTIONS="-c TimeZone=UTC" pg_sql "$TGT_PG" "SELECT c_time || '|' || c_timestamp FROM types_all WHERE id = 202")" \
  "row 202: TIME(6) and TIMESTAMP(6) (written at +05:30, arrives in UTC)"
note "ok"
