-- Login throttling (issue 10): failed AuthenticateUser attempts counted per account and per
-- calling principal, in PostgreSQL so that every replica sees the same counts.
--
-- key is "account:<sha256 of the lower-cased email>" (unknown emails are counted like known
-- ones, and a password typed into the email field is not stored readable) or
-- "principal:<principal>". failures counts within the window that began at window_start;
-- reaching the threshold sets blocked_until. Rows are small and few (one per attacked
-- account or caller); an expired row is reset by the next failure.

-- migrate:up
CREATE TABLE login_throttle (
    key           text PRIMARY KEY,
    failures      integer NOT NULL CHECK (failures >= 0),
    window_start  timestamptz NOT NULL,
    blocked_until timestamptz NULL
);

-- migrate:down
DROP TABLE login_throttle;
