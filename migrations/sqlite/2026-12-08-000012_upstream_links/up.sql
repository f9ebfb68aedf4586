-- SPEC §13: an identity at a provider linked to an account, keyed on the provider's issuer and
-- its `sub` (GitHub's numeric id) — never on a name or an email. `provider` is the name it was
-- linked through (for the account page); `email` what the provider said at the last sign-in.
CREATE TABLE upstream_links (
    issuer       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider     TEXT NOT NULL,
    email        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX upstream_links_user ON upstream_links (user_id);

-- A sign-in (or a connection from the account page) on its way through a provider: only the
-- SHA-256 of `state` is stored; `browser_hash` binds it to the browser that started it (a
-- cookie of its own), so a callback URL sent to someone else does nothing. Single use, 10
-- minutes. A connection records the account and its credential version (SPEC §9).
CREATE TABLE upstream_logins (
    state_hash         TEXT PRIMARY KEY NOT NULL,
    provider           TEXT NOT NULL,
    browser_hash       TEXT NOT NULL,
    nonce              TEXT NOT NULL,
    code_verifier      TEXT NOT NULL,
    next               TEXT NOT NULL,
    user_id            TEXT REFERENCES users (id) ON DELETE CASCADE,
    credential_version BIGINT,
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    used_at            BIGINT
);
