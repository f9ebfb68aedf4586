use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::me::UserResponse;
use crate::auth::client::ClientInfo;
use crate::auth::cookies;
use crate::auth::csrf::{session_cookies, token_for};
use crate::auth::extract::ActingSession;
use crate::auth::refresh;
use crate::auth::sessions::{self, Credentials};
use crate::auth::tokens::TokenKind;
use crate::errors::ApiError;
use crate::state::AppState;

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

/// Hands out a CSRF token (and its cookie) bound to the caller's session: the signed-in one,
/// or the one the refresh cookie names once the access token has run out.
pub async fn csrf(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let (token, _) = token_for(&req, &state.csrf, &state.cookies);
    HttpResponse::Ok().cookie(state.cookies.csrf_cookie(&token)).json(CsrfResponse { csrf_token: token })
}

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
        sessions::sign_in(&state.sessions, &state.hasher, &state.throttle, credentials, client).await?;
    let mut res = HttpResponse::Ok();
    for cookie in session_cookies(&state.cookies, &state.csrf, &signed) {
        res.cookie(cookie);
    }
    Ok(res.json(UserResponse::from(&signed.user)))
}

/// Ends the caller's session — the signed-in one, or the one the refresh cookie names once
/// the access token has run out — and clears the cookies. Idempotent: 204 either way.
pub async fn logout(
    state: web::Data<AppState>,
    session: ActingSession,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    if let Some(session) = session.0 {
        sessions::sign_out(&state.pool, &session, &client).await?;
    }
    let mut res = HttpResponse::NoContent();
    for cookie in state.cookies.cleared() {
        res.cookie(cookie);
    }
    Ok(res.finish())
}

#[derive(Serialize)]
pub struct RefreshResponse {
    expires_in: i64,
}

/// Rotates the refresh cookie: new access and refresh cookies, the old refresh token dies.
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

#[derive(Deserialize)]
pub struct RevokeRequest {
    #[serde(default)]
    token: String,
}

/// RFC 7009: revoke the session behind an access or refresh token. Always 200, whether or
/// not the token was valid (§2.2), so the endpoint reveals nothing.
pub async fn revoke(
    state: web::Data<AppState>,
    client: ClientInfo,
    form: web::Form<RevokeRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = crate::db::now();
    let claims = [TokenKind::Refresh, TokenKind::Access]
        .into_iter()
        .find_map(|kind| state.sessions.keys.decode(&form.token, kind, now).ok());
    if let Some(claims) = claims {
        sessions::revoke(&state.pool, &claims.sub.clone().into(), &claims.sid.clone().into(), &client)
            .await?;
    }
    Ok(HttpResponse::Ok().finish())
}
