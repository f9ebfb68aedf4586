use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::me::UserResponse;
use crate::auth::client::ClientInfo;
use crate::auth::provider::client_auth;
use crate::auth::session::refresh;
use crate::auth::session::sign_in::{self, Credentials};
use crate::auth::tokens::TokenKind;
use crate::auth::web::cookies;
use crate::auth::web::csrf_forms::{session_cookies, token_for};
use crate::auth::web::extract::ActingSession;
use crate::errors::{ApiError, ErrorBody, MfaRequiredBody};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(format = Email)]
    email: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
    /// Keep the cookies after the browser closes ("remember me").
    #[serde(default)]
    remember: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CsrfResponse {
    csrf_token: String,
}

/// Get a CSRF token for a cookie session.
///
/// The token is bound to the caller's session (the signed-in one, or the one the refresh cookie
/// names once the access token has run out) and is also set as the `csrf_token` cookie.
#[utoipa::path(get, path = "/api/auth/csrf", tag = "session",
    security((), ("access_cookie" = []), ("refresh_cookie" = [])),
    responses((status = 200, description = "The token, also set as the `csrf_token` cookie. Send it back in `X-CSRF-Token` on unsafe cookie-session requests.", body = CsrfResponse, headers(("Set-Cookie" = String, description = "The `csrf_token` cookie.")))))]
pub async fn csrf(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let (token, _) = token_for(&req, &state.csrf, &state.cookies);
    HttpResponse::Ok().cookie(state.cookies.csrf_cookie(&token)).json(CsrfResponse { csrf_token: token })
}

/// Sign in with email and password.
///
/// Sets the access, refresh and CSRF cookies. With `remember`, the cookies outlive the browser
/// session.
#[utoipa::path(post, path = "/api/auth/login", tag = "session", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in: the user, and the auth cookies.", body = UserResponse, headers(("Set-Cookie" = String, description = "The access, refresh and CSRF cookies."))),
        (status = 401, description = "`invalid_credentials`: the email and password do not match an enabled account; or `mfa_required`: the password is right and TOTP is on: send a code with the `mfa_token` to `POST /api/auth/mfa`.", body = MfaRequiredBody),
        (status = 403, description = "`email_not_verified`: the address is not confirmed yet; or `csrf_failed`: a request from another site.", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: too many failed attempts; see `Retry-After`.", body = ErrorBody, headers(("Retry-After" = u64))),
    ))]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let credentials = Credentials {
        email: body.email,
        password: body.password,
        remember: body.remember,
        device_cookie: cookies::read_owned(&req, state.cookies.device),
        browser: true,
    };
    let signed =
        sign_in::sign_in(&state.sessions, &state.hasher, &state.throttle, credentials, client).await?;
    let mut res = HttpResponse::Ok();
    for cookie in session_cookies(&state.cookies, &state.csrf, &signed) {
        res.cookie(cookie);
    }
    Ok(res.json(UserResponse::from(&signed.user)))
}

/// Sign out.
///
/// Ends the caller's session (the signed-in one, or the one the refresh cookie names once the
/// access token has run out) and clears the cookies. Idempotent.
#[utoipa::path(post, path = "/api/auth/logout", tag = "session",
    security((), ("bearer" = []), ("access_cookie" = [], "csrf_header" = []), ("refresh_cookie" = [], "csrf_header" = [])),
    responses((status = 204, description = "The session (if any) has ended and the auth cookies are cleared.", headers(("Set-Cookie" = String, description = "Cleared auth cookies.")))))]
pub async fn logout(
    state: web::Data<AppState>,
    session: ActingSession,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    if let Some(session) = session.0 {
        sign_in::sign_out(&state.pool, &session, &client).await?;
    }
    let mut res = HttpResponse::NoContent();
    for cookie in state.cookies.cleared() {
        res.cookie(cookie);
    }
    Ok(res.finish())
}

#[derive(Serialize, ToSchema)]
pub struct RefreshResponse {
    expires_in: i64,
}

