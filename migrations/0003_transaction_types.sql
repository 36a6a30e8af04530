-- Reference table of ledger movement types; its rows come from the data
-- migration 0004. The effects are per unit of quantity on the level of the
-- single warehouse a movement touches; NULL means the direction decides
-- (transfer: from loses, to gains; adjustment: to gains or from loses).

-- migrate:up
CREATE TABLE transaction_types (
    code            text     PRIMARY KEY
        CONSTRAINT transaction_types_code_format CHECK (code ~ '^[a-z][a-z_]{0,31}$'),
    description     text     NOT NULL,
    on_hand_effect  smallint NULL
        CONSTRAINT transaction_types_on_hand_effect_unit CHECK (on_hand_effect BETWEEN -1 AND 1),
    reserved_effect smallint NULL
        CONSTRAINT transaction_types_reserved_effect_unit CHECK (reserved_effect BETWEEN -1 AND 1)
);

-- migrate:down
DROP TABLE transaction_types;
