//! Which account a provider's identity signs in to (SPEC §13, binding): linking never takes
//! over an account.
//!
//! - An identity already linked (by the provider's issuer and `sub`, never a name or an email)
//!   signs in to its account — if that account is enabled.
//! - One not linked whose email belongs to an account does **not** sign in and does not link:
//!   the person signs in to that account first and connects the provider from the account page.
//! - Without a matching account, a new account is made only when registration allows it and the
//!   provider says `email_verified: true` (nobody can pre-claim an address); otherwise the
//!   person registers normally.
//! - A connection from the account page links the identity to the signed-in account, if the
//!   account still has the credentials it had when the connection began (SPEC §9).

use super::flow::Verified;
use crate::auth::client::ClientInfo;
use crate::auth::events::{self, EventKind};
use crate::db::models::User;
use crate::db::upstream::{self as store, LinkRow};
use crate::db::users::{self, CreateUserError};
use crate::db::{self, Pool, StoreError};
use crate::domain::{Email, Role, UserId};

/// What a stored hash is for an account made through a provider: no password. It is no PHC
/// string, so no password ever matches it.
pub const NO_PASSWORD: &str = "!no-password (signed up through a provider)";

/// Where a provider's identity leads.
#[derive(Debug)]
pub enum Outcome {
    /// Sign in to this account (linked before, or just made).
    SignIn { user: Box<User>, new_account: bool },
    /// The address belongs to an account this identity is not linked to.
    SignInFirst { email: String },
    /// No account, and none may be made from this identity (closed registration, or an
    /// address the provider did not verify).
    RegisterNormally { why: &'static str },
    /// The signed-in person connected the provider.
    Connected { user_id: String },
    /// The identity is linked to another account already.
    LinkedElsewhere,
    /// The account is disabled, or a connection outlived a credential change.
    Refused,
}

/// Decides, and links or makes the account where the rules say so.
pub async fn resolve(
    pool: &Pool,
    verified: &Verified,
    registration_open: bool,
    client: &ClientInfo,
) -> Result<Outcome, StoreError> {
    if let Some(user_id) = verified.login.user_id.clone() {
        return connect(pool, verified, user_id, client).await;
    }
    let (issuer, subject) = (verified.issuer.clone(), verified.subject.clone());
    let email = verified.email.clone().unwrap_or_default();
    let linked = db::query(pool, move |conn| {
        let Some(link) = store::find_link(conn, &issuer, &subject)? else { return Ok(None) };
        store::touch_link(conn, &issuer, &subject, &email, db::now())?;
        users::find_user_by_id(conn, &UserId::from(link.user_id))
    })
    .await?;
    if let Some(user) = linked {
        return Ok(if user.disabled {
            Outcome::Refused
        } else {
            Outcome::SignIn { user: Box::new(user), new_account: false }
        });
    }
    let Some(address) = verified.email.as_deref().and_then(|e| Email::try_from(e).ok()) else {
        return Ok(Outcome::RegisterNormally { why: "the provider gave no usable email address" });
    };
    let lookup = address.to_string();
    if db::query(pool, move |conn| users::find_user_by_email(conn, &lookup)).await?.is_some() {
        return Ok(Outcome::SignInFirst { email: address.to_string() });
    }
    if !registration_open {
        return Ok(Outcome::RegisterNormally { why: "registration is closed here" });
    }
    if !verified.email_verified {
        return Ok(Outcome::RegisterNormally { why: "the provider has not verified that address" });
    }
    let link = new_link(verified, "");
    let made = db::run(pool, move |conn| {
        db::write_transaction(conn, |conn| -> Result<Option<User>, StoreError> {
            let user = match crate::auth::account::register::create_user(
                conn,
                &address,
                NO_PASSWORD,
                Role::User,
                true,
            ) {
                Ok(user) => user,
                Err(CreateUserError::EmailTaken) => return Ok(None),
                Err(CreateUserError::Store(e)) => return Err(e),
                Err(CreateUserError::Unexpected(e)) => {
                    return Err(StoreError::Unavailable(format!("the account could not be made: {e:#}")));
                }
            };
            let link = LinkRow { user_id: user.id.to_string(), ..link };
            if !store::insert_link(conn, &link)? {
                return Err(StoreError::Unavailable("the identity was linked meanwhile".into()));
            }
            Ok(Some(user))
        })
    })
    .await?;
    Ok(match made {
        Some(user) => {
            let detail = format!("signed up through {}", verified.provider);
            events::record_detailed(pool, &user.id, EventKind::ProviderLinked, detail, client).await;
            Outcome::SignIn { user: Box::new(user), new_account: true }
        }
        None => Outcome::SignInFirst { email: verified.email.clone().unwrap_or_default() },
    })
}

async fn connect(
    pool: &Pool,
    verified: &Verified,
    user_id: String,
    client: &ClientInfo,
) -> Result<Outcome, StoreError> {
    let version = verified.login.credential_version;
    let link = new_link(verified, &user_id);
    let (uid, issuer, subject) = (user_id.clone(), verified.issuer.clone(), verified.subject.clone());
    let linked = db::query(pool, move |conn| {
        let live = users::live_credential_version(conn, &UserId::from(uid.clone()))?;
        if live.is_none() || live != version {
            return Ok(Err(Outcome::Refused));
        }
        if store::insert_link(conn, &link)? {
            return Ok(Ok(true));
        }
        Ok(match store::find_link(conn, &issuer, &subject)? {
            Some(existing) if existing.user_id == uid => Ok(false),
            _ => Err(Outcome::LinkedElsewhere),
        })
    })
    .await?;
    match linked {
        Err(outcome) => Ok(outcome),
        Ok(new) => {
            if new {
                let detail = format!("{} connected", verified.provider);
                events::record_detailed(
                    pool,
                    &UserId::from(user_id.clone()),
                    EventKind::ProviderLinked,
                    detail,
                    client,
                )
                .await;
            }
            Ok(Outcome::Connected { user_id })
        }
    }
}

fn new_link(verified: &Verified, user_id: &str) -> LinkRow {
    let now = db::now();
    LinkRow {
        issuer: verified.issuer.clone(),
        subject: verified.subject.clone(),
        user_id: user_id.to_owned(),
        provider: verified.provider.clone(),
        email: verified.email.clone().unwrap_or_default(),
        created_at: now,
        last_used_at: now,
    }
}

/// Why a provider was not disconnected.
#[derive(Debug, PartialEq, Eq)]
pub enum Disconnect {
    /// Done: the provider's name, for the notice.
    Done(String),
    /// It is the account's only way to sign in (no password, no passkey, no other provider).
    LastWay,
    NotFound,
}

/// Unlinks one of the account's identities, unless it is the last way in.
pub async fn disconnect(
    pool: &Pool,
    user_id: &UserId,
    issuer: &str,
    subject: &str,
    client: &ClientInfo,
) -> Result<Disconnect, StoreError> {
    let (uid, issuer, subject) = (user_id.to_string(), issuer.to_owned(), subject.to_owned());
    let done = db::run(pool, move |conn| {
        db::write_transaction(conn, |conn| -> Result<Disconnect, StoreError> {
            let links = store::links_of(conn, &uid)?;
            let Some(link) = links.iter().find(|l| l.issuer == issuer && l.subject == subject) else {
                return Ok(Disconnect::NotFound);
            };
            let user = users::find_user_by_id(conn, &UserId::from(uid.clone()))?;
            let has_password = user.is_some_and(|u| u.password_hash.expose() != NO_PASSWORD);
            let has_passkey =
                !crate::db::passkeys::list_for_user(conn, &UserId::from(uid.clone()))?.is_empty();
            if !has_password && !has_passkey && links.len() == 1 {
                return Ok(Disconnect::LastWay);
            }
            store::delete_link(conn, &uid, &issuer, &subject)?;
            Ok(Disconnect::Done(link.provider.clone()))
        })
    })
    .await?;
    if let Disconnect::Done(provider) = &done {
        let detail = format!("{provider} disconnected");
        events::record_detailed(pool, user_id, EventKind::ProviderUnlinked, detail, client).await;
    }
    Ok(done)
}
