//! What a token says and what it is checked against: the claims, the two kinds, why one is
//! refused, and the strict validation every key uses (RFC 8725).

use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Serialize};

/// Clock skew tolerated on `exp`, `nbf` and `iat` at most (SPEC §6).
pub const MAX_LEEWAY_SECS: i64 = 30;
/// No legitimate token of ours comes near this; anything longer is refused unread.
pub const MAX_TOKEN_LEN: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    /// RFC 9068 names access tokens `at+jwt`; refresh tokens get their own type so one
    /// can never stand in for the other.
    pub fn typ(self) -> &'static str {
        match self {
            TokenKind::Access => "at+jwt",
            TokenKind::Refresh => "rt+jwt",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
    pub sid: String,
    /// The user's role when the access token was signed, for services that verify tokens
    /// on their own (Portcullis itself reads the role from the database on every request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// Why a token was refused. Callers only distinguish "expired" (worth a refresh) from
/// everything else; the detail goes to the debug log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token header is not acceptable")]
    BadHeader,
    #[error("the token was signed with an unknown key")]
    UnknownKey,
    #[error("the token is of the wrong type")]
    WrongType,
    #[error("the token signature is invalid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token claims are invalid")]
    BadClaims,
}

/// What every token of this issuer is checked against, whichever key signed it.
#[derive(Clone)]
pub struct Checks {
    pub issuer: String,
    pub audience: String,
    pub leeway: i64,
}

impl Checks {
    pub fn validation(&self, alg: Algorithm) -> Validation {
        strict_validation(alg, &self.issuer, &self.audience, self.leeway)
    }
}

/// jsonwebtoken's defaults are lax (60 s leeway; `nbf`, `iss`, `aud` unchecked unless
/// configured): every check is switched on here explicitly.
pub fn strict_validation(alg: Algorithm, issuer: &str, audience: &str, leeway: i64) -> Validation {
    let mut v = Validation::new(alg);
    v.algorithms = vec![alg];
    v.leeway = leeway.unsigned_abs();
    v.validate_exp = true;
    v.validate_nbf = true;
    v.validate_aud = true;
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    v.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    v
}
