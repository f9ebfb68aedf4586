//! Single-use links mailed to an address (password reset, email verification, email change):
//! the one mechanism that issues them and takes them. Issuing: a random 256-bit token goes into
//! the mailed link and only its SHA-256 is stored; the send counts against the address's budget
//! for this purpose (only when the mail is queued); older links of the purpose end; the mail is
//! queued in the same transaction. Taking: once, and only while the account is enabled and
//! still has the credentials the link was issued under (SPEC §9; `db::tokens`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::auth::throttle::{self, Key};
use crate::auth::tokens::stored_hash;
use crate::db::outbox::{self, OutboxMail};
use crate::db::tokens::{self, NewToken, OneTimeToken};
use crate::db::{self, DbConn, Pool, StoreError};
use crate::domain::UserId;

/// Mails of one purpose one address may receive before further ones are dropped, silently
/// (the counter forgets after an hour without one). Counted only when a mail is queued, and
/// apart per purpose: requests that send nothing use up nobody's budget, and one kind of mail
/// never silences another (SPEC §7).
pub const SENDS_PER_ADDRESS: i64 = 3;

/// What a mailed link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    ResetPassword,
    VerifyEmail,
    ChangeEmail,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResetPassword => "reset_password",
            Self::VerifyEmail => "verify_email",
            Self::ChangeEmail => "change_email",
        }
    }
}

/// A link about to be mailed: the raw token, for the mail only, and what is stored instead.
pub struct NewLink {
    pub token: String,
    hash: String,
}

impl NewLink {
    pub fn new() -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        Self { hash: stored_hash(&token), token }
    }
}

impl Default for NewLink {
    fn default() -> Self {
        Self::new()
    }
}

/// The account a link is for, and the credential version it is issued under (read with the
/// account, so a change that commits meanwhile ends the link at once).
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    pub user_id: &'a UserId,
    pub credential_version: i64,
}

/// A link to issue, in the caller's write transaction.
pub struct Issue<'a> {
    pub purpose: Purpose,
    /// `None` rehearses: the same budget count and queueing, no link stored. The caller rolls
    /// the transaction back, so an unknown address costs the same work and sends nothing.
    pub owner: Option<Owner<'a>>,
    /// The address the mail goes to (the budget's key).
    pub to: &'a str,
    pub ttl_secs: i64,
    pub link: &'a NewLink,
    pub mail: &'a OutboxMail,
}

/// Within the address's budget for the purpose: the owner's older links of the purpose end,
/// this one is stored and its mail queued. `Ok(false)`: over budget, nothing stored or queued.
pub fn issue(conn: &mut DbConn, issue: &Issue<'_>) -> diesel::QueryResult<bool> {
    let purpose = issue.purpose.as_str();
    if !throttle::attempt_in(conn, &Key::mail_to(purpose, issue.to), SENDS_PER_ADDRESS)? {
        return Ok(false);
    }
    let now = db::now();
    let Some(owner) = issue.owner else {
        // As far as the statements go without an account (this update matches nothing).
        tokens::use_up_all(conn, &UserId::from(String::new()), purpose, now)?;
        outbox::enqueue(conn, issue.mail)?;
        return Ok(true);
    };
    tokens::use_up_all(conn, owner.user_id, purpose, now)?;
    let link = NewToken {
        hash: &issue.link.hash,
        purpose,
        user_id: owner.user_id,
        email: issue.to,
        credential_version: owner.credential_version,
        now,
        ttl: issue.ttl_secs,
    };
    tokens::insert(conn, &link)?;
    outbox::enqueue(conn, issue.mail)?;
    Ok(true)
}

/// The usable link behind `token`: unused, unexpired, its account enabled and under the
/// credentials it was issued under. Reading never uses it up: mail scanners prefetch links.
pub async fn usable(pool: &Pool, token: &str, purpose: Purpose) -> Result<Option<OneTimeToken>, StoreError> {
    let hash = stored_hash(token);
    let found = db::query(pool, move |conn| tokens::find(conn, &hash, purpose.as_str())).await?;
    Ok(found.filter(|t| t.is_usable(db::now())))
}

/// Uses a link up in the caller's transaction: once, and only while it is still usable.
pub fn take(conn: &mut DbConn, link: &OneTimeToken) -> diesel::QueryResult<bool> {
    tokens::use_up(conn, link, db::now())
}
