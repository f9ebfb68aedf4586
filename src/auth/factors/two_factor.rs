//! The second factor an account owner manages: turning TOTP off (with the password), new
//! recovery codes, using a code — at the second sign-in step, or anywhere else a code is asked
//! for — and an administrator's reset. Turning it on is `auth::totp_enrolment`.

use secrecy::SecretString;

use crate::auth::account::lifecycle::AccountError;
use crate::auth::account::reauth::{self, PasswordCheck};
use crate::auth::client::ClientInfo;
use crate::auth::events::{self, EventKind};
use crate::auth::factors::totp::{self, Code, TotpSealer};
use crate::auth::identity::Actor;
use crate::auth::throttle::{self, Throttled};
use crate::db::{self, Pool, StoreError, factors, passkeys, users};
use crate::domain::UserId;
use crate::errors::ApiError;
use crate::mail::{Mail, compose};

/// What the second factor needs, built once at startup.
pub struct TwoFactor {
    pub sealer: TotpSealer,
    /// How authenticator apps name the account: the public host.
    pub issuer: String,
    /// `None` behind an IP public URL (WebAuthn refuses IP addresses).
    pub passkeys: Option<crate::auth::factors::webauthn::Passkeys>,
}

#[derive(Debug, thiserror::Error)]
pub enum FactorError {
    #[error("two-factor sign-in is already on")]
    AlreadyOn,
    #[error("no authenticator app is waiting to be confirmed")]
    NotPending,
    #[error("two-factor sign-in is off")]
    NotOn,
    #[error("that code is not right")]
    WrongCode,
    #[error("too many wrong codes")]
    Throttled(Throttled),
    /// Turning TOTP off: the password check failed (or was throttled).
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for FactorError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(e.into())
    }
}

/// The one place a factor change's failure becomes an HTTP answer (pages translate from it).
impl From<FactorError> for ApiError {
    fn from(e: FactorError) -> Self {
        match e {
            FactorError::AlreadyOn => Self::Conflict {
                code: "totp_already_on",
                message: "An authenticator app is already on: turn it off first to enrol another.",
            },
            FactorError::NotPending => Self::Conflict {
                code: "totp_not_pending",
                message: "There is no authenticator app waiting to be confirmed: start again.",
            },
            FactorError::NotOn => Self::Conflict {
                code: "totp_not_on",
                message: "Recovery codes come with an authenticator app: turn that on first.",
            },
            FactorError::WrongCode => Self::unprocessable(
                "invalid_code",
                "code: that is not the current code of your authenticator app. Check the time on your phone.",
            ),
            FactorError::Throttled(t) => Self::TooManyRequests { retry_after_secs: t.retry_after_secs },
            FactorError::Account(e) => e.into(),
            FactorError::Store(e) => e.into(),
            FactorError::Unexpected(e) => e.into(),
        }
    }
}

/// A pending (or re-shown) TOTP secret, in every form a person may need it.
pub struct Enrolment {
    /// Base32, for typing into an app.
    pub secret: String,
    pub otpauth_url: String,
    pub qr_svg: String,
}

/// The code step's throttle key: guesses at one account's codes, from anywhere.
pub fn code_key(user_id: &UserId) -> throttle::Key {
    throttle::Key::second_factor(user_id)
}

/// Turns TOTP off (with the password, checked like a sign-in): the secret and the recovery
/// codes are deleted, and the owner is told by mail.
pub async fn disable_totp(
    checks: PasswordCheck<'_>,
    mail: &Mail,
    user_id: &UserId,
    password: SecretString,
    client: &ClientInfo,
) -> Result<(), FactorError> {
    let pool = checks.pool;
    let user = reauth::reauthenticate(checks, user_id, Some(password), client).await?;
    let uid = user_id.clone();
    let was_on = db::query(pool, move |conn| factors::delete_totp(conn, &uid)).await?;
    if was_on {
        events::record(pool, user_id, EventKind::TotpDisabled, None, client).await;
        let what = "Two-factor sign-in with an authenticator app was turned off for your account.";
        crate::auth::notice::notify(pool, mail, compose::factor_changed(mail, &user.email, what)).await;
    }
    Ok(())
}

