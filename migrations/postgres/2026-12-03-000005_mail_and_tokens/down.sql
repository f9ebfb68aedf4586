ALTER TABLE users DROP COLUMN email_verified;
DROP TABLE one_time_tokens;
DROP TABLE outbox;
