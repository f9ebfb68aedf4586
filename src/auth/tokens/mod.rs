//! Access and refresh JWTs: claims, the key ring, issuing and strict decoding
//! (RFC 8725: pin the algorithm, check every claim, trust nothing in the header).

pub mod app;
pub mod claims;
pub mod ring;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use sha2::{Digest, Sha256};

use crate::auth::tokens::claims::strict_validation;
pub use crate::auth::tokens::claims::{
    Checks, Claims, MAX_LEEWAY_SECS, MAX_TOKEN_LEN, TokenError, TokenKind,
};
use crate::auth::tokens::ring::Reloadable;
use crate::domain::{SessionId, UserId};
use crate::keys::{KeyFile, MasterKey};

/// The HS256 key made of the server secret: it signs every refresh token (they are for
/// Portcullis alone), and access tokens too when `PORTCULLIS_JWT_SECRET` is set.
struct ServerKey {
    kid: String,
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

/// How many verified access tokens are remembered: an Ed25519 check costs ~20 HS256 ones,
/// and one browser sends the same token with every request for its whole lifetime.
const VERIFIED_CAPACITY: usize = 10_000;

/// Every key the server accepts and the ones it signs with.
pub struct KeyRing {
    issuer: String,
    audience: String,
    leeway: i64,
    server: ServerKey,
    /// The asymmetric ring of the key file; `None` with `PORTCULLIS_JWT_SECRET`.
    ring: Option<Reloadable>,
    /// Derives each refresh token's successor `jti` from its own (see [`KeyRing::successor_jti`]).
    chain_key: SecretSlice<u8>,
    /// Access tokens whose signature and claims were checked, keyed by the whole token, with
    /// the `kid` that verified them: only `exp` and that the key still verifies are checked
    /// again (the guard still loads the session every time).
    verified: quick_cache::sync::Cache<Box<str>, (Arc<Claims>, Arc<str>)>,
}

impl KeyRing {
    /// HS256 for everything, with the server secret: `PORTCULLIS_JWT_SECRET`.
    /// `leeway_secs` is clamped to [`MAX_LEEWAY_SECS`].
    pub fn new(master: &MasterKey, issuer: &str, leeway_secs: i64) -> Self {
        let leeway = leeway_secs.clamp(0, MAX_LEEWAY_SECS);
        let audience = format!("{issuer}/api");
        let server = ServerKey {
            kid: master.hs256_kid(),
            encoding: EncodingKey::from_secret(master.signing_bytes()),
            decoding: DecodingKey::from_secret(master.signing_bytes()),
            validation: strict_validation(Algorithm::HS256, issuer, &audience, leeway),
        };
        Self {
            issuer: issuer.to_owned(),
            audience,
            leeway,
            server,
            ring: None,
            chain_key: master.derive("portcullis refresh chain v1"),
            verified: quick_cache::sync::Cache::new(VERIFIED_CAPACITY),
        }
    }

    /// Access tokens signed by the key file's active key of `alg` (the ring is reread from
    /// `path` by [`KeyRing::reload`]); refresh tokens and everything derived keep the file's
    /// secret.
    pub fn from_file(
        file: &KeyFile,
        alg: crate::keys::Alg,
        path: &std::path::Path,
        overlap: i64,
        issuer: &str,
        leeway_secs: i64,
    ) -> anyhow::Result<Self> {
        let mut ring = Self::new(&file.master, issuer, leeway_secs);
        let checks =
            Checks { issuer: ring.issuer.clone(), audience: ring.audience.clone(), leeway: ring.leeway };
        ring.ring = Some(Reloadable::new(file, alg, path, overlap, checks)?);
        Ok(ring)
    }

    /// Rereads the key file if it changed (a rotation on any host). `Ok(false)`: unchanged,
    /// or no key file (`PORTCULLIS_JWT_SECRET`).
    pub fn reload(&self) -> anyhow::Result<bool> {
        self.ring.as_ref().map_or(Ok(false), Reloadable::reload)
    }

    /// The public keys other services verify access tokens with (none for HS256).
    pub fn jwks(&self, now: i64) -> JwkSet {
        JwkSet { keys: self.ring.as_ref().map(|r| r.published(now)).unwrap_or_default() }
    }

    /// How long a JWKS may be cached: well inside the time a retired key keeps verifying,
    /// so a verifier never holds a set that lacks the key of a live token for long.
    pub fn jwks_max_age(&self) -> i64 {
        self.ring.as_ref().map_or(300, |r| (r.overlap / 4).clamp(10, 300))
    }

    /// A new token with a random `jti`, valid from `now` for `ttl_secs`.
    pub fn issue(
        &self,
        kind: TokenKind,
        user_id: &UserId,
        session_id: &SessionId,
        role: Option<&str>,
        now: i64,
        ttl_secs: i64,
    ) -> anyhow::Result<Issued> {
        let claims = self.claims(user_id, session_id, role, random_id(), now, now + ttl_secs);
        self.sign(kind, claims)
    }

