-- types_mysql.sql: the MariaDB side of the type matrix (tests/integration/type_matrix.sh).
--
-- types_all holds one column of every MariaDB type sluice maps, in five rows:
--   1 minimum and negative values    2 maximum values (and the 1 MB blob)
--   3 zero, empty and zero dates     4 ordinary values: fractions, trailing spaces, escapes
--   5 NULL in every column           6 float corners: smallest subnormals, FLT_MAX digits
-- The expected values on each target are tests/sql/types_mysql_to_pg.expected (MariaDB to
-- PostgreSQL); MariaDB to MariaDB must give back the source itself.
--
-- TIMESTAMP values are written in the session time zone +05:30 to prove that sluice reads
-- them in UTC: '2024-02-29 12:34:56' here is 07:04:56 UTC on every target.
-- The zero dates need a sql_mode without NO_ZERO_DATE / NO_ZERO_IN_DATE.
--
-- The refused cases (values the other engine cannot hold) are separate tables, each loaded
-- on its own and expected to fail naming the table, the column and the row's key:
--   bad_time   a negative TIME and one past 24 h (PostgreSQL's time holds 00:00..24:00)
--   bad_nul    a NUL byte in a text value (PostgreSQL text cannot hold NUL)

SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION';
SET SESSION time_zone = '+05:30';
SET SESSION group_concat_max_len = 4194304, max_recursive_iterations = 100000;

CREATE TABLE types_all (
  id            int NOT NULL PRIMARY KEY,
  c_tinyint     tinyint,
  c_tinyint_u   tinyint unsigned,
  c_bool        tinyint(1),
  c_smallint    smallint,
  c_smallint_u  smallint unsigned,
  c_mediumint   mediumint,
  c_mediumint_u mediumint unsigned,
  c_int         int,
  c_int_u       int unsigned,
  c_bigint      bigint,
  c_bigint_u    bigint unsigned,
  c_dec65       decimal(65,30),
  c_dec10       decimal(10,2),
  c_float       float,
  c_double      double,
  c_bit1        bit(1),
  c_bit10       bit(10),
  c_bit64       bit(64),
  c_char        char(10),
  c_varchar     varchar(20),
  c_latin1      varchar(20) CHARACTER SET latin1,
  c_text        text,
  c_mediumtext  mediumtext,
  c_binary      binary(4),
  c_varbinary   varbinary(16),
  c_blob        blob,
  c_longblob    longblob,
  c_date        date,
  c_time        time(6),
  c_datetime    datetime(6),
  c_timestamp   timestamp(6) NULL DEFAULT NULL,
  c_year        year,
  c_enum        enum('small','medium','large'),
  c_enum_odd    enum('it''s','a,b','Ünï',' pad'),
  c_set         set('a','b','c'),
  c_json        json,
  c_geometry    geometry,
  c_zerofill    int(5) unsigned zerofill,
  c_uuid        uuid,
  c_inet4       inet4,
  c_inet6       inet6
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT INTO types_all VALUES
(1, -128, 0, -1, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
 -99999999999999999999999999999999999.999999999999999999999999999999, -99999999.99,
 -3.4028234663852886e38, -1.7976931348623157e308,
 b'0', b'0000000001', b'0000000000000000000000000000000000000000000000000000000000000001',
 'a', 'é', 'café crème', 'plain', 'm', x'00', x'00ff00', x'', x'01',
 '1000-01-01', '00:00:00.000001', '1000-01-01 00:00:00.000000', '1970-01-01 05:30:01.000000',
 1901, 'small', 'it''s', '', '[]', ST_GeomFromText('POINT(1 2)'),
 0, '00000000-0000-0000-0000-000000000000', '0.0.0.0', '::'),
(2, 127, 255, 127, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
 9223372036854775807, 18446744073709551615,
 99999999999999999999999999999999999.999999999999999999999999999999, 99999999.99,
 3.4028234663852886e38, 1.7976931348623157e308,
 b'1', b'1111111111', b'1111111111111111111111111111111111111111111111111111111111111111',
 'abcdefghij', '😀🎉 emoji 𝄞 four-byte', 'ÀÉÎÕÜ ÿ ß', REPEAT('0123456789', 6000),
 REPEAT('ünïcödé ✓ ', 20000), x'DEADBEEF', x'000102030405060708090a0b0c0d0e0f',
 REPEAT(x'00FF', 1000),
 (WITH RECURSIVE s(n, b) AS (SELECT 1, UNHEX(SHA2('sluice', 256))
    UNION ALL SELECT n + 1, UNHEX(SHA2(b, 256)) FROM s WHERE n < 32768)
  SELECT GROUP_CONCAT(b ORDER BY n SEPARATOR '') FROM s),
 '9999-12-31', '23:59:59.999999', '9999-12-31 23:59:59.999999', '2038-01-19 08:44:07.999999',
 2155, 'large', 'Ünï', 'a,b,c', '{"k": [1, 2.5, "x"], "emoji": "😀", "nested": {"null": null}}',
 ST_GeomFromText('LINESTRING(0 0, 1.5 2.5, -3 4)', 4326),
 4294967295, 'ffffffff-ffff-ffff-ffff-ffffffffffff', '255.255.255.255',
 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'),
(3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
 b'0', b'0', b'0', '', '', '', '', '', x'', x'', x'', x'',
 '0000-00-00', '00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00',
 0, 'medium', ' pad', '', '{}', ST_GeomFromText('POINT(0 0)'),
 0, '00000000-0000-0000-0000-000000000001', '0.0.0.0', '::1'),
(4, 1, 1, 1, -1, 1, -1, 1, 42, 42, 1234567890123, 9223372036854775808,
 12345.678900000000000000000000000001, 12345.67, 1.5, 0.1,
 b'1', b'1010101010', b'1000000000000000000000000000000000000000000000000000000000000000',
 'ab   ', 'x  ', '  lead', 'tab\there\nnew line\r\n \\ back\\slash ''quote'' "dq"', 'ü',
 x'6162', x'5c00', x'0a0d09', x'',
 '2024-02-29', '12:34:56.789012', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56.123456',
 2024, 'small', 'a,b', 'b,a', '{"a": "tab\\t \\u00e9"}',
 ST_GeomFromText('POLYGON((0 0, 4 0, 4 4, 0 0))'),
 42, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '192.168.1.1', '2001:db8::ff00:42:8329'),
(5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO types_all (id, c_dec65, c_dec10, c_float, c_double) VALUES
(6, -0.000000000000000000000000000001, -0.01, 1.401298464324817e-45, 4.9406564584124654e-324);

CREATE TABLE bad_time (
  id int NOT NULL PRIMARY KEY,
  t  time(1)
);
INSERT INTO bad_time VALUES (1, '10:00:00'), (2, '-01:00:00.5'), (3, '838:59:59');

CREATE TABLE bad_nul (
  id int NOT NULL PRIMARY KEY,
  s  varchar(10)
);
INSERT INTO bad_nul VALUES (1, 'ok'), (2, CONCAT('a', CHAR(0), 'b')), (3, 'ok');
