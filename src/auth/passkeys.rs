//! Passkeys (WebAuthn, through webauthn-rs): adding one to a signed-in account, and signing in
//! with one and no email typed (a discoverable credential). A passkey sign-in is already two
//! factors (something held, unlocked by something known or a biometric), so no code follows.
//! The ceremonies' state is kept in the database, so the two halves may reach two instances.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use super::client::ClientInfo;
use super::events::{self, EventKind};
use super::sessions::{Sessions, SignInError, SignedIn, notify, start_session};
use super::throttle::{self, Throttled};
use super::tokens::random_id;
use crate::config::PublicUrl;
use crate::db::passkeys::{self as rows, NewPasskey, PasskeyRow};
use crate::db::{self, Pool, StoreError, users};
use crate::domain::UserId;
use crate::errors::ApiError;
use crate::mail::{Mail, compose};
use crate::metrics::SignInResult;

/// The one-line reason the passkey buttons are hidden behind an IP public URL.
pub const NEEDS_A_HOST_NAME: &str =
    "Passkeys need a host name: this server's public URL is an IP address, which WebAuthn refuses.";
/// A ceremony (the browser asking the authenticator) may take this long.
const CEREMONY_SECS: i64 = 5 * 60;
/// Ceremonies one client IP may start in a row before it is slowed down.
const CEREMONIES_PER_IP: i64 = 30;
/// A passkey's name, as its owner typed it, is cut to this many characters.
const NAME_CHARS: usize = 60;

