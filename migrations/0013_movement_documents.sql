-- Multi-line movements (StockService.ApplyStockMovements): every ledger row of a document carries its id.
--
-- The service tags a document's transaction with SET LOCAL-like
-- set_config('inventory.document_id', <id>, true); the column's default reads
-- it, so the movement code that writes the rows does not change, and rows of
-- single movements (no setting, or '' once a tagged transaction has ended)
-- get NULL. ListTransactions filters on document_id through the index.

-- migrate:up
ALTER TABLE stock_transactions
    ADD COLUMN document_id uuid NULL DEFAULT nullif(current_setting('inventory.document_id', true), '')::uuid;
CREATE INDEX stock_transactions_document_idx ON stock_transactions (document_id, create_time, id)
    WHERE document_id IS NOT NULL;

-- migrate:down
DROP INDEX stock_transactions_document_idx;
ALTER TABLE stock_transactions DROP COLUMN document_id;
