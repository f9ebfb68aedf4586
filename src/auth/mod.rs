//! Authentication, by room: `web/` (the request edge: guard, extractors, scope policies,
//! cookies, CSRF), `tokens/` (claims, the key ring, issuing and decoding), `session/` (sign-in,
//! rotation, device cookies), `factors/` (TOTP, passkeys, the code step), `account/` (register,
//! re-authenticate, recovery, verification, an account's life); beside them the pieces all
//! rooms use: who is acting (`identity`), hashing, throttling, events, the client's address.

pub mod account;
pub mod client;
pub mod events;
pub mod factors;
pub mod identity;
pub mod notice;
pub mod password;
#[cfg(test)]
mod proptests;
pub mod provider;
pub mod session;
pub mod throttle;
pub mod tokens;
pub mod upstream;
pub mod web;

pub use identity::{Identity, Via};
pub use web::extract::{CurrentUser, MaybeUser, RequireAdmin};
