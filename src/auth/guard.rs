//! The guard: one middleware that identifies the caller on every request. It never
//! blocks a route by itself (a login page must stay reachable); handlers decide through
//! the extractors in `extract.rs`.

use actix_web::body::BoxBody;
use actix_web::cookie::Cookie;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::{HttpMessage, HttpRequest, web};

use super::client::{ClientInfo, TrustedProxies};
use super::cookies::{self, CookiePolicy, CookieValue};
use super::extract::{Identity, RejectedCredential, Via};
use super::refresh::{self, RefreshError};
use super::sessions::Sessions;
use super::tokens::{TokenError, TokenKind};
use crate::db::{self, StoreError, sessions};
use crate::domain::{SessionId, UserId};
use crate::errors::{self, ApiError, RouteKind};

enum Credential {
    None,
    Malformed,
    Token(String, Via),
}

enum Outcome {
    Identified(Box<Identity>),
    /// A well-formed access token past its `exp`: a refresh may still save the request.
    Expired,
    Rejected,
}

/// Identifies the caller and records the outcome in the request extensions; returns the
/// cookies an in-place refresh wants set on the response.
pub async fn identify_request(req: &ServiceRequest) -> Result<Vec<Cookie<'static>>, StoreError> {
    let (Some(sessions), Some(cookies)) =
        (req.app_data::<web::Data<Sessions>>().cloned(), req.app_data::<web::Data<CookiePolicy>>().cloned())
    else {
        return Ok(Vec::new());
    };
    let outcome = match credential(req.request(), &cookies) {
        Credential::None => None,
        Credential::Malformed => Some(Outcome::Rejected),
        Credential::Token(token, via) => Some(authenticate(&sessions, &token, via).await?),
    };
    let wants_refresh = matches!(outcome, None | Some(Outcome::Expired)) && is_page_view(req.request());
    let mut set_cookies: Vec<Cookie<'static>> = Vec::new();
    let outcome = if wants_refresh {
        match refresh_in_place(&sessions, &cookies, req.request(), &mut set_cookies).await? {
            Some(identity) => Some(Outcome::Identified(Box::new(identity))),
            None => outcome,
        }
    } else {
        outcome
    };
    match outcome {
        Some(Outcome::Identified(identity)) => {
            req.extensions_mut().insert(*identity);
        }
        Some(Outcome::Expired | Outcome::Rejected) => {
            req.extensions_mut().insert(RejectedCredential);
        }
        None => {}
    }
    Ok(set_cookies)
}

/// Adds the guard's cookies to whatever answer the request got, error answers included.
pub fn with_cookies(
    mut res: ServiceResponse<BoxBody>,
    cookies: &[Cookie<'static>],
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    for cookie in cookies {
        res.response_mut().add_cookie(cookie)?;
    }
    Ok(res)
}

pub fn store_failure(req: ServiceRequest, e: StoreError) -> ServiceResponse<BoxBody> {
    let error = errors::for_request(req.request(), ApiError::from(e));
    req.error_response(error)
}

/// `Authorization: Bearer` first (RFC 6750 §2.1), else the access cookie by exact name.
fn credential(req: &HttpRequest, cookies: &CookiePolicy) -> Credential {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let parsed = value.to_str().ok().and_then(|v| v.split_once(' ')).and_then(|(scheme, token)| {
            let token = token.trim();
            (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
                .then_some(token)
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
async fn authenticate(sessions: &Sessions, token: &str, via: Via) -> Result<Outcome, StoreError> {
    let now = db::now();
    let claims = match sessions.keys.decode(token, TokenKind::Access, now) {
        Ok(claims) => claims,
        Err(TokenError::Expired) if via == Via::Cookie => return Ok(Outcome::Expired),
        Err(reason) => {
            log::debug!("access token refused: {reason}");
            return Ok(Outcome::Rejected);
        }
    };
    let found = db::query_read(&sessions.pool, move |conn| {
        sessions::find_session_with_user(conn, &SessionId::from(claims.sid), &UserId::from(claims.sub))
    })
    .await?;
    Ok(match found {
        Some((session, user)) if session.is_live(now) && !user.disabled => {
            Outcome::Identified(Box::new(Identity::new(user, session, via)))
        }
        _ => Outcome::Rejected,
    })
}

/// A browser navigating to a page: the one case where the guard refreshes by itself, so
/// nobody bounces through a refresh URL when their access token has run out. Static files
/// and probes sit outside the page scope and never reach the guard.
fn is_page_view(req: &HttpRequest) -> bool {
    matches!(*req.method(), Method::GET | Method::HEAD) && RouteKind::of(req) == RouteKind::Page
}

/// Rotates the refresh cookie, if there is a good one, and queues the new cookies for
/// the response. A bad or replayed refresh token clears both auth cookies.
async fn refresh_in_place(
    sessions: &Sessions,
    policy: &CookiePolicy,
    req: &HttpRequest,
    set_cookies: &mut Vec<Cookie<'static>>,
) -> Result<Option<Identity>, StoreError> {
    let CookieValue::One(token) = cookies::read(req, policy.refresh) else {
        return Ok(None);
    };
    let trusted = req.app_data::<web::Data<TrustedProxies>>().map(|t| t.0.as_slice()).unwrap_or_default();
    let client = ClientInfo::from_request(req, trusted);
    match refresh::refresh(sessions, token, &client).await {
        Ok(r) => {
            set_cookies.extend(policy.pair(&r.access.token, &r.refresh.token, r.cookie_max_age));
            Ok(Some(Identity::new(r.user, r.session, Via::Cookie)))
        }
        Err(RefreshError::Invalid | RefreshError::Reused) => {
            set_cookies.extend(policy.cleared());
            Ok(None)
        }
        Err(RefreshError::Store(e)) => Err(e),
        Err(RefreshError::Unexpected(e)) => {
            log::error!("refresh in the guard failed: {e:#}");
            Ok(None)
        }
    }
}
