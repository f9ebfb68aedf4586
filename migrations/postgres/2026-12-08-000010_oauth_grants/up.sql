-- SPEC §11: what a person let an app have, and what the app got with it.
--
-- A grant is one person's consent for one client to a set of scopes ("Apps with access" on the
-- account page). It is live while not revoked, its user enabled, and the user's
-- credential_version still the one it was made under (SPEC §9: a password reset or change, an
-- applied email change or a disable ends every app grant, and all below it, at once).
CREATE TABLE oauth_grants (
    id                 TEXT PRIMARY KEY NOT NULL,
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id          TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scope              TEXT NOT NULL,
    credential_version BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    last_used_at       BIGINT NOT NULL,
    revoked_at         BIGINT
);
CREATE INDEX oauth_grants_user ON oauth_grants (user_id, client_id);
CREATE INDEX oauth_grants_client ON oauth_grants (client_id);

-- An authorization code: only its SHA-256 is stored; single use, 60 s. `token_id` names what
-- its redemption issued, so a second use can revoke it (RFC 6749 §4.1.2).
CREATE TABLE oauth_codes (
    code_hash      TEXT PRIMARY KEY NOT NULL,
    grant_id       TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,
    code_challenge TEXT,
    nonce          TEXT,
    auth_time      BIGINT NOT NULL,
    amr            TEXT NOT NULL,
    session_id     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT,
    token_id       TEXT
);
CREATE INDEX oauth_codes_grant ON oauth_codes (grant_id);

-- What one redeemed code issued: the id every access token of it carries (`gid`, checked at
-- each use like a first-party session) and, with `offline_access`, the refresh token chain
-- (rotated like a session's: the current and the immediately previous jti hash).
CREATE TABLE oauth_tokens (
    id                TEXT PRIMARY KEY NOT NULL,
    grant_id          TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    scope             TEXT NOT NULL,
    auth_time         BIGINT NOT NULL,
    amr               TEXT NOT NULL,
    refresh_jti_hash  TEXT,
    previous_jti_hash TEXT,
    rotated_at        BIGINT,
    created_at        BIGINT NOT NULL,
    last_used_at      BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    revoked_at        BIGINT
);
CREATE INDEX oauth_tokens_grant ON oauth_tokens (grant_id);

-- How each session's sign-in was proven (an ID token's `amr`): `pwd`, `pwd otp` (the code
-- step), `hwk` (a passkey). Sessions from before this migration: a password.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
