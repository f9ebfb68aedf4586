//! Access and refresh JWTs: claims, the key ring, issuing and strict decoding
//! (RFC 8725: pin the algorithm, check every claim, trust nothing in the header).

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::keys::MasterKey;
use crate::domain::{SessionId, UserId};

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

struct SigningKey {
    alg: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

/// A freshly signed token and what the database needs to know about it.
pub struct Issued {
    pub token: SecretString,
    pub jti: String,
    pub expires_at: i64,
}

/// Every key the server accepts, by `kid`, and the one it signs with.
pub struct KeyRing {
    keys: HashMap<String, SigningKey>,
    current_kid: String,
    issuer: String,
    audience: String,
    leeway: i64,
    /// Derives each refresh token's successor `jti` from its own (see [`KeyRing::successor_jti`]).
    chain_key: SecretSlice<u8>,
}

impl KeyRing {
    /// `leeway_secs` is clamped to [`MAX_LEEWAY_SECS`].
    pub fn new(master: &MasterKey, issuer: &str, leeway_secs: i64) -> Self {
        let leeway = leeway_secs.clamp(0, MAX_LEEWAY_SECS);
        let audience = format!("{issuer}/api");
        let key = SigningKey {
            alg: Algorithm::HS256,
            encoding: EncodingKey::from_secret(master.signing_bytes()),
            decoding: DecodingKey::from_secret(master.signing_bytes()),
            validation: strict_validation(Algorithm::HS256, issuer, &audience, leeway),
        };
        let kid = format!("hs256-{}", master.id);
        Self {
            keys: HashMap::from([(kid.clone(), key)]),
            current_kid: kid,
            issuer: issuer.to_owned(),
            audience,
            leeway,
            chain_key: master.derive("portcullis refresh chain v1"),
        }
    }

    /// A new token with a random `jti`, valid from `now` for `ttl_secs`.
    pub fn issue(
        &self,
        kind: TokenKind,
        user_id: &UserId,
        session_id: &SessionId,
        now: i64,
        ttl_secs: i64,
    ) -> anyhow::Result<Issued> {
        self.sign(kind, user_id, session_id, random_id(), now, now + ttl_secs)
    }

    /// Signs exactly these claims. HS256 is deterministic, so the same inputs give the same
    /// token: that is how a refresh inside the grace window hands out the very successor
    /// the first refresh produced, instead of a second live one.
    pub fn sign(
        &self,
        kind: TokenKind,
        user_id: &UserId,
        session_id: &SessionId,
        jti: String,
        iat: i64,
        exp: i64,
    ) -> anyhow::Result<Issued> {
        let key = self.keys.get(&self.current_kid).ok_or_else(|| anyhow::anyhow!("current key missing"))?;
        let mut header = Header::new(key.alg);
        header.typ = Some(kind.typ().to_owned());
        header.kid = Some(self.current_kid.clone());
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_string(),
            exp,
            nbf: iat,
            iat,
            jti,
            sid: session_id.to_string(),
        };
        let token = jsonwebtoken::encode(&header, &claims, &key.encoding)?;
        Ok(Issued { token: SecretString::from(token), jti: claims.jti, expires_at: claims.exp })
    }

    /// The `jti` of the refresh token that replaces the one with `jti`: HMAC(chain key, jti).
    /// Unpredictable without the server key, and the same on every instance.
    pub fn successor_jti(&self, jti: &str) -> String {
        URL_SAFE_NO_PAD
            .encode(&super::keys::hmac_sha256(self.chain_key.expose_secret(), jti.as_bytes())[..16])
    }

    pub fn decode(&self, token: &str, kind: TokenKind, now: i64) -> Result<Claims, TokenError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        if !segments_are_utf8(token) {
            return Err(TokenError::Malformed);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        // Keys or key locations named by the token itself are an attacker's choice.
        if header.jwk.is_some()
            || header.jku.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
            || header.crit.is_some()
        {
            return Err(TokenError::BadHeader);
        }
        let kid = header.kid.as_deref().ok_or(TokenError::UnknownKey)?;
        let key = self.keys.get(kid).ok_or(TokenError::UnknownKey)?;
        if header.alg != key.alg {
            return Err(TokenError::BadHeader);
        }
        if header.typ.as_deref() != Some(kind.typ()) {
            return Err(TokenError::WrongType);
        }
        let data =
            jsonwebtoken::decode::<Claims>(token, &key.decoding, &key.validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature => TokenError::Expired,
                    ErrorKind::InvalidSignature => TokenError::BadSignature,
                    ErrorKind::InvalidToken
                    | ErrorKind::Base64(_)
                    | ErrorKind::Json(_)
                    | ErrorKind::Utf8(_) => TokenError::Malformed,
                    _ => TokenError::BadClaims,
                }
            })?;
        if data.claims.iat > now + self.leeway || data.claims.sub.is_empty() || data.claims.sid.is_empty() {
            return Err(TokenError::BadClaims);
        }
        Ok(data.claims)
    }
}

/// RFC 8725 §3.7: header and claims must be UTF-8. serde skips unknown fields without
/// checking their bytes, so a signed token could smuggle invalid UTF-8 past the JSON parser.
fn segments_are_utf8(token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(header), Some(claims)) = (parts.next(), parts.next()) else { return false };
    [header, claims]
        .iter()
        .all(|part| URL_SAFE_NO_PAD.decode(part).is_ok_and(|bytes| std::str::from_utf8(&bytes).is_ok()))
}

/// jsonwebtoken's defaults are lax (60 s leeway; `nbf`, `iss`, `aud` unchecked unless
/// configured): every check is switched on here explicitly.
fn strict_validation(alg: Algorithm, issuer: &str, audience: &str, leeway: i64) -> Validation {
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

/// 128 random bits, base64url: token ids and session ids.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database stores instead of a refresh token's `jti`: a leaked table must not
/// yield anything a client could present.
pub fn hash_jti(jti: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(jti.as_bytes()))
}

#[cfg(test)]
#[path = "tokens_tests.rs"]
mod tests;
