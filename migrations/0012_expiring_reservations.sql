-- Reservations that expire (ReserveStockRequest.ttl; docs/stock.md, "Expiring reservations").
--
-- A RESERVATION row now records its expire_time (NULL: it never expires, as
-- every reservation made before this migration). open_reservations holds one
-- row per reservation with units left, kept by a trigger on the ledger so that
-- every writer is covered: a RESERVATION row adds one, a SHIPMENT or RELEASE
-- naming it lowers `remaining`, and the row goes when nothing remains. The
-- service's expiry sweeper finds due reservations through its expire_time
-- index and releases what remains with a RELEASE row of its own (caller
-- "inventory-server", in the name of the reservation's performer).
-- ListReservations reads this table. No foreign key to the ledger: the
-- trigger is its only writer, and the ledger's TRUNCATE guard must stay the
-- first thing a TRUNCATE meets.

-- migrate:up
ALTER TABLE stock_transactions ADD COLUMN expire_time timestamptz NULL;

CREATE TABLE open_reservations (
    reservation_id uuid        PRIMARY KEY,
    product_id     uuid        NOT NULL,
    warehouse_id   uuid        NOT NULL,
    reference      text        NOT NULL,
    quantity       bigint      NOT NULL,
    remaining      bigint      NOT NULL CONSTRAINT open_reservations_remaining_positive CHECK (remaining > 0),
    expire_time    timestamptz NULL,
    create_time    timestamptz NOT NULL,
    performed_by   uuid        NOT NULL
);
CREATE INDEX open_reservations_expire_idx ON open_reservations (expire_time, reservation_id)
    WHERE expire_time IS NOT NULL;
CREATE INDEX open_reservations_product_idx ON open_reservations (product_id, create_time, reservation_id);
CREATE INDEX open_reservations_warehouse_idx ON open_reservations (warehouse_id, create_time, reservation_id);
CREATE INDEX open_reservations_create_idx ON open_reservations (create_time, reservation_id);

INSERT INTO open_reservations
SELECT r.id, r.product_id, r.from_warehouse_id, r.reference, r.quantity,
       r.quantity - coalesce((SELECT sum(c.quantity) FROM stock_transactions c WHERE c.reservation_id = r.id), 0),
       r.expire_time, r.create_time, r.performed_by
FROM stock_transactions r
WHERE r.type = 'reservation'
  AND r.quantity > coalesce((SELECT sum(c.quantity) FROM stock_transactions c WHERE c.reservation_id = r.id), 0);

CREATE FUNCTION stock_transactions_track_reservation() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF NEW.type = 'reservation' THEN
        INSERT INTO open_reservations
        VALUES (NEW.id, NEW.product_id, NEW.from_warehouse_id, NEW.reference, NEW.quantity, NEW.quantity,
                NEW.expire_time, NEW.create_time, NEW.performed_by);
    ELSE
        -- the consumer holds its level's lock, like everything that consumes this reservation
        UPDATE open_reservations SET remaining = remaining - NEW.quantity
        WHERE reservation_id = NEW.reservation_id AND remaining > NEW.quantity;
        IF NOT FOUND THEN
            DELETE FROM open_reservations WHERE reservation_id = NEW.reservation_id;
        END IF;
    END IF;
    RETURN NULL;
END;
$fn$;

CREATE TRIGGER stock_transactions_open_reservations
    AFTER INSERT ON stock_transactions
    FOR EACH ROW
    WHEN (NEW.type = 'reservation' OR NEW.reservation_id IS NOT NULL)
    EXECUTE FUNCTION stock_transactions_track_reservation();

-- migrate:down
DROP TRIGGER stock_transactions_open_reservations ON stock_transactions;
DROP FUNCTION stock_transactions_track_reservation();
DROP TABLE open_reservations;
ALTER TABLE stock_transactions DROP COLUMN expire_time;
