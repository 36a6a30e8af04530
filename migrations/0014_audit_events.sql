-- The audit log (issue 10): who changed what, who logged in, who was refused.
--
-- One row per create/update/delete/undelete of a product, warehouse or user
-- (role and password changes are user updates whose changed_fields name them),
-- per login attempt and per refused call. Change rows are written in the same
-- transaction as the change, so a rolled-back change leaves no row and a
-- committed one always has its row. Never a password, hash or token: only
-- field names. Append-only like the ledger: a trigger refuses UPDATE, DELETE
-- and TRUNCATE (a REVOKE would not bind the table's owner, which the server
-- usually is).

-- migrate:up
CREATE TABLE audit_events (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    create_time    timestamptz NOT NULL DEFAULT clock_timestamp(),
    principal      text NOT NULL DEFAULT '',
    acting_user    uuid NULL,
    method         text NOT NULL,
    resource       text NOT NULL DEFAULT '',
    request_id     text NOT NULL DEFAULT '',
    changed_fields text[] NOT NULL DEFAULT '{}',
    result         text NOT NULL
);
CREATE INDEX audit_events_time_idx ON audit_events (create_time, id);
CREATE INDEX audit_events_principal_idx ON audit_events (principal, create_time, id);
CREATE INDEX audit_events_resource_idx ON audit_events (resource, create_time, id);

CREATE FUNCTION audit_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only'
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();

-- TRUNCATE bypasses row triggers; refuse it too.
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

-- migrate:down
DROP TABLE audit_events;
DROP FUNCTION audit_events_refuse_change();
