//! OAuth2 token endpoint (RFC 6749 §4.3 password grant, §6 refresh) for scripts and
//! services. Answers follow §5.1 and §5.2 to the letter, plus our `message` field.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::auth::client::ClientInfo;
use crate::auth::refresh::{self, RefreshError};
use crate::auth::sessions::{self, SignInError};
use crate::auth::tokens::Issued;
use crate::errors::ApiError;
use crate::startup::AppState;

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<SecretString>,
    refresh_token: Option<String>,
}

#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: &'a str,
}

#[derive(Serialize)]
struct OAuthError<'a> {
    error: &'a str,
    error_description: &'a str,
    message: &'a str,
}

pub async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !is_form {
        return Ok(oauth_error(
            "invalid_request",
            "Send the request as application/x-www-form-urlencoded.",
        ));
    }
    let Ok(request) = serde_urlencoded::from_bytes::<TokenRequest>(&body) else {
        return Ok(oauth_error(
            "invalid_request",
            "The request body is not a valid form.",
        ));
    };
    match request.grant_type.as_deref() {
        Some("password") => password_grant(&state, client, request).await,
        Some("refresh_token") => refresh_grant(&state, client, request).await,
        Some(_) => Ok(oauth_error(
            "unsupported_grant_type",
            "Supported grant types: password, refresh_token.",
        )),
        None => Ok(oauth_error(
            "invalid_request",
            "The grant_type parameter is missing.",
        )),
    }
}

async fn password_grant(
    state: &AppState,
    client: ClientInfo,
    request: TokenRequest,
) -> Result<HttpResponse, ApiError> {
    let (Some(username), Some(password)) = (request.username, request.password) else {
        return Ok(oauth_error(
            "invalid_request",
            "The username and password parameters are required.",
        ));
    };
    match sessions::sign_in(state, &username, password, true, client).await {
        Ok(signed) => Ok(token_response(&signed.access, &signed.refresh)),
        Err(SignInError::InvalidCredentials) => {
            Ok(oauth_error("invalid_grant", sessions::BAD_CREDENTIALS))
        }
        Err(e) => Err(e.into()),
    }
}

async fn refresh_grant(
    state: &AppState,
    client: ClientInfo,
    request: TokenRequest,
) -> Result<HttpResponse, ApiError> {
    let Some(token) = request.refresh_token else {
        return Ok(oauth_error(
            "invalid_request",
            "The refresh_token parameter is required.",
        ));
    };
    match refresh::refresh(state, &token, &client).await {
        Ok(r) => Ok(token_response(&r.access, &r.refresh)),
        Err(RefreshError::Invalid) => Ok(oauth_error(
            "invalid_grant",
            "The refresh token is invalid or has expired.",
        )),
        Err(RefreshError::Reused) => Ok(oauth_error(
            "invalid_grant",
            "The refresh token was already used; the session has been ended.",
        )),
        Err(RefreshError::Store(e)) => Err(e.into()),
        Err(RefreshError::Unexpected(e)) => Err(e.into()),
    }
}

fn token_response(access: &Issued, refresh: &Issued) -> HttpResponse {
    no_store(HttpResponse::Ok()).json(TokenResponse {
        access_token: access.token.expose_secret(),
        token_type: "Bearer",
        expires_in: access.expires_at - crate::db::now(),
        refresh_token: refresh.token.expose_secret(),
    })
}

/// RFC 6749 §5.2: 400 with `error` and `error_description`.
fn oauth_error(error: &str, description: &str) -> HttpResponse {
    no_store(HttpResponse::build(StatusCode::BAD_REQUEST)).json(OAuthError {
        error,
        error_description: description,
        message: description,
    })
}

fn no_store(mut res: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    res
}
