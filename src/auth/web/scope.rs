//! The policy each scope wraps, as one middleware per scope: record the route kind (which
//! decides the shape of answers), identify the caller (the guard), refuse a forged unsafe
//! request (the CSRF checks), and refresh in place where the access token ran out. One
//! layer rather than several, because every request passes through it (measured:
//! BENCHMARKS.md). The order matters: the CSRF checks run before a refresh, so a forged
//! request never rotates anybody's refresh token.

use actix_web::HttpMessage;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;

use crate::auth::web::csrf_checks::{check_form, check_header, forwarded_origin_refusal, origin_refusal};
use crate::auth::web::guard;
use crate::errors::RouteKind;

/// Wraps each API resource: identifies the caller and applies the Origin check. The routes
/// that act on a cookie session add [`api_session`] or [`api_refresh_cookie`].
pub async fn api(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    req.extensions_mut().insert(RouteKind::Api);
    if let Err(e) = guard::identify(&req).await {
        return Ok(guard::store_failure(req, e));
    }
    if let Some(error) = origin_refusal(&req) {
        return Ok(req.error_response(error));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Wraps the endpoints apps on any site call with a token or their own credentials in the
/// request, never a cookie (SPEC §11: token, userinfo, revocation): JSON answers, no identity
/// from cookies and no Origin check — there is no session for a forged request to ride on.
pub async fn open(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    req.extensions_mut().insert(RouteKind::Api);
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Wraps the page scope. Every unsafe page request is a form post whose `csrf_token` is
/// checked here; any page request whose access token ran out is refreshed in place.
pub async fn pages(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    req.extensions_mut().insert(RouteKind::Page);
    if let Err(e) = guard::identify(&req).await {
        return Ok(guard::store_failure(req, e));
    }
    if let Some(error) = origin_refusal(&req) {
        return Ok(req.error_response(error));
    }
    if let Err(error) = check_form(&mut req).await {
        return Ok(req.error_response(error));
    }
    finish(req, next).await
}

/// Wraps the API routes that act on the caller's session: a cookie session needs the
/// `X-CSRF-Token` header on unsafe requests, and such a request whose access token ran out
/// is refreshed in place (SPEC §5: state changes work on the refresh cookie alone).
pub async fn api_session(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Err(error) = check_header(&req) {
        return Ok(req.error_response(error));
    }
    if *req.method() == Method::GET || *req.method() == Method::HEAD {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    finish(req, next).await
}

/// The API policy a host app wraps around its own JSON routes, all of it in one layer:
/// identify the caller, the Origin check, the `X-CSRF-Token` check for a cookie session's unsafe
/// request, and a refresh in place for one that came with only the refresh cookie. Errors are
/// JSON (401 for a signed-out caller).
pub async fn api_with_session(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    req.extensions_mut().insert(RouteKind::Api);
    if let Err(e) = guard::identify(&req).await {
        return Ok(guard::store_failure(req, e));
    }
    if let Some(error) = origin_refusal(&req) {
        return Ok(req.error_response(error));
    }
    api_session(req, next).await
}

/// Wraps the API routes about the refresh cookie itself (refresh, logout, the CSRF token):
/// the header check only; they act on the session the refresh cookie names.
pub async fn api_refresh_cookie(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Err(error) = check_header(&req) {
        return Ok(req.error_response(error));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Wraps forward authentication (`GET /api/auth/verify`): the Origin rule applied to the
/// request the proxy asks about, then a refresh in place when only the refresh cookie is
/// valid. The new cookies go out as `Set-Cookie` and, because nginx passes on only one
/// `Set-Cookie` from an auth subrequest, each also whole in its own header.
pub async fn forward_auth(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some(error) = forwarded_origin_refusal(&req) {
        return Ok(req.error_response(error));
    }
    // `?refresh=never`, for proxies that cannot pass cookies from an auth response to the
    // browser (a refresh whose cookies get lost would look like refresh-token theft): the
    // answer is 401, and the sign-in page, which refreshes in place, sends the browser back.
    let never = req.query_string().split('&').any(|pair| pair == "refresh=never");
    let cookies = if never {
        Vec::new()
    } else {
        match guard::refresh_in_place(&req).await {
            Ok(cookies) => cookies,
            Err(e) => return Ok(guard::store_failure(req, e)),
        }
    };
    let policy = req.app_data::<actix_web::web::Data<crate::auth::web::cookies::CookiePolicy>>().cloned();
    let mut res = next.call(req).await?.map_into_boxed_body();
    if let Some(policy) = policy {
        for cookie in &cookies {
            let name = match cookie.name() {
                n if n == policy.access => "x-portcullis-set-cookie-access",
                n if n == policy.refresh => "x-portcullis-set-cookie-refresh",
                _ => continue,
            };
            if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
                res.headers_mut().insert(HeaderName::from_static(name), value);
            }
        }
    }
    guard::with_cookies(res, &cookies)
}

/// Refreshes in place if the request needs it, runs the handler, and puts the new cookies
/// on whatever answer it gives.
async fn finish(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let cookies = match guard::refresh_in_place(&req).await {
        Ok(cookies) => cookies,
        Err(e) => return Ok(guard::store_failure(req, e)),
    };
    // Handlers and extractors answer their errors as responses, so `?` drops nothing here
    // (cloning the request to keep it would break routing, which needs it uniquely owned).
    let res = next.call(req).await?.map_into_boxed_body();
    guard::with_cookies(res, &cookies)
}
