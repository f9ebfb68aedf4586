//! The CSRF checks every unsafe request must pass before any handler runs (SPEC §5). Each
//! scope wraps the ones its routes need (see `routes::configure`).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};

use super::token::CsrfKey;
use crate::auth::cookies::{self, CookiePolicy, CookieValue};
use crate::auth::extract::{Identity, Via};
use crate::auth::sessions::Sessions;
use crate::auth::tokens::TokenKind;
use crate::config::PublicUrl;
use crate::errors::{self, ApiError};

/// What the checks read, each registered as its own `web::Data` at startup.
struct Ctx {
    key: web::Data<CsrfKey>,
    cookies: web::Data<CookiePolicy>,
    sessions: web::Data<Sessions>,
    public_url: web::Data<PublicUrl>,
}

impl Ctx {
    fn of(req: &HttpRequest) -> Option<Self> {
        Some(Self {
            key: req.app_data::<web::Data<CsrfKey>>()?.clone(),
            cookies: req.app_data::<web::Data<CookiePolicy>>()?.clone(),
            sessions: req.app_data::<web::Data<Sessions>>()?.clone(),
            public_url: req.app_data::<web::Data<PublicUrl>>()?.clone(),
        })
    }
}

pub const HEADER: &str = "x-csrf-token";

const FOREIGN: &str = "This request came from another site and was refused.";

/// The Origin check every scope applies (see `auth::scope`): an unsafe request whose `Origin`
/// is foreign (or `null`) or whose `Sec-Fetch-Site` says cross-site is refused. Page forms
/// check their `csrf_token` field in the handler (the body is theirs to read); the API's
/// cookie-session routes add [`require_header`].
pub fn origin_refusal(req: &ServiceRequest) -> Option<actix_web::Error> {
    let refused = is_unsafe(req)
        && !is_bearer_only(req.request())
        && Ctx::of(req.request()).is_some_and(|ctx| !same_site(req.request(), &ctx));
    refused.then(|| errors::for_request(req.request(), ApiError::CsrfFailed(FOREIGN)))
}

/// Scope middleware for the API routes that act on a cookie session: an unsafe request
/// that carries an auth cookie needs `X-CSRF-Token` equal to the CSRF cookie and bound
/// to the session (signed double-submit).
pub async fn require_header(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if is_unsafe(&req)
        && !is_bearer_only(req.request())
        && let Some(ctx) = Ctx::of(req.request())
        && let Err(message) = check_header(req.request(), &ctx)
    {
        let error = errors::for_request(req.request(), ApiError::CsrfFailed(message));
        return Ok(req.error_response(error));
    }
    next.call(req).await.map(ServiceResponse::map_into_boxed_body)
}

fn is_unsafe(req: &ServiceRequest) -> bool {
    !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Exempt: a request the guard authenticated by a valid Bearer token and that carries no
/// auth cookie. A browser never attaches `Authorization` on its own, but any other
/// `Authorization` header (a bogus one next to the victim's cookies) exempts nothing.
fn is_bearer_only(req: &HttpRequest) -> bool {
    let by_bearer = req.extensions().get::<Identity>().is_some_and(|i| i.via == Via::Bearer);
    let Some(policy) = req.app_data::<web::Data<CookiePolicy>>() else { return false };
    by_bearer && !has_session_cookie(req, policy)
}

fn has_session_cookie(req: &HttpRequest, policy: &CookiePolicy) -> bool {
    [policy.access, policy.refresh].iter().any(|name| cookies::read(req, name) != CookieValue::Absent)
}

fn same_site(req: &HttpRequest, ctx: &Ctx) -> bool {
    if let Some(origin) = req.headers().get(header::ORIGIN)
        && !origin.to_str().is_ok_and(|o| is_own_origin(o, req, &ctx.public_url))
    {
        return false;
    }
    !req.headers().get("sec-fetch-site").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
}

fn check_header(req: &HttpRequest, ctx: &Ctx) -> Result<(), &'static str> {
    if !has_session_cookie(req, &ctx.cookies) {
        return Ok(());
    }
    let submitted = req.headers().get(HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    let cookie = cookies::read(req, ctx.cookies.csrf);
    if ctx.key.accepts(&cookie, submitted, &binding(req, ctx)) {
        Ok(())
    } else {
        Err("Send the csrf_token cookie's value in the X-CSRF-Token header.")
    }
}

/// The configured public origin, or the origin the browser addressed (its `Host`):
/// a cross-site page cannot make a browser send a foreign `Origin` with our `Host`.
fn is_own_origin(origin: &str, req: &HttpRequest, public_url: &PublicUrl) -> bool {
    if origin.eq_ignore_ascii_case(public_url.as_str()) {
        return true;
    }
    let scheme = if public_url.is_https() { "https://" } else { "http://" };
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    match (origin.strip_prefix(scheme), host) {
        (Some(rest), Some(host)) => rest.eq_ignore_ascii_case(host),
        _ => false,
    }
}

/// The session the token must be bound to: the identified one, else the one the
/// refresh cookie names (an expired access token is no reason to refuse a refresh).
fn binding(req: &HttpRequest, ctx: &Ctx) -> String {
    if let Some(identity) = req.extensions().get::<Identity>() {
        return identity.session_id.to_string();
    }
    match cookies::read(req, ctx.cookies.refresh) {
        CookieValue::One(token) => ctx
            .sessions
            .keys
            .decode(token, TokenKind::Refresh, crate::db::now())
            .map(|c| c.sid)
            .unwrap_or_default(),
        _ => String::new(),
    }
}
