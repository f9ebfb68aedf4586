ALTER TABLE totp_factors DROP COLUMN checked_session;
ALTER TABLE totp_factors DROP COLUMN credential_version;
ALTER TABLE webauthn_ceremonies DROP COLUMN credential_version;
ALTER TABLE mfa_challenges DROP COLUMN credential_version;
ALTER TABLE one_time_tokens DROP COLUMN credential_version;
ALTER TABLE users DROP COLUMN credential_version;
