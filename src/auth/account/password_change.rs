//! Changing the password while signed in: the current one first (guesses counted like
//! sign-ins), the new one by the policy, then every other session ends and this one gets a
//! fresh pair — in one transaction that only a single concurrent change can win.

use secrecy::SecretString;

use crate::auth::account::reauth::PasswordCheck;
use crate::auth::client::ClientInfo;
use crate::auth::events::{self, EventKind};
use crate::auth::identity::Identity;
use crate::auth::password::{Busy, Verdict};
use crate::auth::session::pair::{SignedIn, sign_pair};
use crate::auth::session::sign_in::Sessions;
use crate::auth::throttle::{self, Throttled};
use crate::auth::tokens::{random_id, stored_hash};
use crate::db::{self, StoreError, sessions, users};
use crate::domain::{NewPassword, PasswordPolicy};
use crate::errors::ApiError;
use crate::mail::compose;

#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    #[error("the current password is not correct")]
    WrongCurrentPassword,
    /// Too many wrong current passwords from this session holder.
    #[error("too many wrong current passwords")]
    Throttled(Throttled),
    /// Another request changed the password after this one checked the current one.
    #[error("the password was changed concurrently")]
    ChangedElsewhere,
    /// The new password breaks the policy; the message says how.
    #[error("{0}")]
    Policy(String),
    #[error(transparent)]
    Busy(#[from] Busy),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// The one place a password change's failure becomes an HTTP answer (pages translate from it).
impl From<ChangePasswordError> for ApiError {
    fn from(e: ChangePasswordError) -> Self {
        match e {
            ChangePasswordError::WrongCurrentPassword => {
                Self::unprocessable("wrong_password", "current_password: that is not your current password.")
            }
            ChangePasswordError::Policy(message) => {
                Self::unprocessable("weak_password", format!("new_password: {message}"))
            }
            ChangePasswordError::ChangedElsewhere => Self::Conflict {
                code: "changed_elsewhere",
                message: "Your password was changed from another session a moment ago. Sign in again with the new one.",
            },
            ChangePasswordError::Throttled(t) => {
                Self::TooManyRequests { retry_after_secs: t.retry_after_secs }
            }
            ChangePasswordError::Busy(busy) => busy.into(),
            ChangePasswordError::Store(e) => e.into(),
            ChangePasswordError::Unexpected(e) => e.into(),
        }
    }
}

/// What a password change needs besides the session.
pub struct PasswordChange {
    pub current: SecretString,
    pub new: SecretString,
}

/// Checks the current password, stores the new one, ends every other session, and gives
/// the current session a fresh token pair (older refresh tokens of it die too). Guesses at
/// the current password are counted before the hash, like sign-ins.
pub async fn change_password(
    sessions: &Sessions,
    PasswordCheck { hasher, limits, .. }: PasswordCheck<'_>,
    policy: PasswordPolicy,
    identity: &Identity,
    change: PasswordChange,
    client: &ClientInfo,
) -> Result<SignedIn, ChangePasswordError> {
    let pool = &sessions.pool;
    let slot = hasher.slot()?;
    let key = throttle::Key::reauth(&identity.user_id);
    throttle::attempt(pool, &key, limits.per_account).await?.map_err(ChangePasswordError::Throttled)?;
    // The identity carries no hash: read the current one (and the session) now.
    let id = identity.session_id.clone();
    let (session, user) = db::query(pool, move |conn| sessions::find_session(conn, &id))
        .await?
        .filter(|(_, user)| user.id == identity.user_id)
        .ok_or(ChangePasswordError::ChangedElsewhere)?;
    if slot.verify(change.current, Some(user.password_hash.clone())).await? == Verdict::Mismatch {
        events::record(pool, &user.id, EventKind::PasswordCheckFailed, Some(&session.id), client).await;
        return Err(ChangePasswordError::WrongCurrentPassword);
    }
    throttle::succeeded(pool, Some(key), None).await?;
    let context = user.email.clone();
    let checked = hasher.run(move || NewPassword::parse(change.new, policy, &[&context])).await?;
    let new = checked.map_err(ChangePasswordError::Policy)?;
    let hash = hasher.hash(new.secret().clone()).await?;
    let jti = random_id();
    let (uid, sid, jti_hash) = (identity.user_id.clone(), identity.session_id.clone(), stored_hash(&jti));
    let old_hash = user.password_hash.clone();
    let changed = db::query(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let now = db::now();
            if !users::replace_password_hash(conn, &uid, old_hash.expose(), &hash, now)? {
                return Ok(false);
            }
            sessions::revoke_other_sessions(conn, &uid, &sid, now)?;
            sessions::reset_refresh(conn, &sid, &jti_hash, now)?;
            Ok(true)
        })
    })
    .await?;
    if !changed {
        return Err(ChangePasswordError::ChangedElsewhere);
    }
    events::record(pool, &user.id, EventKind::PasswordChanged, Some(&session.id), client).await;
    let notice = compose::password_changed(&sessions.mail, &user.email, "from your account page");
    crate::auth::notice::notify(pool, &sessions.mail, notice).await;
    Ok(sign_pair(sessions, user, session, jti, db::now())?)
}
