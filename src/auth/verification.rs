//! Verified email addresses: a single-use link (24 hours) mailed after registration or on
//! request; following it and posting its confirm form marks the address verified.

use secrecy::SecretString;

use super::client::ClientInfo;
use super::events::{EventKind, new_event};
use super::lifecycle::{self, AccountError};
use super::links::{self, new_token, token_hash};
use super::password::Hasher;
use super::throttle::{self, ThrottleLimits, Throttled};
use super::tokens::random_id;
use crate::db::outbox::OutboxMail;
use crate::db::{self, DbConn, Pool, StoreError, events, outbox, tokens, users};
use crate::domain::{Email, UserId};
use crate::mail::{Mail, compose};

pub const PURPOSE: &str = "verify_email";
const LINK_TTL_SECS: i64 = 24 * 3600;
/// Verification mails one address may receive before further requests are dropped (silently).
const SENDS_PER_ADDRESS: i64 = 3;
/// Requests for a new link by address one client IP may make before it is answered 429.
const REQUESTS_PER_IP: i64 = 20;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Unknown, used or expired, or the account's address changed since.
    #[error("the link is not valid")]
    InvalidLink,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A verification link for `user_id` at `email`: the token hash to store and the mail to queue.
pub fn link_mail(mail: &Mail, email: &str) -> anyhow::Result<(String, OutboxMail)> {
    let (token, hash) = new_token();
    let composed = compose::verify_email(mail, email, &token)?;
    Ok((hash, composed.into_outbox(random_id(), db::now())))
}

/// Stores a link and queues its mail, in the caller's transaction (older links die).
pub fn store_link(
    conn: &mut DbConn,
    user_id: &UserId,
    email: &str,
    hash: &str,
    row: &OutboxMail,
) -> diesel::QueryResult<()> {
    let now = db::now();
    tokens::use_up_all(conn, user_id, PURPOSE, now)?;
    tokens::insert(conn, hash, PURPOSE, user_id, email, now, LINK_TTL_SECS)?;
    outbox::enqueue(conn, row)
}

/// Mails a new link to an unverified account ("send it again"); throttled per address,
/// silently, so the answer never changes.
pub async fn resend(pool: &Pool, mail: &Mail, user_id: &UserId, email: &str) -> Result<(), StoreError> {
    if throttle::attempt(pool, &throttle::Key::mail_to(email), SENDS_PER_ADDRESS).await?.is_err() {
        log::info!("verification mail for user {user_id} dropped: too many for this address");
        return Ok(());
    }
    let (hash, row) = match link_mail(mail, email) {
        Ok(parts) => parts,
        Err(e) => {
            log::error!("cannot compose a verification mail: {e:#}");
            return Ok(());
        }
    };
    let (uid, address) = (user_id.clone(), email.to_owned());
    db::query(pool, move |conn| {
        db::write_transaction(conn, |conn| store_link(conn, &uid, &address, &hash, &row))
    })
    .await?;
    mail.queued();
    Ok(())
}

/// "Send the link again" from the sign-in page, by address: the same answer whether or not an
/// unverified account exists for it; only a flood from one client IP is answered 429.
pub async fn resend_by_email(
    pool: &Pool,
    mail: &Mail,
    email: &str,
    client: &ClientInfo,
) -> Result<Result<(), Throttled>, StoreError> {
    if let Some(key) = throttle::Key::mail_ip(client)
        && let Err(t) = throttle::attempt(pool, &key, REQUESTS_PER_IP).await?
    {
        return Ok(Err(t));
    }
    let Ok(email) = Email::try_from(email) else { return Ok(Ok(())) };
    let address = email.to_string();
    let user = db::query(pool, move |conn| users::find_user_by_email(conn, &address)).await?;
    match user {
        Some(user) if !user.email_verified && !user.disabled => {
            resend(pool, mail, &user.id, &user.email).await.map(Ok)
        }
        _ => Ok(Ok(())),
    }
}

