//! Signing in and out: credentials in, a server-side session and a token pair out.

use secrecy::{ExposeSecret, SecretString};

use crate::auth::client::ClientInfo;
use crate::auth::events::{self, EventKind};
use crate::auth::identity::{Amr, SessionRef};
use crate::auth::notice;
use crate::auth::password::{Busy, Hasher, Verdict};
use crate::auth::session::challenge::{MfaFlow, open_mfa_challenge};
use crate::auth::session::pair::sign_pair;
use crate::auth::throttle::{self, ThrottleLimits, Throttled};
use crate::auth::tokens::{random_id, stored_hash};
use crate::db::models::{Session, User};
use crate::db::{self, Pool, StoreError, factors, sessions, users};
use crate::domain::{Email, MAX_PASSWORD_BYTES, SessionId, UserId};
use crate::errors::ApiError;
use crate::mail::compose;
use crate::metrics::SignInResult;

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown email, wrong password and disabled account look the same from outside.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many attempts for this account or client IP: refused before any hashing.
    #[error("too many failed sign-ins")]
    Throttled { retry_after_secs: u64 },
    /// The password was right, but the address is not confirmed yet (`verify` registration).
    #[error("the email address is not verified")]
    EmailNotVerified,
    /// The password was right and TOTP is on: the sign-in waits for a code (`auth::mfa`).
    #[error("a second factor is required")]
    MfaRequired { mfa_token: String },
    /// The hashing queue is full: come back in a moment.
    #[error(transparent)]
    Busy(#[from] Busy),
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
            SignInError::EmailNotVerified => Self::EmailNotVerified,
            SignInError::MfaRequired { mfa_token } => Self::MfaRequired { mfa_token },
            SignInError::Busy(busy) => busy.into(),
            SignInError::Store(e) => e.into(),
            SignInError::Unexpected(e) => e.into(),
        }
    }
}

impl From<Throttled> for SignInError {
    fn from(t: Throttled) -> Self {
        Self::Throttled { retry_after_secs: t.retry_after_secs }
    }
}

pub use crate::auth::session::pair::{Sessions, SignedIn};

/// What a person typed into a sign-in form (or sent as JSON), and the browser's device
/// cookie, if it has one.
pub struct Credentials {
    pub email: String,
    pub password: SecretString,
    pub remember: bool,
    pub device_cookie: Option<String>,
    /// A browser (the sign-in page or the JSON login), not a script at the token endpoint:
    /// one without this account's device cookie gets its owner a "new sign-in" notice.
    pub browser: bool,
}

/// Checks the credentials (always one argon2 verification, whether or not the email is
/// known) and opens a session. The attempt is counted against the client IP and the account
/// (or, for a browser with the account's device cookie, against that device) before the hash.
pub async fn sign_in(
    sessions: &Sessions,
    hasher: &Hasher,
    limits: &ThrottleLimits,
    credentials: Credentials,
    client: ClientInfo,
) -> Result<SignedIn, SignInError> {
    let result = check_and_start(sessions, hasher, limits, credentials, client).await;
    let counted = match &result {
        Ok(_) => Some(SignInResult::Ok),
        Err(SignInError::InvalidCredentials | SignInError::EmailNotVerified) => Some(SignInResult::Failed),
        Err(SignInError::Throttled { .. }) => Some(SignInResult::Throttled),
        // Half-way: counted when the code step ends (`auth::mfa`).
        Err(SignInError::MfaRequired { .. }) => None,
        // The server, not the caller: busy or the database.
        Err(SignInError::Busy(_) | SignInError::Store(_) | SignInError::Unexpected(_)) => None,
    };
    if let Some(result) = counted {
        sessions.metrics.sign_in(result);
    }
    result
}

