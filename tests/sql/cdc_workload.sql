-- cdc_workload.sql: the tables of the CDC workload (tests/integration/pg_cdc_*.sh), created
-- on the PostgreSQL source beside pgbench's own tables (pgbench -i).
--
--   cdc_items  a composite primary key (integer, text); the pgbench scripts
--              cdc_pgbench_items.sql and cdc_pgbench_bulk.sql insert, update and delete
--              its rows in multi-statement transactions
--   cdc_audit  insert-only, one row per transaction of cdc_pgbench_items.sql, with a
--              unique id: its count and ids must arrive exactly, each id once
--
-- pgbench_history has no key: the CDC tests set REPLICA IDENTITY FULL on it.

CREATE TABLE cdc_items (
  region  integer NOT NULL,
  item    text NOT NULL,
  qty     integer NOT NULL,
  price   numeric(12,2),
  note    text,
  touched timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (region, item)
);
INSERT INTO cdc_items (region, item, qty, price, note, touched)
SELECT r, 'item-' || i, i, i * 1.25,
       CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE 'seed ñ€😀 ' || i END,
       timestamptz '2024-01-01 00:00:00+00' + i * interval '1.5 seconds'
  FROM generate_series(1, 10) r, generate_series(1, 300) i;

CREATE TABLE cdc_audit (
  id     bigserial PRIMARY KEY,
  client integer NOT NULL,
  region integer NOT NULL,
  item   text NOT NULL,
  delta  integer NOT NULL,
  at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- A few rows before any stream starts, so the initial load has some too.
INSERT INTO cdc_audit (client, region, item, delta)
SELECT -1, g % 10 + 1, 'item-' || g, g FROM generate_series(1, 100) g;

ALTER TABLE pgbench_history REPLICA IDENTITY FULL;
ANALYZE;
