-- cdc_pgbench_items.sql: a pgbench script (pgbench -f) over tables of cdc_workload.sql. One
-- transaction upserts one cdc_items row, updates another, deletes a third and logs itself
-- in cdc_audit: inserts, updates (the upsert's conflict path too), deletes and NULLs in
-- one source transaction. Keys are drawn from 10 x 400 slots over 10 x 300 seeded rows, so
-- deletes and re-inserts of the same key happen. Deadlocks between clients are retried by
-- pgbench --max-tries.
\set r random(1, 10)
\set i random(1, 400)
\set r2 random(1, 10)
\set i2 random(1, 400)
\set r3 random(1, 10)
\set i3 random(1, 400)
\set q random(-50, 50)
BEGIN;
INSERT INTO cdc_items (region, item, qty, price, note)
  VALUES (:r, 'item-' || :i, :q, :q * 0.25, 'client ' || :client_id)
  ON CONFLICT (region, item) DO UPDATE
  SET qty = cdc_items.qty + EXCLUDED.qty, note = EXCLUDED.note, touched = now();
UPDATE cdc_items SET qty = qty + :q, price = coalesce(price, 0) + 1,
       note = CASE WHEN :q % 4 = 0 THEN NULL ELSE note || '+' END, touched = now()
 WHERE region = :r2 AND item = 'item-' || :i2;
DELETE FROM cdc_items WHERE region = :r3 AND item = 'item-' || :i3;
INSERT INTO cdc_audit (client, region, item, delta) VALUES (:client_id, :r, 'item-' || :i, :q);
END;
