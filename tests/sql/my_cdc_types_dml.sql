-- my_cdc_types_dml.sql: the changes tests/integration/my_cdc_types.sh makes to types_all of
-- tests/sql/types_mysql.sql while a MariaDB change stream runs, in the same session
-- settings as the load of the matrix (TIMESTAMP values written at +05:30):
--   1. a copy of each of the 6 rows under id + 100 (every value, NULLs, zero dates,
--      extremes, the 1 MB blob and float subnormals through the binlog), one statement;
--   2. one transaction of updates: ordinary columns, NULL to values and values to NULL, an
--      update of rows 2 and 102 that leaves their big values alone (a FULL row image sends
--      them again), primary key changes (one of them moving row 102 and its 1 MB blob,
--      one changing another column in the same statement);
--   3. deletes, one of them of several rows.
SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION';
SET SESSION time_zone = '+05:30';

-- (not binlogged in ROW format: only the INSERT below reaches the stream)
CREATE TEMPORARY TABLE copy_rows AS SELECT * FROM types_all WHERE id < 100;
UPDATE copy_rows SET id = id + 100;
INSERT INTO types_all SELECT * FROM copy_rows;
DROP TEMPORARY TABLE copy_rows;

START TRANSACTION;
UPDATE types_all SET c_int = c_int DIV 2 + 1, c_text = CONCAT(c_text, ' (updated)'),
       c_bool = NOT c_bool, c_dec10 = c_dec10 / 3, c_timestamp = '2030-05-06 07:08:09.123456',
       c_json = '{"new": [null, "é"]}' WHERE id IN (4, 104);
UPDATE types_all SET c_tinyint = -1, c_varchar = 'was NULL', c_bit10 = b'0000000001', c_set = 'c',
       c_date = '2000-02-29', c_float = -0.5, c_double = -0.0, c_uuid = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
       c_dec65 = -0.000000000000000000000000000001, c_time = '00:00:00', c_enum_odd = 'a,b',
       c_binary = x'00000000', c_inet4 = '10.0.0.255',
       c_inet6 = '::ffff:1.2.3.4' WHERE id = 105;
UPDATE types_all SET c_uuid = '6ccd780c-baba-1026-9564-5b8c65602400', c_inet6 = '2001:db8::1'
       WHERE id = 104;
UPDATE types_all SET c_text = NULL, c_json = NULL, c_geometry = NULL, c_double = NULL,
       c_bigint_u = NULL, c_longblob = NULL WHERE id = 101;
UPDATE types_all SET c_bool = 0, c_smallint = 7 WHERE id IN (2, 102);
UPDATE types_all SET id = 201 WHERE id = 101;
UPDATE types_all SET id = 202 WHERE id = 102;
UPDATE types_all SET id = 9, c_varchar = 'moved' WHERE id = 4;
COMMIT;

DELETE FROM types_all WHERE id = 3;
DELETE FROM types_all WHERE id IN (6, 1);
