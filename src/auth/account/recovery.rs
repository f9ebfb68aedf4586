//! Account recovery: "forgot password" sends a single-use link (only its hash is stored); the
//! link's form sets a new password and ends every session. The same answer whether or not the
//! email has an account, and sends are throttled per address (silently) and per client IP.

use secrecy::SecretString;

use crate::auth::account::lifecycle::PasswordSetting;
use crate::auth::account::links::{self, NewLink, Owner, Purpose};
use crate::auth::client::ClientInfo;
use crate::auth::events::{EventKind, new_event};
use crate::auth::password::Busy;
use crate::auth::throttle::{self, Throttled};
use crate::auth::tokens::random_id;
use crate::db::{self, Pool, StoreError, events, outbox, sessions, users};
use crate::domain::{Email, NewPassword};
use crate::errors::ApiError;
use crate::mail::{Mail, compose};

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

/// The one place a reset's failure becomes an HTTP answer (pages translate from it).
impl From<ResetError> for ApiError {
    fn from(e: ResetError) -> Self {
        match e {
            ResetError::InvalidLink => Self::bad_request(
                "invalid_link",
                "This reset link has been used, has expired or is not valid. Ask for a new one.",
            ),
            ResetError::Policy(message) => {
                Self::unprocessable("weak_password", format!("password: {message}"))
            }
            ResetError::Busy(busy) => busy.into(),
            ResetError::Store(e) => e.into(),
            ResetError::Unexpected(e) => e.into(),
        }
    }
}

impl From<diesel::result::Error> for ResetError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(e.into())
    }
}

/// "Forgot password": mails a reset link when `email` has an enabled account. Answers the same
/// either way (only the per-IP limit shows, as 429); a flood for one address yields a handful
/// of mails at most (`links::SENDS_PER_ADDRESS`).
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
    let address = email.to_string();
    let user = db::query(pool, move |conn| users::find_user_by_email(conn, &address)).await?;
    let user = user.filter(|u| !u.disabled);
    let link = NewLink::new();
    let to = user.as_ref().map_or(email.as_ref(), |u| u.email.as_str()).to_owned();
    let row = match compose::reset_password(mail, &to, &link.token, ttl_secs / 60)
        .and_then(|composed| mail.outbox_row(composed, random_id(), db::now()))
    {
        Ok(row) => row,
        Err(e) => {
            log::error!(error:% = format!("{e:#}"); "cannot compose a reset mail");
            return Ok(Ok(()));
        }
    };
    let owner = user.as_ref().map(|u| (u.id.clone(), u.credential_version));
    // Without an account the same statements run and are rolled back: both answers cost the
    // same work, so their timing tells nothing (BENCHMARKS.md), and nothing is counted.
    let queued = db::query(pool, move |conn| {
        let issue = links::Issue {
            purpose: Purpose::ResetPassword,
            owner: owner.as_ref().map(|(user_id, credential_version)| Owner {
                user_id,
                credential_version: *credential_version,
            }),
            to: &to,
            ttl_secs,
            link: &link,
            mail: &row,
        };
        let known = issue.owner.is_some();
        db::write_transaction(conn, |conn| {
            let queued = links::issue(conn, &issue)?;
            if known { Ok(queued) } else { Err(diesel::result::Error::RollbackTransaction) }
        })
        .or_else(|e| match e {
            diesel::result::Error::RollbackTransaction if !known => Ok(false),
            e => Err(e),
        })
    })
    .await?;
    match (queued, &user) {
        (true, _) => mail.queued(),
        (false, Some(user)) => {
            log::info!(user_id = user.id.as_str(); "reset mail dropped: too many for this address")
        }
        (false, None) => {}
    }
    Ok(Ok(()))
}

/// Whether a reset link is usable (a GET shows the form; it never uses the token up).
pub async fn check_link(pool: &Pool, token: &str) -> Result<(), ResetError> {
    links::usable(pool, token, Purpose::ResetPassword).await?.map(drop).ok_or(ResetError::InvalidLink)
}

/// Sets a new password through a reset link: the policy first (a refused password leaves the
/// link usable), then in one transaction the link is used up, the password replaced (which
/// ends every other link, code step and ceremony of the account), every session ended, the
/// event recorded and a notice queued to the account's current address.
pub async fn reset_password(
    PasswordSetting { pool, hasher, policy, mail }: PasswordSetting<'_>,
    token: &str,
    password: SecretString,
    client: &ClientInfo,
) -> Result<(), ResetError> {
    let link = links::usable(pool, token, Purpose::ResetPassword).await?.ok_or(ResetError::InvalidLink)?;
    let context = link.email.clone();
    let checked = hasher.run(move || NewPassword::parse(password, policy, &[&context])).await?;
    let new = checked.map_err(ResetError::Policy)?;
    let password_hash = hasher.hash(new.secret().clone()).await?;
    let event = new_event(&link.user_id, EventKind::PasswordReset, None, client);
    let mail_for_notice = mail.clone();
    let reset = db::run(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let now = db::now();
            if !links::take(conn, &link)? {
                return Ok(false);
            }
            let user = users::find_user_by_id(conn, &link.user_id)?.ok_or(ResetError::InvalidLink)?;
            let notice =
                compose::password_changed(&mail_for_notice, &user.email, "with a password reset link")
                    .and_then(|c| mail_for_notice.outbox_row(c, random_id(), now))?;
            users::set_password_hash(conn, &user.id, &password_hash, now)?;
            sessions::revoke_user_sessions(conn, &user.id, now)?;
            events::insert_event(conn, &event)?;
            outbox::enqueue(conn, &notice)?;
            Ok::<_, ResetError>(true)
        })
    })
    .await?;
    if !reset {
        return Err(ResetError::InvalidLink);
    }
    mail.queued();
    Ok(())
}
