-- Keyset pagination and List filter indexes, built without blocking writes.
-- CREATE INDEX CONCURRENTLY cannot run inside a transaction, so this migration
-- is non-transactional: each statement commits on its own. Every index is
-- dropped first (IF EXISTS) so that a rerun after a failed build replaces an
-- INVALID leftover index instead of keeping it.

-- migrate:no-transaction
-- migrate:up
DROP INDEX CONCURRENTLY IF EXISTS products_create_time_idx;
CREATE INDEX CONCURRENTLY products_create_time_idx ON products (create_time, id);
DROP INDEX CONCURRENTLY IF EXISTS products_update_time_idx;
CREATE INDEX CONCURRENTLY products_update_time_idx ON products (update_time, id);
DROP INDEX CONCURRENTLY IF EXISTS products_name_idx;
CREATE INDEX CONCURRENTLY products_name_idx ON products (name, id);
DROP INDEX CONCURRENTLY IF EXISTS products_sku_idx;
CREATE INDEX CONCURRENTLY products_sku_idx ON products (sku, id);

DROP INDEX CONCURRENTLY IF EXISTS warehouses_create_time_idx;
CREATE INDEX CONCURRENTLY warehouses_create_time_idx ON warehouses (create_time, id);
DROP INDEX CONCURRENTLY IF EXISTS warehouses_update_time_idx;
CREATE INDEX CONCURRENTLY warehouses_update_time_idx ON warehouses (update_time, id);
DROP INDEX CONCURRENTLY IF EXISTS warehouses_name_idx;
CREATE INDEX CONCURRENTLY warehouses_name_idx ON warehouses (name, id);
DROP INDEX CONCURRENTLY IF EXISTS warehouses_code_idx;
CREATE INDEX CONCURRENTLY warehouses_code_idx ON warehouses (code, id);

DROP INDEX CONCURRENTLY IF EXISTS users_create_time_idx;
CREATE INDEX CONCURRENTLY users_create_time_idx ON users (create_time, id);
DROP INDEX CONCURRENTLY IF EXISTS users_update_time_idx;
CREATE INDEX CONCURRENTLY users_update_time_idx ON users (update_time, id);
DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;
CREATE INDEX CONCURRENTLY users_email_idx ON users (email, id);
DROP INDEX CONCURRENTLY IF EXISTS users_display_name_idx;
CREATE INDEX CONCURRENTLY users_display_name_idx ON users (display_name, id);
DROP INDEX CONCURRENTLY IF EXISTS users_role_idx;
CREATE INDEX CONCURRENTLY users_role_idx ON users (role, create_time, id);

DROP INDEX CONCURRENTLY IF EXISTS stock_levels_update_time_idx;
CREATE INDEX CONCURRENTLY stock_levels_update_time_idx ON stock_levels (update_time, warehouse_id, product_id);

-- migrate:down
DROP INDEX CONCURRENTLY IF EXISTS stock_levels_update_time_idx;
DROP INDEX CONCURRENTLY IF EXISTS users_role_idx;
DROP INDEX CONCURRENTLY IF EXISTS users_display_name_idx;
DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;
DROP INDEX CONCURRENTLY IF EXISTS users_update_time_idx;
DROP INDEX CONCURRENTLY IF EXISTS users_create_time_idx;
DROP INDEX CONCURRENTLY IF EXISTS warehouses_code_idx;
DROP INDEX CONCURRENTLY IF EXISTS warehouses_name_idx;
DROP INDEX CONCURRENTLY IF EXISTS warehouses_update_time_idx;
DROP INDEX CONCURRENTLY IF EXISTS warehouses_create_time_idx;
DROP INDEX CONCURRENTLY IF EXISTS products_sku_idx;
DROP INDEX CONCURRENTLY IF EXISTS products_name_idx;
DROP INDEX CONCURRENTLY IF EXISTS products_update_time_idx;
DROP INDEX CONCURRENTLY IF EXISTS products_create_time_idx;
