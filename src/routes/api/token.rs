//! OAuth2 token endpoint (RFC 6749 §4.3 password grant, §6 refresh) for scripts and
//! services. Answers follow §5.1 and §5.2 to the letter, plus our `message` field.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::oauth::{self, AppGrant};
use super::token_answer::{OAuthError, no_store, oauth_error};
use crate::auth::client::ClientInfo;
use crate::auth::provider::client_auth;
use crate::auth::session::refresh::{self, RefreshError};
use crate::auth::session::sign_in::{self, Credentials, SignInError};
use crate::auth::tokens::Issued;
use crate::errors::{ApiError, BAD_CREDENTIALS, ErrorBody};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub(super) struct TokenRequest {
    /// `password` or `refresh_token` (first party); `authorization_code`, `refresh_token` or
    /// `client_credentials` for a registered app (SPEC §11).
    grant_type: Option<String>,
    /// The account's email (`password` grant).
    username: Option<String>,
    #[schema(value_type = Option<String>, format = Password)]
    password: Option<SecretString>,
    /// The refresh token from an earlier answer (`refresh_token` grant).
    refresh_token: Option<String>,
    /// The authorization code (`authorization_code`).
    code: Option<String>,
    /// The redirect URI of the authorization request (`authorization_code`).
    redirect_uri: Option<String>,
    /// The PKCE verifier (`authorization_code`).
    code_verifier: Option<String>,
    /// The app (`client_secret_post`, or a public client).
    pub(super) client_id: Option<String>,
    /// The app's secret (`client_secret_post`).
    pub(super) client_secret: Option<String>,
    /// The scopes asked for (a narrower set on refresh).
    pub(super) scope: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: &'a str,
}

/// A token answer: Portcullis's own pair, or an app's set (SPEC §11).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum TokenAnswer<'a> {
    FirstParty(TokenResponse<'a>),
    App(crate::auth::provider::tokens::TokenSet),
}

/// Get tokens for a script or service (RFC 6749).
///
/// `grant_type=password` with `username` and `password`, or `grant_type=refresh_token` with
/// `refresh_token`; a registered app (SPEC §11) authenticates (Basic, post, or its `client_id`
/// alone when public) and uses `authorization_code`, `refresh_token` or `client_credentials`.
/// Errors follow RFC 6749 §5.2 (with our `message` too).
#[utoipa::path(post, path = "/api/auth/token", tag = "tokens",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "RFC 6749 §5.1. `Cache-Control: no-store`. An app gets `scope`, an `id_token` with `openid` and a `refresh_token` only with `offline_access`.", body = TokenAnswer),
        (status = 401, description = "RFC 6749 §5.2 `invalid_client`: the app's authentication failed (`WWW-Authenticate: Basic` when it used Basic).", body = OAuthError),
        (status = 400, description = "RFC 6749 §5.2: `invalid_request`, `invalid_grant` or `unsupported_grant_type`; or `mfa_required` with an `mfa_token` for `POST /api/auth/mfa` (TOTP is on).", body = OAuthError),
        (status = 403, description = "`email_not_verified`: the address is not confirmed yet.", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: too many failed attempts; see `Retry-After`.", body = ErrorBody, headers(("Retry-After" = u64))),
    ))]
pub async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let form = match read_form(content_type, &body) {
        Ok(form) => form,
        Err((error, description)) => return Ok(oauth_error(error, description)),
    };
    let grant = match grant_of(&form) {
        Ok(grant) => grant,
        Err((error, description)) => return Ok(oauth_error(error, description)),
    };
    let authorization = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match client_auth::presented(authorization, form.client_id.as_deref(), form.client_secret.as_deref()) {
        Err(e) => Ok(oauth_error("invalid_request", &e.to_string())),
        Ok(Some(app)) => {
            let grant = match grant {
                Grant::Password { .. } => {
                    let why = "The password grant is for Portcullis's own use only.";
                    return Ok(oauth_error("unauthorized_client", why));
                }
                Grant::RefreshToken(token) => AppGrant::RefreshToken(token),
                Grant::AuthorizationCode { code, redirect_uri, code_verifier } => {
                    AppGrant::AuthorizationCode { code, redirect_uri, code_verifier }
                }
                Grant::ClientCredentials => AppGrant::ClientCredentials,
            };
            Ok(oauth::app_grant(&state, &client, app, grant, form.scope.as_deref()).await)
        }
        Ok(None) => match grant {
            Grant::Password { username, password } => {
                password_grant(&state, client, &username, password).await
            }
            Grant::RefreshToken(token) => refresh_grant(&state, client, &token).await,
            Grant::AuthorizationCode { .. } | Grant::ClientCredentials => Ok(oauth::unauthenticated_client()),
        },
    }
}

/// A well-formed token request.
pub enum Grant {
    Password { username: String, password: SecretString },
    RefreshToken(String),
    AuthorizationCode { code: String, redirect_uri: Option<String>, code_verifier: Option<String> },
    ClientCredentials,
}

/// Parses a token request, or names the RFC 6749 §5.2 error and a sentence for it.
#[cfg(test)]
fn parse_request(content_type: Option<&str>, body: &[u8]) -> Result<Grant, (&'static str, &'static str)> {
    grant_of(&read_form(content_type, body)?)
}

