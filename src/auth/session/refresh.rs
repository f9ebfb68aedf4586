//! Refresh-token rotation with reuse detection (OAuth 2.0 Security BCP §4.14.2).
//!
//! Each refresh moves the session to a successor token whose `jti` is derived from the
//! presented one, so the immediately previous token can be answered, within the grace
//! window, with the very same successor (parallel tabs, retries) — never a second live
//! one. Any other replay of a rotated token is theft: the session dies.

use crate::auth::client::ClientInfo;
use crate::auth::events::{self, EventKind};
use crate::auth::session::pair::{Sessions, SignedIn, sign_pair};
use crate::auth::tokens::{TokenKind, stored_hash};
use crate::db::models::{Session, User};
use crate::db::sessions::{self, Rotation};
use crate::db::{self, Pool, StoreError};
use crate::domain::SessionId;
use crate::errors::ApiError;

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

impl RefreshError {
    /// The presented refresh token is dead: the answer clears both auth cookies.
    pub fn ends_the_cookies(&self) -> bool {
        matches!(self, Self::Invalid | Self::Reused)
    }
}

/// The one place a refresh failure becomes an HTTP answer (the token endpoint speaks RFC 6749
/// instead, for the two credential failures).
impl From<RefreshError> for ApiError {
    fn from(e: RefreshError) -> Self {
        match e {
            RefreshError::Invalid | RefreshError::Reused => Self::Unauthorized { invalid_token: true },
            RefreshError::Store(e) => e.into(),
            RefreshError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

pub async fn refresh(s: &Sessions, token: &str, client: &ClientInfo) -> Result<SignedIn, RefreshError> {
    let now = db::now();
    let claims = s.keys.decode(token, TokenKind::Refresh, now).map_err(|_| RefreshError::Invalid)?;
    let presented = stored_hash(&claims.jti);
    let successor = s.keys.successor_jti(&claims.jti);
    let (mut session, user) = load(&s.pool, &claims.sid).await?;
    if session.user_id.as_str() != claims.sub || user.disabled || !session.is_live(now) {
        return Err(RefreshError::Invalid);
    }
    if session.refresh_jti_hash == presented {
        let idle_expires_at =
            (now + s.lifetimes.idle_secs(session.remember)).min(session.absolute_expires_at);
        if rotate(&s.pool, &session.id, &presented, &stored_hash(&successor), now, idle_expires_at).await? {
            session.refresh_jti_hash = stored_hash(&successor);
            session.previous_jti_hash = Some(presented);
            session.rotated_at = Some(now);
            session.idle_expires_at = idle_expires_at;
            s.metrics.refreshed();
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
        && session.refresh_jti_hash == stored_hash(&successor)
        && within_grace
        && session.is_live(now)
    {
        let issued_at = session.rotated_at.unwrap_or(now);
        return Ok(sign_pair(s, user, session, successor, issued_at)?);
    }
    s.metrics.refresh_reused();
    revoke_for_reuse(&s.pool, &session, client).await?;
    Err(RefreshError::Reused)
}

async fn load(pool: &Pool, session_id: &str) -> Result<(Session, User), RefreshError> {
    let id = SessionId::from(session_id);
    db::query(pool, move |conn| sessions::find_session(conn, &id)).await?.ok_or(RefreshError::Invalid)
}

async fn rotate(
    pool: &Pool,
    sid: &SessionId,
    presented: &str,
    successor: &str,
    now: i64,
    idle: i64,
) -> Result<bool, StoreError> {
    let (sid, presented, successor) = (sid.clone(), presented.to_owned(), successor.to_owned());
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

async fn revoke_for_reuse(pool: &Pool, session: &Session, client: &ClientInfo) -> Result<(), StoreError> {
    let id = session.id.clone();
    if db::query(pool, move |conn| sessions::revoke_session(conn, &id, db::now())).await? {
        log::warn!("refresh token reuse detected: session {} revoked", session.id);
        events::record(pool, &session.user_id, EventKind::RefreshReuseDetected, Some(&session.id), client)
            .await;
    }
    Ok(())
}
