//! Signing in with a passkey, no email typed (a discoverable credential). A passkey sign-in is
//! already two factors (something held, unlocked by something known or a biometric), so no
//! code step follows it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use webauthn_rs::prelude::{DiscoverableAuthentication, Passkey, PublicKeyCredential};

use crate::auth::client::ClientInfo;
use crate::auth::events::{self, EventKind};
use crate::auth::factors::webauthn::{
    Ceremony, PasskeyError, Passkeys, count_ceremony, enabled, store_ceremony, take_ceremony,
};
use crate::auth::identity::Amr;
use crate::auth::notice::notify;
use crate::auth::session::sign_in::{Sessions, SignedIn, start_session};
use crate::db::passkeys::{self as rows, PasskeyRow};
use crate::db::{self, Pool, users};
use crate::mail::compose;
use crate::metrics::SignInResult;

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
    let mut signed = start_session(sessions, user, attempt.remember, Amr::Passkey, client).await?;
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
            log::info!(reason:% = e; "a passkey sign-in was refused");
            None
        }
    }
}
