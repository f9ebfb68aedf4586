//! The guard: one middleware that identifies the caller on every request. It never
//! blocks a route by itself (a login page must stay reachable); handlers decide through
//! the extractors in `extract.rs`.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};

use super::cookies::{self, CookiePolicy, CookieValue};
use super::extract::{Identity, RejectedCredential, Via};
use super::tokens::TokenKind;
use crate::db::{self, StoreError, sessions};
use crate::errors::{self, ApiError};
use crate::startup::AppState;

enum Credential {
    None,
    Malformed,
    Token(String, Via),
}

pub async fn identify(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some(state) = req.app_data::<web::Data<AppState>>().cloned() {
        match credential(req.request(), &state.cookies) {
            Credential::None => {}
            Credential::Malformed => {
                req.extensions_mut().insert(RejectedCredential);
            }
            Credential::Token(token, via) => match authenticate(&state, &token, via).await {
                Ok(Some(identity)) => {
                    req.extensions_mut().insert(identity);
                }
                Ok(None) => {
                    req.extensions_mut().insert(RejectedCredential);
                }
                Err(e) => {
                    let error = errors::for_request(req.request(), ApiError::from(e));
                    return Ok(req.error_response(error));
                }
            },
        }
    }
    next.call(req).await.map(ServiceResponse::map_into_boxed_body)
}

/// `Authorization: Bearer` first (RFC 6750 §2.1), else the access cookie by exact name.
fn credential(req: &HttpRequest, cookies: &CookiePolicy) -> Credential {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let parsed = value.to_str().ok().and_then(|v| v.split_once(' ')).and_then(|(scheme, token)| {
            let token = token.trim();
            (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' ')).then_some(token)
        });
        return match parsed {
            Some(token) => Credential::Token(token.to_owned(), Via::Bearer),
            None => Credential::Malformed,
        };
    }
    match cookies::read(req, cookies.access) {
        CookieValue::Absent => Credential::None,
        CookieValue::Ambiguous => Credential::Malformed,
        CookieValue::One(token) => Credential::Token(token.to_owned(), Via::Cookie),
    }
}

/// Decodes the access token, then loads session and user in one query: a revoked or
/// expired session or a disabled user is refused on the very next request.
async fn authenticate(state: &AppState, token: &str, via: Via) -> Result<Option<Identity>, StoreError> {
    let now = db::now();
    let claims = match state.keys.decode(token, TokenKind::Access, now) {
        Ok(claims) => claims,
        Err(reason) => {
            log::debug!("access token refused: {reason}");
            return Ok(None);
        }
    };
    let found = db::query(&state.pool, move |conn| sessions::find_session_with_user(conn, &claims.sid, &claims.sub)).await?;
    Ok(found
        .filter(|(session, user)| session.is_live(now) && !user.disabled)
        .map(|(session, user)| Identity { user, session, via }))
}
