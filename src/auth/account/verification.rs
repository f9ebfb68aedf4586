//! Verified email addresses: a single-use link (24 hours) mailed after registration or on
//! request; following it and posting its confirm form marks the address verified.

use secrecy::SecretString;

use crate::auth::account::lifecycle::AccountError;
use crate::auth::account::links::{self, Issue, NewLink, Owner, Purpose};
use crate::auth::account::reauth::{self, PasswordCheck};
use crate::auth::client::ClientInfo;
use crate::auth::events::{EventKind, new_event};
use crate::auth::throttle::{self, Throttled};
use crate::auth::tokens::random_id;
use crate::db::models::User;
use crate::db::outbox::OutboxMail;
use crate::db::{self, DbConn, Pool, StoreError, events, tokens, users};
use crate::domain::{Email, UserId};
use crate::errors::ApiError;
use crate::mail::{Mail, compose};

const LINK_TTL_SECS: i64 = 24 * 3600;
/// Requests for a new link by address one client IP may make before it is answered 429.
const REQUESTS_PER_IP: i64 = 20;
/// The budget of "someone asked to move your account" notices to one address.
const CHANGE_NOTICE: &str = "email_change_notice";

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Unknown, used or expired, or the account's address or password changed since.
    #[error("the link is not valid")]
    InvalidLink,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The one place a confirmation's failure becomes an HTTP answer (pages translate from it).
impl From<VerifyError> for ApiError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::InvalidLink => Self::bad_request(
                "invalid_link",
                "This confirmation link has been used, has expired or is not valid. Ask for a new one.",
            ),
            VerifyError::Store(e) => e.into(),
        }
    }
}

/// A verification link and its mail, ready to be stored by [`store_link`].
pub struct LinkMail {
    link: NewLink,
    row: OutboxMail,
}

/// A verification link for `email`, and its mail.
pub fn link_mail(mail: &Mail, email: &str) -> anyhow::Result<LinkMail> {
    let link = NewLink::new();
    let composed = compose::verify_email(mail, email, &link.token)?;
    let row = mail.outbox_row(composed, random_id(), db::now())?;
    Ok(LinkMail { link, row })
}

/// Stores a verification link and queues its mail, in the caller's transaction (older links
/// die), within the address's budget; `false` when over it (nothing queued).
pub fn store_link(
    conn: &mut DbConn,
    owner: Owner<'_>,
    email: &str,
    LinkMail { link, row }: &LinkMail,
) -> diesel::QueryResult<bool> {
    let issue = Issue {
        purpose: Purpose::VerifyEmail,
        owner: Some(owner),
        to: email,
        ttl_secs: LINK_TTL_SECS,
        link,
        mail: row,
    };
    links::issue(conn, &issue)
}

/// Mails a new link to an account whose address is not confirmed yet ("send it again");
/// over the address's budget nothing is sent, and the answer is the same.
pub async fn resend(pool: &Pool, mail: &Mail, user_id: &UserId) -> Result<(), StoreError> {
    let uid = user_id.clone();
    let user = db::query(pool, move |conn| users::find_user_by_id(conn, &uid)).await?;
    match user {
        Some(user) if !user.email_verified && !user.disabled => send_link(pool, mail, &user).await,
        _ => Ok(()),
    }
}

async fn send_link(pool: &Pool, mail: &Mail, user: &User) -> Result<(), StoreError> {
    let parts = match link_mail(mail, &user.email) {
        Ok(parts) => parts,
        Err(e) => {
            log::error!(error:% = format!("{e:#}"); "cannot compose a verification mail");
            return Ok(());
        }
    };
    let (uid, version, address) = (user.id.clone(), user.credential_version, user.email.clone());
    let queued = db::query(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let owner = Owner { user_id: &uid, credential_version: version };
            store_link(conn, owner, &address, &parts)
        })
    })
    .await?;
    if queued {
        mail.queued();
    } else {
        log::info!(user_id = user.id.as_str(); "verification mail dropped: too many for this address");
    }
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
        Some(user) if !user.email_verified && !user.disabled => send_link(pool, mail, &user).await.map(Ok),
        _ => Ok(Ok(())),
    }
}

