-- cdc_pgbench_bulk.sql: a pgbench script (pgbench -f) over cdc_items (cdc_workload.sql):
-- larger transactions: up to 10 row updates, a range delete of up to 10 keys and the same
-- 10 keys inserted again with other values, about 30 changes in one source transaction.
-- The insert is an upsert: a concurrent cdc_pgbench_items.sql transaction may insert one of
-- the deleted keys between our DELETE and INSERT, and a unique violation is not retried by
-- pgbench --max-tries (it would fail the run).
\set r random(1, 10)
\set d random(1, 9)
BEGIN;
UPDATE cdc_items SET price = coalesce(price, 0) + 0.01, touched = now()
 WHERE region = :r AND item LIKE 'item-' || :d || '_';
DELETE FROM cdc_items WHERE region = :r AND item LIKE 'item-' || :d || '0_';
INSERT INTO cdc_items (region, item, qty, price, note)
SELECT :r, 'item-' || :d || '0' || g, g, NULL, repeat('b', g) FROM generate_series(0, 9) g
ON CONFLICT (region, item) DO UPDATE
  SET qty = EXCLUDED.qty, price = EXCLUDED.price, note = EXCLUDED.note, touched = now();
END;
