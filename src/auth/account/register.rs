//! Registering an account (open, invite-only or verified by a mailed link) and creating one
//! outright (the CLI, an administrator) — shared by the pages, the API and the CLI.

use secrecy::SecretString;

use crate::auth::account::lifecycle::PasswordSetting;
use crate::auth::account::links::{self, Owner};
use crate::auth::account::verification;
use crate::auth::client::ClientInfo;
use crate::auth::password::Busy;
use crate::auth::throttle::{self, Throttled};
use crate::auth::tokens::random_id;
use crate::config::Registration;
use crate::db::models::{NewUser, User};
use crate::db::users::{self, CreateUserError};
use crate::db::{self, DbConn, Pool, StoreError, outbox};
use crate::domain::{Email, NewPassword, Role, UserId};
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