fn read_form(content_type: Option<&str>, body: &[u8]) -> Result<TokenRequest, (&'static str, &'static str)> {
    let is_form = content_type
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(("invalid_request", "Send the request as application/x-www-form-urlencoded."));
    }
    serde_urlencoded::from_bytes(body)
        .map_err(|_| ("invalid_request", "The request body is not a valid form."))
}

fn grant_of(request: &TokenRequest) -> Result<Grant, (&'static str, &'static str)> {
    match request.grant_type.as_deref() {
        Some("password") => match (&request.username, &request.password) {
            (Some(username), Some(password)) => {
                Ok(Grant::Password { username: username.clone(), password: password.clone() })
            }
            _ => Err(("invalid_request", "The username and password parameters are required.")),
        },
        Some("refresh_token") => match &request.refresh_token {
            Some(token) => Ok(Grant::RefreshToken(token.clone())),
            None => Err(("invalid_request", "The refresh_token parameter is required.")),
        },
        Some("authorization_code") => match &request.code {
            Some(code) => Ok(Grant::AuthorizationCode {
                code: code.clone(),
                redirect_uri: request.redirect_uri.clone(),
                code_verifier: request.code_verifier.clone(),
            }),
            None => Err(("invalid_request", "The code parameter is required.")),
        },
        Some("client_credentials") => Ok(Grant::ClientCredentials),
        Some(_) => Err((
            "unsupported_grant_type",
            "Supported grant types: password, refresh_token, authorization_code, client_credentials.",
        )),
        None => Err(("invalid_request", "The grant_type parameter is missing.")),
    }
}

async fn password_grant(
    state: &AppState,
    client: ClientInfo,
    username: &str,
    password: SecretString,
) -> Result<HttpResponse, ApiError> {
    // Scripts carry no device cookie: their guesses count against the account.
    let credentials = Credentials {
        email: username.to_owned(),
        password,
        remember: true,
        device_cookie: None,
        browser: false,
    };
    match sign_in::sign_in(&state.sessions, &state.hasher, &state.throttle, credentials, client).await {
        Ok(signed) => Ok(token_response(&signed.access, &signed.refresh)),
        Err(SignInError::InvalidCredentials) => Ok(oauth_error("invalid_grant", BAD_CREDENTIALS)),
        // SPEC §9: the JSON login's body, as a §5.2 error status.
        Err(SignInError::MfaRequired { mfa_token }) => {
            let message = ApiError::MfaRequired { mfa_token: String::new() }.to_string_for_people();
            Ok(no_store(HttpResponse::build(StatusCode::BAD_REQUEST)).json(OAuthError {
                error: "mfa_required",
                error_description: &message,
                message: &message,
                mfa_token: Some(&mfa_token),
            }))
        }
        Err(e) => Err(e.into()),
    }
}

async fn refresh_grant(state: &AppState, client: ClientInfo, token: &str) -> Result<HttpResponse, ApiError> {
    match refresh::refresh(&state.sessions, token, &client).await {
        Ok(r) => Ok(token_response(&r.access, &r.refresh)),
        Err(RefreshError::Invalid) => {
            Ok(oauth_error("invalid_grant", "The refresh token is invalid or has expired."))
        }
        Err(RefreshError::Reused) => Ok(oauth_error(
            "invalid_grant",
            "The refresh token was already used; the session has been ended.",
        )),
        Err(e) => Err(e.into()),
    }
}

pub(super) fn token_response(access: &Issued, refresh: &Issued) -> HttpResponse {
    no_store(HttpResponse::Ok()).json(TokenResponse {
        access_token: access.token.expose_secret(),
        token_type: "Bearer",
        expires_in: access.expires_at - crate::db::now(),
        refresh_token: refresh.token.expose_secret(),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{Grant, parse_request};

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    #[test]
    fn well_formed_requests_parse() {
        let body = b"grant_type=password&username=a%40example.com&password=p+w";
        assert!(
            matches!(parse_request(FORM, body), Ok(Grant::Password { username, .. }) if username == "a@example.com")
        );
        let refresh = b"grant_type=refresh_token&refresh_token=abc";
        assert!(
            matches!(parse_request(Some("application/x-www-form-urlencoded; charset=utf-8"), refresh), Ok(Grant::RefreshToken(t)) if t == "abc")
        );
        assert_eq!(parse_request(Some("application/json"), body).err().map(|e| e.0), Some("invalid_request"));
        assert_eq!(
            parse_request(FORM, b"grant_type=implicit").err().map(|e| e.0),
            Some("unsupported_grant_type")
        );
    }

    proptest! {
        /// The form-parsing path: any body and content type gives a grant or a §5.2 error.
        #[test]
        fn prop_token_requests_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512), ct in proptest::option::of(".{0,64}")) {
            let _ = parse_request(ct.as_deref(), &body);
            let _ = parse_request(FORM, &body);
        }

        #[test]
        fn prop_form_like_bodies_never_panic(body in "(grant_type|username|password|refresh_token|%[0-9A-Fa-f]{0,2}|[=&+]|[^&=]{0,8}){0,24}") {
            if let Err((error, _)) = parse_request(FORM, body.as_bytes()) {
                prop_assert!(["invalid_request", "unsupported_grant_type"].contains(&error));
            }
        }
    }
}
