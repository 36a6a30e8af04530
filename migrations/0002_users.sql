-- Users who perform stock movements. Email is unique case-insensitively;
-- password_hash holds an argon2 hash and never leaves the server.

-- migrate:up
CREATE TABLE users (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text        NOT NULL
        CONSTRAINT users_email_length CHECK (char_length(email) BETWEEN 3 AND 320),
    display_name  text        NOT NULL DEFAULT ''
        CONSTRAINT users_display_name_length CHECK (char_length(display_name) <= 200),
    role          text        NOT NULL
        CONSTRAINT users_role_known CHECK (role IN ('viewer', 'clerk', 'manager', 'admin')),
    password_hash text        NOT NULL
        CONSTRAINT users_password_hash_present CHECK (password_hash <> ''),
    create_time   timestamptz NOT NULL DEFAULT now(),
    update_time   timestamptz NOT NULL DEFAULT now(),
    delete_time   timestamptz NULL,
    version       bigint      NOT NULL DEFAULT 1
        CONSTRAINT users_version_positive CHECK (version >= 1)
);

CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- migrate:down
DROP TABLE users;
