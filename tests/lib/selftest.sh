#!/usr/bin/env bash
# selftest.sh: the harness tests itself against the servers scripts/test.sh started: both
# servers are configured as sluice needs (logical WAL, ROW binlog with full metadata),
# refuse a wrong password, and the helpers of common.sh tell equal tables from different
# ones. Runs as ctest test integration.harness_selftest; needs no sluice binary.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# --- the servers ---
assert_eq logical "$(pg_sql postgres 'SHOW wal_level')" "postgres wal_level"
assert_eq UTF8 "$(pg_sql postgres 'SHOW server_encoding')" "postgres encoding"
assert_eq 1 "$(psql -X -At "$SLUICE_TEST_PG_URL/postgres" -c 'SELECT 1')" "login with SLUICE_TEST_PG_URL"
if PGPASSWORD=wrong psql -X -At -c 'SELECT 1' postgres >/dev/null 2>&1; then
  die "postgres accepted a wrong password over TCP"
fi
assert_eq "ROW FULL FULL 1 1" "$(my_sql "" 'SELECT @@binlog_format, @@binlog_row_image,
  @@binlog_row_metadata, @@log_bin, @@local_infile' | tr '\t' ' ')" "mariadb binlog settings"
assert_eq "root@127.0.0.1" "$(my_sql "" 'SELECT CURRENT_USER()')" "mariadb TCP login"
if MYSQL_PWD=wrong my_sql "" 'SELECT 1' >/dev/null 2>&1; then
  die "mariadb accepted a wrong password over TCP"
fi

# --- pg_newdb, pg_sql and pg_table_digest ---
pg_newdb selftest
pg_sql selftest "CREATE TABLE a (id int PRIMARY KEY, s text, b bytea);
  INSERT INTO a VALUES (1, 'x', '\\x00ff'), (2, '', NULL), (3, NULL, ''), (4, E'tab\\tnl\\n', NULL);
  CREATE TABLE \"B\" AS SELECT * FROM a ORDER BY id DESC;"
assert_eq "$(pg_table_digest selftest a id)" "$(pg_table_digest selftest B id)" "pg copy digest"
assert_eq "$(pg_table_digest selftest a id)" "$(pg_table_digest selftest public.B id)" "pg schema.table"
assert_eq 4 "$(pg_table_digest selftest a id | cut -d' ' -f1)" "pg digest row count"
pg_sql selftest "UPDATE \"B\" SET s = NULL WHERE id = 2"
[ "$(pg_table_digest selftest a id)" != "$(pg_table_digest selftest B id)" ] ||
  die "pg digest does not tell '' from NULL"
pg_newdb selftest
assert_eq 0 "$(pg_sql selftest "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" \
  "pg_newdb empties the database"

# --- my_newdb, my_sql and my_table_digest ---
my_newdb selftest
my_sql selftest "CREATE TABLE a (id int PRIMARY KEY, s varchar(20), b blob);
  INSERT INTO a VALUES (1, 'x', 0x00ff), (2, 'NULL', NULL), (3, NULL, ''), (4, 'tab\\tnl\\n', NULL);
  CREATE TABLE \`B\` AS SELECT * FROM a ORDER BY id DESC;"
assert_eq "$(my_table_digest selftest a id)" "$(my_table_digest selftest B id)" "mariadb copy digest"
assert_eq 4 "$(my_table_digest selftest a id | cut -d' ' -f1)" "mariadb digest row count"
my_sql selftest "UPDATE \`B\` SET s = NULL WHERE id = 2"
[ "$(my_table_digest selftest a id)" != "$(my_table_digest selftest B id)" ] ||
  die "mariadb digest does not tell 'NULL' from NULL"
my_newdb selftest
assert_eq "" "$(my_sql selftest 'SHOW TABLES')" "my_newdb empties the database"

# --- Chinook from tests/data/: the same 15,607 rows in both dialects ---
chinook=$SLUICE_TEST_DATA/chinook
pg_sql postgres <"$chinook/Chinook_PostgreSql.sql" >/dev/null
my_sql "" <"$chinook/Chinook_MySql.sql"
pg_rows=$(pg_sql chinook "SELECT sum((xpath('/row/c/text()', query_to_xml(
  format('SELECT count(*) AS c FROM %I', tablename), false, true, '')))[1]::text::int)
  FROM pg_tables WHERE schemaname = 'public'")
my_rows=$(my_sql Chinook "SELECT (SELECT COUNT(*) FROM Album) + (SELECT COUNT(*) FROM Artist)
  + (SELECT COUNT(*) FROM Customer) + (SELECT COUNT(*) FROM Employee)
  + (SELECT COUNT(*) FROM Genre) + (SELECT COUNT(*) FROM Invoice)
  + (SELECT COUNT(*) FROM InvoiceLine) + (SELECT COUNT(*) FROM MediaType)
  + (SELECT COUNT(*) FROM Playlist) + (SELECT COUNT(*) FROM PlaylistTrack)
  + (SELECT COUNT(*) FROM Track)")
assert_eq 15607 "$pg_rows" "chinook rows in postgres"
assert_eq 15607 "$my_rows" "chinook rows in mariadb"

# --- the small helpers ---
tmpdir
[ -d "$TMPD" ] || die "tmpdir made no directory"
wait_for "test -d '$TMPD'" 5 || die "wait_for missed a true condition"
start=$(date +%s)
if wait_for false 1 2>/dev/null; then die "wait_for did not time out"; fi
[ $(($(date +%s) - start)) -le 3 ] || die "wait_for overran its deadline"
if (assert_eq a b "expected failure") 2>/dev/null; then die "assert_eq passed on a mismatch"; fi

# Leave the servers as we found them.
pg_sql postgres 'DROP DATABASE chinook WITH (FORCE); DROP DATABASE selftest WITH (FORCE)'
my_sql "" 'DROP DATABASE Chinook; DROP DATABASE selftest'
echo "harness selftest: ok"
