//! The second sign-in step: an `mfa_token` (from a correct password) and a code become a
//! session. The token lives 5 minutes, works once, and dies after 5 wrong codes; code guesses
//! are also throttled per account, across tokens.

use secrecy::SecretString;

use crate::auth::client::ClientInfo;
use crate::auth::events::{self, EventKind};
use crate::auth::factors::totp::TotpSealer;
use crate::auth::factors::two_factor::{UsedCode, code_key, use_code};
use crate::auth::identity::Amr;
use crate::auth::notice::notify;
use crate::auth::session::challenge::{MFA_MAX_FAILURES, MfaFlow};
use crate::auth::session::sign_in::{Sessions, SignInError, SignedIn, start_session};
use crate::auth::throttle::{self, ThrottleLimits};
use crate::auth::tokens::stored_hash;
use crate::db::{self, StoreError, mfa, users};
use crate::errors::ApiError;
use crate::mail::compose;
use crate::metrics::SignInResult;

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("the mfa_token is unknown, expired, used or dead")]
    InvalidToken,
    #[error("wrong code")]
    WrongCode { attempts_left: i64 },
    #[error("too many wrong codes")]
    Throttled { retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// The one place a second-step failure becomes an HTTP answer.
impl From<MfaError> for ApiError {
    fn from(e: MfaError) -> Self {
        match e {
            MfaError::InvalidToken => Self::InvalidMfaToken,
            MfaError::WrongCode { attempts_left } => Self::InvalidCode { attempts_left },
            MfaError::Throttled { retry_after_secs } => Self::TooManyRequests { retry_after_secs },
            MfaError::Store(e) => e.into(),
            MfaError::Unexpected(e) => e.into(),
        }
    }
}

impl From<SignInError> for MfaError {
    fn from(e: SignInError) -> Self {
        match e {
            SignInError::Store(e) => Self::Store(e),
            SignInError::Unexpected(e) => Self::Unexpected(e),
            // The account was disabled (or its password changed) during the code step.
            _ => Self::InvalidToken,
        }
    }
}

/// A completed sign-in, and how its first step asked to be answered.
pub struct Completed {
    pub signed: SignedIn,
    pub flow: MfaFlow,
}

/// Checks the code against the challenge's account and, when it is right, opens the session
/// the password step would have opened (same "remember me", same device cookie and notice).
pub async fn complete(
    sessions: &Sessions,
    sealer: &TotpSealer,
    limits: &ThrottleLimits,
    mfa_token: &str,
    code: &SecretString,
    client: &ClientInfo,
) -> Result<Completed, MfaError> {
    let pool = &sessions.pool;
    let hash = stored_hash(mfa_token);
    let h = hash.clone();
    let challenge = db::query(pool, move |conn| mfa::find_live(conn, &h, db::now(), MFA_MAX_FAILURES))
        .await?
        .ok_or(MfaError::InvalidToken)?;
    let user_id = challenge.user_id.clone();
    let key = code_key(&user_id);
    if let Err(t) = throttle::attempt(pool, &key, limits.per_account).await? {
        sessions.metrics.sign_in(SignInResult::Throttled);
        return Err(MfaError::Throttled { retry_after_secs: t.retry_after_secs });
    }
    let Some(used) = use_code(pool, sealer, &user_id, code).await? else {
        let h = hash.clone();
        let failures = db::query(pool, move |conn| mfa::count_failure(conn, &h)).await?;
        events::record(pool, &user_id, EventKind::MfaFailed, None, client).await;
        sessions.metrics.sign_in(SignInResult::Failed);
        return Err(MfaError::WrongCode { attempts_left: (MFA_MAX_FAILURES - failures).max(0) });
    };
    let flow = MfaFlow::parse(&challenge.flow);
    let (remember, known_device) = (challenge.remember, challenge.known_device);
    // Disabled, or a credential changed (a new password) since the password step: sign in
    // again. The session insert below checks the hash once more, against a change in between.
    let uid = user_id.clone();
    let user = db::query(pool, move |conn| {
        if !mfa::use_up(conn, &challenge, &hash, db::now(), MFA_MAX_FAILURES)? {
            return Ok(None);
        }
        users::find_user_by_id(conn, &uid)
    })
    .await?
    .filter(|u| !u.disabled)
    .ok_or(MfaError::InvalidToken)?;
    throttle::succeeded(pool, Some(key), None).await?;
    let mut signed = start_session(sessions, user, remember, Amr::PasswordAndCode, client).await?;
    signed.device = Some(sessions.devices.issue(&signed.user.id));
    if flow == MfaFlow::Cookie && !known_device {
        let notice = compose::new_sign_in(&sessions.mail, &signed.user.email, &client.ip, &client.user_agent);
        notify(pool, &sessions.mail, notice).await;
    }
    if used == UsedCode::Recovery {
        events::record(pool, &user_id, EventKind::RecoveryCodeUsed, Some(&signed.session.id), client).await;
    }
    events::record(pool, &user_id, EventKind::LoginSucceeded, Some(&signed.session.id), client).await;
    sessions.metrics.sign_in(SignInResult::Ok);
    Ok(Completed { signed, flow })
}
