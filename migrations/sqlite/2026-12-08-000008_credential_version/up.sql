-- SPEC §9: a credential change ends what was issued under the old one. Every password write
-- (reset, change, an operator's set-password), an applied email change and a disable add one to
-- `users.credential_version`; every link, code-step challenge, passkey ceremony and pending
-- authenticator app records the version it was issued under and is good only while the account
-- still has it (and is enabled). Rows issued before this migration record -1: they end now.
ALTER TABLE users ADD COLUMN credential_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE one_time_tokens ADD COLUMN credential_version BIGINT NOT NULL DEFAULT -1;
ALTER TABLE mfa_challenges ADD COLUMN credential_version BIGINT NOT NULL DEFAULT -1;
-- Registration ceremonies only; a sign-in ceremony names no account (NULL).
ALTER TABLE webauthn_ceremonies ADD COLUMN credential_version BIGINT;
-- SPEC §9 "adding a credential takes the password": a pending authenticator app is shown and
-- confirmed only by the session that gave the password (`checked_session`), under the
-- credential version of that check. Pending rows from before were made without one: NULL.
ALTER TABLE totp_factors ADD COLUMN credential_version BIGINT NOT NULL DEFAULT -1;
ALTER TABLE totp_factors ADD COLUMN checked_session TEXT;
