-- TOTP (RFC 6238). The secret is sealed (ChaCha20-Poly1305) with a key derived from the server
-- secret, so a database dump alone cannot compute codes. `confirmed_at` NULL: enrolment pending.
-- `last_step` is the newest 30 s step whose code was accepted: each code works once.
CREATE TABLE totp_factors (
    user_id       TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    confirmed_at  BIGINT,
    last_step     BIGINT NOT NULL DEFAULT 0
);

-- Ten single-use recovery codes per account, stored only as hashes.
CREATE TABLE recovery_codes (
    code_hash  TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

-- The half-signed-in state between a correct password and a correct code: not a session.
-- Only a hash of the mfa_token is stored; it dies on success, after 5 wrong codes, or at expiry.
CREATE TABLE mfa_challenges (
    token_hash   TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    flow         TEXT NOT NULL,
    remember     BOOLEAN NOT NULL,
    known_device BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    failures     BIGINT NOT NULL DEFAULT 0,
    used_at      BIGINT
);
CREATE INDEX mfa_challenges_user ON mfa_challenges (user_id);

-- Passkeys (WebAuthn). `passkey` is webauthn-rs's record of the credential (public key,
-- counter) as JSON; `user_handle` is the id the authenticator hands back at a sign-in.
CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    user_handle   TEXT NOT NULL,
    name          TEXT NOT NULL,
    passkey       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- A WebAuthn ceremony in progress (registration: the user's; sign-in: nobody's yet). Kept in the
-- database, not in memory, so the two halves may reach different instances.
CREATE TABLE webauthn_ceremonies (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