/// The usable link behind `token`: a verification or an address change.
async fn usable_link(pool: &Pool, token: &str) -> Result<Option<tokens::OneTimeToken>, StoreError> {
    match links::usable(pool, token, PURPOSE).await? {
        Some(link) => Ok(Some(link)),
        None => links::usable(pool, token, CHANGE_PURPOSE).await,
    }
}

/// Whether a confirmation link is usable (a GET shows the confirm button; it uses nothing up).
pub async fn check(pool: &Pool, token: &str) -> Result<(), VerifyError> {
    usable_link(pool, token).await?.map(drop).ok_or(VerifyError::InvalidLink)
}

/// Confirms the address the link was sent to, once: a verification marks it verified
/// (refused if the account's address changed since), an address change moves the account to
/// it (refused if another account took it meanwhile).
pub async fn confirm(pool: &Pool, token: &str, client: &ClientInfo) -> Result<UserId, VerifyError> {
    let link = usable_link(pool, token).await?.ok_or(VerifyError::InvalidLink)?;
    let hash = token_hash(token);
    let change = link.purpose == CHANGE_PURPOSE;
    let kind = if change { EventKind::EmailChanged } else { EventKind::EmailVerified };
    let event = new_event(&link.user_id, kind, None, client);
    let (uid, email, purpose) = (link.user_id.clone(), link.email.clone(), link.purpose.clone());
    let verified = db::query(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let now = db::now();
            if !tokens::use_up(conn, &hash, &purpose, now)? {
                return Ok(false);
            }
            let applied = if change {
                users::change_email(conn, &uid, &email, now)?
            } else {
                users::mark_verified(conn, &uid, &email, now)?
            };
            if !applied {
                return Ok(false);
            }
            events::insert_event(conn, &event)?;
            Ok(true)
        })
    })
    .await?;
    if verified { Ok(link.user_id) } else { Err(VerifyError::InvalidLink) }
}

pub const CHANGE_PURPOSE: &str = "change_email";

/// Asks to move the account to `new_email`: the password is checked again, a link goes to the
/// new address (the change applies when its confirm form is posted) and a notice to the old
/// one. An address that already has an account gets no link, and the answer is the same.
pub async fn request_change(
    pool: &Pool,
    hasher: &Hasher,
    (limits, mail): (&ThrottleLimits, &Mail),
    user_id: &UserId,
    (new_email, password): (&str, SecretString),
    client: &ClientInfo,
) -> Result<(), AccountError> {
    let new_email = Email::try_from(new_email).map_err(|e| AccountError::Policy(e.to_owned()))?;
    let user = lifecycle::reauthenticate(pool, hasher, limits, user_id, password, client).await?;
    if new_email.as_ref() == user.email {
        return Err(AccountError::Policy("That is already your address.".to_owned()));
    }
    if throttle::attempt(pool, &throttle::Key::mail_to(new_email.as_ref()), SENDS_PER_ADDRESS).await?.is_err()
    {
        return Ok(());
    }
    let address = new_email.to_string();
    if db::query(pool, move |conn| users::find_user_by_email(conn, &address)).await?.is_some() {
        return Ok(());
    }
    let (token, hash) = new_token();
    let link = compose::change_email(mail, new_email.as_ref(), &token)?.into_outbox(random_id(), db::now());
    let notice = compose::email_change_requested(mail, &user.email, new_email.as_ref())?
        .into_outbox(random_id(), db::now());
    let (uid, target) = (user.id.clone(), new_email.to_string());
    db::query(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let now = db::now();
            tokens::use_up_all(conn, &uid, CHANGE_PURPOSE, now)?;
            tokens::insert(conn, &hash, CHANGE_PURPOSE, &uid, &target, now, LINK_TTL_SECS)?;
            outbox::enqueue(conn, &link)?;
            outbox::enqueue(conn, &notice)
        })
    })
    .await?;
    mail.queued();
    Ok(())
}
