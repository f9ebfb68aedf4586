-- SPEC §13: the identity providers people may sign in with ("Sign in with NAME"). `kind` is
-- `oidc` (any OpenID Connect provider, found by its issuer's discovery document) or `github`
-- (OAuth 2 and its user API: `issuer` is then GitHub's web base URL and `api_url` its API's).
-- The client secret is sealed with a key derived from the server secret, bound to the name, as
-- TOTP secrets are: a database dump alone does not give it away.
CREATE TABLE upstream_providers (
    name          TEXT PRIMARY KEY NOT NULL,
    kind          TEXT NOT NULL,
    issuer        TEXT NOT NULL,
    api_url       TEXT,
    client_id     TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
