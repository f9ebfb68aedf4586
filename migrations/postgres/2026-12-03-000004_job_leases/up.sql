-- Background jobs (the purge) that must run on one instance at a time: a job runs only
-- while its row's lease is held (expires_at in the future, holder = the instance).
CREATE TABLE job_leases (
    name       TEXT PRIMARY KEY NOT NULL,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
INSERT INTO job_leases (name, holder, expires_at) VALUES ('purge', '', 0);
