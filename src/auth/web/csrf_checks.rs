//! The CSRF checks every unsafe request must pass before any handler runs (SPEC §5): the
//! Origin check of every scope, the `csrf_token` field of every page form, and the
//! `X-CSRF-Token` header of the API's cookie-session routes. `auth::scope` runs them.

use actix_web::dev::{Payload, ServiceRequest};
use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpMessage, HttpRequest, web};

use crate::auth::identity::{Identity, Via};
use crate::auth::web::cookies::{self, CookiePolicy, CookieValue};
use crate::auth::web::csrf::CsrfKey;
use crate::auth::web::csrf_forms::{FORM_EXPIRED, binding};
use crate::auth::web::extract::CsrfChecked;
use crate::config::{Origins, PublicUrl};
use crate::errors::{self, ApiError, PageError, RouteKind};

/// What the checks read, each registered as its own `web::Data` at startup.
struct Ctx {
    key: web::Data<CsrfKey>,
    cookies: web::Data<CookiePolicy>,
    public_url: web::Data<PublicUrl>,
    apps: Option<web::Data<Origins>>,
}

impl Ctx {
    fn of(req: &HttpRequest) -> Option<Self> {
        Some(Self {
            key: req.app_data::<web::Data<CsrfKey>>()?.clone(),
            cookies: req.app_data::<web::Data<CookiePolicy>>()?.clone(),
            public_url: req.app_data::<web::Data<PublicUrl>>()?.clone(),
            apps: req.app_data::<web::Data<Origins>>().cloned(),
        })
    }
}

pub const HEADER: &str = "x-csrf-token";

const FOREIGN: &str = "This request came from another site and was refused.";
const NO_HEADER: &str = "Send the csrf_token cookie's value in the X-CSRF-Token header.";

/// The Origin check every scope applies: an unsafe request whose `Origin` is foreign (or
/// `null`) or whose `Sec-Fetch-Site` says cross-site is refused.
pub fn origin_refusal(req: &ServiceRequest) -> Option<actix_web::Error> {
    let refused = is_unsafe(req)
        && !is_bearer_only(req.request())
        && Ctx::of(req.request()).is_some_and(|ctx| !same_site(req.request(), &ctx));
    refused.then(|| errors::for_request(req.request(), ApiError::CsrfFailed(FOREIGN)))
}

/// The Origin check of forward authentication (`GET /api/auth/verify`), applied to the
/// request the proxy is asking about: its method comes in `X-Forwarded-Method` (Traefik,
/// Caddy) or `X-Original-Method` (nginx, as the documented config sets it).
pub fn forwarded_origin_refusal(req: &ServiceRequest) -> Option<actix_web::Error> {
    let original = ["x-forwarded-method", "x-original-method"]
        .iter()
        .find_map(|name| req.headers().get(*name))
        .and_then(|v| v.to_str().ok())
        .and_then(|m| Method::from_bytes(m.trim().as_bytes()).ok())?;
    let refused = is_unsafe_method(&original)
        && !is_bearer_only(req.request())
        && Ctx::of(req.request()).is_some_and(|ctx| !same_site(req.request(), &ctx));
    refused.then(|| errors::for_request(req.request(), ApiError::CsrfFailed(FOREIGN)))
}

/// The form check of the page scope: every unsafe page request is a form post and carries a
/// `csrf_token` field equal to the CSRF cookie and bound to the request's session. Checked
/// here, before any handler, so that no form can forget it; the body is read and put back
/// for the handler.
pub async fn check_form(req: &mut ServiceRequest) -> Result<(), actix_web::Error> {
    // HTML forms send GET or POST only, so no page route takes another method: leave those
    // to the router's 405 (and `CurrentUser` refuses any that slipped through unchecked).
    if *req.method() != Method::POST || is_bearer_only(req.request()) {
        return Ok(());
    }
    let Some(ctx) = Ctx::of(req.request()) else { return Ok(()) };
    let is_form = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
        ct.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded")
    });
    if !is_form {
        return Err(PageError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Not a form",
            "Pages accept only forms sent as application/x-www-form-urlencoded.",
        )
        .into());
    }
    let body = req.extract::<web::Bytes>().await?;
    let submitted =
        serde_urlencoded::from_bytes::<TokenField>(&body).map(|f| f.csrf_token).unwrap_or_default();
    req.set_payload(Payload::from(body));
    let cookie = cookies::read(req.request(), ctx.cookies.csrf);
    if ctx.key.accepts(&cookie, &submitted, &binding(req.request())) {
        req.extensions_mut().insert(CsrfChecked);
        Ok(())
    } else {
        Err(PageError::new(StatusCode::FORBIDDEN, "Form expired", FORM_EXPIRED).into())
    }
}

#[derive(serde::Deserialize)]
struct TokenField {
    #[serde(default)]
    csrf_token: String,
}

/// The header check of the API's cookie-session routes: an unsafe request that carries an
/// auth cookie needs `X-CSRF-Token` equal to the CSRF cookie and bound to the session
/// (signed double-submit).
pub fn check_header(req: &ServiceRequest) -> Result<(), actix_web::Error> {
    if !is_unsafe(req) || is_bearer_only(req.request()) {
        return Ok(());
    }
    let Some(ctx) = Ctx::of(req.request()) else { return Ok(()) };
    let request = req.request();
    if has_session_cookie(request, &ctx.cookies) {
        let submitted = request.headers().get(HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        let cookie = cookies::read(request, ctx.cookies.csrf);
        if !ctx.key.accepts(&cookie, submitted, &binding(request)) {
            return Err(errors::for_request(request, ApiError::CsrfFailed(NO_HEADER)));
        }
    }
    req.extensions_mut().insert(CsrfChecked);
    Ok(())
}

fn is_unsafe(req: &ServiceRequest) -> bool {
    is_unsafe_method(req.method())
}

fn is_unsafe_method(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
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

/// Same site, or (on `/api` only) one of this deployment's apps listed in
/// `PORTCULLIS_CORS_ORIGINS`, which pass whatever `Sec-Fetch-Site` says.
fn same_site(req: &HttpRequest, ctx: &Ctx) -> bool {
    let origin = req.headers().get(header::ORIGIN).map(|o| o.to_str().unwrap_or("\u{0}"));
    let is_api = req.extensions().get::<RouteKind>() == Some(&RouteKind::Api);
    if let (Some(origin), true, Some(apps)) = (origin, is_api, &ctx.apps)
        && apps.contains(origin)
    {
        return true;
    }
    if let Some(origin) = origin
        && !is_own_origin(origin, req, &ctx.public_url)
    {
        return false;
    }
    !req.headers().get("sec-fetch-site").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
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
