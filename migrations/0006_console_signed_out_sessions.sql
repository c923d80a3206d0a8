-- Console sessions ended by sign-out: their access and refresh tokens (which carry the
-- session's id, `sid`) are refused until the session would have ended anyway, then the
-- row is forgotten.
CREATE TABLE console_signed_out_sessions (
    sid         TEXT PRIMARY KEY,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_signed_out_sessions_expiry ON console_signed_out_sessions (expires_at);
