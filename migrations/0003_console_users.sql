-- Console users (web console sign-in), their failed sign-ins and the session signing key.
-- Passwords are argon2id PHC strings; plaintext never reaches this database.

CREATE TABLE console_users (
    id             UUID PRIMARY KEY,
    username       TEXT NOT NULL,
    password_hash  TEXT NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    is_admin       BOOLEAN NOT NULL DEFAULT FALSE,
    enabled        BOOLEAN NOT NULL DEFAULT TRUE,
    -- Bumped when the password changes: every session issued before is rejected.
    session_epoch  INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Usernames are matched case-insensitively.
CREATE UNIQUE INDEX console_users_username ON console_users (lower(username));

-- Access keys a console user created for the CLI/SDKs; NULL for keys from configuration.
ALTER TABLE access_keys
    ADD COLUMN user_id UUID REFERENCES console_users(id) ON DELETE CASCADE;
CREATE INDEX access_keys_user ON access_keys (user_id);

-- Failed sign-ins per (username as typed, client IP); username '' counts all failures of
-- an IP. Shared by every control-plane replica.
CREATE TABLE console_signin_failures (
    username          TEXT NOT NULL,
    ip                TEXT NOT NULL,
    failures          INTEGER NOT NULL,
    window_started_at TIMESTAMPTZ NOT NULL,
    locked_until      TIMESTAMPTZ,
    PRIMARY KEY (username, ip)
);

-- Generated secrets shared by replicas (the session signing key when none is configured).
CREATE TABLE console_secrets (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
