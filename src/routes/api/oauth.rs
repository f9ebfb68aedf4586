//! The API side of the OpenID Connect provider (SPEC §11): the token endpoint's app grants,
//! userinfo, and revoking an app's tokens.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::token_answer::{OAuthError, no_store, oauth_error};
use crate::auth::client::ClientInfo;
use crate::auth::provider::app_token;
use crate::auth::provider::client_auth::{self, ClientAuthError, Presented};
use crate::auth::provider::exchange::{self, CodeRequest, ExchangeError};
use crate::db::clients::ClientRow;
use crate::db::{self, oauth as store};
use crate::errors::ApiError;
use crate::state::AppState;

/// What a registered app may ask the token endpoint for.
pub(super) enum AppGrant {
    AuthorizationCode { code: String, redirect_uri: Option<String>, code_verifier: Option<String> },
    RefreshToken(String),
    ClientCredentials,
}

/// A token request from a registered app: the client authenticated first, then its grant.
pub(super) async fn app_grant(
    state: &AppState,
    from: &ClientInfo,
    presented: Presented,
    grant: AppGrant,
    scope: Option<&str>,
) -> HttpResponse {
    if !state.sessions.keys.provider_on() {
        return oauth_error("unauthorized_client", "The OpenID Connect provider is off (HS256 mode).");
    }
    let client = match client_auth::authenticate(&state.pool, &presented, from).await {
        Ok(client) => client,
        Err(e) => return client_auth_failure(e),
    };
    let s = &state.sessions;
    let answer = match grant {
        AppGrant::AuthorizationCode { code, redirect_uri, code_verifier } => {
            let request = CodeRequest {
                code: &code,
                redirect_uri: redirect_uri.as_deref(),
                code_verifier: code_verifier.as_deref(),
            };
            exchange::redeem_code(s, &client, request).await
        }
        AppGrant::RefreshToken(token) => exchange::refresh(s, &client, &token, scope).await,
        AppGrant::ClientCredentials => exchange::client_credentials(s, &client, scope).await,
    };
    match answer {
        Ok(set) => no_store(HttpResponse::Ok()).json(set),
        Err(ExchangeError::Refused(error, description)) => oauth_error(error, &description),
        Err(ExchangeError::Store(e)) => ApiError::from(e).into_response(),
        Err(ExchangeError::Unexpected(e)) => ApiError::from(e).into_response(),
    }
}

/// `authorization_code` or `client_credentials` without a client: RFC 6749 §5.2
/// `invalid_client`.
pub(super) fn unauthenticated_client() -> HttpResponse {
    invalid_client("This grant needs the app's client_id (and its secret, for a confidential app).", false)
}

fn invalid_client(description: &str, basic: bool) -> HttpResponse {
    let mut res = no_store(HttpResponse::build(StatusCode::UNAUTHORIZED));
    if basic {
        res.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="portcullis""#));
    }
    res.json(OAuthError {
        error: "invalid_client",
        error_description: description,
        message: description,
        mfa_token: None,
    })
}

fn client_auth_failure(e: ClientAuthError) -> HttpResponse {
    match e {
        ClientAuthError::Malformed(m) => oauth_error("invalid_request", m),
        ClientAuthError::Failed { basic } => invalid_client(&e.to_string(), basic),
        ClientAuthError::Throttled { retry_after_secs } => {
            ApiError::TooManyRequests { retry_after_secs }.into_response()
        }
        ClientAuthError::Store(e) => ApiError::from(e).into_response(),
    }
}

trait IntoResponse {
    fn into_response(self) -> HttpResponse;
}

impl IntoResponse for ApiError {
    fn into_response(self) -> HttpResponse {
        actix_web::ResponseError::error_response(&self)
    }
}

/// What userinfo says of the person (OpenID Connect Core §5.3).
#[derive(Serialize, ToSchema)]
pub(super) struct UserInfo {
    /// The user id: the same `sub` as the ID token's and Portcullis's own tokens'.
    sub: String,
    /// With the `email` scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    /// With the `profile` scope: the address.
    #[serde(skip_serializing_if = "Option::is_none")]
    preferred_username: Option<String>,
}

/// The signed-in person, for an app (OpenID Connect userinfo).
///
/// Takes an app's access token (`Authorization: Bearer`), never Portcullis's own.
#[utoipa::path(get, path = "/api/oauth/userinfo", tag = "apps",
    responses(
        (status = 200, description = "The person the token acts for.", body = UserInfo),
        (status = 401, description = "`invalid_token`: no app token, or no longer good (`WWW-Authenticate: Bearer error=\"invalid_token\"`).", body = crate::errors::ErrorBody),
        (status = 403, description = "`insufficient_scope`: the token names no person (`client_credentials`).", body = crate::errors::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn userinfo(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    user_info(&req, &state).await
}

/// The signed-in person, for an app (userinfo by POST).
///
/// The same as the GET (OpenID Connect Core §5.3.1 allows both).
#[utoipa::path(post, path = "/api/oauth/userinfo", tag = "apps",
    responses(
        (status = 200, description = "The person the token acts for.", body = UserInfo),
        (status = 401, description = "`invalid_token`: no app token, or no longer good.", body = crate::errors::ErrorBody),
        (status = 403, description = "`insufficient_scope`: the token names no person (`client_credentials`).", body = crate::errors::ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn userinfo_post(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    user_info(&req, &state).await
}

async fn user_info(req: &HttpRequest, state: &AppState) -> Result<HttpResponse, ApiError> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(token) = token else { return Err(ApiError::Unauthorized { invalid_token: true }) };
    let app = app_token::check(&state.pool, &state.sessions.keys, token).await?;
    let app = app.ok_or(ApiError::Unauthorized { invalid_token: true })?;
    let user = app.user.ok_or(ApiError::InsufficientScope)?;
    let email = app.scopes.has("email");
    Ok(no_store(HttpResponse::Ok()).json(UserInfo {
        sub: user.user_id.to_string(),
        email: email.then(|| user.email.clone()),
        email_verified: email.then_some(user.email_verified),
        preferred_username: app.scopes.has("profile").then_some(user.email),
    }))
}

/// Revokes an app's token (RFC 7009) for the app that authenticated: its refresh token or an
/// access token ends what its code issued. Tokens of other apps are left alone.
pub(super) async fn revoke_for_app(
    state: &AppState,
    client: &ClientRow,
    token: &str,
) -> Result<(), ApiError> {
    let keys = &state.sessions.keys;
    let token_id = match token.split_once('.') {
        Some((id, rest)) if !rest.contains('.') => Some(id.to_owned()),
        _ => keys.decode_app(token, db::now()).ok().filter(|c| c.client_id == client.id).and_then(|c| c.gid),
    };
    let Some(id) = token_id else { return Ok(()) };
    let cid = client.id.clone();
    db::query(&state.pool, move |conn| {
        if store::live_token(conn, &id)?.is_some_and(|(_, grant)| grant.client_id == cid) {
            store::revoke_token(conn, &id, db::now())?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// Authenticates the app of a revocation request; `Err` is the answer to send.
pub(super) async fn revoking_client(
    state: &AppState,
    from: &ClientInfo,
    presented: Presented,
) -> Result<ClientRow, HttpResponse> {
    client_auth::authenticate(&state.pool, &presented, from).await.map_err(client_auth_failure)
}
