# dump.sh: prints a table cell by cell, the same way on PostgreSQL and MariaDB, so that two
# tables (or a table and a golden file) can be compared with diff. Used by type_matrix.sh
# and the CDC type tests. Needs common.sh (pg_sql, die) and the servers' environment.

# Both dumps print "type<TAB>COLUMN<TAB>TYPE" for every column, then "ID<TAB>COLUMN<TAB>VALUE"
# for every cell in (id, column position) order. VALUE is \N for NULL; otherwise the value as
# the engine prints it as text, with backslash, newline, CR and tab written \\ \n \r \t.
# Values longer than 100 characters print as "len=CHARS md5=MD5 of the UTF-8 bytes"; binary
# values as \x<hex> up to 100 bytes, else "len=BYTES md5=MD5". PostgreSQL prints in UTC with
# ISO dates; MariaDB prints FLOAT as its exact double (the client's 6 digits would hide a
# wrong bit), BIT as '0'/'1' digits, geometry as SRID=N;WKT.

# Prints "name<TAB>type" of each column of PostgreSQL table TABLE in DB, by position.
pg_columns() {
  pg_sql "$1" "SELECT attname || E'\t' || format_type(atttypid, atttypmod)
      || CASE WHEN attnotnull THEN ' not null' ELSE '' END
      || CASE attgenerated WHEN 's' THEN ' generated' ELSE '' END
    FROM pg_attribute WHERE attrelid = 'public.\"$2\"'::regclass AND attnum > 0
     AND NOT attisdropped ORDER BY attnum"
}

dump_pg() {
  local db=$1 table=$2 name type expr sql="" n=0
  while IFS=$'\t' read -r name type; do
    printf 'type\t%s\t%s\n' "$name" "$type"
    n=$((n + 1))
    if [[ "$type" == bytea* ]]; then
      expr="CASE WHEN length(\"$name\") <= 100 THEN '\\x' || encode(\"$name\", 'hex')
        ELSE 'len=' || length(\"$name\") || ' md5=' || md5(\"$name\") END"
    else
      expr="pg_temp.show(format('%s', \"$name\"))" # the output function, as COPY prints
    fi
    sql+="${sql:+ UNION ALL }SELECT id, $n AS pos, id || E'\\t$name\\t' ||
      CASE WHEN \"$name\" IS NULL THEN '\\N' ELSE $expr END AS line FROM \"$table\""
  done < <(pg_columns "$db" "$table")
  [ -n "$sql" ] || die "dump_pg: no table $db.$table"
  PGOPTIONS="-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=1" \
    pg_sql "$db" <<SQL
CREATE FUNCTION pg_temp.show(v text) RETURNS text LANGUAGE sql IMMUTABLE AS \$\$
  SELECT CASE WHEN length(v) > 100 THEN 'len=' || length(v) || ' md5=' || md5(v)
    ELSE replace(replace(replace(replace(v, '\\', '\\\\'), E'\\n', '\\n'), E'\\r', '\\r'),
                 E'\\t', '\\t') END \$\$;
SELECT line FROM ($sql) x ORDER BY id, pos;
SQL
}

# mariadb in raw batch mode: the dump does its own escaping.
my_raw() {
  mariadb --no-defaults --protocol=TCP -h "$MYSQL_HOST" -P "$MYSQL_TCP_PORT" -u root \
    --default-character-set=utf8mb4 -N -B -r "$1" -e "$2"
}

# Prints "name<TAB>data type<TAB>type (as the dump's type line shows it)<TAB>bit width".
my_columns() {
  my_raw "$1" "SELECT COLUMN_NAME, DATA_TYPE, CONCAT(COLUMN_TYPE,
      IFNULL(CONCAT(' ', CHARACTER_SET_NAME), ''), IF(IS_NULLABLE = 'NO', ' not null', ''),
      IF(EXTRA LIKE '%GENERATED%' AND EXTRA NOT LIKE '%DEFAULT_GENERATED%', ' generated', '')),
      IFNULL(NUMERIC_PRECISION, 0)
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '$2'
    ORDER BY ORDINAL_POSITION"
}

dump_my() {
  local db=$1 table=$2 name dtype type bits expr q sql="" n=0
  while IFS=$'\t' read -r name dtype type bits; do
    printf 'type\t%s\t%s\n' "$name" "$type"
    n=$((n + 1))
    q="\`$name\`"
    case "$dtype" in
      binary | varbinary | tinyblob | blob | mediumblob | longblob)
        expr="IF(LENGTH($q) <= 100, CONCAT('\\\\x', LOWER(HEX($q))),
          CONCAT('len=', LENGTH($q), ' md5=', MD5($q)))" ;;
      bit) expr="LPAD(BIN($q), $bits, '0')" ;;
      float) expr="CAST($q AS DOUBLE)" ;;
      geometry | point | linestring | polygon | multipoint | multilinestring | multipolygon | \
        geometrycollection) expr="CONCAT('SRID=', ST_SRID($q), ';', ST_AsText($q))" ;;
      *) expr="IF(CHAR_LENGTH($q) > 100,
          CONCAT('len=', CHAR_LENGTH($q), ' md5=', MD5(CONVERT($q USING utf8mb4))),
          REPLACE(REPLACE(REPLACE(REPLACE(CONVERT($q USING utf8mb4), '\\\\', '\\\\\\\\'),
            '\\n', '\\\\n'), '\\r', '\\\\r'), '\\t', '\\\\t'))" ;;
    esac
    sql+="${sql:+ UNION ALL }SELECT id, $n AS pos, CONVERT(CONCAT(id, '\\t$name\\t',
      IF($q IS NULL, '\\\\N', $expr)) USING utf8mb4) AS line FROM \`$table\`"
  done < <(my_columns "$db" "$table")
  [ -n "$sql" ] || die "dump_my: no table $db.$table"
  my_raw "$db" "SET time_zone = '+00:00'; SELECT line FROM ($sql) x ORDER BY id, pos"
}
