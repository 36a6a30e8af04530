-- The change stream's commit-ordered positions (StockService.WatchStockChanges; docs/stock.md).
--
-- The trap: an id or sequence value given to a ledger row at INSERT is in
-- insert order, not commit order. A reader following "position > last seen"
-- would skip a row whose transaction took its number early and committed late.
--
-- So a row gets its position at COMMIT, under a lock: the deferred constraint
-- trigger below runs when its transaction commits, takes a transaction-level
-- advisory lock (held until the transaction has ended) and only then draws
-- positions from a sequence. PostgreSQL makes a transaction visible to new
-- snapshots before it releases its locks, so the next stamping transaction
-- can only draw a larger position once the previous one is visible: the
-- visible positions always form a prefix of the ones that will ever commit
-- (with holes only where a transaction failed after stamping), and a reader of
-- "position > p" can never skip a row.
--
-- The ledger itself stays append-only: positions live in stock_changes, one row
-- per ledger row, with the levels as that row's transaction left them (what a
-- watcher is told). stock_changes is purged past the watch retention; the
-- highest purged position is kept in stock_change_retention so a resume from
-- before it is refused rather than silently missing rows.
--
-- The sequence must keep CACHE 1 (per-session caches would hand out values
-- out of lock order). Every ledger writer is covered (the service, manual SQL).

-- migrate:up
CREATE SEQUENCE stock_change_position_seq AS bigint CACHE 1;

CREATE TABLE stock_changes (
    position          bigint      PRIMARY KEY,
    transaction_id    uuid        NOT NULL,
    commit_time       timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- the levels of the row's product at its from/to warehouse when its transaction committed
    -- (NULL for a side the row does not have, and for rows written before this migration)
    from_on_hand      bigint      NULL,
    from_reserved     bigint      NULL,
    from_update_time  timestamptz NULL,
    to_on_hand        bigint      NULL,
    to_reserved       bigint      NULL,
    to_update_time    timestamptz NULL
);

CREATE TABLE stock_change_retention (
    singleton       boolean PRIMARY KEY DEFAULT true CONSTRAINT stock_change_retention_one_row CHECK (singleton),
    purged_through  bigint  NOT NULL DEFAULT 0
);
INSERT INTO stock_change_retention DEFAULT VALUES;

-- Rows already in the ledger get positions in (create_time, id) order.
INSERT INTO stock_changes (position, transaction_id, commit_time)
SELECT nextval('stock_change_position_seq'), id, create_time
FROM (SELECT id, create_time FROM stock_transactions ORDER BY create_time, id) AS existing;

CREATE FUNCTION stock_transactions_stamp_position() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    from_level stock_levels%ROWTYPE;
    to_level   stock_levels%ROWTYPE;
BEGIN
    -- 7243991 = the change stream's stamping lock (migrate/lock.py uses another key).
    -- Re-taking it for the transaction's next row is a local no-op.
    PERFORM pg_advisory_xact_lock(7243991);
    IF NEW.from_warehouse_id IS NOT NULL THEN
        SELECT * INTO from_level FROM stock_levels
        WHERE warehouse_id = NEW.from_warehouse_id AND product_id = NEW.product_id;
    END IF;
    IF NEW.to_warehouse_id IS NOT NULL THEN
        SELECT * INTO to_level FROM stock_levels
        WHERE warehouse_id = NEW.to_warehouse_id AND product_id = NEW.product_id;
    END IF;
    INSERT INTO stock_changes (
        position, transaction_id,
        from_on_hand, from_reserved, from_update_time, to_on_hand, to_reserved, to_update_time
    ) VALUES (
        nextval('stock_change_position_seq'), NEW.id,
        from_level.on_hand, from_level.reserved, from_level.update_time,
        to_level.on_hand, to_level.reserved, to_level.update_time
    );
    -- A wake-up for the watchers; identical notifications of one transaction are sent once.
    PERFORM pg_notify('inventory_stock_changes', '');
    RETURN NULL;
END;
$fn$;

CREATE CONSTRAINT TRIGGER stock_transactions_position_at_commit
    AFTER INSERT ON stock_transactions
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION stock_transactions_stamp_position();

-- migrate:down
DROP TRIGGER stock_transactions_position_at_commit ON stock_transactions;
DROP FUNCTION stock_transactions_stamp_position();
DROP TABLE stock_change_retention;
DROP TABLE stock_changes;
DROP SEQUENCE stock_change_position_seq;
