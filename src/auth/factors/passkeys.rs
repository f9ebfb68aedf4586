//! Passkeys on a signed-in account: adding one (a discoverable credential, so it can sign in
//! without an email), listing and removing them. Each change is a security event and a mail.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use webauthn_rs::prelude::{Passkey, PasskeyRegistration, RegisterPublicKeyCredential};

use secrecy::SecretString;

use crate::auth::account::reauth::{self, PasswordCheck};
use crate::auth::client::ClientInfo;
use crate::auth::events::{self, EventKind};
use crate::auth::factors::webauthn::{
    Ceremony, PasskeyError, Passkeys, count_ceremony, enabled, store_ceremony, take_ceremony, user_handle,
};
use crate::auth::identity::Identity;
use crate::auth::notice::{Mailer, notify};
use crate::auth::tokens::random_id;
use crate::db::passkeys::{self as rows, NewPasskey, PasskeyRow};
use crate::db::{self, Pool, StoreError};
use crate::domain::{UserId, is_invisible_format};
use crate::mail::compose;

/// A passkey's name, as its owner typed it, is cut to this many characters.
const NAME_CHARS: usize = 60;

/// Starts adding a passkey to a signed-in account: only after its password (SPEC §9, checked
/// and throttled like any current-password check), and the ceremony dies with a credential
/// change. Its existing passkeys are excluded, so one authenticator is not registered twice.
/// The credential must be discoverable.
pub async fn start_registration(
    checks: PasswordCheck<'_>,
    passkeys: Option<&Passkeys>,
    user_id: &UserId,
    password: Option<SecretString>,
    client: &ClientInfo,
) -> Result<Ceremony, PasskeyError> {
    let pk = enabled(passkeys)?;
    let user = reauth::reauthenticate(checks, user_id, password, client).await?;
    let pool = checks.pool;
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
        .start_passkey_registration(user_handle(user_id), &user.email, &user.email, Some(exclude))
        .map_err(|e| anyhow::anyhow!("cannot start a passkey registration: {e}"))?;
    let mut options = serde_json::to_value(ccr).map_err(anyhow::Error::from)?;
    // Sign-in without an email needs a discoverable credential (a "resident key").
    if let Some(selection) = options.pointer_mut("/publicKey/authenticatorSelection") {
        selection["residentKey"] = Value::from("required");
        selection["requireResidentKey"] = Value::from(true);
    }
    let state = serde_json::to_string(&state).map_err(anyhow::Error::from)?;
    Ok(Ceremony { id: store_ceremony(pool, Some((user_id, user.credential_version)), state).await?, options })
}

/// A newly added passkey, as its owner sees it.
pub struct Added {
    pub id: String,
    pub name: String,
}

/// The authenticator's answer to a registration ceremony, and the name its owner gave it.
pub struct Answer<'a> {
    pub ceremony: &'a str,
    pub name: &'a str,
    pub credential: &'a RegisterPublicKeyCredential,
}

/// Finishes adding a passkey: the authenticator's answer is verified against the ceremony's
/// challenge and this origin; the owner gets a security event and a mail.
pub async fn finish_registration(
    Mailer { pool, mail }: Mailer<'_>,
    passkeys: Option<&Passkeys>,
    owner: &Identity,
    Answer { ceremony, name, credential }: Answer<'_>,
    client: &ClientInfo,
) -> Result<Added, PasskeyError> {
    let (user_id, email) = (&owner.user_id, owner.email.as_str());
    let pk = enabled(passkeys)?;
    let state = take_ceremony(pool, ceremony, Some(user_id)).await?;
    let state: PasskeyRegistration = serde_json::from_str(&state).map_err(anyhow::Error::from)?;
    let passkey = pk.webauthn.finish_passkey_registration(credential, &state).map_err(|e| {
        log::info!(reason:% = e; "a passkey registration was refused");
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
    // Control characters, and those that draw nothing or reverse the text after them (a
    // U+202E would turn the rest of an events-table row or a mail's sentence around).
    let name: String =
        typed.chars().filter(|c| !c.is_control() && !is_invisible_format(*c)).take(NAME_CHARS).collect();
    let name = name.trim();
    if name.is_empty() { "Passkey".to_owned() } else { name.to_owned() }
}

/// The account's passkeys, oldest first.
pub async fn list(pool: &Pool, user_id: &UserId) -> Result<Vec<PasskeyRow>, StoreError> {
    let uid = user_id.clone();
    db::query(pool, move |conn| rows::list_for_user(conn, &uid)).await
}

/// Removes one of the account's passkeys: a security event and a mail to the owner.
pub async fn remove(
    Mailer { pool, mail }: Mailer<'_>,
    owner: &Identity,
    id: &str,
    client: &ClientInfo,
) -> Result<(), PasskeyError> {
    let (user_id, email) = (&owner.user_id, owner.email.as_str());
    let (uid, key) = (user_id.clone(), id.to_owned());
    let name =
        db::query(pool, move |conn| rows::delete(conn, &uid, &key)).await?.ok_or(PasskeyError::NotFound)?;
    events::record_detailed(pool, user_id, EventKind::PasskeyRemoved, format!("“{name}”"), client).await;
    let what = format!("The passkey named “{name}” was removed from your account.");
    notify(pool, mail, compose::factor_changed(mail, email, &what)).await;
    Ok(())
}
