//! Checking a signed-in person's password again (re-authentication): the one check before
//! every grave step — deleting the account, changing its address or password, adding or
//! removing a credential (SPEC §9) — throttled like a sign-in.

use secrecy::SecretString;

use crate::auth::account::lifecycle::AccountError;
use crate::auth::client::ClientInfo;
use crate::auth::events::{self, EventKind};
use crate::auth::password::{Hasher, Verdict};
use crate::auth::throttle::{self, ThrottleLimits};
use crate::db::models::User;
use crate::db::{self, Pool, users};
use crate::domain::UserId;

/// What checking a signed-in person's password again needs.
#[derive(Clone, Copy)]
pub struct PasswordCheck<'a> {
    pub pool: &'a Pool,
    pub hasher: &'a Hasher,
    pub limits: &'a ThrottleLimits,
}

/// Checks a signed-in person's password again before a grave step (deleting the account,
/// changing the address, adding or removing a credential); each guess counts like a sign-in
/// attempt, before its hash. A missing password (a JSON body without it) is the same refusal
/// as a wrong one, without a hash. Returns the account as the check read it: what is issued
/// after the check records its credential version.
pub async fn reauthenticate(
    checks: PasswordCheck<'_>,
    user_id: &UserId,
    password: Option<SecretString>,
    client: &ClientInfo,
) -> Result<User, AccountError> {
    use secrecy::ExposeSecret;
    let PasswordCheck { pool, hasher, limits } = checks;
    let Some(password) = password.filter(|p| !p.expose_secret().is_empty()) else {
        return Err(AccountError::WrongPassword);
    };
    let slot = hasher.slot()?;
    let key = throttle::Key::reauth(user_id);
    throttle::attempt(pool, &key, limits.per_account).await?.map_err(AccountError::Throttled)?;
    let id = user_id.clone();
    let user = db::query(pool, move |conn| users::find_user_by_id(conn, &id))
        .await?
        .filter(|u| !u.disabled)
        .ok_or(AccountError::NotFound)?;
    if slot.verify(password, Some(user.password_hash.clone())).await? == Verdict::Mismatch {
        events::record(pool, user_id, EventKind::PasswordCheckFailed, None, client).await;
        return Err(AccountError::WrongPassword);
    }
    throttle::succeeded(pool, Some(key), None).await?;
    Ok(user)
}
