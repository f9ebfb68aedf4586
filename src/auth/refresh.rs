//! Refresh-token rotation with reuse detection (OAuth 2.0 Security BCP §4.14.2).
//!
//! Each refresh moves the session to a successor token whose `jti` is derived from the
//! presented one, so the immediately previous token can be answered, within the grace
//! window, with the very same successor (parallel tabs, retries) — never a second live
//! one. Any other replay of a rotated token is theft: the session dies.

use super::client::ClientInfo;
use super::events::{self, EventKind};
use super::sessions::Sessions;
use super::tokens::{Issued, TokenKind, hash_jti};
use crate::db::models::{Session, User};
use crate::db::sessions::{self, Rotation};
use crate::db::{self, Pool, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Malformed, expired, revoked, or belonging to a disabled user.
    #[error("the refresh token is not valid")]
    Invalid,
    /// A rotated token came back after the grace window: the session was revoked.
    #[error("the refresh token was already used")]
    Reused,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// A session's next token pair.
pub struct Refreshed {
    pub user: User,
    pub session: Session,
    pub access: Issued,
    pub refresh: Issued,
    /// `Some(seconds)` when the session's cookies persist ("remember me").
    pub cookie_max_age: Option<i64>,
}

pub async fn refresh(s: &Sessions, token: &str, client: &ClientInfo) -> Result<Refreshed, RefreshError> {
    let now = db::now();
    let claims = s.keys.decode(token, TokenKind::Refresh, now).map_err(|_| RefreshError::Invalid)?;
    let presented = hash_jti(&claims.jti);
    let successor = s.keys.successor_jti(&claims.jti);
    let (mut session, user) = load(&s.pool, &claims.sid).await?;
    if session.user_id != claims.sub || user.disabled || !session.is_live(now) {
        return Err(RefreshError::Invalid);
    }
    if session.refresh_jti_hash == presented {
        let idle_expires_at =
            (now + s.lifetimes.idle_secs(session.remember)).min(session.absolute_expires_at);
        if rotate(&s.pool, &session.id, &presented, &hash_jti(&successor), now, idle_expires_at).await? {
            session.refresh_jti_hash = hash_jti(&successor);
            session.previous_jti_hash = Some(presented);
            session.rotated_at = Some(now);
            session.idle_expires_at = idle_expires_at;
            return Ok(sign_pair(s, user, session, successor, now)?);
        }
        // Another request rotated this token first (or ended the session): look again.
        (session, _) = load(&s.pool, &claims.sid).await?;
        if !session.is_live(now) {
            return Err(RefreshError::Invalid);
        }
    }
    let within_grace = session.rotated_at.is_some_and(|t| now <= t + s.lifetimes.grace_secs());
    if session.previous_jti_hash.as_deref() == Some(presented.as_str())
        && session.refresh_jti_hash == hash_jti(&successor)
        && within_grace
        && session.is_live(now)
    {
        let issued_at = session.rotated_at.unwrap_or(now);
        return Ok(sign_pair(s, user, session, successor, issued_at)?);
    }
    revoke_for_reuse(&s.pool, &session, client).await?;
    Err(RefreshError::Reused)
}

async fn load(pool: &Pool, session_id: &str) -> Result<(Session, User), RefreshError> {
    let id = session_id.to_owned();
    db::query(pool, move |conn| sessions::find_session(conn, &id)).await?.ok_or(RefreshError::Invalid)
}

async fn rotate(
    pool: &Pool,
    sid: &str,
    presented: &str,
    successor: &str,
    now: i64,
    idle: i64,
) -> Result<bool, StoreError> {
    let (sid, presented, successor) = (sid.to_owned(), presented.to_owned(), successor.to_owned());
    db::query(pool, move |conn| {
        let rotation = Rotation {
            session_id: &sid,
            presented_hash: &presented,
            successor_hash: &successor,
            now,
            idle_expires_at: idle,
        };
        sessions::rotate_refresh(conn, &rotation)
    })
    .await
}

/// Signs the refresh token with `jti` (deterministically, from the session row) and a
/// fresh access token.
pub fn sign_pair(
    s: &Sessions,
    user: User,
    session: Session,
    jti: String,
    issued_at: i64,
) -> anyhow::Result<Refreshed> {
    let refresh_exp = session.idle_expires_at.min(session.absolute_expires_at);
    let refresh = s.keys.sign(TokenKind::Refresh, &user.id, &session.id, jti, issued_at, refresh_exp)?;
    let now = db::now();
    let access_exp = (now + s.lifetimes.access_secs()).min(refresh_exp);
    let access = s.keys.issue(TokenKind::Access, &user.id, &session.id, now, access_exp - now)?;
    let cookie_max_age = session.remember.then_some(refresh_exp - now);
    Ok(Refreshed { user, session, access, refresh, cookie_max_age })
}

async fn revoke_for_reuse(pool: &Pool, session: &Session, client: &ClientInfo) -> Result<(), StoreError> {
    let id = session.id.clone();
    if db::query(pool, move |conn| sessions::revoke_session(conn, &id, db::now())).await? {
        log::warn!("refresh token reuse detected: session {} revoked", session.id);
        events::record(pool, &session.user_id, EventKind::RefreshReuseDetected, Some(&session.id), client)
            .await;
    }
    Ok(())
}
