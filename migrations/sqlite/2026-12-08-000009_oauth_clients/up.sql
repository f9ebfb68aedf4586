-- SPEC §11: the applications that sign people in through Portcullis (OpenID Connect relying
-- parties). A confidential client's secret is 256 random bits, stored as its SHA-256
-- (base64url) — never the secret; a public client has none (NULL) and proves PKCE instead.
-- Redirect URIs are matched exactly: a JSON array of the registered ones.
CREATE TABLE oauth_clients (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    skip_consent BOOLEAN NOT NULL DEFAULT 0,
    id_token_alg TEXT NOT NULL DEFAULT 'RS256',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
