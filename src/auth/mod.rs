//! Authentication: passwords, tokens, cookies, CSRF, the guard and the extractors.

pub mod accounts;
pub mod challenge;
pub mod claims;
pub mod client;
pub mod cookies;
pub mod csrf;
pub mod device;
pub mod events;
pub mod extract;
pub mod guard;
pub mod lifecycle;
pub mod lifetimes;
pub mod links;
pub mod mfa;
pub mod pair;
pub mod passkey_sign_in;
pub mod passkeys;
pub mod password;
#[cfg(test)]
mod proptests;
pub mod reauth;
pub mod recovery;
pub mod refresh;
pub mod ring;
pub mod scope;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod totp;
pub mod totp_enrolment;
pub mod two_factor;
pub mod verification;
pub mod webauthn;

pub use extract::{CurrentUser, Identity, MaybeUser, RequireAdmin, Via};
