//! Accounts: registering, changing a password, disabling — shared by the pages, the API and
//! the CLI.

use secrecy::SecretString;

use crate::auth::account::lifecycle::PasswordSetting;
use crate::auth::account::links::{self, Owner};
use crate::auth::account::reauth::PasswordCheck;
use crate::auth::account::verification;
use crate::auth::client::ClientInfo;
use crate::auth::events::{self, EventKind};
use crate::auth::identity::Identity;
use crate::auth::password::{Busy, Verdict};
use crate::auth::session::pair::{SignedIn, sign_pair};
use crate::auth::session::sign_in::Sessions;
use crate::auth::throttle::{self, Throttled};
use crate::auth::tokens::{random_id, stored_hash};
use crate::config::Registration;
use crate::db::models::{NewUser, User};
use crate::db::users::{self, CreateUserError};
use crate::db::{self, DbConn, Pool, StoreError, outbox, sessions};
use crate::domain::{Email, NewPassword, PasswordPolicy, Role, UserId};
use crate::errors::ApiError;
use crate::mail::{Mail, compose};

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("an account with this email already exists")]
    EmailTaken,
    /// The password breaks the policy; the message says how.
    #[error("{0}")]
    Policy(String),
    /// Too many registrations from this client IP.
    #[error("too many registrations")]
    Throttled(Throttled),
    #[error(transparent)]
    Busy(#[from] Busy),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// The one place a registration failure becomes an HTTP answer (pages translate from it).
impl From<RegisterError> for ApiError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::EmailTaken => Self::Conflict {
                code: "email_taken",
                message: "email: an account with this email already exists; sign in instead.",
            },
            RegisterError::Policy(message) => {
                Self::unprocessable("weak_password", format!("password: {message}"))
            }
            RegisterError::Throttled(t) => Self::TooManyRequests { retry_after_secs: t.retry_after_secs },
            RegisterError::Busy(busy) => busy.into(),
            RegisterError::Store(e) => e.into(),
            RegisterError::Unexpected(e) => e.into(),
        }
    }
}

impl From<CreateUserError> for RegisterError {
    fn from(e: CreateUserError) -> Self {
        match e {
            CreateUserError::EmailTaken => Self::EmailTaken,
            CreateUserError::Store(e) => Self::Store(e),
            CreateUserError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

/// What a registration led to.
pub enum Registered {
    /// `open`: the account exists and may sign in at once (a verification mail is queued).
    SignedUp(User),
    /// `verify`: "check your inbox" — for a new address and for a taken one alike.
    CheckInbox,
}

/// Self-service registration: throttled per client IP, the policy (zxcvbn) and the hash both
/// on the hashing threads — never on an actix worker. The account, its verification link and
/// the mail are stored in one transaction. With `verify`, a taken address gets the same answer
/// (and its owner a mail saying someone tried), after the same work.
pub async fn register(
    PasswordSetting { pool, hasher, policy, mail }: PasswordSetting<'_>,
    mode: Registration,
    email: Email,
    password: SecretString,
    client: &ClientInfo,
) -> Result<Registered, RegisterError> {
    throttle::registration(pool, client).await?.map_err(RegisterError::Throttled)?;
    let context = email.to_string();
    let checked = hasher.run(move || NewPassword::parse(password, policy, &[&context])).await?;
    let password = checked.map_err(RegisterError::Policy)?;
    let hash = hasher.hash(password.secret().clone()).await?;
    let link = verification::link_mail(mail, email.as_ref())?;
    let address = email.clone();
    let created = db::run(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let user = create_user(conn, &address, &hash, Role::User, false)?;
            let owner = Owner { user_id: &user.id, credential_version: user.credential_version };
            verification::store_link(conn, owner, &user.email, &link)?;
            Ok::<_, CreateUserError>(user)
        })
    })
    .await;
    match (created, mode) {
        (Ok(_), Registration::Verify) => {
            mail.queued();
            Ok(Registered::CheckInbox)
        }
        (Ok(user), _) => {
            mail.queued();
            Ok(Registered::SignedUp(user))
        }
        (Err(CreateUserError::EmailTaken), Registration::Verify) => {
            tell_the_owner(pool, mail, &email).await?;
            Ok(Registered::CheckInbox)
        }
        (Err(e), _) => Err(e.into()),
    }
}

/// Mails the owner of a taken address that someone tried to register it (within the
/// address's budget for such notices, silently).
async fn tell_the_owner(pool: &Pool, mail: &Mail, email: &Email) -> Result<(), StoreError> {
    let row = match compose::registration_attempt(mail, email.as_ref())
        .and_then(|composed| mail.outbox_row(composed, random_id(), db::now()))
    {
        Ok(row) => row,
        Err(e) => {
            log::error!(error:% = format!("{e:#}"); "cannot compose a registration notice");
            return Ok(());
        }
    };
    let key = throttle::Key::mail_to("registration_notice", email.as_ref());
    let queued = db::query(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let within = throttle::attempt_in(conn, &key, links::SENDS_PER_ADDRESS)?;
            if within {
                outbox::enqueue(conn, &row)?;
            }
            Ok(within)
        })
    })
    .await?;
    if queued {
        mail.queued();
    }
    Ok(())
}

/// Inserts a user whose password is already hashed.
pub fn create_user(
    conn: &mut DbConn,
    email: &Email,
    password_hash: &str,
    role: Role,
    email_verified: bool,
) -> Result<User, CreateUserError> {
    let now = db::now();
    let id = UserId::from(random_id());
    let row = NewUser {
        id: id.as_str(),
        email: email.as_ref(),
        password_hash,
        role: role.as_str(),
        disabled: false,
        created_at: now,
        updated_at: now,
        email_verified,
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
        email_verified,
        credential_version: 0,
    })
}

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
