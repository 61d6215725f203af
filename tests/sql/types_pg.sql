-- types_pg.sql: the PostgreSQL side of the type matrix (tests/integration/type_matrix.sh).
--
-- types_all holds one column of every PostgreSQL type sluice maps, in five rows:
--   1 minimum and negative values    2 maximum values (and the 1 MB bytea)
--   3 zero and empty values           4 ordinary values: fractions, time zones, escapes
--   5 NULL in every column (but the generated one, which is computed from id)
--   6, 7 timestamptz written in other session time zones
--   8 float and numeric corners: smallest subnormals, tiny and trailing-zero numerics
-- The expected values on a MariaDB target are tests/sql/types_pg_to_mysql.expected;
-- PostgreSQL to PostgreSQL must give back the source itself.
--
-- timestamptz values are written in several time zones; every target holds them in UTC.
--
-- The refused cases (values MariaDB cannot hold) are separate tables, each loaded on its
-- own and expected to fail naming the table, the column and the row's key, with nothing
-- written: row 1 and 3 are good, row 2 is the bad one. PostgreSQL to PostgreSQL copies them
-- unchanged.

SET TimeZone = 'UTC';
SET DateStyle = 'ISO';

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'it''s, "quoted"');
CREATE TYPE spaced AS ENUM ('x ', ' y');
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE DOMAIN short_text AS varchar(8);

CREATE TABLE types_all (
  id            integer PRIMARY KEY,
  c_smallint    smallint,
  c_int         integer,
  c_bigint      bigint,
  c_numeric     numeric(38,10),
  c_numeric_big numeric,
  c_real        real,
  c_double      double precision,
  c_money       money,
  c_text        text,
  c_varchar     varchar(20),
  c_char        char(10),
  c_bytea       bytea,
  c_uuid        uuid,
  c_json        json,
  c_jsonb       jsonb,
  c_int_arr     integer[],
  c_text_arr    text[],
  c_date        date,
  c_time        time(6),
  c_timetz      timetz,
  c_timestamp   timestamp(6),
  c_timestamptz timestamptz(6),
  c_interval    interval,
  c_bool        boolean,
  c_enum        mood,
  c_domain      positive_int,
  c_domain_text short_text,
  c_inet        inet,
  c_cidr        cidr,
  c_macaddr     macaddr,
  c_tsvector    tsvector,
  c_generated   integer GENERATED ALWAYS AS (id * 10) STORED,
  c_bit         bit(8),
  c_varbit      varbit(16),
  c_bit_long    bit(100),
  c_numeric_neg numeric(5,-2),
  c_enum_arr    mood[],
  c_ts_arr      timestamptz[],
  c_xml         xml,
  c_point       point,
  c_enum_space  spaced
);

INSERT INTO types_all VALUES
(1, -32768, -2147483648, -9223372036854775808,
 -9999999999999999999999999999.9999999999,
 -12345678901234567890123456789012345.123456789012345678901234567890,
 -3.4028235e38, -1.7976931348623157e308, '-92233720368547758.08',
 'plain', 'é', 'a', '\x00', '00000000-0000-0000-0000-000000000000',
 '[]', '[]', '{-2147483648,NULL,0}', '{"",NULL,"NULL"}',
 '0001-01-01', '00:00:00', '00:00:00+14', '0001-01-01 00:00:00', '0001-01-01 00:00:00+00',
 '-178000000 years', false, 'sad', 1, '', '0.0.0.0', '0.0.0.0/0', '00:00:00:00:00:00',
 '', DEFAULT, B'00000000', B'', repeat('0', 100)::bit(100), -9999900,
 '{}', '{}', '<a/>', '(0,0)', 'x '),
(2, 32767, 2147483647, 9223372036854775807,
 9999999999999999999999999999.9999999999,
 12345678901234567890123456789012345.123456789012345678901234567890,
 3.4028235e38, 1.7976931348623157e308, '92233720368547758.07',
 repeat('0123456789', 10000), '😀🎉 emoji 𝄞 four-byte', 'abcdefghij',
 (SELECT string_agg(sha256(convert_to(n::text, 'UTF8')), '' ORDER BY n)
    FROM generate_series(1, 32768) n),
 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
 '{"k": [1, 2.5, "x"],  "emoji": "😀", "b": true}', '{"k": [1, 2.5, "x"],  "emoji": "😀", "b": true}',
 '{2147483647,1}', '{"with space","quote\"d","back\\slash","comma,","{brace}"}',
 '9999-12-31', '24:00:00', '23:59:59.999999-12', '9999-12-31 23:59:59.999999',
 '9999-12-31 23:59:59.999999+00', '178000000 years', true, 'happy', 2147483647, '12345678',
 '255.255.255.255', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff',
 'a fat cat sat on a mat', DEFAULT, B'11111111', B'1111111111111111',
 repeat('1', 100)::bit(100), 9999900, '{sad,ok,happy,"it''s, \"quoted\""}',
 '{"2024-01-01 00:00:00+01","infinity"}', '<r a="1">text &amp; more</r>', '(-1.5,1e+300)',
 ' y'),