async fn check_and_start(
    sessions: &Sessions,
    hasher: &Hasher,
    limits: &ThrottleLimits,
    credentials: Credentials,
    client: ClientInfo,
) -> Result<SignedIn, SignInError> {
    let Credentials { email, password, remember, device_cookie, browser } = credentials;
    let slot = hasher.slot()?;
    let pool = &sessions.pool;
    let email = Email::try_from(email.as_str()).ok();
    let ip_key = throttle::Key::ip(&client);
    if let Some(key) = &ip_key {
        throttle::attempt(pool, key, limits.per_ip).await??;
    }
    let user = match &email {
        Some(email) => {
            let email = email.to_string();
            db::query(pool, move |conn| users::find_user_by_email(conn, &email)).await?
        }
        None => None,
    };
    let device = device_cookie
        .and_then(|c| sessions.devices.verify(&c))
        .filter(|d| user.as_ref().is_some_and(|u| u.id == d.user_id));
    let key = match (&device, &email) {
        (Some(device), _) => Some(throttle::Key::device(&device.nonce)),
        (None, Some(email)) => Some(throttle::Key::account(email.as_ref())),
        (None, None) => None,
    };
    let counted = match &key {
        Some(key) => Some(throttle::attempt(pool, key, limits.per_account).await??),
        None => None,
    };
    // Over-long passwords are refused without hashing; their length is the caller's own.
    let verdict = if password.expose_secret().len() > MAX_PASSWORD_BYTES {
        drop(slot);
        Verdict::Mismatch
    } else {
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        slot.verify(password.clone(), stored).await?
    };
    let user = match (user, verdict) {
        (Some(user), Verdict::Match | Verdict::MatchNeedsRehash) if !user.disabled => user,
        (user, _) => {
            if let Some(user) = user {
                // Recorded after the answer has gone: an unknown email records nothing, and
                // the wait for the write must not tell the two apart (docs/security.md).
                let lockout = device.is_none() && counted.is_some_and(|c| c.started_pause);
                let pool = pool.clone();
                tokio::spawn(async move {
                    events::record(&pool, &user.id, EventKind::LoginFailed, None, &client).await;
                    if lockout {
                        events::record(&pool, &user.id, EventKind::Lockout, None, &client).await;
                    }
                });
            }
            return Err(SignInError::InvalidCredentials);
        }
    };
    throttle::succeeded(pool, key, ip_key).await?;
    if sessions.require_verified_email && !user.email_verified {
        return Err(SignInError::EmailNotVerified);
    }
    let uid = user.id.clone();
    if db::query(pool, move |conn| factors::totp_is_on(conn, &uid)).await? {
        // The rehash first: a change to the account after the challenge ends it (`auth::mfa`).
        if verdict == Verdict::MatchNeedsRehash {
            rehash(pool, hasher, &user, password).await;
        }
        let flow = if browser { MfaFlow::Cookie } else { MfaFlow::Token };
        let mfa_token = open_mfa_challenge(pool, &user, flow, remember, device.is_some()).await?;
        events::record(pool, &user.id, EventKind::MfaChallenged, None, &client).await;
        return Err(SignInError::MfaRequired { mfa_token });
    }
    // The session first: its insert checks the hash just verified, which a rehash replaces.
    let mut signed = start_session(sessions, user, remember, Amr::Password, &client).await?;
    if verdict == Verdict::MatchNeedsRehash {
        rehash(pool, hasher, &signed.user, password).await;
    }
    signed.device = Some(sessions.devices.issue(&signed.user.id));
    if browser && device.is_none() {
        notice::notify(
            pool,
            &sessions.mail,
            compose::new_sign_in(&sessions.mail, &signed.user.email, &client.ip, &client.user_agent),
        )
        .await;
    }
    events::record(pool, &signed.user.id, EventKind::LoginSucceeded, Some(&signed.session.id), &client).await;
    Ok(signed)
}

/// Stores a hash with today's parameters, in place of the one just verified (not if a
/// password change replaced it meanwhile). A failure here must not fail the sign-in.
async fn rehash(pool: &Pool, hasher: &Hasher, user: &User, password: SecretString) {
    let user_id = &user.id;
    let result = async {
        let hash = hasher.hash(password).await?;
        let (id, old) = (user_id.clone(), user.password_hash.clone());
        db::query(pool, move |conn| users::upgrade_password_hash(conn, &id, old.expose(), &hash)).await?;
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
    amr: Amr,
    client: &ClientInfo,
) -> Result<SignedIn, SignInError> {
    let now = db::now();
    let lifetimes = &sessions.lifetimes;
    let jti = random_id();
    let session = Session {
        id: SessionId::from(random_id()),
        user_id: user.id.clone(),
        refresh_jti_hash: stored_hash(&jti),
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
        amr: amr.as_str().to_owned(),
    };
    let (row, verified) = (session.clone(), user.password_hash.clone());
    let created = db::query(&sessions.pool, move |conn| {
        sessions::insert_session_for_enabled_user(conn, &(&row).into(), verified.expose())
    })
    .await?;
    if !created {
        return Err(SignInError::InvalidCredentials);
    }
    Ok(sign_pair(sessions, user, session, jti, now)?)
}

/// Ends a session (the one the caller's access token or refresh cookie names); its tokens
/// fail at the next request on every instance.
pub async fn sign_out(pool: &Pool, session: &SessionRef, client: &ClientInfo) -> Result<(), StoreError> {
    let (uid, sid) = (session.user_id.clone(), session.session_id.clone());
    if db::query(pool, move |conn| sessions::revoke_user_session(conn, &uid, &sid, db::now())).await? {
        let (user, session) = (&session.user_id, &session.session_id);
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
        events::record(pool, user_id, EventKind::SessionRevoked, Some(session_id), client).await;
    }
    Ok(revoked)
}

/// Ends every session of the user but `keep` (one security event when any ended); returns
/// how many ended.
pub async fn revoke_others(
    pool: &Pool,
    user_id: &UserId,
    keep: &SessionId,
    client: &ClientInfo,
) -> Result<usize, StoreError> {
    let (uid, sid) = (user_id.clone(), keep.clone());
    let ended =
        db::query(pool, move |conn| sessions::revoke_other_sessions(conn, &uid, &sid, db::now())).await?;
    if ended > 0 {
        events::record(pool, user_id, EventKind::SessionRevoked, None, client).await;
    }
    Ok(ended)
}
