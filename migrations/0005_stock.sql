-- Stock levels (one row per warehouse x product) and the append-only ledger.
-- Invariants enforced here as a backstop to the service layer:
--   on_hand >= 0 and 0 <= reserved <= on_hand; ledger rows are never changed.
-- Lock order for level rows is the primary key order: (warehouse_id, product_id).

-- migrate:up
CREATE TABLE stock_levels (
    product_id   uuid        NOT NULL REFERENCES products (id),
    warehouse_id uuid        NOT NULL REFERENCES warehouses (id),
    on_hand      bigint      NOT NULL DEFAULT 0,
    reserved     bigint      NOT NULL DEFAULT 0,
    create_time  timestamptz NOT NULL DEFAULT now(),
    update_time  timestamptz NOT NULL DEFAULT now(),
    version      bigint      NOT NULL DEFAULT 1
        CONSTRAINT stock_levels_version_positive CHECK (version >= 1),
    CONSTRAINT stock_levels_pkey PRIMARY KEY (warehouse_id, product_id),
    CONSTRAINT stock_levels_on_hand_nonnegative CHECK (on_hand >= 0),
    CONSTRAINT stock_levels_reserved_range CHECK (0 <= reserved AND reserved <= on_hand)
);

CREATE INDEX stock_levels_product_id_idx ON stock_levels (product_id);

CREATE TABLE stock_transactions (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    type              text        NOT NULL REFERENCES transaction_types (code),
    product_id        uuid        NOT NULL REFERENCES products (id),
    from_warehouse_id uuid        NULL REFERENCES warehouses (id),
    to_warehouse_id   uuid        NULL REFERENCES warehouses (id),
    quantity          bigint      NOT NULL
        CONSTRAINT stock_transactions_quantity_positive CHECK (quantity > 0),
    reservation_id    uuid        NULL REFERENCES stock_transactions (id),
    reference         text        NOT NULL DEFAULT '',
    reason            text        NOT NULL DEFAULT '',
    performed_by      uuid        NOT NULL REFERENCES users (id),
    caller            text        NOT NULL DEFAULT '',
    request_id        text        NOT NULL,
    create_time       timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT stock_transactions_warehouse_present
        CHECK (from_warehouse_id IS NOT NULL OR to_warehouse_id IS NOT NULL),
    CONSTRAINT stock_transactions_warehouses_differ
        CHECK (from_warehouse_id IS NULL OR to_warehouse_id IS NULL OR from_warehouse_id <> to_warehouse_id)
);

-- Listing indexes: every filter of ListTransactions, keyset-ordered by (create_time, id).
CREATE INDEX stock_transactions_create_time_idx ON stock_transactions (create_time, id);
CREATE INDEX stock_transactions_product_idx ON stock_transactions (product_id, create_time, id);
CREATE INDEX stock_transactions_from_warehouse_idx ON stock_transactions (from_warehouse_id, create_time, id);
CREATE INDEX stock_transactions_to_warehouse_idx ON stock_transactions (to_warehouse_id, create_time, id);
CREATE INDEX stock_transactions_performed_by_idx ON stock_transactions (performed_by, create_time, id);
CREATE INDEX stock_transactions_type_idx ON stock_transactions (type, create_time, id);
CREATE INDEX stock_transactions_reservation_idx ON stock_transactions (reservation_id)
    WHERE reservation_id IS NOT NULL;

CREATE FUNCTION stock_transactions_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'stock_transactions is append-only'
        USING ERRCODE = 'restrict_violation',
              HINT = 'Record a correcting movement instead.';
END;
$$;

CREATE TRIGGER stock_transactions_append_only
    BEFORE UPDATE OR DELETE ON stock_transactions
    FOR EACH ROW EXECUTE FUNCTION stock_transactions_refuse_change();

-- TRUNCATE bypasses row triggers; refuse it too.
CREATE TRIGGER stock_transactions_no_truncate
    BEFORE TRUNCATE ON stock_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION stock_transactions_refuse_change();

-- migrate:down
DROP TABLE stock_transactions;
DROP FUNCTION stock_transactions_refuse_change();
DROP TABLE stock_levels;