pub struct Passkeys {
    webauthn: Webauthn,
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
fn user_handle(user_id: &UserId) -> Uuid {
    let digest = Sha256::digest(format!("portcullis webauthn user handle v1:{user_id}"));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

fn enabled(passkeys: Option<&Passkeys>) -> Result<&Passkeys, PasskeyError> {
    passkeys.ok_or(PasskeyError::Unavailable)
}

async fn count_ceremony(pool: &Pool, client: &ClientInfo) -> Result<(), PasskeyError> {
    if let Some(key) = throttle::Key::passkey_ip(client) {
        throttle::attempt(pool, &key, CEREMONIES_PER_IP).await?.map_err(PasskeyError::Throttled)?;
    }
    Ok(())
}

async fn store_ceremony(pool: &Pool, user_id: Option<&UserId>, state: String) -> Result<String, StoreError> {
    let (id, uid) = (random_id(), user_id.cloned());
    let ceremony = id.clone();
    db::query(pool, move |conn| {
        rows::insert_ceremony(conn, &ceremony, uid.as_ref(), &state, db::now() + CEREMONY_SECS)
    })
    .await?;
    Ok(id)
}

async fn take_ceremony(pool: &Pool, id: &str, user_id: Option<&UserId>) -> Result<String, PasskeyError> {
    let (id, uid) = (id.to_owned(), user_id.cloned());
    db::query(pool, move |conn| rows::take_ceremony(conn, &id, uid.as_ref(), db::now()))
        .await?
        .ok_or(PasskeyError::CeremonyExpired)
}

/// Starts adding a passkey to a signed-in account (its existing ones are excluded, so one
/// authenticator is not registered twice). The credential must be discoverable.
pub async fn start_registration(
    pool: &Pool,
    passkeys: Option<&Passkeys>,
    user_id: &UserId,
    email: &str,
    client: &ClientInfo,
) -> Result<Ceremony, PasskeyError> {
    let pk = enabled(passkeys)?;
    count_ceremony(pool, client).await?;
    let uid = user_id.clone();
    let existing = db::query(pool, move |conn| rows::list_for_user(conn, &uid)).await?;
    let exclude = existing
        .iter()
        .filter_map(|row| serde_json::from_str::<Passkey>(&row.passkey).ok())
        .map(|p| p.cred_id().clone())
        .collect();
    let (ccr, state) = pk
        .webauthn
        .start_passkey_registration(user_handle(user_id), email, email, Some(exclude))
        .map_err(|e| anyhow::anyhow!("cannot start a passkey registration: {e}"))?;
    let mut options = serde_json::to_value(ccr).map_err(anyhow::Error::from)?;
    // Sign-in without an email needs a discoverable credential (a "resident key").
    if let Some(selection) = options.pointer_mut("/publicKey/authenticatorSelection") {
        selection["residentKey"] = Value::from("required");
        selection["requireResidentKey"] = Value::from(true);
    }
    let state = serde_json::to_string(&state).map_err(anyhow::Error::from)?;
    Ok(Ceremony { id: store_ceremony(pool, Some(user_id), state).await?, options })
}

/// A newly added passkey, as its owner sees it.
pub struct Added {
    pub id: String,
    pub name: String,
}

/// Finishes adding a passkey: the authenticator's answer is verified against the ceremony's
/// challenge and this origin; the owner gets a security event and a mail.
pub async fn finish_registration(
    (pool, mail): (&Pool, &Mail),
    passkeys: Option<&Passkeys>,
    (user_id, email): (&UserId, &str),
    (ceremony, name, credential): (&str, &str, &RegisterPublicKeyCredential),
    client: &ClientInfo,
) -> Result<Added, PasskeyError> {
    let pk = enabled(passkeys)?;
    let state = take_ceremony(pool, ceremony, Some(user_id)).await?;
    let state: PasskeyRegistration = serde_json::from_str(&state).map_err(anyhow::Error::from)?;
    let passkey = pk.webauthn.finish_passkey_registration(credential, &state).map_err(|e| {
        log::info!("a passkey registration was refused: {e}");
        PasskeyError::Rejected
    })?;
    let name = display_name(name);
    let added = Added { id: random_id(), name: name.clone() };
    let json = serde_json::to_string(&passkey).map_err(anyhow::Error::from)?;
    let credential_id = URL_SAFE_NO_PAD.encode(passkey.cred_id().as_slice());
    let (uid, id, handle) = (user_id.clone(), added.id.clone(), user_handle(user_id).to_string());
    let inserted = db::query(pool, move |conn| {
        let row = NewPasskey {
            id: &id,
            user_id: &uid,
            credential_id: &credential_id,
            user_handle: &handle,
            name: &name,
            passkey: &json,
            now: db::now(),
        };
        rows::insert(conn, &row)
    })
    .await?;
    if !inserted {
        return Err(PasskeyError::AlreadyRegistered);
    }
    events::record_detailed(pool, user_id, EventKind::PasskeyAdded, format!("“{}”", added.name), client)
        .await;
    let what = format!("A passkey named “{}” was added to your account.", added.name);
    notify(pool, mail, compose::factor_changed(mail, email, &what)).await;
    Ok(added)
}

fn display_name(typed: &str) -> String {
    let name: String = typed.chars().filter(|c| !c.is_control()).take(NAME_CHARS).collect();
    let name = name.trim();
    if name.is_empty() { "Passkey".to_owned() } else { name.to_owned() }
}

/// Starts a passkey sign-in: no account is named; the authenticator offers its own.
pub async fn start_sign_in(
    pool: &Pool,
    passkeys: Option<&Passkeys>,
    client: &ClientInfo,
) -> Result<Ceremony, PasskeyError> {
    let pk = enabled(passkeys)?;
    count_ceremony(pool, client).await?;
    let (rcr, state) = pk
        .webauthn
        .start_discoverable_authentication()
        .map_err(|e| anyhow::anyhow!("cannot start a passkey sign-in: {e}"))?;
    let mut options = serde_json::to_value(rcr).map_err(anyhow::Error::from)?;
    // A button press, not the browser's autofill ("conditional") prompt.
    if let Some(o) = options.as_object_mut() {
        o.remove("mediation");
    }
    let state = serde_json::to_string(&state).map_err(anyhow::Error::from)?;
    Ok(Ceremony { id: store_ceremony(pool, None, state).await?, options })
}

/// What a passkey sign-in carries besides the authenticator's answer.
pub struct PasskeySignIn<'a> {
    pub ceremony: &'a str,
    pub credential: &'a PublicKeyCredential,
    pub remember: bool,
    /// The browser's device cookie: one without this account's gets its owner a notice.
    pub device_cookie: Option<String>,
}

/// Finishes a passkey sign-in: the answer must verify against the ceremony's challenge and a
/// passkey registered here, of an enabled account. Opens a session (no code step).
pub async fn finish_sign_in(
    sessions: &Sessions,
    passkeys: Option<&Passkeys>,
    attempt: PasskeySignIn<'_>,
    client: &ClientInfo,
) -> Result<SignedIn, PasskeyError> {
    let pk = enabled(passkeys)?;
    let pool = &sessions.pool;
    let state = take_ceremony(pool, attempt.ceremony, None).await?;
    let state: DiscoverableAuthentication = serde_json::from_str(&state).map_err(anyhow::Error::from)?;
    let (handle, credential_id) = pk
        .webauthn
        .identify_discoverable_authentication(attempt.credential)
        .map_err(|_| PasskeyError::Rejected)?;
    let (credential_id, handle) = (URL_SAFE_NO_PAD.encode(credential_id), handle.to_string());
    let row = db::query(pool, move |conn| rows::find_by_credential(conn, &credential_id, &handle))
        .await?
        .ok_or(PasskeyError::Rejected)?;
    let result = verify(pk, attempt.credential, state, &row);
    let Some(mut passkey) = result else {
        events::record(pool, &row.user_id, EventKind::LoginFailed, None, client).await;
        sessions.metrics.sign_in(SignInResult::Failed);
        return Err(PasskeyError::Rejected);
    };
    let (uid, id) = (row.user_id.clone(), row.id.clone());
    let user = db::query(pool, move |conn| {
        rows::record_use(conn, &id, passkey.take().as_deref(), db::now())?;
        users::find_user_by_id(conn, &uid)
    })
    .await?
    .filter(|u| !u.disabled && (u.email_verified || !sessions.require_verified_email))
    .ok_or(PasskeyError::Rejected)?;
    let known_device =
        attempt.device_cookie.and_then(|c| sessions.devices.verify(&c)).is_some_and(|d| d.user_id == user.id);
    let mut signed = start_session(sessions, user, attempt.remember, client).await?;
    signed.device = Some(sessions.devices.issue(&signed.user.id));
    if !known_device {
        let notice = compose::new_sign_in(&sessions.mail, &signed.user.email, &client.ip, &client.user_agent);
        notify(pool, &sessions.mail, notice).await;
    }
    let how = format!("with the passkey “{}”", row.name);
    events::record_detailed(pool, &signed.user.id, EventKind::LoginSucceeded, how, client).await;
    sessions.metrics.sign_in(SignInResult::Ok);
    Ok(signed)
}

/// Verifies the assertion; `Some(updated record)` when it passed (`Some(None)`: nothing to store).
fn verify(
    pk: &Passkeys,
    credential: &PublicKeyCredential,
    state: DiscoverableAuthentication,
    row: &PasskeyRow,
) -> Option<Option<String>> {
    let mut passkey: Passkey = serde_json::from_str(&row.passkey).ok()?;
    match pk.webauthn.finish_discoverable_authentication_v2(credential, state, &passkey) {
        Ok(result) => {
            let changed = passkey.update_credential(&result) == Some(true);
            Some(changed.then(|| serde_json::to_string(&passkey).ok()).flatten())
        }
        Err(e) => {
            log::info!("a passkey sign-in was refused: {e}");
            None
        }
    }
}

/// The account's passkeys, oldest first.
pub async fn list(pool: &Pool, user_id: &UserId) -> Result<Vec<PasskeyRow>, StoreError> {
    let uid = user_id.clone();
    db::query(pool, move |conn| rows::list_for_user(conn, &uid)).await
}

/// Removes one of the account's passkeys: a security event and a mail to the owner.
pub async fn remove(
    (pool, mail): (&Pool, &Mail),
    (user_id, email): (&UserId, &str),
    id: &str,
    client: &ClientInfo,
) -> Result<(), PasskeyError> {
    let (uid, key) = (user_id.clone(), id.to_owned());
    let name =
        db::query(pool, move |conn| rows::delete(conn, &uid, &key)).await?.ok_or(PasskeyError::NotFound)?;
    events::record_detailed(pool, user_id, EventKind::PasskeyRemoved, format!("“{name}”"), client).await;
    let what = format!("The passkey named “{name}” was removed from your account.");
    notify(pool, mail, compose::factor_changed(mail, email, &what)).await;
    Ok(())
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