    /// The claims of a token for this issuer.
    pub fn claims(
        &self,
        user_id: &UserId,
        session_id: &SessionId,
        role: Option<&str>,
        jti: String,
        iat: i64,
        exp: i64,
    ) -> Claims {
        Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_string(),
            exp,
            nbf: iat,
            iat,
            jti,
            sid: session_id.to_string(),
            role: role.map(str::to_owned),
        }
    }

    /// Signs exactly these claims. Refresh tokens use HS256, which is deterministic, so the
    /// same inputs give the same token: that is how a refresh inside the grace window hands
    /// out the very successor the first refresh produced, instead of a second live one.
    pub fn sign(&self, kind: TokenKind, claims: Claims) -> anyhow::Result<Issued> {
        let token = match (&self.ring, kind) {
            (Some(ring), TokenKind::Access) => ring.sign(kind.typ(), &claims)?,
            _ => {
                let mut header = Header::new(Algorithm::HS256);
                header.typ = Some(kind.typ().to_owned());
                header.kid = Some(self.server.kid.clone());
                jsonwebtoken::encode(&header, &claims, &self.server.encoding)?
            }
        };
        Ok(Issued { token: SecretString::from(token), jti: claims.jti, expires_at: claims.exp })
    }

    /// The `jti` of the refresh token that replaces the one with `jti`: HMAC(chain key, jti).
    /// Unpredictable without the server key, and the same on every instance.
    pub fn successor_jti(&self, jti: &str) -> String {
        URL_SAFE_NO_PAD
            .encode(&crate::keys::hmac_sha256(self.chain_key.expose_secret(), jti.as_bytes())[..16])
    }

    pub fn decode(&self, token: &str, kind: TokenKind, now: i64) -> Result<Arc<Claims>, TokenError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        if kind == TokenKind::Access
            && let Some((claims, kid)) = self.verified.get(token)
        {
            if !self.key_still_verifies(&kid, now) {
                return Err(TokenError::UnknownKey);
            }
            return if claims.exp + self.leeway < now { Err(TokenError::Expired) } else { Ok(claims) };
        }
        if !segments_are_utf8(token) {
            return Err(TokenError::Malformed);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if names_its_own_key(&header) {
            return Err(TokenError::BadHeader);
        }
        if header.typ.as_deref() != Some(kind.typ()) {
            return Err(TokenError::WrongType);
        }
        let kid = header.kid.as_deref().ok_or(TokenError::UnknownKey)?;
        let claims = if kid == self.server.kid {
            if header.alg != Algorithm::HS256 {
                return Err(TokenError::BadHeader);
            }
            let claims = verify(token, &self.server.decoding, &self.server.validation)?;
            if kind == TokenKind::Access && !self.ring.as_ref().is_none_or(|r| r.accepts_legacy(claims.iat)) {
                return Err(TokenError::UnknownKey);
            }
            claims
        } else {
            // Refresh tokens are signed with the server secret only.
            let ring =
                self.ring.as_ref().filter(|_| kind == TokenKind::Access).ok_or(TokenError::UnknownKey)?;
            ring.verify(kid, header.alg, |decoding, validation| verify(token, decoding, validation))?
        };
        if claims.iat > now + self.leeway || claims.sub.is_empty() || claims.sid.is_empty() {
            return Err(TokenError::BadClaims);
        }
        let claims = Arc::new(claims);
        if kind == TokenKind::Access {
            self.verified.insert(token.into(), (claims.clone(), Arc::from(kid)));
        }
        Ok(claims)
    }

    fn key_still_verifies(&self, kid: &str, now: i64) -> bool {
        kid == self.server.kid || self.ring.as_ref().is_some_and(|ring| ring.still_verifies(kid, now))
    }
}

/// Keys or key locations named by the token itself are an attacker's choice (RFC 8725 §3.10);
/// so are extensions the verifier must understand (`crit`).
fn names_its_own_key(header: &Header) -> bool {
    header.jwk.is_some()
        || header.jku.is_some()
        || header.x5u.is_some()
        || header.x5c.is_some()
        || header.crit.is_some()
}

/// Checks the signature and every claim jsonwebtoken knows.
fn verify(token: &str, key: &DecodingKey, validation: &Validation) -> Result<Claims, TokenError> {
    jsonwebtoken::decode::<Claims>(token, key, validation).map(|data| data.claims).map_err(token_error)
}

/// Why jsonwebtoken refused a token, as far as callers care.
fn token_error(e: jsonwebtoken::errors::Error) -> TokenError {
    match e.kind() {
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
            TokenError::Malformed
        }
        _ => TokenError::BadClaims,
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

/// 128 random bits, base64url: token ids and session ids.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database stores instead of a secret a client presents (a refresh token's `jti`,
/// an `mfa_token`, a mailed link's token): a leaked table must not yield anything usable.
pub fn stored_hash(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests;
