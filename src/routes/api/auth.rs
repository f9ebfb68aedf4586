use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::me::UserResponse;
use crate::auth::client::ClientInfo;
use crate::auth::sessions::{self, SignInError};
use crate::auth::{MaybeUser, cookies};
use crate::errors::ApiError;
use crate::routes::pages::{csrf_binding, session_cookies};
use crate::startup::AppState;

#[derive(Deserialize)]
pub struct LoginRequest {
    email: String,
    password: SecretString,
    #[serde(default)]
    remember: bool,
}

#[derive(Serialize)]
pub struct CsrfResponse {
    csrf_token: String,
}

/// Hands out a CSRF token (and its cookie) for the caller's current session.
pub async fn csrf(req: HttpRequest, state: web::Data<AppState>, user: MaybeUser) -> HttpResponse {
    let sid = csrf_binding(user.0.as_ref());
    let token = match cookies::read(&req, state.cookies.csrf) {
        cookies::CookieValue::One(t) if state.csrf.is_valid(t, sid) => t.to_owned(),
        _ => state.csrf.issue(sid),
    };
    HttpResponse::Ok().cookie(state.cookies.csrf_cookie(&token)).json(CsrfResponse { csrf_token: token })
}

pub async fn login(req: HttpRequest, state: web::Data<AppState>, body: web::Json<LoginRequest>) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let client = ClientInfo::from_request(&req, &state.settings.trusted_proxies);
    let signed = match sessions::sign_in(&state, &body.email, body.password, body.remember, client).await {
        Ok(signed) => signed,
        Err(SignInError::InvalidCredentials) => return Err(ApiError::InvalidCredentials),
        Err(SignInError::Store(e)) => return Err(e.into()),
        Err(SignInError::Unexpected(e)) => return Err(e.into()),
    };
    let mut res = HttpResponse::Ok();
    for cookie in session_cookies(&state, &signed) {
        res.cookie(cookie);
    }
    Ok(res.json(UserResponse::from(&signed.user)))
}

/// Ends the caller's session, if any, and clears the cookies. Idempotent: 204 either way.
pub async fn logout(state: web::Data<AppState>, user: MaybeUser) -> Result<HttpResponse, ApiError> {
    if let Some(identity) = user.0 {
        sessions::sign_out(&state, &identity.session.id).await?;
    }
    let mut res = HttpResponse::NoContent();
    for cookie in state.cookies.cleared() {
        res.cookie(cookie);
    }
    Ok(res.finish())
}
