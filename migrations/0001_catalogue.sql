-- Products and warehouses: the catalogue every stock movement refers to.
-- Uniqueness of sku and code is case-insensitive; the repositories map
-- violations of products_sku_key / warehouses_code_key to ALREADY_EXISTS.

-- migrate:up
CREATE TABLE products (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    sku              text        NOT NULL
        CONSTRAINT products_sku_length CHECK (char_length(sku) BETWEEN 1 AND 64),
    name             text        NOT NULL
        CONSTRAINT products_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    description      text        NOT NULL DEFAULT ''
        CONSTRAINT products_description_length CHECK (char_length(description) <= 4000),
    unit_price_minor bigint      NOT NULL DEFAULT 0
        CONSTRAINT products_unit_price_nonnegative CHECK (unit_price_minor >= 0),
    currency_code    text        NOT NULL DEFAULT ''
        CONSTRAINT products_currency_code_format CHECK (currency_code = '' OR currency_code ~ '^[A-Z]{3}$'),
    reorder_point    bigint      NOT NULL DEFAULT 0
        CONSTRAINT products_reorder_point_nonnegative CHECK (reorder_point >= 0),
    attributes       jsonb       NOT NULL DEFAULT '{}'::jsonb
        CONSTRAINT products_attributes_object CHECK (jsonb_typeof(attributes) = 'object'),
    create_time      timestamptz NOT NULL DEFAULT now(),
    update_time      timestamptz NOT NULL DEFAULT now(),
    delete_time      timestamptz NULL,
    version          bigint      NOT NULL DEFAULT 1
        CONSTRAINT products_version_positive CHECK (version >= 1)
);

CREATE UNIQUE INDEX products_sku_key ON products (lower(sku));

CREATE TABLE warehouses (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    code        text        NOT NULL
        CONSTRAINT warehouses_code_length CHECK (char_length(code) BETWEEN 1 AND 64),
    name        text        NOT NULL
        CONSTRAINT warehouses_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    address     text        NOT NULL DEFAULT ''
        CONSTRAINT warehouses_address_length CHECK (char_length(address) <= 1000),
    create_time timestamptz NOT NULL DEFAULT now(),
    update_time timestamptz NOT NULL DEFAULT now(),
    delete_time timestamptz NULL,
    version     bigint      NOT NULL DEFAULT 1
        CONSTRAINT warehouses_version_positive CHECK (version >= 1)
);

CREATE UNIQUE INDEX warehouses_code_key ON warehouses (lower(code));

-- migrate:down
DROP TABLE warehouses;
DROP TABLE products;