/// Rotate the refresh cookie.
///
/// New access and refresh cookies; the old refresh token dies. Presenting a spent refresh token
/// again ends the session (reuse detection).
#[utoipa::path(post, path = "/api/auth/refresh", tag = "session",
    security(("refresh_cookie" = [], "csrf_header" = [])),
    responses(
        (status = 200, description = "New access and refresh cookies; the old refresh token is spent.", body = RefreshResponse, headers(("Set-Cookie" = String, description = "The new auth cookies."))),
        (status = 401, description = "`unauthorized`: no refresh cookie; `invalid_token`: it is expired, revoked or was already used (the session then ends).", body = ErrorBody),
    ))]
pub async fn refresh(
    req: HttpRequest,
    state: web::Data<AppState>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let token = match cookies::read(&req, state.cookies.refresh) {
        cookies::CookieValue::One(token) => token,
        _ => {
            return Err(ApiError::Unauthorized { invalid_token: false });
        }
    };
    match refresh::refresh(&state.sessions, token, &client).await {
        Ok(r) => {
            let mut res = HttpResponse::Ok();
            for cookie in state.cookies.pair(&r.access.token, &r.refresh.token, r.cookie_max_age) {
                res.cookie(cookie);
            }
            Ok(res.json(RefreshResponse { expires_in: r.access.expires_at - crate::db::now() }))
        }
        Err(e) => {
            let clear = e.ends_the_cookies();
            let mut res = ApiError::from(e).error_response();
            if clear {
                for cookie in state.cookies.cleared() {
                    res.add_cookie(&cookie).map_err(anyhow::Error::from)?;
                }
            }
            Ok(res)
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct RevokeRequest {
    /// An access or a refresh token.
    #[serde(default)]
    token: String,
    /// `access_token` or `refresh_token`; a hint only (RFC 7009 §2.1).
    #[serde(default)]
    #[allow(dead_code)]
    token_type_hint: Option<String>,
    /// A registered app revoking its own token (`client_secret_post`, or a public client).
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Revoke a token (RFC 7009).
///
/// Ends the session behind an access or refresh token. A registered app authenticates (Basic,
/// post, or its `client_id` alone when public) and revokes what its own token was issued with.
/// Always 200, whether or not the token was valid (§2.2), so the endpoint reveals nothing.
#[utoipa::path(post, path = "/api/auth/revoke", tag = "tokens",
    request_body(content = RevokeRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Always, whether or not the token was valid (RFC 7009 §2.2)."),
        (status = 400, description = "RFC 6749 §5.2 `invalid_request`: conflicting client credentials.", body = crate::errors::ErrorBody),
        (status = 401, description = "RFC 6749 §5.2 `invalid_client`: the app's authentication failed.", body = crate::errors::ErrorBody),
        (status = 429, description = "`too_many_requests`: too many failed app authentications; see `Retry-After`.", body = ErrorBody, headers(("Retry-After" = u64))),
    ))]
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    client: ClientInfo,
    form: web::Form<RevokeRequest>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    let authorization = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match client_auth::presented(authorization, form.client_id.as_deref(), form.client_secret.as_deref()) {
        Err(e) => return Ok(super::token_answer::oauth_error("invalid_request", &e.to_string())),
        Ok(Some(app)) => {
            let app = match super::oauth::revoking_client(&state, &client, app).await {
                Ok(app) => app,
                Err(answer) => return Ok(answer),
            };
            super::oauth::revoke_for_app(&state, &app, &form.token).await?;
            return Ok(HttpResponse::Ok().finish());
        }
        Ok(None) => {}
    }
    let now = crate::db::now();
    let claims = [TokenKind::Refresh, TokenKind::Access]
        .into_iter()
        .find_map(|kind| state.sessions.keys.decode(&form.token, kind, now).ok());
    if let Some(claims) = claims {
        sign_in::revoke(&state.pool, &claims.sub.clone().into(), &claims.sid.clone().into(), &client).await?;
    }
    Ok(HttpResponse::Ok().finish())
}
