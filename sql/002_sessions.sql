-- 002: sessions (the chain of refresh tokens of one login or registration), suspension, and
-- the indexes the session endpoints and the admin's user list read by.
-- Applied by `chatalotctl migrate` in one transaction together with its schema_version row.

-- A session: started by a registration or a login, ended by a logout, a reuse of a spent
-- refresh token, a recovery, a password change, a suspension, or 30 days without a refresh.
CREATE TABLE sessions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_name   text CHECK (device_name IS NULL OR char_length(device_name) <= 64),
    ip_address    text CHECK (ip_address IS NULL OR char_length(ip_address) <= 64),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,  -- the last refresh + 30 days
    revoked_at    timestamptz,
    revoked_reason text  -- logout, logout_all, token_reuse, recovery, password_change, suspended, revoked
);
CREATE INDEX sessions_user_live_idx ON sessions (user_id, created_at DESC) WHERE revoked_at IS NULL;

-- Each refresh token belongs to one session and is spent once (used_at), when its successor
-- is issued. A spent token presented again names the session to end.
ALTER TABLE refresh_tokens ADD COLUMN session_id uuid REFERENCES sessions (id) ON DELETE CASCADE;
ALTER TABLE refresh_tokens ADD COLUMN used_at timestamptz;

-- The refresh tokens that registrations issued before this migration become sessions of their
-- own (the token's id is the session's), with their expiry and revocation.
INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, revoked_at, revoked_reason)
SELECT id, user_id, created_at, created_at, expires_at, revoked_at,
       CASE WHEN revoked_at IS NULL THEN NULL ELSE 'revoked' END
FROM refresh_tokens;
UPDATE refresh_tokens SET session_id = id;
ALTER TABLE refresh_tokens ALTER COLUMN session_id SET NOT NULL;
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

-- Suspension: who, when and why; a suspended account cannot log in, refresh or use a token.
ALTER TABLE users ADD COLUMN suspended_at timestamptz;
ALTER TABLE users ADD COLUMN suspended_reason text
    CHECK (suspended_reason IS NULL OR char_length(suspended_reason) <= 500);
ALTER TABLE users ADD COLUMN suspended_by uuid REFERENCES users (id) ON DELETE SET NULL;

-- The admin's user list, newest first.
CREATE INDEX users_created_at_idx ON users (created_at DESC, id);
