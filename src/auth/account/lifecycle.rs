//! An account's life after sign-up: proving the current password again (re-authentication),
//! deleting an account, an operator setting a password, a role or the verified flag. The
//! last enabled administrator can be neither demoted nor deleted.

use secrecy::SecretString;

use crate::auth::client::ClientInfo;
use crate::auth::events::{self, EventKind, new_event};
use crate::auth::identity::Actor;
use crate::auth::password::{Busy, Hasher};
use crate::auth::throttle::{self, Throttled};
use crate::auth::tokens::random_id;
use crate::db::models::User;
use crate::db::{self, Pool, StoreError, outbox, sessions, users};
use crate::domain::{NewPassword, PasswordPolicy, Role, UserId};
use crate::errors::ApiError;
use crate::mail::{Mail, compose};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the current password is not correct")]
    WrongPassword,
    #[error("too many wrong passwords")]
    Throttled(Throttled),
    #[error("no such account")]
    NotFound,
    /// The change would leave no enabled administrator.
    #[error("this is the last enabled administrator")]
    LastAdmin,
    /// An administrator disabling or deleting their own account from the admin tools.
    #[error("not on your own account")]
    OwnAccount(OwnAction),
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

/// What an administrator may not do to their own account from the admin tools: disabling it
/// would lock them out, and their own account is deleted from its own page, with its password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnAction {
    Disable,
    Delete,
}

impl OwnAction {
    /// The sentence a person reads.
    pub fn refusal(self) -> &'static str {
        match self {
            Self::Disable => "You cannot disable your own account.",
            Self::Delete => "Delete your own account from your account page, with your password.",
        }
    }
}

/// The one place an account failure becomes an HTTP answer (pages translate from this too).
impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::WrongPassword => {
                Self::unprocessable("wrong_password", "password: that is not your current password.")
            }
            AccountError::Throttled(t) => Self::TooManyRequests { retry_after_secs: t.retry_after_secs },
            AccountError::NotFound => Self::NotFound,
            AccountError::LastAdmin => Self::Conflict {
                code: "last_admin",
                message: "This is the last enabled administrator: make someone else an administrator first.",
            },
            AccountError::OwnAccount(action) => Self::unprocessable(
                match action {
                    OwnAction::Disable => "cannot_disable_self",
                    OwnAction::Delete => "cannot_delete_self",
                },
                action.refusal(),
            ),
            AccountError::Policy(message) => {
                Self::unprocessable("weak_password", format!("password: {message}"))
            }
            AccountError::Busy(busy) => busy.into(),
            AccountError::Store(e) => e.into(),
            AccountError::Unexpected(e) => e.into(),
        }
    }
}

impl From<diesel::result::Error> for AccountError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(e.into())
    }
}

/// Deletes an account with its sessions, events and links (the foreign keys cascade), unless
/// it is the last enabled administrator. Deleted by someone else (`by`), the deletion is an
/// event on the administrator's own account (the deleted one keeps nothing); an administrator's
/// own account is deleted only from its own page.
pub async fn delete_user(
    pool: &Pool,
    user_id: &UserId,
    by: Option<Actor<'_>>,
    client: &ClientInfo,
) -> Result<(), AccountError> {
    let id = user_id.clone();
    let own = by.is_some_and(|by| by.is_self(user_id));
    let email = db::run(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            users::serialize_admin_changes(conn)?;
            if users::is_last_enabled_admin(conn, &id)? {
                return Err(AccountError::LastAdmin);
            }
            if own {
                return Err(AccountError::OwnAccount(OwnAction::Delete));
            }
            let email = users::find_user_by_id(conn, &id)?.ok_or(AccountError::NotFound)?.email;
            if !users::delete_user(conn, &id)? {
                return Err(AccountError::NotFound);
            }
            Ok(email)
        })
    })
    .await?;
    if let Some(Actor::Admin { id: admin, .. }) = by
        && admin != user_id
    {
        events::record_detailed(pool, admin, EventKind::UserDeleted, format!("deleted {email}"), client)
            .await;
    }
    Ok(())
}

/// Gives an account a role; demoting the last enabled administrator is refused.
pub async fn set_role(
    pool: &Pool,
    user_id: &UserId,
    role: Role,
    by: Actor<'_>,
    client: &ClientInfo,
) -> Result<(), AccountError> {
    let id = user_id.clone();
    let before = db::run(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            users::serialize_admin_changes(conn)?;
            let user = users::find_user_by_id(conn, &id)?.ok_or(AccountError::NotFound)?;
            if role != Role::Admin && users::is_last_enabled_admin(conn, &id)? {
                return Err(AccountError::LastAdmin);
            }
            users::set_role(conn, &id, role, db::now())?;
            Ok(user.role)
        })
    })
    .await?;
    if before != role {
        let detail = format!("{before} → {role}, {}", by.by());
        events::record_detailed(pool, user_id, EventKind::RoleChanged, detail, client).await;
    }
    Ok(())
}

