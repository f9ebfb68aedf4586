//! Creating accounts, shared by the registration page, the API and the CLI.

use crate::db::models::{NewUser, User};
use crate::db::users::{self, CreateUserError};
use crate::db::{self, DbConn, Pool};
use crate::domain::{Email, NewPassword, Role};

use diesel::Connection;
use secrecy::SecretString;

use super::client::ClientInfo;
use super::events::{self, EventKind};
use super::extract::Identity;
use super::pair::{SignedIn, sign_pair};
use super::password::{Hasher, Verdict};
use super::sessions::Sessions;
use super::tokens::{hash_jti, random_id};
use crate::db::sessions;
use crate::domain::PasswordPolicy;

/// Hashes the password off the workers and inserts the user.
pub async fn register(
    pool: &Pool,
    hasher: &Hasher,
    email: Email,
    password: NewPassword,
    role: Role,
) -> Result<User, CreateUserError> {
    let hash = hasher.hash(password.secret().clone()).await?;
    db::run(pool, move |conn| create_user(conn, &email, &hash, role)).await
}

/// Inserts a user whose password is already hashed.
pub fn create_user(
    conn: &mut DbConn,
    email: &Email,
    password_hash: &str,
    role: Role,
) -> Result<User, CreateUserError> {
    let now = db::now();
    let id = random_id();
    let row = NewUser {
        id: &id,
        email: email.as_ref(),
        password_hash,
        role: role.as_str(),
        disabled: false,
        created_at: now,
        updated_at: now,
    };
    users::insert_user(conn, &row)?;
    Ok(User {
        id,
        email: email.to_string(),
        password_hash: password_hash.to_owned().into(),
        role,
        disabled: false,
        created_at: now,
        updated_at: now,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    #[error("the current password is not correct")]
    WrongCurrentPassword,
    /// Another request changed the password after this one checked the current one.
    #[error("the password was changed concurrently")]
    ChangedElsewhere,
    /// The new password breaks the policy; the message says how.
    #[error("{0}")]
    Policy(String),
    #[error(transparent)]
    Store(#[from] crate::db::StoreError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Checks the current password, stores the new one, ends every other session, and gives
/// the current session a fresh token pair (older refresh tokens of it die too).
pub async fn change_password(
    sessions: &Sessions,
    hasher: &Hasher,
    policy: PasswordPolicy,
    identity: &Identity,
    current: SecretString,
    new: SecretString,
    client: &ClientInfo,
) -> Result<SignedIn, ChangePasswordError> {
    let pool = &sessions.pool;
    // The identity carries no hash: read the current one (and the session) now.
    let id = identity.session_id.clone();
    let (session, user) = db::query(pool, move |conn| sessions::find_session(conn, id.as_str()))
        .await?
        .filter(|(_, user)| user.id == identity.user_id.as_str())
        .ok_or(ChangePasswordError::ChangedElsewhere)?;
    let verdict = hasher.verify(current, Some(user.password_hash.clone())).await?;
    if verdict == Verdict::Mismatch {
        events::record(pool, &user.id, EventKind::LoginFailed, Some(&session.id), client).await;
        return Err(ChangePasswordError::WrongCurrentPassword);
    }
    let new = NewPassword::parse(new, policy, &[&user.email]).map_err(ChangePasswordError::Policy)?;
    let hash = hasher.hash(new.secret().clone()).await?;
    let jti = random_id();
    let (uid, sid, jti_hash) = (identity.user_id.clone(), identity.session_id.clone(), hash_jti(&jti));
    let old_hash = user.password_hash.clone();
    let changed = db::query(pool, move |conn| {
        conn.transaction(|conn| {
            let now = db::now();
            if !users::replace_password_hash(conn, uid.as_str(), old_hash.expose(), &hash, now)? {
                return Ok(false);
            }
            sessions::revoke_other_sessions(conn, &uid, &sid, now)?;
            sessions::reset_refresh(conn, sid.as_str(), &jti_hash, now)?;
            Ok(true)
        })
    })
    .await?;
    if !changed {
        return Err(ChangePasswordError::ChangedElsewhere);
    }
    events::record(pool, &user.id, EventKind::PasswordChanged, Some(&session.id), client).await;
    Ok(sign_pair(sessions, user, session, jti, db::now())?)
}

/// Disables (ending every session at once) or enables an account, and records it on the
/// account. The one implementation behind the admin page and `portcullis user disable|enable`.
/// Returns whether the account exists.
pub async fn set_disabled(
    pool: &Pool,
    user_id: &str,
    disabled: bool,
    client: &ClientInfo,
) -> Result<bool, crate::db::StoreError> {
    let uid = user_id.to_owned();
    let found =
        db::query(pool, move |conn| users::set_user_disabled(conn, &uid, disabled, db::now())).await?;
    if found {
        let kind = if disabled { EventKind::UserDisabled } else { EventKind::UserEnabled };
        events::record(pool, user_id, kind, None, client).await;
    }
    Ok(found)
}
