-- Failed sign-ins per account ("account:<email>") and per client IP ("ip:<address>"),
-- kept in the database so that every instance enforces the same limit.
CREATE TABLE login_throttle (
    key             TEXT PRIMARY KEY NOT NULL,
    failures        BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    locked_until    BIGINT NOT NULL DEFAULT 0
);
