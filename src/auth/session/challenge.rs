//! The code step's challenge: what a correct password leads to when TOTP is on. It is not a
//! session and carries no access; `auth::mfa` turns it and a code into one.

use crate::auth::tokens::{random_id, stored_hash};
use crate::db::mfa::{self, NewChallenge};
use crate::db::models::User;
use crate::db::{self, Pool, StoreError};

/// How long the code step may take, and how many wrong codes it allows (SPEC §9).
pub const MFA_TTL_SECS: i64 = 5 * 60;
pub const MFA_MAX_FAILURES: i64 = 5;

/// Where a sign-in waiting for its code started, which decides how it ends: cookies (the
/// sign-in page, the JSON login) or a token response (the token endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaFlow {
    Cookie,
    Token,
}

impl MfaFlow {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cookie => "cookie",
            Self::Token => "token",
        }
    }

    pub fn parse(raw: &str) -> Self {
        if raw == "token" { Self::Token } else { Self::Cookie }
    }
}

/// The half-signed-in state: a random token (only its hash is stored) that a code turns into
/// a session. It is not a session and carries no access.
/// It lives only while the account keeps the credentials of `user` (the row whose password
/// was just verified).
pub async fn open_mfa_challenge(
    pool: &Pool,
    user: &User,
    flow: MfaFlow,
    remember: bool,
    known_device: bool,
) -> Result<String, StoreError> {
    let token = random_id();
    let (hash, uid, version) = (stored_hash(&token), user.id.clone(), user.credential_version);
    db::query(pool, move |conn| {
        let challenge = NewChallenge {
            token_hash: &hash,
            user_id: &uid,
            flow: flow.as_str(),
            remember,
            known_device,
            credential_version: version,
            now: db::now(),
            ttl: MFA_TTL_SECS,
        };
        mfa::insert(conn, &challenge)
    })
    .await?;
    Ok(token)
}
