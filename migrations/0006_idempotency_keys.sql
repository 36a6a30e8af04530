-- Remembered results of write requests (AIP-155 request_id). A retry with the
-- same scope and request_id returns the stored response; a different payload
-- (fingerprint) under the same key is refused. Old rows are purged by create_time.

-- migrate:up
CREATE TABLE idempotency_keys (
    scope       text        NOT NULL,
    request_id  text        NOT NULL,
    fingerprint text        NOT NULL,
    response    jsonb       NULL,
    create_time timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (scope, request_id)
);

CREATE INDEX idempotency_keys_create_time_idx ON idempotency_keys (create_time);

-- migrate:down
DROP TABLE idempotency_keys;
