//! Turning an authenticator app on (SPEC §9): a pending secret, made only after the account's
//! password and shown only to the session that gave it, confirmed by a first code; then ten
//! recovery codes, shown once.

use secrecy::{ExposeSecret, SecretString};

use crate::auth::account::reauth::{self, PasswordCheck};
use crate::auth::client::ClientInfo;
use crate::auth::events::{self, EventKind};
use crate::auth::factors::totp::{self, Code};
use crate::auth::factors::two_factor::{Enrolment, FactorError, TwoFactor, code_key};
use crate::auth::identity::Identity;
use crate::auth::throttle::{self, ThrottleLimits};
use crate::db::factors::PasswordChecked;
use crate::db::{self, Pool, factors, users};
use crate::domain::UserId;

/// Starts the enrolment of an authenticator app — only after the account's password (SPEC §9:
/// adding a credential takes it). The pending secret is marked for the session that gave the
/// password and the credential version that check read: only that session sees and confirms
/// it, and a credential change ends it. Asked again from that session before the
/// confirmation, it shows the same pending secret; from elsewhere, a new one replaces it.
pub async fn start_totp(
    checks: PasswordCheck<'_>,
    tf: &TwoFactor,
    identity: &Identity,
    password: Option<SecretString>,
    client: &ClientInfo,
) -> Result<Enrolment, FactorError> {
    let user = reauth::reauthenticate(checks, &identity.user_id, password, client).await?;
    let sealed = tf.sealer.seal(&user.id, totp::new_secret().expose_secret())?;
    let (uid, session, version) = (user.id.clone(), identity.session_id.clone(), user.credential_version);
    let stored = db::run(checks.pool, move |conn| {
        db::write_transaction(conn, |conn| match factors::find_totp(conn, &uid)? {
            Some(row) if row.confirmed_at.is_some() => Err(FactorError::AlreadyOn),
            Some(row) if row.pending_for(&session, version) => Ok(row.secret_sealed),
            _ => {
                let checked = PasswordChecked { session: &session, credential_version: version };
                factors::replace_pending_totp(conn, &uid, &sealed, checked, db::now())?;
                Ok(sealed)
            }
        })
    })
    .await?;
    enrolment(tf, &user.id, &user.email, &stored)
}

/// The pending enrolment this session started after its password check, if any (the page shows
/// it again until it is confirmed; nobody else sees it).
pub async fn pending_enrolment(
    pool: &Pool,
    tf: &TwoFactor,
    identity: &Identity,
) -> Result<Option<Enrolment>, FactorError> {
    let uid = identity.user_id.clone();
    let found = db::query(pool, move |conn| {
        let version = users::live_credential_version(conn, &uid)?;
        Ok(factors::find_totp(conn, &uid)?.zip(version))
    })
    .await?;
    match found {
        Some((row, version)) if row.pending_for(&identity.session_id, version) => {
            enrolment(tf, &identity.user_id, &identity.email, &row.secret_sealed).map(Some)
        }
        _ => Ok(None),
    }
}

fn enrolment(tf: &TwoFactor, user_id: &UserId, email: &str, sealed: &str) -> Result<Enrolment, FactorError> {
    let secret = tf.sealer.open(user_id, sealed)?;
    let generator = totp::generator(&secret, &tf.issuer, email)?;
    let otpauth_url = generator.to_url().map_err(|e| anyhow::anyhow!("cannot make the otpauth URL: {e}"))?;
    Ok(Enrolment { secret: totp::secret_text(&secret), qr_svg: totp::qr_svg(&otpauth_url)?, otpauth_url })
}

/// Confirms the pending secret with a first code: TOTP is on, and ten recovery codes (returned
/// here, shown once) replace any earlier ones. Only the secret this session made after its
/// password check, under the account's current credentials; anything else is `NotPending`.
pub async fn confirm_totp(
    pool: &Pool,
    tf: &TwoFactor,
    limits: &ThrottleLimits,
    identity: &Identity,
    code: &SecretString,
    client: &ClientInfo,
) -> Result<Vec<String>, FactorError> {
    let user_id = &identity.user_id;
    let key = code_key(user_id);
    throttle::attempt(pool, &key, limits.per_account).await?.map_err(FactorError::Throttled)?;
    let uid = user_id.clone();
    let found = db::query(pool, move |conn| {
        let version = users::live_credential_version(conn, &uid)?;
        Ok(factors::find_totp(conn, &uid)?.zip(version))
    })
    .await?;
    let row = match found {
        Some((row, _)) if row.confirmed_at.is_some() => return Err(FactorError::AlreadyOn),
        Some((row, version)) if row.pending_for(&identity.session_id, version) => row,
        _ => return Err(FactorError::NotPending),
    };
    let generator = totp::generator(&tf.sealer.open(user_id, &row.secret_sealed)?, &tf.issuer, "")?;
    let Code::Totp(digits) = Code::parse(code) else {
        return Err(FactorError::WrongCode);
    };
    let step = totp::matching_step(&generator, &digits, db::now()).ok_or(FactorError::WrongCode)?;
    let (codes, hashes) = totp::new_recovery_codes();
    let (uid, session) = (user_id.clone(), identity.session_id.clone());
    let confirmed = db::query(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let now = db::now();
            if !factors::confirm_totp(conn, &uid, &session, step, now)? {
                return Ok(false);
            }
            factors::replace_recovery_codes(conn, &uid, &hashes, now)?;
            Ok(true)
        })
    })
    .await?;
    if !confirmed {
        return Err(FactorError::NotPending);
    }
    throttle::succeeded(pool, Some(key), None).await?;
    events::record(pool, user_id, EventKind::TotpEnabled, None, client).await;
    Ok(codes)
}
