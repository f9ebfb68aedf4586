//! What an app gets from the token endpoint (SPEC §11): an access token of its own audience
//! (RFC 9068: `client_id`, `scope`, the `gid` checked at each use, no `role`), an ID token
//! (OpenID Connect Core §2) with the `openid` scope, and a refresh token with `offline_access`.

use serde::Serialize;

use super::scope::Scopes;
use crate::auth::session::sign_in::Sessions;
use crate::auth::tokens::app::AppClaims;
use crate::auth::tokens::random_id;
use crate::db::clients::ClientRow;
use crate::db::oauth::TokenRow;
use crate::db::{self, StoreError, users};
use crate::keys::Alg;

/// An RFC 6749 §5.2 refusal.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("{1}")]
    Refused(&'static str, String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// A token answer (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenSet {
    pub access_token: String,
    /// `Bearer`.
    pub token_type: &'static str,
    pub expires_in: i64,
    /// The granted scopes, space-separated.
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// `{id}.{secret}`, with `offline_access` only; each use gives a new one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// The claims of an ID token.
#[derive(Debug, Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    azp: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    amr: Vec<&'a str>,
    /// The Portcullis session the person authorized from (for logout's `id_token_hint`).
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    /// With `profile`: the account's address is its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    preferred_username: Option<&'a str>,
}

/// What to issue: for one redeemed code or one refresh.
pub struct Issue<'a> {
    pub client: &'a ClientRow,
    pub user_id: &'a str,
    pub token: &'a TokenRow,
    /// The authorization request's `nonce` (first issue only).
    pub nonce: Option<&'a str>,
    /// The Portcullis session of the authorization (first issue only).
    pub session_id: Option<&'a str>,
    /// The refresh token's `jti`, with `offline_access`.
    pub refresh_jti: Option<&'a str>,
    pub now: i64,
}

/// Signs the answer for `issue`: the account is read afresh for the ID token's claims.
pub async fn issue(s: &Sessions, issue: Issue<'_>) -> Result<TokenSet, ExchangeError> {
    let uid = issue.user_id.to_owned().into();
    let user = db::query_read(&s.pool, move |conn| users::find_user_by_id(conn, &uid)).await?;
    let scopes = Scopes::stored(&issue.token.scope);
    let keys = &s.keys;
    let ttl = s.lifetimes.access_secs();
    let access = AppClaims {
        iss: keys.issuer().to_owned(),
        aud: keys.apps_audience(),
        sub: issue.user_id.to_owned(),
        exp: issue.now + ttl,
        nbf: issue.now,
        iat: issue.now,
        jti: random_id(),
        client_id: issue.client.id.clone(),
        scope: scopes.to_param(),
        gid: Some(issue.token.id.clone()),
    };
    let access_token = keys.sign_app(&access).map_err(ExchangeError::Unexpected)?;
    let id_token = match (&user, scopes.has("openid")) {
        (Some(user), true) => {
            let email = scopes.has("email");
            let claims = IdClaims {
                iss: keys.issuer(),
                sub: issue.user_id,
                aud: &issue.client.id,
                azp: &issue.client.id,
                exp: issue.now + ttl,
                iat: issue.now,
                auth_time: issue.token.auth_time,
                nonce: issue.nonce,
                amr: issue.token.amr.split(' ').collect(),
                sid: issue.session_id,
                email: email.then_some(user.email.as_str()),
                email_verified: email.then_some(user.email_verified),
                preferred_username: scopes.has("profile").then_some(user.email.as_str()),
            };
            let alg = Alg::parse(&issue.client.id_token_alg).unwrap_or(Alg::RS256);
            Some(keys.sign_id_token(alg, &claims).map_err(ExchangeError::Unexpected)?)
        }
        _ => None,
    };
    Ok(TokenSet {
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        scope: scopes.to_param(),
        id_token,
        refresh_token: issue.refresh_jti.map(|jti| format!("{}.{jti}", issue.token.id)),
    })
}

/// A `client_credentials` token: `sub` is the client, no user, no grant.
pub fn for_client(s: &Sessions, client: &ClientRow, now: i64) -> Result<TokenSet, ExchangeError> {
    let keys = &s.keys;
    let ttl = s.lifetimes.access_secs();
    let claims = AppClaims {
        iss: keys.issuer().to_owned(),
        aud: keys.apps_audience(),
        sub: client.id.clone(),
        exp: now + ttl,
        nbf: now,
        iat: now,
        jti: random_id(),
        client_id: client.id.clone(),
        scope: String::new(),
        gid: None,
    };
    Ok(TokenSet {
        access_token: keys.sign_app(&claims)?,
        token_type: "Bearer",
        expires_in: ttl,
        scope: String::new(),
        id_token: None,
        refresh_token: None,
    })
}