(3, 0, 0, 0, 0, 0, '-0', '-0', 0, '', '', '', '\x', '00000000-0000-0000-0000-000000000001',
 '{}', '{}', '{}', '{}', '2000-01-01', '12:00:00', '12:00:00+00', '2000-01-01 00:00:00',
 '2000-01-01 00:00:00+00', '0 seconds', false, 'ok', 1, '', '::', '::/0', '08:00:2b:01:02:03',
 '', DEFAULT, B'00000000', B'0', repeat('0', 100)::bit(100), 0, '{}', '{}', '', '(0,0)', 'x '),
(4, -1, 42, 1234567890123, 12345.6789, 0.000000000000000000000000000001, 1.5, 0.1, '1234.56',
 E'tab\there\nnew line\r\n \\ back\\slash ''quote'' "dq"', 'x  ', 'ab   ', '\x5c000a0d09ff',
 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
 '{"a": "tab\t \u00e9"}', '{"b": 2, "a": 1}', '{{1,2},{3,4}}', '{a,b}',
 '2024-02-29', '12:34:56.789012', '12:34:56.789012+05:30', '2024-02-29 12:34:56.123456',
 '2024-02-29 12:34:56.123456+05:30', '1 year 2 mons 3 days 04:05:06.5', true, 'ok', 42,
 'short', '192.168.1.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', 'the quick brown fox',
 DEFAULT, B'10100101', B'101', ('1' || repeat('0', 99))::bit(100), 1234550,
 '{NULL,"it''s, \"quoted\""}', '{NULL}', '<?xml version="1.0"?><doc>é</doc>', '(1,2)', ' y'),
(5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 DEFAULT, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- timestamptz written in other time zones (row 4 above is +05:30): 6 and 7 add -08:00 and
-- a half-hour zone with daylight saving, through the session TimeZone rather than a suffix.
SET TimeZone = 'America/Los_Angeles';
INSERT INTO types_all (id, c_timestamptz) VALUES (6, '2024-07-04 09:15:00.5');
SET TimeZone = 'Australia/Adelaide';
INSERT INTO types_all (id, c_timestamptz) VALUES (7, '2024-01-01 00:00:00');
SET TimeZone = 'UTC';
INSERT INTO types_all (id, c_numeric, c_numeric_big, c_real, c_double, c_money) VALUES
(8, -0.0000000001, 1.500, 1e-45, 5e-324, 0.01);

-- Refused on MariaDB: NaN and infinities have no MariaDB form; numbers past DECIMAL(65,30).
CREATE TABLE bad_numeric_nan (id integer PRIMARY KEY, v numeric);
INSERT INTO bad_numeric_nan VALUES (1, 1), (2, 'NaN'), (3, 3);
CREATE TABLE bad_numeric_huge (id integer PRIMARY KEY, v numeric);
INSERT INTO bad_numeric_huge VALUES (1, 1), (2, 1e40), (3, 3);
CREATE TABLE bad_double_inf (id integer PRIMARY KEY, v double precision);
INSERT INTO bad_double_inf VALUES (1, 1), (2, 'Infinity'), (3, 3);
CREATE TABLE bad_double_neginf (id integer PRIMARY KEY, v double precision);
INSERT INTO bad_double_neginf VALUES (1, 1), (2, '-Infinity'), (3, 3);
CREATE TABLE bad_double_nan (id integer PRIMARY KEY, v double precision);
INSERT INTO bad_double_nan VALUES (1, 1), (2, 'NaN'), (3, 3);
CREATE TABLE bad_timestamp_inf (id integer PRIMARY KEY, v timestamp);
INSERT INTO bad_timestamp_inf VALUES (1, '2000-01-01'), (2, 'infinity'), (3, '2000-01-03');
CREATE TABLE bad_timestamptz_inf (id integer PRIMARY KEY, v timestamptz);
INSERT INTO bad_timestamptz_inf VALUES (1, '2000-01-01'), (2, '-infinity'), (3, '2000-01-03');
CREATE TABLE bad_timestamp_y10k (id integer PRIMARY KEY, v timestamp);
INSERT INTO bad_timestamp_y10k VALUES (1, '2000-01-01'), (2, '10000-01-01'), (3, '2000-01-03');
CREATE TABLE bad_date_inf (id integer PRIMARY KEY, v date);
INSERT INTO bad_date_inf VALUES (1, '2000-01-01'), (2, 'infinity'), (3, '2000-01-03');
CREATE TABLE bad_date_bc (id integer PRIMARY KEY, v date);
INSERT INTO bad_date_bc VALUES (1, '2000-01-01'), (2, '0044-03-15 BC'), (3, '2000-01-03');
