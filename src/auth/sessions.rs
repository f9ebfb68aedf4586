//! Signing in and out: credentials in, a server-side session and a token pair out.

use secrecy::{ExposeSecret, SecretString};

use super::client::ClientInfo;
use super::events::{self, EventKind};
use super::extract::Identity;
use super::pair::sign_pair;
use super::password::{Hasher, Verdict};
use super::throttle::{self, ThrottleLimits};
use super::tokens::{hash_jti, random_id};
use crate::db::models::{Session, User};
use crate::db::{self, Pool, StoreError, sessions, users};
use crate::domain::{Email, MAX_PASSWORD_BYTES, SessionId, UserId};
use crate::errors::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown email, wrong password and disabled account look the same from outside.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failures for this account or client IP: refused before any hashing.
    #[error("too many failed sign-ins")]
    Throttled { retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// The one place a sign-in failure becomes an HTTP answer.
impl From<SignInError> for ApiError {
    fn from(e: SignInError) -> Self {
        match e {
            SignInError::InvalidCredentials => Self::InvalidCredentials,
            SignInError::Throttled { retry_after_secs } => Self::TooManyRequests { retry_after_secs },
            SignInError::Store(e) => e.into(),
            SignInError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

pub use super::pair::{Sessions, SignedIn};

/// Checks the credentials (always one argon2 verification, whether or not the email is
/// known) and opens a session.
pub async fn sign_in(
    sessions: &Sessions,
    hasher: &Hasher,
    limits: &ThrottleLimits,
    email: &str,
    password: SecretString,
    remember: bool,
    client: ClientInfo,
) -> Result<SignedIn, SignInError> {
    let email = Email::try_from(email).ok();
    let email = email.as_ref().map(AsRef::<str>::as_ref);
    let pool = &sessions.pool;
    if let Err(t) = throttle::check(pool, email, &client).await? {
        return Err(SignInError::Throttled { retry_after_secs: t.retry_after_secs });
    }
    let user = match email {
        Some(email) => {
            let email = email.to_owned();
            db::query(pool, move |conn| users::find_user_by_email(conn, &email)).await?
        }
        None => None,
    };
    // Over-long passwords are refused without hashing; their length is the caller's own.
    let verdict = if password.expose_secret().len() > MAX_PASSWORD_BYTES {
        Verdict::Mismatch
    } else {
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        hasher.verify(password.clone(), stored).await?
    };
    let user = match (user, verdict) {
        (Some(user), Verdict::Match | Verdict::MatchNeedsRehash) if !user.disabled => user,
        (user, _) => {
            let user_id = user.as_ref().map(|u| u.id.as_str());
            throttle::failed(pool, limits, email, user_id, &client).await?;
            if let Some(id) = user_id {
                events::record(pool, id, EventKind::LoginFailed, None, &client).await;
            }
            return Err(SignInError::InvalidCredentials);
        }
    };
    throttle::succeeded(pool, &user.email).await?;
    if verdict == Verdict::MatchNeedsRehash {
        rehash(pool, hasher, &user.id, password).await;
    }
    let signed = start_session(sessions, user, remember, &client).await?;
    events::record(pool, &signed.user.id, EventKind::LoginSucceeded, Some(&signed.session.id), &client).await;
    Ok(signed)
}

/// Stores a hash with today's parameters. A failure here must not fail the sign-in.
async fn rehash(pool: &Pool, hasher: &Hasher, user_id: &str, password: SecretString) {
    let result = async {
        let hash = hasher.hash(password).await?;
        let id = user_id.to_owned();
        db::query(pool, move |conn| users::update_password_hash(conn, &id, &hash, db::now())).await?;
        anyhow::Ok(())
    }
    .await;
    match result {
        Ok(()) => log::info!("upgraded the password hash of user {user_id}"),
        Err(e) => log::warn!("could not upgrade the password hash of user {user_id}: {e:#}"),
    }
}

/// Creates the session row and signs its first access and refresh tokens.
pub async fn start_session(
    sessions: &Sessions,
    user: User,
    remember: bool,
    client: &ClientInfo,
) -> Result<SignedIn, SignInError> {
    let now = db::now();
    let lifetimes = &sessions.lifetimes;
    let jti = random_id();
    let session = Session {
        id: random_id(),
        user_id: user.id.clone(),
        refresh_jti_hash: hash_jti(&jti),
        previous_jti_hash: None,
        rotated_at: None,
        remember,
        created_at: now,
        last_used_at: now,
        idle_expires_at: now + lifetimes.idle_secs(remember),
        absolute_expires_at: now + lifetimes.absolute_secs(remember),
        revoked_at: None,
        user_agent: client.user_agent.clone(),
        ip: client.ip.clone(),
    };
    let row = session.clone();
    let created = db::query(&sessions.pool, move |conn| {
        sessions::insert_session_for_enabled_user(conn, &(&row).into())
    })
    .await?;
    if !created {
        return Err(SignInError::InvalidCredentials);
    }
    Ok(sign_pair(sessions, user, session, jti, now)?)
}

/// Revokes one session; its tokens fail at the next request on every instance.
pub async fn sign_out(pool: &Pool, identity: &Identity, client: &ClientInfo) -> Result<(), StoreError> {
    let id = identity.session_id.clone();
    if db::query(pool, move |conn| sessions::revoke_session(conn, id.as_str(), db::now())).await? {
        let (user, session) = (identity.user_id.as_str(), identity.session_id.as_str());
        events::record(pool, user, EventKind::LoggedOut, Some(session), client).await;
    }
    Ok(())
}

/// Revokes one of the user's own sessions (account page, API, RFC 7009).
pub async fn revoke(
    pool: &Pool,
    user_id: &UserId,
    session_id: &SessionId,
    client: &ClientInfo,
) -> Result<bool, StoreError> {
    let (uid, sid) = (user_id.clone(), session_id.clone());
    let revoked =
        db::query(pool, move |conn| sessions::revoke_user_session(conn, &uid, &sid, db::now())).await?;
    if revoked {
        let session = Some(session_id.as_str());
        events::record(pool, user_id.as_str(), EventKind::SessionRevoked, session, client).await;
    }
    Ok(revoked)
}
