//! The tokens an OpenID Connect client gets (SPEC §11): its access tokens (RFC 9068, with an
//! audience of their own so that nothing which takes Portcullis's first-party tokens takes
//! them), and ID tokens, signed with the ring's key of the client's algorithm. Both need the
//! key ring of the key file: in HS256 mode there is no provider.

use jsonwebtoken::Validation;
use serde::{Deserialize, Serialize};

use super::claims::TokenError;
use super::{KeyRing, MAX_TOKEN_LEN, segments_are_utf8};
use crate::keys::Alg;

/// An app's access token: never the `/api` audience, never a `role`, never a `sid`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppClaims {
    pub iss: String,
    /// `{issuer}/apps`.
    pub aud: String,
    /// The user id, or the client id for `client_credentials`.
    pub sub: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// What issued it (`oauth_tokens.id`), checked at each use; none for `client_credentials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
}

/// What an `id_token_hint` says that logout needs: whose session, for which client.
#[derive(Debug, Clone, Deserialize)]
pub struct IdTokenHint {
    pub sub: String,
    pub aud: String,
    /// The Portcullis session the person signed in to the app from.
    #[serde(default)]
    pub sid: Option<String>,
}

/// RFC 9068 §2.1: `at+jwt`, as for first-party access tokens (the audience tells them apart).
const APP_TYP: &str = "at+jwt";
/// OpenID Connect ID tokens carry no type of their own.
const ID_TYP: &str = "JWT";

impl KeyRing {
    /// Whether this ring can sign for apps: a key file, not `PORTCULLIS_JWT_SECRET`.
    pub fn provider_on(&self) -> bool {
        self.ring.is_some()
    }

    /// The issuer every token of this ring names (`PORTCULLIS_PUBLIC_URL`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience of apps' access tokens: `{issuer}/apps`.
    pub fn apps_audience(&self) -> String {
        format!("{}/apps", self.issuer)
    }

    /// Signs an app's access token with the access tokens' key.
    pub fn sign_app(&self, claims: &AppClaims) -> anyhow::Result<String> {
        let ring = self.ring.as_ref().ok_or_else(|| anyhow::anyhow!("no key ring: the provider is off"))?;
        ring.sign_as(ring.access_alg(), APP_TYP, claims)
    }

    /// Signs an ID token with the ring's active key of `alg`.
    pub fn sign_id_token(&self, alg: Alg, claims: &impl Serialize) -> anyhow::Result<String> {
        let ring = self.ring.as_ref().ok_or_else(|| anyhow::anyhow!("no key ring: the provider is off"))?;
        ring.sign_as(alg, ID_TYP, claims)
    }

    /// Decodes an app's access token as strictly as a first-party one, against its own audience.
    pub fn decode_app(&self, token: &str, now: i64) -> Result<AppClaims, TokenError> {
        let audience = self.apps_audience();
        let claims: AppClaims = self.decode_ring(token, APP_TYP, |v| v.set_audience(&[&audience]))?;
        if claims.iat > now + self.leeway || claims.sub.is_empty() || claims.client_id.is_empty() {
            return Err(TokenError::BadClaims);
        }
        Ok(claims)
    }

    /// Reads an `id_token_hint` (OpenID RP-Initiated Logout §2): signed by this issuer's ring,
    /// for `client_id` when given; an expired one is fine.
    pub fn decode_id_token_hint(&self, token: &str) -> Result<IdTokenHint, TokenError> {
        self.decode_ring(token, ID_TYP, |v| {
            v.validate_aud = false;
            v.validate_exp = false;
            v.validate_nbf = false;
            v.set_required_spec_claims(&["iss", "aud", "sub"]);
        })
    }

    /// Verifies a token signed by one of the ring's keys, with the ring's strict validation
    /// changed by `adjust`.
    fn decode_ring<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
        adjust: impl Fn(&mut Validation),
    ) -> Result<T, TokenError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN || !segments_are_utf8(token) {
            return Err(TokenError::Malformed);
        }
        let ring = self.ring.as_ref().ok_or(TokenError::UnknownKey)?;
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if super::names_its_own_key(&header) {
            return Err(TokenError::BadHeader);
        }
        if header.typ.as_deref() != Some(typ) {
            return Err(TokenError::WrongType);
        }
        let kid = header.kid.as_deref().ok_or(TokenError::UnknownKey)?;
        ring.verify(kid, header.alg, |decoding, validation| {
            let mut validation = validation.clone();
            adjust(&mut validation);
            jsonwebtoken::decode::<T>(token, decoding, &validation)
                .map(|data| data.claims)
                .map_err(super::token_error)
        })
    }
}
