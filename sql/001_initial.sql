-- 001: accounts, E2E keys, invites, refresh tokens, the audit log and the instance owner.
-- Applied by `chatalotctl migrate` in one transaction together with its schema_version row.

CREATE TABLE users (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username           text NOT NULL CHECK (char_length(username) BETWEEN 3 AND 32),
    email              text NOT NULL CHECK (octet_length(email) <= 254),
    password_hash      text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    display_name       text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 64),
    avatar_url         text,
    banner_url         text,
    status             text NOT NULL DEFAULT 'offline',
    custom_status      text,
    is_admin           boolean NOT NULL DEFAULT false,
    is_owner           boolean NOT NULL DEFAULT false,
    recovery_code_hash text NOT NULL CHECK (recovery_code_hash ~ '^[0-9a-f]{64}$'),
    invite_id          uuid,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT is_owner OR is_admin)
);
-- Uniqueness ignoring case is the database's: a concurrent twin fails here, whatever the app saw.
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
-- At most one owner, whatever the concurrency.
CREATE UNIQUE INDEX users_single_owner_key ON users (is_owner) WHERE is_owner;

-- The first account ever created: one row at most, claimed with INSERT ... ON CONFLICT DO
-- NOTHING inside the registration transaction, so concurrent first registrations queue on it.
CREATE TABLE instance_owner (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    user_id    uuid NOT NULL REFERENCES users (id),
    claimed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE identity_keys (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    public_key bytea NOT NULL CHECK (octet_length(public_key) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE signed_prekeys (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key_id     bigint NOT NULL CHECK (key_id BETWEEN 0 AND 4294967295),
    public_key bytea NOT NULL CHECK (octet_length(public_key) = 32),
    signature  bytea NOT NULL CHECK (octet_length(signature) = 64),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key_id)
);

CREATE TABLE one_time_prekeys (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key_id     bigint NOT NULL CHECK (key_id BETWEEN 0 AND 4294967295),
    public_key bytea NOT NULL CHECK (octet_length(public_key) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key_id)
);

CREATE TABLE registration_invites (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code_hash  text NOT NULL UNIQUE CHECK (code_hash ~ '^[0-9a-f]{64}$'),  -- SHA-256 of the normalised code
    code_hint  text NOT NULL CHECK (char_length(code_hint) = 4),
    max_uses   integer CHECK (max_uses IS NULL OR max_uses >= 1),
    used_count integer NOT NULL DEFAULT 0 CHECK (used_count >= 0),
    expires_at timestamptz,
    note       text CHECK (note IS NULL OR char_length(note) <= 200),
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,  -- NULL: made on the server's shell
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    CHECK (max_uses IS NULL OR used_count <= max_uses)
);
CREATE INDEX registration_invites_created_at_idx ON registration_invites (created_at DESC);

ALTER TABLE users ADD CONSTRAINT users_invite_id_fkey
    FOREIGN KEY (invite_id) REFERENCES registration_invites (id);
CREATE INDEX users_invite_id_idx ON users (invite_id) WHERE invite_id IS NOT NULL;

CREATE TABLE refresh_tokens (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),  -- SHA-256 of the token
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);

CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor_id   uuid,            -- NULL: the system or the server's shell
    action     text NOT NULL,   -- user.register, user.promote_admin, invite.create, invite.revoke
    target_id  uuid,
    details    jsonb NOT NULL DEFAULT '{}',
    request_id text
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
