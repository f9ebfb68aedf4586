//! WebAuthn for passkeys (webauthn-rs): the relying party (the public URL), the ceremonies'
//! state — kept in the database, so the two halves of one may reach two instances — and the
//! one mapping of a passkey failure to an HTTP answer. `auth::passkeys` adds and removes
//! passkeys; `auth::passkey_sign_in` signs in with one.

use serde_json::Value;
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{Url, Uuid, Webauthn, WebauthnBuilder};

use crate::auth::account::lifecycle::AccountError;
use crate::auth::client::ClientInfo;
use crate::auth::session::sign_in::SignInError;
use crate::auth::throttle::{self, Throttled};
use crate::auth::tokens::random_id;
use crate::config::PublicUrl;
use crate::db::passkeys as rows;
use crate::db::{self, Pool, StoreError};
use crate::domain::UserId;
use crate::errors::ApiError;

/// The one-line reason the passkey buttons are hidden behind an IP public URL.
pub const NEEDS_A_HOST_NAME: &str =
    "Passkeys need a host name: this server's public URL is an IP address, which WebAuthn refuses.";
/// A ceremony (the browser asking the authenticator) may take this long.
const CEREMONY_SECS: i64 = 5 * 60;
/// Ceremonies one client IP may start in a row before it is slowed down.
const CEREMONIES_PER_IP: i64 = 30;

pub struct Passkeys {
    pub(super) webauthn: Webauthn,
}

impl Passkeys {
    /// `None` when the public URL's host is an IP address (WebAuthn needs a domain).
    pub fn for_origin(public_url: &PublicUrl) -> Option<Self> {
        let origin = Url::parse(public_url.as_str()).ok()?;
        let host = origin.domain()?.to_owned();
        let webauthn = WebauthnBuilder::new(&host, &origin).ok()?.rp_name("Portcullis").build().ok()?;
        Some(Self { webauthn })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error("{}", NEEDS_A_HOST_NAME)]
    Unavailable,
    /// Unknown, expired or already finished, or another account's.
    #[error("this passkey request has expired")]
    CeremonyExpired,
    /// The authenticator's answer does not verify, or names no passkey of an enabled account.
    #[error("the passkey was not accepted")]
    Rejected,
    #[error("this passkey is already registered")]
    AlreadyRegistered,
    #[error("no such passkey")]
    NotFound,
    #[error("too many passkey requests")]
    Throttled(Throttled),
    /// Adding a passkey: the password check failed (or was throttled).
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// The one place a passkey failure becomes an HTTP answer.
impl From<PasskeyError> for ApiError {
    fn from(e: PasskeyError) -> Self {
        match e {
            PasskeyError::Unavailable => {
                Self::Conflict { code: "passkeys_unavailable", message: NEEDS_A_HOST_NAME }
            }
            PasskeyError::CeremonyExpired => Self::bad_request(
                "passkey_expired",
                "ceremony: this passkey request has expired or was already used. Start again.",
            ),
            PasskeyError::Rejected => Self::PasskeyRejected,
            PasskeyError::AlreadyRegistered => {
                Self::Conflict { code: "passkey_exists", message: "This passkey is already registered." }
            }
            PasskeyError::NotFound => Self::NotFound,
            PasskeyError::Throttled(t) => Self::TooManyRequests { retry_after_secs: t.retry_after_secs },
            PasskeyError::Account(e) => e.into(),
            PasskeyError::Store(e) => e.into(),
            PasskeyError::Unexpected(e) => e.into(),
        }
    }
}

impl From<SignInError> for PasskeyError {
    fn from(e: SignInError) -> Self {
        match e {
            SignInError::Store(e) => Self::Store(e),
            SignInError::Unexpected(e) => Self::Unexpected(e),
            _ => Self::Rejected,
        }
    }
}

/// What the browser needs to ask the authenticator: `options` goes to
/// `navigator.credentials.create`/`get` (WebAuthn JSON), `ceremony` comes back with the answer.
pub struct Ceremony {
    pub id: String,
    pub options: Value,
}

/// The WebAuthn user handle of an account: derived from its id, so it names nobody by itself.
pub(super) fn user_handle(user_id: &UserId) -> Uuid {
    let digest = Sha256::digest(format!("portcullis webauthn user handle v1:{user_id}"));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

pub(super) fn enabled(passkeys: Option<&Passkeys>) -> Result<&Passkeys, PasskeyError> {
    passkeys.ok_or(PasskeyError::Unavailable)
}

pub(super) async fn count_ceremony(pool: &Pool, client: &ClientInfo) -> Result<(), PasskeyError> {
    if let Some(key) = throttle::Key::passkey_ip(client) {
        throttle::attempt(pool, &key, CEREMONIES_PER_IP).await?.map_err(PasskeyError::Throttled)?;
    }
    Ok(())
}

/// Stores a ceremony's state. `owner`: the account adding a passkey, with the credential
/// version its password was checked under (the ceremony dies with a credential change).
pub(super) async fn store_ceremony(
    pool: &Pool,
    owner: Option<(&UserId, i64)>,
    state: String,
) -> Result<String, StoreError> {
    let (id, owner) = (random_id(), owner.map(|(user_id, version)| (user_id.clone(), version)));
    let ceremony = id.clone();
    db::query(pool, move |conn| {
        let owner = owner.as_ref().map(|(user_id, version)| (user_id, *version));
        rows::insert_ceremony(conn, &ceremony, owner, &state, db::now() + CEREMONY_SECS)
    })
    .await?;
    Ok(id)
}

pub(super) async fn take_ceremony(
    pool: &Pool,
    id: &str,
    user_id: Option<&UserId>,
) -> Result<String, PasskeyError> {
    let (id, uid) = (id.to_owned(), user_id.cloned());
    db::query(pool, move |conn| rows::take_ceremony(conn, &id, uid.as_ref(), db::now()))
        .await?
        .ok_or(PasskeyError::CeremonyExpired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passkeys_are_offered_on_a_host_name_and_never_on_an_ip_address() {
        let on = |url: &str| Passkeys::for_origin(&PublicUrl::parse(url).unwrap()).is_some();
        assert!(on("https://auth.example.com") && on("http://localhost:8080"));
        assert!(!on("http://127.0.0.1:8080") && !on("http://[::1]:8080") && !on("https://192.0.2.7"));
    }

    #[test]
    fn user_handles_are_stable_per_account_and_differ_between_accounts() {
        let (a, b) = (UserId::from("a".to_owned()), UserId::from("b".to_owned()));
        assert_eq!(user_handle(&a), user_handle(&a));
        assert_ne!(user_handle(&a), user_handle(&b));
    }
}
