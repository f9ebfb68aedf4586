//! Second factors (SPEC §9): TOTP with recovery codes, passkeys (WebAuthn), and the code step
//! that completes a sign-in (`mfa.rs`; the challenge itself is opened by `session/`).

pub mod enrolment;
pub mod mfa;
pub mod passkey_sign_in;
pub mod passkeys;
pub mod totp;
pub mod two_factor;
pub mod webauthn;
