//! A session's token pair: what it takes to sign one (`Sessions`: the pool, the key ring, the
//! lifetimes) and the one function that issues it, for a new session and for every rotation.

use std::sync::Arc;

use crate::auth::session::device::DeviceKey;
use crate::auth::session::lifetimes::Lifetimes;
use crate::auth::tokens::{Issued, KeyRing, TokenKind};
use crate::db::guard_reads::GuardReads;
use crate::db::models::{Session, User};
use crate::db::{self, Pool};
use crate::mail::Mail;
use crate::metrics::Metrics;

/// What every session operation needs: the database, the key ring that signs and checks
/// tokens, and how long tokens and sessions live. Built once at startup.
#[derive(Clone)]
pub struct Sessions {
    pub pool: Pool,
    pub keys: Arc<KeyRing>,
    pub lifetimes: Lifetimes,
    /// Signs the device cookies a sign-in hands out (see `device.rs`).
    pub devices: Arc<DeviceKey>,
    /// `PORTCULLIS_REGISTRATION=verify`: an account whose address is not confirmed cannot sign in.
    pub require_verified_email: bool,
    /// Security notices (a new device, a changed password) go out through it.
    pub mail: Mail,
    /// Sign-ins, refreshes and reuse are counted here.
    pub metrics: Arc<Metrics>,
    /// On PostgreSQL, the guard's look-ups go through these reader threads, which coalesce
    /// concurrent ones into one query; on SQLite they run inline (`db::query_read`).
    pub guard_reads: Option<GuardReads>,
}

/// A session with its current token pair: after sign-in, a rotation or a password change.
pub struct SignedIn {
    pub user: User,
    pub session: Session,
    pub access: Issued,
    pub refresh: Issued,
    /// `Some(seconds)` for persistent cookies ("remember me"), `None` for browser-session ones.
    pub cookie_max_age: Option<i64>,
    /// A new device cookie value, after a sign-in with a password.
    pub device: Option<String>,
}

/// Signs the refresh token with `jti` (deterministically, from the session row) and a
/// fresh access token.
pub fn sign_pair(
    s: &Sessions,
    user: User,
    session: Session,
    jti: String,
    issued_at: i64,
) -> anyhow::Result<SignedIn> {
    let refresh_exp = session.idle_expires_at.min(session.absolute_expires_at);
    let refresh = s
        .keys
        .sign(TokenKind::Refresh, s.keys.claims(&user.id, &session.id, None, jti, issued_at, refresh_exp))?;
    let now = db::now();
    let access_exp = (now + s.lifetimes.access_secs()).min(refresh_exp);
    let role = Some(user.role.as_str());
    let access = s.keys.issue(TokenKind::Access, &user.id, &session.id, role, now, access_exp - now)?;
    let cookie_max_age = session.remember.then_some(refresh_exp - now);
    Ok(SignedIn { user, session, access, refresh, cookie_max_age, device: None })
}
