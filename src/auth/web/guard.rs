//! The guard: identifies the caller on every request. It never blocks a route by itself
//! (a login page must stay reachable); handlers decide through the extractors in
//! `extract.rs`.
//!
//! Two steps, because the CSRF checks run between them (see `scope.rs`): [`identify`] reads
//! the credential, and — when the access token is missing or expired but a refresh cookie is
//! there — notes the session that cookie names; [`refresh_in_place`] then rotates that
//! cookie, so the request proceeds signed in and the new cookies go out on its response.

use actix_web::body::BoxBody;
use actix_web::cookie::Cookie;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, web};

use crate::auth::client::{ClientInfo, TrustedProxies};
use crate::auth::identity::{Identity, SessionRef, Via};
use crate::auth::provider::app_token::{self, AppCaller};
use crate::auth::session::refresh::{self, RefreshError};
use crate::auth::session::sign_in::Sessions;
use crate::auth::tokens::{TokenError, TokenKind};
use crate::auth::web::cookies::{self, CookiePolicy, CookieValue};
use crate::auth::web::extract::{RefreshCookieSession, RejectedCredential};
use crate::db::{self, StoreError, sessions};
use crate::domain::{SessionId, UserId};
use crate::errors::{self, ApiError};

enum Credential {
    None,
    Malformed,
    Token(String, Via),
}

enum Outcome {
    Identified(Box<Identity>),
    /// An app's access token (SPEC §11): good only where a handler opts in to app tokens.
    App(Box<AppCaller>),
    /// A well-formed access token past its `exp`: the refresh cookie may still stand in.
    Expired,
    Rejected,
}

/// Identifies the caller from a Bearer token or the access cookie and records the outcome in
/// the request extensions. A cookie request without a live access token also gets the
/// session its refresh cookie names ([`RefreshCookieSession`]): CSRF tokens bind to it, and
/// sign-out ends it.
pub async fn identify(req: &ServiceRequest) -> Result<(), StoreError> {
    let (Some(sessions), Some(cookies)) =
        (req.app_data::<web::Data<Sessions>>().cloned(), req.app_data::<web::Data<CookiePolicy>>().cloned())
    else {
        return Ok(());
    };
    let outcome = match credential(req.request(), &cookies) {
        Credential::None => None,
        Credential::Malformed => Some(Outcome::Rejected),
        Credential::Token(token, via) => Some(authenticate(&sessions, &token, via).await?),
    };
    match outcome {
        Some(Outcome::Identified(identity)) => {
            req.extensions_mut().insert(*identity);
            return Ok(());
        }
        Some(Outcome::App(app)) => {
            req.extensions_mut().insert(*app);
            return Ok(());
        }
        Some(Outcome::Expired | Outcome::Rejected) => {
            req.extensions_mut().insert(RejectedCredential);
        }
        None => {}
    }
    let by_cookie = matches!(outcome, None | Some(Outcome::Expired));
    if by_cookie
        && !req.headers().contains_key(header::AUTHORIZATION)
        && let CookieValue::One(token) = cookies::read(req.request(), cookies.refresh)
        && let Ok(claims) = sessions.keys.decode(token, TokenKind::Refresh, db::now())
    {
        let session = SessionRef {
            user_id: UserId::from(claims.sub.clone()),
            session_id: SessionId::from(claims.sid.clone()),
        };
        req.extensions_mut().insert(RefreshCookieSession(session));
    }
    Ok(())
}

/// Rotates the refresh cookie of a request that [`identify`] found without a live access
/// token, and identifies it by the new pair; returns the cookies for the response. A bad or
/// replayed refresh token clears both auth cookies and leaves the request anonymous.
pub async fn refresh_in_place(req: &ServiceRequest) -> Result<Vec<Cookie<'static>>, StoreError> {
    if req.extensions().get::<RefreshCookieSession>().is_none() {
        return Ok(Vec::new());
    }
    let (Some(sessions), Some(policy)) =
        (req.app_data::<web::Data<Sessions>>().cloned(), req.app_data::<web::Data<CookiePolicy>>().cloned())
    else {
        return Ok(Vec::new());
    };
    let CookieValue::One(token) = cookies::read(req.request(), policy.refresh) else {
        return Ok(Vec::new());
    };
    let client = client_of(req.request());
    match refresh::refresh(&sessions, token, &client).await {
        Ok(r) => {
            let cookies = policy.pair(&r.access.token, &r.refresh.token, r.cookie_max_age).to_vec();
            let mut ext = req.extensions_mut();
            ext.remove::<RejectedCredential>();
            ext.insert(Identity::new(r.user, r.session, Via::Cookie));
            Ok(cookies)
        }
        Err(RefreshError::Invalid | RefreshError::Reused) => {
            req.extensions_mut().remove::<RefreshCookieSession>();
            Ok(policy.cleared().to_vec())
        }
        Err(RefreshError::Store(e)) => Err(e),
        Err(RefreshError::Unexpected(e)) => {
            log::error!("refresh in the guard failed: {e:#}");
            Ok(Vec::new())
        }
    }
}

/// Adds the guard's cookies to whatever answer the request got, error answers included —
/// unless the handler set a cookie of the same name itself (a sign-out clearing them).
pub fn with_cookies(
    mut res: ServiceResponse<BoxBody>,
    cookies: &[Cookie<'static>],
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let own: Vec<String> = res.response().cookies().map(|c| c.name().to_owned()).collect();
    for cookie in cookies.iter().filter(|c| !own.iter().any(|name| name == c.name())) {
        res.response_mut().add_cookie(cookie)?;
    }
    Ok(res)
}

pub fn store_failure(req: ServiceRequest, e: StoreError) -> ServiceResponse<BoxBody> {
    let error = errors::for_request(req.request(), ApiError::from(e));
    req.error_response(error)
}

fn client_of(req: &HttpRequest) -> ClientInfo {
    let trusted = req.app_data::<web::Data<TrustedProxies>>().map(|t| t.0.as_slice()).unwrap_or_default();
    ClientInfo::from_request(req, trusted)
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
        Err(TokenError::BadClaims | TokenError::Malformed) if via == Via::Bearer => {
            // Not a first-party token; perhaps an app's (its own audience, no `sid`).
            return Ok(match app_token::check(&sessions.pool, &sessions.keys, token).await? {
                Some(app) => Outcome::App(Box::new(app)),
                None => Outcome::Rejected,
            });
        }
        Err(reason) => {
            log::debug!("access token refused: {reason}");
            return Ok(Outcome::Rejected);
        }
    };
    let (session_id, user_id) = (SessionId::from(claims.sid.clone()), UserId::from(claims.sub.clone()));
    let (sid, uid) = (session_id.clone(), user_id.clone());
    let found = match &sessions.guard_reads {
        Some(reads) => reads.find(sid, uid).await?,
        None => {
            db::query_read(&sessions.pool, move |conn| sessions::find_guard_row(conn, &sid, &uid)).await?
        }
    };
    Ok(match found {
        Some(row) if row.is_live(now) => {
            Outcome::Identified(Box::new(Identity::from_guard_row(user_id, session_id, row, via)))
        }
        _ => Outcome::Rejected,
    })
}
