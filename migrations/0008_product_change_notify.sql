-- Tell every replica's product cache which products changed (LISTEN inventory_products).
--
-- Statement-level AFTER triggers send the ids of the changed rows with
-- pg_notify; PostgreSQL delivers notifications only when (and if) the writing
-- transaction commits, so rolled-back changes invalidate nothing. Every writer
-- is covered: the service, ImportProducts, and manual SQL.
--
-- Payload: up to 200 comma-separated ids per notification (37 bytes each, under
-- the 8000-byte limit), or '*' = "forget every product" for a statement that
-- changed more than 1000 rows and for TRUNCATE. INSERT needs no trigger: the
-- cache never holds an id before its row exists (misses are not cached), and
-- INSERT ... ON CONFLICT DO UPDATE fires the UPDATE trigger for the rows it updates.
-- UPDATE and DELETE use OLD TABLE: the old id is the one a cache may hold.

-- migrate:up
CREATE FUNCTION products_notify_change() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    changed bigint;
    chunk   text;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('inventory_products', '*');
        RETURN NULL;
    END IF;
    SELECT count(*) INTO changed FROM changed_rows;
    IF changed = 0 THEN
        RETURN NULL;
    END IF;
    IF changed > 1000 THEN
        PERFORM pg_notify('inventory_products', '*');
        RETURN NULL;
    END IF;
    FOR chunk IN
        SELECT string_agg(id::text, ',')
        FROM (SELECT id, (row_number() OVER () - 1) / 200 AS part FROM changed_rows) AS numbered
        GROUP BY part
    LOOP
        PERFORM pg_notify('inventory_products', chunk);
    END LOOP;
    RETURN NULL;
END;
$fn$;

CREATE TRIGGER products_notify_update
    AFTER UPDATE ON products
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION products_notify_change();

CREATE TRIGGER products_notify_delete
    AFTER DELETE ON products
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION products_notify_change();

CREATE TRIGGER products_notify_truncate
    AFTER TRUNCATE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION products_notify_change();

-- migrate:down
DROP TRIGGER products_notify_truncate ON products;
DROP TRIGGER products_notify_delete ON products;
DROP TRIGGER products_notify_update ON products;
DROP FUNCTION products_notify_change();