/// The usable link behind `token`: a verification or an address change.
async fn usable_link(pool: &Pool, token: &str) -> Result<Option<tokens::OneTimeToken>, StoreError> {
    match links::usable(pool, token, Purpose::VerifyEmail).await? {
        Some(link) => Ok(Some(link)),
        None => links::usable(pool, token, Purpose::ChangeEmail).await,
    }
}

/// Whether a confirmation link is usable (a GET shows the confirm button; it uses nothing up).
pub async fn check(pool: &Pool, token: &str) -> Result<(), VerifyError> {
    usable_link(pool, token).await?.map(drop).ok_or(VerifyError::InvalidLink)
}

/// Confirms the address the link was sent to, once: a verification marks it verified
/// (refused if the account's address changed since), an address change moves the account to
/// it (refused if another account took it meanwhile) — a credential change: links sent to the
/// old address and unfinished code steps end with it.
pub async fn confirm(pool: &Pool, token: &str, client: &ClientInfo) -> Result<UserId, VerifyError> {
    let link = usable_link(pool, token).await?.ok_or(VerifyError::InvalidLink)?;
    let change = link.purpose == Purpose::ChangeEmail.as_str();
    let kind = if change { EventKind::EmailChanged } else { EventKind::EmailVerified };
    let event = new_event(&link.user_id, kind, None, client);
    let user_id = link.user_id.clone();
    let verified = db::query(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let now = db::now();
            if !links::take(conn, &link)? {
                return Ok(false);
            }
            let applied = if change {
                users::change_email(conn, &link.user_id, &link.email, now)?
            } else {
                users::mark_verified(conn, &link.user_id, &link.email, now)?
            };
            if !applied {
                return Ok(false);
            }
            events::insert_event(conn, &event)?;
            Ok(true)
        })
    })
    .await?;
    if verified { Ok(user_id) } else { Err(VerifyError::InvalidLink) }
}

/// What a person asks for when moving their account to another address.
pub struct EmailChange<'a> {
    pub new_email: &'a str,
    /// The current password: a grave step.
    pub password: SecretString,
}

/// Asks to move the account to `new_email`: the password is checked again, a notice goes to
/// the current address and a link to the new one (the change applies when its confirm form is
/// posted). An address that already has an account gets no link, and the requester sees the
/// same answer and the same notice, so nothing tells whether it is taken (SPEC §3 `verify`).
pub async fn request_change(
    checks: PasswordCheck<'_>,
    mail: &Mail,
    user_id: &UserId,
    EmailChange { new_email, password }: EmailChange<'_>,
    client: &ClientInfo,
) -> Result<(), AccountError> {
    let pool = checks.pool;
    let new_email = Email::try_from(new_email).map_err(|e| AccountError::Policy(e.to_owned()))?;
    let user = reauth::reauthenticate(checks, user_id, Some(password), client).await?;
    if new_email.as_ref() == user.email {
        return Err(AccountError::Policy("That is already your address.".to_owned()));
    }
    let link = NewLink::new();
    let now = db::now();
    let to_new =
        mail.outbox_row(compose::change_email(mail, new_email.as_ref(), &link.token)?, random_id(), now)?;
    let notice = compose::email_change_requested(mail, &user.email, new_email.as_ref())?;
    let notice = mail.outbox_row(notice, random_id(), now)?;
    let target = new_email.to_string();
    let queued = db::query(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let mut queued = false;
            if throttle::attempt_in(
                conn,
                &throttle::Key::mail_to(CHANGE_NOTICE, &user.email),
                links::SENDS_PER_ADDRESS,
            )? {
                db::outbox::enqueue(conn, &notice)?;
                queued = true;
            }
            if users::find_user_by_email(conn, &target)?.is_none() {
                let owner = Owner { user_id: &user.id, credential_version: user.credential_version };
                let issue = Issue {
                    purpose: Purpose::ChangeEmail,
                    owner: Some(owner),
                    to: &target,
                    ttl_secs: LINK_TTL_SECS,
                    link: &link,
                    mail: &to_new,
                };
                queued |= links::issue(conn, &issue)?;
            }
            Ok(queued)
        })
    })
    .await?;
    if queued {
        mail.queued();
    }
    Ok(())
}
