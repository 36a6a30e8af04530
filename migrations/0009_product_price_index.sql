-- Keyset index for ListProducts filtered or ordered by unit_price_minor
-- (bench/bench_scale.py: a price range ordered by price over 1,000,000
-- products took 65 ms as a scan and sort).

-- migrate:no-transaction
-- migrate:up
DROP INDEX CONCURRENTLY IF EXISTS products_unit_price_idx;
CREATE INDEX CONCURRENTLY products_unit_price_idx ON products (unit_price_minor, id);

-- migrate:down
DROP INDEX CONCURRENTLY IF EXISTS products_unit_price_idx;
