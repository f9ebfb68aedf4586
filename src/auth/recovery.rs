//! Account recovery: "forgot password" sends a single-use link (only its hash is stored); the
//! link's form sets a new password and ends every session. The same answer whether or not the
//! email has an account, and sends are throttled per address (silently) and per client IP.

use secrecy::SecretString;

use super::client::ClientInfo;
use super::events::{EventKind, new_event};
use super::links;
use super::links::{new_token, token_hash};
use super::password::{Busy, Hasher};
use super::throttle::{self, Throttled};
use super::tokens::random_id;
use crate::db::{self, Pool, StoreError, events, outbox, sessions, tokens, users};
use crate::domain::{Email, NewPassword, PasswordPolicy, UserId};
use crate::mail::{Mail, compose};

const PURPOSE: &str = "reset_password";
/// Reset mails one address may receive before further requests are dropped (silently).
const SENDS_PER_ADDRESS: i64 = 3;
/// Recovery requests one client IP may make before it is answered 429.
const REQUESTS_PER_IP: i64 = 20;

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    /// Unknown, used or expired: the page offers a new link.
    #[error("the link is not valid")]
    InvalidLink,
    /// The new password breaks the policy; the link stays usable.
    #[error("{0}")]
    Policy(String),
    #[error(transparent)]
    Busy(#[from] Busy),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// "Forgot password": mails a reset link when `email` has an enabled account. Answers the same
/// either way (only the per-IP limit shows, as 429); a flood for one address yields a handful
/// of mails at most.
pub async fn request_reset(
    pool: &Pool,
    mail: &Mail,
    ttl_secs: i64,
    email: &str,
    client: &ClientInfo,
) -> Result<Result<(), Throttled>, StoreError> {
    if let Some(key) = throttle::Key::mail_ip(client)
        && let Err(t) = throttle::attempt(pool, &key, REQUESTS_PER_IP).await?
    {
        return Ok(Err(t));
    }
    let Ok(email) = Email::try_from(email) else { return Ok(Ok(())) };
    // Counted for known and unknown addresses alike: both answers cost the same work.
    let within_limit =
        throttle::attempt(pool, &throttle::Key::mail_to(email.as_ref()), SENDS_PER_ADDRESS).await?.is_ok();
    let address = email.to_string();
    let user = db::query(pool, move |conn| users::find_user_by_email(conn, &address)).await?;
    let user = user.filter(|u| !u.disabled);
    let (token, hash) = new_token();
    let to = user.as_ref().map_or(email.as_ref(), |u| u.email.as_str());
    let composed = match compose::reset_password(mail, to, &token, ttl_secs / 60) {
        Ok(composed) => composed,
        Err(e) => {
            log::error!("cannot compose a reset mail: {e:#}");
            return Ok(Ok(()));
        }
    };
    let row = composed.into_outbox(random_id(), db::now());
    let send = within_limit && user.is_some();
    // Without an account (or over the limit) the same transaction runs and is rolled back:
    // both answers cost the same work, so their timing tells nothing (BENCHMARKS.md).
    let (uid, address) = match &user {
        Some(user) => (user.id.clone(), user.email.clone()),
        None => (UserId::from(random_id()), email.to_string()),
    };
    let stored = db::query(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let now = db::now();
            tokens::use_up_all(conn, &uid, PURPOSE, now)?;
            if send {
                tokens::insert(conn, &hash, PURPOSE, &uid, &address, now, ttl_secs)?;
            }
            outbox::enqueue(conn, &row)?;
            if send { Ok(()) } else { Err(diesel::result::Error::RollbackTransaction) }
        })
        .or_else(|e| match e {
            diesel::result::Error::RollbackTransaction if !send => Ok(()),
            e => Err(e),
        })
    })
    .await;
    stored?;
    match (send, &user) {
        (true, _) => mail.queued(),
        (false, Some(user)) => {
            log::info!("reset mail for user {} dropped: too many for this address", user.id)
        }
        (false, None) => {}
    }
    Ok(Ok(()))
}

/// Whether a reset link is usable (a GET shows the form; it never uses the token up).
pub async fn check_link(pool: &Pool, token: &str) -> Result<(), ResetError> {
    links::usable(pool, token, PURPOSE).await?.map(drop).ok_or(ResetError::InvalidLink)
}

/// Sets a new password through a reset link: the policy first (a refused password leaves the
/// link usable), then in one transaction the link is used up, the password replaced, every
/// session ended, the event recorded and a notice queued.
pub async fn reset_password(
    pool: &Pool,
    hasher: &Hasher,
    (policy, mail): (PasswordPolicy, &Mail),
    token: &str,
    password: SecretString,
    client: &ClientInfo,
) -> Result<(), ResetError> {
    let hash = token_hash(token);
    let link = links::usable(pool, token, PURPOSE).await?.ok_or(ResetError::InvalidLink)?;
    let context = link.email.clone();
    let checked = hasher.run(move || NewPassword::parse(password, policy, &[&context])).await?;
    let new = checked.map_err(ResetError::Policy)?;
    let password_hash = hasher.hash(new.secret().clone()).await?;
    let notice = compose::password_changed(mail, &link.email, "with a password reset link")?;
    let row = notice.into_outbox(random_id(), db::now());
    let event = new_event(&link.user_id, EventKind::PasswordReset, None, client);
    let reset = db::query(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let now = db::now();
            if !tokens::use_up(conn, &hash, PURPOSE, now)? {
                return Ok(false);
            }
            users::update_password_hash(conn, &link.user_id, &password_hash, now)?;
            sessions::revoke_user_sessions(conn, &link.user_id, now)?;
            events::insert_event(conn, &event)?;
            outbox::enqueue(conn, &row)?;
            Ok(true)
        })
    })
    .await?;
    if !reset {
        return Err(ResetError::InvalidLink);
    }
    mail.queued();
    Ok(())
}