/// What setting a new password needs: the database, the hashing threads, the policy the
/// password must meet, and the mail its notice goes by.
#[derive(Clone, Copy)]
pub struct PasswordSetting<'a> {
    pub pool: &'a Pool,
    pub hasher: &'a Hasher,
    pub policy: PasswordPolicy,
    pub mail: &'a Mail,
}

/// An operator sets a password (`portcullis user set-password`): the policy applies, every
/// session ends, the change is recorded and the owner is told by mail.
pub async fn set_password(
    PasswordSetting { pool, hasher, policy, mail }: PasswordSetting<'_>,
    user: &User,
    password: SecretString,
    client: &ClientInfo,
) -> Result<(), AccountError> {
    let context = user.email.clone();
    let checked = hasher.run(move || NewPassword::parse(password, policy, &[&context])).await?;
    let new = checked.map_err(AccountError::Policy)?;
    let hash = hasher.hash(new.secret().clone()).await?;
    let notice = mail.outbox_row(
        compose::password_changed(mail, &user.email, "by an administrator")?,
        random_id(),
        db::now(),
    )?;
    let event = new_event(&user.id, EventKind::PasswordChanged, None, client);
    let id = user.id.clone();
    db::run(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let now = db::now();
            users::set_password_hash(conn, &id, &hash, now)?;
            sessions::revoke_user_sessions(conn, &id, now)?;
            crate::db::events::insert_event(conn, &event)?;
            outbox::enqueue(conn, &notice)?;
            Ok::<_, AccountError>(())
        })
    })
    .await?;
    mail.queued();
    Ok(())
}

/// Disables (ending every session at once) or enables an account, and records it on the
/// account: the one implementation behind the admin page and `portcullis user disable|enable`.
/// The last enabled administrator cannot be disabled.
pub async fn set_disabled(
    pool: &Pool,
    user_id: &UserId,
    disabled: bool,
    by: Actor<'_>,
    client: &ClientInfo,
) -> Result<(), AccountError> {
    let id = user_id.clone();
    let own = disabled && by.is_self(user_id);
    db::run(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            users::serialize_admin_changes(conn)?;
            if disabled && users::is_last_enabled_admin(conn, &id)? {
                return Err(AccountError::LastAdmin);
            }
            if own {
                return Err(AccountError::OwnAccount(OwnAction::Disable));
            }
            if !users::set_user_disabled(conn, &id, disabled, db::now())? {
                return Err(AccountError::NotFound);
            }
            Ok(())
        })
    })
    .await?;
    let kind = if disabled { EventKind::UserDisabled } else { EventKind::UserEnabled };
    events::record_detailed(pool, user_id, kind, by.by(), client).await;
    Ok(())
}

/// Ends every session of a user (an administrator's "sign out everywhere" for them).
pub async fn end_all_sessions(
    pool: &Pool,
    user_id: &UserId,
    by: Actor<'_>,
    client: &ClientInfo,
) -> Result<usize, AccountError> {
    let id = user_id.clone();
    let ended = db::run(pool, move |conn| {
        if users::find_user_by_id(conn, &id)?.is_none() {
            return Err(AccountError::NotFound);
        }
        Ok(sessions::revoke_user_sessions(conn, &id, db::now())?)
    })
    .await?;
    let detail = format!("{ended} session{}, {}", if ended == 1 { "" } else { "s" }, by.by());
    events::record_detailed(pool, user_id, EventKind::SessionsEnded, detail, client).await;
    Ok(ended)
}

/// Lifts a sign-in lock: the account's failure counter (and its current-password one) start
/// over. Per-IP and per-device counters are left alone: they are about the guesser.
pub async fn unlock(
    pool: &Pool,
    user_id: &UserId,
    by: Actor<'_>,
    client: &ClientInfo,
) -> Result<(), AccountError> {
    let id = user_id.clone();
    let user = db::query(pool, move |conn| users::find_user_by_id(conn, &id))
        .await?
        .ok_or(AccountError::NotFound)?;
    let keys = [
        throttle::Key::account(&user.email),
        throttle::Key::reauth(&user.id),
        throttle::Key::second_factor(&user.id),
    ];
    throttle::forget(pool, &keys).await?;
    events::record_detailed(pool, user_id, EventKind::Unlocked, by.by(), client).await;
    Ok(())
}