/// Replaces the recovery codes with ten new ones (with the password, checked like a sign-in):
/// the old ones stop working at once. Only while TOTP is on.
pub async fn renew_recovery_codes(
    checks: PasswordCheck<'_>,
    user_id: &UserId,
    password: SecretString,
    client: &ClientInfo,
) -> Result<Vec<String>, FactorError> {
    let pool = checks.pool;
    reauth::reauthenticate(checks, user_id, Some(password), client).await?;
    let (codes, hashes) = totp::new_recovery_codes();
    let uid = user_id.clone();
    let renewed = db::query(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            if !factors::totp_is_on(conn, &uid)? {
                return Ok(false);
            }
            factors::replace_recovery_codes(conn, &uid, &hashes, db::now())?;
            Ok(true)
        })
    })
    .await?;
    if !renewed {
        return Err(FactorError::NotOn);
    }
    events::record(pool, user_id, EventKind::RecoveryCodesRenewed, None, client).await;
    Ok(codes)
}

/// What a correct code was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsedCode {
    Totp,
    Recovery,
}

/// Uses a code of the user's: a TOTP code of a step not used before (so a code works once, even
/// within its 30 s), or an unused recovery code. `None`: wrong, used, or no factor.
pub async fn use_code(
    pool: &Pool,
    sealer: &TotpSealer,
    user_id: &UserId,
    code: &SecretString,
) -> Result<Option<UsedCode>, StoreError> {
    match Code::parse(code) {
        Code::Totp(digits) => {
            let uid = user_id.clone();
            let Some(row) = db::query(pool, move |conn| factors::find_totp(conn, &uid)).await? else {
                return Ok(None);
            };
            let step =
                match sealer.open(user_id, &row.secret_sealed).and_then(|s| totp::generator(&s, "-", "-")) {
                    Ok(generator) => totp::matching_step(&generator, &digits, db::now()),
                    Err(e) => {
                        log::error!("cannot check a TOTP code of user {user_id}: {e:#}");
                        None
                    }
                };
            let Some(step) = step.filter(|s| *s > row.last_step) else {
                return Ok(None);
            };
            let uid = user_id.clone();
            let used = db::query(pool, move |conn| factors::use_totp_step(conn, &uid, step)).await?;
            Ok(used.then_some(UsedCode::Totp))
        }
        Code::Recovery(hash) => {
            let uid = user_id.clone();
            let used =
                db::query(pool, move |conn| factors::use_recovery_code(conn, &uid, &hash, db::now())).await?;
            Ok(used.then_some(UsedCode::Recovery))
        }
        Code::Malformed => Ok(None),
    }
}

/// Which factors an account has on (the account and admin pages show it).
#[derive(Debug, Clone, Copy, Default)]
pub struct Factors {
    pub totp: bool,
    pub totp_pending: bool,
    pub recovery_codes_left: i64,
    pub passkeys: i64,
}

pub async fn factors_of(pool: &Pool, user_id: &UserId) -> Result<Factors, StoreError> {
    let uid = user_id.clone();
    db::query(pool, move |conn| {
        let row = factors::find_totp(conn, &uid)?;
        Ok(Factors {
            totp: row.as_ref().is_some_and(|r| r.confirmed_at.is_some()),
            totp_pending: row.as_ref().is_some_and(|r| r.confirmed_at.is_none()),
            recovery_codes_left: factors::unused_recovery_codes(conn, &uid)?,
            passkeys: db::passkeys::count_for_user(conn, &uid)?,
        })
    })
    .await
}

/// An administrator's reset: every second factor of the account (TOTP, recovery codes,
/// passkeys) is gone, which is a security event naming them and a mail to the owner.
pub async fn reset(
    pool: &Pool,
    mail: &Mail,
    user_id: &UserId,
    by: Actor<'_>,
    client: &ClientInfo,
) -> Result<(), AccountError> {
    let uid = user_id.clone();
    let email = db::run(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let email = users::find_user_by_id(conn, &uid)?.ok_or(AccountError::NotFound)?.email;
            factors::delete_totp(conn, &uid)?;
            passkeys::delete_all(conn, &uid)?;
            Ok::<_, AccountError>(email)
        })
    })
    .await?;
    events::record_detailed(pool, user_id, EventKind::SecondFactorReset, by.by(), client).await;
    let what = format!(
        "Every second factor of your account (authenticator app, recovery codes, passkeys) was reset {}.",
        by.by()
    );
    crate::auth::notice::notify(pool, mail, compose::factor_changed(mail, &email, &what)).await;
    Ok(())
}
